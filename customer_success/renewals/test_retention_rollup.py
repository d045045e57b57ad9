"""Revenue Retention's roll-up (cs_retention_*) against a fresh computation from the ledger: equal
after the reconciliation, kept equal by invoices submitted, credited and cancelled and by customers
moving to another book, left alone by a second reconciliation, and read by the report for a CSM's
book and the team with the same figures as the live computation."""

from unittest.mock import patch

import frappe
from frappe.utils import add_days, add_months, get_last_day, getdate, nowdate

from customer_success.renewals import engine, queries, service
from customer_success.renewals.report.revenue_retention import revenue_retention
from customer_success.renewals.test_renewals import RenewalTestCase, make_credit_note
from customer_success.tests.utils import make_customer, make_sales_invoice, make_user, set_customer_fields

BOOK_A = "cs-ret-rollup-a@example.com"
BOOK_B = "cs-ret-rollup-b@example.com"


def live(points, csm=None) -> dict:
	revenue = queries.retention_revenue(points, {"csm": csm} if csm else {}, None)
	return {point: engine.retention(*revenue[point]) for point in points}


def live_filtered(points, filters, csm=None) -> dict:
	revenue = queries.retention_revenue(points, filters, csm)
	return {point: engine.retention(*revenue[point]) for point in points}


def rolled(points, csm=None) -> dict:
	return service.rolled_up_retention(points, {"csm": csm} if csm else {}, None)


