"""Usage on real records: the scheduled pull against a local HTTP server, the product-usage factor
and its records, the expansion rule, row-level access, and the desk form's checks."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.alerts import service as alerts
from customer_success.constants import CSM_ROLE
from customer_success.health import api as health_api
from customer_success.health import engine as health_engine
from customer_success.health import service as health
from customer_success.tests.utils import (
	TEST_PREFIX,
	change_settings,
	make_customer,
	make_item,
	make_sales_order,
	make_shared_users,
)
from customer_success.usage import api, queries, service

CSM1 = "usage.csm1@example.com"
CSM2 = "usage.csm2@example.com"
SEATS = f"{TEST_PREFIX} Seats"
CALLS = f"{TEST_PREFIX} Calls"
STORAGE = f"{TEST_PREFIX} Storage"


def today():
	return getdate(nowdate())


def metric(name, aggregation="Average", item=None, entitlements=()):
	if frappe.db.exists("Usage Metric Definition", name):
		frappe.delete_doc("Usage Metric Definition", name, ignore_permissions=True, force=True)
	return frappe.get_doc(
		{
			"doctype": "Usage Metric Definition",
			"metric_name": name,
			"aggregation": aggregation,
			"entitlement_item": item,
			"entitlements": [{"customer": c, "entitlement": e} for c, e in entitlements],
		}
	).insert(ignore_permissions=True)


def daily(customer, metric_name, values_by_days_ago: dict):
	"""Usage rows written with the room's own upsert, `days ago: value`."""
	queries.upsert_usage(
		[
			{
				"customer": customer,
				"metric": metric_name,
				"usage_date": add_days(today(), -days),
				"value": value,
				"source": "test",
			}
			for days, value in values_by_days_ago.items()
		]
	)


class UsageTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM1: [CSM_ROLE], CSM2: [CSM_ROLE]})

	def setUp(self):
		frappe.set_user("Administrator")
		self.customer = make_customer(cs_owner=CSM1).name

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


# --- the pull ------------------------------------------------------------------------------------


class FeedHandler(BaseHTTPRequestHandler):
	"""The product's usage endpoint, as the test scripts it: one behaviour per path."""

	hits: dict = {}  # shared by the server's threads on purpose
	rows: list = []

	def do_GET(self):
		FeedHandler.hits[self.path] = FeedHandler.hits.get(self.path, 0) + 1
		FeedHandler.headers_seen = dict(self.headers)
		if self.path == "/good":
			self.answer(200, json.dumps({"rows": FeedHandler.rows}))
		elif self.path == "/error":
			self.answer(500, "boom")
		elif self.path == "/slow":
			time.sleep(2.5)
			self.answer(200, json.dumps(FeedHandler.rows))
		elif self.path == "/empty":
			self.answer(200, "")
		elif self.path == "/blank":
			self.answer(200, " \n")
		elif self.path == "/garbage":
			self.answer(200, "<html>not json")
		else:
			self.answer(404, "")

	def answer(self, status, body):
		try:
			self.send_response(status)
			self.send_header("Content-Type", "application/json")
			self.end_headers()
			self.wfile.write(body.encode())
		except (BrokenPipeError, ConnectionResetError):
			pass  # the client gave up waiting: the timeout case

	def log_message(self, *args):
		pass


