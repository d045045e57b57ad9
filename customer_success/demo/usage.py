"""Demo step: product usage. Three metrics, and 90 days of daily values for every demo customer,
shaped by the kind of customer it is: healthy accounts use most of their seats and grow, middling
ones sit around half, at-risk ones fall away. Some healthy accounts run close to their entitlement,
so the expansion rule has something to find.

Called by demo.setup_demo as fn(registry, book); idempotent through the registry. The values are
written with the usage room's own bulk upsert (one statement per few thousand rows); teardown
removes them by customer (`delete_demo_usage`).
"""

import random

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.demo import ITEMS, SEED, remember
from customer_success.usage import engine
from customer_success.usage import queries as usage_queries

DAYS = 90
SOURCE = "Demo"
ACTIVE_USERS, API_CALLS, STORAGE = "Active Users", "API Calls", "Storage (GB)"
METRICS = (
	{
		"metric_name": ACTIVE_USERS,
		"unit": "users",
		"aggregation": engine.AVERAGE,
		"entitlement_item": ITEMS[0][0],  # the seats on the latest subscription order
		"description": "Distinct users signed in each day.",
	},
	{
		"metric_name": API_CALLS,
		"unit": "calls",
		"aggregation": engine.SUM,
		"description": "API calls each day; the entitlement is per month, set per customer.",
	},
	{
		"metric_name": STORAGE,
		"unit": "GB",
		"aggregation": engine.LAST,
		"description": "Storage in use at the end of each day.",
	},
)
# share of the seats in use at the start and at the end of the 90 days, by kind of customer
SHAPES = {"healthy": (0.75, 0.95), "middling": (0.55, 0.5), "at_risk": (0.6, 0.2)}
CALLS_PER_SEAT_PER_MONTH = 20000


def make_demo_usage(registry, book):
	if registry.get(usage_queries.DEFINITION):
		return
	profiles = book["customers"]
	made = _make_metrics(registry, profiles)
	rng = random.Random(SEED + 12)
	today = getdate(nowdate())
	rows = []
	for index, profile in enumerate(profiles):
		rows.extend(_customer_rows(profile, index, today, rng))
	usage_queries.upsert_usage(rows)
	return made


def _make_metrics(registry, profiles) -> list[str]:
	made = []
	for spec in METRICS:
		if frappe.db.exists(usage_queries.DEFINITION, spec["metric_name"]):
			continue  # someone's own metric of that name: used, never changed
		doc = frappe.get_doc({"doctype": usage_queries.DEFINITION, "enabled": 1, **spec})
		if spec["metric_name"] == API_CALLS:
			for profile in profiles:
				doc.append(
					"entitlements",
					{
						"customer": profile["name"],
						"entitlement": profile["seats"] * CALLS_PER_SEAT_PER_MONTH,
						"note": "Demo: calls per month for the plan",
					},
				)
		doc.insert(ignore_permissions=True)
		remember(registry, doc)
		made.append(doc.name)
	return made


def _customer_rows(profile: dict, index: int, today, rng: random.Random) -> list[dict]:
	start, end = SHAPES[profile["health"]]
	if profile["health"] == "healthy" and index % 3 == 0:
		end = 1.02  # outgrowing the plan: the expansion rule's case
	seats = profile["seats"]
	storage = 5.0 * seats
	rows = []
	for offset in range(DAYS):
		day = add_days(today, -(DAYS - 1 - offset))
		share = start + (end - start) * offset / (DAYS - 1)
		weekday = getdate(day).weekday() < 5
		users = max(0.0, round(seats * share * (1.0 if weekday else 0.4) + rng.uniform(-0.4, 0.4)))
		calls = max(0.0, round(users * rng.uniform(500, 900)))
		storage += max(0.0, rng.gauss(0.02 * seats * share, 0.01 * seats))
		for metric, value in ((ACTIVE_USERS, users), (API_CALLS, calls), (STORAGE, round(storage, 2))):
			rows.append(
				{
					"customer": profile["name"],
					"metric": metric,
					"usage_date": getdate(day),
					"value": value,
					"source": SOURCE,
				}
			)
	return rows


def delete_demo_usage(registry):
	"""The demo customers' usage rows, set-based (they are not registered one by one)."""
	usage_queries.delete_usage_of(registry.get("Customer", []))
