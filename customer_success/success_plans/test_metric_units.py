"""A metric's unit says whether it counts or measures: counts are whole numbers wherever they are
kept or shown, and the unit agrees with the number ("1 team", "2 teams", never "1.541 teams")."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, nowdate

from customer_success.success_plans import engine
from customer_success.success_plans import service as plans
from customer_success.tests.utils import make_customer, make_success_plan

OBJECTIVES = [
	{
		"objective": "Teams live",
		"unit": "teams",
		"direction": "Up",
		"baseline": 0,
		"target": 4,
		"current": 1.2,
	},
	{
		"objective": "Reports",
		"unit": "reports",
		"direction": "Up",
		"baseline": 0.4,
		"target": 5,
		"current": 2.6,
	},
	{"objective": "Adoption", "unit": "%", "direction": "Up", "baseline": 10, "target": 60, "current": 35.5},
	{
		"objective": "Handling time",
		"unit": "minutes",
		"metric_kind": "Measure",
		"direction": "Down",
		"baseline": 9,
		"target": 4,
		"current": 1,
	},
]


class TestMetricUnits(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def make_plan(self):
		return make_success_plan(
			make_customer().name,
			start_date=add_days(nowdate(), -30),
			objectives=[dict(o) for o in OBJECTIVES],
		)

	def test_a_plan_keeps_counts_whole_and_measures_as_they_are(self):
		plan = self.make_plan()
		rows = {row.objective: row for row in plan.objectives}
		self.assertEqual(rows["Teams live"].metric_kind, engine.COUNT)  # read from the unit
		self.assertEqual(rows["Teams live"].current, 1)
		self.assertEqual((rows["Reports"].baseline, rows["Reports"].current), (0, 3))
		self.assertEqual(rows["Adoption"].metric_kind, engine.MEASURE)
		self.assertEqual(rows["Adoption"].current, 35.5)
		self.assertEqual(rows["Handling time"].metric_kind, engine.MEASURE)
		stored = frappe.db.get_value("Success Plan Objective", rows["Teams live"].name, "current")
		self.assertEqual(stored, 1)

	def test_a_count_set_by_hand_stays_a_count(self):
		plan = self.make_plan()
		row = next(r for r in plan.objectives if r.objective == "Adoption")
		row.metric_kind = engine.COUNT  # the CSM decides adoption counts users, not a share
		row.unit, row.current = "users", 35.5
		plan.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("Success Plan Objective", row.name, "current"), 36)

	def test_a_check_in_records_counts_as_whole_numbers(self):
		plan = self.make_plan()
		checkin = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name})
		checkin.insert(ignore_permissions=True)
		row = next(r for r in checkin.objectives if r.unit == "teams")
		self.assertEqual(row.metric_kind, engine.COUNT)
		row.current_value = 2.7
		checkin.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value(row.doctype, row.name, "current_value"), 3)

	def test_a_count_below_zero_is_refused_and_nothing_is_saved(self):
		plan = self.make_plan()
		row = next(r for r in plan.objectives if r.objective == "Teams live")
		row.target = -4
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be below zero: teams is a count"):
			plan.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value(row.doctype, row.name, "target"), 4)
		# a measure may go below zero (a revenue change, an NPS)
		plan.reload()
		adoption = next(r for r in plan.objectives if r.objective == "Adoption")
		adoption.baseline, adoption.target = -20, 30
		plan.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value(adoption.doctype, adoption.name, "baseline"), -20)
		# a new plan too, and a negative weight
		with self.assertRaisesRegex(frappe.ValidationError, "Teams live"):
			make_success_plan(make_customer().name, objectives=[{**OBJECTIVES[0], "baseline": -1}])
		adoption.weight = -2
		with self.assertRaisesRegex(frappe.ValidationError, "Weight cannot be below zero"):
			plan.save(ignore_permissions=True)

	def test_a_check_in_refuses_a_count_below_zero(self):
		plan = self.make_plan()
		checkin = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name})
		checkin.insert(ignore_permissions=True)
		row = next(r for r in checkin.objectives if r.unit == "teams")
		row.current_value = -3
		with self.assertRaisesRegex(frappe.ValidationError, "Current Value cannot be below zero"):
			checkin.save(ignore_permissions=True)
		self.assertNotEqual(frappe.db.get_value(row.doctype, row.name, "current_value"), -3)

	def test_a_count_stored_below_zero_earlier_holds_up_no_later_save(self):
		plan = self.make_plan()
		row = next(r for r in plan.objectives if r.objective == "Teams live")
		frappe.db.set_value(row.doctype, row.name, "baseline", -2)  # as an earlier version let it be
		plan.reload()
		plan.pain_points = "<p>still saves</p>"
		plan.save(ignore_permissions=True)
		checkin = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name})
		checkin.insert(ignore_permissions=True)
		checkin.objectives[0].current_value = 2
		checkin.save(ignore_permissions=True)

	def test_a_template_refuses_a_count_below_zero(self):
		template = frappe.get_doc(plans.TEMPLATE, "Onboarding Fast Track")
		row = next(r for r in template.objectives if r.metric_kind == engine.COUNT)
		row.default_target = -1
		with self.assertRaisesRegex(frappe.ValidationError, "cannot be below zero"):
			template.save(ignore_permissions=True)

	def test_the_template_objectives_say_what_they_count(self):
		template = frappe.get_doc(plans.TEMPLATE, "Onboarding Fast Track")
		kinds = {row.unit: row.metric_kind for row in template.objectives}
		self.assertEqual(kinds.get("processes"), engine.COUNT)
		self.assertEqual(kinds.get("%"), engine.MEASURE)

	def test_values_read_with_a_unit_that_agrees_in_number(self):
		row = frappe._dict(unit="teams", metric_kind=engine.COUNT)
		self.assertEqual(plans.cs_metric(1.541, row), "2 teams")
		self.assertEqual(plans.cs_metric(1, row), "1 team")
		self.assertEqual(plans.cs_metric(0.464, frappe._dict(unit="reports")), "0 reports")
		self.assertEqual(
			plans.cs_metric(1, frappe._dict(unit="criteria", unit_singular="criterion")), "1 criterion"
		)
		self.assertEqual(plans.cs_metric(70, frappe._dict(unit="%")), "70%")
		self.assertEqual(plans.cs_metric(1.5, frappe._dict(unit="hours")), "1.5 hours")
		self.assertEqual(plans.cs_metric(None, row), "\u2013")

	def test_print_formats_and_the_business_review_show_counts_in_whole_numbers(self):
		plan = self.make_plan()
		for print_format in ("Success Plan", plans.CUSTOMER_PRINT_FORMAT):
			html = frappe.get_print("Success Plan", plan.name, print_format)
			self.assertIn("1 team<", html)
			self.assertIn("3 reports<", html)
			self.assertIn("1 minute<", html)
			self.assertNotIn("1 teams", html)
		review = frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": plan.customer,
				"success_plan": plan.name,
				"period_start": plan.start_date,
				"period_end": nowdate(),
			}
		).insert(ignore_permissions=True)
		row = next(r for r in review.objectives if r.unit == "teams")
		self.assertEqual((row.metric_kind, row.current), (engine.COUNT, 1))
		html = frappe.get_print("Business Review", review.name, "Business Review")
		self.assertIn("1 team<", html)
		self.assertIn("4 teams<", html)
