"""Demo step: a year of health history, so the Health Trend and Health Backtest reports have
something to read on a fresh demo.

The demo's customers are scored as of each month end of the last twelve months by the nightly
job's own function (`health.service.score_range` with that day as "today"): every window
(payments, revenue trend, SLA breaches, engagement) ends on that day; what has no history in
ERPNext (which issues were open, the CSM's sentiment) is read as it is now. Only the demo's own
customers are scored; re-running rewrites the same rows (one per customer, model and day).
The setup scores today afterwards, so the customers' current figures are today's.

Called by demo.setup_demo as fn(registry, book); teardown removes the history with the rest.
"""

from frappe.utils import add_days, get_first_day, getdate, nowdate

from customer_success.health import service as health

MONTHS = 12


def month_ends(today, months: int = MONTHS) -> list:
	"""The last day of each of the `months` months before today's, oldest first."""
	ends = []
	first = get_first_day(today)
	for _ in range(months):
		ends.append(getdate(add_days(first, -1)))
		first = get_first_day(ends[-1])
	return sorted(ends)


def make_demo_history(registry, book):
	customers = registry.get("Customer", [])
	models = health.load_models()
	for day in month_ends(getdate(nowdate())):
		for name in customers:
			health.score_range(name, name, today=day, models=models)
