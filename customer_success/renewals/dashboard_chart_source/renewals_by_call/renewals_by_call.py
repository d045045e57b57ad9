"""Open renewals (those the nightly job made: ending within the renewal records' window) by the CSM's
latest call (a CSM sees her own book). Bars, not a donut: a donut of zeros draws nothing but errors."""

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from customer_success.permissions import book_of
from customer_success.renewals import engine, queries, service

NO_CALL = "No Call Yet"


@frappe.whitelist()
def get(**kwargs) -> dict:
	frappe.has_permission("Renewal", "read", throw=True)
	today = getdate(nowdate())
	figures = queries.window_figures(today, getdate(add_days(today, service.window_days())), book_of())
	calls = (*engine.CALLS, NO_CALL)
	by_call = {call or NO_CALL: count for call, count in figures["by_call"].items()}
	return {
		"labels": [_(call) for call in calls],
		"datasets": [{"name": _("Renewals"), "values": [by_call.get(call, 0) for call in calls]}],
	}
