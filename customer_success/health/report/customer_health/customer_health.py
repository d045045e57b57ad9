"""Customer Health: the portfolio, one row per customer of the user's book.

Score, status and trend are the customer's current figures; the top negative factor is read from
the stored explanation of that score (the factor that cost it the most points); the renewal date
is the end of the customer's latest submitted contract; open alerts are Open or In Progress.
"""

import json

import frappe
from frappe import _
from frappe.utils import getdate

from customer_success import reports
from customer_success.alerts import queries as alert_queries
from customer_success.health import engine, queries

STATUS_COLOURS = {
	engine.GREEN: "#48bb78",
	engine.YELLOW: "#ecc94b",
	engine.RED: "#f56565",
	engine.INSUFFICIENT_DATA: "#a0aec0",
}


def execute(filters=None):
	filters = frappe._dict(filters or {})
	columns = get_columns()
	scope = reports.customer_scope(filters)
	if not scope.allowed:
		return reports.empty_report(columns, _("You see only the customers of your own book."))
	data = get_data(scope, filters)
	return columns, data, None, get_chart(data), get_summary(data)


def get_columns() -> list[dict]:
	return [
		{
			"label": _("Customer"),
			"fieldname": "customer",
			"fieldtype": "Link",
			"options": "Customer",
			"width": 200,
		},
		{"label": _("Customer Name"), "fieldname": "customer_name", "fieldtype": "Data", "width": 180},
		{"label": _("CSM"), "fieldname": "csm", "fieldtype": "Link", "options": "User", "width": 170},
		{"label": _("Tier"), "fieldname": "tier", "fieldtype": "Data", "width": 100},
		{"label": _("Lifecycle Stage"), "fieldname": "lifecycle_stage", "fieldtype": "Data", "width": 120},
		{
			"label": _("Health Score"),
			"fieldname": "score",
			"fieldtype": "Float",
			"precision": 1,
			"width": 100,
		},
		{"label": _("Health Status"), "fieldname": "status", "fieldtype": "Data", "width": 120},
		{
			"label": _("Trend (Points)"),
			"fieldname": "trend",
			"fieldtype": "Float",
			"precision": 1,
			"width": 100,
		},
		{
			"label": _("Top Negative Factor"),
			"fieldname": "top_negative_factor",
			"fieldtype": "Data",
			"width": 170,
		},
		{
			"label": _("Points Lost"),
			"fieldname": "points_lost",
			"fieldtype": "Float",
			"precision": 1,
			"width": 90,
		},
		{"label": _("Renewal Date"), "fieldname": "renewal_date", "fieldtype": "Date", "width": 110},
		{"label": _("Open Alerts"), "fieldname": "open_alerts", "fieldtype": "Int", "width": 90},
		{"label": _("Health Computed On"), "fieldname": "computed_on", "fieldtype": "Datetime", "width": 160},
	]


def get_data(scope: reports.CustomerScope, filters) -> list[dict]:
	customer = frappe.qb.DocType("Customer")
	rows = queries.portfolio(reports.customer_criterion(customer, scope), filters.get("status") or None)
	in_scope = reports.customers_in_scope(scope)
	renewals = queries.latest_contract_ends(in_scope)
	alerts = alert_queries.open_alert_counts(in_scope)
	renewal_from = getdate(filters.renewal_from) if filters.get("renewal_from") else None
	renewal_to = getdate(filters.renewal_to) if filters.get("renewal_to") else None
	data = []
	for row in rows:
		renewal_date = renewals.get(row.customer)
		if (renewal_from or renewal_to) and not renewal_date:
			continue
		if (renewal_from and renewal_date < renewal_from) or (renewal_to and renewal_date > renewal_to):
			continue
		top = engine.top_negative_factor(json.loads(row.explanation)) if row.explanation else None
		has_colour = row.status in (engine.GREEN, engine.YELLOW, engine.RED)
		data.append(
			{
				"customer": row.customer,
				"customer_name": row.customer_name,
				"csm": row.csm,
				"tier": row.tier,
				"lifecycle_stage": row.lifecycle_stage,
				# without a colour there is no score to show, only the status
				"score": row.score if has_colour else None,
				"status": row.status,
				"trend": row.trend if has_colour else None,
				"top_negative_factor": top["factor_type"] if top else None,
				"points_lost": top["points_lost"] if top else None,
				"renewal_date": renewal_date,
				"open_alerts": alerts.get(row.customer, 0),
				"computed_on": row.computed_on,
			}
		)
	# weakest first; customers without a colour after those with one
	data.sort(key=lambda r: (r["score"] is None, r["score"] or 0, r["customer"]))
	return data


def get_chart(data: list[dict]) -> dict | None:
	if not data:
		return None
	counts = {status: 0 for status in engine.STATUSES}
	for row in data:
		if row["status"] in counts:
			counts[row["status"]] += 1
	return {
		"data": {
			"labels": [_(status) for status in engine.STATUSES],
			"datasets": [{"name": _("Customers"), "values": [counts[s] for s in engine.STATUSES]}],
		},
		"type": "donut",
		"colors": [STATUS_COLOURS[s] for s in engine.STATUSES],
		"height": 240,
	}


def get_summary(data: list[dict]) -> list[dict]:
	scores = [row["score"] for row in data if row["score"] is not None]
	at_risk = sum(1 for row in data if row["status"] in (engine.RED, engine.YELLOW))
	return [
		{"value": len(data), "label": _("Customers"), "datatype": "Int"},
		{
			"value": round(sum(scores) / len(scores), 1) if scores else None,
			"label": _("Average Health Score"),
			"datatype": "Float",
		},
		{
			"value": at_risk,
			"label": _("Red or Yellow"),
			"datatype": "Int",
			"indicator": "Red" if at_risk else "Green",
		},
		{"value": sum(row["open_alerts"] for row in data), "label": _("Open Alerts"), "datatype": "Int"},
	]
