"""The overdue read is weighed in the database (`queries.INVOICE_ARREARS_SQL`): it must give what the
former read gave, every unpaid invoice's payment terms decoded in Python and weighed by
`engine.invoice_arrears` (kept below as the reference), on records that hit each rule: instalments
partly paid without naming a term, payments and discounts recorded against a term, a credit note,
an invoice without a schedule, a term without a due date, terms due the same day, another company's
currency and a foreign invoice on a company-currency receivable."""

import random
import re
from unittest.mock import patch

import frappe
from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return
from frappe.query_builder import Case
from frappe.query_builder.functions import Coalesce
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate
from pypika.terms import ExistsCriterion

from customer_success.health import engine, queries
from customer_success.health.test_payment_due import pay, three_instalments
from customer_success.setup import indexes
from customer_success.tests.utils import make_customer, make_eur_company, make_sales_invoice


def former_unpaid_invoice_arrears(lo: str, hi: str, today) -> list[dict]:
	"""The read as it was before it moved into the database (verbatim but for the names)."""
	invoice = frappe.qb.DocType("Sales Invoice")
	term = frappe.qb.DocType("Payment Schedule")
	due_term = frappe.qb.DocType("Payment Schedule").as_("due_term")
	in_invoice_currency = invoice.party_account_currency == invoice.currency
	rows = (
		frappe.qb.from_(invoice)
		.left_join(term)
		.on((term.parent == invoice.name) & (term.parenttype == "Sales Invoice"))
		.select(
			invoice.name,
			invoice.customer,
			invoice.company,
			invoice.due_date.as_("invoice_due_date"),
			invoice.outstanding_amount,
			Case().when(in_invoice_currency, invoice.conversion_rate).else_(1).as_("to_company"),
			term.due_date,
			Case()
			.when(in_invoice_currency, term.payment_amount)
			.else_(term.base_payment_amount)
			.as_("amount"),
			(
				Case().when(in_invoice_currency, term.paid_amount).else_(term.base_paid_amount)
				+ Coalesce(term.discounted_amount, 0)
			).as_("recorded_paid"),
		)
		.where(
			invoice.customer[lo:hi]
			& (invoice.docstatus == 1)
			& (invoice.outstanding_amount > 0)
			& (
				(invoice.due_date < today)
				| ExistsCriterion(
					frappe.qb.from_(due_term)
					.select(due_term.name)
					.where(
						(due_term.parent == invoice.name)
						& (due_term.parenttype == "Sales Invoice")
						& (due_term.due_date < today)
					)
				)
			)
		)
		.orderby(invoice.name)
		.orderby(term.idx)
		.run(as_dict=True)
	)
	by_invoice: dict[str, list] = {}
	for row in rows:
		by_invoice.setdefault(row.name, []).append(row)
	arrears = []
	for name, terms in by_invoice.items():
		first = terms[0]
		schedule = [
			engine.PaymentTerm(getdate(t.due_date), float(t.amount or 0), float(t.recorded_paid or 0))
			for t in terms
			if t.due_date
		] or [engine.PaymentTerm(getdate(first.invoice_due_date), float(first.outstanding_amount))]
		overdue, oldest = engine.invoice_arrears(first.outstanding_amount, schedule, today)
		if overdue > 0:
			arrears.append(
				{
					"invoice": name,
					"customer": first.customer,
					"company": first.company,
					"overdue": overdue * float(first.to_company or 1),
					"oldest_due": oldest,
				}
			)
	return arrears


def by_invoice(rows: list[dict]) -> dict[str, tuple]:
	return {
		row["invoice"]: (row["customer"], row["company"], round(float(row["overdue"]), 6), row["oldest_due"])
		for row in rows
	}


def set_term(invoice: str, idx: int, **values):
	"""Change one payment term as a payment entry or a discount would have left it."""
	name = frappe.db.get_value("Payment Schedule", {"parent": invoice, "idx": idx})
	frappe.db.set_value("Payment Schedule", name, values, update_modified=False)


