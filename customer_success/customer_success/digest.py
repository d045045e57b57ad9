"""The CSM e-mail digest (PRODUCT.md section 10): each CSM's book in one e-mail, daily or weekly.

Sent at 07:00 site time (`hooks.scheduler_events`), after the night's scores, alerts and renewals,
to every enabled CSM (or CS Manager) who is the CS Owner of an active customer, in their language:
the book's counts (customers, red ones, open alerts, overdue milestones, check-ins and alert tasks:
the CSM Workload's figures, read set-based for every book at once), then the alerts raised since
their last digest (worst first), their red customers (weakest first) and the renewals ending within
the renewal window. A user who switched e-mail notifications off (My Settings → Notification
Settings) gets none; Customer Success Settings switches the digest off, daily or weekly (which day).

Idempotent: a person gets at most one digest a day (the instant it was sent is kept per user), and
two runs never overlap (a user lock). One person's failure is logged and the others still get
theirs. A site without an outgoing e-mail account sends nothing and logs nothing. The e-mails are
queued (Email Queue) and sent by frappe's own job.
"""

import frappe
from frappe import _
from frappe.utils import add_days, add_months, get_datetime, get_url_to_form, getdate, now_datetime

from customer_success.customer_success import digest_engine as engine

LAST_SENT_KEY = "customer_success_digest_last_sent"  # uninstall removes customer_success_%
LOCK = "customer_success:csm_digest"
LISTED = 10  # rows a list shows; the rest are counted
OPEN_ALERT_STATUSES = ("Open", "In Progress")


def cs_csm_digest():
	"""Scheduled daily: send the digest when today is its day."""
	settings = frappe.get_cached_doc("Customer Success Settings")
	frequency = settings.get("csm_digest") or engine.OFF
	if not settings.send_email_notifications or not engine.due_on(
		frequency, settings.get("csm_digest_weekday"), getdate(now_datetime())
	):
		return []
	return send_digests(frequency)


def send_digests(frequency: str, now=None) -> list[str]:
	"""Send each CSM their digest (not twice a day); returns who got one."""
	from customer_success.health.service import release_lock, take_lock

	if not take_lock(LOCK, 0):
		return []  # another run is sending them
	try:
		return _send_all(frequency, get_datetime(now or now_datetime()))
	finally:
		release_lock(LOCK)


def _send_all(frequency: str, now) -> list[str]:
	"""Each person's digest and its "sent" mark stand alone (a savepoint each): one failing is rolled
	back and logged, and the next one goes on. The job's transaction is committed when it ends, so a
	run killed half-way sent (queued) nothing and marked nobody: the next run sends them all."""
	books = workload_by_csm(getdate(now))
	sent = []
	for user in recipients(books):
		last = last_sent(user)
		if engine.sent_today(last, now):
			continue
		savepoint = "cs_digest_" + frappe.generate_hash(length=8)
		frappe.db.savepoint(savepoint)
		try:
			send_digest(user, books[user], engine.covers_from(frequency, last, now), now)
			frappe.defaults.set_user_default(LAST_SENT_KEY, str(now), user)
		except frappe.OutgoingEmailError:
			frappe.db.rollback(save_point=savepoint)
			break  # no outgoing account: nobody can be sent one
		except Exception:
			frappe.db.rollback(save_point=savepoint)
			frappe.log_error(title=_("CSM digest failed for {0}").format(user), reference_doctype="User")
			continue
		sent.append(user)
	return sent


def workload_by_csm(today) -> dict[str, dict]:
	"""{CSM: their CSM Workload row} for every book, as the report reads them (set-based)."""
	from customer_success import reports
	from customer_success.customer_success.report.csm_workload import csm_workload

	scope = reports.CustomerScope(None, None, None, True)
	rows = csm_workload.get_data(scope, add_days(add_months(today, -12), 1), today, today)
	return {row["csm"]: row for row in rows if row["csm"] and row["customers"]}


def recipients(books: dict[str, dict]) -> list[str]:
	"""The CS Owners who can work their book (enabled, with the CSM, CS Manager or System Manager
	role) and have not switched e-mail notifications off."""
	from frappe.desk.doctype.notification_settings.notification_settings import (
		is_email_notifications_enabled,
	)

	from customer_success.alerts.queries import alert_workers

	return sorted(
		user
		for user in alert_workers(books)
		if user != "Administrator" and is_email_notifications_enabled(user)
	)


def last_sent(user: str):
	value = frappe.defaults.get_user_default(LAST_SENT_KEY, user)
	return get_datetime(value) if value else None


