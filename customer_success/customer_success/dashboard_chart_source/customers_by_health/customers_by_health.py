"""Active customers per health status, for the "Customers by Health" donut."""

import frappe
from frappe import _

from customer_success.health.engine import STATUSES


@frappe.whitelist()
def get(**kwargs) -> dict:
	"""Counts in the fixed order Green, Yellow, Red, Insufficient Data (zeros included), so the
	chart's fixed colours (green, yellow, red, grey) always sit on the right status.

	Read through frappe.get_list: each user counts only the customers they may read.
	"""
	return chart_data(status_counts())


def status_counts() -> dict[str, int]:
	rows = frappe.get_list(
		"Customer",
		fields=["cs_health_status as status", "count(name) as count"],
		filters={"disabled": 0, "cs_health_status": ("in", STATUSES)},
		group_by="cs_health_status",
		order_by="cs_health_status",
	)
	return {row.status: int(row.count) for row in rows}


def chart_data(counts: dict[str, int]) -> dict:
	return {
		"labels": [_(status) for status in STATUSES],
		"datasets": [{"name": _("Customers"), "values": [counts.get(status, 0) for status in STATUSES]}],
	}
