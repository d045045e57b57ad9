"""Open success plans, planned touchpoints and open handoffs of customers recorded as churned before
this version stayed open (only their alerts were resolved): close them, as a customer churned from
now on has them closed at once (`cs_on_customer_churned`)."""

import frappe


def execute():
	from customer_success.constants import CHURNED
	from customer_success.handoff.engine import OPEN_STATUSES as OPEN_HANDOFF_STATUSES
	from customer_success.success_plans.engine import OPEN_PLAN_STATUSES

	customer = frappe.qb.DocType("Customer")
	found: set[str] = set()
	for doctype, statuses in (
		("Success Plan", OPEN_PLAN_STATUSES),
		("Customer Touchpoint", ("Planned",)),
		("Sales Handoff", OPEN_HANDOFF_STATUSES),
	):
		if not frappe.db.table_exists(doctype):
			continue
		table = frappe.qb.DocType(doctype)
		found |= set(
			frappe.qb.from_(table)
			.join(customer)
			.on(customer.name == table.customer)
			.select(customer.name)
			.distinct()
			.where(table.status.isin(statuses) & (customer.cs_lifecycle_stage == CHURNED))
			.run(pluck=True)
		)
	for name in sorted(found):
		for method in frappe.get_hooks("cs_on_customer_churned"):
			frappe.get_attr(method)(name, "The customer churned: nothing more to act on.")
