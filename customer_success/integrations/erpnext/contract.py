"""Contract: a cancelled contract's open renewal closes (renewals room)."""

from customer_success.renewals import service as renewals


def on_cancel(doc, method=None):
	if doc.party_type == "Customer":
		renewals.on_contract_cancel(doc.name)
