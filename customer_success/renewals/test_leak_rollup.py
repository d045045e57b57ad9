"""Revenue Leakage's leak table (cs_revenue_leak) and its day sums (cs_revenue_leak_day) against a
fresh computation: kept exact by invoices submitted, credited and cancelled, by contracts submitted,
signed and cancelled and by a customer's move to another book; repaired (and otherwise left alone) by
the nightly reconciliation; and the report's totals, bounded listing, book and filters read from it."""

from unittest.mock import patch

import frappe
from frappe.utils import add_days

from customer_success.renewals import engine, queries, service
from customer_success.renewals.report.revenue_leakage import revenue_leakage
from customer_success.renewals.test_renewals import (
	CSM,
	MANAGER,
	OTHER_CSM,
	RenewalTestCase,
	make_contract,
	make_credit_note,
	today,
)
from customer_success.tests.utils import make_customer, make_sales_invoice, set_customer_fields

TIER_JOB = "Computed"  # segments.engine.COMPUTED: the tier job's own writes


def oracle(customers: list[str]) -> dict[str, dict]:
	"""{invoice: leak row} of these customers worked out in Python with the engine's rule, from their
	submitted invoices, credit notes and contracts (independent of the table's SQL)."""
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={"customer": ("in", customers), "docstatus": 1},
		fields=[
			"name",
			"customer",
			"posting_date",
			"company",
			"base_net_total",
			"is_return",
			"return_against",
		],
	)
	contracts = frappe.get_all(
		"Contract",
		filters={"party_type": "Customer", "party_name": ("in", customers), "docstatus": 1},
		fields=["name", "party_name", "start_date", "end_date", "is_signed"],
	)
	owners = {
		c.name: c
		for c in frappe.get_all(
			"Customer",
			filters={"name": ("in", customers)},
			fields=["name", "cs_owner", "cs_tier", "cs_lifecycle_stage"],
		)
	}
	credited = {}
	for note in invoices:
		if note.is_return and note.return_against:
			credited[note.return_against] = credited.get(note.return_against, 0) + note.base_net_total
	found = {}
	for invoice in invoices:
		if invoice.is_return:
			continue
		amount = invoice.base_net_total + credited.get(invoice.name, 0)
		if invoice.name in credited and amount <= 0:
			continue
		leak = engine.invoice_leak(
			invoice.posting_date, [c for c in contracts if c.party_name == invoice.customer]
		)
		if leak:
			found[invoice.name] = {
				"invoice": invoice.name,
				"customer": invoice.customer,
				"csm": owners[invoice.customer].cs_owner or "",
				"tier": owners[invoice.customer].cs_tier or "",
				"stage": owners[invoice.customer].cs_lifecycle_stage or "",
				"posting_date": invoice.posting_date,
				"kind": leak[0],
				"contract": leak[1],
				"company": invoice.company,
				"amount": amount,
			}
	return found


class LeakTestCase(RenewalTestCase):
	def setUp(self):
		service.reconcile_leaks()  # whatever the site held before: the table starts equal

	def assert_exact(self, customers: list[str]):
		"""The table equals the SQL's fresh computation and the engine's, for these customers, and the
		day sums equal the table's, for the whole site."""
		stored = queries.stored_leaks(customers)
		self.assertEqual(stored, queries.fresh_leaks(customers))
		self.assertEqual(stored, oracle(customers))
		self.assertEqual(queries.leak_cells_rolled_up(), queries.leak_cells_from_table())
		return stored


