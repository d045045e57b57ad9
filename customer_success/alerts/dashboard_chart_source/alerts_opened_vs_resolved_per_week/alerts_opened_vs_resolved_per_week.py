"""Alerts raised and alerts resolved per week over the last twelve weeks, for the "Alerts Opened vs
Resolved per Week" lines: a CSM's count her book, a CS Manager's the team (through frappe.get_list)."""

import frappe
from frappe import _
from frappe.utils import add_days, formatdate, get_first_day_of_week, getdate, nowdate

from customer_success.alerts import engine
from customer_success.customer_success.api import count_records, scope_label
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
	opened, resolved = [], []
	for start in starts:
		week = [str(start), str(add_days(start, 7))]
		opened.append(count_records("CS Alert", [["creation", ">=", week[0]], ["creation", "<", week[1]]]))
		resolved.append(
			count_records(
				"CS Alert",
				[["status", "=", engine.RESOLVED], ["closed_on", ">=", week[0]], ["closed_on", "<", week[1]]],
			)
		)
	return {
		"labels": [formatdate(start) for start in starts],
		"datasets": [
			{"name": _("Opened"), "values": opened},
			{"name": _("Resolved"), "values": resolved},
		],
		"label": _("{0} ({1})").format(_("Alerts Opened vs Resolved per Week"), scope_label(book_of())),
	}
