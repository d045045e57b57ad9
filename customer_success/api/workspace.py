"""Figures for the Customer Success workspace's custom number cards (permission-aware)."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, nowdate


def _renewal_window() -> int:
	return cint(frappe.db.get_single_value("Customer Success Settings", "renewal_window_days")) or 90


@frappe.whitelist()
def renewals_due(filters: str | None = None) -> dict:
	"""Customers whose latest contract ends within the renewal window (settings)."""
	frappe.has_permission("Contract", "read", throw=True)
	today = nowdate()
	until = add_days(today, _renewal_window())
	contract_filters = {"party_type": "Customer", "docstatus": 1, "end_date": ("between", (today, until))}
	customers = frappe.get_list(
		"Contract", filters=contract_filters, pluck="party_name", distinct=True, limit_page_length=0
	)
	return {
		"value": len(set(customers)),
		"fieldtype": "Int",
		"route": ["List", "Contract"],
		"route_options": {"party_type": "Customer", "docstatus": 1, "end_date": ["between", [today, until]]},
	}


@frappe.whitelist()
def renewals_at_risk(filters: str | None = None) -> dict:
	"""Of the customers renewing within the window, those whose health is not green."""
	frappe.has_permission("Contract", "read", throw=True)
	frappe.has_permission("Customer", "read", throw=True)
	today = nowdate()
	until = add_days(today, _renewal_window())
	renewing = set(
		frappe.get_list(
			"Contract",
			filters={"party_type": "Customer", "docstatus": 1, "end_date": ("between", (today, until))},
			pluck="party_name",
			limit_page_length=0,
		)
	)
	at_risk = frappe.get_list(
		"Customer",
		filters={"name": ("in", list(renewing) or [""]), "cs_health_status": ("in", ("Red", "Yellow"))},
		pluck="name",
		limit_page_length=0,
	)
	return {
		"value": len(at_risk),
		"fieldtype": "Int",
		"route": ["List", "Customer"],
		"route_options": {"name": ["in", at_risk or [_("none")]]},
	}


@frappe.whitelist()
def renewal_plan_coverage(filters: str | None = None) -> dict:
	"""Headline KPI: of the customers renewing in the next 6 months, the share with an agreed plan."""
	frappe.has_permission("Success Plan", "read", throw=True)
	from customer_success.plans import renewal_plan_coverage as coverage

	kpi = coverage()
	return {"value": kpi["share"] or 0, "fieldtype": "Percent", "route": ["List", "Success Plan"]}
