"""The fiscal years the demo and the test factories make for their back-dated documents follow the
site's own: a site whose years begin in April (as ERPNext's setup makes them in India, the United
Kingdom, Japan...) gets April years, and no year is ever made over one that exists."""

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate

from customer_success.tests.utils import default_company
from customer_success.utils import ensure_fiscal_years, fiscal_year_start, holds_fiscal_year

LABEL = "CS Test Fiscal"


class TestFiscalYearsOfTheSitesShape(FrappeTestCase):
	def setUp(self):
		self.company = default_company()
		self.made: list[str] = []

	def tearDown(self):
		for name in self.made:
			frappe.delete_doc("Fiscal Year", name, force=True, ignore_permissions=True)

	def ensure(self, first, last, starts_on: str) -> list[tuple[str, str, str]]:
		"""`ensure_fiscal_years` on a site whose years begin as `starts_on` does."""
		with patch("customer_success.utils.fiscal_year_start", return_value=getdate(starts_on)):
			made = ensure_fiscal_years(first, last, self.company, LABEL)
		self.made += [year.name for year in made]
		return [(year.year, str(year.year_start_date), str(year.year_end_date)) for year in made]

	def assert_no_year_holds(self, *days):
		held = [day for day in days if holds_fiscal_year(day, self.company)]
		if held:
			self.skipTest(f"this site has fiscal years holding {held} already")

	def test_a_site_whose_years_begin_in_april_gets_april_years(self):
		self.assert_no_year_holds("1961-04-01", "1962-12-31", "1963-03-31")
		self.assertEqual(
			self.ensure("1961-06-30", "1962-12-31", starts_on="2026-04-01"),
			[("1961-1962", "1961-04-01", "1962-03-31"), ("1962-1963", "1962-04-01", "1963-03-31")],
		)
		for day in ("1961-04-01", "1961-06-30", "1962-12-31", "1963-03-31"):
			self.assertTrue(holds_fiscal_year(day, self.company), day)
		# a second time, every day is held: nothing is made
		self.assertEqual(self.ensure("1961-06-30", "1962-12-31", starts_on="2026-04-01"), [])

	def test_a_calendar_year_site_gets_calendar_years(self):
		self.assert_no_year_holds("1971-01-01", "1972-12-31")
		self.assertEqual(
			self.ensure("1971-03-01", "1972-12-31", starts_on="2026-01-01"),
			[("1971", "1971-01-01", "1971-12-31"), ("1972", "1972-01-01", "1972-12-31")],
		)

	def test_a_year_that_would_overlap_one_that_exists_is_not_made(self):
		self.assert_no_year_holds("1981-01-01", "1982-03-31")
		# a calendar year exists; April years would overlap it: none is made, and nothing fails
		self.assertEqual(
			self.ensure("1981-01-01", "1981-12-31", starts_on="2026-01-01"),
			[("1981", "1981-01-01", "1981-12-31")],
		)
		self.assertEqual(self.ensure("1981-05-01", "1981-12-31", starts_on="2026-04-01"), [])

	def test_the_sites_shape_is_read_from_its_year_holding_today(self):
		start = fiscal_year_start(self.company)
		self.assertTrue(holds_fiscal_year(start, self.company))
		self.assertLessEqual(start, getdate())
