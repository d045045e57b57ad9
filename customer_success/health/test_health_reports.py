"""The health reports (Customer Health, Health Trend, Health Backtest) against hand-computed figures on
real records, run the way the desk runs them (frappe.desk.query_report.run), per role; and the
history the backtest needs surviving the nightly pruning."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, get_datetime, getdate, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.health import engine, queries
from customer_success.health import service as health
from customer_success.tests.utils import make_contract, make_customer, make_shared_users, set_customer_fields

CSM_A = "reports-csm-a@example.com"
CSM_B = "reports-csm-b@example.com"
MANAGER = "reports-manager@example.com"


def run_report(report: str, user: str = MANAGER, **filters) -> dict:
	frappe.set_user(user)
	try:
		from frappe.desk.query_report import run

		return run(report, filters=filters)
	finally:
		frappe.set_user("Administrator")


def rows_of(report: str, user: str = MANAGER, **filters) -> list[dict]:
	return run_report(report, user, **filters)["result"]


def model_name() -> str:
	return frappe.db.get_value("Health Score Model", {"is_default": 1}, "name") or frappe.db.get_value(
		"Health Score Model", {}, "name"
	)


def factor(name, sub, effective):
	return {
		"factor_type": name,
		"raw": None,
		"sub_score": sub,
		"weight": effective,
		"effective_weight": effective,
		"contribution": None if sub is None else sub * effective / 100,
	}


def add_score(customer, day, score, status, factors=(), csm=None, computed_on=None):
	"""A stored score through the nightly job's own upsert."""
	queries.upsert_scores(
		[
			{
				"customer": customer,
				"customer_name": customer,
				"csm": csm,
				"model": model_name(),
				"score_date": getdate(day),
				"granularity": "Daily",
				"score": score,
				"status": status,
				"computed_score": score,
				"computed_status": status,
				"trend": 0,
				"explanation": json.dumps(list(factors)),
				"computed_on": get_datetime(computed_on or f"{getdate(day)} 08:00:00"),
			}
		]
	)


def book_customer(csm, tier="Mid-Market", stage="Adoption", **fields):
	return make_customer(cs_owner=csm, cs_tier=tier, cs_lifecycle_stage=stage, **fields).name


def set_current_health(customer, score, status, trend, computed_on):
	set_customer_fields(
		customer,
		{
			"cs_health_score": score,
			"cs_health_status": status,
			"cs_health_trend": trend,
			"cs_health_computed_on": get_datetime(computed_on),
		},
		update_modified=False,
	)


def open_alert(customer, rule, status="Open"):
	alert = frappe.get_doc(
		{
			"doctype": "CS Alert",
			"customer": customer,
			"rule": rule,
			"severity": "Medium",
			"status": "Open",
			"due_date": add_days(nowdate(), 5),
		}
	).insert(ignore_permissions=True)
	if status != "Open":
		frappe.db.set_value("CS Alert", alert.name, "status", status)
	return alert


class ReportTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestCustomerHealthReport(ReportTestCase):
	def setUp(self):
		today = getdate(nowdate())
		self.stamp = f"{today} 07:30:00"
		self.weak = book_customer(CSM_A, tier="Strategic")
		# lost points: support 80 x 30 % = 24, engagement 50 x 70 % = 35 -> engagement is the top
		add_score(
			self.weak,
			today,
			47.0,
			"Yellow",
			[factor(engine.SUPPORT_LOAD, 20, 30), factor(engine.ENGAGEMENT_RECENCY, 50, 70)],
			csm=CSM_A,
			computed_on=self.stamp,
		)
		set_current_health(self.weak, 47.0, "Yellow", -6.5, self.stamp)
		make_contract(self.weak, add_days(today, -335), add_days(today, 30))
		make_contract(self.weak, add_days(today, 31), add_days(today, 395))  # the renewal, signed
		rules = frappe.get_all("CS Alert Rule", pluck="name", order_by="name", limit=3)
		open_alert(self.weak, rules[0])
		open_alert(self.weak, rules[1], status="In Progress")
		open_alert(self.weak, rules[2], status="Resolved")

		self.unknown = book_customer(CSM_A)
		add_score(self.unknown, today, 62.0, "Insufficient Data", [], csm=CSM_A, computed_on=self.stamp)
		set_current_health(self.unknown, 62.0, "Insufficient Data", 0, self.stamp)

		self.other = book_customer(CSM_B, tier="SMB")
		set_current_health(self.other, 85.0, "Green", 2.0, self.stamp)

	def test_a_customer_row_by_hand(self):
		rows = {r["customer"]: r for r in rows_of("Customer Health", csm=CSM_A)}
		self.assertEqual(set(rows), {self.weak, self.unknown})
		row = rows[self.weak]
		self.assertEqual(row["score"], 47.0)
		self.assertEqual(row["status"], "Yellow")
		self.assertEqual(row["trend"], -6.5)
		self.assertEqual(row["top_negative_factor"], engine.ENGAGEMENT_RECENCY)
		self.assertEqual(row["points_lost"], 35.0)
		self.assertEqual(getdate(row["renewal_date"]), add_days(getdate(nowdate()), 395))  # the latest end
		self.assertEqual(row["open_alerts"], 2)  # Open and In Progress; the resolved one not
		self.assertEqual((row["csm"], row["tier"], row["lifecycle_stage"]), (CSM_A, "Strategic", "Adoption"))
		# a Chinese-speaking CSM reads them in her language, as on the Customer form (tester P)
		from customer_success.utils import in_language

		with in_language("zh"):
			zh = {r["customer"]: r for r in rows_of("Customer Health", csm=CSM_A)}[self.weak]
		self.assertEqual((zh["tier"], zh["lifecycle_stage"], zh["status"]), ("战略", "采用", "Yellow"))
		# no colour: no score to show, no trend, and nothing to explain
		self.assertIsNone(rows[self.unknown]["score"])
		self.assertIsNone(rows[self.unknown]["top_negative_factor"])
		self.assertIsNone(rows[self.unknown]["renewal_date"])
		self.assertEqual(rows[self.unknown]["open_alerts"], 0)

	def test_the_renewal_date_is_the_open_renewals_end(self):
		from customer_success.renewals import service as renewals

		today = getdate(nowdate())
		renewing = book_customer(CSM_A)
		contract = make_contract(renewing, add_days(today, -335), add_days(today, 30))
		created = renewals.create_renewals(today, contracts=[contract.name])
		self.assertEqual(len(created), 1)
		rows = {r["customer"]: r for r in rows_of("Customer Health", csm=CSM_A)}
		self.assertEqual(rows[renewing]["renewal"], created[0])
		self.assertEqual(getdate(rows[renewing]["renewal_date"]), add_days(today, 30))
		self.assertIsNone(rows[self.weak]["renewal"])  # no renewal yet: its latest contract's end

	def test_weakest_first_and_the_chart_counts_statuses(self):
		report = run_report("Customer Health", csm=CSM_A)
		self.assertEqual([r["customer"] for r in report["result"]], [self.weak, self.unknown])
		chart = report["chart"]["data"]
		counts = dict(zip(chart["labels"], chart["datasets"][0]["values"], strict=True))
		self.assertEqual(counts, {"Green": 0, "Yellow": 1, "Red": 0, "Insufficient Data": 1})

	def test_a_churned_customer_is_no_longer_the_books_unless_asked_for(self):
		churned = book_customer(CSM_A, stage="Churned")
		set_current_health(churned, 55.0, "Yellow", 0, self.stamp)
		report = run_report("Customer Health", csm=CSM_A)
		self.assertNotIn(churned, [r["customer"] for r in report["result"]])
		self.assertEqual(report["report_summary"][0]["value"], 2)
		chart = report["chart"]["data"]
		self.assertEqual(dict(zip(chart["labels"], chart["datasets"][0]["values"], strict=True))["Yellow"], 1)
		asked = rows_of("Customer Health", csm=CSM_A, lifecycle_stage="Churned")
		self.assertEqual([r["customer"] for r in asked], [churned])
		from customer_success.customer_success.report.csm_workload import csm_workload

		_columns, data, *_rest = csm_workload.execute(frappe._dict(csm=CSM_A))
		self.assertEqual(data[0]["customers"], 2)

	def test_customers_not_scored_yet_are_a_slice_and_no_customer_no_chart(self):
		fresh = book_customer(CSM_A)  # no night has scored it yet
		report = run_report("Customer Health", csm=CSM_A)
		chart = report["chart"]["data"]
		counts = dict(zip(chart["labels"], chart["datasets"][0]["values"], strict=True))
		self.assertEqual(counts["Not Scored Yet"], 1)
		self.assertEqual(sum(counts.values()), report["report_summary"][0]["value"])
		self.assertIn(fresh, [r["customer"] for r in report["result"]])
		from customer_success.health.report.customer_health import customer_health

		self.assertIsNone(customer_health.get_chart({}))
		self.assertIsNone(customer_health.get_chart({"Green": {"customers": 0, "score_sum": 0}}))

	def test_rows_limit_keeps_the_weakest_and_says_so(self):
		report = run_report("Customer Health", csm=CSM_A, rows=1)
		self.assertEqual([r["customer"] for r in report["result"]], [self.weak])
		self.assertIn("1", report["message"])
		self.assertEqual(report["report_summary"][0]["value"], 2)  # the figures count every customer
		# the average of the coloured ones, as the score column shows it (not the site's "47.000")
		self.assertEqual(report["report_summary"][1]["value"], "47")
		self.assertEqual(len(rows_of("Customer Health", csm=CSM_A, rows=0)), 2)
		self.assertRaises(frappe.ValidationError, rows_of, "Customer Health", csm=CSM_A, rows=-1)

	def test_a_page_merges_the_colours_weakest_first(self):
		"""Each colour is read apart and merged: scores of different colours may interleave (a tier's
		own model has its own bands; an override sets the colour)."""
		stamp = self.stamp
		red_high, green_low, red_low = (book_customer(CSM_A) for _ in range(3))
		set_current_health(red_high, 50.0, "Red", 0, stamp)
		set_current_health(green_low, 44.0, "Green", 0, stamp)
		set_current_health(red_low, 10.0, "Red", 0, stamp)
		everyone = [r["customer"] for r in rows_of("Customer Health", csm=CSM_A, rows=0)]
		self.assertEqual(everyone, [red_low, green_low, self.weak, red_high, self.unknown])
		for rows in range(1, 6):
			page = [r["customer"] for r in rows_of("Customer Health", csm=CSM_A, rows=rows)]
			self.assertEqual(page, everyone[:rows])
		# the team's page (a CS Manager's, over every book) is the head of the team's whole list
		team = [r["customer"] for r in rows_of("Customer Health", rows=0)]
		self.assertTrue(set(everyone) <= set(team))
		for rows in (1, 3, len(team)):
			self.assertEqual([r["customer"] for r in rows_of("Customer Health", rows=rows)], team[:rows])

	def test_filters_tier_stage_status_and_renewal_dates(self):
		self.assertEqual(
			[r["customer"] for r in rows_of("Customer Health", csm=CSM_A, tier="Strategic")], [self.weak]
		)
		self.assertEqual(rows_of("Customer Health", csm=CSM_A, lifecycle_stage="Churned"), [])
		self.assertEqual(
			[r["customer"] for r in rows_of("Customer Health", csm=CSM_A, status="Insufficient Data")],
			[self.unknown],
		)
		today = getdate(nowdate())
		renewing = rows_of(
			"Customer Health", csm=CSM_A, renewal_from=add_days(today, 300), renewal_to=add_days(today, 400)
		)
		self.assertEqual([r["customer"] for r in renewing], [self.weak])
		self.assertEqual(
			rows_of("Customer Health", csm=CSM_A, renewal_from=today, renewal_to=add_days(today, 60)), []
		)
		# reversed, the message names the filters the report has (not a From Date and To Date)
		with self.assertRaisesRegex(
			frappe.ValidationError, r"Renewal From \(.*\) must be on or before Renewal To"
		):
			rows_of("Customer Health", csm=CSM_A, renewal_from=add_days(today, 30), renewal_to=today)

	def test_a_csm_sees_her_book_only(self):
		mine = {r["customer"] for r in rows_of("Customer Health", CSM_A)}
		self.assertTrue({self.weak, self.unknown} <= mine)
		self.assertNotIn(self.other, mine)
		self.assertEqual(
			{r["customer"] for r in rows_of("Customer Health", CSM_B)} & {self.weak, self.other}, {self.other}
		)
		# filtering by another CSM shows nothing, not the other book
		self.assertEqual(rows_of("Customer Health", CSM_A, csm=CSM_B), [])

	def test_a_cs_manager_sees_every_book(self):
		everyone = {r["customer"] for r in rows_of("Customer Health", MANAGER)}
		self.assertTrue({self.weak, self.unknown, self.other} <= everyone)
		self.assertEqual(
			[r["customer"] for r in rows_of("Customer Health", MANAGER, csm=CSM_B)], [self.other]
		)

	def test_other_roles_cannot_run_it(self):
		from customer_success.tests.utils import make_user

		make_user("reports-sales@example.com", ["Sales User"])
		self.assertRaises(frappe.PermissionError, run_report, "Customer Health", "reports-sales@example.com")


