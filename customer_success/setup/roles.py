"""Our two roles, and their permission rules on the ERPNext records a CSM works with."""

import json

import frappe

from customer_success.constants import ROLES, USAGE_INTEGRATION_ROLE

# What our roles may do on ERPNext's own records: a CSM works the customer and reads the
# documents health and plans are built on; other teams keep their own standard permissions.
ROLE_PERMISSIONS = {
	"Customer": ("read", "write", "report", "print", "email"),
	"Contact": ("read", "write", "create", "report"),
	"Address": ("read", "report"),
	"Sales Order": ("read", "report", "print"),
	"Sales Invoice": ("read", "report", "print"),
	"Contract": ("read", "report", "print"),
	"Issue": ("read", "report"),
	"Opportunity": ("read", "write", "create", "report"),
	"Quotation": ("read", "report"),
	"Project": ("read", "report"),
	"Event": ("read", "write", "create"),
	# ERPNext's Issue form reads two of its settings on load: without read the form pops up
	# "No permission for Support Settings" over every Issue a CSM opens
	"Support Settings": ("read",),
}
# The masters a CSM picks in the forms she writes (the Customer, an Opportunity from an expansion
# alert, a handoff's items) and in the reports' filters (Company): "select" alone, so a link field's
# search lists their names, as it does for a Sales User; nothing of them is read or written. A
# CSM with the app's role alone met "Not permitted" on every such field (tester V).
SELECT_ONLY = (
	"Company",
	"Currency",
	"Customer Group",
	"Territory",
	"Industry Type",
	"Market Segment",
	"UOM",
	"Opportunity Type",
	"Sales Stage",
	"Lead Source",
	"Campaign",
	"Competitor",
	"Opportunity Lost Reason",
	"Price List",
	"Sales Partner",
	"Sales Person",
)
ROLE_PERMISSIONS.update({doctype: ("select",) for doctype in SELECT_ONLY})

# Rules the app once gave and takes back on migrate (`take_back_rules`). ToDo: every user may
# read and write the ToDos allocated to them or assigned by them (frappe's own rule for "All");
# any other role's rule on ToDo lifts that condition, and a CSM then read and closed every ToDo
# of the site, other CSMs' alert tasks among them.
TAKEN_BACK = ("ToDo",)


def make_roles():
	for role in ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc(
				{"doctype": "Role", "role_name": role, "desk_access": 1, "search_bar": 1, "notifications": 1}
			).insert(ignore_permissions=True)
	if not frappe.db.exists("Role", USAGE_INTEGRATION_ROLE):
		# an API-only role: the usage feed's user signs in with a key and secret, never to the desk
		frappe.get_doc({"doctype": "Role", "role_name": USAGE_INTEGRATION_ROLE, "desk_access": 0}).insert(
			ignore_permissions=True
		)


PERMISSION_SETUP_KEY = "customer_success_custom_perm_doctypes"
PERM_COLUMNS = (
	"role",
	"permlevel",
	"if_owner",
	"select",
	"read",
	"write",
	"create",
	"delete",
	"submit",
	"cancel",
	"amend",
	"report",
	"export",
	"import",
	"share",
	"print",
	"email",
)


GRANTED_KEY = "customer_success_granted_rules"


