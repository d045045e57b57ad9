"""Scheduler entry points for usage: thin."""

from customer_success.usage import service


def pull_usage():
	"""Hourly, on the long queue: the configured endpoint's usage, when the pull is enabled. Never
	raises: a failed pull is in the Error Log and the next hour tries again."""
	service.pull()
