"""Alert actions from the form and the Customer: each checks permission on the alert or customer."""

import frappe

from customer_success.alerts import engine, service
from customer_success.permissions import check_can_work_on_customer


def _alert(name: str, ptype: str = "write"):
	alert = frappe.get_doc(service.ALERT, name)
	alert.check_permission(ptype)
	return alert


@frappe.whitelist(methods=["POST"])
def start_work(alert: str) -> dict:
	doc = _alert(alert)
	service.check_open(doc)
	if doc.status == engine.OPEN:
		doc.status = engine.IN_PROGRESS
		doc.save()
	return doc.as_dict()


@frappe.whitelist(methods=["POST"])
def resolve(alert: str, note: str) -> dict:
	doc = _alert(alert)
	service.close(doc, engine.RESOLVED, note)
	return doc.as_dict()


@frappe.whitelist(methods=["POST"])
def dismiss(alert: str, reason: str) -> dict:
	doc = _alert(alert)
	service.close(doc, engine.DISMISSED, reason)
	return doc.as_dict()


@frappe.whitelist(methods=["POST"])
def snooze(alert: str, until: str) -> dict:
	doc = _alert(alert)
	service.snooze(doc, until)
	return doc.as_dict()


@frappe.whitelist(methods=["POST"])
def create_opportunity(alert: str) -> str:
	doc = _alert(alert)
	frappe.has_permission("Opportunity", "create", throw=True)
	return service.create_opportunity(doc)


@frappe.whitelist(methods=["POST"])
def evaluate_customer(customer: str) -> dict:
	"""Run the rules for one customer now (the Customer form's "Check Alerts")."""
	check_can_work_on_customer(customer)
	result = service.evaluate_customer(customer)
	return {**result, "alerts": service.open_alerts_of(customer)}


@frappe.whitelist()
def customer_alerts(customer: str) -> list[dict]:
	"""The customer's open alerts the user may see (the Customer form shows them)."""
	frappe.has_permission("Customer", "read", doc=customer, throw=True)
	return service.open_alerts_of(customer)


# --- the workspace's alert cards: a CSM's count her book, a CS Manager's the team ------------------


def _alerts_card(title: str, filters: dict) -> dict:
	from customer_success.customer_success.api import card, count_records
	from customer_success.permissions import book_of

	frappe.has_permission(service.ALERT, "read", throw=True)
	filters = {"status": ("in", engine.OPEN_STATUSES), **filters}
	route_options = {
		key: list(value) if isinstance(value, tuple) else value for key, value in filters.items()
	}
	return card(
		title, count_records(service.ALERT, filters), book_of(), ["List", service.ALERT], route_options
	)


@frappe.whitelist()
def open_alerts(filters: str | None = None) -> dict:
	return _alerts_card("Open Alerts", {})


@frappe.whitelist()
def critical_and_high_alerts(filters: str | None = None) -> dict:
	return _alerts_card("Critical and High Alerts", {"severity": ("in", (engine.CRITICAL, engine.HIGH))})


@frappe.whitelist()
def overdue_alerts(filters: str | None = None) -> dict:
	from frappe.utils import nowdate

	return _alerts_card("Overdue Alerts", {"due_date": ("<", nowdate())})
