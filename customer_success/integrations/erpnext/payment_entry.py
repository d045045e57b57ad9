"""Payment Entry → "first invoice paid" milestones, once an invoice it pays is fully paid."""

import frappe

from customer_success.success_plans.service import TRIGGER_INVOICE_PAID, run_trigger_safely


def on_submit(doc, method=None):
	if doc.payment_type != "Receive" or doc.party_type != "Customer":
		return
	invoices = [r.reference_name for r in doc.references if r.reference_doctype == "Sales Invoice"]
	if not invoices:
		return
	paid = frappe.get_all(
		"Sales Invoice",
		filters={"name": ("in", invoices), "docstatus": 1, "outstanding_amount": ("<=", 0), "is_return": 0},
		pluck="name",
	)
	if paid:
		run_trigger_safely(doc.party, TRIGGER_INVOICE_PAID, doc, on_date=doc.posting_date)
