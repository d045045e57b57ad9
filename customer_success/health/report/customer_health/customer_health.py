"""Customer Health: the portfolio, one row per customer of the user's book.

Score, status and trend are the customer's current figures; the top negative factor is read from
the stored explanation of that score (the factor that cost it the most points); the renewal date
is the end of the customer's open Renewal, else of its latest submitted contract; open alerts are
Open or In Progress.
"""

import frappe
from frappe import _
from frappe.query_builder.functions import Coalesce

from customer_success import reports
from customer_success.alerts import queries as alert_queries
from customer_success.constants import CHURNED
from customer_success.health import engine, queries
from customer_success.renewals import queries as renewal_queries

COLOURS = (engine.GREEN, engine.YELLOW, engine.RED)
STATUS_COLOURS = {
	engine.GREEN: "#48bb78",
	engine.YELLOW: "#ecc94b",
	engine.RED: "#f56565",
	engine.INSUFFICIENT_DATA: "#a0aec0",
}


DEFAULT_ROWS = 500


def execute(filters=None):
	filters = frappe._dict(filters or {})
	columns = get_columns()
	reports.check_choices(filters, (("status", engine.STATUSES, _("Health Status")),))
	scope = reports.customer_scope(filters)
	if not scope.allowed:
		return reports.empty_report(columns, _("You see only the customers of your own book."))
	limit = reports.filter_whole_number(filters, "rows", _("Rows"), DEFAULT_ROWS)
	criterion = get_criterion(scope, filters)
	counts = rolled_up_counts(scope, filters)
	if counts is None:
		counts = queries.portfolio_counts(criterion)
	data = get_data(criterion, limit)
	total = sum(c["customers"] for c in counts.values())
	message = None
	if limit and total > len(data):
		message = _("The {0} weakest of {1} customers: filter, or set Rows to 0 to see them all.").format(
			len(data), total
		)
	summary = get_summary(counts, data)
	return (
		columns,
		# (the status stays as stored: the report's JS colours its pill by it, and translates its label)
		reports.translated(data, ("tier", "lifecycle_stage")),
		message,
		get_chart(counts),
		summary,
	)


def rolled_up_counts(scope: reports.CustomerScope, filters) -> dict | None:
	"""The summary's and chart's counts from the book roll-up (kept current by every writer of the
	CS Owner, health, tier and stage); None with a renewal date filter, which it does not hold."""
	from customer_success.customer_success import book_counts

	if filters.get("renewal_from") or filters.get("renewal_to") or not book_counts.readable():
		return None
	return book_counts.status_figures(scope.csm, scope.tier, scope.lifecycle_stage, filters.get("status"))


def get_criterion(scope: reports.CustomerScope, filters):
	customer = frappe.qb.DocType("Customer")
	criterion = reports.customer_criterion(customer, scope)
	if scope.lifecycle_stage != CHURNED:  # a churned customer is no longer the book's (unless asked for)
		criterion &= Coalesce(customer.cs_lifecycle_stage, "") != CHURNED
	if filters.get("status"):
		criterion &= customer.cs_health_status == filters.status
	renewal_from = reports.filter_date(filters, "renewal_from", _("Renewal From"))
	renewal_to = reports.filter_date(filters, "renewal_to", _("Renewal To"))
	reports.check_date_order(renewal_from, renewal_to, _("Renewal From"), _("Renewal To"))
	if renewal_from or renewal_to:
		criterion &= customer.name.isin(queries.renewing_between(renewal_from, renewal_to))
	return criterion


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
		{
			"label": _("Renewal"),
			"fieldname": "renewal",
			"fieldtype": "Link",
			"options": "Renewal",
			"width": 120,
		},
		{"label": _("Renewal Date"), "fieldname": "renewal_date", "fieldtype": "Date", "width": 110},
		{"label": _("Open Alerts"), "fieldname": "open_alerts", "fieldtype": "Int", "width": 90},
		{"label": _("Health Computed On"), "fieldname": "computed_on", "fieldtype": "Datetime", "width": 160},
	]


def get_data(criterion, limit: int) -> list[dict]:
	rows = queries.portfolio(criterion, limit)
	names = [row.customer for row in rows]
	explanations = queries.current_explanations(rows)
	contract_ends = queries.latest_contract_ends(names) if names else {}
	renewals = renewal_queries.open_renewal_ends(names) if names else {}
	alerts = alert_queries.open_alert_counts(names) if names else {}
	data = []
	for row in rows:
		top = engine.top_negative_factor(explanations.get(row.customer))
		has_colour = row.status in COLOURS
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
				"renewal": renewals.get(row.customer, {}).get("renewal"),
				# the open renewal's end; a customer without one yet: its latest contract's end
				"renewal_date": renewals.get(row.customer, {}).get("end_date")
				or contract_ends.get(row.customer),
				"open_alerts": alerts.get(row.customer, 0),
				"computed_on": row.computed_on,
			}
		)
	return data


# A customer no night has scored yet (new since the last run, or before the first): no status.
NOT_SCORED = ""
NOT_SCORED_COLOUR = "#e2e8f0"


def get_chart(counts: dict[str, dict]) -> dict | None:
	"""Customers by status, those not scored yet a slice of their own (the summary counts them);
	no chart when there is no customer to draw (an all-zero donut draws broken paths)."""
	slices = [(s, _(s), STATUS_COLOURS[s]) for s in engine.STATUSES]
	slices.append((NOT_SCORED, _("Not Scored Yet"), NOT_SCORED_COLOUR))
	values = [counts.get(key, {}).get("customers", 0) for key, _label, _colour in slices]
	if not any(values):
		return None
	shown = [(label, value, colour) for (_key, label, colour), value in zip(slices, values, strict=True)]
	if not values[-1]:  # the grey slice only when some customer has no score yet
		shown = shown[:-1]
	return {
		"data": {
			"labels": [label for label, _value, _colour in shown],
			"datasets": [{"name": _("Customers"), "values": [value for _label, value, _colour in shown]}],
		},
		"type": "donut",
		"colors": [colour for _label, _value, colour in shown],
		"height": 240,
	}


def get_summary(counts: dict[str, dict], data: list[dict]) -> list[dict]:
	"""Figures over every customer of the filters (not only the rows shown)."""
	coloured = [counts[s] for s in COLOURS if s in counts]
	scored = sum(c["customers"] for c in coloured)
	at_risk = sum(counts.get(s, {}).get("customers", 0) for s in (engine.RED, engine.YELLOW))
	return [
		{"value": sum(c["customers"] for c in counts.values()), "label": _("Customers"), "datatype": "Int"},
		reports.decimal_figure(
			sum(c["score_sum"] for c in coloured) / scored if scored else None, _("Average Health Score")
		),
		{
			"value": at_risk,
			"label": _("Red or Yellow"),
			"datatype": "Int",
			"indicator": "Red" if at_risk else "Green",
		},
	]
