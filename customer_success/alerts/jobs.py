"""Scheduler and queue entry points for alerts: thin."""

import frappe
from frappe.utils import getdate

from customer_success.alerts import queries, service


def start_nightly_pass(today: str | None = None, run: str | None = None):
	"""Queued after each health run: opportunity outcomes and CSMs, then one rules job per range the
	run's chunks did not evaluate (all of them without a run)."""
	queries.sync_opportunity_outcomes()
	service.sync_book_alert_csms()  # committed: the outcomes stand whatever becomes of the range jobs
	return service.enqueue_ranges(today, service.ranges_left_by(run))


def evaluate_range(lo: str, hi: str, today: str | None = None):
	"""One range of the nightly pass (its own job on the long queue), committed when done."""
	result = service.evaluate(lo, hi, today=getdate(today) if today else None, commit_writes=True)
	frappe.db.commit()  # nosemgrep: the range's alerts are durable on their own
	return result


def evaluate_book(today: str | None = None):
	"""The whole book in this process (a console, the benchmark)."""
	return service.evaluate_book(today=today)
