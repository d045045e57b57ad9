"""A score says what is known, and nothing more.

Too little known gives no colour ("Insufficient Data", counted in no green/yellow/red figure);
"never contacted" is a fact for a live customer; the engagement records are the touches the
score counts.
"""

import json
from unittest.mock import patch

import frappe
from frappe.utils import add_days, add_to_date, getdate, now_datetime, nowdate

from customer_success.customer_success.dashboard_chart_source.customers_by_health import (
	customers_by_health as chart,
)
from customer_success.health import api, engine, queries
from customer_success.health import service as health
from customer_success.health.test_health import CSM1, HealthTestCase, factors_of, latest_row, score_row
from customer_success.tests.utils import (
	change_settings,
	make_communication,
	make_contact,
	make_contract,
	make_customer,
	make_issue,
	make_sales_invoice,
	make_sales_order,
)

INSUFFICIENT = engine.INSUFFICIENT_DATA


def tier_model(factors, tier="SMB"):
	return frappe.get_doc(
		{
			"doctype": "Health Score Model",
			"model_name": f"_CS Test Truth {tier}",
			"applies_to_tier": tier,
			"green_min": 70,
			"red_below": 40,
			"factors": [{"factor_type": f, "weight": w, "enabled": 1} for f, w in factors],
		}
	).insert()


def counted_by_card(card: str, customer: str) -> int:
	"""How many times the number card counts `customer` (its own filters, narrowed to it)."""
	method = frappe.db.get_value("Number Card", card, "method")
	if method:  # a custom card: the filters of the list it opens are what it counts
		filters = {**frappe.get_attr(method)()["route_options"], "name": customer}
		return frappe.db.count("Customer", filters)
	filters = [f[:4] for f in json.loads(frappe.db.get_value("Number Card", card, "filters_json"))]
	return frappe.db.count("Customer", [*filters, ["Customer", "name", "=", customer]])


