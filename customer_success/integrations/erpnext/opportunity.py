"""Opportunity: its outcome shows on the alert it came from; its form lists that alert; deleted, a
closed alert lets it go."""

from frappe import _

from customer_success.alerts import service as alerts


def on_update(doc, method=None):
	alerts.on_opportunity_update(doc)


def on_trash(doc, method=None):
	alerts.on_opportunity_trash(doc)


def get_dashboard_data(data: dict) -> dict:
	data = data or {}
	data.setdefault("transactions", []).append({"label": _("Customer Success"), "items": ["CS Alert"]})
	return data
