"""Contract: a cancelled contract's open renewal closes; a customer's contract submitted, signed or
cancelled classes its invoices again for Revenue Leakage (renewals room)."""

import frappe

from customer_success.renewals import service as renewals


def on_cancel(doc, method=None):
	if doc.party_type == "Customer":
		renewals.on_contract_cancel(doc.name)


def on_submit(doc, method=None):
	"""An amendment takes the renewal its cancelled original had."""
	renewals.on_contract_submit(doc)


def on_trash(doc, method=None):
	"""A cancelled contract deleted (ERPNext lets one go): the renewal it had, cancelled with it, stays
	as a record, without the link that would hold the delete up. A renewal still open or closed by
	the CSM keeps it, and frappe refuses the delete as for any record it links."""
	renewal = frappe.qb.DocType("Renewal")
	(
		frappe.qb.update(renewal)
		.set(renewal.contract, None)
		.where((renewal.contract == doc.name) & (renewal.status == "Cancelled"))
		.run()
	)


def leaks_changed(doc, method=None):
	"""on_submit, on_update_after_submit (signed or not), on_cancel: the leak table follows."""
	renewals.contract_changed(doc.party_type, doc.party_name)
