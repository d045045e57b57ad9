"""Figures for the Customer Success workspace's custom number cards (permission-aware)."""

from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, nowdate


def _renewal_window() -> int:
	return cint(frappe.db.get_single_value("Customer Success Settings", "renewal_window_days")) or 90


def _renewing_customers(today: date, until: date) -> list[str]:
	"""Customers whose LATEST submitted contract ends between `today` and `until`, of the user's
	book when the user is a CSM (the one query the renewal KPI uses too)."""
	from customer_success.permissions import book_of
	from customer_success.success_plans.queries import renewing_customers

	return sorted(renewing_customers(today, until, book_of()))


@frappe.whitelist()
def renewals_due(filters: str | None = None) -> dict:
	"""Customers whose latest contract ends within the renewal window (settings)."""
	frappe.has_permission("Contract", "read", throw=True)
	today = getdate(nowdate())
	due = _renewing_customers(today, getdate(add_days(today, _renewal_window())))
	return {
		"value": len(due),
		"fieldtype": "Int",
		"route": ["List", "Customer"],
		"route_options": {"name": ["in", due or [_("none")]]},
	}


@frappe.whitelist()
def renewals_at_risk(filters: str | None = None) -> dict:
	"""Of the customers renewing within the window, those whose health is not green."""
	frappe.has_permission("Contract", "read", throw=True)
	frappe.has_permission("Customer", "read", throw=True)
	today = getdate(nowdate())
	renewing = _renewing_customers(today, getdate(add_days(today, _renewal_window())))
	at_risk = frappe.get_list(
		"Customer",
		filters={"name": ("in", renewing or [""]), "cs_health_status": ("in", ("Red", "Yellow"))},
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
	from customer_success.permissions import book_of
	from customer_success.success_plans.service import renewal_plan_coverage as coverage

	kpi = coverage(csm=book_of())
	return {"value": kpi["share"] or 0, "fieldtype": "Percent", "route": ["List", "Success Plan"]}
