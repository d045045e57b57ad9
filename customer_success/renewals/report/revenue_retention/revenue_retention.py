"""Gross and net revenue retention from the ledger, at each month or quarter end T.

At T the cohort is the customers with revenue in the twelve months (T - 24 months, T - 12 months];
S is that revenue. Each one's revenue in the next twelve months (T - 12 months, T], against its
own part of S, gives expansion, contraction or churn (renewals/engine.py `retention`). Revenue:
submitted Sales Invoices by posting date, net total in company currency, credit notes netted;
other companies' currencies converted at today's rate.

A period is read no later than today: a To Date in the future is brought back to today (the
current month is read up to today, over its own full twelve months), so no unfinished period
shows revenue that simply has not been invoiced yet as contraction or churn.
"""

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, getdate, nowdate

from customer_success import reports
from customer_success.constants import LIFECYCLE_STAGES, TIERS
from customer_success.renewals import engine, queries, service

MAX_POINTS = 36


PERIODICITIES = ("Monthly", "Quarterly")


def execute(filters: dict | None = None):
	filters, csm = service.report_scope(filters, get_first_day(add_months(nowdate(), -11)), nowdate())
	check_filters(filters)
	if service.shows_nothing(filters, csm):
		return columns(), []
	filters.to_date = min(filters.to_date, getdate(nowdate()))
	if filters.from_date > filters.to_date:
		frappe.throw(
			_(
				"From Date {0} is after today: retention is measured up to today; pick an earlier From Date."
			).format(frappe.format(filters.from_date, {"fieldtype": "Date"})),
			title=_("Invalid Dates"),
		)
	points = engine.retention_points(
		filters.from_date, filters.to_date, filters.get("periodicity") or "Monthly"
	)
	if len(points) > MAX_POINTS:
		frappe.throw(
			_("Choose a shorter period: at most {0} points (it has {1}).").format(MAX_POINTS, len(points)),
			title=_("Too Many Periods"),
		)
	# the points the retention roll-up holds for these filters from it; the others from the ledger
	rolled = service.rolled_up_retention(points, filters, csm)
	revenue = queries.retention_revenue([p for p in points if p not in rolled], filters, csm)
	data = [
		{"period_end": point, **(rolled[point] if point in rolled else engine.retention(*revenue[point]))}
		for point in points
	]
	return columns(), data, message(), chart(data), summary(data)


def check_filters(filters: dict):
	"""A filter the report cannot read stops it with what to change (nothing is read)."""
	reports.check_choices(
		filters,
		(
			("periodicity", PERIODICITIES, _("Periodicity")),
			("tier", TIERS, _("CS Tier")),
			("lifecycle_stage", LIFECYCLE_STAGES, _("Lifecycle Stage")),
		),
	)
	reports.check_links_exist(
		filters,
		(
			("company", "Company", _("Company")),
			("csm", "User", _("CSM")),
			("customer", "Customer", _("Customer")),
		),
	)


def columns() -> list[dict]:
	currency = {"fieldtype": "Currency", "options": "currency", "width": 140}
	return [
		{"fieldname": "period_end", "label": _("Period Ending (T)"), "fieldtype": "Date", "width": 120},
		{"fieldname": "customers", "label": _("Cohort Customers"), "fieldtype": "Int", "width": 110},
		{"fieldname": "starting_revenue", "label": _("Starting Revenue"), **currency},
		{"fieldname": "expansion", "label": _("Expansion"), **currency},
		{"fieldname": "contraction", "label": _("Contraction"), **currency},
		{"fieldname": "churn", "label": _("Churn"), **currency},
		{"fieldname": "ending_revenue", "label": _("Retained Revenue"), **currency},
		{"fieldname": "grr", "label": _("GRR %"), "fieldtype": "Percent", "width": 90},
		{"fieldname": "nrr", "label": _("NRR %"), "fieldtype": "Percent", "width": 90},
		{"fieldname": "churned_customers", "label": _("Churned Customers"), "fieldtype": "Int", "width": 110},
		{
			"fieldname": "expanded_customers",
			"label": _("Expanded Customers"),
			"fieldtype": "Int",
			"width": 110,
		},
		{
			"fieldname": "contracted_customers",
			"label": _("Contracted Customers"),
			"fieldtype": "Int",
			"width": 110,
		},
	]


def message() -> str:
	return "<p>{}</p>".format(
		frappe.utils.escape_html(
			_(
				"At each period end T: the cohort is the customers with revenue in the twelve months before T - 12 months (T - 24 to T - 12 months); S is that revenue. Each cohort customer's revenue in the twelve months to T, against its own part of S, is expansion E (more), contraction C (less, still above 0) or churn L (nothing). GRR = (S - C - L) / S; NRR = (S + E - C - L) / S. Revenue: submitted Sales Invoices by posting date, net of taxes, in company currency, credit notes netted. New customers count in neither."
			)
		)
	)


def chart(data: list[dict]) -> dict:
	return {
		"data": {
			"labels": [frappe.format(row["period_end"], "Date") for row in data],
			"datasets": [
				{"name": _("GRR %"), "values": [row["grr"] or 0 for row in data]},
				{"name": _("NRR %"), "values": [row["nrr"] or 0 for row in data]},
			],
		},
		# bars: a line of a single period draws nothing but errors
		"type": "bar",
		"colors": ["#5E64FF", "#48BB74"],
	}


def summary(data: list[dict]) -> list[dict]:
	if not data:
		return []
	last = data[-1]
	return [
		{"label": _("GRR (latest)"), "value": last["grr"], "datatype": "Percent", "indicator": "Blue"},
		{"label": _("NRR (latest)"), "value": last["nrr"], "datatype": "Percent", "indicator": "Green"},
		{"label": _("Starting Revenue (latest)"), "value": last["starting_revenue"], "datatype": "Currency"},
		{"label": _("Churn (latest)"), "value": last["churn"], "datatype": "Currency", "indicator": "Red"},
	]
