"""The payment factor reads an unpaid invoice per payment term, as ERPNext's receivables do: it is
late from its oldest unpaid instalment, and only the instalments past due (less what has been paid)
are overdue, not the invoice's whole outstanding and not from the invoice's own (last) due date."""

import frappe
from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.health import queries
from customer_success.health.api import get_factor_records
from customer_success.health.engine import PAYMENT_BEHAVIOUR
from customer_success.tests.utils import make_customer, make_item, make_sales_invoice


def pay(invoice: str, amount: float | None = None):
	"""A submitted Payment Entry against the invoice (no payment term named), of `amount` or all."""
	payment = get_payment_entry("Sales Invoice", invoice)
	payment.reference_no = "CS-TEST"
	payment.reference_date = nowdate()
	if amount is not None:
		payment.paid_amount = payment.received_amount = amount
		for reference in payment.references:
			reference.allocated_amount = amount
		payment.set_amounts()
	payment.insert(ignore_permissions=True)
	payment.submit()
	return payment


def three_instalments(customer: str, today):
	"""1,200 in three instalments of 400: due 60 and 20 days ago, and in 30 days (the invoice's due date)."""
	return make_sales_invoice(
		customer,
		rate=1200,
		posting_date=add_days(today, -90),
		due_date=add_days(today, 30),
		payment_schedule=[
			{"due_date": add_days(today, -60), "invoice_portion": 100 / 3, "payment_amount": 400},
			{"due_date": add_days(today, -20), "invoice_portion": 100 / 3, "payment_amount": 400},
			{"due_date": add_days(today, 30), "invoice_portion": 100 / 3, "payment_amount": 400},
		],
	)


