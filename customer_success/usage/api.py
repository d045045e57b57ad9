"""Usage's whitelisted functions: the ingestion endpoint for the product's usage feed, and the
Customer form's usage chart."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, nowdate

from customer_success.constants import USAGE_INTEGRATION_ROLE
from customer_success.usage import queries, service

MAX_CHART_DAYS = 366


def check_integration_user():
	"""Only a user holding the CS Usage Integration role, signed in by API key and secret (the
	`Authorization: token key:secret` header, or Basic), may send usage. Refused to everyone else:
	Guest, a browser session, and any user without the role, System Managers and Administrator
	included (a feed runs as its own integration user, so what it writes is traceable to it)."""
	user = frappe.session.user
	header = (frappe.get_request_header("Authorization") or "").strip().lower()
	by_key = header.startswith(("token ", "basic "))
	if (
		user in ("Guest", "Administrator")
		or not by_key
		or USAGE_INTEGRATION_ROLE not in frappe.get_roles(user)
	):
		frappe.throw(
			_(
				"Usage is accepted only from a user with the {0} role, signed in with an API key and secret (Authorization: token key:secret)."
			).format(USAGE_INTEGRATION_ROLE),
			frappe.PermissionError,
			title=_("Not Permitted"),
		)


@frappe.whitelist(methods=["POST"])
def ingest(rows: str | list | dict | None = None, data: list | None = None) -> dict:
	"""Store a batch of daily usage: `rows` is a JSON list of {customer, metric, date (YYYY-MM-DD),
	value, source}, sent as the JSON body {"rows": [...]}, as the body's bare list, or as a form
	field holding the JSON text. Every row is checked: the reply lists how many were stored and
	each rejected row with its reason. A batch over the limit, or not JSON, is refused whole.
	"""
	check_integration_user()
	payload = rows if rows is not None else data
	if payload is None:
		payload = frappe.request.get_data(as_text=True) if frappe.request else None
	return service.ingest(payload)


@frappe.whitelist()
def get_usage_chart(customer: str, days: int = 90) -> dict:
	"""The Customer form's usage trend: per metric, its daily values over the last `days` days.

	Read through the reader's own permissions: the customer must be readable, and the usage rows
	come through frappe.get_list (a CSM sees only her book's)."""
	frappe.has_permission("Customer", "read", customer, throw=True)
	if not frappe.has_permission(queries.USAGE, "read"):
		return {"metrics": []}
	days = min(max(cint(days) or 90, 1), MAX_CHART_DAYS)
	since = add_days(getdate(nowdate()), -(days - 1))
	by_metric: dict[str, list] = {}
	for row in queries.series(customer, since):
		by_metric.setdefault(row.metric, []).append((str(row.usage_date), row.value))
	units = dict(
		frappe.get_all(
			queries.DEFINITION,
			filters={"name": ("in", list(by_metric) or [""])},
			fields=["name", "unit"],
			as_list=True,
		)
	)
	# only the days with a value: a day the feed did not report is not a day of zero usage
	return {
		"days": days,
		"metrics": [
			{
				"metric": metric,
				"unit": units.get(metric) or "",
				"labels": [day for day, _value in points],
				"values": [value for _day, value in points],
			}
			for metric, points in sorted(by_metric.items())
		],
	}