class TestLeakTable(LeakTestCase):
	def test_submit_credit_note_and_cancel(self):
		customer = make_customer(cs_owner=CSM).name
		invoice = make_sales_invoice(customer, rate=1000, posting_date=add_days(today(), -30))
		rows = self.assert_exact([customer])
		self.assertEqual(
			(rows[invoice.name]["kind"], rows[invoice.name]["contract"], rows[invoice.name]["amount"]),
			(engine.UNSIGNED, None, 1000),
		)
		note = make_credit_note(invoice, 300)
		self.assertEqual(self.assert_exact([customer])[invoice.name]["amount"], 700, "netted")
		note.cancel()
		self.assertEqual(self.assert_exact([customer])[invoice.name]["amount"], 1000)
		make_credit_note(invoice, 1000)
		self.assertEqual(self.assert_exact([customer]), {}, "credited back in full: nothing leaks")

		other = make_sales_invoice(customer, rate=400, posting_date=add_days(today(), -10))
		self.assertIn(other.name, self.assert_exact([customer]))
		other.cancel()
		self.assertEqual(self.assert_exact([customer]), {})

	def test_contract_signed_ended_and_cancelled(self):
		customer = make_customer(cs_owner=CSM).name
		early = make_sales_invoice(customer, rate=800, posting_date=add_days(today(), -200))
		late = make_sales_invoice(customer, rate=900, posting_date=add_days(today(), -50))
		self.assertEqual({r["kind"] for r in self.assert_exact([customer]).values()}, {engine.UNSIGNED})

		paper = make_contract(customer, add_days(today(), -100), add_days(today(), 265), signed=False)
		rows = self.assert_exact([customer])
		self.assertEqual(rows[late.name]["contract"], paper.name, "the unsigned contract covering it")
		self.assertIsNone(rows[early.name]["contract"])

		paper.is_signed = 1
		paper.signee = "Jane Buyer"
		paper.save()  # signed after submit
		rows = self.assert_exact([customer])
		self.assertEqual(set(rows), {early.name}, "the signed contract covers the later invoice")

		paper.reload()
		paper.cancel()
		old = make_contract(customer, add_days(today(), -465), add_days(today(), -100))
		rows = self.assert_exact([customer])
		self.assertEqual(set(rows), {late.name}, "the old signed term covers the early invoice")
		self.assertEqual((rows[late.name]["kind"], rows[late.name]["contract"]), (engine.EXPIRED, old.name))

	def test_a_move_to_another_book_moves_its_leaks(self):
		customer = make_customer(cs_owner=CSM).name
		invoice = make_sales_invoice(customer, rate=500, posting_date=add_days(today(), -5))
		doc = frappe.get_doc("Customer", customer)
		doc.cs_owner = OTHER_CSM
		doc.save()
		self.assertEqual(self.assert_exact([customer])[invoice.name]["csm"], OTHER_CSM)

	def test_writes_past_the_hooks_are_repaired_and_a_second_run_corrects_nothing(self):
		moved = make_customer(cs_owner=CSM).name
		invoice = make_sales_invoice(moved, rate=500, posting_date=add_days(today(), -5))
		gone = make_customer(cs_owner=CSM).name
		stale = make_sales_invoice(gone, rate=600, posting_date=add_days(today(), -6))
		frappe.db.sql("update `tabCustomer` set `cs_owner` = %s where `name` = %s", (OTHER_CSM, moved))
		frappe.db.sql(
			"update `tabSales Invoice` set `docstatus` = 2 where `name` = %s", stale.name
		)  # cancelled behind the hooks
		frappe.db.sql(
			f"update `{queries.LEAK_DAY}` set `amount` = `amount` + 1 where `csm` = %s limit 1", CSM
		)
		first = service.reconcile_leaks()
		self.assertGreaterEqual(first["customers_corrected"], 2)
		self.assertGreaterEqual(first["cells_corrected"], 1)
		rows = self.assert_exact([moved, gone])
		self.assertEqual((rows[invoice.name]["csm"], set(rows)), (OTHER_CSM, {invoice.name}))
		second = service.reconcile_leaks()
		self.assertEqual((second["corrected"], second["cells_corrected"]), (0, 0))

	def test_a_table_emptied_is_filled_again(self):
		customer = make_customer(cs_owner=CSM).name
		make_sales_invoice(customer, rate=500, posting_date=add_days(today(), -5))
		frappe.db.sql(f"delete from `{queries.LEAK_TABLE}`")
		frappe.db.sql(f"delete from `{queries.LEAK_DAY}`")
		self.assertGreaterEqual(service.reconcile_leaks()["corrected"], 1)
		self.assert_exact([customer])