class TestHealthTrendReport(ReportTestCase):
	def test_monthly_average_and_status_mix_by_hand(self):
		today = getdate(nowdate())
		first = getdate(add_days(today.replace(day=1), -1)).replace(day=1)  # first day of last month
		a, b, c = book_customer(CSM_A), book_customer(CSM_A), book_customer(CSM_B)
		# last month: a 80 then 60 (the later counts), b 30 Red; this month: a 90, b no colour
		add_score(a, first, 80.0, "Green")
		add_score(a, add_days(first, 10), 60.0, "Yellow")
		add_score(b, add_days(first, 5), 30.0, "Red")
		add_score(a, today, 90.0, "Green")
		add_score(b, today, 55.0, "Insufficient Data")
		add_score(c, today, 10.0, "Red")  # another book
		rows = rows_of("Health Trend", CSM_A, from_date=first, to_date=today, period="Month", csm=CSM_A)
		self.assertEqual(len(rows), 2)
		last, this = rows
		self.assertEqual(last["period"], first.strftime("%Y-%m"))
		self.assertEqual(last["customers"], 2)
		self.assertEqual(last["average_score"], 45.0)  # (60 + 30) / 2
		self.assertEqual((last["green"], last["yellow"], last["red"], last["no_colour"]), (0, 1, 1, 0))
		self.assertEqual(last["red_pct"], 50.0)
		self.assertEqual(this["customers"], 2)
		self.assertEqual(this["average_score"], 90.0)  # the grey score is not a reading
		self.assertEqual((this["green"], this["no_colour"]), (1, 1))
		self.assertEqual(this["green_pct"], 100.0)
		# the same CSM through another CSM's filter: nothing; the manager sees both books
		self.assertEqual(rows_of("Health Trend", CSM_A, from_date=first, to_date=today, csm=CSM_B), [])
		team = rows_of("Health Trend", MANAGER, from_date=today, to_date=today, period="Week")
		self.assertGreaterEqual(team[-1]["customers"], 3)

	def test_dates_in_the_wrong_order_are_refused(self):
		today = getdate(nowdate())
		self.assertRaises(
			frappe.ValidationError,
			rows_of,
			"Health Trend",
			MANAGER,
			from_date=today,
			to_date=add_days(today, -1),
		)


