"""Maturity: propose each area's level from the company's own data (queries -> engine), keep what
a person adjusted, and compare assessments over time."""

import frappe
from frappe import _
from frappe.utils import getdate

from customer_success.maturity import engine, queries

ASSESSMENT = "CS Maturity Assessment"


def translate(message: engine.Message | None) -> str:
	if not message:
		return ""
	text, args = message
	return _(text).format(*(translate_arg(a) for a in args))


def translate_arg(value):
	if isinstance(value, tuple | list):
		return ", ".join(_(v) for v in value)
	return _(value) if isinstance(value, str) else value


def proposals(day, exclude_assessment: str | None = None) -> list[dict]:
	"""Each area's proposed level, evidence and next level's needs, translated, as of `day`."""
	facts = queries.gather(getdate(day), exclude_assessment)
	return [
		{
			"area": row["area"],
			"kind": row["kind"],
			"proposed_level": row["level"],
			"evidence": "\n".join(translate(line) for line in row["evidence"]),
			"next_level_needs": translate(row["next_needs"]) or _("This is the top level."),
		}
		for row in engine.propose_all(facts)
	]


def apply_proposals(doc):
	"""Fill (or refresh) the assessment's proposed levels; a person's adjustments and notes stay."""
	kept = {row.area: (row.adjusted_level, row.note) for row in doc.get("capabilities") or []}
	doc.flags.proposals_refreshed = True
	doc.set("capabilities", [])
	for row in proposals(doc.assessment_date, doc.name if not doc.is_new() else None):
		adjusted, note = kept.get(row["area"], (0, None))
		doc.append("capabilities", {**row, "adjusted_level": adjusted or 0, "note": note})


def comparison(from_date=None, to_date=None) -> tuple[list[dict], list[dict]]:
	"""The assessments in the period, oldest first, and {area: {assessment: level}} rows."""
	filters = {}
	if from_date and to_date:
		filters["assessment_date"] = ("between", (getdate(from_date), getdate(to_date)))
	elif from_date:
		filters["assessment_date"] = (">=", getdate(from_date))
	elif to_date:
		filters["assessment_date"] = ("<=", getdate(to_date))
	assessments = frappe.get_list(
		ASSESSMENT,
		filters=filters,
		fields=["name", "assessment_date", "overall_level"],
		order_by="assessment_date asc, creation asc",
	)
	if not assessments:
		return [], []
	rows = frappe.get_all(
		"CS Maturity Capability",
		filters={"parenttype": ASSESSMENT, "parent": ("in", [a.name for a in assessments])},
		fields=["parent", "area", "proposed_level", "adjusted_level", "level"],
	)
	levels = {(r.parent, r.area): r for r in rows}
	table = []
	for area in engine.AREAS:
		line = {"area": area, "kind": engine.CAPABILITY if area in engine.CAPABILITIES else engine.ENABLER}
		for a in assessments:
			r = levels.get((a.name, area))
			line[a.name] = engine.effective_level(r.proposed_level, r.adjusted_level) if r else None
		table.append(line)
	return assessments, table
