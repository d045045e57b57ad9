"""Open handoffs of Sales Orders cancelled before this version stayed Draft (or Handed Over, or
Returned) with their ToDos open, held the order's deletion up, and stopped the customer's next
order from drafting a handoff. Cancel them as a cancel does from now on (amending the order still
reopens them), dated when their order was cancelled. Handoffs are few (one a new deal): each one
goes through the same code as a cancel."""

import frappe


def execute():
	from customer_success.handoff.engine import OPEN_STATUSES
	from customer_success.integrations.erpnext.sales_order import cancel_handoff

	if not frappe.db.table_exists("Sales Handoff"):
		return
	handoff = frappe.qb.DocType("Sales Handoff")
	order = frappe.qb.DocType("Sales Order")
	rows = (
		frappe.qb.from_(handoff)
		.join(order)
		.on(order.name == handoff.sales_order)
		.select(handoff.name, order.name.as_("order"), order.modified)
		.where(handoff.status.isin(OPEN_STATUSES) & (order.docstatus == 2))
		.run(as_dict=True)
	)
	for row in rows:
		cancel_handoff(row.name, frappe._dict(name=row.order), when=row.modified)
