"""The team's health per CSM, for CS Managers: each CSM's book by health status."""

import frappe
from frappe import _

from customer_success.constants import CHURNED
from customer_success.health.engine import STATUSES
from customer_success.permissions import sees_all


@frappe.whitelist()
def get(**kwargs) -> dict:
	"""One stacked bar per CSM (and one for customers with no CSM), a dataset per status in the fixed
	order Green, Yellow, Red, Insufficient Data so the chart's colours sit on the right status."""
	frappe.has_permission("Customer", "read", throw=True)
	if not sees_all():
		frappe.throw(_("Only a CS Manager sees the team's health per CSM."), frappe.PermissionError)
	return chart_data(book_counts())


def book_counts() -> dict[str, dict[str, int]]:
	"""{csm (or "" for none): {status: customers}} over active customers not churned."""
	from customer_success.customer_success import book_counts

	if book_counts.usable():
		return {
			owner: counts
			for owner, counts in (
				(owner, {s: n for s, n in statuses.items() if s in STATUSES})
				for owner, statuses in book_counts.owner_status_counts().items()
			)
			if counts
		}
	rows = frappe.get_list(
		"Customer",
		fields=["cs_owner", "cs_health_status as status", "count(name) as count"],
		filters={
			"disabled": 0,
			"cs_lifecycle_stage": ("!=", CHURNED),
			"cs_health_status": ("in", STATUSES),
		},
		group_by="cs_owner, cs_health_status",
		order_by="cs_owner",
	)
	counts: dict[str, dict[str, int]] = {}
	for row in rows:
		counts.setdefault(row.cs_owner or "", {})[row.status] = int(row.count)
	return counts


def chart_data(counts: dict[str, dict[str, int]]) -> dict:
	owners = sorted(counts, key=lambda owner: (owner == "", owner))
	names = {
		user.name: user.full_name
		for user in frappe.get_all(
			"User", filters={"name": ("in", owners or [""])}, fields=["name", "full_name"]
		)
	}
	return {
		"labels": [names.get(owner) or owner or _("No CSM") for owner in owners],
		"datasets": [
			{"name": _(status), "values": [counts[owner].get(status, 0) for owner in owners]}
			for status in STATUSES
		],
	}
