"""Contract: a cancelled contract's open renewal closes; a customer's contract submitted, signed or
cancelled classes its invoices again for Revenue Leakage (renewals room)."""

from customer_success.renewals import service as renewals


def on_cancel(doc, method=None):
	if doc.party_type == "Customer":
		renewals.on_contract_cancel(doc.name)


def leaks_changed(doc, method=None):
	"""on_submit, on_update_after_submit (signed or not), on_cancel: the leak table follows."""
	renewals.contract_changed(doc.party_type, doc.party_name)
