"""A customer moved to another CSM's book takes its open work with it.

Its open alerts (their owner and playbook tasks), running success plans, open milestones and
check-ins, open renewals, planned touchpoints, draft business reviews, open handoffs (the review
waiting on the old CSM: its Proposed CSM), and the open ToDos of those
records and of the customer and its orders, held by the CSM who had the customer, become the new
CSM's: the old CSM can no longer open them (access follows the customer),
and the new one would otherwise not know of them. Work held by someone else (a colleague given a
milestone, a task for Finance) stays where it is. One customer at a time (its save, or its handoff's
acceptance): a few statements and the ToDos one by one, so frappe keeps each record's assignment
list and timeline.
"""

import frappe
from frappe import _
from frappe.utils import escape_html

OPEN_ALERT_STATUSES = ("Open", "In Progress")
CLOSED_MILESTONE_STATUSES = ("Done", "Skipped")
OPEN_HANDOFF_STATUSES = ("Draft", "Handed Over", "Returned")


def hand_over_open_work(customer: str, old_csm: str | None, new_csm: str | None) -> dict[str, int]:
	"""Move the customer's open work from `old_csm` to `new_csm`; returns what moved, by kind.
	Nothing moves to nobody: with no new CSM the work stays (a CS Manager gives it out). A customer
	given its first CSM (or one from a CS Owner who could not work alerts) takes up the alerts raised
	while it had none (`take_up_unowned_alerts`); one given its first CSM, its open renewals made
	while it had none too, with their checkpoints' ToDos (`renewals.service.take_up_unowned_renewals`)."""
	if not customer or not new_csm or old_csm == new_csm:
		return {}
	if not old_csm:
		from customer_success.renewals.service import take_up_unowned_renewals

		taken = take_up_unowned_alerts(customer, new_csm)
		return {**taken, **take_up_unowned_renewals(customer, new_csm)}
	moved = {}
	alert = frappe.qb.DocType("CS Alert")
	task = frappe.qb.DocType("CS Alert Task")
	alerts = (
		frappe.qb.from_(alert)
		.select(alert.name)
		.where((alert.customer == customer) & alert.status.isin(OPEN_ALERT_STATUSES))
		.run(pluck=True)
	)
	if alerts:
		moved["alerts"] = _update(alert, alert.assigned_to, old_csm, new_csm, alert.name.isin(alerts))
		moved["alert tasks"] = _update(
			task,
			task.assigned_to,
			old_csm,
			new_csm,
			(task.parenttype == "CS Alert") & task.parent.isin(alerts) & (task.status == "Open"),
		)
	plan = frappe.qb.DocType("Success Plan")
	moved["plans"] = _update(
		plan, plan.csm, old_csm, new_csm, (plan.customer == customer) & (plan.status != "Closed")
	)
	milestone = frappe.qb.DocType("Success Plan Milestone")
	moved["milestones"] = _update(
		milestone,
		milestone.assigned_to,
		old_csm,
		new_csm,
		(milestone.customer == customer) & milestone.status.notin(CLOSED_MILESTONE_STATUSES),
	)
	checkin = frappe.qb.DocType("Success Plan Check-in")
	moved["check-ins"] = _update(
		checkin, checkin.csm, old_csm, new_csm, (checkin.customer == customer) & (checkin.docstatus == 0)
	)
	renewal = frappe.qb.DocType("Renewal")
	moved["renewals"] = _update(
		renewal, renewal.csm, old_csm, new_csm, (renewal.customer == customer) & (renewal.status == "Open")
	)
	touchpoint = frappe.qb.DocType("Customer Touchpoint")
	moved["touchpoints"] = _update(
		touchpoint,
		touchpoint.assigned_to,
		old_csm,
		new_csm,
		(touchpoint.customer == customer) & (touchpoint.status == "Planned"),
	)
	review = frappe.qb.DocType("Business Review")
	moved["business reviews"] = _update(
		review, review.csm, old_csm, new_csm, (review.customer == customer) & (review.status == "Draft")
	)
	# a handoff of the customer still open (its review waiting on the old CSM, or a draft naming her)
	handoff = frappe.qb.DocType("Sales Handoff")
	moved["handoffs"] = _update(
		handoff,
		handoff.proposed_csm,
		old_csm,
		new_csm,
		(handoff.customer == customer) & handoff.status.isin(OPEN_HANDOFF_STATUSES),
	)
	moved["todos"] = _move_todos(customer, alerts, old_csm, new_csm)
	from customer_success.alerts.service import works_alerts

	if not works_alerts(old_csm):  # a CS Owner who could not work alerts was given none: a manager was
		for kind, count in take_up_unowned_alerts(customer, new_csm).items():
			moved[kind] = moved.get(kind, 0) + count
	return {kind: count for kind, count in moved.items() if count}