class TestHealthTrendChart(FrappeTestCase):
	def test_one_period_is_drawn_as_bars(self):
		from customer_success.health.report.health_trend import health_trend

		row = {"period": "2026-12", "average_score": 70.0, "green_pct": 50, "yellow_pct": 30, "red_pct": 20}
		one = health_trend.get_chart([row])
		self.assertEqual(one["type"], "bar")
		self.assertEqual(one["data"]["labels"], ["2026-12"])
		two = health_trend.get_chart([row, {**row, "period": "2027-01"}])
		self.assertEqual(two["type"], "line")
		self.assertEqual(len(two["data"]["datasets"][0]["values"]), 2)


class TestHealthBacktest(ReportTestCase):
	def setUp(self):
		self.today = getdate(nowdate())
		self.end = add_days(self.today, -10)  # the contracts' end, inside the default period
		at_90, at_180 = add_days(self.end, -90), add_days(self.end, -180)

		def history(customer, score_90, status_90, payment_90, score_180, status_180, payment_180):
			# scores a few days before each look-back day: the nearest on or before is read
			add_score(
				customer,
				add_days(at_180, -3),
				score_180,
				status_180,
				[factor(engine.PAYMENT_BEHAVIOUR, payment_180, 40), factor(engine.SUPPORT_LOAD, 70, 60)],
			)
			add_score(
				customer,
				add_days(at_90, -2),
				score_90,
				status_90,
				[factor(engine.PAYMENT_BEHAVIOUR, payment_90, 40), factor(engine.SUPPORT_LOAD, 70, 60)],
			)
			add_score(customer, add_days(at_90, 1), 99.0, "Green", [])  # after the day: never read

		# two renewed (a later contract signed), two churned (stage Churned)
		self.renewed = []
		for score, payment in ((80.0, 90), (60.0, 70)):
			customer = book_customer(CSM_A)
			make_contract(customer, add_days(self.end, -365), self.end)
			make_contract(customer, add_days(self.end, 1), add_days(self.end, 366))
			history(customer, score, "Green" if score >= 70 else "Yellow", payment, score, "Yellow", payment)
			self.renewed.append(customer)
		self.churned = []
		for score, payment in ((30.0, 10), (50.0, 30)):
			customer = book_customer(CSM_A, stage="Churned")
			make_contract(customer, add_days(self.end, -365), self.end)
			history(customer, score, "Red" if score < 40 else "Yellow", payment, 65.0, "Yellow", 60)
			self.churned.append(customer)
		# another CSM's churn: not in CSM A's figures
		self.elsewhere = book_customer(CSM_B, stage="Churned")
		make_contract(self.elsewhere, add_days(self.end, -365), self.end)
		history(self.elsewhere, 90.0, "Green", 100, 90.0, "Green", 100)

	def test_readings_are_the_nearest_snapshot_on_or_before(self):
		rows = {r["customer"]: r for r in rows_of("Health Backtest", CSM_A, view="Customers")}
		self.assertEqual(set(rows), set(self.renewed + self.churned))
		first = rows[self.renewed[0]]
		self.assertEqual(first["outcome"], "Renewed")
		self.assertEqual(getdate(first["date"]), getdate(self.end))
		self.assertEqual(getdate(first["score_date_90"]), getdate(add_days(self.end, -92)))
		self.assertEqual(first["score_90"], 80.0)
		self.assertEqual(getdate(first["score_date_180"]), getdate(add_days(self.end, -183)))
		self.assertEqual(rows[self.churned[0]]["outcome"], "Churned")

	def test_separation_and_lift_by_hand(self):
		report = run_report("Health Backtest", CSM_A)
		rows = {r["signal"]: r for r in report["result"]}
		score = rows[engine.HEALTH_SCORE_SIGNAL]
		self.assertEqual(report["result"][0]["signal"], engine.HEALTH_SCORE_SIGNAL)
		# 90 days: renewed 80, 60 (mean 70); churned 30, 50 (mean 40)
		self.assertEqual((score["renewed_90"], score["churned_90"]), (2, 2))
		self.assertEqual(score["separation_90"], 30.0)
		# low (< 40): only the 30, a churn -> 100 % churn among the low; 50 % overall -> lift 2
		self.assertEqual(score["churn_rate_low_90"], 100.0)
		self.assertEqual(score["lift_90"], 2.0)
		# 180 days: renewed 80, 60; churned 65, 65 -> separation 5, nobody low -> no lift
		self.assertEqual(score["separation_180"], 5.0)
		self.assertIsNone(score["lift_180"])
		payment = rows[engine.PAYMENT_BEHAVIOUR]
		self.assertEqual(payment["separation_90"], 60.0)  # (90 + 70) / 2 - (10 + 30) / 2
		self.assertEqual(payment["lift_90"], 2.0)  # both low readings churned
		support = rows[engine.SUPPORT_LOAD]
		self.assertEqual(support["separation_90"], 0.0)  # the same for everyone: no signal
		self.assertIn("Separation", report["message"])
		self.assertTrue(report["chart"])

	def test_low_score_setting_changes_the_lift(self):
		rows = {r["signal"]: r for r in rows_of("Health Backtest", CSM_A, low_score=55)}
		# low (< 55): 30 and 50 (churned) -> 100 % vs 50 %
		self.assertEqual(rows[engine.HEALTH_SCORE_SIGNAL]["lift_90"], 2.0)
		rows = {r["signal"]: r for r in rows_of("Health Backtest", CSM_A, low_score=65)}
		# low (< 65): 30, 50 churned, 60 renewed -> 2/3 vs 1/2
		self.assertEqual(rows[engine.HEALTH_SCORE_SIGNAL]["lift_90"], 1.33)
		self.assertRaises(frappe.ValidationError, rows_of, "Health Backtest", CSM_A, low_score=0)

	def test_book_limits(self):
		self.assertEqual(rows_of("Health Backtest", CSM_A, csm=CSM_B, view="Customers"), [])
		team = {r["customer"] for r in rows_of("Health Backtest", MANAGER, view="Customers")}
		self.assertTrue(set(self.renewed + self.churned + [self.elsewhere]) <= team)
		theirs = {r["customer"] for r in rows_of("Health Backtest", CSM_B, view="Customers")}
		self.assertEqual(theirs & set(self.renewed + self.churned + [self.elsewhere]), {self.elsewhere})

	def test_outside_the_period_nothing(self):
		self.assertEqual(
			rows_of(
				"Health Backtest",
				CSM_A,
				view="Customers",
				from_date=add_days(self.today, -5),
				to_date=self.today,
			),
			[],
		)


