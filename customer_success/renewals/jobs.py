"""Scheduler entry points for renewals: thin."""

import frappe


def cs_renewals_nightly():
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


def queue_revenue_rollup():
	"""02:30: the revenue roll-up's reconciliation, on the long queue (one at a time)."""
	frappe.enqueue(
		"customer_success.renewals.jobs.revenue_rollup",
		queue="long",
		job_id="customer_success.renewals.jobs.revenue_rollup",
		deduplicate=True,
		timeout=3600,
	)


def revenue_rollup():
	"""Nightly (and after migrate): the revenue roll-up made equal to the ledger."""
	from customer_success.renewals import service

	return service.reconcile_revenue_rollup(commit=True)


def queue_retention_rollup():
	"""00:10: Revenue Retention's roll-up reconciled, with today's point added (long queue, one at a
	time); until it is done the report computes today's point live."""
	frappe.enqueue(
		"customer_success.renewals.jobs.retention_rollup",
		queue="long",
		job_id="customer_success.renewals.jobs.retention_rollup",
		deduplicate=True,
		timeout=3600,
	)


def retention_rollup():
	"""Nightly (and after migrate): the retention roll-up made equal to the ledger."""
	from customer_success.renewals import service

	return service.reconcile_retention_rollup(commit=True)


def queue_leak_rollup():
	"""02:30: Revenue Leakage's leak table reconciled with the ledger (long queue, one at a time)."""
	frappe.enqueue(
		"customer_success.renewals.jobs.leak_rollup",
		queue="long",
		job_id="customer_success.renewals.jobs.leak_rollup",
		deduplicate=True,
		timeout=3600,
	)


def leak_rollup():
	"""Nightly (and after migrate): the leak table and its day sums made equal to a fresh computation."""
	from customer_success.renewals import service

	return service.reconcile_leaks(commit=True)
