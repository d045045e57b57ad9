"""Scheduler entry points for renewals: thin."""

import frappe


def nightly():
	"""Daily: queue the renewals pass on the long queue (one at a time)."""
	frappe.enqueue(
		"customer_success.renewals.jobs.run",
		queue="long",
		job_id="customer_success:renewals:nightly",
		deduplicate=True,
		timeout=3600,
	)


def run(today: str | None = None):
	from customer_success.renewals import service

	return service.run_nightly(today, commit=True)
