"""The Health Trend roll-up (cs_health_trend, with its change log) against a fresh computation from the
score history: refreshed set-based, made stale by every write (and by pruning) so the report never
shows a stale period, safe against a write that comes while a refresh reads, and the report's figures
unchanged."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.health import engine, queries
from customer_success.health import service as health
from customer_success.health.test_health_reports import add_score, rows_of
from customer_success.tests.utils import make_customer, make_shared_users

CSM_A = "reports-csm-a@example.com"
MANAGER = "reports-manager@example.com"


def live(since, until, period):
	return [dict(row) for row in queries.history_by_period(None, since, until, period)]


def rolled(since, until, period):
	return [dict(row) for row in health.book_history_by_period(since, until, period)]


def same(testcase, since, until, period):
	"""Rolled and live rows are the same rows, figure by figure (the average to its decimals)."""
	expected, found = live(since, until, period), rolled(since, until, period)
	testcase.assertEqual(len(found), len(expected), (since, until, period))
	for want, got in zip(expected, found, strict=True):
		testcase.assertEqual(str(got["period"]), str(want["period"]))
		testcase.assertEqual(getdate(got["period_end"]), getdate(want["period_end"]))
		for field in ("customers", "green", "yellow", "red", "no_colour"):
			testcase.assertEqual(int(got[field] or 0), int(want[field] or 0), field)
		if want["average_score"] is None:
			testcase.assertIsNone(got["average_score"])
		else:
			testcase.assertAlmostEqual(float(got["average_score"]), float(want["average_score"]), places=9)


class TestHealthTrendRollup(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def setUp(self):
		# The history ends on the last day of the month before this one: the report's last month
		# then holds the latest scores of both customers (the 2nd of a month would otherwise start
		# a month holding only yesterday's row), whatever the calendar says today.
		self.today = getdate(nowdate())
		self.day = add_days(self.today.replace(day=1), -1)
		self.a = make_customer(cs_owner=CSM_A).name
		self.b = make_customer(cs_owner=CSM_A).name
		for day, score_a, score_b in (
			(-70, 30.0, 80.0),
			(-40, 55.0, 20.0),
			(-9, 61.0, 90.0),
			(-2, 75.0, 35.0),
		):
			add_score(self.a, add_days(self.day, day), score_a, "Red" if score_a < 40 else "Yellow")
			add_score(self.b, add_days(self.day, day), score_b, "Green" if score_b > 70 else "Red")
		add_score(self.b, add_days(self.day, -1), 50.0, "Insufficient Data")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def ranges(self):
		return [
			(add_days(self.day, -100), self.day, "Month"),
			(add_days(self.day, -100), self.day, "Week"),
			(add_days(self.day, -45), add_days(self.day, -5), "Week"),  # edges cut through periods
			(add_days(self.day, -45), add_days(self.day, -5), "Month"),
		]

	def test_the_refreshed_rollup_equals_the_history(self):
		health.refresh_trend_rollup()
		keys = engine.trend_periods_of({add_days(self.day, d) for d in (-70, -40, -9, -2, -1)})
		stored = queries.trend_rollup_rows(sorted(keys))
		self.assertEqual(set(stored), keys)
		self.assertFalse(any(row.stale for row in stored.values()))
		for since, until, period in self.ranges():
			same(self, since, until, period)
		self.assertEqual(health.refresh_trend_rollup()["refreshed"], 0)  # idempotent: nothing left to do

	def test_a_write_marks_its_periods_and_the_report_stays_exact(self):
		health.refresh_trend_rollup()
		add_score(self.a, self.day, 12.0, "Red")  # after the refresh
		keys = engine.trend_periods_of({self.day})
		self.assertTrue(all(row.stale for row in queries.trend_rollup_rows(sorted(keys)).values()))
		for since, until, period in self.ranges():
			same(self, since, until, period)
		self.assertEqual(health.refresh_trend_rollup()["refreshed"], len(keys))
		self.assertFalse(any(row.stale for row in queries.trend_rollup_rows(sorted(keys)).values()))
		for since, until, period in self.ranges():
			same(self, since, until, period)

	def test_a_csms_recompute_queues_the_refresh_of_what_it_made_stale(self):
		"""A score written outside a health run (the form's recompute) queues the roll-up's refresh,
		so the team's trend is read live only until that job has run, not until the night."""
		from unittest.mock import patch

		with patch.object(health, "queue_trend_refresh") as queued:
			health.recompute_customer(self.a)  # in a test: the tests refresh for themselves
			queued.assert_not_called()
			frappe.flags.in_test = False  # as on a site
			try:
				health.recompute_customer(self.a)
			finally:
				frappe.flags.in_test = True
			queued.assert_called_once_with()
		keys = engine.trend_periods_of({self.today})  # the recompute scores today
		self.assertTrue(all(row.stale for row in queries.trend_rollup_rows(sorted(keys)).values()))
		health.refresh_trend_rollup()  # what the queued job runs
		self.assertFalse(any(row.stale for row in queries.trend_rollup_rows(sorted(keys)).values()))
		for since, until, period in self.ranges():
			same(self, since, until, period)

	def test_a_write_during_a_refresh_keeps_the_period_stale(self):
		health.refresh_trend_rollup()
		key = ("Month", engine.trend_period_key(self.day, "Month"))
		add_score(self.a, self.day, 12.0, "Red")
		read_version = queries.trend_version(key)  # the refresh reads ...
		start, end = health.trend_key_bounds(*key)
		figures = queries.period_aggregate(start, end)
		add_score(self.b, self.day, 99.0, "Green")  # ... a score comes meanwhile ...
		queries.write_trend_period(key, figures, read_version)  # ... and its write is refused
		self.assertTrue(queries.trend_rollup_rows([key])[key].stale)
		same(self, start, end, "Month")

	def test_pruning_marks_what_it_removes(self):
		health.refresh_trend_rollup()
		health.prune_history(self.day, retention_days=30)
		old = engine.trend_periods_of({add_days(self.day, -70), add_days(self.day, -40)})
		stored = queries.trend_rollup_rows(sorted(old))
		self.assertTrue(any(row.stale for row in stored.values()))
		for since, until, period in self.ranges():
			same(self, since, until, period)
		health.refresh_trend_rollup()
		for since, until, period in self.ranges():
			same(self, since, until, period)

	def test_the_report_as_a_manager_and_as_a_csm(self):
		health.refresh_trend_rollup()
		since = add_days(self.day, -100)
		team = rows_of("Health Trend", MANAGER, from_date=since, to_date=self.day, period="Month")
		self.assertEqual(
			[row["customers"] for row in team], [row["customers"] for row in live(since, self.day, "Month")]
		)
		book = rows_of("Health Trend", CSM_A, from_date=since, to_date=self.day, period="Month", csm=CSM_A)
		# the CSM's own book: her two customers, by their latest score this month
		self.assertEqual(book[-1]["customers"], 2)
		self.assertEqual(book[-1]["no_colour"], 1)  # b's Insufficient Data yesterday is its latest


class TestTrendPeriods(FrappeTestCase):
	def test_keys_match_the_databases_buckets(self):
		for offset in range(0, 800, 13):
			day = add_days(getdate("2025-01-01"), offset)
			week, month = frappe.db.sql(
				"select yearweek(%(d)s, 3), date_format(%(d)s, '%%Y-%%m')", {"d": day}
			)[0]
			self.assertEqual(engine.trend_period_key(day, "Week"), str(week))
			self.assertEqual(engine.trend_period_key(day, "Month"), month)
			for period in engine.TREND_PERIODS:
				start, end = health.trend_key_bounds(period, engine.trend_period_key(day, period))
				self.assertTrue(start <= day <= end)
