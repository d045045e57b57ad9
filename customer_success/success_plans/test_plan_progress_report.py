"""Success Plan Progress against hand-computed figures on real plans, milestones and check-ins, per role."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.tests.utils import make_customer, make_shared_users, make_success_plan

CSM_A = "reports-csm-a@example.com"
CSM_B = "reports-csm-b@example.com"
MANAGER = "reports-manager@example.com"
REPORT = "Success Plan Progress"


def rows_of(user: str, **filters) -> list[dict]:
	from frappe.desk.query_report import run

	frappe.set_user(user)
	try:
		return run(REPORT, filters=filters)["result"]
	finally:
		frappe.set_user("Administrator")


def milestone(plan, due, status="Not Started", **fields):
	return frappe.get_doc(
		{
			"doctype": "Success Plan Milestone",
			"success_plan": plan.name,
			"title": "Step",
			"due_date": due,
			"status": status,
			**fields,
		}
	).insert(ignore_permissions=True)


class TestSuccessPlanProgressReport(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def setUp(self):
		today = getdate(nowdate())
		self.customer = make_customer(
			cs_owner=CSM_A, cs_tier="Enterprise", cs_lifecycle_stage="Onboarding"
		).name
		self.plan = make_success_plan(
			self.customer,
			start_date=add_days(today, -60),
			end_date=add_days(today, 120),
			objectives=[
				# 35 of 10 -> 60: 50 %
				{"objective": "Adoption", "direction": "Up", "baseline": 10, "target": 60, "current": 35},
				# reached: 100 %
				{"objective": "Tickets", "direction": "Down", "baseline": 40, "target": 10, "current": 10},
			],
		)
		milestone(self.plan, add_days(today, -30), "Done", completed_on=add_days(today, -31))
		milestone(self.plan, add_days(today, -20))  # open and past due: overdue
		milestone(self.plan, add_days(today, -10), "Overdue")  # marked by the nightly job
		milestone(self.plan, add_days(today, -5), "Skipped")  # not counted at all
		milestone(self.plan, add_days(today, 10), "In Progress")  # not due yet
		self.checkin = frappe.get_doc(
			{
				"doctype": "Success Plan Check-in",
				"success_plan": self.plan.name,
				"due_date": add_days(today, -3),
				"status": "Due",
			}
		).insert(ignore_permissions=True)
		self.other = make_success_plan(make_customer(cs_owner=CSM_B, cs_tier="SMB").name)

	def test_plan_row_by_hand(self):
		rows = rows_of(CSM_A)
		self.assertEqual([r["plan"] for r in rows], [self.plan.name])
		row = rows[0]
		self.assertEqual(row["progress"], 75.0)  # (50 + 100) / 2
		self.assertEqual((row["objectives"], row["objectives_achieved"]), (2, 1))
		self.assertEqual((row["milestones"], row["milestones_done"], row["milestones_overdue"]), (4, 1, 2))
		self.assertEqual(getdate(row["next_checkin"]), add_days(getdate(nowdate()), -3))
		self.assertEqual(row["checkin_overdue"], 1)
		self.assertEqual(
			(row["customer"], row["csm"], row["tier"], row["lifecycle_stage"]),
			(self.customer, CSM_A, "Enterprise", "Onboarding"),
		)

	def test_filters(self):
		today = getdate(nowdate())
		self.assertEqual(len(rows_of(MANAGER, csm=CSM_A, status="Draft")), 1)
		self.assertEqual(rows_of(MANAGER, csm=CSM_A, status="Active"), [])
		self.assertEqual(rows_of(MANAGER, csm=CSM_A, tier="SMB"), [])
		self.assertEqual(rows_of(MANAGER, csm=CSM_A, lifecycle_stage="Adoption"), [])
		# running in the period: the plan runs from -60 to +120 days
		self.assertEqual(
			len(rows_of(MANAGER, csm=CSM_A, from_date=add_days(today, 100), to_date=add_days(today, 200))), 1
		)
		self.assertEqual(
			rows_of(MANAGER, csm=CSM_A, from_date=add_days(today, 121), to_date=add_days(today, 200)), []
		)
		self.assertRaises(frappe.ValidationError, rows_of, MANAGER, status="Nonsense")

	def test_book_limits(self):
		self.assertEqual(rows_of(CSM_A, csm=CSM_B), [])
		self.assertEqual(
			[r["plan"] for r in rows_of(CSM_B) if r["plan"] in (self.plan.name, self.other.name)],
			[self.other.name],
		)
		team = {r["plan"] for r in rows_of(MANAGER)}
		self.assertTrue({self.plan.name, self.other.name} <= team)