class TestPaymentTerms(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def facts(self, customer: str, today):
		return queries.invoice_facts(customer, customer, today, add_days(today, -365), 90)[customer]

	def test_an_instalment_past_due_makes_the_invoice_late(self):
		today = getdate(nowdate())
		customer = make_customer().name
		make_sales_invoice(
			customer,
			rate=1000,
			posting_date=add_days(today, -90),
			due_date=add_days(today, 30),
			payment_schedule=[
				{"due_date": add_days(today, -60), "invoice_portion": 50, "payment_amount": 500},
				{"due_date": add_days(today, 30), "invoice_portion": 50, "payment_amount": 500},
			],
		)
		facts = self.facts(customer, today)
		self.assertEqual(getdate(facts["oldest_overdue_due"]), getdate(add_days(today, -60)))
		# only the instalment past due is overdue, not the invoice's whole outstanding
		self.assertAlmostEqual(facts["overdue"], 500)

	def test_overdue_is_the_instalments_past_due_less_what_was_paid(self):
		today = getdate(nowdate())
		customer = make_customer().name
		invoice = three_instalments(customer, today)
		self.assertEqual(len(invoice.payment_schedule), 3)
		facts = self.facts(customer, today)
		self.assertAlmostEqual(facts["overdue"], 800)
		self.assertEqual(getdate(facts["oldest_overdue_due"]), getdate(add_days(today, -60)))

		# 500 paid without naming a term: the first instalment is settled, 100 of the second
		pay(invoice.name, 500)
		facts = self.facts(customer, today)
		self.assertAlmostEqual(facts["overdue"], 300)
		self.assertEqual(getdate(facts["oldest_overdue_due"]), getdate(add_days(today, -20)))

		# the past-due instalments paid: nothing overdue though 400 is still outstanding
		pay(invoice.name, 300)
		self.assertAlmostEqual(frappe.db.get_value("Sales Invoice", invoice.name, "outstanding_amount"), 400)
		facts = self.facts(customer, today)
		self.assertEqual(facts["overdue"], 0)
		self.assertIsNone(facts["oldest_overdue_due"])

	def test_an_invoice_without_a_schedule_is_due_on_its_due_date(self):
		today = getdate(nowdate())
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer, rate=700, posting_date=add_days(today, -40), due_date=add_days(today, -10)
		)
		frappe.db.delete("Payment Schedule", {"parent": invoice.name})
		facts = self.facts(customer, today)
		self.assertAlmostEqual(facts["overdue"], 700)
		self.assertEqual(getdate(facts["oldest_overdue_due"]), getdate(add_days(today, -10)))

	def test_the_records_behind_the_factor_are_the_overdue_instalments(self):
		today = getdate(nowdate())
		customer = make_customer().name
		late = three_instalments(customer, today)
		make_sales_invoice(customer, rate=300, posting_date=today, due_date=add_days(today, 30))
		records = get_factor_records(customer, PAYMENT_BEHAVIOUR)["records"]
		self.assertEqual([r.name for r in records], [late.name])
		self.assertAlmostEqual(records[0].overdue_amount, 800)
		self.assertEqual(getdate(records[0].oldest_overdue_due), getdate(add_days(today, -60)))

	def test_a_paid_up_customer_has_nothing_overdue(self):
		today = getdate(nowdate())
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer, posting_date=add_days(today, -60), due_date=add_days(today, -30)
		)
		pay(invoice.name)
		facts = self.facts(customer, today)
		self.assertIsNone(facts["oldest_overdue_due"])
		self.assertEqual(facts["overdue"], 0)

	def credit_note(self, invoice: str, qty: float = -1):
		"""A credit note for `invoice` made the way ERPNext's Return button makes it: in v15 it keeps
		its own outstanding ("Update Outstanding for Self"), the invoice is left unpaid."""
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		note = make_sales_return(invoice)
		note.update_outstanding_for_self = 1
		note.items[0].qty = qty
		note.insert(ignore_permissions=True)
		note.submit()
		self.assertLess(note.outstanding_amount, 0)
		self.assertGreater(frappe.db.get_value("Sales Invoice", invoice, "outstanding_amount"), 0)
		return note

	def test_a_credit_note_that_keeps_its_own_outstanding_settles_what_is_overdue(self):
		today = getdate(nowdate())
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer, rate=6000, posting_date=add_days(today, -80), due_date=add_days(today, -50)
		)
		note = self.credit_note(invoice.name)
		facts = self.facts(customer, today)
		self.assertEqual(facts["overdue"], 0, "the customer owes nothing")
		self.assertIsNone(facts["oldest_overdue_due"])
		# the records behind the factor: the invoice's overdue part and the credit note that settles it
		records = get_factor_records(customer, PAYMENT_BEHAVIOUR)["records"]
		self.assertEqual([r.name for r in records], [invoice.name, note.name])
		self.assertAlmostEqual(sum(r.overdue_amount for r in records), 0)
		route = get_factor_records(customer, PAYMENT_BEHAVIOUR)["route_options"]
		self.assertEqual(set(route["name"][1]), {invoice.name, note.name}, "the list they open")

	def test_a_credit_note_for_part_settles_that_part(self):
		today = getdate(nowdate())
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer,
			posting_date=add_days(today, -80),
			due_date=add_days(today, -50),
			items=[{"item_code": make_item().name, "qty": 6, "rate": 1000}],
		)
		self.credit_note(invoice.name, qty=-1)
		facts = self.facts(customer, today)
		self.assertAlmostEqual(facts["overdue"], 5000)
		self.assertEqual(getdate(facts["oldest_overdue_due"]), getdate(add_days(today, -50)))

	def test_only_invoices_with_something_due_before_today_are_read(self):
		"""An unpaid invoice with nothing due yet (its due date and every instalment ahead) owes nothing
		overdue: it is not listed. One with an instalment past due is, whatever its own due date."""
		today = getdate(nowdate())
		customer = make_customer().name
		make_sales_invoice(customer, rate=300, posting_date=today, due_date=add_days(today, 30))
		late = three_instalments(customer, today)  # its own due date is ahead too
		arrears = queries.unpaid_invoice_arrears(customer, customer, today)
		self.assertEqual([row["invoice"] for row in arrears], [late.name])
		self.assertAlmostEqual(arrears[0]["overdue"], 800)