class TestBacktestOutcomesReadOnlyWhatCanBeOne(ReportTestCase):
	def test_the_outcomes_equal_those_of_every_contract_read(self):
		"""The backtest reads only customers with two contracts or more, or Churned: its outcomes are
		exactly those `engine.outcome_events` finds over all their contracts."""
		from customer_success import reports

		today = getdate(nowdate())
		start, end = add_days(today, -365), today
		made = {}

		def customer(label, terms, churned=False):
			name = make_customer(cs_owner=CSM_A).name
			for begins, ends in terms:
				make_contract(name, add_days(today, begins), add_days(today, ends))
			if churned:
				frappe.db.set_value("Customer", name, "cs_lifecycle_stage", "Churned")
			made[label] = name

		customer("renewed", [(-400, -35), (-34, 330)])
		customer("overlap", [(-300, -20), (-310, 200)])  # the second started first: no renewal
		customer("same start", [(-300, -20), (-300, 200)])  # a later end alone is no renewal
		customer("churned", [(-700, -340), (-339, -30)], churned=True)  # renewed once, then churned
		customer("churned long ago", [(-900, -500)], churned=True)  # its end is before the period
		customer("single", [(-200, -5)])  # one contract, no outcome
		customer("renewed before", [(-800, -400), (-399, -380)])  # both ends before the period

		scope = reports.CustomerScope(CSM_A, None, None, True)
		names = set(made.values())
		read = queries.submitted_contracts(reports.customers_in_scope(scope, True), start, end)
		self.assertEqual(set(read), {made["renewed"], made["churned"]})
		every = {}
		for row in frappe.get_all(
			"Contract",
			filters={"party_name": ("in", sorted(names)), "docstatus": 1},
			fields=["party_name", "start_date", "end_date"],
		):
			every.setdefault(row.party_name, []).append((getdate(row.start_date), getdate(row.end_date)))
		churned = {made["churned"], made["churned long ago"]}
		expected = engine.outcome_events(every, churned, start, end)
		self.assertEqual(
			engine.outcome_events(read, queries.churned_customers(None) & names, start, end), expected
		)
		self.assertEqual(
			[(ev["customer"], ev["outcome"]) for ev in expected],
			[
				(made["churned"], engine.RENEWED),
				(made["renewed"], engine.RENEWED),
				(made["churned"], engine.CHURNED),
			],
		)
		# the whole book (no scope) finds the same for these customers
		whole = queries.submitted_contracts(None, start, end)
		self.assertEqual(
			{k: sorted(v) for k, v in whole.items() if k in names}, {k: sorted(v) for k, v in read.items()}
		)


