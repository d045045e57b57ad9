"""Whitelisted handoff functions that are not actions on one handoff."""

import frappe
from frappe import _
from frappe.utils import cint, escape_html

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
		if not frappe.has_permission("Sales Handoff", "read", doc=existing):
			frappe.throw(
				_("Sales Order {0} already has an open handoff, which you may not open.").format(sales_order),
				frappe.PermissionError,
			)
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


# --- the handoff's contract, for sales (ERPNext's Sales User does not read Contracts) ----------


def _check_handoff_editor(customer: str):
	"""Whoever may write handoffs and read the customer: sales, the customer's CSM, a CS Manager."""
	if not (
		frappe.has_permission("Sales Handoff", "write") or frappe.has_permission("Sales Handoff", "create")
	):
		frappe.throw(frappe._("Not permitted"), frappe.PermissionError)
	frappe.has_permission("Customer", "read", doc=customer, throw=True)


def _customer_contracts(customer: str):
	contract = frappe.qb.DocType("Contract")
	return (
		frappe.qb.from_(contract)
		.select(contract.name, contract.start_date, contract.end_date)
		.where(
			(contract.party_type == "Customer") & (contract.party_name == customer) & (contract.docstatus < 2)
		)
	)


@frappe.whitelist()
@frappe.validate_and_sanitize_search_inputs
def customer_contracts(doctype, txt, searchfield, start, page_len, filters):
	"""The handoff's *Contract* search: the customer's contracts (not cancelled), newest first, with
	their terms. ERPNext's Sales User does not read Contracts, and sales fills the handoff: frappe's
	own search refused them ("You do not have Read or Select Permissions for Contract", tester A1)."""
	customer = (filters or {}).get("customer") if isinstance(filters, dict) else None
	if not customer:
		return []
	_check_handoff_editor(customer)
	contract = frappe.qb.DocType("Contract")
	query = _customer_contracts(customer).orderby(contract.start_date, order=frappe.qb.desc)
	if txt:
		query = query.where(contract.name.like(f"%{txt}%"))
	rows = query.limit(int(page_len or 10)).offset(int(start or 0)).run()
	return [
		(
			name,
			frappe._("{0} to {1}").format(
				*(frappe.format(day, {"fieldtype": "Date"}) for day in (begin, end))
			),
		)
		for name, begin, end in rows
	]


@frappe.whitelist()
def contract_term(customer: str, contract: str) -> dict:
	"""The start and end of one of the customer's contracts, for the handoff form (sales picks it)."""
	_check_handoff_editor(customer)
	contract_table = frappe.qb.DocType("Contract")
	rows = _customer_contracts(customer).where(contract_table.name == contract).run(as_dict=True)
	if not rows:
		frappe.throw(
			frappe._("Contract {0} is not a contract of {1}.").format(
				escape_html(str(contract)), escape_html(str(customer))
			),
			title=frappe._("Invalid Contract"),
		)
	return {"start_date": rows[0].start_date, "end_date": rows[0].end_date}
