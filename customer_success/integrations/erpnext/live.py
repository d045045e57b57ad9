"""Sales Invoice, Sales Order and Contract submitted or cancelled: whether the customer is live
(`Customer.cs_live`, which the book roll-up keys on) follows."""


def customer_of(doc) -> str | None:
	if doc.doctype == "Contract":
		return doc.party_name if doc.party_type == "Customer" else None
	return doc.get("customer")


def on_submit(doc, method=None):
	from customer_success.customer_success.book_counts import live_document_submitted

	live_document_submitted(customer_of(doc))


def on_cancel(doc, method=None):
	from customer_success.customer_success.book_counts import live_document_cancelled

	live_document_cancelled(customer_of(doc))
