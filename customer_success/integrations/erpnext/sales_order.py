"""Sales Order events: a submitted order is a closed deal, so customer success hears of it.

New business (a customer's first won deal, or a churned customer's return) gets a handoff; a
repeat order (renewal, upsell) of a live customer, or of one that already did business with the
company before (a customer trading before the app was installed), is news for its CSM, not a new
onboarding.
"""

import frappe
from frappe import _
from frappe.utils import cint, format_datetime, now_datetime

from customer_success.handoff import queries
from customer_success.handoff import service as handoffs
from customer_success.utils import in_language, language_of

# Refreshed from the amended order when its open handoff moves to it (the rest is sales' work).
ORDER_SNAPSHOT_FIELDS = {
	"sales_order",
	"items",
	"currency",
	"total",
	"discount_amount",
	"grand_total",
	"base_grand_total",
	"payment_terms_template",
	"payment_schedule",
}


def draft_handoff_on_submit(doc, method=None):
	"""Draft a Sales Handoff for new business, or tell the CSM of a live customer's repeat order.

	An amended order takes over the open handoff of the order it amends. A repeat order drafts a
	handoff only when the settings ask for it. A failure here must
	not stop sales from submitting the order: it is logged and the order goes through without
	a handoff (one can be drafted by hand from the Sales Handoff form).
	"""
	frappe.db.savepoint("cs_draft_handoff")
	messages = len(frappe.local.message_log)
	try:
		_on_submit(doc)
	except Exception:
		frappe.db.rollback(save_point="cs_draft_handoff")
		# what failed here is logged for an admin; the user who submitted sees no red message
		del frappe.local.message_log[messages:]
		frappe.log_error(title=_("Could not draft a Sales Handoff for {0}").format(doc.name))


def _on_submit(doc):
	if doc.get("amended_from") and _move_handoff_to_amendment(doc):
		return
	settings = frappe.get_cached_doc("Customer Success Settings")
	open_handoff = queries.open_handoff_for(customer=doc.customer)
	if open_handoff and not frappe.db.exists("Sales Handoff", {"sales_order": doc.name}):
		handoffs.record_order_during_handoff(doc, open_handoff)
		return
	repeat_order = handoffs.is_repeat_order(doc)
	if not _drafts_handoff(doc, settings, repeat_order):
		if repeat_order:
			handoffs.record_repeat_order(doc)
		return
	handoff = handoffs.draft_handoff(doc, received_on=now_datetime())

	from customer_success.handoff.service import assign

	assign(handoff, handoff.sales_owner, sales_todo(handoff))
	frappe.msgprint(
		_("Sales Handoff {0} drafted for customer success.").format(
			frappe.utils.get_link_to_form("Sales Handoff", handoff.name)
		),
		alert=True,
	)


def _drafts_handoff(doc, settings, repeat_order: bool) -> bool:
	if not cint(settings.auto_draft_handoff):
		return False
	if repeat_order and not cint(settings.get("handoff_for_repeat_orders")):
		return False
	return not (
		frappe.db.exists("Sales Handoff", {"sales_order": doc.name})
		or queries.open_handoff_for(customer=doc.customer)
	)


def reopen_renewals_on_cancel(doc, method=None):
	"""A renewal this order renewed opens again (renewals room; a failure is logged there and never
	stops the cancel)."""
	from customer_success.renewals import service as renewals

	renewals.on_order_cancel(doc.name)


def cancel_handoff_on_cancel(doc, method=None):
	"""A cancelled order's open handoff is cancelled with it: its ToDos close, it leaves the open
	lists and SLA, and the customer's next order drafts a handoff of its own. Amending the order
	reopens it as it was (`_move_handoff_to_amendment`). An accepted handoff stays accepted (the
	customer was already handed over), with a note. A failure here never stops the cancel."""
	frappe.db.savepoint("cs_cancel_handoff")
	messages = len(frappe.local.message_log)
	try:
		for name, status in frappe.get_all(
			"Sales Handoff", filters={"sales_order": doc.name}, fields=["name", "status"], as_list=True
		):
			if status in queries.OPEN_STATUSES:
				joined = joined_order(doc, name)
				if joined:
					follow_joined_order(name, joined, doc)
				else:
					cancel_handoff(name, doc)
			elif status == handoffs.ACCEPTED:
				frappe.get_doc("Sales Handoff", name).add_comment(
					"Info",
					_("Sales Order {0} was cancelled after this handoff was accepted.").format(doc.name),
				)
	except Exception:
		frappe.db.rollback(save_point="cs_cancel_handoff")
		del frappe.local.message_log[messages:]
		frappe.log_error(title=_("Could not cancel the Sales Handoff of {0}").format(doc.name))


def joined_order(cancelled, handoff: str) -> str | None:
	"""The customer's latest order submitted while this handoff was open (it joined the deal:
	`handoffs.record_order_during_handoff`), still submitted: the deal the handoff hands over
	once its own order is cancelled (tester K3: the handoff was cancelled and the joined order left
	with no handoff, CSM or ToDo)."""
	created = frappe.db.get_value("Sales Handoff", handoff, "creation")
	order = frappe.qb.DocType("Sales Order")
	found = (
		frappe.qb.from_(order)
		.select(order.name)
		.where(
			(order.customer == cancelled.customer)
			& (order.docstatus == 1)
			& (order.name != cancelled.name)
			& (order.creation >= created)
		)
		.orderby(order.creation, order=frappe.qb.desc)
		.limit(1)
		.run()
	)
	return found[0][0] if found else None


