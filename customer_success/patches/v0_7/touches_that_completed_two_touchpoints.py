"""Before this version a touch that completed a touchpoint on one run could complete another of the
same customer on a later run (a call ticked off a kick-off, then a training). Of the touchpoints one
touch completed, the one due first keeps it; the others are Planned again, and the next run records
them done by a touch of their own or missed (their ToDos stay closed)."""

import frappe


def execute():
	if not frappe.db.table_exists("Customer Touchpoint"):
		return
	record = frappe.qb.DocType("Customer Touchpoint")
	rows = (
		frappe.qb.from_(record)
		.select(record.name, record.customer, record.done_by_doctype, record.done_by_name)
		.where((record.status == "Done") & record.done_by_name.isnotnull())
		.orderby(record.customer)
		.orderby(record.due_date)
		.orderby(record.name)
		.run(as_dict=True)
	)
	kept, again = set(), []
	for row in rows:
		touch = (row.customer, row.done_by_doctype, row.done_by_name)
		if touch in kept:
			again.append(row.name)
		else:
			kept.add(touch)
	for start in range(0, len(again), 500):
		(
			frappe.qb.update(record)
			.set(record.status, "Planned")
			.set(record.done_on, None)
			.set(record.done_by_doctype, None)
			.set(record.done_by_name, None)
			.where(record.name.isin(again[start : start + 500]))
			.run()
		)