class TestLeakageReportFromTheTable(LeakTestCase):
	def make_book(self):
		mine = make_customer(cs_owner=CSM).name
		also_mine = make_customer(cs_owner=CSM).name
		theirs = make_customer(cs_owner=OTHER_CSM).name
		invoices = {
			"big": make_sales_invoice(mine, rate=3000, posting_date=add_days(today(), -40)),
			"mid": make_sales_invoice(also_mine, rate=2000, posting_date=add_days(today(), -30)),
			"small": make_sales_invoice(mine, rate=100, posting_date=add_days(today(), -20)),
			"theirs": make_sales_invoice(theirs, rate=5000, posting_date=add_days(today(), -10)),
		}
		make_credit_note(invoices["mid"], 500)  # 1,500 left
		return mine, also_mine, theirs, invoices

	def run_report(self, **filters):
		filters.setdefault("from_date", add_days(today(), -365))
		filters.setdefault("to_date", add_days(today(), 180))
		return revenue_leakage.execute(frappe._dict(filters))

	def invoice_part(self, **filters):
		_columns, data, _message, _chart, summary = self.run_report(kind=engine.UNSIGNED, **filters)
		return [r["reference_name"] for r in data], summary

	def test_totals_every_leak_and_lists_the_largest_first(self):
		mine, _also_mine, _theirs, invoices = self.make_book()
		frappe.set_user(CSM)
		with patch.object(revenue_leakage, "LISTED", 2):
			listed, summary = self.invoice_part()
			self.assertEqual(listed, [invoices["big"].name, invoices["mid"].name], "the two largest")
			cards = {card["label"]: card["value"] for card in summary}
			self.assertEqual(cards[engine.UNSIGNED], 3, "every leak counted, not only those listed")
			self.assertAlmostEqual(cards[f"{engine.UNSIGNED}: Amount"], 3000 + 1500 + 100)
			# one customer: every leak of theirs, whatever the limit
			listed, summary = self.invoice_part(customer=mine)
			self.assertEqual(listed, [invoices["big"].name, invoices["small"].name])
			self.assertEqual({c["label"]: c["value"] for c in summary}[engine.UNSIGNED], 2)

	def test_the_day_sums_give_what_the_table_gives(self):
		mine, _also_mine, _theirs, _invoices = self.make_book()
		frappe.set_user(MANAGER)
		set_customer_fields(mine, {"cs_tier": "SMB", "cs_lifecycle_stage": "Adoption"})
		for filters in (
			{"csm": CSM},
			{"csm": OTHER_CSM},
			{},
			{"tier": "SMB"},
			{"lifecycle_stage": "Adoption"},
			{"tier": "SMB", "csm": CSM},
			{"tier": "SMB", "lifecycle_stage": "Adoption"},
			{"lifecycle_stage": "Churned"},
		):
			scope = frappe._dict(from_date=add_days(today(), -365), to_date=today(), **filters)
			rolled = sorted(
				(k, c, float(a), int(n)) for k, c, a, n in queries.leak_totals_rolled_up(scope, None)
			)
			live = sorted((k, c, float(a), int(n)) for k, c, a, n in queries.leak_totals_live(scope, None))
			self.assertEqual(rolled, live, filters)

	def test_a_tier_lists_the_same_leaks_customer_first_or_amount_first(self):
		mine, _also_mine, _theirs, invoices = self.make_book()
		set_customer_fields(mine, {"cs_tier": "SMB"})
		frappe.set_user(MANAGER)
		scope = frappe._dict(from_date=add_days(today(), -365), to_date=add_days(today(), 180))
		self.assertEqual(queries.listing_plan(scope, None, "amount", 500), "index", "no tier or stage")
		self.assertEqual(queries.listing_plan({**scope, "tier": "SMB"}, None, "tier_amount", 500), "index")
		self.assertIn(
			queries.listing_plan({**scope, "tier": "SMB"}, CSM, "csm_amount", 500), ("index", "customers")
		)
		listings = []
		for plan in ("customers", "index"):  # customer first, then the amount index read backwards
			with (
				patch.object(queries, "listing_plan", return_value=plan),
				patch.object(revenue_leakage, "LISTED", 1),
			):
				listings.append(self.invoice_part(tier="SMB", csm=CSM))
		self.assertEqual(listings[0], listings[1])
		listed, summary = listings[0]
		self.assertEqual(listed, [invoices["big"].name], "the tier's largest leak of the book")
		self.assertEqual({c["label"]: c["value"] for c in summary}[engine.UNSIGNED], 2)
		# a stage nobody of the book is in: nothing listed, nothing counted, nothing read
		self.assertEqual(
			queries.listing_plan({**scope, "lifecycle_stage": "Churned"}, CSM, "csm_amount", 500), "none"
		)
		listed, summary = self.invoice_part(lifecycle_stage="Churned", csm=CSM)
		self.assertEqual(listed, [])
		self.assertEqual({c["label"]: c["value"] for c in summary}[engine.UNSIGNED], 0)

	def test_a_csm_sees_only_her_book_whatever_the_filter(self):
		mine, _also_mine, theirs, invoices = self.make_book()
		frappe.set_user(OTHER_CSM)
		# another CSM's name: an empty report, not her own book under that name
		self.assertEqual(self.run_report(kind=engine.UNSIGNED, csm=CSM)[1], [])
		listed, summary = self.invoice_part()
		self.assertNotIn(invoices["big"].name, listed)
		self.assertEqual(self.invoice_part(customer=mine)[0], [])
		self.assertIn(invoices["theirs"].name, listed)
		frappe.set_user(CSM)
		listed, summary = self.invoice_part(customer=theirs)
		self.assertEqual(listed, [])
		self.assertEqual({c["label"]: c["value"] for c in summary}[engine.UNSIGNED], 0)
		# even a customer moved to her past the hooks shows only once the table says it is hers
		frappe.set_user("Administrator")
		frappe.db.sql("update `tabCustomer` set `cs_owner` = %s where `name` = %s", (OTHER_CSM, mine))
		frappe.set_user(CSM)
		self.assertNotIn(invoices["big"].name, self.invoice_part()[0], "not hers any more")

	def test_bad_filters_are_refused_with_what_to_fix(self):
		for filters in (
			{"kind": "Leaking Somehow"},
			{"customer": "No Such Customer 13"},
			{"company": "No Such Company 13"},
			{"csm": "nobody-13@example.com"},
			{"tier": "Platinum 13"},
			{"lifecycle_stage": "Dormant 13"},
			{"from_date": today(), "to_date": add_days(today(), -1)},
		):
			with self.assertRaises(frappe.ValidationError, msg=str(filters)):
				self.run_report(**filters)
		with self.assertRaises(frappe.ValidationError) as refused:  # shown as text, never as markup
			self.run_report(customer="<img src=x onerror=alert(1)>")
		self.assertIn("&lt;img", str(refused.exception))
		self.assertNotIn("<img", str(refused.exception))

	def test_contract_kinds_are_counted_in_full_and_listed_soonest_first(self):
		soon, later = make_customer(cs_owner=CSM).name, make_customer(cs_owner=CSM).name
		first = make_contract(soon, add_days(today(), -300), add_days(today(), 30))
		make_contract(later, add_days(today(), -300), add_days(today(), 90))
		frappe.set_user(CSM)
		with patch.object(revenue_leakage, "LISTED_CONTRACTS", 1):
			_columns, data, _message, chart, summary = self.run_report(kind=engine.NO_RENEWAL)
		self.assertEqual([r["reference_name"] for r in data], [first.name])
		self.assertEqual({c["label"]: c["value"] for c in summary}[engine.NO_RENEWAL], 2)
		self.assertNotIn(engine.NO_RENEWAL, chart["data"]["labels"], "its amount is not complete")