def follow_joined_order(name: str, joined: str, cancelled) -> None:
	"""The handoff follows the order that joined it, with its lines and totals, saying so."""
	handoff = frappe.get_doc("Sales Handoff", name)
	handoffs.refresh_order_snapshot(handoff, frappe.get_doc("Sales Order", joined))
	handoff.flags.set_by_action = ORDER_SNAPSHOT_FIELDS
	handoff.flags.ignore_permissions = True
	handoff.save()
	handoff.add_comment(
		"Info",
		_("Sales Order {0} was cancelled: this handoff now follows {1}, submitted while it was open.").format(
			cancelled.name, joined
		),
	)


def cancel_handoff(name: str, order, when=None) -> None:
	handoff = frappe.get_doc("Sales Handoff", name)
	handoff.status_before_cancel = handoff.status
	handoff.status = handoffs.CANCELLED
	handoff.cancelled_on = when or now_datetime()
	handoff.save_transition()
	handoffs.close_assignments(handoff)
	handoff.add_comment(
		"Info",
		_(
			"Sales Order {0} was cancelled: this handoff is cancelled with it (amending the order reopens it)."
		).format(order.name),
	)


def unlink_cancelled_handoffs(doc, method=None):
	"""A cancelled order deleted (ERPNext lets one go): its cancelled handoff stays as a record,
	without the link that would hold the delete up. An open or accepted handoff keeps the link,
	and frappe refuses the delete as for any record it links."""
	handoff = frappe.qb.DocType("Sales Handoff")
	(
		frappe.qb.update(handoff)
		.set(handoff.sales_order, None)
		.where((handoff.sales_order == doc.name) & (handoff.status == handoffs.CANCELLED))
		.run()
	)


def _move_handoff_to_amendment(doc) -> bool:
	"""Point the handoff of the amended (cancelled) order at this order; True if the deal has one.

	An open handoff, or one cancelled with the order, follows the amendment with the new order
	lines and totals (a cancelled one reopens in the status it had, its ToDo given back); an
	accepted one stays as it is (the deal was already handed over), and no second handoff is
	drafted.
	"""
	name = queries.open_handoff_for(sales_order=doc.amended_from) or frappe.db.get_value(
		"Sales Handoff", {"sales_order": doc.amended_from, "status": handoffs.CANCELLED}, "name"
	)
	if not name:
		return bool(
			frappe.db.exists("Sales Handoff", {"sales_order": doc.amended_from, "customer": doc.customer})
		)

	handoff = frappe.get_doc("Sales Handoff", name)
	if handoff.customer != doc.customer:
		# amended for another customer: a deal of that customer's (drafted as any order is); this
		# handoff stays with its own customer, on the cancelled order, saying so
		handoff.add_comment(
			"Info",
			_(
				"Sales Order {0} was cancelled and amended by {1} for another customer ({2}): this handoff no longer has a live order."
			).format(doc.amended_from, doc.name, doc.customer),
		)
		return False
	if handoff.status == handoffs.CANCELLED:
		other = queries.open_handoff_for(customer=doc.customer)
		if other:
			# the customer's next order drafted one meanwhile: one onboarding, one open handoff
			handoff.add_comment(
				"Info",
				_(
					"Sales Order {0} was amended by {1}, but {2} already has an open handoff, {3}: this one stays cancelled."
				).format(doc.amended_from, doc.name, handoff.customer_name or handoff.customer, other),
			)
			return True
	handoffs.refresh_order_snapshot(handoff, doc)
	# a system change, not an edit by whoever submits the amendment
	handoff.flags.set_by_action = ORDER_SNAPSHOT_FIELDS
	handoff.flags.ignore_permissions = True
	if handoff.status == handoffs.CANCELLED:
		_reopen(handoff)
	else:
		handoff.save()
	handoff.add_comment(
		"Info",
		_("Sales Order {0} was cancelled and amended by {1}: this handoff now follows {1}.").format(
			doc.amended_from, doc.name
		),
	)
	return True


def _reopen(handoff) -> None:
	"""A handoff cancelled with its order, back in the status it had, with its ToDo again."""
	handoff.status = handoff.status_before_cancel or "Draft"
	handoff.status_before_cancel = None
	handoff.cancelled_on = None
	handoff.save_transition()
	customer = handoff.customer_name or handoff.customer
	if handoff.status == "Handed Over":
		with in_language(language_of(handoff.proposed_csm)):
			description = _("Review handoff {0} for {1} and accept it or return it to sales.").format(
				handoff.name, customer
			)
		handoffs.assign(handoff, handoff.proposed_csm, description)
	else:
		handoffs.assign(handoff, handoff.sales_owner or handoff.owner, sales_todo(handoff))


def sales_todo(handoff) -> str:
	"""What sales' ToDo on a handoff says: complete it (by when, when its SLA runs)."""
	customer = handoff.customer_name or handoff.customer
	with in_language(language_of(handoff.sales_owner or handoff.owner)):  # the salesperson's
		if handoff.due_by:
			return _("Complete the handoff of {0} ({1}) to customer success by {2}.").format(
				customer, handoff.sales_order, format_datetime(handoff.due_by)
			)
		return _("Complete the handoff of {0} ({1}) to customer success.").format(
			customer, handoff.sales_order
		)
