"""Event: an event's participants count as touches of the customers they name (Engagement). A CSM
who reads customers only through her role (her book limits her) names as participants only records
she may read: a colleague's customer, or its contact, is refused."""

import frappe
from frappe import _

from customer_success.permissions import is_csm, reads_only_as_csm


def check_participants(doc, method=None):
	"""Event.validate: each participant added or changed that names a record of a doctype the user
	reads only as a CSM (her book limits her: a customer, its contact...) is one she may read
	(frappe's Event lets anyone name any record; one naming a colleague's customer moved that
	customer's health and resolved his alerts)."""
	if not is_csm():
		return
	before = doc.get_doc_before_save()
	kept = (
		{(row.reference_doctype, row.reference_docname) for row in (before.get("event_participants") or [])}
		if before
		else set()
	)
	for row in doc.get("event_participants") or []:
		key = (row.reference_doctype, row.reference_docname)
		if not all(key) or key in kept or not reads_only_as_csm(row.reference_doctype):
			continue
		if not frappe.db.exists(*key) or not frappe.has_permission(
			row.reference_doctype, "read", doc=frappe.get_doc(*key)
		):
			frappe.throw(
				_("Participants row {0}: you may not name {1} {2} on an event.").format(
					row.idx,
					_(row.reference_doctype),
					frappe.bold(frappe.utils.escape_html(row.reference_docname)),
				),
				frappe.PermissionError,
				title=_("Not Permitted"),
			)
