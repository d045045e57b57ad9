"""Subscription: cancelled, rolled over, or a new one for the customer, the customer's open
subscription renewal closes (renewals room)."""

from customer_success.renewals import service as renewals


def on_update(doc, method=None):
	if doc.party_type == "Customer":
		renewals.on_subscription_update(doc.party)
