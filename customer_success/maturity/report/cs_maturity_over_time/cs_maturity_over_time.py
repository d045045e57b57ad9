"""CS Maturity over Time: each capability's and enabler's level in every assessment of the period
(adjusted where a person adjusted it), with a bar chart per capability; it prints."""

import frappe
from frappe import _
from frappe.utils import formatdate

from customer_success.maturity import service
from customer_success.reports import check_date_order, filter_date

MAX_IN_CHART = 4  # the latest assessments drawn; the table keeps every one


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	from_date = filter_date(filters, "from_date", _("From Date"))
	to_date = filter_date(filters, "to_date", _("To Date"))
	check_date_order(from_date, to_date)
	assessments, table = service.comparison(from_date, to_date)
	cols = [
		{"fieldname": "area", "label": _("Capability"), "fieldtype": "Data", "width": 180},
		{"fieldname": "kind", "label": _("Kind"), "fieldtype": "Data", "width": 100},
	]
	for a in assessments:
		cols.append(
			{
				"fieldname": frappe.scrub(a.name),
				"label": _("{0} ({1})").format(formatdate(a.assessment_date), a.name),
				"fieldtype": "Int",
				"width": 170,
			}
		)
	data = [
		{
			"area": _(row["area"]),
			"kind": _(row["kind"]),
			**{frappe.scrub(a.name): row.get(a.name) for a in assessments},
		}
		for row in table
	]
	return cols, data, None, chart(assessments, table)


def chart(assessments, table) -> dict | None:
	if not assessments:
		return None
	shown = assessments[-MAX_IN_CHART:]
	return {
		"data": {
			"labels": [_(row["area"]) for row in table],
			"datasets": [
				{"name": formatdate(a.assessment_date), "values": [row.get(a.name) or 0 for row in table]}
				for a in shown
			],
		},
		"type": "bar",
		"barOptions": {"spaceRatio": 0.3},
		"axisOptions": {"xIsSeries": 0},
	}