class TestInsufficientData(HealthTestCase):
	def test_nothing_known_is_insufficient_data_not_green(self):
		customer = make_customer(cs_owner=CSM1).name  # no order, no issue, no touch: a name only
		health.recompute_customer(customer)
		row = latest_row(customer)
		self.assertEqual((row.status, row.computed_status), (INSUFFICIENT, INSUFFICIENT))
		self.assertIsNone(factors_of(row)[engine.SUPPORT_LOAD]["raw"])  # no open issues is not "perfect"
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), INSUFFICIENT)
		for card in ("Green Customers", "Yellow Customers", "Red Customers"):
			self.assertEqual(counted_by_card(card, customer), 0, card)
		self.assertIn(INSUFFICIENT, frappe.get_meta("Customer").get_field("cs_health_status").options)

	def test_a_new_customer_nobody_has_talked_to_is_not_green(self):
		"""A first bill not due yet shows nothing of how the customer pays, and with nothing billed in
		the window before there is no revenue trend: neither is scored (they were 100 each, and a
		customer never contacted came out Green 80)."""
		today = getdate(nowdate())
		customer = make_customer(cs_owner=CSM1).name
		make_sales_invoice(
			customer, rate=1200, posting_date=add_days(today, -10), due_date=add_days(today, 20)
		)
		make_contract(customer, add_days(today, -10), add_days(today, 355))
		health.recompute_customer(customer)
		row = latest_row(customer)
		factors = factors_of(row)
		for factor in (engine.PAYMENT_BEHAVIOUR, engine.REVENUE_TREND):
			self.assertIsNone((factors.get(factor) or {}).get("raw"), factor)
		self.assertNotEqual(row.status, engine.GREEN)
		# once a bill has come due (or is paid), how the customer pays is known
		make_sales_invoice(
			customer, rate=800, posting_date=add_days(today, -60), due_date=add_days(today, -30)
		)
		health.recompute_customer(customer)
		self.assertIsNotNone(factors_of(latest_row(customer))[engine.PAYMENT_BEHAVIOUR]["raw"])

	def test_below_the_set_share_no_colour_at_exactly_the_share_a_colour(self):
		tier_model([(engine.SUPPORT_LOAD, 40), (engine.PAYMENT_BEHAVIOUR, 60)])
		customer = make_customer(cs_tier="SMB").name
		make_issue(customer, "Low", status="Closed")  # support load known (none open); never invoiced
		with change_settings(min_known_weight_share=50):
			health.recompute_customer(customer)
		row = latest_row(customer)
		self.assertEqual(row.status, INSUFFICIENT)
		self.assertEqual(row.computed_score, 100)  # kept to explain, not shown as a score
		self.assertEqual(row.trend, 0)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), INSUFFICIENT)

		with change_settings(min_known_weight_share=40):
			health.recompute_customer(customer)
		self.assertEqual(latest_row(customer).status, engine.GREEN)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), engine.GREEN)
		self.assertEqual(counted_by_card("Green Customers", customer), 1)

		# the same day with a stricter setting: the colour of the earlier run does not linger
		with change_settings(min_known_weight_share=41):
			health.recompute_customer(customer)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), INSUFFICIENT)
		self.assertEqual(counted_by_card("Green Customers", customer), 0)

	def test_an_override_gives_a_colour(self):
		customer = make_customer(cs_owner=CSM1).name
		health.recompute_customer(customer)
		self.assertEqual(latest_row(customer).status, INSUFFICIENT)
		row = api.set_override(customer, 30, "Sponsor left last week", add_days(nowdate(), 5))
		self.assertEqual((row["status"], row["computed_status"]), (engine.RED, INSUFFICIENT))
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), engine.RED)
		self.assertEqual(counted_by_card("Red Customers", customer), 1)

	def test_a_day_without_colour_is_no_trend_baseline(self):
		tier_model([(engine.SUPPORT_LOAD, 100)])
		customer = make_customer(cs_tier="SMB").name
		make_issue(customer, "Low")  # 1 weighted open issue: 90
		queries.upsert_scores(
			[{**score_row(customer, add_days(nowdate(), -30), 10.0), "status": INSUFFICIENT}]
		)
		health.recompute_customer(customer)
		self.assertEqual(latest_row(customer).score, 90)
		self.assertEqual(latest_row(customer).trend, 0)

	def test_donut_counts_every_status_in_a_fixed_order(self):
		customer = make_customer().name
		before = chart.status_counts().get(INSUFFICIENT, 0)
		health.recompute_customer(customer)
		self.assertEqual(chart.status_counts().get(INSUFFICIENT, 0), before + 1)
		data = chart.get(chart_name="Customers by Health")
		self.assertEqual(data["labels"], [frappe._(s) for s in engine.STATUSES])
		self.assertEqual(len(data["datasets"][0]["values"]), 4)
		colours = json.loads(frappe.db.get_value("Dashboard Chart", "Customers by Health", "custom_options"))[
			"colors"
		]
		self.assertEqual(len(colours), len(engine.STATUSES))
		self.assertEqual(
			frappe.db.get_value("Dashboard Chart", "Customers by Health", "source"), "Customers by Health"
		)


class TestWhatIsKnown(HealthTestCase):
	def factors(self, customer):
		health.recompute_customer(customer)
		return factors_of(latest_row(customer))

	def test_live_customers_in_one_query(self):
		order = make_customer().name
		make_sales_order(order)
		draft = make_customer().name
		make_sales_order(draft, submit=False)
		invoiced = make_customer().name
		make_sales_invoice(invoiced)
		cancelled = make_customer().name
		make_sales_invoice(cancelled).cancel()
		contracted = make_customer().name
		make_contract(contracted, add_days(nowdate(), -10), add_days(nowdate(), 300))
		names = [order, draft, invoiced, cancelled, contracted]
		live = queries.live_customers(min(names), max(names))
		self.assertTrue({order, invoiced, contracted} <= live)
		self.assertFalse({draft, cancelled} & live)

	def test_support_load_is_known_only_for_live_customers_or_ones_with_issues(self):
		prospect = make_customer().name
		live = make_customer().name
		make_sales_order(live)
		past_issues = make_customer().name
		make_issue(past_issues, "High", status="Closed")
		self.assertIsNone(self.factors(prospect)[engine.SUPPORT_LOAD]["raw"])
		self.assertEqual(self.factors(live)[engine.SUPPORT_LOAD]["raw"], 0)
		self.assertEqual(self.factors(live)[engine.SUPPORT_LOAD]["sub_score"], 100)
		self.assertEqual(self.factors(past_issues)[engine.SUPPORT_LOAD]["raw"], 0)

	def test_never_contacted_is_the_worst_engagement_for_a_live_customer(self):
		prospect = make_customer().name
		self.assertIsNone(self.factors(prospect)[engine.ENGAGEMENT_RECENCY]["raw"])
		for make_live in (
			lambda c: make_sales_order(c),
			lambda c: make_sales_invoice(c),
			lambda c: make_contract(c, add_days(nowdate(), -10), add_days(nowdate(), 300)),
		):
			customer = make_customer().name
			make_live(customer)
			engagement = self.factors(customer)[engine.ENGAGEMENT_RECENCY]
			self.assertEqual(engagement["raw"], engine.NEVER_CONTACTED)
			self.assertEqual(engagement["sub_score"], 0)
			self.assertGreater(engagement["effective_weight"], 0)

	def test_scoring_stays_set_based(self):
		"""The queries of a chunk do not grow with its customers."""
		few = [make_customer().name]
		many = [make_customer().name for _ in range(5)]
		for name in many:
			make_sales_order(name)
		models = health.load_models()

		def count_queries(names):
			real = frappe.db.sql
			with patch.object(frappe.db, "sql", side_effect=real) as sql:
				health.gather_facts(min(names), max(names), models, getdate(nowdate()), 30)
			return sql.call_count

		self.assertEqual(count_queries(few), count_queries(many))


