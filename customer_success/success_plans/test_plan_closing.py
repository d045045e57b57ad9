"""A plan's CSM, a Closed plan's figures, its milestones' ToDos, check-ins on plans that run, a
business review's period, objectives weighted 0."""

import frappe
from frappe.utils import add_days, nowdate

from customer_success.success_plans.test_success_plans import (
	CS_MANAGER,
	CSM1,
	CSM2,
	PlansTestCase,
	agree,
	make_milestone,
	today,
)
from customer_success.tests.utils import make_customer, make_success_plan, make_user

WEBSITE_USER = "cs-plans-website-user@example.com"
ACCOUNTS_USER = "cs-plans-accounts@example.com"


def open_todos(doctype, name):
	return frappe.get_all(
		"ToDo", filters={"reference_type": doctype, "reference_name": name, "status": "Open"}, pluck="name"
	)


def new_checkin(plan):
	return frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name}).insert()


class TestPlanCsm(PlansTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_user(ACCOUNTS_USER, ["Accounts User"])
		make_user(WEBSITE_USER, [])  # no desk role: a website user
		frappe.db.commit()  # nosemgrep: users shared by the tests below

	def test_a_csm_names_only_the_customers_cs_owner(self):
		customer = make_customer(cs_owner=CSM1).name
		frappe.set_user(CSM1)
		with self.assertRaisesRegex(frappe.PermissionError, "only a CS Manager can name another"):
			frappe.get_doc(
				{"doctype": "Success Plan", "customer": customer, "csm": CSM2, "start_date": nowdate()}
			).insert()
		plan = frappe.get_doc(
			{"doctype": "Success Plan", "customer": customer, "csm": CSM1, "start_date": nowdate()}
		).insert()
		plan.csm = CSM2
		with self.assertRaises(frappe.PermissionError):
			plan.save()
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "csm"), CSM1)
		# a CS Manager names another CSM
		frappe.set_user(CS_MANAGER)
		plan = frappe.get_doc("Success Plan", plan.name)
		plan.csm = CSM2
		plan.save()
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "csm"), CSM2)

	def test_nobody_names_a_user_who_cannot_work_a_book(self):
		customer = make_customer(cs_owner=CSM1).name
		for user in (WEBSITE_USER, ACCOUNTS_USER, "Guest"):
			frappe.set_user(CS_MANAGER)
			with self.assertRaisesRegex(frappe.ValidationError, "cannot be the CSM"):
				frappe.get_doc(
					{"doctype": "Success Plan", "customer": customer, "csm": user, "start_date": nowdate()}
				).insert()
		self.assertFalse(frappe.db.exists("Success Plan", {"customer": customer}))

	def test_a_stored_csm_who_lost_the_role_holds_no_save_up(self):
		plan = make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1)
		plan.db_set("csm", ACCOUNTS_USER)
		plan.reload()
		plan.motivation = "<p>Still going.</p>"
		plan.save()


