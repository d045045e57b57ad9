"""Segments: actions that are not on one document."""

import frappe
from frappe import _

from customer_success.constants import CS_MANAGER_ROLE
from customer_success.permissions import check_can_work_on_customer
from customer_success.segments import service


@frappe.whitelist(methods=["POST"])
def compute_tiers() -> dict:
	"""Recompute every customer's tier now (Customer Success Settings); CS Managers only."""
	# (not frappe.only_for: it refuses with no message, and lets anyone through in tests)
	if frappe.session.user != "Administrator" and not {CS_MANAGER_ROLE, "System Manager"} & set(
		frappe.get_roles()
	):
		frappe.throw(
			_("Only a CS Manager or a System Manager may recompute every customer's tier."),
			frappe.PermissionError,
		)
	return service.compute_tiers(commit=True)  # batch by batch: no lock held over the whole book


@frappe.whitelist(methods=["POST"])
def plan_customer_touchpoints(customer: str) -> dict:
	"""Plan the customer's due touchpoints and record the ones done, now (the Customer form)."""
	check_can_work_on_customer(customer)
	planned = service.plan_touchpoints(customers=[customer])
	recorded = service.record_touches(customers=[customer])
	return {"planned": planned, "recorded": recorded}


@frappe.whitelist()
def customer_touchpoints(customer: str) -> list[dict]:
	"""The customer's touchpoints the user may see, latest first (the Customer form shows them). None
	for a user who reads the customer but no touchpoints (ERPNext's Sales User, Accounts User): the
	form they open every day shows no section, and no error."""
	frappe.has_permission("Customer", "read", doc=customer, throw=True)
	if not frappe.has_permission(service.RECORD, "read"):
		return []
	return frappe.get_list(
		service.RECORD,
		filters={"customer": customer},
		fields=[
			"name",
			"touchpoint",
			"status",
			"due_date",
			"assigned_to",
			"done_on",
			"done_by_doctype",
			"done_by_name",
		],
		order_by="due_date desc",
		limit_page_length=20,
	)
