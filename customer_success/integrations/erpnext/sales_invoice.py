"""Sales Invoice paid on submit (POS, advances) or marked paid later → "first invoice paid"; a
submitted invoice may show a renewed term's worth (renewals)."""

import frappe
from frappe import _

from customer_success.success_plans.service import TRIGGER_INVOICE_PAID, run_trigger_safely


def on_paid(doc, method=None):
	if doc.docstatus != 1 or doc.get("is_return") or (doc.outstanding_amount or 0) > 0:
		return
	run_trigger_safely(doc.customer, TRIGGER_INVOICE_PAID, doc, on_date=doc.posting_date)


def on_submit_renewals(doc, method=None):
	"""A new term's invoice arrived: the customer's renewals renewed at an Unknown worth take it
	(renewals room). Never stops the invoice: a failure goes to the Error Log."""
	from customer_success.renewals import service as renewals

	if doc.get("is_return"):
		return
	frappe.db.savepoint("cs_renewal_invoice")
	try:
		renewals.on_invoice_submit(doc.customer)
	except Exception:
		frappe.db.rollback(save_point="cs_renewal_invoice")
		frappe.log_error(title=_("Updating renewals from invoice {0} failed").format(doc.name))


def on_submit(doc, method=None):
	"""The revenue and retention roll-ups count the invoice (a credit note nets), and the leak table
	classes it (a credit note nets the invoice it returns)."""
	from customer_success.renewals.service import invoice_submitted

	invoice_submitted(doc.name)


def on_cancel(doc, method=None):
	from customer_success.renewals.service import invoice_cancelled

	invoice_cancelled(doc.name)
