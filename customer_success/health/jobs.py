"""Scheduler entry points of the health room: thin, the work is in service.py."""

from customer_success.health import service


def nightly_recompute():
	"""01:30 site time: the whole book, chunked onto the long queue (unless switched off)."""
	return service.nightly_recompute()


def watch_recompute_runs():
	"""Every 5 minutes: retry or fail the chunks of a running recompute whose job died."""
	return service.watch_recompute_runs()


def queue_trend_rollup(**kwargs):
	"""02:30, and after every health run (`cs_after_health_run`): the book's health per period
	refreshed where the history changed, on the long queue (one at a time)."""
	import frappe

	if frappe.flags.in_test:
		return  # tests refresh what they need themselves
	service.queue_trend_refresh()


def trend_rollup():
	return service.refresh_trend_rollup(commit=True)
