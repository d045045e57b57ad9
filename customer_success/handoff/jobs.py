"""Scheduler entry points of the handoff room."""

from frappe.utils import now_datetime

from customer_success.handoff import queries


def refresh_late_handoffs(now=None) -> dict[str, int]:
	"""Hourly: flag open handoffs past their due time, unflag the rest."""
	return queries.flag_late_handoffs(now or now_datetime())