class TestRetentionRollup(RenewalTestCase):
	def setUp(self):
		for user in (BOOK_A, BOOK_B):
			make_user(user, ["Customer Success Manager"])
		self.today = getdate(nowdate())
		self.point = getdate(get_last_day(add_months(self.today, -1)))  # last month's end
		(p_first, _p_last), (c_first, _c_last) = engine.retention_windows(self.point)
		self.before, self.after = add_days(p_first, 40), add_days(c_first, 40)

	def invoice(self, customer, rate, day):
		return make_sales_invoice(customer, rate=rate, posting_date=day, due_date=day)

	def assert_equal_to_the_ledger(self):
		points = sorted(queries.retention_periods())
		self.assertIn(self.point, points)
		self.assertIn(self.today, points)
		for csm in (BOOK_A, BOOK_B, None):
			self.assertEqual(rolled(points, csm), live(points, csm), csm or "the team")

	def test_kept_equal_to_the_ledger_through_invoices_credit_notes_cancelling_and_moves(self):
		grow = make_customer(cs_owner=BOOK_A).name
		gone = make_customer(cs_owner=BOOK_A).name
		self.invoice(grow, 1000, self.before)
		self.invoice(gone, 800, self.before)
		service.reconcile_retention_rollup()
		self.assert_equal_to_the_ledger()
		(figures,) = rolled([self.point], BOOK_A).values()
		self.assertEqual((figures["customers"], figures["churn"], figures["grr"]), (2, 1800.0, 0.0))

		# submitted after: the hooks keep it (expansion, then a credit note makes it a contraction)
		later = self.invoice(grow, 1500, self.after)
		self.assert_equal_to_the_ledger()
		self.assertEqual(rolled([self.point], BOOK_A)[self.point]["expansion"], 500.0)
		make_credit_note(later, 700)
		self.assert_equal_to_the_ledger()
		(figures,) = rolled([self.point], BOOK_A).values()
		self.assertEqual((figures["contraction"], figures["contracted_customers"]), (200.0, 1))
		# a new customer of today's window counts in no cohort; today's point holds it all the same
		self.invoice(make_customer(cs_owner=BOOK_B).name, 300, self.today)
		self.assert_equal_to_the_ledger()

		# cancelled: what it added comes out
		kept = self.invoice(gone, 400, self.after)
		self.assert_equal_to_the_ledger()
		kept.reload()
		kept.cancel()
		self.assert_equal_to_the_ledger()

		# moved to another book through the form: its part goes with it
		customer = frappe.get_doc("Customer", grow)
		customer.cs_owner = BOOK_B
		customer.save(ignore_permissions=True)
		self.assert_equal_to_the_ledger()
		self.assertEqual(rolled([self.point], BOOK_A)[self.point]["customers"], 1)
		self.assertEqual(rolled([self.point], BOOK_B)[self.point]["customers"], 1)

		# a second reconciliation corrects nothing
		self.assertEqual(service.reconcile_retention_rollup()["corrected"], 0)

	def test_the_reconciliation_repairs_writes_past_the_hooks(self):
		mine = make_customer(cs_owner=BOOK_A).name
		self.invoice(mine, 1000, self.before)
		later = self.invoice(mine, 600, self.after)
		service.reconcile_retention_rollup()
		# a set-based write of the owner, as the app's jobs write it: no retention hook runs
		set_customer_fields(mine, {"cs_owner": BOOK_B}, update_modified=False)
		frappe.db.set_value("Sales Invoice", later.name, "base_net_total", 1400)  # a SQL fix, no hook
		self.assertNotEqual(rolled([self.point], BOOK_B), live([self.point], BOOK_B))
		self.assertGreater(service.reconcile_retention_rollup()["corrected"], 0)
		self.assert_equal_to_the_ledger()
		self.assertEqual(service.reconcile_retention_rollup()["corrected"], 0)

	def test_the_report_reads_it_with_the_live_figures_and_a_tier_filter(self):
		mine = make_customer(cs_owner=BOOK_A, cs_tier="SMB").name
		other = make_customer(cs_owner=BOOK_A, cs_tier="Enterprise").name
		self.invoice(mine, 1000, self.before)
		self.invoice(mine, 1200, self.after)
		self.invoice(other, 500, self.before)
		filters = {"from_date": self.point, "to_date": self.point, "csm": BOOK_A}
		_c, before_rollup, *_r = revenue_retention.execute(dict(filters))
		service.reconcile_retention_rollup()
		self.assertIn(self.point, rolled([self.point], BOOK_A))
		_c, from_rollup, *_r = revenue_retention.execute(dict(filters))
		self.assertEqual(from_rollup, before_rollup)
		(row,) = from_rollup
		self.assertEqual((row["customers"], row["expansion"], row["churn"]), (2, 200.0, 500.0))
		self.assertEqual(row["nrr"], round(100 * (1500 + 200 - 500) / 1500, 2))
		# a point before any revenue has empty windows: answered without the ledger, as the ledger would
		first = queries.first_revenue_day()
		early = getdate(get_last_day(add_months(first, -30)))
		self.assertIn(early, rolled([early], BOOK_A))
		self.assertEqual(rolled([early], BOOK_A), live([early], BOOK_A))
		# a tier: the roll-up's rows of the customers of that tier, the SMB customer alone
		self.assertEqual(
			service.rolled_up_retention([self.point], {"tier": "SMB", "csm": BOOK_A}, None),
			live_filtered([self.point], {"tier": "SMB", "csm": BOOK_A}),
		)
		_c, smb, *_r = revenue_retention.execute({**filters, "tier": "SMB"})
		self.assertEqual((smb[0]["customers"], smb[0]["churn"]), (1, 0.0))
		# a CSM reads her own book from it whatever CSM she names
		frappe.set_user(BOOK_B)
		_c, theirs, *_r = revenue_retention.execute(dict(filters))
		self.assertEqual(theirs[0]["customers"], live([self.point], BOOK_B)[self.point]["customers"])

	def test_tier_stage_and_customer_filters_read_it_with_the_live_figures(self):
		"""The customers of a tier or stage are those of it now (as the live computation reads them):
		a customer moved to another tier takes its whole history with it."""
		smb = [make_customer(cs_owner=BOOK_A, cs_tier="SMB").name for _i in range(3)]
		big = make_customer(cs_owner=BOOK_B, cs_tier="Enterprise").name
		grows, shrinks, churns = smb
		for name, before, after in (
			(grows, 1000, 1300),
			(shrinks, 900, 600),
			(churns, 700, None),
			(big, 400, 500),
		):
			self.invoice(name, before, self.before)
			if after:
				self.invoice(name, after, self.after)
		make_credit_note(self.invoice(shrinks, 200, self.after), 150)
		set_customer_fields(churns, {"cs_lifecycle_stage": "Churned"})
		service.reconcile_retention_rollup()
		points = sorted(queries.retention_periods())
		cases = [
			{"tier": "SMB"},
			{"tier": "Enterprise"},
			{"tier": "SMB", "csm": BOOK_A},
			{"tier": "SMB", "csm": BOOK_B},
			{"lifecycle_stage": "Churned"},
			{"lifecycle_stage": "Churned", "tier": "SMB"},
			{"customer": shrinks},
			{"customer": big, "csm": BOOK_A},  # another book's customer: nothing
		]
		for filters in cases:
			rolled_up = service.rolled_up_retention(points, filters, None)
			self.assertEqual(set(rolled_up), set(points), filters)
			self.assertEqual(rolled_up, live_filtered(points, filters), filters)
		(figures,) = service.rolled_up_retention([self.point], {"tier": "SMB"}, None).values()
		# S = 2600; E = 300; C = 900 - 650 = 250 (the credit note netted); L = 700
		self.assertEqual(
			(figures["customers"], figures["expansion"], figures["contraction"], figures["churn"]),
			(3, 300.0, 250.0, 700.0),
		)
		self.assertEqual(figures["grr"], round(100 * (2600 - 250 - 700) / 2600, 2))
		# moved to another tier: counted in the tier it has now, history and all
		set_customer_fields(grows, {"cs_tier": "Enterprise"})
		for filters in ({"tier": "SMB"}, {"tier": "Enterprise"}):
			self.assertEqual(
				service.rolled_up_retention(points, filters, None), live_filtered(points, filters), filters
			)
		(figures,) = service.rolled_up_retention([self.point], {"tier": "Enterprise"}, None).values()
		self.assertEqual((figures["customers"], figures["starting_revenue"]), (2, 1400.0))
		# the report reads them from the roll-up (no ledger read), as a CSM her book only
		with patch.object(queries, "retention_revenue", wraps=queries.retention_revenue) as ledger:
			frappe.set_user(BOOK_A)
			_c, rows, *_r = revenue_retention.execute(
				{"from_date": self.point, "to_date": self.point, "tier": "Enterprise"}
			)
			self.assertEqual(ledger.call_args.args[0], [])
		self.assertEqual(rows[0]["customers"], 1)