def take_up_unowned_alerts(customer: str, new_csm: str) -> dict[str, int]:
	"""The customer's first CSM takes up its open alerts raised while it had none: those given to
	nobody, or to the CS Manager who gets what has no CSM, become hers, and so do their playbook's CSM
	tasks (with their ToDos; a task without one gets it). A task for a CS Manager, a Sales Owner or an
	Account Manager stays theirs; an alert a CS Manager gave someone else stays too."""
	from customer_success.alerts import service as alerts

	if not alerts.works_alerts(new_csm):
		return {}
	alert, task = frappe.qb.DocType("CS Alert"), frappe.qb.DocType("CS Alert Task")
	rows = (
		frappe.qb.from_(alert)
		.select(alert.name, alert.assigned_to)
		.where((alert.customer == customer) & alert.status.isin(OPEN_ALERT_STATUSES))
		.run(as_dict=True)
	)
	fallback = alerts.any_cs_manager()
	unowned = [row for row in rows if not row.assigned_to or row.assigned_to == fallback]
	if not unowned:
		return {}
	names = [row.name for row in unowned]
	frappe.qb.update(alert).set(alert.assigned_to, new_csm).set(alert.csm, new_csm).where(
		alert.name.isin(names)
	).run()
	tasks = (
		frappe.qb.from_(task)
		.select(task.name, task.todo)
		.where(
			(task.parenttype == "CS Alert")
			& task.parent.isin(names)
			& (task.status == "Open")
			& (task.assign_role == "CSM")
			& (task.assigned_to.isnull() | (task.assigned_to != new_csm))
		)
		.run(as_dict=True)
	)
	if tasks:
		frappe.qb.update(task).set(task.assigned_to, new_csm).set(task.csm, new_csm).where(
			task.name.isin([t.name for t in tasks])
		).run()
	for todo in [t.todo for t in tasks if t.todo]:
		if frappe.db.get_value("ToDo", todo, "status") == "Open":
			_give_todo(todo, new_csm)
	for row in unowned:
		doc = frappe.get_doc("CS Alert", row.name)
		alerts.create_task_todos(doc)  # a CSM task given to nobody before: her ToDo now
		alerts.move_assignment(doc, row.assigned_to)  # the alert's own ToDo: hers
		alerts.assign_once(row.name)
	frappe.get_doc("Customer", customer).add_comment(
		"Info",
		_("{0} open alerts raised before this customer had a CSM were given to {1}.").format(
			len(unowned), escape_html(new_csm)
		),
	)
	return {"alerts": len(unowned), "alert tasks": len(tasks)}


def _update(table, field, old_csm: str, new_csm: str, where) -> int:
	"""Set `field` from old to new on the rows `where` picks; how many rows there were."""
	names = frappe.qb.from_(table).select(table.name).where(where & (field == old_csm)).run(pluck=True)
	if names:
		frappe.qb.update(table).set(field, new_csm).where(table.name.isin(names)).run()
	return len(names)


def _move_todos(customer: str, alerts: list[str], old_csm: str, new_csm: str) -> int:
	"""The old CSM's open ToDos on the customer's moved records become the new CSM's (each saved as
	a ToDo, so the record's assignment list follows)."""
	references = {"CS Alert": alerts}
	for doctype, filters in (
		("Success Plan Milestone", {"status": ("not in", CLOSED_MILESTONE_STATUSES)}),
		("Success Plan Check-in", {"docstatus": 0}),
		("Success Plan", {"status": ("!=", "Closed")}),
		("Renewal", {"status": "Open"}),
		("Customer Touchpoint", {"status": "Planned"}),
		("Business Review", {"status": "Draft"}),
		("Sales Handoff", {"status": ("in", OPEN_HANDOFF_STATUSES)}),
		# the news of a repeat order, and any other open ToDo of hers on the customer's own records
		("Sales Order", {"docstatus": ("<", 2)}),
		("Customer", {}),
	):
		key = "name" if doctype == "Customer" else "customer"
		references[doctype] = frappe.get_all(doctype, filters={key: customer, **filters}, pluck="name")
	moved = 0
	for doctype, names in references.items():
		if not names:
			continue
		for todo in frappe.get_all(
			"ToDo",
			filters={
				"reference_type": doctype,
				"reference_name": ("in", names),
				"allocated_to": old_csm,
				"status": "Open",
			},
			pluck="name",
		):
			_give_todo(todo, new_csm)
			moved += 1
	if moved:
		frappe.get_doc("Customer", customer).add_comment(
			"Info",
			_("{0} open tasks of this customer moved from {1} to {2} with the customer.").format(
				moved, escape_html(old_csm), escape_html(new_csm)
			),
		)
	return moved


def _give_todo(name: str, user: str):
	"""An open ToDo becomes `user`'s, saved as a ToDo (the record's assignment list follows)."""
	doc = frappe.get_doc("ToDo", name)
	doc.allocated_to = user
	doc.flags.ignore_permissions = True
	doc.save()
