"""frappe's Assign To (the form's sidebar and its REST methods) on the app's records whose owner is
a field named `assigned_to` (a milestone's, an alert's, a touchpoint's).

frappe writes that field with every assignment and empties it when an assignment is removed or
closed (`frappe.desk.form.assign_to`): assigning a colleague from the sidebar silently made them the
owner (and moved `modified`, so the open form could no longer be saved), and removing anyone's
assignment left the record with no owner. Here the same methods run, and the record's owner and
`modified` are put back as they were: the sidebar adds or removes a person's ToDo, the owner is
changed in the owner field (which gives and takes the owner's ToDo itself). Other doctypes are
frappe's as they are. No `ignore_permissions` is taken from a request.
"""

import json
from contextlib import contextmanager

import frappe
from frappe.desk.form import assign_to as frappe_assign

OWNED = ("Success Plan Milestone", "CS Alert", "Customer Touchpoint")


@contextmanager
def owner_kept(doctype: str | None, names):
	if doctype not in OWNED or not names:
		yield
		return
	kept = frappe.get_all(
		doctype, filters={"name": ("in", list(names))}, fields=["name", "assigned_to", "modified"]
	)
	yield
	for row in kept:
		frappe.db.set_value(
			doctype,
			row.name,
			{"assigned_to": row.assigned_to, "modified": row.modified},
			update_modified=False,
		)


@frappe.whitelist()
def add(args=None):
	args = args or frappe.local.form_dict
	with owner_kept(args.get("doctype"), [args.get("name")]):
		return frappe_assign.add(args)


@frappe.whitelist()
def add_multiple(args=None):
	args = args or frappe.local.form_dict
	with owner_kept(args.get("doctype"), json.loads(args.get("name") or "[]")):
		return frappe_assign.add_multiple(args)


@frappe.whitelist()
def remove(doctype, name, assign_to):
	with owner_kept(doctype, [name]):
		return frappe_assign.remove(doctype, name, assign_to)


@frappe.whitelist()
def remove_multiple(doctype, names):
	with owner_kept(doctype, json.loads(names or "[]")):
		return frappe_assign.remove_multiple(doctype, names)


@frappe.whitelist()
def close(doctype: str, name: str, assign_to: str):
	with owner_kept(doctype, [name]):
		return frappe_assign.close(doctype, name, assign_to)
