"""Health Backtest: did the score (and which factor) see churn coming?

For the customers that renewed or churned in the period, the report reads what their health said
90 and 180 days before (the latest stored score on or before that day; monthly history is enough)
and compares the renewed with the churned:
- Separation = mean of the renewed - mean of the churned, in points (> 0: the churners scored lower);
- Lift = churn rate among those scoring below the Low Score (default 40) ÷ churn rate among all
  (> 1: a low reading came before churn more often than churn came at all).
Renewed: a contract ending in the period with a later contract signed. Churned: lifecycle stage
Churned, dated at the end of the customer's latest contract (customers without a contract have no
date to look back from and are left out).
"""

import frappe
from frappe import _
from frappe.utils import flt

from customer_success import reports
from customer_success.health import engine
from customer_success.health import service as health

VIEWS = ("Factors", "Customers")
DEFAULT_DAYS = 365


def execute(filters=None):
	filters = frappe._dict(filters or {})
	view = filters.get("view") or "Factors"
	if view not in VIEWS:
		frappe.throw(_("View must be Factors or Customers."), title=_("Invalid Filters"))
	low_score = flt(filters.get("low_score")) if filters.get("low_score") not in (None, "") else None
	if low_score is None:
		low_score = engine.DEFAULT_LOW_SCORE
	if not 0 < low_score <= 100:
		frappe.throw(_("Low Score must be above 0 and at most 100."), title=_("Invalid Filters"))
	from_date, to_date = reports.date_range(filters, DEFAULT_DAYS)
	columns = factor_columns() if view == "Factors" else customer_columns()
	scope = reports.customer_scope(filters)
	if not scope.allowed:
		return reports.empty_report(columns, _("You see only the customers of your own book."))
	# the whole book needs no list of its customers (every contract's party is one)
	customers = None if scope.everyone else reports.customers_in_scope(scope, include_disabled=True)
	events = health.backtest_readings(customers, from_date, to_date)
	message = definitions(low_score, events)
	if view == "Customers":
		rows = customer_rows(events)
		return reports.with_customer_names(columns, rows), rows, message, None, summary(events)
	rows = factor_rows(engine.backtest(events, engine.BACKTEST_LOOKBACKS, low_score))
	return columns, rows, message, get_chart(rows), summary(events)


def definitions(low_score: float, events: list[dict]) -> str:
	text = _(
		"Separation = mean of the renewed - mean of the churned (points; above 0, the churners scored "
		"lower). Lift = churn rate among readings below {0} ÷ churn rate among all readings (above 1, "
		"a low reading came before churn). Readings: the latest score on or before 90 and 180 days "
		"before the contract end."
	).format(flt(low_score, 1))
	return text if events else _("No renewals or churns in this period.") + " " + text


def factor_columns() -> list[dict]:
	columns = [{"label": _("Signal"), "fieldname": "signal", "fieldtype": "Data", "width": 170}]
	for lb in engine.BACKTEST_LOOKBACKS:
		columns += [
			{
				"label": _("Renewed ({0} d)").format(lb),
				"fieldname": f"renewed_{lb}",
				"fieldtype": "Int",
				"width": 100,
			},
			{
				"label": _("Churned ({0} d)").format(lb),
				"fieldname": f"churned_{lb}",
				"fieldtype": "Int",
				"width": 100,
			},
			{
				"label": _("Mean Renewed ({0} d)").format(lb),
				"fieldname": f"mean_renewed_{lb}",
				"fieldtype": "Float",
				"precision": 1,
				"width": 130,
			},
			{
				"label": _("Mean Churned ({0} d)").format(lb),
				"fieldname": f"mean_churned_{lb}",
				"fieldtype": "Float",
				"precision": 1,
				"width": 130,
			},
			{
				"label": _("Separation ({0} d)").format(lb),
				"fieldname": f"separation_{lb}",
				"fieldtype": "Float",
				"precision": 1,
				"width": 120,
			},
			{
				"label": _("Churn Rate of Low ({0} d)").format(lb),
				"fieldname": f"churn_rate_low_{lb}",
				"fieldtype": "Percent",
				"width": 140,
			},
			{
				"label": _("Lift ({0} d)").format(lb),
				"fieldname": f"lift_{lb}",
				"fieldtype": "Float",
				"precision": 2,
				"width": 90,
			},
		]
	return columns


def factor_rows(lifts: list[dict]) -> list[dict]:
	rows = []
	for lift in lifts:
		row = {"signal": lift["signal"]}
		for lb in engine.BACKTEST_LOOKBACKS:
			for key in (
				"renewed",
				"churned",
				"mean_renewed",
				"mean_churned",
				"separation",
				"churn_rate_low",
				"lift",
			):
				row[f"{key}_{lb}"] = lift[lb][key]
		rows.append(row)
	return rows


def customer_columns() -> list[dict]:
	columns = [
		{
			"label": _("Customer"),
			"fieldname": "customer",
			"fieldtype": "Link",
			"options": "Customer",
			"width": 200,
		},
		{"label": _("Outcome"), "fieldname": "outcome", "fieldtype": "Data", "width": 100},
		{"label": _("Contract End"), "fieldname": "date", "fieldtype": "Date", "width": 110},
	]
	for lb in engine.BACKTEST_LOOKBACKS:
		columns += [
			{
				"label": _("Score Date ({0} d)").format(lb),
				"fieldname": f"score_date_{lb}",
				"fieldtype": "Date",
				"width": 120,
			},
			{
				"label": _("Score ({0} d)").format(lb),
				"fieldname": f"score_{lb}",
				"fieldtype": "Float",
				"precision": 1,
				"width": 100,
			},
			{
				"label": _("Status ({0} d)").format(lb),
				"fieldname": f"status_{lb}",
				"fieldtype": "Data",
				"width": 120,
			},
		]
	return columns


def customer_rows(events: list[dict]) -> list[dict]:
	rows = []
	for ev in events:
		row = {"customer": ev["customer"], "outcome": ev["outcome"], "date": ev["date"]}
		for lb in engine.BACKTEST_LOOKBACKS:
			reading = ev["readings"].get(lb) or {}
			row[f"score_date_{lb}"] = reading.get("score_date")
			row[f"score_{lb}"] = reading.get("score")
			row[f"status_{lb}"] = reading.get("status")
		rows.append(row)
	return rows


def get_chart(rows: list[dict]) -> dict | None:
	rows = [
		row for row in rows if any(row[f"separation_{lb}"] is not None for lb in engine.BACKTEST_LOOKBACKS)
	]
	if not rows:
		return None
	return {
		"data": {
			"labels": [_(row["signal"]) for row in rows],
			"datasets": [
				{
					"name": _("Separation ({0} d)").format(lb),
					"values": [row[f"separation_{lb}"] or 0 for row in rows],
				}
				for lb in engine.BACKTEST_LOOKBACKS
			],
		},
		"type": "bar",
		"colors": ["#5e64ff", "#a0aec0"],
		"height": 260,
	}


def summary(events: list[dict]) -> list[dict]:
	renewed = sum(1 for ev in events if ev["outcome"] == engine.RENEWED)
	churned = sum(1 for ev in events if ev["outcome"] == engine.CHURNED)
	read = sum(1 for ev in events if any(ev["readings"].get(lb) for lb in engine.BACKTEST_LOOKBACKS))
	return [
		{"value": renewed, "label": _("Renewed"), "datatype": "Int", "indicator": "Green"},
		{"value": churned, "label": _("Churned"), "datatype": "Int", "indicator": "Red"},
		{"value": read, "label": _("With Health History"), "datatype": "Int"},
	]
