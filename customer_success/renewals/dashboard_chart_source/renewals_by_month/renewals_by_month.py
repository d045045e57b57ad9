"""Renewals by the month their contract ends, stacked by health signal (a CSM sees her own book)."""

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, get_last_day, nowdate

from customer_success.permissions import book_of
from customer_success.renewals import engine, queries

STATUSES = (engine.GREEN, engine.YELLOW, engine.RED, engine.NO_COLOUR)
MONTHS_BACK, MONTHS_AHEAD = 3, 6


@frappe.whitelist()
def get(**kwargs) -> dict:
	frappe.has_permission("Renewal", "read", throw=True)
	first = get_first_day(add_months(nowdate(), -MONTHS_BACK))
	last = get_last_day(add_months(nowdate(), MONTHS_AHEAD))
	return chart_data(queries.renewals_by_month(first, last, book_of()), first)


def chart_data(rows: list[dict], first) -> dict:
	months = [str(add_months(first, i))[:7] for i in range(MONTHS_BACK + MONTHS_AHEAD + 1)]
	counts: dict[tuple[str, str], int] = {}
	for row in rows:
		key = (row.month, row.signal_status or engine.NO_COLOUR)
		counts[key] = counts.get(key, 0) + int(row["count"])
	return {
		"labels": months,
		"datasets": [
			{"name": _(status), "values": [counts.get((month, status), 0) for month in months]}
			for status in STATUSES
		],
	}
