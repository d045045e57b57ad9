"""ERPNext's Delete Company Transactions (a Transaction Deletion Record): the app's roll-ups follow."""

from customer_success.integrations.rollups import queue_reconciliations


def on_change(doc, method=None):
	"""The record's deletion deletes the company's invoices, orders and contracts' neighbours with
	`frappe.db.delete`, past every document hook: revenue by CSM, Revenue Retention, Revenue
	Leakage, the book counts and the customers' live flags kept the deleted ledger until the nightly
	reconciliations. When it completes (ERPNext sets its status, then its `delete_transactions`
	flag, each by `db_set`, which runs `on_change`), they are queued at once."""
	if doc.docstatus == 1 and doc.status == "Completed" and doc.delete_transactions:
		queue_reconciliations()