class TestPull(UsageTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
		cls.server.daemon_threads = True
		cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
		cls.thread.start()
		cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

	@classmethod
	def tearDownClass(cls):
		cls.server.shutdown()
		cls.server.server_close()
		super().tearDownClass()

	def setUp(self):
		super().setUp()
		metric(SEATS)
		FeedHandler.hits = {}
		FeedHandler.rows = [
			{"customer": self.customer, "metric": SEATS, "date": str(add_days(today(), -d)), "value": 10 + d}
			for d in range(1, 4)
		]

	def pull(self, path, **settings):
		values = {
			"usage_pull_enabled": 1,
			"usage_pull_url": f"{self.base}{path}",
			"usage_pull_timeout": 5,
			"usage_pull_retries": 0,
			**settings,
		}
		errors_before = frappe.db.count("Error Log", {"method": "Usage pull failed"})
		with change_settings(**values):
			result = service.pull()
		self.new_errors = frappe.db.count("Error Log", {"method": "Usage pull failed"}) - errors_before
		return result

	def stored(self):
		return frappe.get_all(
			"Customer Usage Metric",
			filters={"customer": self.customer},
			fields=["value", "source"],
			order_by="usage_date",
		)

	def test_a_good_payload_is_stored_with_the_header_sent(self):
		result = self.pull("/good", usage_pull_auth_header="Bearer s3cret")
		self.assertEqual(result["status"], "Stored")
		self.assertEqual([r.value for r in self.stored()], [13, 12, 11])
		self.assertEqual({r.source for r in self.stored()}, {"Pull"})
		self.assertEqual(FeedHandler.headers_seen.get("Authorization"), "Bearer s3cret")
		# pulled again: the same days are updated, not added
		FeedHandler.rows[0]["value"] = 99
		self.pull("/good")
		self.assertEqual(len(self.stored()), 3)
		self.assertIn(99, [r.value for r in self.stored()])

	def test_a_500_is_retried_by_the_adapter_then_logged_and_nothing_stored(self):
		result = self.pull("/error", usage_pull_retries=2)
		self.assertEqual(result["status"], "Failed")
		self.assertEqual(FeedHandler.hits["/error"], 3)  # the first try and two retries
		self.assertEqual(self.new_errors, 1)
		self.assertEqual(self.stored(), [])

	def test_a_timeout_is_logged_and_nothing_stored(self):
		started = time.monotonic()
		result = self.pull("/slow", usage_pull_timeout=1)
		self.assertLess(time.monotonic() - started, 2.4)
		self.assertEqual(result["status"], "Failed")
		self.assertEqual(self.new_errors, 1)
		self.assertEqual(self.stored(), [])

	def test_garbage_is_logged_and_nothing_stored(self):
		result = self.pull("/garbage")
		self.assertEqual(result["status"], "Failed")
		self.assertIn("not valid JSON", result["message"])
		self.assertEqual(self.new_errors, 1)
		self.assertEqual(self.stored(), [])

	def test_an_empty_feed_stores_nothing_and_is_no_failure(self):
		FeedHandler.rows = []
		result = self.pull("/good")
		self.assertEqual(result, {"status": "Stored", "stored": 0})
		self.assertEqual(self.new_errors, 0)
		self.assertEqual(self.stored(), [])
		for path in ("/empty", "/blank"):  # an empty body, or only whitespace
			self.assertEqual(self.pull(path), {"status": "Stored", "stored": 0})
			self.assertEqual(self.new_errors, 0)

	def test_one_bad_row_stores_none_of_the_payload(self):
		FeedHandler.rows.append({"customer": self.customer, "metric": SEATS, "date": "yesterday", "value": 1})
		result = self.pull("/good")
		self.assertEqual(result["status"], "Failed")
		self.assertIn("YYYY-MM-DD", result["message"])
		self.assertEqual(self.stored(), [])

	def test_a_feed_over_the_apis_batch_limit_is_stored_whole(self):
		from customer_success.tests.utils import make_customer

		customers = [self.customer, *(make_customer().name for _ in range(2))]
		FeedHandler.rows = [
			{"customer": c, "metric": SEATS, "date": str(add_days(today(), -d)), "value": d}
			for c in customers
			for d in range(1, 31)
		]
		with change_settings(usage_max_batch_rows=50):
			result = self.pull("/good")
		self.assertEqual(result, {"status": "Stored", "stored": 90})
		self.assertEqual(self.new_errors, 0)
		self.assertEqual(frappe.db.count("Customer Usage Metric", {"customer": ("in", customers)}), 90)

	def test_an_unreachable_endpoint_is_logged(self):
		result = self.pull("/good", usage_pull_url="http://127.0.0.1:9/usage")
		self.assertEqual(result["status"], "Failed")
		self.assertEqual(self.new_errors, 1)

	def test_disabled_pull_reads_nothing(self):
		result = self.pull("/good", usage_pull_enabled=0)
		self.assertEqual(result["status"], "Disabled")
		self.assertEqual(FeedHandler.hits, {})

	def test_the_scheduled_job_never_raises(self):
		from customer_success.usage import jobs

		with change_settings(usage_pull_enabled=1, usage_pull_url=f"{self.base}/error", usage_pull_retries=0):
			jobs.pull_usage()  # a failure is logged, not raised
		self.assertEqual(self.stored(), [])

	def test_settings_refuse_a_pull_without_an_http_address(self):
		with self.assertRaisesRegex(frappe.ValidationError, "http"):
			with change_settings(usage_pull_enabled=1, usage_pull_url="ftp://example.com/usage"):
				pass


# --- the factor ------------------------------------------------------------------------------------


def models_with_usage():
	"""A model of Product Usage and Support Load, half each (as the engine takes it)."""
	return {
		"default": {
			"name": "_CS Test Usage Model",
			"specs": [
				health_engine.FactorSpec(health_engine.PRODUCT_USAGE, 50, {"lookback_days": 30}),
				health_engine.FactorSpec(health_engine.SUPPORT_LOAD, 50),
			],
			"green": 70,
			"red": 40,
		},
		"by_tier": {},
	}


class TestProductUsageFactor(UsageTestCase):
	def raw(self, customer=None):
		customer = customer or self.customer
		facts = health.gather_facts(customer, customer, models_with_usage(), today(), 30)
		row = frappe.db.get_value(
			"Customer", customer, ["name", "cs_csm_sentiment", "cs_sentiment_on"], as_dict=True
		)
		return health.raw_values(row, facts, today(), 30)[health_engine.PRODUCT_USAGE]

	def test_usage_against_the_seats_of_the_latest_order_and_its_trend(self):
		item = make_item().name
		make_sales_order(self.customer, qty=5, transaction_date=add_days(today(), -200))
		make_sales_order(self.customer, qty=10, transaction_date=add_days(today(), -100))  # the latest
		metric(SEATS, "Average", item=item)
		daily(self.customer, SEATS, {d: 9 for d in range(0, 30)} | {d: 10 for d in range(30, 60)})
		raw = self.raw()
		self.assertAlmostEqual(raw["utilisation"], 0.9)
		self.assertAlmostEqual(raw["trend"], -0.1)
		self.assertEqual(raw["metrics"][0]["entitlement"], 10)
		# 0.7 * (0.9 / 0.8 -> 100) + 0.3 * (a 10 % fall of a 50 % worst -> 80) = 94
		self.assertAlmostEqual(health_engine.sub_score(health_engine.PRODUCT_USAGE, raw), 94)

	def test_an_entitlement_set_by_hand_wins_over_the_order(self):
		item = make_item().name
		make_sales_order(self.customer, qty=10)
		metric(SEATS, "Maximum", item=item, entitlements=[(self.customer, 40)])
		daily(self.customer, SEATS, {1: 10, 2: 20, 3: 5})
		raw = self.raw()
		self.assertAlmostEqual(raw["utilisation"], 0.5)  # the peak, 20, of 40
		self.assertIsNone(raw["trend"])  # nothing in the window before

	def test_sum_is_compared_per_month_and_last_takes_the_latest_day(self):
		metric(CALLS, "Sum", entitlements=[(self.customer, 1000)])
		metric(STORAGE, "Last", entitlements=[(self.customer, 100)])
		daily(self.customer, CALLS, {d: 30 for d in range(0, 30)})  # 900 in 30 days
		daily(self.customer, STORAGE, {5: 80, 1: 60, 10: 90})
		raw = self.raw()
		by_metric = {m["metric"]: m for m in raw["metrics"]}
		self.assertAlmostEqual(by_metric[CALLS]["utilisation"], 0.9)
		self.assertAlmostEqual(by_metric[STORAGE]["utilisation"], 0.6)
		self.assertAlmostEqual(raw["utilisation"], 0.75)

	def test_no_usage_leaves_the_factor_out(self):
		metric(SEATS, "Average", entitlements=[(self.customer, 10)])
		self.assertIsNone(self.raw())
		# old usage, before both windows, is no usage either
		daily(self.customer, SEATS, {200: 10})
		self.assertIsNone(self.raw())

	def test_the_score_counts_usage_and_its_explanation_links_the_records(self):
		metric(SEATS, "Average", entitlements=[(self.customer, 10)])
		daily(self.customer, SEATS, {1: 2, 2: 2})
		health.score_range(self.customer, self.customer, models=models_with_usage())
		score = frappe.get_last_doc("Customer Health Score", filters={"customer": self.customer})
		explained = {f["factor_type"]: f for f in json.loads(score.explanation)}
		usage = explained[health_engine.PRODUCT_USAGE]
		self.assertAlmostEqual(usage["raw"]["utilisation"], 0.2)
		self.assertAlmostEqual(usage["sub_score"], 25)  # 0.2 of a 0.8 target, no trend known
		records = health_api.get_factor_records(self.customer, health_engine.PRODUCT_USAGE)
		self.assertEqual(records["doctype"], "Customer Usage Metric")
		self.assertEqual(len(records["records"]), 2)
		self.assertEqual({r.metric for r in records["records"]}, {SEATS})

	def test_the_shipped_model_offers_product_usage(self):
		from customer_success.setup import defaults

		factors = {f["factor_type"]: f for f in defaults.default_model()["factors"]}
		self.assertIn(health_engine.PRODUCT_USAGE, factors)
		self.assertEqual(sum(f["weight"] for f in factors.values() if f["enabled"]), 100)


# --- the expansion rule -------------------------------------------------------------------------------


class TestUsageRule(UsageTestCase):
	RULE = "Usage Near Entitlement"

	def setUp(self):
		super().setUp()
		from customer_success.setup import defaults

		defaults.make_default_alert_rules()
		rule = frappe.qb.DocType("CS Alert Rule")
		frappe.qb.update(rule).set(rule.enabled, 0).where(rule.name != self.RULE).run()
		frappe.qb.update(rule).set(rule.enabled, 1).where(rule.name == self.RULE).run()
		metric(SEATS, "Average", entitlements=[(self.customer, 10)])

	def alerts(self):
		return frappe.get_all(
			"CS Alert",
			filters={"customer": self.customer, "rule": self.RULE},
			fields=["name", "status", "severity", "kind", "summary", "evidence"],
		)

	def test_usage_at_the_threshold_raises_one_expansion_alert_with_its_evidence(self):
		daily(self.customer, SEATS, {d: 9.5 for d in range(1, 10)})
		alerts.evaluate_customer(self.customer)
		alerts.evaluate_customer(self.customer)  # the same open condition: still one alert
		found = self.alerts()
		self.assertEqual(len(found), 1)
		self.assertEqual(found[0].kind, "Expansion")
		self.assertEqual(found[0].severity, "Medium")
		self.assertIn("95", found[0].summary)
		evidence = json.loads(found[0].evidence)
		self.assertIn(["Usage Metric Definition", SEATS], evidence["records"])

	def test_usage_beyond_the_entitlement_is_more_severe(self):
		daily(self.customer, SEATS, {d: 12 for d in range(1, 10)})
		alerts.evaluate_customer(self.customer)
		self.assertEqual(self.alerts()[0].severity, "High")

	def test_usage_well_below_the_entitlement_raises_nothing_and_a_drop_resolves_the_alert(self):
		daily(self.customer, SEATS, {d: 5 for d in range(1, 10)})
		alerts.evaluate_customer(self.customer)
		self.assertEqual(self.alerts(), [])
		daily(self.customer, SEATS, {d: 10 for d in range(1, 10)})
		alerts.evaluate_customer(self.customer)
		self.assertEqual(len(self.alerts()), 1)
		daily(self.customer, SEATS, {d: 3 for d in range(1, 10)})
		alerts.evaluate_customer(self.customer)
		self.assertEqual(self.alerts()[0].status, "Resolved")


# --- access and the desk -------------------------------------------------------------------------


class TestAccessAndDesk(UsageTestCase):
	def setUp(self):
		super().setUp()
		self.other = make_customer(cs_owner=CSM2).name
		metric(SEATS, "Average")
		daily(self.customer, SEATS, {1: 4, 2: 5})
		daily(self.other, SEATS, {1: 7})

	def test_a_csm_sees_only_her_book_and_cannot_change_usage(self):
		frappe.set_user(CSM1)
		seen = frappe.get_list("Customer Usage Metric", fields=["customer"], filters={"metric": SEATS})
		self.assertEqual({r.customer for r in seen}, {self.customer})
		mine = frappe.get_all("Customer Usage Metric", filters={"customer": self.customer}, pluck="name")[0]
		theirs = frappe.get_all("Customer Usage Metric", filters={"customer": self.other}, pluck="name")[0]
		self.assertTrue(frappe.has_permission("Customer Usage Metric", "read", mine))
		self.assertFalse(frappe.has_permission("Customer Usage Metric", "read", theirs))
		self.assertFalse(frappe.has_permission("Customer Usage Metric", "write", mine))
		self.assertFalse(frappe.has_permission("Usage Metric Definition", "write"))

	def test_the_form_chart_shows_the_readers_own_rows(self):
		frappe.set_user(CSM1)
		chart = api.get_usage_chart(self.customer, 90)
		self.assertEqual(chart["metrics"][0]["metric"], SEATS)
		self.assertEqual(chart["metrics"][0]["values"], [5, 4])
		self.assertEqual(
			chart["metrics"][0]["labels"], [str(add_days(today(), -2)), str(add_days(today(), -1))]
		)
		with self.assertRaises(frappe.PermissionError):  # another book's customer
			api.get_usage_chart(self.other, 90)
		frappe.set_user(CSM2)
		self.assertEqual(api.get_usage_chart(self.other, 90)["metrics"][0]["values"], [7])

	def test_a_desk_entry_is_checked_like_a_fed_row(self):
		doc = frappe.get_doc(
			{
				"doctype": "Customer Usage Metric",
				"customer": self.customer,
				"metric": SEATS,
				"usage_date": today(),
				"value": 3,
			}
		).insert(ignore_permissions=True)
		self.assertEqual(doc.source, "")
		with self.assertRaises(frappe.DuplicateEntryError):
			frappe.get_doc(
				{
					"doctype": "Customer Usage Metric",
					"customer": self.customer,
					"metric": SEATS,
					"usage_date": today(),
					"value": 4,
				}
			).insert(ignore_permissions=True)
		with self.assertRaisesRegex(frappe.ValidationError, "negative"):
			frappe.get_doc(
				{
					"doctype": "Customer Usage Metric",
					"customer": self.customer,
					"metric": SEATS,
					"usage_date": add_days(today(), -9),
					"value": -1,
				}
			).insert(ignore_permissions=True)

	def test_the_unique_key_is_in_the_database(self):
		self.assertTrue(frappe.db.has_index("tabCustomer Usage Metric", "unique_customer_metric_day"))
		with self.assertRaises(Exception) as caught:
			frappe.db.sql(
				"insert into `tabCustomer Usage Metric` (name, customer, metric, usage_date, value) values (%s, %s, %s, %s, 1)",
				(10**12, self.customer, SEATS, add_days(today(), -1)),
			)
		self.assertTrue(frappe.db.is_unique_key_violation(caught.exception), caught.exception)

	def test_a_metric_keeps_one_entitlement_per_customer(self):
		with self.assertRaisesRegex(frappe.ValidationError, "one row per customer"):
			metric(CALLS, "Sum", entitlements=[(self.customer, 1), (self.customer, 2)])

	def test_the_integration_role_is_api_only(self):
		from customer_success.constants import USAGE_INTEGRATION_ROLE

		self.assertEqual(frappe.db.get_value("Role", USAGE_INTEGRATION_ROLE, "desk_access"), 0)
		# it is given no rights on ERPNext records: the API checks the role itself
		self.assertFalse(frappe.db.exists("Custom DocPerm", {"role": USAGE_INTEGRATION_ROLE}))

	def test_a_csm_reads_a_metric_but_only_her_books_entitlements(self):
		metric(CALLS, "Sum", entitlements=[(self.customer, 1), (self.other, 2)])
		frappe.set_user(CSM1)
		self.assertTrue(frappe.has_permission("Usage Metric Definition", "read", CALLS))
		# on the form the per-customer table is permlevel 1: CS Managers only
		self.assertFalse(
			frappe.get_doc("Usage Metric Definition", CALLS).has_permlevel_access_to("entitlements")
		)
		# and so are its rows' figures, however they are asked for: listed directly (her book's rows
		# only), or as fields of the metrics' own list (every customer's figures, before)
		rows = frappe.get_list(
			"Usage Metric Entitlement",
			filters={"parent": CALLS},
			fields=["parent", "customer", "entitlement", "note"],
			parent_doctype="Usage Metric Definition",
		)
		self.assertEqual({r.get("customer") for r in rows}, {self.customer})
		self.assertFalse([r for r in rows if "entitlement" in r])
		child_fields = [
			"name",
			"`tabUsage Metric Entitlement`.customer",
			"`tabUsage Metric Entitlement`.entitlement",
		]
		# (as each request and job starts: frappe drops a refused field and never looks at the next)
		for method in frappe.get_hooks("before_request"):
			frappe.get_attr(method)()
		entitlement = "`tabUsage Metric Entitlement`.entitlement"
		for fields in (child_fields, ["name", entitlement, entitlement], ["name", entitlement] * 3):
			listed = frappe.get_list("Usage Metric Definition", fields=fields, filters={"name": CALLS})
			self.assertTrue(listed)
			self.assertEqual([set(r) for r in listed], [{"name"}] * len(listed), fields)
		# the list view's own read (its fields as a request sends them)
		from frappe.desk import reportview

		frappe.local.form_dict = frappe._dict(
			doctype="Usage Metric Definition",
			fields=json.dumps(["name", entitlement, entitlement, "`tabUsage Metric Entitlement`.customer"]),
			filters=json.dumps({"name": CALLS}),
		)
		try:
			viewed = reportview.get()
		finally:
			frappe.local.form_dict = frappe._dict()
		self.assertEqual(viewed["keys"], ["name"])
		# nor filtered by them (a figure found by halving the range it is asked to be above)
		for filters in (
			[["Usage Metric Entitlement", "entitlement", ">", 1], ["name", "=", CALLS]],
			[["Usage Metric Entitlement", "customer", "=", self.other]],
		):
			with self.assertRaises(frappe.PermissionError, msg=filters):
				frappe.get_list("Usage Metric Definition", fields=["name"], filters=filters)
			with self.assertRaises(frappe.PermissionError, msg=filters):
				frappe.get_list("Usage Metric Definition", fields=["name"], or_filters=filters)
		frappe.set_user("Administrator")
		self.assertEqual(
			frappe.get_list(
				"Usage Metric Definition",
				filters=[["Usage Metric Entitlement", "entitlement", ">", 1], ["name", "=", CALLS]],
				pluck="name",
			),
			[CALLS],
		)
		self.assertTrue(
			frappe.get_doc("Usage Metric Definition", CALLS).has_permlevel_access_to("entitlements")
		)
		rows = frappe.get_list("Usage Metric Definition", fields=child_fields, filters={"name": CALLS})
		self.assertEqual({(r.customer, r.entitlement) for r in rows}, {(self.customer, 1), (self.other, 2)})

	def test_a_csm_opens_her_customers_links_without_the_entitlements(self):
		"""frappe's Links dialog filtered every doctype linked to the customer, the metrics by their
		per-customer entitlements too: refused, it failed the whole dialog for every CSM."""
		from frappe.desk.form.linked_with import get as frappe_links

		from customer_success.customer_success.api import linked_with

		metric(CALLS, "Sum", entitlements=[(self.customer, 1)])
		for method in frappe.get_hooks("before_request"):  # as each request starts
			frappe.get_attr(method)()
		frappe.set_user(CSM1)
		# frappe's own dialog is refused on it (the override is what the desk calls)
		with self.assertRaises(frappe.PermissionError):
			frappe_links("Customer", self.customer)
		links = linked_with("Customer", self.customer)
		self.assertNotIn("Usage Metric Definition", links)
		with self.assertRaises(frappe.PermissionError):
			linked_with("Customer", self.other)
		frappe.set_user("Administrator")
		links = linked_with("Customer", self.customer)
		self.assertEqual([r.name for r in links["Usage Metric Definition"]], [CALLS])


class TestUsageRowFromAnImport(UsageTestCase):
	def test_a_date_given_as_a_datetime_is_the_day(self):
		"""frappe's Data Import gives a Date column as a datetime: every imported row failed the feed's
		rule ("2026-12-02 00:00:00 is not a date")."""
		from datetime import datetime

		metric("CS Import Seats")
		day = datetime.combine(add_days(today(), -1), datetime.min.time())
		row = frappe.get_doc(
			{
				"doctype": "Customer Usage Metric",
				"customer": self.customer,
				"metric": "CS Import Seats",
				"usage_date": day,
				"value": 42,
				"source": "import",
			}
		).insert(ignore_permissions=True)
		self.assertEqual(getdate(row.usage_date), add_days(today(), -1))