class TestClosedPlan(PlansTestCase):
	def closed_plan(self):
		plan = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		plan.status = "Closed"
		plan.save()
		return frappe.get_doc("Success Plan", plan.name)

	def test_a_closed_plan_keeps_its_figures(self):
		plan = self.closed_plan()
		progress = plan.progress
		plan.objectives[0].current = 60
		with self.assertRaisesRegex(frappe.ValidationError, "is Closed"):
			plan.save()
		plan.reload()
		plan.motivation = "<p>rewritten</p>"
		with self.assertRaisesRegex(frappe.ValidationError, "is Closed"):
			plan.save()
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "progress"), progress)
		# its sharing with the customer still changes
		plan.reload()
		plan.share_with_customer = 1
		plan.save()
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "share_with_customer"), 1)

	def test_no_check_in_on_a_closed_plan(self):
		plan = self.closed_plan()
		frappe.set_user(CSM1)
		with self.assertRaisesRegex(frappe.ValidationError, "takes no more check-ins"):
			frappe.get_doc("Success Plan", plan.name).make_checkin()
		frappe.set_user("Administrator")
		with self.assertRaisesRegex(frappe.ValidationError, "takes no more check-ins"):
			new_checkin(plan)
		self.assertFalse(frappe.db.exists("Success Plan Check-in", {"success_plan": plan.name}))

	def test_a_check_in_of_a_plan_closed_since_neither_completes_nor_cancels(self):
		plan = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		done = new_checkin(plan)
		done.objectives[0].current_value = 50
		done.checkin_date = today()
		done.submit()
		pending = new_checkin(plan)
		plan.reload()
		progress = plan.progress
		plan.status = "Closed"
		plan.save()
		pending.reload()
		pending.objectives[0].current_value = 60
		pending.checkin_date = today()
		with self.assertRaisesRegex(frappe.ValidationError, "is Closed"):
			pending.submit()
		done.reload()
		with self.assertRaisesRegex(frappe.ValidationError, "is Closed"):
			done.cancel()
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "progress"), progress)
		self.assertEqual(frappe.db.get_value("Success Plan Check-in", done.name, "docstatus"), 1)
		# the form learns it as it loads (it then offers neither Submit nor Cancel)
		for checkin in (pending, done):
			checkin = frappe.get_doc("Success Plan Check-in", checkin.name)
			checkin.run_method("onload")
			self.assertTrue(checkin.get_onload().plan_closed)
		open_plan = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		checkin = new_checkin(open_plan)
		checkin.run_method("onload")
		self.assertFalse(checkin.get_onload().plan_closed)

	def test_closing_cancels_its_milestones_todos(self):
		plan = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		first = make_milestone(plan, add_days(today(), 10), assigned_to=CSM1)
		second = make_milestone(plan, add_days(today(), 20), assigned_to=CSM1, title="Second")
		self.assertTrue(open_todos(first.doctype, first.name))
		other = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		kept = make_milestone(other, add_days(today(), 10), assigned_to=CSM1)
		# a check-in due, on its CSM's list (tester K3: closing left its ToDo there)
		from customer_success.utils import assign

		checkin = new_checkin(plan)
		assign(checkin.doctype, checkin.name, CSM1, "Check-in due")
		self.assertTrue(open_todos(checkin.doctype, checkin.name))
		plan.reload()
		plan.status = "Closed"
		plan.save()
		self.assertEqual(open_todos(checkin.doctype, checkin.name), [])
		self.assertEqual(frappe.db.get_value(checkin.doctype, checkin.name, "plan_status"), "Closed")
		for milestone in (first, second):
			self.assertEqual(open_todos(milestone.doctype, milestone.name), [])
			self.assertTrue(
				frappe.db.exists(
					"ToDo",
					{
						"reference_type": milestone.doctype,
						"reference_name": milestone.name,
						"status": "Cancelled",
					},
				)
			)
			self.assertIn(frappe.db.get_value(milestone.doctype, milestone.name, "_assign"), (None, "", "[]"))
		self.assertTrue(open_todos(kept.doctype, kept.name))  # another plan's are left alone


class TestClosedPlanMilestones(PlansTestCase):
	def test_a_closed_plans_milestones_stay_as_they_were(self):
		plan = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		done = make_milestone(plan, add_days(today(), 5), assigned_to=CSM1)
		done.reload()
		done.status, done.completed_on = "Done", today()
		done.save()
		make_milestone(plan, add_days(today(), 10), assigned_to=CSM1, title="Later")
		plan.reload()
		plan.status = "Closed"
		plan.save()
		figures = frappe.db.get_value(
			"Success Plan", plan.name, ["milestones_done", "milestones_total"], as_dict=True
		)
		frappe.set_user(CSM1)
		milestone = frappe.get_doc("Success Plan Milestone", done.name)
		milestone.status, milestone.completed_on = "Not Started", None
		with self.assertRaisesRegex(frappe.ValidationError, "its milestones stay as they were"):
			milestone.save()
		with self.assertRaisesRegex(frappe.ValidationError, "takes no new milestones"):
			make_milestone(plan, add_days(today(), 20), assigned_to=CSM1, title="Another")
		self.assertEqual(
			frappe.db.get_value(
				"Success Plan", plan.name, ["milestones_done", "milestones_total"], as_dict=True
			),
			figures,
		)
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", done.name, "status"), "Done")


class TestWeightsAndReviews(PlansTestCase):
	def test_an_objective_weighted_zero_is_not_counted(self):
		row = {"unit": "%", "direction": "Up", "baseline": 0, "target": 10}
		plan = make_success_plan(
			make_customer(cs_owner=CSM1).name,
			csm=CSM1,
			objectives=[
				{**row, "objective": "Counted", "current": 10, "weight": 1},
				{**row, "objective": "Followed", "current": 0, "weight": 0},
				{**row, "objective": "Followed too", "current": 0, "weight": 0},
			],
		)
		self.assertEqual(plan.progress, 100)

	def test_a_business_review_looks_back_on_an_ended_period(self):
		plan = agree(make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1), "Active")
		frappe.set_user(CSM1)
		with self.assertRaisesRegex(frappe.ValidationError, "is after today"):
			frappe.get_doc("Success Plan", plan.name).make_business_review(
				period_start=str(today()), period_end=str(add_days(today(), 30))
			)
		self.assertFalse(frappe.db.exists("Business Review", {"success_plan": plan.name}))
		name = frappe.get_doc("Success Plan", plan.name).make_business_review(period_end=str(today()))
		self.assertTrue(frappe.db.exists("Business Review", name))
