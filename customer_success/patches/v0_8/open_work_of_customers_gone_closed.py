"""Open success plans and planned touchpoints of customers disabled or churned before this version
stayed open (only their alerts were resolved): close the plans and cancel the touchpoints, with their
ToDos, as a customer disabled or churned from now on has them at once."""

import frappe


def execute():
	from customer_success.constants import CHURNED
	from customer_success.segments.service import cancel_touchpoints
	from customer_success.success_plans import engine
	from customer_success.success_plans.service import close_plans_of_customer_gone

	customer = frappe.qb.DocType("Customer")
	gone = (customer.disabled == 1) | (customer.cs_lifecycle_stage == CHURNED)
	found: dict[str, int] = {}
	for doctype, open_condition in (
		("Success Plan", lambda t: t.status.isin((*engine.OPEN_PLAN_STATUSES, engine.ACHIEVED))),
		("Customer Touchpoint", lambda t: t.status == "Planned"),
	):
		if not frappe.db.table_exists(doctype):
			continue
		table = frappe.qb.DocType(doctype)
		for name, disabled in (
			frappe.qb.from_(table)
			.join(customer)
			.on(customer.name == table.customer)
			.select(customer.name, customer.disabled)
			.distinct()
			.where(open_condition(table) & gone)
			.run()
		):
			found[name] = disabled
	for name, disabled in found.items():
		why = (
			"The customer was disabled: nothing more to act on."
			if disabled
			else "The customer churned: nothing more to act on."
		)
		close_plans_of_customer_gone(name, why)
		cancel_touchpoints(name, why)
