"""CSM Workload against hand-computed figures on real invoices (credit notes, a second currency),
alerts and their tasks, milestones and check-ins; per role."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.tests.utils import (
	make_customer,
	make_eur_company,
	make_sales_invoice,
	make_shared_users,
	make_success_plan,
	set_customer_fields,
)

CSM_A = "reports-csm-a@example.com"
CSM_B = "reports-csm-b@example.com"
MANAGER = "reports-manager@example.com"
REPORT = "CSM Workload"


def run_report(user: str, **filters) -> dict:
	from frappe.desk.query_report import run

	frappe.set_user(user)
	try:
		return run(REPORT, filters=filters)
	finally:
		frappe.set_user("Administrator")


def rows_by_csm(user: str, **filters) -> dict:
	return {row["csm"]: row for row in run_report(user, **filters)["result"]}


class TestCSMWorkloadReport(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def setUp(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		today = getdate(nowdate())
		self.red = make_customer(cs_owner=CSM_A, cs_tier="Enterprise").name
		set_customer_fields(self.red, {"cs_health_status": "Red"}, update_modified=False)
		self.green = make_customer(cs_owner=CSM_A, cs_tier="SMB").name
		self.theirs = make_customer(cs_owner=CSM_B).name

		# revenue: 1000 (30 days ago) + 2000 (200 days ago) - 400 credited today; 5000 too old
		recent = make_sales_invoice(self.red, rate=1000, posting_date=add_days(today, -30))
		make_sales_invoice(self.red, rate=2000, posting_date=add_days(today, -200))
		make_sales_invoice(self.red, rate=5000, posting_date=add_days(today, -400))
		credit = make_sales_return(recent.name)
		credit.items[0].rate = 400
		credit.insert()
		credit.submit()
		self.revenue = recent.base_net_total + 2000 + credit.base_net_total
		make_sales_invoice(self.theirs, rate=700, posting_date=add_days(today, -10))

		# alerts: one open (two tasks late, one not; one done), one resolved
		rules = frappe.get_all("CS Alert Rule", pluck="name", order_by="name", limit=2)
		frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": self.red,
				"rule": rules[0],
				"severity": "High",
				"status": "Open",
				"tasks": [
					{"title": title, "due_date": due, "status": status}
					for title, due, status in (
						("late", add_days(today, -2), "Open"),
						("later", add_days(today, -1), "Open"),
						("not yet", add_days(today, 5), "Open"),
						("done", add_days(today, -5), "Done"),
					)
				],
			}
		).insert(ignore_permissions=True)
		closed = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": self.green,
				"rule": rules[1],
				"severity": "Low",
				"status": "Open",
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value("CS Alert", closed.name, "status", "Resolved")

		# plans: two late milestones (one open past due, one marked Overdue), one done; a late check-in
		plan = make_success_plan(self.red, start_date=add_days(today, -90), end_date=add_days(today, 90))
		for due, status in ((-20, "Not Started"), (-10, "Overdue"), (-30, "Done"), (15, "In Progress")):
			frappe.get_doc(
				{
					"doctype": "Success Plan Milestone",
					"success_plan": plan.name,
					"title": "Step",
					"due_date": add_days(today, due),
					"status": status,
					"completed_on": add_days(today, due) if status == "Done" else None,
				}
			).insert(ignore_permissions=True)
		for due in (-4, 6):
			frappe.get_doc(
				{
					"doctype": "Success Plan Check-in",
					"success_plan": plan.name,
					"due_date": add_days(today, due),
					"status": "Due",
				}
			).insert(ignore_permissions=True)

	def test_a_csm_row_by_hand(self):
		row = rows_by_csm(MANAGER, csm=CSM_A)[CSM_A]
		self.assertEqual((row["customers"], row["red_customers"]), (2, 1))
		self.assertAlmostEqual(row["revenue"], self.revenue)
		self.assertAlmostEqual(row["revenue"], 2600.0)
		self.assertEqual(row["open_alerts"], 1)
		self.assertEqual(row["overdue_alert_tasks"], 2)
		self.assertEqual(row["overdue_milestones"], 2)
		self.assertEqual(row["overdue_checkins"], 1)
		self.assertEqual(row["overdue_items"], 5)

	def test_revenue_period(self):
		today = getdate(nowdate())
		row = rows_by_csm(MANAGER, csm=CSM_A, from_date=add_days(today, -60), to_date=today)[CSM_A]
		self.assertAlmostEqual(row["revenue"], 600.0)  # 1000 - 400
		row = rows_by_csm(MANAGER, csm=CSM_A, from_date=add_days(today, -500), to_date=today)[CSM_A]
		self.assertAlmostEqual(row["revenue"], 7600.0)

	def test_another_company_is_converted_to_company_currency(self):
		import erpnext

		if erpnext.get_company_currency(erpnext.get_default_company()) != "USD":
			self.skipTest("the test converts EUR into a USD default company")
		eur_company = make_eur_company(rate=1.1, rate_date=nowdate())
		make_sales_invoice(self.green, rate=1000, company=eur_company, currency="EUR", conversion_rate=1)
		row = rows_by_csm(MANAGER, csm=CSM_A)[CSM_A]
		self.assertAlmostEqual(row["revenue"], 2600.0 + 1100.0)

	def test_book_limits(self):
		mine = rows_by_csm(CSM_A)
		self.assertEqual(set(mine), {CSM_A})
		self.assertEqual(run_report(CSM_A, csm=CSM_B)["result"], [])
		theirs = rows_by_csm(CSM_B)
		self.assertEqual(set(theirs), {CSM_B})
		self.assertEqual(theirs[CSM_B]["customers"], 1)
		self.assertAlmostEqual(theirs[CSM_B]["revenue"], 700.0)
		team = rows_by_csm(MANAGER)
		self.assertTrue({CSM_A, CSM_B} <= set(team))
		self.assertEqual(team[CSM_A]["overdue_items"], 5)
		# the team view: the same figures
		self.assertAlmostEqual(team[CSM_A]["revenue"], 2600.0)
		self.assertAlmostEqual(team[CSM_B]["revenue"], 700.0)

	def test_chart_stacks_the_overdue_kinds(self):
		chart = run_report(MANAGER, csm=CSM_A)["chart"]
		values = [dataset["values"][0] for dataset in chart["data"]["datasets"]]
		self.assertEqual(values, [2, 1, 2])


class TestOpenAlertsFollowTheCustomer(FrappeTestCase):
	"""The workload counts a book's open alerts from the alerts' own CSM: every way a customer changes
	book moves them at once, and the count equals the join to the customers' CS Owner."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def setUp(self):
		self.customer = make_customer(cs_owner=CSM_A).name
		self.other = make_customer(cs_owner=CSM_B).name
		today = getdate(nowdate())
		rules = frappe.get_all("CS Alert Rule", pluck="name", order_by="name", limit=3)
		self.alerts = []
		for rule, status in zip(rules, ("Open", "In Progress", "Open"), strict=False):
			# each alert: two tasks late, one due later, one late but done
			tasks = [
				{"title": "late", "due_date": add_days(today, -3), "status": "Open"},
				{"title": "late too", "due_date": add_days(today, -1), "status": "Open"},
				{"title": "later", "due_date": add_days(today, 2), "status": "Open"},
				{"title": "done", "due_date": add_days(today, -2), "status": "Done"},
			]
			self.alerts.append(
				frappe.get_doc(
					{
						"doctype": "CS Alert",
						"customer": self.customer,
						"rule": rule,
						"severity": "Medium",
						"status": status,
						"tasks": tasks,
					}
				).insert(ignore_permissions=True)
			)
		self.mine = min(len(rules), 3)
		self.late = 2 * self.mine

	def open_alerts(self, user: str = MANAGER, **filters) -> dict:
		return {csm: row["open_alerts"] for csm, row in rows_by_csm(user, **filters).items()}

	def late_tasks(self, user: str = MANAGER, **filters) -> dict:
		return {csm: row["overdue_alert_tasks"] for csm, row in rows_by_csm(user, **filters).items()}

	def assert_counts_equal_the_join(self):
		from customer_success.alerts.queries import open_alerts_per_csm
		from customer_success.customer_success.report.csm_workload import csm_workload

		customer = frappe.qb.DocType("Customer")
		joined = csm_workload.open_alerts_joined(customer.disabled == 0)
		kept = open_alerts_per_csm()
		for csm in (CSM_A, CSM_B):
			self.assertEqual(kept.get(csm, 0), joined.get(csm, 0), csm)
			self.assertEqual(open_alerts_per_csm(csm), {csm: joined[csm]} if joined.get(csm) else {})
		from customer_success.alerts.queries import overdue_tasks_per_csm

		today = getdate(nowdate())
		joined = csm_workload.overdue_alert_tasks_joined(customer.disabled == 0, today)
		kept = overdue_tasks_per_csm(today)
		for csm in (CSM_A, CSM_B):
			self.assertEqual(kept.get(csm, 0), joined.get(csm, 0), csm)
			self.assertEqual(overdue_tasks_per_csm(today, csm), {csm: joined[csm]} if joined.get(csm) else {})

	def test_the_count_is_the_books(self):
		self.assertEqual(self.open_alerts()[CSM_A], self.mine)
		self.assertEqual(self.late_tasks()[CSM_A], self.late)
		self.assertEqual(self.late_tasks(CSM_A), {CSM_A: self.late})
		self.assertEqual(self.open_alerts(CSM_A), {CSM_A: self.mine})
		self.assertEqual(self.open_alerts(CSM_B)[CSM_B], 0)
		self.assert_counts_equal_the_join()

	def test_every_csm_with_open_tasks_is_found_none_included(self):
		"""The skip scan of the book index finds each CSM with open tasks once, and the customers with
		no CS Owner (counted under none), as the join does."""
		from customer_success.alerts.queries import csms_with_open_tasks, overdue_tasks_per_csm
		from customer_success.customer_success.report.csm_workload import csm_workload

		nobodys = make_customer().name
		rule = frappe.get_all("CS Alert Rule", pluck="name", order_by="name desc", limit=1)[0]
		frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": nobodys,
				"rule": rule,
				"severity": "Low",
				"status": "Open",
				"tasks": [{"title": "late", "due_date": add_days(nowdate(), -4), "status": "Open"}],
			}
		).insert(ignore_permissions=True)
		found = csms_with_open_tasks()
		self.assertEqual(len(found), len(set(found)))
		self.assertTrue({CSM_A, None} <= set(found))
		customer = frappe.qb.DocType("Customer")
		today = getdate(nowdate())
		joined = csm_workload.overdue_alert_tasks_joined(customer.disabled == 0, today)
		kept = overdue_tasks_per_csm(today)
		self.assertEqual(kept.get(""), joined.get(csm_workload.NOT_ASSIGNED))
		self.assertEqual(kept.get(CSM_A), self.late)

	def test_a_customer_moved_on_its_form_takes_its_open_alerts(self):
		doc = frappe.get_doc("Customer", self.customer)
		doc.cs_owner = CSM_B
		doc.save(ignore_permissions=True)
		counts = self.open_alerts()
		self.assertEqual((counts.get(CSM_A, 0), counts[CSM_B]), (0, self.mine))
		late = self.late_tasks()
		self.assertEqual((late.get(CSM_A, 0), late[CSM_B]), (0, self.late))
		self.assertEqual(self.open_alerts(CSM_B), {CSM_B: self.mine})
		self.assert_counts_equal_the_join()

	def test_a_handoff_move_takes_its_open_alerts(self):
		from customer_success.handoff.service import move_customer

		move_customer(self.customer, {"cs_owner": CSM_B})
		self.assertEqual(self.open_alerts()[CSM_B], self.mine)
		self.assert_counts_equal_the_join()

	def test_a_disabled_customers_alerts_are_not_counted(self):
		doc = frappe.get_doc("Customer", self.customer)
		doc.disabled = 1
		doc.save(ignore_permissions=True)
		self.assertEqual(self.open_alerts().get(CSM_A, 0), 0)
		self.assertEqual(self.open_alerts(CSM_A).get(CSM_A, 0), 0)
		self.assertEqual(self.late_tasks().get(CSM_A, 0), 0)
		self.assert_counts_equal_the_join()

	def test_a_merged_customers_alerts_go_to_the_customer_it_joined(self):
		frappe.rename_doc("Customer", self.customer, self.other, merge=True, force=True)
		self.assertEqual(self.open_alerts()[CSM_B], self.mine)
		self.assertEqual(self.open_alerts().get(CSM_A, 0), 0)
		self.assert_counts_equal_the_join()

	def test_an_owner_written_past_the_hooks_is_repaired_by_the_nightly_pass(self):
		from customer_success.alerts.queries import open_alerts_per_csm, sync_alert_csms

		frappe.db.set_value("Customer", self.customer, "cs_owner", CSM_B)  # no hook runs
		self.assertEqual(open_alerts_per_csm(CSM_A), {CSM_A: self.mine})  # stale until the night
		sync_alert_csms()  # the nightly pass's first and last step
		self.assertEqual(open_alerts_per_csm(CSM_A), {})
		self.assertEqual(self.open_alerts()[CSM_B], self.mine)
		self.assertEqual(self.late_tasks()[CSM_B], self.late)
		self.assert_counts_equal_the_join()

	def test_a_closed_alerts_tasks_are_not_counted(self):
		from customer_success.alerts import service

		service.close(frappe.get_doc("CS Alert", self.alerts[0].name), "Resolved", "Called them; sorted.")
		self.assertEqual(self.late_tasks()[CSM_A], self.late - 2)
		self.assert_counts_equal_the_join()

	def test_alerts_resolved_by_themselves_take_their_tasks_out(self):
		from frappe.utils import now_datetime

		from customer_success.alerts.queries import resolve_alerts

		resolve_alerts([self.alerts[0].name], "Gone by itself.", now_datetime(), "Administrator")
		self.assertEqual(self.late_tasks()[CSM_A], self.late - 2)
		self.assert_counts_equal_the_join()

	def test_a_status_written_past_the_hooks_is_repaired_by_the_nightly_pass(self):
		from customer_success.alerts.queries import overdue_tasks_per_csm, sync_alert_csms

		frappe.db.set_value("CS Alert", self.alerts[0].name, "status", "Dismissed")  # no hook runs
		sync_alert_csms()
		today = getdate(nowdate())
		self.assertEqual(overdue_tasks_per_csm(today, CSM_A), {CSM_A: self.late - 2})
		self.assert_counts_equal_the_join()
