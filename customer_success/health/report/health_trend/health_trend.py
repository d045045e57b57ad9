"""Health Trend: the book's average score and status mix over time, from the score history.

Each period (week or month) counts each customer once, by its latest score in that period. The
average is over the customers with a colour (a score without one is not a reading). Daily history
thins out to one row per month after the retention period, so weeks that far back show the
customers whose monthly row falls in them: choose Month for long ranges.
"""

import frappe
from frappe import _
from frappe.utils import flt, getdate

from customer_success import reports
from customer_success.health import queries
from customer_success.health import service as health

PERIODS = ("Week", "Month")
DEFAULT_DAYS = 180


def execute(filters=None):
	filters = frappe._dict(filters or {})
	period = filters.get("period") or "Month"
	if period not in PERIODS:
		frappe.throw(_("Period must be Week or Month."), title=_("Invalid Filters"))
	from_date, to_date = reports.date_range(filters, DEFAULT_DAYS)
	columns = get_columns()
	scope = reports.customer_scope(filters)
	if not scope.allowed:
		return reports.empty_report(columns, _("You see only the customers of your own book."))
	data = get_data(scope, from_date, to_date, period)
	return columns, data, None, get_chart(data), None


def get_columns() -> list[dict]:
	return [
		{"label": _("Period"), "fieldname": "period", "fieldtype": "Data", "width": 110},
		{"label": _("Last Score Date"), "fieldname": "period_end", "fieldtype": "Date", "width": 120},
		{"label": _("Customers"), "fieldname": "customers", "fieldtype": "Int", "width": 100},
		{
			"label": _("Average Score"),
			"fieldname": "average_score",
			"fieldtype": "Float",
			"precision": 1,
			"width": 120,
		},
		{"label": _("Green"), "fieldname": "green", "fieldtype": "Int", "width": 80},
		{"label": _("Yellow"), "fieldname": "yellow", "fieldtype": "Int", "width": 80},
		{"label": _("Red"), "fieldname": "red", "fieldtype": "Int", "width": 80},
		{"label": _("Insufficient Data"), "fieldname": "no_colour", "fieldtype": "Int", "width": 120},
		{"label": _("Green %"), "fieldname": "green_pct", "fieldtype": "Percent", "width": 90},
		{"label": _("Yellow %"), "fieldname": "yellow_pct", "fieldtype": "Percent", "width": 90},
		{"label": _("Red %"), "fieldname": "red_pct", "fieldtype": "Percent", "width": 90},
	]


def period_label(period: str, key) -> str:
	key = str(key)
	if period == "Week":  # yearweek(…, 3): ISO year and week
		return f"{key[:4]}-W{key[4:]}"
	return key


def get_data(scope: reports.CustomerScope, from_date, to_date, period: str) -> list[dict]:
	if scope.everyone:  # the whole book: the roll-up, with what it does not hold computed live
		rows = health.book_history_by_period(from_date, to_date, period)
	else:
		customers = reports.customers_in_scope(scope, include_disabled=True)
		rows = queries.history_by_period(customers, from_date, to_date, period)
	data = []
	for row in rows:
		coloured = int(row.green or 0) + int(row.yellow or 0) + int(row.red or 0)
		data.append(
			{
				"period": period_label(period, row.period),
				"period_end": getdate(row.period_end),
				"customers": int(row.customers),
				"average_score": None if row.average_score is None else flt(row.average_score, 1),
				"green": int(row.green or 0),
				"yellow": int(row.yellow or 0),
				"red": int(row.red or 0),
				"no_colour": int(row.no_colour or 0),
				"green_pct": flt(100 * int(row.green or 0) / coloured, 1) if coloured else None,
				"yellow_pct": flt(100 * int(row.yellow or 0) / coloured, 1) if coloured else None,
				"red_pct": flt(100 * int(row.red or 0) / coloured, 1) if coloured else None,
			}
		)
	return data


def get_chart(data: list[dict]) -> dict | None:
	"""The periods' lines; one period's bars (frappe-charts cannot draw a line through one point: its
	path comes out "M575,undefined", an empty chart and console errors)."""
	if not data:
		return None
	chart_data = {
		"labels": [row["period"] for row in data],
		"datasets": [
			{"name": _("Average Score"), "values": [row["average_score"] or 0 for row in data]},
			{"name": _("Green %"), "values": [row["green_pct"] or 0 for row in data]},
			{"name": _("Yellow %"), "values": [row["yellow_pct"] or 0 for row in data]},
			{"name": _("Red %"), "values": [row["red_pct"] or 0 for row in data]},
		],
	}
	if len(data) == 1:
		return {
			"data": chart_data,
			"type": "bar",
			"colors": ["#5e64ff", "#48bb78", "#ecc94b", "#f56565"],
			"height": 260,
		}
	return {
		"data": chart_data,
		"type": "line",
		"colors": ["#5e64ff", "#48bb78", "#ecc94b", "#f56565"],
		"lineOptions": {"regionFill": 0, "dotSize": 3},
		"axisOptions": {"xIsSeries": 1},
		"height": 260,
	}
