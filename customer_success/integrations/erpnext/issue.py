"""Issue → milestones that complete once the customer's open issues drop below a threshold."""

from customer_success.success_plans.queries import open_issue_count
from customer_success.success_plans.service import TRIGGER_ISSUES_BELOW, run_trigger_safely


def on_update(doc, method=None):
	if not doc.get("customer") or not doc.has_value_changed("status"):
		return
	run_trigger_safely(doc.customer, TRIGGER_ISSUES_BELOW, doc, open_issues=open_issue_count(doc.customer))
