"""Scheduler entry points for the customer's voice: thin."""

from customer_success.voice import service


def cs_voice_daily():
	"""Links past their expiry read Expired on their survey (idempotent: one statement)."""
	service.expire_links()