class TestHistoryKeptForTheBacktest(ReportTestCase):
	def test_pruning_keeps_the_monthly_rows_the_lookbacks_read(self):
		today = getdate(nowdate())
		customer = book_customer(CSM_A)
		start = add_days(today, -300)
		for offset in range(0, 300, 3):  # a score every third day for ten months
			add_score(customer, add_days(start, offset), float(offset % 100), "Yellow")
		health.prune_history(today, retention_days=60)
		rows = frappe.get_all(
			"Customer Health Score",
			filters={"customer": customer},
			fields=["score_date", "granularity"],
			order_by="score_date",
		)
		cutoff = getdate(add_days(today, -60)).replace(day=1)
		old = [r for r in rows if r.score_date < cutoff]
		self.assertTrue(old)
		self.assertTrue(all(r.granularity == "Monthly" for r in old))
		months = {(r.score_date.year, r.score_date.month) for r in old}
		self.assertEqual(len(months), len(old))  # one per month, none lost
		self.assertTrue(all(r.granularity == "Daily" for r in rows if r.score_date >= cutoff))
		# the 180-day look-back reads the month's kept row on or before it
		day = getdate(add_days(today, -180))
		dates = [r.score_date for r in rows]
		expected = max(d for d in dates if d <= day)
		self.assertLessEqual((day - expected).days, engine.SNAPSHOT_MAX_AGE_DAYS)
		frappe.db.set_value("Customer", customer, "cs_lifecycle_stage", "Churned")
		make_contract(customer, add_days(today, -365), today)
		from customer_success import reports

		scope = reports.CustomerScope(CSM_A, None, None, True)
		found = health.backtest_readings(reports.customers_in_scope(scope, True), today, today)
		mine = [ev for ev in found if ev["customer"] == customer]
		self.assertEqual(len(mine), 1)
		self.assertEqual(mine[0]["readings"][180]["score_date"], expected)


