"""Scheduler entry points for segments: thin."""

import frappe


def cs_segments_daily():
	"""Queue the day's tiers and touchpoints on the long queue, never two at once."""
	frappe.enqueue(
		"customer_success.segments.jobs.run_daily",
		queue="long",
		job_id="customer_success:segments_daily",
		deduplicate=True,
		timeout=3600,
	)


def run_daily(today: str | None = None):
	from customer_success.segments import service

	return service.run_daily(today)
