"""Maturity: actions on an assessment from its form."""

import frappe

from customer_success.maturity import service


@frappe.whitelist(methods=["POST"])
def propose_again(assessment: str) -> dict:
	"""Propose every level again from today's data; adjustments and notes stay."""
	doc = frappe.get_doc(service.ASSESSMENT, assessment)
	doc.check_permission("write")
	service.apply_proposals(doc)
	doc.save()
	return doc.as_dict()
