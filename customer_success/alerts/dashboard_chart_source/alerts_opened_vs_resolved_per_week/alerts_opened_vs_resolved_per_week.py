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


@frappe.whitelist()
def get(**kwargs) -> dict:
	frappe.has_permission("CS Alert", "read", throw=True)
	starts = week_starts(getdate(nowdate()))
	end = add_days(starts[-1], 7)
	opened = per_week(starts, daily_counts("creation", [], starts[0], end))
	resolved = per_week(starts, daily_counts("closed_on", [["status", "=", engine.RESOLVED]], starts[0], end))
	return {
		"labels": [formatdate(start) for start in starts],
		"datasets": [
			{"name": _("Opened"), "values": opened},
			{"name": _("Resolved"), "values": resolved},
		],
		"label": _("{0} ({1})").format(_("Alerts Opened vs Resolved per Week"), scope_label(book_of())),
	}


def daily_counts(field: str, filters: list, first, end) -> dict:
	"""{day: alerts whose `field` falls on it} from `first` to before `end`: one grouped read through
	frappe.get_list, so each user counts only the alerts they may read."""
	rows = frappe.get_list(
		"CS Alert",
		fields=[f"date({field}) as day", "count(name) as n"],
		filters=[*filters, [field, ">=", str(first)], [field, "<", str(end)]],
		group_by=f"date({field})",
		order_by=f"date({field})",
	)
	return {getdate(row.day): int(row.n) for row in rows}


def per_week(starts: list, by_day: dict) -> list[int]:
	return [sum(n for day, n in by_day.items() if start <= day < add_days(start, 7)) for start in starts]
