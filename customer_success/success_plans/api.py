"""Whitelisted success-plan functions that are not actions on one document."""

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from customer_success.constants import CHURNED
from customer_success.success_plans import engine, service
from customer_success.utils import date_argument


@frappe.whitelist(methods=["POST"])
def create_plan(customer: str, template: str | None = None, start_date: str | None = None) -> str:
	"""Form action (Customer → Create Success Plan): a Draft plan from the template that fits the customer's tier and segment."""
	tier, segment, owner, stage, disabled = frappe.db.get_value(
		"Customer", customer, ["cs_tier", "cs_segment", "cs_owner", "cs_lifecycle_stage", "disabled"]
	) or (None, None, None, None, 0)
	# a lost customer's work was closed with it: a plan comes back with its next order's handoff
	# (tester W2: the button brought a plan, milestones and ToDos back at once, without a word)
	if stage == CHURNED:
		frappe.throw(
			_("Customer {0} churned: its next plan follows the handoff of its next order.").format(customer),
			title=_("Customer Churned"),
		)
	if disabled:
		frappe.throw(
			_("Customer {0} is disabled: enable it before making it a plan.").format(customer),
			title=_("Customer Disabled"),
		)
	plan = frappe.get_doc(
		{
			"doctype": service.PLAN,
			"customer": customer,
			"csm": owner,
			"template": template or service.template_for_tier(tier, segment),
			"start_date": date_argument(start_date, _("Start Date")) or getdate(nowdate()),
			"status": engine.DRAFT,
		}
	)
	plan.check_permission("create")
	plan.insert()
	return plan.name


@frappe.whitelist()
def running_plans(customer: str) -> list[dict]:
	"""The customer's running plans (not achieved or closed) the user may read, newest first: the
	Customer form asks before *Create Success Plan* makes another beside one (tester A1: a second
	Draft with its milestones and ToDos, made without a word, that its CSM could not delete)."""
	frappe.has_permission("Customer", "read", doc=customer, throw=True)
	return frappe.get_list(
		service.PLAN,
		filters={"customer": customer, "status": ("in", engine.OPEN_PLAN_STATUSES)},
		fields=["name", "status", "template", "start_date"],
		order_by="start_date desc, creation desc",
	)


@frappe.whitelist()
def get_plan_overview(plan: str) -> dict:
	doc = frappe.get_doc(service.PLAN, plan)
	doc.check_permission("read")
	return service.plan_overview(doc)
