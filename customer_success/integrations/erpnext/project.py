"""Project → milestones waiting for the customer's project to be completed."""

from customer_success.success_plans.service import TRIGGER_PROJECT, run_trigger_safely


def on_update(doc, method=None):
	if doc.status != "Completed" or not doc.get("customer") or not doc.has_value_changed("status"):
		return
	run_trigger_safely(doc.customer, TRIGGER_PROJECT, doc, on_date=doc.get("actual_end_date"))
