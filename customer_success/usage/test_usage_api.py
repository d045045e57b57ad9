"""The ingestion API through real HTTP requests (frappe's WSGI application, in its own thread and
database connection, as FrappeAPITestCase does): Frappe's own API-key authentication runs.

A request commits its own transaction, so this class commits its fixtures (users with API keys,
customers, a metric) and removes exactly those, and the usage rows of its customers, at the end.
"""

import base64
import json

import frappe
from frappe.tests.test_api import make_request
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, get_test_client, nowdate

from customer_success.constants import CSM_ROLE, USAGE_INTEGRATION_ROLE
from customer_success.tests.utils import TEST_PREFIX, make_customer, make_user
from customer_success.usage import engine, queries

PATH = "/api/method/customer_success.usage.api.ingest"
FEED = "usage.feed@example.com"
CSM = "usage.api.csm@example.com"
SYSADMIN = "usage.api.sysadmin@example.com"
METRIC = f"{TEST_PREFIX} API Seats"


class TestUsageAPI(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.client = get_test_client()
		cls.site = frappe.local.site
		cls.keys = {}
		for email, roles in (
			(FEED, [USAGE_INTEGRATION_ROLE]),
			(CSM, [CSM_ROLE]),
			(SYSADMIN, ["System Manager"]),
		):
			user = make_user(email, roles)
			secret = frappe.generate_hash(length=16)
			user.api_key = user.api_key or frappe.generate_hash(length=15)
			user.api_secret = secret
			user.save(ignore_permissions=True)
			cls.keys[email] = f"{user.api_key}:{secret}"
		cls.customers = [make_customer().name, make_customer().name]
		if not frappe.db.exists("Usage Metric Definition", METRIC):
			frappe.get_doc(
				{"doctype": "Usage Metric Definition", "metric_name": METRIC, "aggregation": "Average"}
			).insert(ignore_permissions=True)
		frappe.db.commit()  # nosemgrep: the request's own connection must see the fixtures

	@classmethod
	def tearDownClass(cls):
		frappe.db.rollback()
		queries.delete_usage_of(cls.customers)
		frappe.delete_doc("Usage Metric Definition", METRIC, ignore_permissions=True, force=True)
		for name in cls.customers:
			frappe.delete_doc("Customer", name, ignore_permissions=True, force=True)
		for email in (FEED, CSM, SYSADMIN):
			frappe.delete_doc("User", email, ignore_permissions=True, force=True)
		frappe.db.commit()  # nosemgrep: remove exactly what this class committed
		super().tearDownClass()

	def tearDown(self):
		frappe.db.rollback()
		queries.delete_usage_of(self.customers)
		frappe.db.commit()  # nosemgrep: each test starts with no usage for its customers

	# --- helpers ---------------------------------------------------------------------------

	def post(self, payload=None, as_user=None, auth=None, **kwargs):
		headers = {}
		if as_user:
			headers["Authorization"] = f"token {self.keys[as_user]}"
		if auth:
			headers["Authorization"] = auth
		if payload is not None:
			kwargs["json"] = payload
		return make_request(
			target=self.client.post, args=(PATH,), kwargs={"headers": headers, **kwargs}, site=self.site
		)

	def row(self, customer=0, value=7, day=None, **extra):
		return {
			"customer": self.customers[customer],
			"metric": METRIC,
			"date": str(day or add_days(nowdate(), -1)),
			"value": value,
			**extra,
		}

	def stored(self) -> list[dict]:
		frappe.db.rollback()  # a fresh snapshot: see what the request committed
		return frappe.get_all(
			"Customer Usage Metric",
			filters={"customer": ("in", self.customers)},
			fields=["customer", "metric", "usage_date", "value", "source", "owner"],
			order_by="customer, usage_date",
		)

	def message(self, response) -> str:
		body = response.json
		return " ".join(
			json.loads(m).get("message", "") for m in json.loads(body.get("_server_messages", "[]"))
		)

	# --- who may send ----------------------------------------------------------------------

	def test_without_a_key_the_request_is_a_guest_and_refused(self):
		response = self.post({"rows": [self.row()]})
		self.assertEqual(response.status_code, 403)
		self.assertEqual(self.stored(), [])

	def test_a_wrong_secret_is_refused(self):
		key = self.keys[FEED].split(":")[0]
		response = self.post({"rows": [self.row()]}, auth=f"token {key}:not-the-secret")
		self.assertIn(response.status_code, (401, 403))
		self.assertEqual(self.stored(), [])

	def test_a_user_without_the_integration_role_is_refused_even_with_a_valid_key(self):
		for user in (CSM, SYSADMIN):
			response = self.post({"rows": [self.row()]}, as_user=user)
			self.assertEqual(response.status_code, 403, user)
			self.assertIn(USAGE_INTEGRATION_ROLE, self.message(response))
		self.assertEqual(self.stored(), [])

	def test_a_get_is_refused(self):
		response = make_request(
			target=self.client.get,
			args=(PATH,),
			kwargs={"headers": {"Authorization": f"token {self.keys[FEED]}"}},
			site=self.site,
		)
		self.assertNotEqual(response.status_code, 200)
		self.assertEqual(self.stored(), [])

	# --- what is stored -----------------------------------------------------------------------

	def test_good_rows_are_stored_and_bad_rows_rejected_with_their_reason(self):
		rows = [
			self.row(value=5),
			self.row(customer=1, value="8.5", source="warehouse"),
			{**self.row(), "customer": f"{TEST_PREFIX} No Such Customer"},
			{**self.row(), "metric": "No Such Metric"},
			self.row(day="31/12/2026"),
			self.row(value="lots"),
		]
		response = self.post({"rows": rows}, as_user=FEED)
		self.assertEqual(response.status_code, 200, response.json)
		reply = response.json["message"]
		self.assertEqual(reply["received"], 6)
		self.assertEqual(reply["stored"], 2)
		self.assertEqual([r["index"] for r in reply["rejected"]], [2, 3, 4, 5])
		reasons = [r["reason"] for r in reply["rejected"]]
		self.assertIn("No Such Customer", reasons[0])
		self.assertIn("No Such Metric", reasons[1])
		self.assertIn("YYYY-MM-DD", reasons[2])
		self.assertIn("not a number", reasons[3])
		stored = {r.customer: r for r in self.stored()}
		self.assertEqual(
			{c: r.value for c, r in stored.items()}, {self.customers[0]: 5, self.customers[1]: 8.5}
		)
		self.assertEqual(stored[self.customers[0]].source, "API")  # no source sent: the API's
		self.assertEqual(stored[self.customers[1]].source, "warehouse")
		self.assertEqual({r.owner for r in stored.values()}, {FEED})

	def test_a_value_beyond_the_column_is_rejected_with_its_reason_and_the_rest_stored(self):
		response = self.post({"rows": [self.row(value=5), self.row(customer=1, value=1e13)]}, as_user=FEED)
		self.assertEqual(response.status_code, 200, response.json)
		reply = response.json["message"]
		self.assertEqual((reply["received"], reply["stored"]), (2, 1))
		self.assertEqual([r["index"] for r in reply["rejected"]], [1])
		self.assertIn("too large", reply["rejected"][0]["reason"])
		self.assertEqual([(r.customer, r.value) for r in self.stored()], [(self.customers[0], 5)])

	def test_a_rejected_value_is_named_as_it_was_sent(self):
		rows = [
			self.row(value=-1),
			{**self.row(), "customer": ["a list"]},
			{**self.row(), "metric": {"not": "text"}},
		]
		response = self.post({"rows": rows}, as_user=FEED)
		self.assertEqual(response.status_code, 200, response.json)
		reasons = [r["reason"] for r in response.json["message"]["rejected"]]
		self.assertEqual(reasons[0], "value: -1 is negative; usage is zero or more.")
		self.assertEqual(reasons[1], 'customer: there is no Customer ["a list"].')
		self.assertEqual(reasons[2], 'metric: there is no enabled Usage Metric Definition {"not": "text"}.')
		self.assertEqual(self.stored(), [])

	def test_a_bare_json_list_and_basic_auth_are_accepted_too(self):
		token = base64.b64encode(self.keys[FEED].encode()).decode()
		response = self.post([self.row(value=3)], auth=f"Basic {token}")
		self.assertEqual(response.status_code, 200, response.json)
		self.assertEqual([r.value for r in self.stored()], [3])

	def test_a_resend_updates_the_day_and_never_duplicates_it(self):
		day = add_days(nowdate(), -2)
		self.assertEqual(self.post({"rows": [self.row(value=4, day=day)]}, as_user=FEED).status_code, 200)
		again = self.post({"rows": [self.row(value=9, day=day), self.row(value=11, day=day)]}, as_user=FEED)
		self.assertEqual(again.status_code, 200)
		stored = self.stored()
		self.assertEqual(len(stored), 1)
		self.assertEqual(stored[0].value, 11)  # the last sent wins, inside a batch and across batches

	# --- refused whole ---------------------------------------------------------------------------

	def test_a_batch_over_the_limit_is_refused_whole(self):
		rows = [
			self.row(day=add_days(nowdate(), -(i % 300)), value=i)
			for i in range(engine.DEFAULT_BATCH_LIMIT + 1)
		]
		response = self.post({"rows": rows}, as_user=FEED)
		self.assertEqual(response.status_code, 413)
		self.assertIn(str(engine.DEFAULT_BATCH_LIMIT), self.message(response))
		self.assertEqual(self.stored(), [])

	def test_malformed_json_is_refused_whole_with_a_clear_error(self):
		# rows as form text: our parser answers, naming the problem
		text = json.dumps([self.row()])[:-3]
		response = self.post(as_user=FEED, data={"rows": text})
		self.assertEqual(response.status_code, 400)
		self.assertIn("not valid JSON", self.message(response))
		# a body that is not JSON at all, sent as JSON: frappe cannot read it, the API still answers
		# with its own 400 and message, and no traceback
		broken = self.post(
			as_user=FEED,
			data='{"rows": [',
			headers={"Authorization": f"token {self.keys[FEED]}", "Content-Type": "application/json"},
		)
		self.assertEqual(broken.status_code, 400)
		self.assertEqual(broken.json["exc_type"], "MalformedBatchError")
		self.assertIn("The batch is not valid JSON", self.message(broken))
		self.assertIn("nothing was stored", self.message(broken))
		self.assertNotIn("Traceback", broken.get_data(as_text=True))
		# a JSON object without rows
		empty = self.post({"rows": "nope"}, as_user=FEED)
		self.assertEqual(empty.status_code, 400)
		self.assertEqual(self.stored(), [])
