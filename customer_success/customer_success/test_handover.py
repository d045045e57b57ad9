"""A customer moved to another CSM takes its open work: alerts (owner, tasks, ToDos), running
plans, open milestones and check-ins, open renewals; what someone else holds stays."""

import frappe
from frappe.desk.form.assign_to import add as assign
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.success_plans.test_success_plans import make_milestone
from customer_success.tests.utils import (
	change_settings,
	make_customer,
	make_shared_users,
	make_success_plan,
)

CSM_A = "cs-ho-csm-a@example.com"
CSM_B = "cs-ho-csm-b@example.com"
COLLEAGUE = "cs-ho-colleague@example.com"
MANAGER = "cs-ho-manager@example.com"


def open_todos(doctype, name):
	return set(
		frappe.get_all(
			"ToDo",
			filters={"reference_type": doctype, "reference_name": name, "status": "Open"},
			pluck="allocated_to",
		)
	)


class TestOpenWorkFollowsTheCustomer(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], COLLEAGUE: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]}
		)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def make_work(self):
		customer = make_customer(cs_owner=CSM_A).name
		rule = frappe.get_all("CS Alert Rule", pluck="name", order_by="name", limit=1)[0]
		alert = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": customer,
				"rule": rule,
				"severity": "Medium",
				"status": "Open",
				"assigned_to": CSM_A,
				"tasks": [
					{
						"title": "call",
						"due_date": add_days(nowdate(), 2),
						"status": "Open",
						"assigned_to": CSM_A,
					},
					{
						# someone else's task (a CS Manager: a task goes to someone who can open the alert)
						"title": "finance",
						"due_date": add_days(nowdate(), 2),
						"status": "Open",
						"assigned_to": MANAGER,
					},
				],
			}
		).insert(ignore_permissions=True)
		assign({"assign_to": [CSM_A], "doctype": "CS Alert", "name": alert.name, "description": "call"})
		plan = make_success_plan(customer, csm=CSM_A)
		with change_settings(create_todos=1):
			mine = make_milestone(plan, add_days(nowdate(), 10), title="Kick-off", assigned_to=CSM_A)
			given = make_milestone(plan, add_days(nowdate(), 10), title="Training", assigned_to=COLLEAGUE)
		touchpoint = frappe.get_doc(
			{
				"doctype": "Customer Touchpoint",
				"customer": customer,
				"touchpoint": frappe.get_all("Lifecycle Touchpoint", pluck="name", limit=1)[0],
				"occurrence": 1,
				"status": "Planned",
				"assigned_to": CSM_A,
				"due_date": add_days(nowdate(), 5),
			}
		).insert(ignore_permissions=True)
		assign(
			{
				"assign_to": [CSM_A],
				"doctype": touchpoint.doctype,
				"name": touchpoint.name,
				"description": "QBR",
			}
		)
		self.touchpoint = touchpoint.name
		self.review = (
			frappe.get_doc(
				{
					"doctype": "Business Review",
					"customer": customer,
					"period_start": add_days(nowdate(), -30),
					"period_end": nowdate(),
					"csm": CSM_A,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
		return customer, alert, plan, mine, given

	def assert_moved(self, customer, alert, plan, mine, given):
		alert.reload()
		self.assertEqual((alert.csm, alert.assigned_to), (CSM_B, CSM_B))
		self.assertEqual([t.assigned_to for t in alert.tasks], [CSM_B, MANAGER])
		todos = open_todos("CS Alert", alert.name)
		self.assertIn(CSM_B, todos)
		self.assertNotIn(CSM_A, todos)
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "csm"), CSM_B)
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", mine.name, "assigned_to"), CSM_B)
		self.assertEqual(open_todos("Success Plan Milestone", mine.name), {CSM_B})
		# a colleague's milestone stays hers
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", given.name, "assigned_to"), COLLEAGUE)
		self.assertEqual(open_todos("Success Plan Milestone", given.name), {COLLEAGUE})
		self.assertIn(CSM_B, frappe.db.get_value("Success Plan Milestone", mine.name, "_assign"))
		self.assertEqual(frappe.db.get_value("Customer Touchpoint", self.touchpoint, "assigned_to"), CSM_B)
		self.assertEqual(open_todos("Customer Touchpoint", self.touchpoint), {CSM_B})
		self.assertEqual(frappe.db.get_value("Business Review", self.review, "csm"), CSM_B)

	def test_a_customer_moved_on_its_form_takes_the_old_csms_open_work(self):
		work = self.make_work()
		customer = frappe.get_doc("Customer", work[0])
		customer.cs_owner = CSM_B
		customer.save(ignore_permissions=True)
		self.assert_moved(*work)

	def test_a_customer_merged_into_another_books_customer_brings_its_work_to_that_csm(self):
		from customer_success.renewals.service import reconcile_revenue_rollup
		from customer_success.tests.utils import make_sales_invoice

		work = self.make_work()
		merged = work[0]
		make_sales_invoice(merged, rate=15000)
		kept = make_customer(cs_owner=CSM_B).name
		make_success_plan(kept, csm=CSM_B)  # the kept customer's own running plan
		reconcile_revenue_rollup()  # the roll-up as the ledger stands before the merge
		frappe.rename_doc("Customer", merged, kept, merge=True, force=True)
		self.assert_moved(kept, *work[1:])
		# the CSM Workload's revenue roll-up moved with the invoices: nothing left to correct
		self.assertEqual(reconcile_revenue_rollup()["corrected"], 0)
		# two running plans now: the customer's timeline says so
		note = frappe.db.get_value(
			"Comment",
			{"reference_doctype": "Customer", "reference_name": kept, "comment_type": "Info"},
			"content",
			order_by="creation desc",
		)
		self.assertIn(work[2].name, note)

	def test_a_handoff_move_takes_it_too(self):
		from customer_success.handoff.service import move_customer

		work = self.make_work()
		move_customer(work[0], {"cs_owner": CSM_B})
		self.assert_moved(*work)

	def test_no_new_csm_leaves_the_work_where_it_is(self):
		customer, _alert, plan, mine, _given = self.make_work()
		doc = frappe.get_doc("Customer", customer)
		doc.cs_owner = None
		doc.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "csm"), CSM_A)
		self.assertEqual(open_todos("Success Plan Milestone", mine.name), {CSM_A})