def make_role_permissions(only_new: bool = False):
	"""Give our roles their rule on each ERPNext doctype they work with, once.

	Every (role, doctype) rule given is remembered. With `only_new` (migrate) a rule is given only
	if it never was: one an administrator changed or removed stays so across migrates, and only a
	doctype added to ROLE_PERMISSIONS by an upgrade gets its rule. Frappe copies a doctype's
	standard rules into Custom DocPerm when the first custom rule is added; the doctypes where that
	happened because of us are remembered too, so uninstall can put them back to standard.
	"""
	from frappe.permissions import add_permission, update_permission_property

	set_up_by_us = set(_perm_doctypes_set_up_by_us())
	pairs = [f"{role}|{doctype}" for role in ROLES for doctype in ROLE_PERMISSIONS]
	granted = _granted_rules()
	if granted is None:
		# a site installed before rules were remembered: every rule was given at install
		granted = set(pairs) if only_new else set()
	for role in ROLES:
		for doctype, ptypes in ROLE_PERMISSIONS.items():
			if not frappe.db.exists("DocType", doctype):
				continue
			if only_new and f"{role}|{doctype}" in granted:
				continue
			granted.add(f"{role}|{doctype}")
			if frappe.db.exists(
				"Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0, "if_owner": 0}
			):
				continue
			if not frappe.db.exists("Custom DocPerm", {"parent": doctype}):
				set_up_by_us.add(doctype)
			add_permission(doctype, role, 0, ptypes[0])
			for ptype in ptypes[1:]:
				update_permission_property(doctype, role, 0, ptype, 1, validate=False)
			if "read" not in ptypes:  # a new rule reads by default (Custom DocPerm's field default)
				update_permission_property(doctype, role, 0, "read", 0, validate=False)
	frappe.db.set_default(PERMISSION_SETUP_KEY, json.dumps(sorted(set_up_by_us)))
	frappe.db.set_default(GRANTED_KEY, json.dumps(sorted(granted)))


def take_back_rules():
	"""Remove our roles' rules on the doctypes of TAKEN_BACK, given by an earlier version: a doctype
	whose custom rules then equal its standard ones goes back to standard (as on uninstall)."""
	granted = _granted_rules() or set()
	set_up_by_us = set(_perm_doctypes_set_up_by_us())
	for doctype in TAKEN_BACK:
		frappe.db.delete("Custom DocPerm", {"parent": doctype, "role": ("in", ROLES)})
		if doctype in set_up_by_us and _custom_rules(doctype) == _standard_rules(doctype):
			frappe.db.delete("Custom DocPerm", {"parent": doctype})
		set_up_by_us.discard(doctype)
		granted -= {f"{role}|{doctype}" for role in ROLES}
		frappe.clear_cache(doctype=doctype)
	frappe.db.set_default(PERMISSION_SETUP_KEY, json.dumps(sorted(set_up_by_us)))
	if _granted_rules() is not None:
		frappe.db.set_default(GRANTED_KEY, json.dumps(sorted(granted)))


def forget_cached_permissions():
	"""Clear the cached meta (and so the rules) of every doctype our roles have rules on."""
	for doctype in ROLE_PERMISSIONS:
		frappe.clear_cache(doctype=doctype)


def _granted_rules() -> set[str] | None:
	raw = frappe.db.get_default(GRANTED_KEY)
	return set(json.loads(raw)) if raw else None


def _perm_doctypes_set_up_by_us() -> list[str]:
	return json.loads(frappe.db.get_default(PERMISSION_SETUP_KEY) or "[]")


def remove_role_permissions():
	"""Remove our roles' rules; a doctype whose custom rules exist only because of us goes back to
	its standard rules, unless an administrator has changed them since."""
	frappe.db.delete("Custom DocPerm", {"role": ("in", ROLES)})
	for doctype in _perm_doctypes_set_up_by_us():
		if _custom_rules(doctype) == _standard_rules(doctype):
			frappe.db.delete("Custom DocPerm", {"parent": doctype})
	frappe.db.set_default(PERMISSION_SETUP_KEY, None)
	frappe.db.set_default(GRANTED_KEY, None)
	for doctype in ROLE_PERMISSIONS:
		frappe.clear_cache(doctype=doctype)


def _custom_rules(doctype: str) -> set[tuple]:
	return {
		tuple(row)
		for row in frappe.get_all(
			"Custom DocPerm", filters={"parent": doctype}, fields=PERM_COLUMNS, as_list=True
		)
	}


def _standard_rules(doctype: str) -> set[tuple]:
	return {
		tuple(row)
		for row in frappe.get_all("DocPerm", filters={"parent": doctype}, fields=PERM_COLUMNS, as_list=True)
	}
