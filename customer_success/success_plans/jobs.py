"""Daily success-plan job: overdue milestones, reminders before due dates, due check-ins.

The steps run and commit one by one (see `daily`): a failing step is rolled back and logged
and the next step still runs.

Every step is idempotent: re-running the same day marks nothing twice, sends no second
reminder for the same due date and raises no second check-in while one is open.
"""

from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from customer_success.success_plans import engine, queries
from customer_success.success_plans import service as plans


def cs_success_plans_daily():
	"""Each step stands alone: committed when it succeeds, rolled back and logged when it fails."""
	today = getdate(nowdate())
	for step in (mark_overdue, send_reminders, raise_due_checkins):
		run_step(step, today)


def run_step(step, today) -> bool:
	"""Run one step of the daily job in its own transaction; a failure does not stop the next step."""
	try:
		step(today)
	except Exception:
		# undo only this step (earlier steps are committed), then keep the error where it survives
		frappe.db.rollback()
		name = getattr(step, "__name__", repr(step))
		frappe.log_error(title=_("Success plan daily job step {0} failed").format(name))
		frappe.db.commit()  # nosemgrep: persist the error log; the next step starts clean
		return False
	frappe.db.commit()  # nosemgrep: each step of the daily job is its own transaction
	return True


def mark_overdue(today=None) -> list[str]:
	"""Set-based: one UPDATE for the milestones, one for the plans' counts."""
	today = getdate(today or nowdate())
	touched = queries.mark_overdue_milestones(today)
	plans.refresh_plan_summaries(touched)
	return touched


def send_reminders(today=None) -> list[str]:
	"""Remind each owner once per due date, `milestone_reminder_days` before it."""
	today = getdate(today or nowdate())
	settings = frappe.get_cached_doc("Customer Success Settings")
	days_before = int(settings.milestone_reminder_days or 7)
	rows = [
		r
		for r in queries.reminder_candidates(today, days_before)
		if engine.should_remind(r.status, getdate(r.due_date), today, days_before)
	]
	with_todo = queries.open_todo_pairs([r.name for r in rows]) if settings.create_todos else set()
	# the owners' language and kind, read once for the batch
	owners = {
		user.name: user
		for user in frappe.get_all(
			"User",
			filters={"name": ("in", list({r.assigned_to for r in rows}) or [""])},
			fields=["name", "language", "user_type"],
		)
	}
	reminded = []
	for row in rows:
		# One milestone's bad data (say, an owner who was deleted) is logged; the batch goes on.
		try:
			with savepoint("cs_reminder"):
				remind(row, settings, with_todo, owners.get(row.assigned_to) or frappe._dict())
			reminded.append(row.name)
		except Exception:
			frappe.log_error(
				title=_("Milestone reminder failed for {0}").format(row.name),
				reference_doctype=plans.MILESTONE,
				reference_name=row.name,
			)
	queries.mark_reminded(reminded)
	return reminded


def remind(row, settings, with_todo: set, owner):
	"""The owner's reminder, in their language: a ToDo (unless one is open), an e-mail (unless they
	switched e-mail notifications off) and the bell. What users typed (the title, the customer) is
	escaped: the text goes out as HTML (a title holding a link sent it live in the e-mail)."""
	from frappe.utils import escape_html

	from customer_success.utils import in_language, site_language

	with in_language(owner.language or site_language()):
		message = _("Milestone {0} for {1} is due on {2}.").format(
			escape_html(row.title or ""),
			escape_html(row.customer or ""),
			frappe.format(row.due_date, {"fieldtype": "Date"}),
		)
		subject = _("Reminder: {0}").format(row.title or "")
	if settings.create_todos and (row.name, row.assigned_to) not in with_todo:
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": row.assigned_to,
				"reference_type": plans.MILESTONE,
				"reference_name": row.name,
				"description": message,
				"date": row.due_date,
				"priority": "Medium",
				"assigned_by": "Administrator",
			}
		).insert(ignore_permissions=True)
	if settings.send_email_notifications:
		send_reminder_email(row, subject, message)
	if owner.user_type == "System User":
		notify_in_desk(row, message)


def notify_in_desk(row, message: str):
	"""The reminder in the owner's notifications (the bell), whatever else is switched on: an owner
	whose assignment ToDo is still open gets no second ToDo, and a site without an outgoing e-mail
	account sends no e-mail, so without it such an owner heard nothing. For a desk user only (the
	caller's check: a customer's contact who owns a milestone has no bell and is reminded by
	e-mail); frappe skips an owner who is disabled or has notifications off. `message` is HTML
	already escaped."""
	from frappe.desk.doctype.notification_log.notification_log import make_notification_logs

	make_notification_logs(
		{
			"type": "Alert",
			"document_type": plans.MILESTONE,
			"document_name": row.name,
			"subject": message,
			"from_user": "Administrator",
		},
		[row.assigned_to],
	)


@contextmanager
def savepoint(name: str):
	"""Undo only this record's writes when it fails."""
	frappe.db.savepoint(name)
	try:
		yield
	except Exception:
		frappe.db.rollback(save_point=name)
		raise


def send_reminder_email(row, subject: str, message: str):
	"""Queued email, unless the owner switched e-mail notifications off (My Settings → Notification
	Settings); a site without an outgoing account still gets the ToDo and the bell."""
	from frappe.desk.doctype.notification_settings.notification_settings import (
		is_email_notifications_enabled,
	)

	if not is_email_notifications_enabled(row.assigned_to):
		return
	try:
		frappe.sendmail(
			recipients=[row.assigned_to],
			subject=subject,
			message=message,
			reference_doctype=plans.MILESTONE,
			reference_name=row.name,
		)
	except frappe.OutgoingEmailError:
		pass


def raise_due_checkins(today=None) -> list[str]:
	"""One Due check-in per running plan every `checkin_cadence_days`, never two open at once."""
	today = getdate(today or nowdate())
	settings = frappe.get_cached_doc("Customer Success Settings")
	cadence = int(settings.checkin_cadence_days or 90)
	raised = []
	for row in queries.checkin_candidates():
		if int(row.open_checkins or 0):
			continue
		last = getdate(row.last_checkin) if row.last_checkin else None
		if not engine.checkin_due(last, getdate(row.start_date), today, cadence):
			continue
		try:
			with savepoint("cs_checkin"):
				raised.append(raise_checkin(row, settings, today))
		except Exception:
			frappe.log_error(
				title=_("Raising a check-in failed for {0}").format(row.name),
				reference_doctype=plans.PLAN,
				reference_name=row.name,
			)
	return raised


def raise_checkin(row, settings, today) -> str:
	checkin = frappe.get_doc(
		{
			"doctype": plans.CHECKIN,
			"success_plan": row.name,
			"csm": row.csm,
			"due_date": today,
			# held when the CSM records it; never dated ahead of the real today
			"checkin_date": min(today, getdate(nowdate())),
		}
	)
	checkin.flags.ignore_permissions = True
	checkin.insert()
	if settings.create_todos and row.csm:
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": row.csm,
				"reference_type": plans.CHECKIN,
				"reference_name": checkin.name,
				"description": _("Check-in due for the success plan of {0}.").format(row.customer),
				"date": add_days(today, 7),
				"assigned_by": "Administrator",
			}
		).insert(ignore_permissions=True)
	return checkin.name