class TestReportTranslations(ReportTestCase):
	def test_report_names_and_columns_have_chinese(self):
		import re

		from frappe.translate import get_translations_from_csv

		from customer_success.tests.utils import app_modules

		translations = get_translations_from_csv("zh", "customer_success")
		reports = frappe.get_all("Report", filters={"module": ("in", app_modules())}, pluck="name")
		self.assertTrue({"Customer Health", "Health Trend", "Health Backtest"} <= set(reports))
		for report in reports:
			self.assertIn(report, translations)
			for view in ({}, {"view": "Customers"}) if report == "Health Backtest" else ({},):
				for column in run_report(report, "Administrator", **view)["columns"]:
					if re.fullmatch(r".+ \([A-Z]+(-[A-Z]+)*-\d{4}-\d+\)", column["label"]):
						continue  # a column per record (an assessment on a date): data, not text
					label = re.sub(r"\d+", "{0}", column["label"])
					self.assertTrue(
						column["label"] in translations or label in translations,
						f"{report}: {column['label']}",
					)


class TestDemoHistory(FrappeTestCase):
	def test_the_demo_replays_the_last_twelve_month_ends(self):
		from customer_success.demo.reports import month_ends

		ends = month_ends(getdate("2026-03-15"))
		self.assertEqual(len(ends), 12)
		self.assertEqual(ends[0], getdate("2025-03-31"))
		self.assertEqual(ends[-1], getdate("2026-02-28"))
		self.assertEqual(ends, sorted(ends))
