"""Sales handoffs around the document: prefill from ERPNext, the late-handoff job, the counts.

The Sales Handoff controller owns the lifecycle; this module reads ERPNext (Sales Order,
Quotation, Opportunity, Contract, Contact, Address, Communication) to draft a handoff, and keeps
the `is_late` flag current for the list view and the workspace's number card.
"""

import frappe
from frappe import _
from frappe.query_builder.functions import Count
from frappe.utils import cint, flt, fmt_money, format_date, now_datetime

from customer_success.engine import handoff as engine
from customer_success.permissions import can_own_customers

RECENT_COMMUNICATIONS = 5
OPEN_STATUSES = engine.OPEN_STATUSES
ACCEPTED = "Accepted"
# Lifecycle stages of a customer already past onboarding: its next order is a repeat order.
LIVE_STAGES = ("Adoption", "Value Realisation", "Renewal", "Expansion")
CHURNED = "Churned"


# --- prefill -----------------------------------------------------------------------------


def prefill_from_sales_order(handoff, sales_order) -> None:
	"""Fill a Sales Handoff (in memory) from a submitted Sales Order and what surrounds it.

	Snapshots (order lines, totals, payment schedule, recent communications) are replaced;
	what sales may have typed or chosen (contact, address, owners, contract) is kept when set.
	"""
	order = sales_order if not isinstance(sales_order, str) else frappe.get_doc("Sales Order", sales_order)
	if order.docstatus != 1:
		frappe.throw(
			_(
				"Sales Order {0} is not submitted: hand over closed deals only (submit the order first)."
			).format(order.name)
		)
	if handoff.customer and handoff.customer != order.customer:
		frappe.throw(
			_("Sales Order {0} is for customer {1}, not {2}: pick an order of this customer.").format(
				order.name, order.customer, handoff.customer
			),
			title=_("Wrong Customer"),
		)
	customer = frappe.db.get_value(
		"Customer",
		order.customer,
		["customer_name", "customer_primary_contact", "customer_primary_address", "cs_owner"],
		as_dict=True,
	)
	handoff.customer = order.customer
	handoff.customer_name = customer.customer_name
	handoff.sales_order = order.name
	handoff.company = order.company
	handoff.sales_owner = handoff.sales_owner or order.owner
	if not handoff.proposed_csm and can_own_customers(customer.cs_owner):
		# a customer's cs_owner who is no longer a CSM would block the draft: leave it to sales
		handoff.proposed_csm = customer.cs_owner
	handoff.order_received_on = handoff.order_received_on or order.creation

	handoff.primary_contact = (
		handoff.primary_contact or order.contact_person or customer.customer_primary_contact
	)
	handoff.customer_address = (
		handoff.customer_address or order.customer_address or customer.customer_primary_address
	)
	if handoff.primary_contact:
		contact = frappe.db.get_value(
			"Contact",
			handoff.primary_contact,
			["full_name", "designation", "email_id", "phone", "mobile_no"],
			as_dict=True,
		)
		if contact:
			handoff.contact_display = contact.full_name
			handoff.contact_designation = contact.designation
			handoff.contact_email = contact.email_id
			handoff.contact_phone = contact.phone or contact.mobile_no
	if handoff.customer_address:
		from frappe.contacts.doctype.address.address import get_address_display

		handoff.address_display = get_address_display(handoff.customer_address)

	_set_order_lines(handoff, order)
	_set_payment_terms(handoff, order)
	_set_deal_history(handoff, order)
	_set_contract(handoff, order)
	_set_communications(handoff, order)


def refresh_order_snapshot(handoff, order) -> None:
	"""Point the handoff at the order and copy its lines, totals and payment terms."""
	handoff.sales_order = order.name
	_set_order_lines(handoff, order)
	_set_payment_terms(handoff, order)


def _set_order_lines(handoff, order):
	handoff.currency = order.currency
	handoff.total = order.total
	handoff.discount_amount = order.discount_amount
	handoff.grand_total = order.grand_total
	handoff.base_grand_total = order.base_grand_total
	handoff.set("items", [])
	for line in order.items:
		handoff.append(
			"items",
			{
				"item_code": line.item_code,
				"item_name": line.item_name,
				"qty": line.qty,
				"uom": line.uom,
				"price_list_rate": line.price_list_rate,
				"discount_percentage": line.discount_percentage,
				"discount_amount": line.discount_amount,
				"rate": line.rate,
				"amount": line.amount,
				"currency": order.currency,
				"delivery_date": line.delivery_date,
			},
		)


def _set_payment_terms(handoff, order):
	handoff.payment_terms_template = order.payment_terms_template
	lines = []
	for row in order.get("payment_schedule") or []:
		lines.append(
			_("{0}: {1}% ({2}){3}").format(
				format_date(row.due_date),
				flt(row.invoice_portion, 2),
				fmt_money(row.payment_amount, currency=order.currency),
				f" — {row.payment_term}" if row.payment_term else "",
			)
		)
	handoff.payment_schedule = "\n".join(lines) or None


