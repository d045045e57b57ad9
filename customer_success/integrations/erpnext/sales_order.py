"""Sales Order events: a submitted order is a closed deal, so customer success gets a handoff."""

import frappe
from frappe import _
from frappe.utils import cint, format_datetime, now_datetime

from customer_success import handoffs


def draft_handoff_on_submit(doc, method=None):
	"""Draft a Sales Handoff for the order unless the customer already has an open one.

	A failure here must not stop sales from submitting the order: it is logged and the order
	goes through without a handoff (one can be drafted by hand from the Sales Handoff form).
	"""
	if not cint(frappe.db.get_single_value("Customer Success Settings", "auto_draft_handoff")):
		return
	if frappe.db.exists("Sales Handoff", {"sales_order": doc.name}) or handoffs.open_handoff_for(
		customer=doc.customer
	):
		return
	frappe.db.savepoint("cs_draft_handoff")
	try:
		handoff = handoffs.draft_handoff(doc, received_on=now_datetime())
	except Exception:
		frappe.db.rollback(save_point="cs_draft_handoff")
		frappe.log_error(title=_("Could not draft a Sales Handoff for {0}").format(doc.name))
		return

	from customer_success.customer_success.doctype.sales_handoff.sales_handoff import assign

	due = _(" by {0}").format(format_datetime(handoff.due_by)) if handoff.due_by else ""
	assign(
		handoff,
		handoff.sales_owner,
		_("Complete the handoff of {0} ({1}) to customer success{2}.").format(
			handoff.customer_name or handoff.customer, doc.name, due
		),
	)
	frappe.msgprint(
		_("Sales Handoff {0} drafted for customer success.").format(
			frappe.utils.get_link_to_form("Sales Handoff", handoff.name)
		),
		alert=True,
	)
