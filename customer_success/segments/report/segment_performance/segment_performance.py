"""Segment Performance: per tier and segment, the customers, their revenue, average health, share
green and plan coverage (and retention, when the retention maths is there): the evidence that a
segment works. A CSM sees her own book; a CS Manager the team."""

import frappe
from frappe import _
from frappe.utils import getdate, nowdate

from customer_success import reports
from customer_success.permissions import book_of
from customer_success.segments import service

GROUPINGS = {
	"Tier and Segment": ("tier", "segment"),
	"Tier": ("tier",),
	"Segment": ("segment",),
}


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	grouping = filters.get("group_by") or "Tier and Segment"
	if grouping not in GROUPINGS:
		frappe.throw(_("Group By must be one of: {0}.").format(", ".join(_(g) for g in GROUPINGS)))
	group_by = GROUPINGS[grouping]
	reports.check_links_exist(filters, (("company", "Company", _("Company")),))
	day = reports.filter_date(filters, "as_of", _("As Of")) or getdate(nowdate())
	rows = service.performance(day, group_by, company=filters.get("company"), csm=book_of())
	for row in rows:
		for field in group_by:
			row[field] = row[field] or _("(none)")
	# the tiers in the user's language (a segment is a name of the site's own)
	return columns(group_by), reports.translated(rows, ("tier",)), None, chart(rows, group_by)


def columns(group_by: tuple[str, ...]) -> list[dict]:
	cols = []
	if "tier" in group_by:
		cols.append({"fieldname": "tier", "label": _("Tier"), "fieldtype": "Data", "width": 130})
	if "segment" in group_by:
		cols.append({"fieldname": "segment", "label": _("Segment"), "fieldtype": "Data", "width": 160})
	cols += [
		{"fieldname": "customers", "label": _("Customers"), "fieldtype": "Int", "width": 100},
		{"fieldname": "revenue", "label": _("Revenue (12 Months)"), "fieldtype": "Currency", "width": 150},
		{
			"fieldname": "average_health",
			"label": _("Average Health"),
			"fieldtype": "Float",
			"precision": 1,
			"width": 120,
		},
		{"fieldname": "share_green", "label": _("Share Green"), "fieldtype": "Percent", "width": 110},
		{"fieldname": "plan_coverage", "label": _("Plan Coverage"), "fieldtype": "Percent", "width": 120},
		{"fieldname": "grr", "label": _("GRR"), "fieldtype": "Percent", "width": 90},
		{"fieldname": "nrr", "label": _("NRR"), "fieldtype": "Percent", "width": 90},
	]
	return cols


def chart(rows: list[dict], group_by: tuple[str, ...]) -> dict | None:
	if not rows:
		return None
	return {
		"data": {
			"labels": [" · ".join(str(row[f]) for f in group_by) for row in rows],
			"datasets": [
				{"name": _("Share Green"), "values": [row["share_green"] or 0 for row in rows]},
				{"name": _("Plan Coverage"), "values": [row["plan_coverage"] or 0 for row in rows]},
			],
		},
		"type": "bar",
		"fieldtype": "Percent",
	}
