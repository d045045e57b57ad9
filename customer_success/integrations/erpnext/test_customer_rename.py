"""A customer renamed, or merged into another with ERPNext's Rename ("Merge with existing"), with the
app's records about both: the merge goes through, and nothing the kept customer had is lost."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.health.queries import upsert_scores
from customer_success.health.test_health_reports import open_alert
from customer_success.integrations.erpnext.customer import before_rename
from customer_success.tests.utils import make_customer, make_sales_invoice, score_row
from customer_success.usage import queries as usage_queries

SUMMED = "CS Test Merge API Calls"
LAST = "CS Test Merge Seats"


def today():
	return getdate(nowdate())


def metric(name: str, aggregation: str):
	if not frappe.db.exists("Usage Metric Definition", name):
		frappe.get_doc(
			{"doctype": "Usage Metric Definition", "metric_name": name, "aggregation": aggregation}
		).insert(ignore_permissions=True)


def scores(customer: str) -> dict:
	return dict(
		frappe.get_all(
			"Customer Health Score",
			filters={"customer": customer},
			fields=["score_date", "score"],
			as_list=True,
		)
	)


def usage(customer: str) -> dict:
	return {
		(row.metric, row.usage_date): row.value
		for row in frappe.get_all(
			"Customer Usage Metric", filters={"customer": customer}, fields=["metric", "usage_date", "value"]
		)
	}


class TestCustomerRename(FrappeTestCase):
	def setUp(self):
		self.old = make_customer().name
		self.kept = make_customer().name
		rules = frappe.get_all("CS Alert Rule", pluck="name", order_by="name", limit=2)
		if len(rules) < 2:
			self.skipTest("the site has fewer than two alert rules")
		self.shared_rule, self.own_rule = rules
		days = [add_days(today(), -n) for n in range(3)]
		# both scored today and yesterday; the old customer the day before too
		upsert_scores(
			[score_row(self.old, day, 40) for day in days]
			+ [score_row(self.kept, day, 80, status="Green") for day in days[:2]]
		)
		metric(SUMMED, "Sum")
		metric(LAST, "Last")
		usage_queries.upsert_usage(
			[
				{"customer": customer, "metric": name, "usage_date": day, "value": value, "source": "test"}
				for customer, name, day, value in (
					(self.old, SUMMED, today(), 5),
					(self.old, SUMMED, days[1], 2),
					(self.kept, SUMMED, today(), 7),
					(self.old, LAST, today(), 3),
					(self.kept, LAST, today(), 9),
				)
			]
		)
		self.old_shared = open_alert(self.old, self.shared_rule).name
		self.old_own = open_alert(self.old, self.own_rule).name
		self.kept_shared = open_alert(self.kept, self.shared_rule).name
		self.days = days

	def tearDown(self):
		frappe.db.rollback()

	def leaked(self, invoice: str):
		return frappe.db.sql("select customer from cs_revenue_leak where invoice = %s", invoice, pluck=True)

	def retained(self, customer: str) -> int:
		"""The customer's parts in the Revenue Retention roll-up."""
		return frappe.db.sql("select count(*) from cs_retention_customer where customer = %s", customer)[0][0]

	def hold_todays_point(self):
		from customer_success.renewals import queries as renewal_queries

		if today() not in renewal_queries.retention_periods():
			renewal_queries.add_retention_periods([today()])

	def test_a_merge_keeps_the_kept_customers_days_and_brings_the_others(self):
		self.hold_todays_point()
		invoice = make_sales_invoice(self.old).name  # no contract covers it: a leak of the old one's
		self.assertEqual(self.leaked(invoice), [self.old])
		self.assertTrue(self.retained(self.old))
		since = last_change_id()
		frappe.rename_doc("Customer", self.old, self.kept, merge=True, force=True)
		self.assertEqual(self.leaked(invoice), [self.kept])
		self.assertEqual(self.retained(self.old), 0)
		self.assertTrue(self.retained(self.kept))
		# the Health Trend counted the old customer apart in every week and month it was scored in
		from customer_success.health import engine

		self.assertLessEqual(engine.trend_periods_of(self.days), stale_periods(since))

		self.assertFalse(frappe.db.exists("Customer", self.old))
		# the kept customer's own days stand; the old one's other day came with it
		self.assertEqual(
			scores(self.kept),
			{self.days[0]: 80, self.days[1]: 80, self.days[2]: 40},
		)
		# a day both used: added for a summed metric, the kept one's for the others
		self.assertEqual(
			usage(self.kept),
			{(SUMMED, today()): 12, (SUMMED, self.days[1]): 2, (LAST, today()): 9},
		)
		# one open alert of a rule a customer: the old one's of the shared rule is resolved, saying why
		self.assertEqual(
			frappe.db.get_value("CS Alert", self.old_shared, ["status", "customer"]), ("Resolved", self.kept)
		)
		self.assertIn(self.old, frappe.db.get_value("CS Alert", self.old_shared, "resolution"))
		for name, rule in ((self.kept_shared, self.shared_rule), (self.old_own, self.own_rule)):
			self.assertEqual(
				frappe.db.get_value("CS Alert", name, ["status", "customer", "open_key"]),
				("Open", self.kept, f"{self.kept}::{rule}"),
			)
		self.assertEqual(frappe.db.count("CS Alert", {"customer": self.old}), 0)

	def test_a_merge_keeps_one_entitlement_a_metric_the_kept_customers(self):
		definition = frappe.get_doc("Usage Metric Definition", SUMMED)
		definition.set(
			"entitlements",
			[
				{"customer": self.old, "entitlement": 400000},
				{"customer": self.kept, "entitlement": 160000},
			],
		)
		definition.save()
		other = frappe.get_doc("Usage Metric Definition", LAST)
		other.set("entitlements", [{"customer": self.old, "entitlement": 25}])
		other.save()
		frappe.rename_doc("Customer", self.old, self.kept, merge=True, force=True)
		definition.reload()
		self.assertEqual(
			[(r.customer, r.entitlement) for r in definition.entitlements], [(self.kept, 160000)]
		)
		definition.save()  # one row a customer: it saves
		other.reload()
		self.assertEqual([(r.customer, r.entitlement) for r in other.entitlements], [(self.kept, 25)])

	def test_a_renamed_customers_open_alerts_are_keyed_by_its_new_name(self):
		new = f"{self.old} Renamed"
		self.check_a_rename_to(new)

	def test_a_long_new_name_is_keyed_as_the_alerts_are(self):
		"""A customer's name may be 140 characters: the key (name and rule) is then kept as its MD5,
		in SQL as in Python, and the rename goes through."""
		from customer_success.alerts import engine

		new = (f"{self.old} " + "Long " * 24)[:140].strip()
		self.assertGreater(len(f"{new}::{self.shared_rule}"), engine.OPEN_KEY_LENGTH)
		frappe.rename_doc("Customer", self.old, new, force=True)
		for name, rule in ((self.old_shared, self.shared_rule), (self.old_own, self.own_rule)):
			self.assertEqual(frappe.db.get_value("CS Alert", name, "open_key"), engine.open_key(new, rule))
		# the unique key refuses a second open alert of the rule for the renamed customer
		self.assertRaises(frappe.UniqueValidationError, open_alert, new, self.shared_rule)

	def check_a_rename_to(self, new):
		self.hold_todays_point()
		invoice = make_sales_invoice(self.old).name
		retained = self.retained(self.old)
		self.assertTrue(retained)
		frappe.rename_doc("Customer", self.old, new, force=True)
		self.assertEqual(self.leaked(invoice), [new])
		self.assertEqual((self.retained(self.old), self.retained(new)), (0, retained))
		for name, rule in ((self.old_shared, self.shared_rule), (self.old_own, self.own_rule)):
			self.assertEqual(frappe.db.get_value("CS Alert", name, "open_key"), f"{new}::{rule}")
		self.assertEqual(len(scores(new)), 3)
		# a new customer may take the old name, and be alerted by the same rules
		make_customer(self.old)
		open_alert(self.old, self.shared_rule)

	def test_a_merge_frappe_refuses_changes_nothing(self):
		"""A user who may write the merged customer but not the kept one (a User Permission): frappe
		refuses the merge after `before_rename`, which changed nothing for it."""
		from customer_success.tests.utils import make_user

		user = "cs-test-merge-user@example.com"
		make_user(user, ["Sales User"])
		frappe.get_doc(
			{"doctype": "User Permission", "user": user, "allow": "Customer", "for_value": self.old}
		).insert(ignore_permissions=True)
		before = (scores(self.old), usage(self.old))
		frappe.set_user(user)
		try:
			self.assertTrue(frappe.has_permission("Customer", "write", doc=self.old))
			self.assertFalse(frappe.has_permission("Customer", "write", doc=self.kept))
			self.assertRaises(
				frappe.ValidationError, frappe.rename_doc, "Customer", self.old, self.kept, merge=True
			)
		finally:
			frappe.set_user("Administrator")
		self.assertEqual((scores(self.old), usage(self.old)), before)
		self.assertEqual(frappe.db.get_value("CS Alert", self.old_shared, "status"), "Open")

	def test_the_check_before_a_queued_rename_changes_nothing(self):
		"""The desk's rename dialog checks the new name (running `before_rename`) in the request and
		queues the rename: until it runs, and if it fails, the old customer keeps everything; the
		queued rename then merges."""
		from unittest.mock import patch

		from frappe.model.document import Document
		from frappe.model.rename_doc import update_document_title

		before = (scores(self.old), usage(self.old))
		doc = frappe.get_doc("Customer", self.old)
		before_rename(doc, "before_rename", self.old, self.kept, True)
		self.assertEqual((scores(self.old), usage(self.old)), before)

		with (
			patch("frappe.model.rename_doc.is_scheduler_inactive", return_value=False),
			patch.object(Document, "queue_action") as queued,
		):
			update_document_title(
				doctype="Customer", docname=self.old, name=self.kept, merge=True, enqueue=True
			)
		queued.assert_called_once()
		self.assertEqual(queued.call_args.kwargs.get("name"), self.kept)
		self.assertEqual((scores(self.old), usage(self.old)), before)
		self.assertEqual(frappe.db.get_value("CS Alert", self.old_shared, "status"), "Open")

		frappe.get_doc("Customer", self.old).rename(self.kept, merge=True)  # the queued job
		self.assertFalse(frappe.db.exists("Customer", self.old))
		self.assertEqual(len(scores(self.kept)), 3)
		self.assertEqual(frappe.db.get_value("CS Alert", self.old_shared, "status"), "Resolved")


