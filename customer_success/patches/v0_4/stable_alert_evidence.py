"""Alerts' evidence holds dates, not day counts, and links the customer rather than the day's score
row, so it stays the same from one night to the next while nothing changed; its MD5 is stored on
the alert (`evidence_digest`), which the nightly pass compares instead of the evidence.

Every alert's evidence is rewritten in that form (the counts dropped: the dates beside them stay;
a check-in's "days since" becomes the date it counted from), its digest stored, and an open
alert's summary written again from it (a closed alert keeps the summary it was closed with)."""

import json
from datetime import timedelta

import frappe
from frappe.utils import getdate

from customer_success.alerts import engine
from customer_success.alerts import service as alerts

ALERT = "CS Alert"
BATCH = 500
# The day counts the evidence held, by rule kind (each beside the date it was counted from).
COUNTS = {
	engine.RENEWAL_AT_RISK: ("days_to_renewal",),
	engine.GREEN_BEFORE_RENEWAL: ("days_to_renewal",),
	engine.OVERDUE_RECEIVABLE: ("days_overdue",),
	engine.NO_TOUCH: ("days_since",),
	engine.ONBOARDING_LATE: ("days_late",),
}


def execute():
	if not frappe.db.has_column(ALERT, "evidence_digest"):
		return
	alert = frappe.qb.DocType(ALERT)
	last = ""
	while True:
		rows = (
			frappe.qb.from_(alert)
			.select(
				alert.name,
				alert.customer,
				alert.status,
				alert.evidence,
				alert.summary,
				alert.evidence_updated_on,
				alert.modified,
			)
			.where((alert.name > last) & alert.evidence.isnotnull() & (alert.evidence != ""))
			.orderby(alert.name)
			.limit(BATCH)
			.run(as_dict=True)
		)
		if not rows:
			return
		write([migrated(row) for row in rows])
		last = rows[-1].name


def migrated(row: dict) -> dict:
	"""The alert's evidence in the stable form, its digest and (open alerts) its summary."""
	try:
		evidence = json.loads(row.evidence)
	except ValueError:
		return {
			"name": row.name,
			"evidence": row.evidence,
			"digest": alerts.digest(row.evidence),
			"summary": row.summary,
		}
	if not isinstance(evidence, dict):
		return {
			"name": row.name,
			"evidence": row.evidence,
			"digest": alerts.digest(row.evidence),
			"summary": row.summary,
		}
	kind = evidence.get("rule_type")
	facts = dict(evidence.get("facts") or {})
	for key in COUNTS.get(kind, ()):
		facts.pop(key, None)
	if kind == engine.CHECKIN_OVERDUE and "days_since" in facts:
		days = facts.pop("days_since")
		written = getdate(row.evidence_updated_on or row.modified)
		facts["since"] = str(written - timedelta(days=int(days or 0)))
	records = [
		["Customer", row.customer] if list(record[:1]) == ["Customer Health Score"] else list(record)
		for record in evidence.get("records") or []
	]
	rule = frappe._dict(rule_type=kind)
	finding = engine.Finding(None, facts, records)
	text = alerts.evidence_json(rule, finding)
	summary = row.summary
	if row.status in engine.OPEN_STATUSES and kind in engine.RULE_TYPES:
		try:
			summary = alerts.summary_of(rule, finding)
		except Exception:
			summary = row.summary  # facts the summary cannot read: the old summary stays
	return {"name": row.name, "evidence": text, "digest": alerts.digest(text), "summary": summary}


def write(rows: list[dict]):
	"""One UPDATE for the batch (no `modified`: nothing a person changed)."""
	cases, values = [], []
	for field, key in (("evidence", "evidence"), ("evidence_digest", "digest"), ("summary", "summary")):
		cases.append(f"`{field}` = case `name` " + " ".join(["when %s then %s"] * len(rows)) + " end")
		values += [value for row in rows for value in (row["name"], row[key])]
	values += [row["name"] for row in rows]
	frappe.db.sql(
		f"update `tab{ALERT}` set {', '.join(cases)} where `name` in ({', '.join(['%s'] * len(rows))})",
		values,
	)