class TestEngagementRecords(HealthTestCase):
	def test_the_dialog_lists_exactly_the_touches_the_score_counts(self):
		customer = make_customer(cs_owner=CSM1).name
		contact = make_contact(customer).name
		issue = make_issue(customer).name
		on_customer = make_communication(customer, days_ago=10)
		on_timeline = make_communication(
			customer, days_ago=8, reference_doctype="Issue", reference_name=issue
		)
		on_timeline.add_link("Customer", customer)
		on_timeline.save(ignore_permissions=True)
		on_contact = make_communication(
			customer, days_ago=6, reference_doctype="Contact", reference_name=contact
		)
		on_contact_timeline = make_communication(
			customer, days_ago=4, reference_doctype="Issue", reference_name=issue
		)
		on_contact_timeline.add_link("Contact", contact)
		on_contact_timeline.save(ignore_permissions=True)
		event = frappe.get_doc(
			{
				"doctype": "Event",
				"subject": "_CS Test review",
				"event_type": "Public",
				"starts_on": add_to_date(now_datetime(), days=-2),
				"event_participants": [{"reference_doctype": "Customer", "reference_docname": customer}],
			}
		).insert(ignore_permissions=True)
		automated = make_communication(customer, days_ago=1)
		frappe.db.set_value("Communication", automated.name, "communication_type", "Automated Message")

		health.recompute_customer(customer)
		days = factors_of(latest_row(customer))[engine.ENGAGEMENT_RECENCY]["raw"]
		self.assertEqual(days, 2)  # the event is the latest touch; the automated message is none

		records = api.get_factor_records(customer, engine.ENGAGEMENT_RECENCY)
		listed = {(r.document_type, r.name) for r in records["records"]}
		communications = (on_customer, on_timeline, on_contact, on_contact_timeline)
		# the event's own communication (frappe writes one per participant) is the event itself
		expected = {("Communication", c.name) for c in communications} | {("Event", event.name)}
		self.assertEqual(listed, expected)
		self.assertEqual(records["counted"], len(records["records"]))
		newest = records["records"][0]
		self.assertEqual((newest.document_type, newest.name), ("Event", event.name))
		self.assertEqual((getdate(nowdate()) - getdate(newest.date)).days, days)

	def test_cancelled_and_future_events_are_no_touch(self):
		customer = make_customer(cs_owner=CSM1).name
		held = make_communication(customer, days_ago=5)

		def event(subject, days, **fields):
			return frappe.get_doc(
				{
					"doctype": "Event",
					"subject": subject,
					"event_type": "Public",
					"starts_on": add_to_date(now_datetime(), days=days),
					"event_participants": [{"reference_doctype": "Customer", "reference_docname": customer}],
					**fields,
				}
			).insert(ignore_permissions=True)

		event("_CS Test cancelled call", -1, status="Cancelled")
		event("_CS Test call next week", 7)

		health.recompute_customer(customer)
		days = factors_of(latest_row(customer))[engine.ENGAGEMENT_RECENCY]["raw"]
		self.assertEqual(days, 5)  # the communication; neither event counts
		records = api.get_factor_records(customer, engine.ENGAGEMENT_RECENCY)
		self.assertEqual(
			{(r.document_type, r.name) for r in records["records"]}, {("Communication", held.name)}
		)