def send_digest(user: str, book: dict, since, now):
	from customer_success.utils import in_language, site_language

	email, language, first_name = frappe.db.get_value("User", user, ["email", "language", "first_name"])
	with in_language(language or site_language()):
		args = digest_of(user, book, since, getdate(now))
		args["first_name"] = first_name or user
		frappe.sendmail(
			recipients=[email or user],
			subject=_("Your customer success digest: {0} new alerts, {1} overdue items").format(
				args["new_alerts_count"], args["overdue_items"]
			),
			template="csm_digest",
			args=args,
			reference_doctype="User",
			reference_name=user,
		)


def digest_of(user: str, book: dict, since, today) -> dict:
	"""What one CSM's digest says (plain values: the template escapes what users typed)."""
	settings = frappe.get_cached_doc("Customer Success Settings")
	new_alerts, new_count = alerts_since(user, since)
	red_count = int(book.get("red_customers") or 0)
	renewals, renewals_count = renewals_due(user, today, int(settings.renewal_window_days or 90))
	return {
		"since": since,
		"customers": int(book.get("customers") or 0),
		"red_count": red_count,
		"red": red_customers(user) if red_count else [],
		"open_alerts": int(book.get("open_alerts") or 0),
		"overdue_milestones": int(book.get("overdue_milestones") or 0),
		"overdue_checkins": int(book.get("overdue_checkins") or 0),
		"overdue_alert_tasks": int(book.get("overdue_alert_tasks") or 0),
		"overdue_items": engine.overdue_items(book),
		"new_alerts": new_alerts,
		"new_alerts_count": new_count,
		"renewals": renewals,
		"renewals_count": renewals_count,
		"window_days": int(settings.renewal_window_days or 90),
		"workspace_url": frappe.utils.get_url("/app/customer-success"),
	}


def alerts_since(user: str, since) -> tuple[list[dict], int]:
	"""The open alerts of the CSM's book raised since `since`: the worst LISTED (the most severe, then
	the newest: ordered and cut in the database, whatever the book's size), and how many."""
	from frappe.query_builder import Case
	from frappe.query_builder.functions import Count

	alert = frappe.qb.DocType("CS Alert")
	new = (alert.csm == user) & alert.status.isin(OPEN_ALERT_STATUSES) & (alert.creation >= since)
	(count,) = frappe.qb.from_(alert).select(Count("*")).where(new).run()[0]
	if not count:
		return [], 0
	rank = Case()
	for severity, position in engine.SEVERITY_RANK.items():
		rank = rank.when(alert.severity == severity, position)
	rows = (
		frappe.qb.from_(alert)
		.select(
			alert.name,
			alert.title,
			alert.customer_name,
			alert.severity,
			alert.kind,
			alert.due_date,
			alert.creation,
		)
		.where(new)
		.orderby(rank.else_(len(engine.SEVERITY_RANK)))
		.orderby(alert.creation, order=frappe.qb.desc)
		.limit(LISTED)
		.run(as_dict=True)
	)
	listed = engine.worst_first(rows, LISTED)
	for row in listed:
		row["url"] = get_url_to_form("CS Alert", row["name"])
	return listed, int(count)


def red_customers(user: str) -> list[dict]:
	"""The CSM's red customers, the weakest first (the book index's order)."""
	from customer_success.constants import CHURNED

	customer = frappe.qb.DocType("Customer")
	rows = (
		frappe.qb.from_(customer)
		.select(customer.name, customer.customer_name, customer.cs_health_score, customer.cs_health_trend)
		.where(
			(customer.cs_owner == user)
			& (customer.disabled == 0)
			& (customer.cs_health_status == "Red")
			& (frappe.query_builder.functions.Coalesce(customer.cs_lifecycle_stage, "") != CHURNED)
		)
		.orderby(customer.cs_health_score)
		.limit(LISTED)
		.run(as_dict=True)
	)
	for row in rows:
		row["url"] = get_url_to_form("Customer", row["name"])
	return rows


def renewals_due(user: str, today, window_days: int) -> tuple[list[dict], int]:
	"""The CSM's open renewals ending within the renewal window: the soonest LISTED, and how many."""
	renewal = frappe.qb.DocType("Renewal")
	due = (
		(renewal.csm == user)
		& (renewal.status == "Open")
		& renewal.end_date[today : add_days(today, window_days)]
	)
	(count,) = frappe.qb.from_(renewal).select(frappe.query_builder.functions.Count("*")).where(due).run()[0]
	rows = (
		frappe.qb.from_(renewal)
		.select(
			renewal.name,
			renewal.customer_name,
			renewal.end_date,
			renewal.revenue_at_stake,
			renewal.currency,
			renewal.latest_call,
			renewal.signal_status,
		)
		.where(due)
		.orderby(renewal.end_date)
		.limit(LISTED)
		.run(as_dict=True)
	)
	for row in rows:
		row["url"] = get_url_to_form("Renewal", row["name"])
	return rows, int(count)
