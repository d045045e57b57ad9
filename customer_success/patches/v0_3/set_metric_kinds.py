"""Objective rows saved before metrics said whether they count or measure get their kind from their
unit (as a save would set it): one UPDATE per distinct unit and doctype."""

import frappe

from customer_success.success_plans import engine
from customer_success.success_plans.service import METRIC_FIELDS


def execute():
	for doctype in METRIC_FIELDS:
		if not frappe.db.has_column(doctype, "metric_kind"):
			continue
		row = frappe.qb.DocType(doctype)
		blank = row.metric_kind.isnull() | (row.metric_kind == "")
		units = frappe.qb.from_(row).select(row.unit).distinct().where(blank).run(pluck=True)
		for unit in units:
			same_unit = row.unit.isnull() if unit is None else (row.unit == unit)
			frappe.qb.update(row).set(row.metric_kind, engine.guess_metric_kind(unit)).where(
				blank & same_unit
			).run()
