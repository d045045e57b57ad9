"""ERPNext's Delete Company Transactions (a Transaction Deletion Record): the app's roll-ups follow,
and its records keep no Link to what the deletion removed."""

import frappe
from frappe.query_builder import Criterion
from pypika.terms import ExistsCriterion

from customer_success.integrations.rollups import queue_reconciliations


def on_change(doc, method=None):
	"""The record's deletion removes the company's invoices, orders, opportunities, subscriptions and
	handoffs with `frappe.db.delete`, past every document hook. When it completes (ERPNext sets its
	status, then its `delete_transactions` flag, each by `db_set`, which runs `on_change`):
	- the roll-ups the cards and reports read (revenue by CSM, Revenue Retention, Revenue Leakage,
	the book counts and live flags) are reconciled by jobs queued after its commit, once;
	- the app's records that linked to a deleted record (a plan's handoff, a renewal's order or
	subscription, an alert's opportunity) have that Link cleared: frappe checks every Link on a
	save, and they could no longer be saved."""
	if doc.docstatus != 1 or doc.status != "Completed" or not doc.delete_transactions:
		return
	if doc.flags.cs_deletion_followed:  # (the later `db_set`s on the same document: done once)
		return
	doc.flags.cs_deletion_followed = True
	clear_links_to_deleted(
		frappe.get_all(
			"Transaction Deletion Record Details", filters={"parent": doc.name}, pluck="doctype_name"
		)
	)
	queue_reconciliations()


def clear_links_to_deleted(doctypes) -> int:
	"""Empty the app's Links (its doctypes and their child tables) to records of `doctypes` that no
	longer exist: one set-based UPDATE a Link field. Returns the fields looked at."""
	deleted = set(doctypes)
	fields = 0
	for doctype, fieldname, target in _app_links(deleted):
		table, other = frappe.qb.DocType(doctype), frappe.qb.DocType(target)
		exists = ExistsCriterion(
			frappe.qb.from_(other).select(other.name).where(other.name == table[fieldname])
		)
		frappe.qb.update(table).set(table[fieldname], None).where(
			Criterion.all([table[fieldname].isnotnull(), table[fieldname] != "", exists.negate()])
		).run()
		fields += 1
	return fields


def _app_links(targets: set[str]) -> list[tuple[str, str, str]]:
	"""(doctype, fieldname, target) of every Link field of the app's doctypes to one of `targets`."""
	modules = frappe.get_all("Module Def", filters={"app_name": "customer_success"}, pluck="name")
	doctypes = frappe.get_all(
		"DocType", filters={"module": ("in", modules), "issingle": 0, "is_virtual": 0}, pluck="name"
	)
	found = []
	for doctype in doctypes:
		for df in frappe.get_meta(doctype).get_link_fields():
			if df.options in targets and df.options != doctype and not df.is_virtual:
				found.append((doctype, df.fieldname, df.options))
	return found
