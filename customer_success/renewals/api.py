"""Renewal actions and the Customer form's read: each checks permission on the renewal or customer."""

import frappe

from customer_success.renewals import service


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
