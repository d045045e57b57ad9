"""Success Plan Progress: each plan of the user's book with its progress, objectives, milestones
(overdue ones counted live: marked Overdue, or still open past their due date) and next check-in."""

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from customer_success import reports
from customer_success.success_plans import engine, queries

# progress bands of the chart, in percent: [low, high)
BANDS = ((0, 25), (25, 50), (50, 75), (75, 100), (100, None))


def execute(filters=None):
	filters = frappe._dict(filters or {})
	status = filters.get("status") or None
	reports.check_choices(filters, (("status", engine.PLAN_STATUSES, _("Status")),))
	from_date = reports.filter_date(filters, "from_date", _("Running From"))
	to_date = reports.filter_date(filters, "to_date", _("Running To"))
	reports.check_date_order(from_date, to_date, _("Running From"), _("Running To"))
	columns = get_columns()
	scope = reports.customer_scope(filters)
	if not scope.allowed:
		return reports.empty_report(columns, _("You see only the customers of your own book."))
	today = getdate(nowdate())
	rows = queries.plan_progress_rows(
		reports.customers_in_scope(scope, include_disabled=True),
		today,
		statuses=(status,) if status else None,
		overlap_from=from_date,
		overlap_to=to_date,
	)
	data = [as_row(row, today) for row in rows]
	chart, summary = get_chart(data), get_summary(data)
	return (
		reports.with_customer_names(columns, data),
		reports.translated(data, ("tier", "lifecycle_stage", "status")),
		None,
		chart,
		summary,
	)


def get_columns() -> list[dict]:
	return [
		{
			"label": _("Success Plan"),
			"fieldname": "plan",
			"fieldtype": "Link",
			"options": "Success Plan",
			"width": 150,
		},
		{"label": _("Title"), "fieldname": "title", "fieldtype": "Data", "width": 180},
		{
			"label": _("Customer"),
			"fieldname": "customer",
			"fieldtype": "Link",
			"options": "Customer",
			"width": 180,
		},
		{"label": _("CSM"), "fieldname": "csm", "fieldtype": "Link", "options": "User", "width": 160},
		{"label": _("Tier"), "fieldname": "tier", "fieldtype": "Data", "width": 100},
		{"label": _("Lifecycle Stage"), "fieldname": "lifecycle_stage", "fieldtype": "Data", "width": 120},
		{"label": _("Status"), "fieldname": "status", "fieldtype": "Data", "width": 130},
		{"label": _("Start Date"), "fieldname": "start_date", "fieldtype": "Date", "width": 100},
		{"label": _("End Date"), "fieldname": "end_date", "fieldtype": "Date", "width": 100},
		{"label": _("Progress"), "fieldname": "progress", "fieldtype": "Percent", "width": 100},
		{"label": _("Objectives"), "fieldname": "objectives", "fieldtype": "Int", "width": 90},
		{
			"label": _("Objectives Achieved"),
			"fieldname": "objectives_achieved",
			"fieldtype": "Int",
			"width": 130,
		},
		{"label": _("Milestones"), "fieldname": "milestones", "fieldtype": "Int", "width": 90},
		{"label": _("Milestones Done"), "fieldname": "milestones_done", "fieldtype": "Int", "width": 120},
		{
			"label": _("Overdue Milestones"),
			"fieldname": "milestones_overdue",
			"fieldtype": "Int",
			"width": 130,
		},
		{"label": _("Next Check-in"), "fieldname": "next_checkin", "fieldtype": "Date", "width": 110},
		{"label": _("Check-in Overdue"), "fieldname": "checkin_overdue", "fieldtype": "Check", "width": 110},
	]


def as_row(row, today) -> dict:
	next_checkin = getdate(row.next_checkin) if row.next_checkin else None
	return {
		"plan": row.plan,
		"title": row.title,
		"customer": row.customer,
		"csm": row.csm,
		"tier": row.tier,
		"lifecycle_stage": row.lifecycle_stage,
		"status": row.status,
		"start_date": row.start_date,
		"end_date": row.end_date,
		"progress": float(row.progress or 0),
		"objectives": row.objectives,
		"objectives_achieved": row.objectives_achieved,
		"milestones": row.milestones,
		"milestones_done": row.milestones_done,
		"milestones_overdue": row.milestones_overdue,
		"next_checkin": next_checkin,
		"checkin_overdue": int(bool(next_checkin and next_checkin < today)),
	}


def band_label(low, high) -> str:
	return _("{0}% and over").format(low) if high is None else _("{0}-{1}%").format(low, high)


def get_chart(data: list[dict]) -> dict | None:
	if not data:
		return None
	counts = [0] * len(BANDS)
	for row in data:
		for i, (low, high) in enumerate(BANDS):
			if row["progress"] >= low and (high is None or row["progress"] < high):
				counts[i] += 1
				break
	return {
		"data": {
			"labels": [band_label(low, high) for low, high in BANDS],
			"datasets": [{"name": _("Success Plans"), "values": counts}],
		},
		"type": "bar",
		"colors": ["#5e64ff"],
		"height": 220,
	}


def get_summary(data: list[dict]) -> list[dict]:
	progress = [row["progress"] for row in data]
	overdue = sum(row["milestones_overdue"] for row in data)
	late_checkins = sum(row["checkin_overdue"] for row in data)
	return [
		{"value": len(data), "label": _("Success Plans"), "datatype": "Int"},
		{
			"value": round(sum(progress) / len(progress), 1) if progress else None,
			"label": _("Average Progress"),
			"datatype": "Percent",
		},
		{
			"value": overdue,
			"label": _("Overdue Milestones"),
			"datatype": "Int",
			"indicator": "Red" if overdue else "Green",
		},
		{
			"value": late_checkins,
			"label": _("Check-ins Overdue"),
			"datatype": "Int",
			"indicator": "Red" if late_checkins else "Green",
		},
	]