def stale_periods(since_id: int) -> set[tuple[str, str]]:
	from customer_success.health.queries import TREND_CHANGES

	return set(
		frappe.db.sql(
			f"select period_type, period from `{TREND_CHANGES}` where id > %s",
			since_id,
		)
	)


def last_change_id() -> int:
	from customer_success.health.queries import TREND_CHANGES

	return frappe.db.sql(f"select ifnull(max(id), 0) from `{TREND_CHANGES}`")[0][0]


class TestCustomerDelete(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_a_scored_customer_with_nothing_else_can_be_deleted(self):
		"""The night scores every customer: its history does not keep a customer ERPNext would let go
		(one made by mistake), and the Health Trend counts its weeks and months again."""
		from customer_success.health import engine

		customer = make_customer().name
		days = [add_days(today(), -n) for n in (0, 40)]
		upsert_scores([score_row(customer, day, 50) for day in days])
		since = last_change_id()
		frappe.delete_doc("Customer", customer)
		self.assertFalse(frappe.db.exists("Customer", customer))
		self.assertEqual(frappe.db.count("Customer Health Score", {"customer": customer}), 0)
		self.assertLessEqual(engine.trend_periods_of(days), stale_periods(since))

	def test_a_customer_with_records_of_peoples_work_is_still_kept(self):
		customer = make_customer().name
		upsert_scores([score_row(customer, today(), 50)])
		rule = frappe.get_all("CS Alert Rule", pluck="name", limit=1)
		if not rule:
			self.skipTest("the site has no alert rule")
		open_alert(customer, rule[0])
		self.assertRaises(frappe.LinkExistsError, frappe.delete_doc, "Customer", customer)
