"""Open alerts per severity, for the "Open Alerts by Severity" bars: a CSM's count her book, a CS
Manager's the team (read through frappe.get_list, so each user counts only the alerts they may read)."""

import frappe
from frappe import _

from customer_success.alerts import engine
from customer_success.customer_success.api import scope_label
from customer_success.permissions import book_of


@frappe.whitelist()
def get(**kwargs) -> dict:
	"""Counts in the fixed order Low, Medium, High, Critical (zeros included), so the chart's fixed
	colours sit on the right severity."""
	frappe.has_permission("CS Alert", "read", throw=True)
	rows = frappe.get_list(
		"CS Alert",
		fields=["severity", "count(name) as count"],
		filters={"status": ("in", engine.OPEN_STATUSES)},
		group_by="severity",
		order_by="severity",
	)
	counts = {row.severity: int(row.count) for row in rows}
	return {
		"labels": [_(severity) for severity in engine.SEVERITIES],
		"datasets": [{"name": _("Open Alerts"), "values": [counts.get(s, 0) for s in engine.SEVERITIES]}],
		"label": _("{0} ({1})").format(_("Open Alerts by Severity"), scope_label(book_of())),
	}
