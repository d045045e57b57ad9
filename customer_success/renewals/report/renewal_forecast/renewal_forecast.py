"""Renewals ending in a period: revenue at stake, the CSM's latest call, the health signal, the
health-weighted expected revenue, and the disagreements (the CSM says renew, health is red) first.

Expected revenue (renewals/engine.py `expected_revenue`): an open renewal's revenue at stake times
its health weight (Green 90 %, Yellow 60 %, Red 30 %, no colour 50 %); a renewed one its renewed
amount (its revenue at stake while the new term's worth is Unknown); a churned one nothing.
Renewals of contracts and of subscriptions alike. Renewals whose contract was cancelled are left out unless the Status filter asks for them.
"""

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import add_days, nowdate

from customer_success.renewals import engine, queries, service


def execute(filters: dict | None = None):
	filters, csm = service.report_scope(filters, nowdate(), add_days(nowdate(), service.window_days()))
	data = queries.forecast_rows(filters, csm)
	weigh(data, service.company_currency())
	data = engine.forecast_order(data)
	return columns(), data, message(), chart(data), summary(data)


def weigh(data: list[dict], currency: str | None):
	"""Each row's health weight, health-weighted expected revenue and disagreement (the engine's), in
	place. One pass with plain item access: on the team's window it runs for tens of thousands of rows."""
	health_weight, expected_revenue = engine.health_weight, engine.expected_revenue
	is_disagreement, is_open, unknown = engine.is_disagreement, engine.OPEN, engine.UNKNOWN
	for row in data:
		signal, status = row["signal_status"], row["status"]
		row["currency"] = currency
		row["weight"] = 100 * health_weight(signal) if status == is_open else None
		row["expected_revenue"] = expected_revenue(
			row["revenue_at_stake"],
			signal,
			status,
			None if row["change_type"] == unknown else row["renewed_amount"],
		)
		row["disagreement"] = int(is_disagreement(row["latest_call"], signal))


def columns() -> list[dict]:
	currency = {"fieldtype": "Currency", "options": "currency", "width": 130}
	return [
		{
			"fieldname": "renewal",
			"label": _("Renewal"),
			"fieldtype": "Link",
			"options": "Renewal",
			"width": 150,
		},
		{
			"fieldname": "customer",
			"label": _("Customer"),
			"fieldtype": "Link",
			"options": "Customer",
			"width": 180,
		},
		{"fieldname": "csm", "label": _("CSM"), "fieldtype": "Link", "options": "User", "width": 150},
		{"fieldname": "tier", "label": _("CS Tier"), "fieldtype": "Data", "width": 90},
		{"fieldname": "end_date", "label": _("Term End"), "fieldtype": "Date", "width": 100},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 80},
		{"fieldname": "revenue_at_stake", "label": _("Revenue at Stake (Annual)"), **currency},
		{"fieldname": "latest_call", "label": _("CSM's Call"), "fieldtype": "Data", "width": 100},
		{"fieldname": "expected_amount", "label": _("Expected Amount (CSM)"), **currency},
		{"fieldname": "signal_status", "label": _("Health Signal"), "fieldtype": "Data", "width": 100},
		{
			"fieldname": "signal_score",
			"label": _("Health Score"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 80,
		},
		{
			"fieldname": "signal_trend",
			"label": _("Health Trend (Points)"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 80,
		},
		{"fieldname": "weight", "label": _("Health Weight"), "fieldtype": "Percent", "width": 80},
		{"fieldname": "expected_revenue", "label": _("Health-Weighted Expected Revenue"), **currency},
		{
			"fieldname": "disagreement",
			"label": _("CSM and Signal Disagree"),
			"fieldtype": "Check",
			"width": 80,
		},
		{"fieldname": "renewed_amount", "label": _("Renewed Amount (Annual)"), **currency},
		{"fieldname": "change_amount", "label": _("Change at Renewal"), **currency},
		{"fieldname": "churn_reason", "label": _("Churn Reason"), "fieldtype": "Data", "width": 110},
		{
			"fieldname": "contract",
			"label": _("Contract"),
			"fieldtype": "Link",
			"options": "Contract",
			"width": 120,
		},
		{
			# Data, not a Link: the desk checks read permission on every linked doctype with a value in
			# the rows, and the CS roles do not read ERPNext's Subscriptions (a row of one failed the
			# whole report for them)
			"fieldname": "subscription",
			"label": _("Subscription"),
			"fieldtype": "Data",
			"width": 120,
		},
	]


def message() -> str:
	return "<p>{}</p>".format(
		frappe.utils.escape_html(
			_(
				"Health-weighted expected revenue: an open renewal's revenue at stake times its health weight (Green 90%, Yellow 60%, Red 30%, no colour 50%); a renewed one brings its renewed amount, a churned one nothing. Renewals where the CSM says Will Renew while health is Red come first."
			)
		)
	)


def chart(data: list[dict]) -> dict:
	at_stake, expected = defaultdict(float), defaultdict(float)
	for row in data:
		end = row["end_date"]  # never empty: the period filters on it
		month = (end.year, end.month)
		at_stake[month] += float(row["revenue_at_stake"] or 0)
		expected[month] += row["expected_revenue"]
	months = sorted(at_stake)
	return {
		"data": {
			"labels": [f"{year:04d}-{month:02d}" for year, month in months],
			"datasets": [
				{"name": _("Revenue at Stake (Annual)"), "values": [at_stake[m] for m in months]},
				{"name": _("Health-Weighted Expected Revenue"), "values": [expected[m] for m in months]},
			],
		},
		"type": "bar",
		"fieldtype": "Currency",
		"colors": ["#5E64FF", "#48BB74"],
	}


def summary(data: list[dict]) -> list[dict]:
	return [
		{"label": _("Renewals"), "value": len(data), "datatype": "Int"},
		{
			"label": _("Revenue at Stake (Annual)"),
			"value": sum(float(r["revenue_at_stake"] or 0) for r in data),
			"datatype": "Currency",
		},
		{
			"label": _("Health-Weighted Expected Revenue"),
			"value": sum(r["expected_revenue"] for r in data),
			"datatype": "Currency",
			"indicator": "Green",
		},
		{
			"label": _("CSM and Signal Disagree"),
			"value": sum(r["disagreement"] for r in data),
			"datatype": "Int",
			"indicator": "Red",
		},
	]
