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
from frappe import _
from frappe.desk.form import assign_to as frappe_assign

from customer_success.utils import json_argument

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


def assignment_args(args) -> dict:
	"""The assignment as frappe reads it (the request's form when none is given); text that is not
	a JSON object is refused with a message (frappe failed it as a server error)."""
	args = json_argument(args, _("The assignment must be given as a JSON object.")) or frappe.local.form_dict
	if not isinstance(args, dict):
		frappe.throw(_("The assignment must be given as a JSON object."))
	return args


def names_argument(names) -> list:
	"""The names of the records an assignment is for: a JSON list of names (text that is not is
	refused with a message: frappe failed it as a server error)."""
	message = _("The records must be given as a JSON list of names.")
	names = json_argument(names or "[]", message)
	if not isinstance(names, list) or not all(isinstance(name, str | int) for name in names):
		frappe.throw(message)
	return names


@frappe.whitelist()
def add(args=None):
	args = assignment_args(args)
	with owner_kept(args.get("doctype"), [args.get("name")]):
		return frappe_assign.add(args)


@frappe.whitelist()
def add_multiple(args=None):
	args = assignment_args(args)
	names = names_argument(args.get("name"))
	with owner_kept(args.get("doctype"), names):
		return frappe_assign.add_multiple({**args, "name": json.dumps(names)})


@frappe.whitelist()
def remove(doctype, name, assign_to):
	with owner_kept(doctype, [name]):
		return frappe_assign.remove(doctype, name, assign_to)


@frappe.whitelist()
def remove_multiple(doctype, names):
	names = names_argument(names)
	with owner_kept(doctype, names):
		return frappe_assign.remove_multiple(doctype, json.dumps(names))


@frappe.whitelist()
def close(doctype: str, name: str, assign_to: str):
	with owner_kept(doctype, [name]):
		return frappe_assign.close(doctype, name, assign_to)
