"""Whitelisted handoff functions that are not actions on one handoff."""

import frappe
from frappe.utils import cint

from customer_success.handoff import engine, queries
from customer_success.handoff.service import draft_handoff, throw_cancelled_order

OPEN_STATUSES = engine.OPEN_STATUSES


@frappe.whitelist(methods=["POST"])
def make_handoff_from_sales_order(sales_order: str) -> str:
	"""Draft a Sales Handoff for a submitted Sales Order; returns the handoff (an open one if it exists)."""
	frappe.has_permission("Sales Order", "read", sales_order, throw=True)
	frappe.has_permission("Sales Handoff", "create", throw=True)
	if frappe.db.get_value("Sales Order", sales_order, "docstatus") == 2:
		throw_cancelled_order(sales_order)
	existing = queries.open_handoff_for(sales_order=sales_order)
	if existing:
		return existing
	return draft_handoff(sales_order).name


# --- repeat orders: news for the CSM, not a new onboarding ----------------------------------


@frappe.whitelist()
def handoff_counts() -> dict[str, int]:
	"""Open handoffs by status and how many are overdue (for the workspace)."""
	frappe.has_permission("Sales Handoff", "read", throw=True)
	# get_list applies the user's row-level rules: each user counts only the handoffs they see
	rows = frappe.get_list(
		"Sales Handoff",
		fields=["status", "sla_step", "is_late", "count(name) as n"],
		group_by="status, sla_step, is_late",
		order_by=None,
		limit_page_length=0,
	)
	counts = {
		"draft": 0,
		"handed_over": 0,
		"returned": 0,
		"accepted": 0,
		"open": 0,
		"overdue": 0,
		"overdue_hand_over": 0,
		"overdue_acceptance": 0,
	}
	for row in rows:
		counts[frappe.scrub(row.status)] = counts.get(frappe.scrub(row.status), 0) + row.n
		if row.status in OPEN_STATUSES:
			counts["open"] += row.n
			if cint(row.is_late):
				counts["overdue"] += row.n
				key = "overdue_acceptance" if row.sla_step == engine.ACCEPTANCE_STEP else "overdue_hand_over"
				counts[key] += row.n
	return counts
