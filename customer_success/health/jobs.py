"""Scheduler entry points of the health room: thin, the work is in service.py."""

from customer_success.health import service


def nightly_recompute():
	"""01:30 site time: the whole book, chunked onto the long queue (unless switched off)."""
	return service.nightly_recompute()


def watch_recompute_runs():
	"""Every 5 minutes: retry or fail the chunks of a running recompute whose job died."""
	return service.watch_recompute_runs()
