"""A report's filter it cannot read stops it with a message naming the filter, never showing what
was typed as markup and never failing the request (found by sending every report's filters
malformed over HTTP): dates no parser reads, a tier, stage or CSM that is none, a company that does
not exist, a row count that is no number. And the workspace's counts and the milestone calendar
refuse what they cannot read with a message too."""

import json

import frappe
from frappe.desk.query_report import run
from frappe.tests.utils import FrappeTestCase

from customer_success.constants import CS_MANAGER_ROLE
from customer_success.customer_success import api
from customer_success.tests.utils import make_user

MANAGER = "cs-report-filters-manager@example.com"
MARKUP = "<img src=x onerror=alert(1)>"
OVERFLOWING = "99999999999999999999"

# report: its date filters
DATE_FILTERS = {
	"CSM Workload": ("from_date", "to_date"),
	"Customer Health": ("renewal_from", "renewal_to"),
	"Health Backtest": ("from_date", "to_date"),
	"Health Trend": ("from_date", "to_date"),
	"CS Maturity over Time": ("from_date", "to_date"),
	"Renewal Forecast": ("from_date", "to_date"),
	"Revenue Retention": ("from_date", "to_date"),
	"Revenue Leakage": ("from_date", "to_date"),
	"Segment Performance": ("as_of",),
	"Success Plan Progress": ("from_date", "to_date"),
	"NPS Trend": ("from_date", "to_date"),
}
# the reports of a book's customers, filtered by CSM, tier and lifecycle stage
CUSTOMER_FILTERS = {
	"Customer Health": ("csm", "tier", "lifecycle_stage"),
	"Health Trend": ("csm", "tier", "lifecycle_stage"),
	"Health Backtest": ("csm", "tier", "lifecycle_stage"),
	"CSM Workload": ("csm", "tier", "lifecycle_stage"),
	"Success Plan Progress": ("csm", "tier", "lifecycle_stage"),
	"NPS Trend": ("csm", "tier"),
	"Renewal Forecast": ("csm", "tier", "lifecycle_stage"),
}


class TestReportFilters(FrappeTestCase):
	def setUp(self):
		make_user(MANAGER, [CS_MANAGER_ROLE])
		frappe.set_user(MANAGER)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def assert_refused(self, report: str, filters: dict, names: str | None = None):
		frappe.clear_messages()
		with self.assertRaises(frappe.ValidationError, msg=f"{report} {filters}") as refused:
			run(report, filters=json.dumps(filters))
		message = str(refused.exception)
		self.assertNotIn("<img", message, f"{report} {filters}")
		if names:
			self.assertIn(names, message, f"{report} {filters}")
		return message

	def test_dates_no_parser_reads(self):
		labels = {"as_of": "As Of", "renewal_from": "Renewal From", "renewal_to": "Renewal To"}
		# the reports whose filters name their range otherwise (as the report's filters show it)
		labels_of = {
			"CSM Workload": {"from_date": "Revenue From", "to_date": "Revenue To"},
			"Success Plan Progress": {"from_date": "Running From", "to_date": "Running To"},
		}
		for report, fields in DATE_FILTERS.items():
			for field in fields:
				label = (
					labels_of.get(report, {}).get(field)
					or labels.get(field)
					or field.replace("_", " ").title()
				)
				for text in (MARKUP, OVERFLOWING, "2026-13-45"):
					with self.subTest(report=report, field=field, text=text):
						self.assert_refused(report, {field: text}, f"{label} is not a valid date")
		# a date as the desk sends it still reads
		for report, fields in DATE_FILTERS.items():
			with self.subTest(report=report):
				run(report, filters=json.dumps(dict.fromkeys(fields, "2026-06-30")))

	def test_a_tier_stage_or_csm_that_is_none(self):
		values = {
			"tier": ("Platinum", "CS Tier must be one of"),
			"lifecycle_stage": ("Zombie", "Lifecycle Stage must be one of"),
			"csm": (f"nobody {MARKUP}@example.com", "does not exist"),
		}
		for report, fields in CUSTOMER_FILTERS.items():
			for field in fields:
				value, message = values[field]
				with self.subTest(report=report, field=field):
					self.assert_refused(report, {field: value}, message)
		# the ones that are still read: an empty report is the answer then
		for report in CUSTOMER_FILTERS:
			with self.subTest(report=report):
				run(report, filters=json.dumps({"tier": "Strategic", "lifecycle_stage": "Adoption"}))

	def test_each_reports_own_filters(self):
		self.assert_refused("Customer Health", {"status": "Purple"}, "Health Status must be one of")
		for rows in ("abc", "-1", "2.5", OVERFLOWING):
			with self.subTest(rows=rows):
				self.assert_refused("Customer Health", {"rows": rows}, "Rows must be a whole number")
		self.assertIsNotNone(run("Customer Health", filters=json.dumps({"rows": "0"})))
		self.assert_refused("Segment Performance", {"company": f"Nope {MARKUP}"}, "does not exist")
		message = self.assert_refused("Success Plan Progress", {"status": MARKUP}, "Status must be one of")
		self.assertNotIn("onerror", message)


class TestWorkspaceAndCalendarArguments(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_a_count_on_a_field_the_doctype_lacks(self):
		with self.assertRaisesRegex(frappe.ValidationError, "A count must be a doctype and its filters"):
			api.workspace_widgets(counts=json.dumps([json.dumps(["Customer", {"nonexistent": 1}])]))

	def test_the_calendar_without_a_field_map(self):
		with self.assertRaisesRegex(frappe.ValidationError, "field map"):
			api.milestone_events("Success Plan Milestone", "2026-01-01", "2026-12-31")
