"""NPS Trend: NPS (% promoters - % detractors) per month, overall or per tier or CSM, with its chart.

One GROUP BY over the answers (voice.queries.nps_counts); the engine sums the groups and computes
each NPS, as the Customer form does. A CSM sees their own book only.
"""

import frappe
from frappe import _
from frappe.utils import add_months, get_first_day, getdate, nowdate

from customer_success import reports
from customer_success.permissions import book_of
from customer_success.voice import engine, queries

OVERALL, TIER, CSM = "Overall", "Tier", "CSM"
GROUP_KEYS = {OVERALL: (), TIER: ("tier",), CSM: ("csm",)}


def execute(filters: dict | None = None):
	filters = frappe._dict(filters or {})
	reports.check_customer_filters(filters)
	from_date, to_date = date_range(filters)
	group_by = filters.get("group_by") or TIER
	if group_by not in GROUP_KEYS:
		frappe.throw(_("Group By must be Overall, Tier or CSM."))
	csm = filters.get("csm")
	book = book_of()
	if book:
		if csm and csm != book:
			return columns(group_by), [], None, None, []
		csm = book
	counts = queries.nps_counts(from_date, to_date, csm=csm, tier=filters.get("tier"))
	keys = ("period", *GROUP_KEYS[group_by])
	rows = engine.nps_table(counts, keys)
	for row in rows:
		if group_by != OVERALL:
			row["group"] = row.pop(GROUP_KEYS[group_by][0]) or _("Not Set")
	rows.sort(key=lambda r: (r["period"], str(r.get("group") or "")))
	if "tier" in GROUP_KEYS[group_by]:
		reports.translated(rows, ("group",))  # a tier in the user's language (a CSM is a user)
	return columns(group_by), rows, None, chart(rows, group_by), summary(counts)


def date_range(filters) -> tuple:
	today = getdate(nowdate())
	to_date = reports.filter_date(filters, "to_date", _("To Date")) or today
	from_date = reports.filter_date(filters, "from_date", _("From Date")) or get_first_day(
		add_months(today, -11)
	)
	if from_date > to_date:
		frappe.throw(_("From Date must be on or before To Date."), title=_("Invalid Dates"))
	return from_date, to_date


def columns(group_by: str) -> list[dict]:
	cols = [{"fieldname": "period", "label": _("Month"), "fieldtype": "Data", "width": 100}]
	if group_by == CSM:
		cols.append(
			{"fieldname": "group", "label": _("CSM"), "fieldtype": "Link", "options": "User", "width": 200}
		)
	elif group_by == TIER:
		cols.append({"fieldname": "group", "label": _("Tier"), "fieldtype": "Data", "width": 140})
	return [
		*cols,
		{"fieldname": "nps", "label": _("NPS"), "fieldtype": "Float", "precision": 1, "width": 90},
		{"fieldname": "responses", "label": _("Responses"), "fieldtype": "Int", "width": 100},
		{"fieldname": "promoters", "label": _("Promoters"), "fieldtype": "Int", "width": 100},
		{"fieldname": "passives", "label": _("Passives"), "fieldtype": "Int", "width": 100},
		{"fieldname": "detractors", "label": _("Detractors"), "fieldtype": "Int", "width": 100},
	]


def chart(rows: list[dict], group_by: str) -> dict | None:
	"""One line per group over the months with answers; a group without answers in a month has no
	point there (never a 0, which would read as an NPS). A single month is a bar per group:
	frappe-charts cannot draw a line through one point (its path comes out "M575,undefined")."""
	if not rows:
		return None
	periods = sorted({row["period"] for row in rows})
	groups: dict[str, dict] = {}
	for row in rows:
		name = _("NPS") if group_by == OVERALL else str(row["group"])
		groups.setdefault(name, {})[row["period"]] = row["nps"]
	data = {
		"labels": periods,
		"datasets": [
			{"name": name, "values": [values.get(p) for p in periods]} for name, values in groups.items()
		],
	}
	if len(periods) == 1:
		return {"data": data, "type": "bar"}
	return {
		"data": data,
		"type": "line",
		"lineOptions": {"regionFill": 0, "dotSize": 4},
		"axisOptions": {"xIsSeries": 1},
	}


def summary(counts: list[dict]) -> list[dict]:
	"""The whole period's NPS and its three shares, over every answer shown."""
	total = engine.nps_table([{**row, "all": 1} for row in counts], ("all",))
	if not total:
		return []
	t = total[0]

	def share(n: int) -> float:
		return round(100.0 * n / t["responses"], 1) if t["responses"] else 0.0

	return [
		reports.decimal_figure(
			t["nps"],
			_("NPS"),
			indicator="Green" if (t["nps"] or 0) > 0 else ("Red" if (t["nps"] or 0) < 0 else "Orange"),
		),
		{"value": t["responses"], "label": _("Responses"), "datatype": "Int"},
		{"value": share(t["promoters"]), "label": _("Promoters %"), "datatype": "Percent"},
		{"value": share(t["detractors"]), "label": _("Detractors %"), "datatype": "Percent"},
	]
