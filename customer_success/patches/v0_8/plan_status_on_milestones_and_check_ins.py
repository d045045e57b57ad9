"""Milestones and check-ins keep their plan's status (`plan_status`, new in this version): filled
in for the records made before it, one UPDATE each."""

import frappe


def execute():
	plan = frappe.qb.DocType("Success Plan")
	for doctype in ("Success Plan Milestone", "Success Plan Check-in"):
		if not frappe.db.has_column(doctype, "plan_status"):
			continue
		table = frappe.qb.DocType(doctype)
		(
			frappe.qb.update(table)
			.join(plan)
			.on(plan.name == table.success_plan)
			.set(table.plan_status, plan.status)
			.run()
		)
