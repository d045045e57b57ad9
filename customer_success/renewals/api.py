"""Renewal actions and the Customer form's read: each checks permission on the renewal or customer."""

import frappe

from customer_success.renewals import engine, service


def _renewal(name: str, ptype: str = "write"):
	doc = frappe.get_doc(service.RENEWAL, name)
	doc.check_permission(ptype)
	return doc


@frappe.whitelist(methods=["POST"])
def record_checkpoint(
	renewal: str, checkpoint: str, call: str, expected_amount: float | None = None, note: str | None = None
) -> dict:
	doc = _renewal(renewal)
	service.record_checkpoint(doc, checkpoint, call, expected_amount, note)
	return doc.as_dict()


@frappe.whitelist(methods=["POST"])
def mark_renewed(
	renewal: str,
	contract: str | None = None,
	sales_order: str | None = None,
	amount: float | None = None,
	subscription: str | None = None,
) -> dict:
	doc = _renewal(renewal)
	service.mark_renewed(
		doc,
		contract=contract or None,
		order=sales_order or None,
		amount=amount,
		subscription=subscription or None,
	)
	return doc.as_dict()


@frappe.whitelist(methods=["POST"])
def mark_churned(renewal: str, reason: str, note: str | None = None, churned_on: str | None = None) -> dict:
	doc = _renewal(renewal)
	service.mark_churned(doc, reason, note, churned_on)
	return doc.as_dict()


@frappe.whitelist()
def customer_renewals(customer: str) -> list[dict]:
	"""The customer's renewals and their checkpoints, as far as the user may read them."""
	frappe.has_permission("Customer", "read", doc=customer, throw=True)
	if not frappe.has_permission(service.RENEWAL, "read"):
		return []
	return service.renewals_of(customer)


# How many subscriptions one search weighs at most (of customers the user may read, page by page).
SUBSCRIPTION_SEARCH_LIMIT = 500


@frappe.whitelist()
@frappe.validate_and_sanitize_search_inputs
def subscriptions_to_renew(doctype, txt, searchfield, start, page_len, filters):
	"""The link search of a renewal's subscriptions (the Renewal form's *Subscription*, Mark Renewed's
	*Renewed by Subscription*). The CS roles do not read ERPNext's Subscriptions, so frappe's own
	search refused them ("Not permitted"): this lists the subscriptions that are not cancelled of the
	customers the user may read, of `filters.customer` alone when given (which she must be able to
	read), and shows no more of one than its name, its customer and its status."""
	filters = filters if isinstance(filters, dict) else {}
	customer = filters.get("customer")
	if customer:
		frappe.has_permission("Customer", "read", doc=customer, throw=True)
	elif not frappe.has_permission(service.RENEWAL, "read"):
		frappe.throw(frappe._("Not permitted"), frappe.PermissionError)
	subscription = frappe.qb.DocType("Subscription")
	query = (
		frappe.qb.from_(subscription)
		.select(subscription.name, subscription.party, subscription.status)
		.where(
			(subscription.party_type == "Customer")
			& (subscription.status != engine.SUBSCRIPTION_CANCELLED)
			& (subscription.docstatus < 2)
		)
		.orderby(subscription.modified, order=frappe.qb.desc)
		.limit(SUBSCRIPTION_SEARCH_LIMIT)
	)
	if customer:
		query = query.where(subscription.party == customer)
	if txt:
		query = query.where(subscription.name.like(f"%{txt}%") | subscription.party.like(f"%{txt}%"))
	readable: dict[str, bool] = {}

	def may_read(party: str) -> bool:
		if party not in readable:
			readable[party] = bool(frappe.has_permission("Customer", "read", doc=party))
		return readable[party]

	rows = [
		(name, party, frappe._(status) if status else "")
		for name, party, status in query.run()
		if party == customer or (not customer and may_read(party))
	]
	start, page_len = int(start or 0), int(page_len or 10)
	return rows[start : start + page_len]
