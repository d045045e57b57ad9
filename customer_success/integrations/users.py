"""A user renamed (frappe's Rename on User, an e-mail address changed): the roll-ups keyed by a CSM."""

import frappe


def after_rename(doc, method=None, old_name=None, new_name=None, merge=False):
	"""frappe moves every Link to the user (a Customer's CS Owner among them) but not the app's
	roll-ups keyed by the CSM: the book counts the cards read, revenue by CSM and day, Revenue
	Leakage's and Revenue Retention's rows. Until the nightly reconciliations ran, the renamed CSM's
	cards showed an empty book. They are queued now (long queue, each one at a time), when the user
	owns customers."""
	if not frappe.db.exists("Customer", {"cs_owner": doc.name}):
		return
	from customer_success.integrations.rollups import queue_reconciliations

	queue_reconciliations()
