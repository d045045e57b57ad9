"""Subscription: cancelled, extended or rolled over, its open renewal closes (renewals room)."""

from customer_success.renewals import service as renewals


def on_update(doc, method=None):
	if doc.party_type == "Customer":
		renewals.on_subscription_update(doc.name)
