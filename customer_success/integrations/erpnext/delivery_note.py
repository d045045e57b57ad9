"""Delivery Note → success plan milestones waiting for a delivery."""

from customer_success.success_plans.service import TRIGGER_DELIVERY, run_trigger_safely


def on_submit(doc, method=None):
	if doc.get("is_return"):
		return
	run_trigger_safely(doc.customer, TRIGGER_DELIVERY, doc, on_date=doc.posting_date)
