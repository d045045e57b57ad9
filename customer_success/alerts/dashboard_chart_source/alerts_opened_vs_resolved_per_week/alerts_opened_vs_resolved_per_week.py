"""Alerts raised and alerts resolved per week over the last twelve weeks, for the "Alerts Opened vs
Resolved per Week" lines: a CSM's count her book, a CS Manager's the team (through frappe.get_list)."""

import frappe
from frappe import _
from frappe.utils import add_days, formatdate, get_first_day_of_week, getdate, nowdate

from customer_success.alerts import engine
from customer_success.customer_success.api import scope_label
from customer_success.permissions import book_of

WEEKS = 12


def week_starts(today, weeks: int = WEEKS) -> list:
	"""The first days of the last `weeks` weeks, oldest first (this week last)."""
	this_week = getdate(get_first_day_of_week(today))
	return [add_days(this_week, -7 * back) for back in range(weeks - 1, -1, -1)]


def per_week(starts: list, field: str, filters: list) -> list[int]:
	"""Alerts per week of `starts` by the day of `field`: one grouped count over the whole window, read
	through frappe.get_list (the user's row rules), then summed into weeks."""
	rows = frappe.get_list(
		"CS Alert",
		filters=filters,
		fields=[f"date({field}) as day", "count(name) as n"],
		group_by=f"date({field})",
		order_by=f"date({field})",
	)
	counts = [0] * len(starts)
	for row in rows:
		week = (getdate(row.day) - starts[0]).days // 7
		if 0 <= week < len(starts):
			counts[week] += int(row.n)
	return counts


@frappe.whitelist()
def get(**kwargs) -> dict:
	frappe.has_permission("CS Alert", "read", throw=True)
	starts = week_starts(getdate(nowdate()))
	window = [str(starts[0]), str(add_days(starts[-1], 7))]
	opened = per_week(starts, "creation", [["creation", ">=", window[0]], ["creation", "<", window[1]]])
	resolved = per_week(
		starts,
		"closed_on",
		[["status", "=", engine.RESOLVED], ["closed_on", ">=", window[0]], ["closed_on", "<", window[1]]],
	)
	return {
		"labels": [formatdate(start) for start in starts],
		"datasets": [
			{"name": _("Opened"), "values": opened},
			{"name": _("Resolved"), "values": resolved},
		],
		"label": _("{0} ({1})").format(_("Alerts Opened vs Resolved per Week"), scope_label(book_of())),
	}
