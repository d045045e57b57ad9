"""The roll-ups keyed by the ledger or by the CSM, reconciled now instead of at night, after a change
made past the app's hooks (a user renamed, a company's transactions deleted)."""

import frappe

QUEUED_FLAG = "cs_reconciliations_queued"


def queue_reconciliations():
	"""Queue the nightly reconciliations of the roll-ups the cards and reports read (long queue,
	each one at a time) once the current transaction commits: the book counts (and each customer's
	live flag), revenue by CSM and day, Revenue Retention's parts and Revenue Leakage's rows. A job
	that started before the commit would reconcile with what the change has not yet made visible.

	Asked several times in one transaction (ERPNext marks a deletion done with three `db_set`s, each
	an `on_change`), they are queued once: frappe's `deduplicate` looks for a queued job when it is
	asked, and before the commit none is queued yet. A reconciliation already running at the commit
	is not queued again; the night's corrects what it missed."""
	if frappe.flags.get(QUEUED_FLAG):
		return
	frappe.flags[QUEUED_FLAG] = True
	frappe.db.after_commit.add(_queue_now)
	frappe.db.after_rollback.add(_forget)


def _queue_now():
	from customer_success.customer_success import book_counts
	from customer_success.renewals import jobs as renewals

	_forget()
	book_counts.queue_upkeep()
	renewals.queue_revenue_rollup()
	renewals.queue_retention_rollup()
	renewals.queue_leak_rollup()


def _forget():
	frappe.flags[QUEUED_FLAG] = False