class TestLeaksFollowTierAndStage(LeakTestCase):
	"""Every writer of a customer's tier or lifecycle stage moves its leaks' share of the day sums."""

	def leaking_customer(self, scale: int = 1, **fields):
		customer = make_customer(cs_owner=CSM, **fields).name
		invoices = [
			make_sales_invoice(customer, rate=rate * scale, posting_date=add_days(today(), -days))
			for rate, days in ((700, 40), (300, 20))
		]
		return customer, invoices

	def keys_of(self, customer: str) -> set[tuple]:
		return {(row["tier"], row["stage"]) for row in self.assert_exact([customer]).values()}

	def test_the_tier_job_and_the_form_move_a_customers_leaks(self):
		from customer_success.segments import queries as segments_queries

		customer, _invoices = self.leaking_customer()
		self.assertEqual(self.keys_of(customer), {("", "")})
		segments_queries.write_tiers({"Strategic": [customer]}, TIER_JOB)  # the set-based tier job
		self.assertEqual(self.keys_of(customer), {("Strategic", "")})
		doc = frappe.get_doc("Customer", customer)
		doc.cs_tier = "SMB"
		doc.cs_lifecycle_stage = "Adoption"
		doc.save()
		self.assertEqual(self.keys_of(customer), {("SMB", "Adoption")})
		doc.reload()
		doc.cs_tier = None
		doc.save()
		self.assertEqual(self.keys_of(customer), {("", "Adoption")})

	def test_churn_and_a_handoffs_stage_move_a_customers_leaks(self):
		from customer_success.handoff.service import move_customer
		from customer_success.renewals import api
		from customer_success.renewals.test_renewals import make_contract, renewal_of

		customer, _invoices = self.leaking_customer(cs_lifecycle_stage="Renewal")
		# the invoice before the signed contract's term leaks (no signed contract covers it)
		make_sales_invoice(customer, rate=900, posting_date=add_days(today(), -340))
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		frappe.set_user(CSM)
		api.mark_churned(renewal_of(contract.name).name, "Price", "gone")
		frappe.set_user("Administrator")
		self.assertEqual(self.keys_of(customer), {("", "Churned")})
		move_customer(customer, {"cs_owner": OTHER_CSM, "cs_lifecycle_stage": "Onboarding"})
		rows = self.assert_exact([customer])
		self.assertEqual({(r["csm"], r["stage"]) for r in rows.values()}, {(OTHER_CSM, "Onboarding")})
		move_customer(customer, {"cs_lifecycle_stage": "Adoption"})  # the stage alone, same book
		self.assertEqual(self.keys_of(customer), {("", "Adoption")})

	def test_a_tier_or_stage_written_past_the_writers_is_repaired_by_the_night(self):
		customer, invoices = self.leaking_customer(cs_tier="SMB")
		frappe.db.sql(
			"update `tabCustomer` set `cs_tier` = 'Enterprise', `cs_lifecycle_stage` = 'Expansion' "
			"where `name` = %s",
			customer,
		)
		frappe.set_user(MANAGER)
		# not yet moved: listed under neither tier (the row and the customer disagree)
		for tier in ("SMB", "Enterprise"):
			self.assertNotIn(invoices[0].name, self.listing(tier=tier)[0], tier)
		frappe.set_user("Administrator")
		first = service.reconcile_leaks()
		self.assertGreaterEqual(first["customers_corrected"], 1)
		self.assertEqual(self.keys_of(customer), {("Enterprise", "Expansion")})
		second = service.reconcile_leaks()
		self.assertEqual((second["corrected"], second["cells_corrected"]), (0, 0))
		frappe.set_user(MANAGER)
		self.assertIn(invoices[0].name, self.listing(tier="Enterprise")[0])

	def listing(self, **filters):
		filters = frappe._dict(
			from_date=add_days(today(), -365), to_date=add_days(today(), 180), kind=engine.UNSIGNED, **filters
		)
		_columns, data, _message, _chart, summary = revenue_leakage.execute(filters)
		cards = {card["label"]: card["value"] for card in summary}
		return [r["reference_name"] for r in data], cards

	def test_the_report_by_tier_and_stage_equals_the_live_computation(self):
		_big, big_invoices = self.leaking_customer(1, cs_tier="SMB", cs_lifecycle_stage="Adoption")
		small, small_invoices = self.leaking_customer(2, cs_tier="SMB")
		_other, other_invoices = self.leaking_customer(3, cs_tier="Enterprise", cs_lifecycle_stage="Adoption")
		set_customer_fields(small, {"cs_owner": OTHER_CSM})
		large = make_sales_invoice(small, rate=5000, posting_date=add_days(today(), -3))
		frappe.set_user(MANAGER)
		for filters, expected in (
			({"tier": "SMB"}, [large, *big_invoices, *small_invoices]),
			({"lifecycle_stage": "Adoption"}, [*big_invoices, *other_invoices]),
			({"tier": "SMB", "lifecycle_stage": "Adoption"}, big_invoices),
			({"tier": "SMB", "csm": OTHER_CSM}, [large, *small_invoices]),
			({"tier": "Strategic"}, []),
		):
			mine = {i.name for i in expected}
			with patch.object(revenue_leakage, "LISTED", 10**6):
				listed, cards = self.listing(**filters)
			# every leak of the filter on the site (other tests' customers too): the live sums
			scope = frappe._dict(
				from_date=add_days(today(), -365),
				to_date=add_days(today(), 180),
				kind=engine.UNSIGNED,
				**filters,
			)
			(live,) = queries.leak_totals_live(scope, None) or [(engine.UNSIGNED, None, 0, 0)]
			self.assertEqual(cards[engine.UNSIGNED], int(live[3]), filters)
			self.assertAlmostEqual(cards[f"{engine.UNSIGNED}: Amount"], float(live[2]), 2, filters)
			self.assertEqual(len(listed), int(live[3]), filters)
			self.assertLessEqual(mine, set(listed), filters)
			# largest first, and the first of ours in the order of their amounts
			ours = [name for name in listed if name in mine]
			amounts = {i.name: i.base_net_total for i in expected}
			self.assertEqual(ours, sorted(mine, key=lambda n: -amounts[n]), filters)
		with patch.object(revenue_leakage, "LISTED", 1):
			self.assertEqual(self.listing(tier="SMB", csm=OTHER_CSM)[0][:1], [large.name])
		# a tier and a stage together: customer first (few customers) or the tier's amount index
		listings = []
		for plan in ("customers", "index"):
			with (
				patch.object(queries, "listing_plan", return_value=plan),
				patch.object(revenue_leakage, "LISTED", 10**6),
			):
				listings.append(self.listing(tier="SMB", lifecycle_stage="Adoption"))
		self.assertEqual(listings[0], listings[1])
		self.assertLessEqual({i.name for i in big_invoices}, set(listings[0][0]))
		# a CSM's book holds: the tier's leaks of her book only
		frappe.set_user(OTHER_CSM)
		listed, cards = self.listing(tier="SMB")
		self.assertEqual(set(listed) & {i.name for i in (*big_invoices, *other_invoices)}, set())
		self.assertLessEqual({large.name, *(i.name for i in small_invoices)}, set(listed))
