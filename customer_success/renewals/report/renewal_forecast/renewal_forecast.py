"""Renewals ending in a period: revenue at stake, the CSM's latest call, the health signal, the
health-weighted expected revenue, and the disagreements (the CSM says renew, health is red) first.

Expected revenue (renewals/engine.py `expected_revenue`): an open renewal's revenue at stake times
its health weight (Green 90 %, Yellow 60 %, Red 30 %, no colour 50 %); a renewed one its renewed
amount (its revenue at stake while the new term's worth is Unknown); a churned one nothing.
Renewals of contracts and of subscriptions alike. Renewals whose contract was cancelled are left out unless the Status filter asks for them.

What it lists, and what it costs: the team's window on the 100k benchmark book holds 25,774 renewals,
and reading and weighing every one took over a second. So the totals (the summary and the chart by
month) count EVERY renewal of the period, summed in the database by what each one's part depends on
(`engine.FORECAST_GROUP_KEYS`) with the engine's maths then applied per group (`engine.forecast_totals`);
and the rows are the LISTED first in the forecast's order (the disagreements first), ordered and cut
in the database (`queries.first_forecast_rows`). A CSM's book (hers, or the CSM filter's) or a
customer's lists every renewal, its totals made of those rows by the same engine functions.
"""

import frappe
from frappe import _
from frappe.utils import add_days, nowdate

from customer_success import reports
from customer_success.constants import LIFECYCLE_STAGES, TIERS
from customer_success.renewals import engine, queries, service

# the renewals the team's report lists: the disagreements, then the rest in the forecast's order
LISTED = 500


def execute(filters: dict | None = None):
	filters, csm = service.report_scope(filters, nowdate(), add_days(nowdate(), service.window_days()))
	check_filters(filters)
	if service.shows_nothing(filters, csm):
		return columns(), []
	if lists_all(filters, csm):
		data = queries.forecast_rows(filters, csm)
		totals = engine.forecast_totals(engine.forecast_groups(data))
	else:
		totals = engine.forecast_totals(queries.forecast_groups(filters, csm))
		data = (
			queries.first_forecast_rows(filters, csm, LISTED, totals["disagreements"])
			if totals["renewals"]
			else []
		)
	currency = service.company_currency()
	weigh(data, currency)
	data = engine.forecast_order(data)
	return (
		reports.with_customer_names(columns(), data),
		reports.translated(data, ("tier", "status", "latest_call", "signal_status", "churn_reason")),
		message(len(data), totals["renewals"]),
		chart(totals),
		summary(totals, currency),
	)


def lists_all(filters, csm) -> bool:
	"""Whether every renewal of the period is listed: a CSM's book (her own, or the CSM filter's) or a
	customer's. The team's period (25,774 renewals on the 100k benchmark book) lists the LISTED first
	of the forecast's order; its totals and chart count every renewal all the same."""
	return bool(csm or filters.get("csm") or filters.get("customer"))


def check_filters(filters: dict):
	"""A filter the report cannot read stops it with what to change (nothing is read)."""
	if filters.get("status") and filters.status not in engine.STATUSES:
		frappe.throw(
			_("Status must be one of {0}.").format(", ".join(_(s) for s in engine.STATUSES)),
			title=_("Invalid Filter"),
		)
	reports.check_choices(
		filters,
		(("tier", TIERS, _("CS Tier")), ("lifecycle_stage", LIFECYCLE_STAGES, _("Lifecycle Stage"))),
	)
	reports.check_links_exist(filters, (("customer", "Customer", _("Customer")), ("csm", "User", _("CSM"))))


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


def message(listed: int, renewals: int) -> str:
	text = frappe.utils.escape_html(
		_(
			"Health-weighted expected revenue: an open renewal's revenue at stake times its health weight (Green 90%, Yellow 60%, Red 30%, no colour 50%); a renewed one brings its renewed amount, a churned one nothing. Renewals where the CSM says Will Renew while health is Red come first."
		)
	)
	if listed < renewals:
		text += "</p><p>" + frappe.utils.escape_html(
			_(
				"Showing the first {0} of {1} renewals (the disagreements, then by end date); the totals and the chart count all {1}. Filter by CSM or customer to list all of theirs, or narrow the period."
			).format(listed, renewals)
		)
	return f"<p>{text}</p>"


def chart(totals: dict) -> dict:
	months = sorted(totals["by_month"])
	return {
		"data": {
			"labels": [f"{year:04d}-{month:02d}" for year, month in months],
			"datasets": [
				{
					"name": _("Revenue at Stake (Annual)"),
					"values": [totals["by_month"][m][0] for m in months],
				},
				{
					"name": _("Health-Weighted Expected Revenue"),
					"values": [totals["by_month"][m][1] for m in months],
				},
			],
		},
		"type": "bar",
		"fieldtype": "Currency",
		"colors": ["#5E64FF", "#48BB74"],
	}


def summary(totals: dict, currency: str | None) -> list[dict]:
	return [
		{"label": _("Renewals"), "value": totals["renewals"], "datatype": "Int"},
		{
			"label": _("Revenue at Stake (Annual)"),
			"value": totals["revenue_at_stake"],
			"datatype": "Currency",
			"currency": currency,
		},
		{
			"label": _("Health-Weighted Expected Revenue"),
			"value": totals["expected_revenue"],
			"datatype": "Currency",
			"currency": currency,
			"indicator": "Green",
		},
		{
			"label": _("CSM and Signal Disagree"),
			"value": totals["disagreements"],
			"datatype": "Int",
			"indicator": "Red",
		},
	]