class TestOverdueInTheDatabase(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_the_terms_read_groups_its_invoices_in_the_billing_index_order(self):
		"""The per-invoice groups of the terms read name the billing index's columns in its order, then
		the name the index ends with, so that they can stream out of the index scan with no temporary
		table (seen with EXPLAIN on a 100k book; this checks the text, not the plan). An index changed
		without this read would still be correct, only slower: this says so."""
		columns = next(
			fields for _doctype, fields, name in indexes.APP_INDEXES if name == "cs_customer_billing_index"
		)
		grouped = re.search(r"group by (i\.`customer`.*?)\n\t\) term", queries.SINGLE_TERM_OVERDUE_SQL, re.S)
		self.assertIsNotNone(grouped)
		self.assertEqual(
			re.sub(r"\s+", " ", grouped.group(1)).strip(), ", ".join(f"i.`{c}`" for c in (*columns, "name"))
		)

	def assert_same_as_before(self, customers: list[str], today):
		"""Per invoice and per customer, over each customer alone and over the range they span."""
		for lo, hi in [*((c, c) for c in customers), (min(customers), max(customers))]:
			former = former_unpaid_invoice_arrears(lo, hi, today)
			self.assertEqual(by_invoice(queries.unpaid_invoice_arrears(lo, hi, today)), by_invoice(former))
			facts = queries.invoice_facts(lo, hi, today, add_days(today, -365), 90)
			per_customer: dict[str, list] = {}
			for row in former:
				figure = per_customer.setdefault(row["customer"], [0.0, None])
				figure[0] += row["overdue"] * rate(row)
				if figure[1] is None or row["oldest_due"] < figure[1]:
					figure[1] = row["oldest_due"]
			self.assertEqual(
				{
					customer: [round(fact["overdue"], 6), fact["oldest_overdue_due"]]
					for customer, fact in facts.items()
					if fact["overdue"] or fact["oldest_overdue_due"]
				},
				{customer: [round(amount, 6), oldest] for customer, (amount, oldest) in per_customer.items()},
			)
		return former

	def test_instalments_partly_paid_recorded_on_a_term_or_discounted(self):
		today = getdate(nowdate())
		customer = make_customer().name
		unnamed = three_instalments(customer, today)
		pay(unnamed.name, 500)  # no term named: settles the oldest instalment, then 100 of the next
		recorded = three_instalments(customer, today)
		# 400 recorded against the second instalment, 50 discounted on the first: the rest unnamed
		set_term(recorded.name, 2, paid_amount=400, base_paid_amount=400, outstanding=0)
		set_term(recorded.name, 1, discounted_amount=50)
		frappe.db.set_value("Sales Invoice", recorded.name, "outstanding_amount", 650)
		overpaid = three_instalments(customer, today)  # recorded payments larger than the term
		set_term(overpaid.name, 1, paid_amount=900, base_paid_amount=900)
		frappe.db.set_value("Sales Invoice", overpaid.name, "outstanding_amount", 300)
		former = self.assert_same_as_before([customer], today)
		self.assertEqual(
			{row["invoice"] for row in former}, {unnamed.name, recorded.name, overpaid.name}
		)  # each owes something overdue: the cases are hit, not skipped

	def test_the_invoices_in_instalments_are_named_whatever_the_sessions_text_limit(self):
		"""The single-term read names the invoices with several terms (a group_concat of their names)
		for the full read to weigh: whatever the session's group_concat limit, and when the document
		is read row by row, every one of them is weighed."""
		today = getdate(nowdate())
		customer = make_customer().name
		instalments = [three_instalments(customer, today) for _ in range(3)]
		single = make_sales_invoice(
			customer, rate=300, posting_date=add_days(today, -40), due_date=add_days(today, -10)
		)
		former = self.assert_same_as_before([customer], today)
		self.assertEqual({row["invoice"] for row in former}, {*(i.name for i in instalments), single.name})
		facts = queries.invoice_facts(customer, customer, today, add_days(today, -365), 90)
		self.assertGreater(facts[customer]["overdue"], 300)  # the instalments' overdue is in it
		try:
			frappe.db.sql("set session group_concat_max_len = 4")  # shorter than one name
			self.assertEqual(
				queries.invoice_facts(customer, customer, today, add_days(today, -365), 90), facts
			)
			with patch.object(queries, "JSON_ROWS_MAX_LENGTH", 40):  # the document cut: row by row
				self.assertEqual(
					queries.invoice_facts(customer, customer, today, add_days(today, -365), 90), facts
				)
		finally:
			frappe.db.sql("set session group_concat_max_len = default")

	def test_terms_due_the_same_day_and_a_term_without_a_due_date(self):
		today = getdate(nowdate())
		customer = make_customer().name
		same_day = three_instalments(customer, today)
		set_term(same_day.name, 2, due_date=add_days(today, -60))  # two instalments due together
		pay(same_day.name, 500)
		undated = three_instalments(customer, today)
		set_term(undated.name, 1, due_date=None)  # left out: the other terms decide
		all_undated = make_sales_invoice(
			customer, rate=300, posting_date=add_days(today, -40), due_date=add_days(today, -10)
		)
		set_term(all_undated.name, 1, due_date=None)  # no dated term: due on the invoice's due date
		former = self.assert_same_as_before([customer], today)
		self.assertEqual(len(former), 3)

	def test_no_schedule_a_credit_note_and_nothing_due(self):
		today = getdate(nowdate())
		customer = make_customer().name
		bare = make_sales_invoice(
			customer, rate=700, posting_date=add_days(today, -40), due_date=add_days(today, -10)
		)
		frappe.db.delete("Payment Schedule", {"parent": bare.name})
		credited = make_sales_invoice(
			customer, rate=1000, posting_date=add_days(today, -50), due_date=add_days(today, -20)
		)
		credit = make_sales_return(credited.name)
		credit.items[0].rate = 400  # 400 of the 1000 back: 600 outstanding, its term still says 1000
		credit.update_outstanding_for_self = 0  # the credit is set against the invoice's outstanding
		credit.insert()
		credit.submit()
		make_sales_invoice(customer, rate=300, posting_date=today, due_date=add_days(today, 30))
		tiny = make_sales_invoice(
			customer, rate=1, posting_date=add_days(today, -40), due_date=add_days(today, -5)
		)
		frappe.db.set_value("Sales Invoice", tiny.name, "outstanding_amount", 0.004)  # below the cent's half
		former = self.assert_same_as_before([customer], today)
		self.assertEqual({row["invoice"] for row in former}, {bare.name, credited.name})
		self.assertAlmostEqual(next(r["overdue"] for r in former if r["invoice"] == credited.name), 600)

	def test_another_companys_currency_and_a_foreign_invoice_on_a_company_receivable(self):
		import erpnext

		today = getdate(nowdate())
		company_currency = erpnext.get_company_currency(erpnext.get_default_company())
		if company_currency != "USD":
			self.skipTest("the test bills from a EUR company next to a USD default company")
		eur_company = make_eur_company(rate_date=None)
		customer = make_customer().name
		make_sales_invoice(
			customer,
			rate=1000,
			company=eur_company,
			currency="EUR",
			conversion_rate=1,
			posting_date=add_days(today, -50),
			due_date=add_days(today, -20),
		)
		frappe.db.set_single_value(
			"Accounts Settings", "allow_multi_currency_invoices_against_single_party_account", 1
		)
		foreign = three_instalments_in(customer, today, "EUR", 1.1)
		pay(foreign.name, 300)
		former = self.assert_same_as_before([customer], today)
		self.assertEqual(len({row["company"] for row in former}), 2)
		facts = queries.invoice_facts(customer, customer, today, add_days(today, -365), 90)[customer]
		self.assertAlmostEqual(facts["overdue"], sum(row["overdue"] * rate(row) for row in former), places=6)

	def test_random_schedules_weigh_as_before(self):
		"""Many invoices whose terms, recorded payments, discounts and outstanding are drawn at random
		(cents included), weighed both ways."""
		today = getdate(nowdate())
		rng = random.Random(15)
		customers = [make_customer().name for _ in range(3)]
		for n in range(24):
			invoice = make_sales_invoice(
				customers[n % 3],
				rate=1200,
				posting_date=add_days(today, -120),
				due_date=add_days(today, rng.choice((-30, 10))),
				payment_schedule=[
					{"due_date": add_days(today, day), "invoice_portion": 25, "payment_amount": 300}
					for day in sorted(rng.sample(range(-90, 40), 4))
				],
			)
			for idx in range(1, 5):
				values = {}
				if rng.random() < 0.3:
					paid = round(rng.uniform(-50, 400), 2)
					values.update(paid_amount=paid, base_paid_amount=paid)
				if rng.random() < 0.2:
					values["discounted_amount"] = round(rng.uniform(0, 60), 2)
				if rng.random() < 0.1:
					values["due_date"] = add_days(today, rng.randint(-90, 40))
				if values:
					set_term(invoice.name, idx, **values)
			outstanding = round(rng.choice((1200, rng.uniform(0.001, 1200))), 2)
			frappe.db.set_value("Sales Invoice", invoice.name, "outstanding_amount", outstanding)
		former = self.assert_same_as_before(customers, today)
		self.assertGreater(len(former), 8)


def three_instalments_in(customer: str, today, currency: str, conversion_rate: float):
	return make_sales_invoice(
		customer,
		rate=1200,
		currency=currency,
		conversion_rate=conversion_rate,
		plc_conversion_rate=conversion_rate,
		posting_date=add_days(today, -90),
		due_date=add_days(today, 30),
		payment_schedule=[
			{"due_date": add_days(today, -60), "invoice_portion": 100 / 3, "payment_amount": 400},
			{"due_date": add_days(today, -20), "invoice_portion": 100 / 3, "payment_amount": 400},
			{"due_date": add_days(today, 30), "invoice_portion": 100 / 3, "payment_amount": 400},
		],
	)


def rate(row: dict) -> float:
	return queries.company_rates({row["company"]}, getdate(nowdate())).get(row["company"], 1.0)