class TestFirstCSM(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def setUp(self):
		frappe.local.flags.pop("cs_alert_cache", None)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.local.flags.pop("cs_alert_cache", None)
		frappe.db.rollback()

	def test_a_customers_first_csm_takes_up_the_alerts_raised_before(self):
		from customer_success.alerts import service as alerts
		from customer_success.alerts.test_alerts import only_rule, set_health

		customer = make_customer().name  # no CSM: the night gives its alerts to a CS Manager
		only_rule("Health Turned Red")
		set_health(customer, "Red", 30)
		with change_settings(create_todos=1):
			alerts.evaluate_customer(customer)
			name = frappe.db.get_value("CS Alert", {"customer": customer})
			manager = alerts.any_cs_manager()
			alert = frappe.get_doc("CS Alert", name)
			self.assertEqual(alert.assigned_to, manager)
			roles = {t.name: t.assign_role for t in alert.tasks}
			self.assertIn("CSM", roles.values())
			doc = frappe.get_doc("Customer", customer)
			doc.cs_owner = CSM_A
			doc.save(ignore_permissions=True)
		alert.reload()
		self.assertEqual((alert.assigned_to, alert.csm), (CSM_A, CSM_A))
		for task in alert.tasks:
			expected = CSM_A if task.assign_role == "CSM" else manager
			self.assertEqual(task.assigned_to, expected, task.title)
			self.assertEqual(
				frappe.db.get_value("ToDo", task.todo, ["allocated_to", "status"]), (expected, "Open")
			)
		self.assertIn(CSM_A, open_todos("CS Alert", name))


class TestMilestoneOwners(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], COLLEAGUE: [CSM_ROLE]})

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_a_new_owner_takes_the_todo_and_a_colleague_given_it_can_mark_it_done(self):
		plan = make_success_plan(make_customer(cs_owner=CSM_A).name, csm=CSM_A)
		with change_settings(create_todos=1):
			milestone = make_milestone(plan, add_days(nowdate(), 10), title="Kick-off", assigned_to=CSM_A)
			self.assertEqual(open_todos(milestone.doctype, milestone.name), {CSM_A})
			milestone.reload()
			milestone.assigned_to = COLLEAGUE
			milestone.save(ignore_permissions=True)
		self.assertEqual(open_todos(milestone.doctype, milestone.name), {COLLEAGUE})
		frappe.set_user(COLLEAGUE)
		doc = frappe.get_doc("Success Plan Milestone", milestone.name)
		doc.status = "Done"
		doc.completed_on = nowdate()
		doc.save()
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", milestone.name, "status"), "Done")
		# but not another milestone of that plan, and not by naming herself its owner
		with change_settings(create_todos=0):
			frappe.set_user("Administrator")
			other = make_milestone(plan, add_days(nowdate(), 10), title="Other", assigned_to=CSM_A)
		frappe.set_user(COLLEAGUE)
		other = frappe.get_doc("Success Plan Milestone", other.name)  # (no flags of the insert)
		other.assigned_to = COLLEAGUE
		with self.assertRaises(frappe.PermissionError):
			other.save()
