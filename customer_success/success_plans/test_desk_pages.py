"""What a CSM reads on the plan and business review pages: no version-log noise, no health of 0."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.success_plans.test_success_plans import agree
from customer_success.tests.utils import make_customer, make_success_plan


def latest_changes(doctype: str, name: str) -> dict:
	version = frappe.get_all(
		"Version",
		filters={"ref_doctype": doctype, "docname": name},
		fields=["data"],
		order_by="creation desc",
		limit=1,
	)
	return json.loads(version[0].data) if version else {}


class TestPlanVersionLog(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_saving_a_plan_again_records_only_what_changed(self):
		plan = make_success_plan(make_customer().name)
		plan.status = "Draft"
		plan.title = "Renamed"  # one real change, so a version is written
		plan.save(ignore_permissions=True)
		changes = latest_changes("Success Plan", plan.name)
		changed = {row[0]: (row[1], row[2]) for row in changes.get("changed", [])}
		self.assertNotIn("milestones_total", changed, changed)
		self.assertNotIn("time_to_first_value", changed, changed)
		self.assertEqual(changes.get("row_changed", []), [], changes.get("row_changed"))
		self.assertEqual(plan.objectives[0].weight, 1)  # an unset weight takes its default


class TestBusinessReviewHealth(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def _score(self, customer: str, day, score: float, status: str):
		frappe.get_doc(
			{
				"doctype": "Customer Health Score",
				"customer": customer,
				"score_date": day,
				"score": score,
				"computed_score": score,
				"status": status,
				"computed_status": status,
				"explanation": "[]",
			}
		).insert(ignore_permissions=True)

	def _review(self, customer: str, plan: str, start, end):
		return frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": customer,
				"success_plan": plan,
				"period_start": start,
				"period_end": end,
			}
		).insert(ignore_permissions=True)

	def test_health_comes_from_the_score_history(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -120))
		agree(plan)
		start, end = getdate(add_days(nowdate(), -90)), getdate(nowdate())
		self._score(customer, add_days(start, -3), 61.0, "Yellow")
		self._score(customer, end, 86.5, "Green")
		review = self._review(customer, plan.name, start, end)
		self.assertEqual(review.health_start, 61.0)
		self.assertEqual(review.health_start_status, "Yellow")
		self.assertEqual(review.health_end, 86.5)
		self.assertEqual(review.health_status, "Green")
		self.assertEqual(review.health_trend, 25.5)

	def test_no_score_at_the_start_is_no_health_not_zero(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -120))
		agree(plan)
		self._score(customer, nowdate(), 86.5, "Green")
		review = self._review(customer, plan.name, add_days(nowdate(), -90), nowdate())
		self.assertFalse(review.health_start_status)  # the form and print show a dash
		self.assertEqual(review.health_trend, 0)
		self.assertEqual(review.health_end, 86.5)
		html = frappe.get_print("Business Review", review.name, "Business Review", doc=review)
		self.assertIn("86.5", html)  # the end score, printed
		self.assertNotIn("+86.5", html)  # no trend from a start that had no score
		# a pasted image (a broken link fails wkhtmltopdf's whole PDF) is left out, as in the plan's
		review.highlights = '<p>Go-live done.</p><p><img src="x" onerror="alert(1)"></p>'
		html = frappe.get_print("Business Review", review.name, "Business Review", doc=review)
		self.assertIn("Go-live done.", html)
		self.assertNotIn('<img src="x"', html)
		self.assertNotIn("onerror", html)


class TestPortalMenu(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_a_customers_contact_finds_the_plans_in_the_portal_menu(self):
		from frappe.website.doctype.portal_settings.portal_settings import PortalSettings

		settings = frappe.get_single("Portal Settings")
		PortalSettings.sync_menu(settings)
		routes = {row.route: row for row in frappe.get_single("Portal Settings").menu}
		self.assertIn("/success-plans", routes)
		self.assertEqual(routes["/success-plans"].role, "Customer")
		self.assertTrue(routes["/success-plans"].enabled)
