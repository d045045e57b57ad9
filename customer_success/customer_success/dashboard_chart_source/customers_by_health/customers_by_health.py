"""Active customers per health status, for the "Customers by Health" donut."""

import frappe
from frappe import _

from customer_success.customer_success.api import health_status_counts, scope_label
from customer_success.health.engine import STATUSES
from customer_success.permissions import book_of


@frappe.whitelist()
def get(**kwargs) -> dict:
	"""Counts in the fixed order Green, Yellow, Red, Insufficient Data (zeros included), so the
	chart's fixed colours (green, yellow, red, grey) always sit on the right status.

	A CSM's donut counts her book, a CS Manager's the team (as the number cards do); read through
	frappe.get_list, so each user counts only the customers they may read.
	"""
	frappe.has_permission("Customer", "read", throw=True)
	csm = book_of()
	data = chart_data(status_counts(csm))
	data["label"] = _("{0} ({1})").format(_("Customers by Health"), scope_label(csm))
	return data


def status_counts(csm: str | None = None) -> dict[str, int]:
	return health_status_counts(csm)


def chart_data(counts: dict[str, int]) -> dict:
	return {
		"labels": [_(status) for status in STATUSES],
		"datasets": [{"name": _("Customers"), "values": [counts.get(status, 0) for status in STATUSES]}],
	}
