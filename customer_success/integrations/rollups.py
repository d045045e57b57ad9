"""The roll-ups keyed by the ledger or by the CSM, reconciled now instead of at night, after a change
made past the app's hooks (a user renamed, a company's transactions deleted)."""


def queue_reconciliations():
	"""Queue the nightly reconciliations of the roll-ups the cards and reports read (long queue,
	each one at a time), once the current transaction commits: the book counts (and each customer's
	live flag), revenue by CSM and day, Revenue Retention's parts and Revenue Leakage's rows. A job
	that starts before the commit would reconcile with what the change has not yet made visible."""
	from customer_success.customer_success import book_counts
	from customer_success.renewals import jobs as renewals

	book_counts.queue_upkeep()  # (always queued after the commit)
	renewals.queue_revenue_rollup(after_commit=True)
	renewals.queue_retention_rollup(after_commit=True)
	renewals.queue_leak_rollup(after_commit=True)
