"""The revenue roll-up (cs_revenue_by_csm_day) against a fresh computation from the ledger: kept
current by invoices submitted, credited and cancelled and by customers changing book, repaired and
left alone by the nightly reconciliation, and read by CSM Workload within a CSM's book."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.renewals import queries
from customer_success.renewals import service as renewals
from customer_success.tests.utils import make_customer, make_sales_invoice, make_shared_users

CSM_A = "rollup-csm-a@example.com"
CSM_B = "rollup-csm-b@example.com"
MANAGER = "rollup-manager@example.com"


def live_cells() -> dict:
	return {key: value for key, value in queries.revenue_cells_from_ledger().items()}


def rolled_cells() -> dict:
	return {key: value for key, value in queries.revenue_cells_rolled_up().items() if value != (0, 0)}


def book_revenue(csm: str, from_date, to_date) -> float:
	return sum(
		float(total) for owner, _c, total in renewals.rolled_up_revenue_by_csm(from_date, to_date, csm)
	)


def credit(invoice, rate: float):
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	note = make_sales_return(invoice.name)
	note.items[0].rate = rate
	note.insert()
	note.submit()
	return note


class TestRevenueRollup(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def setUp(self):
		self.today = getdate(nowdate())
		renewals.reconcile_revenue_rollup()  # whatever the site held before: the roll-up starts equal
		self.assertEqual(rolled_cells(), live_cells())

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_invoices_credit_notes_and_cancelling_keep_it_equal_to_the_ledger(self):
		mine = make_customer(cs_owner=CSM_A).name
		theirs = make_customer(cs_owner=CSM_B).name
		day = add_days(self.today, -20)
		kept = make_sales_invoice(mine, rate=1000, posting_date=day)
		make_sales_invoice(mine, rate=300, posting_date=day)
		cancelled = make_sales_invoice(mine, rate=5000, posting_date=add_days(self.today, -3))
		make_sales_invoice(theirs, rate=700, posting_date=day)
		note = credit(kept, 400)  # dated today, -400
		cancelled.reload()
		cancelled.cancel()

		self.assertEqual(rolled_cells(), live_cells())
		since = add_days(self.today, -30)
		self.assertEqual(book_revenue(CSM_A, since, self.today), 1000 + 300 + note.base_net_total)
		self.assertEqual(note.base_net_total, -400)
		self.assertEqual(book_revenue(CSM_B, since, self.today), 700)
		# by day: the credit note nets on its own day, the cancelled invoice is gone
		self.assertEqual(book_revenue(CSM_A, day, day), 1300)
		self.assertEqual(book_revenue(CSM_A, add_days(self.today, -3), add_days(self.today, -3)), 0)

	def test_a_customer_changing_book_or_disabled_takes_its_revenue_along(self):
		moving = make_customer(cs_owner=CSM_A).name
		make_sales_invoice(moving, rate=800, posting_date=add_days(self.today, -5))
		make_sales_invoice(moving, rate=200, posting_date=add_days(self.today, -60))
		since = add_days(self.today, -90)
		self.assertEqual(book_revenue(CSM_A, since, self.today), 1000)

		customer = frappe.get_doc("Customer", moving)
		customer.cs_owner = CSM_B
		customer.save()
		self.assertEqual(book_revenue(CSM_A, since, self.today), 0)
		self.assertEqual(book_revenue(CSM_B, since, self.today), 1000)
		self.assertEqual(rolled_cells(), live_cells())

		customer.reload()
		customer.disabled = 1
		customer.save()
		self.assertEqual(book_revenue(CSM_B, since, self.today), 0)  # active customers only
		self.assertEqual(rolled_cells(), live_cells())

	def test_the_nightly_reconciliation_repairs_and_then_changes_nothing(self):
		customer = make_customer(cs_owner=CSM_A).name
		make_sales_invoice(customer, rate=900, posting_date=add_days(self.today, -2))
		# a write that bypassed the hooks: the roll-up is off by 100, and holds a phantom day
		queries.add_revenue_cells(
			[
				(
					CSM_A,
					0,
					frappe.db.get_value("Sales Invoice", {"customer": customer}, "company"),
					add_days(self.today, -2),
					-100,
					0,
				),
				(CSM_B, 0, "No Such Company", self.today, 55, 1),
			]
		)
		self.assertNotEqual(rolled_cells(), live_cells())
		first = renewals.reconcile_revenue_rollup()
		self.assertEqual(first["corrected"], 2)
		self.assertEqual(rolled_cells(), live_cells())
		self.assertEqual(renewals.reconcile_revenue_rollup()["corrected"], 0)

	def test_csm_workload_reads_a_csms_own_book(self):
		from frappe.desk.query_report import run

		mine = make_customer(cs_owner=CSM_A).name
		theirs = make_customer(cs_owner=CSM_B).name
		make_sales_invoice(mine, rate=1200, posting_date=add_days(self.today, -10))
		make_sales_invoice(theirs, rate=3400, posting_date=add_days(self.today, -10))
		frappe.set_user(CSM_A)
		rows = run("CSM Workload", filters={})["result"]
		self.assertEqual([row["csm"] for row in rows], [CSM_A])
		self.assertEqual(rows[0]["revenue"], 1200)
		self.assertEqual(run("CSM Workload", filters={"csm": CSM_B})["result"], [])
		frappe.set_user(MANAGER)
		team = {row["csm"]: row["revenue"] for row in run("CSM Workload", filters={})["result"]}
		self.assertEqual((team[CSM_A], team[CSM_B]), (1200, 3400))
		# a tier filter sums the ledger instead: the same figure
		frappe.db.set_value("Customer", mine, "cs_tier", "Enterprise", update_modified=False)
		tiered = run("CSM Workload", filters={"tier": "Enterprise", "csm": CSM_A})["result"]
		self.assertEqual(tiered[0]["revenue"], 1200)
