"""Open alerts of customers disabled or churned before this version were never resolved (the rules
no longer evaluate a disabled customer, and raised risk alerts for a churned one): resolve them, as a
customer disabled or churned from now on has them resolved at once; and cancel the open tasks of
alerts already closed."""

import frappe


def execute():
	from customer_success.alerts import engine
	from customer_success.alerts.queries import cancel_open_tasks
	from customer_success.alerts.service import close_for_customer_gone
	from customer_success.constants import CHURNED

	if not frappe.db.table_exists("CS Alert"):
		return
	alert = frappe.qb.DocType("CS Alert")
	customer = frappe.qb.DocType("Customer")
	gone = (
		frappe.qb.from_(alert)
		.join(customer)
		.on(customer.name == alert.customer)
		.select(customer.name, customer.disabled)
		.distinct()
		.where(
			alert.status.isin(engine.OPEN_STATUSES)
			& ((customer.disabled == 1) | (customer.cs_lifecycle_stage == CHURNED))
		)
		.run(as_dict=True)
	)
	for row in gone:
		close_for_customer_gone(
			row.name,
			"The customer was disabled: nothing more to act on."
			if row.disabled
			else "The customer churned: nothing more to act on.",
		)
	# the closed alerts with a task still open, found from the open tasks (not every closed alert)
	task = frappe.qb.DocType("CS Alert Task")
	closed = (
		frappe.qb.from_(task)
		.join(alert)
		.on(alert.name == task.parent)
		.select(task.parent)
		.distinct()
		.where(
			(task.parenttype == "CS Alert")
			& (task.status == "Open")
			& alert.status.isin(engine.CLOSED_STATUSES)
		)
		.run(pluck=True)
	)
	for start in range(0, len(closed), 5000):
		cancel_open_tasks(closed[start : start + 5000])