def _set_deal_history(handoff, order):
	quotations = [
		line.prevdoc_docname
		for line in order.items
		if line.get("prevdoc_docname") and frappe.db.exists("Quotation", line.prevdoc_docname)
	]
	if quotations and not handoff.quotation:
		handoff.quotation = quotations[0]
	if handoff.quotation and not handoff.opportunity:
		handoff.opportunity = frappe.db.get_value("Quotation", handoff.quotation, "opportunity")
	if not handoff.opportunity:
		handoff.opportunity = frappe.db.get_value(
			"Opportunity",
			{"opportunity_from": "Customer", "party_name": order.customer},
			"name",
			order_by="creation desc",
		)


def _set_contract(handoff, order):
	if not handoff.contract:
		handoff.contract = frappe.db.get_value(
			"Contract",
			{"docstatus": 1, "document_type": "Sales Order", "document_name": order.name},
			"name",
		) or frappe.db.get_value(
			"Contract",
			{"docstatus": 1, "party_type": "Customer", "party_name": order.customer},
			"name",
			order_by="start_date desc, creation desc",
		)
	if handoff.contract:
		start, end = frappe.db.get_value("Contract", handoff.contract, ["start_date", "end_date"])
		handoff.contract_start = handoff.contract_start or start
		handoff.contract_end = handoff.contract_end or end


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


def _set_communications(handoff, order):
	rows = recent_communications(
		order.customer,
		{
			"Sales Order": [order.name],
			"Quotation": [handoff.quotation],
			"Opportunity": [handoff.opportunity],
		},
	)
	handoff.set("communications", [])
	for row in rows:
		handoff.append(
			"communications",
			{
				"communication": row.name,
				"communication_date": row.communication_date,
				"subject": row.subject,
				"communication_medium": row.communication_medium,
				"sent_or_received": row.sent_or_received,
			},
		)


def open_handoff_for(sales_order: str | None = None, customer: str | None = None) -> str | None:
	filters = {"status": ("in", OPEN_STATUSES)}
	if sales_order:
		filters["sales_order"] = sales_order
	if customer:
		filters["customer"] = customer
	return frappe.db.get_value("Sales Handoff", filters, "name")


def draft_handoff(sales_order, received_on=None):
	"""Insert a draft handoff for a submitted order (no permission check: callers check)."""
	handoff = frappe.new_doc("Sales Handoff")
	handoff.order_received_on = received_on
	# the SLA clock is the system's to set: the controller keeps it only from this flag
	handoff.flags.order_received_on = received_on
	prefill_from_sales_order(handoff, sales_order)
	handoff.flags.ignore_permissions = True
	handoff.insert()
	return handoff


@frappe.whitelist(methods=["POST"])
def make_handoff_from_sales_order(sales_order: str) -> str:
	"""Draft a Sales Handoff for a submitted Sales Order; returns the handoff (an open one if it exists)."""
	frappe.has_permission("Sales Order", "read", sales_order, throw=True)
	frappe.has_permission("Sales Handoff", "create", throw=True)
	existing = open_handoff_for(sales_order=sales_order)
	if existing:
		return existing
	return draft_handoff(sales_order).name


# --- repeat orders: news for the CSM, not a new onboarding ----------------------------------


def is_live_customer(customer: str) -> bool:
	"""Is the customer already live: past onboarding, or with an accepted handoff (unless churned)?

	A churned customer coming back is new business again; so is one that never got this far.
	"""
	stage = frappe.db.get_value("Customer", customer, "cs_lifecycle_stage")
	if stage == CHURNED:
		return False
	if stage in LIVE_STAGES:
		return True
	return bool(frappe.db.exists("Sales Handoff", {"customer": customer, "status": ACCEPTED}))


def record_repeat_order(order) -> None:
	"""Tell the customer's CSM about a repeat order: a timeline entry, and a ToDo (or a bell alert).

	A renewal or upsell of a live customer restarts nothing; the CSM follows it up.
	"""
	from customer_success.customer_success.doctype.sales_handoff.sales_handoff import notify, todos_enabled

	customer_name, csm = frappe.db.get_value("Customer", order.customer, ["customer_name", "cs_owner"])
	total = fmt_money(order.grand_total, currency=order.currency)
	frappe.get_doc(
		{
			"doctype": "Comment",
			"comment_type": "Info",
			"reference_doctype": "Customer",
			"reference_name": order.customer,
			"comment_email": frappe.session.user,
			"content": _(
				"Repeat order {0} submitted ({1}): {2} is already a live customer, so no new handoff was drafted."
			).format(frappe.utils.get_link_to_form("Sales Order", order.name), total, customer_name),
		}
	).insert(ignore_permissions=True)
	if not csm or not frappe.db.get_value("User", csm, "enabled"):
		return
	description = _("Repeat order {0} from {1} ({2}): follow up with the customer.").format(
		order.name, customer_name, total
	)
	if todos_enabled():
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": csm,
				"reference_type": "Sales Order",
				"reference_name": order.name,
				"description": description,
				"assigned_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)
	else:
		notify(order, csm, description)


# --- the SLA: late handoffs ----------------------------------------------------------------


def refresh_late_handoffs(now=None) -> dict[str, int]:
	"""Hourly: flag open handoffs past their due time, unflag the rest. Two set-based updates."""
	now = now or now_datetime()
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
