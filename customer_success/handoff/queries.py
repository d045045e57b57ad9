"""Set-based reads and bulk writes for handoffs."""

import frappe
from frappe.query_builder.functions import Count

from customer_success.handoff import engine

OPEN_STATUSES = engine.OPEN_STATUSES
RECENT_COMMUNICATIONS = 5


def open_handoff_for(sales_order: str | None = None, customer: str | None = None) -> str | None:
	filters = {"status": ("in", OPEN_STATUSES)}
	if sales_order:
		filters["sales_order"] = sales_order
	if customer:
		filters["customer"] = customer
	return frappe.db.get_value("Sales Handoff", filters, "name")


def did_business_before(customer: str, order: str) -> bool:
	"""Has the customer a submitted Sales Order other than `order`, or a submitted Sales Invoice (a
	return is no business won)? Two indexed existence checks."""
	if frappe.db.exists("Sales Order", {"customer": customer, "docstatus": 1, "name": ("!=", order)}):
		return True
	return bool(frappe.db.exists("Sales Invoice", {"customer": customer, "docstatus": 1, "is_return": 0}))


def recent_communications(
	customer: str, references: dict[str, list[str]], limit: int = RECENT_COMMUNICATIONS
):
	"""The latest communications with the customer: on the customer, its timeline, or the deal's documents."""
	comm = frappe.qb.DocType("Communication")
	link = frappe.qb.DocType("Communication Link")
	linked = (
		frappe.qb.from_(link)
		.select(link.parent)
		.where((link.link_doctype == "Customer") & (link.link_name == customer))
	)
	condition = ((comm.reference_doctype == "Customer") & (comm.reference_name == customer)) | comm.name.isin(
		linked
	)
	for doctype, names in references.items():
		names = [n for n in names if n]
		if names:
			condition = condition | ((comm.reference_doctype == doctype) & comm.reference_name.isin(names))
	return (
		frappe.qb.from_(comm)
		.select(
			comm.name, comm.communication_date, comm.subject, comm.communication_medium, comm.sent_or_received
		)
		.where(comm.communication_type == "Communication")
		.where(condition)
		.orderby(comm.communication_date, order=frappe.qb.desc)
		.limit(limit)
		.run(as_dict=True)
	)


def flag_late_handoffs(now) -> dict[str, int]:
	"""Hourly: flag open handoffs past their due time, unflag the rest. Two set-based updates."""
	ho = frappe.qb.DocType("Sales Handoff")
	newly_late = (
		frappe.qb.from_(ho)
		.select(Count(ho.name))
		.where(ho.status.isin(OPEN_STATUSES) & ho.due_by.isnotnull() & (ho.due_by < now) & (ho.is_late == 0))
		.run()[0][0]
	)
	frappe.qb.update(ho).set(ho.is_late, 1).set(ho.sla_missed, 1).where(
		ho.status.isin(OPEN_STATUSES) & ho.due_by.isnotnull() & (ho.due_by < now) & (ho.is_late == 0)
	).run()
	frappe.qb.update(ho).set(ho.is_late, 0).where(
		(ho.is_late == 1) & (ho.status.notin(OPEN_STATUSES) | ho.due_by.isnull() | (ho.due_by >= now))
	).run()
	return {"newly_late": newly_late}
