"""Open renewals in the renewal window by the CSM's latest call (a CSM sees her own book)."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, nowdate

from customer_success.permissions import book_of
from customer_success.renewals import engine, queries

NO_CALL = "No Call Yet"


@frappe.whitelist()
def get(**kwargs) -> dict:
	frappe.has_permission("Renewal", "read", throw=True)
	today = getdate(nowdate())
	window = cint(frappe.db.get_single_value("Customer Success Settings", "renewal_window_days")) or 90
	figures = queries.window_figures(today, getdate(add_days(today, window)), book_of())
	calls = (*engine.CALLS, NO_CALL)
	by_call = {call or NO_CALL: count for call, count in figures["by_call"].items()}
	return {
		"labels": [_(call) for call in calls],
		"datasets": [{"name": _("Renewals"), "values": [by_call.get(call, 0) for call in calls]}],
	}
