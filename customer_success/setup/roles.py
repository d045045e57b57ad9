"""Our two roles, and their permission rules on the ERPNext records a CSM works with."""

import json

import frappe

from customer_success.constants import ROLES, USAGE_INTEGRATION_ROLE

# What our roles may do on ERPNext's own records: a CSM works the customer and reads the
# documents health and plans are built on; other teams keep their own standard permissions.
# Export where a report of the app reads from (its ref_doctype: frappe exports a report's rows only
# for those who may export that doctype): Segment Performance, Revenue Retention, Revenue Leakage.
ROLE_PERMISSIONS = {
	"Customer": ("read", "write", "report", "print", "email", "export"),
	"Contact": ("read", "write", "create", "report"),
	"Address": ("read", "report"),
	"Sales Order": ("read", "report", "print"),
	"Sales Invoice": ("read", "report", "print", "export"),
	"Contract": ("read", "report", "print", "export"),
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
# The standard rules frappe copied into Custom DocPerm when our first rule on a doctype was given
# ({doctype: [rule, ...]}, each rule its PERM_COLUMNS): what the doctype's other rules are while
# nobody else changed them, so migrate can follow a change of the standard rules (an ERPNext
# upgrade) and uninstall can tell "as copied" from "changed by an administrator".
COPIED_KEY = "customer_success_copied_rules"
# Rights a new Custom DocPerm row has by default (its fields' defaults): given only when listed.
DEFAULT_RIGHTS = ("read", "export")


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
	copied = _copied_rules()
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
				copied[doctype] = _standard_rules(doctype)  # what frappe copies now
			add_permission(doctype, role, 0, ptypes[0])
			for ptype in ptypes[1:]:
				update_permission_property(doctype, role, 0, ptype, 1, validate=False)
			# a new rule reads and exports by default (Custom DocPerm's field defaults): a select-only
			# rule read the master, and every rule let a CSM export what she reads
			for ptype in DEFAULT_RIGHTS:
				if ptype not in ptypes:
					update_permission_property(doctype, role, 0, ptype, 0, validate=False)
	frappe.db.set_default(PERMISSION_SETUP_KEY, json.dumps(sorted(set_up_by_us)))
	frappe.db.set_default(GRANTED_KEY, json.dumps(sorted(granted)))
	_save_copied_rules(copied)


def follow_standard_rules():
	"""On migrate: a doctype whose custom rules exist only because of us, and whose other rules are
	still those frappe copied from its standard ones, takes its standard rules as they are now (an
	ERPNext upgrade that changes them reached the site only through the frozen copy: not at all).
	One an administrator changed stays as she made it."""
	copied = _copied_rules()
	for doctype in _perm_doctypes_set_up_by_us():
		if not frappe.db.exists("DocType", doctype):
			continue
		standard = _standard_rules(doctype)
		if doctype not in copied:  # set up before the copy was remembered: as it is, if still in step
			if _others_rules(doctype) == standard:
				copied[doctype] = standard
			continue
		if standard == copied[doctype] or _others_rules(doctype) != copied[doctype]:
			continue
		frappe.db.delete("Custom DocPerm", {"parent": doctype, "role": ("not in", ROLES)})
		for rule in standard:
			frappe.get_doc(
				{"doctype": "Custom DocPerm", "parent": doctype, **dict(zip(PERM_COLUMNS, rule, strict=True))}
			).db_insert()
		copied[doctype] = standard
		frappe.clear_cache(doctype=doctype)
	_save_copied_rules(copied)


def remove_export_not_given():
	"""Our rules made before DEFAULT_RIGHTS was honoured: the export right no rule of ours lists."""
	for doctype, ptypes in ROLE_PERMISSIONS.items():
		if "export" not in ptypes:
			frappe.db.set_value(
				"Custom DocPerm", {"parent": doctype, "role": ("in", ROLES), "export": 1}, "export", 0
			)
	forget_cached_permissions()


def _left_as_copied(doctype: str) -> bool:
	"""The doctype's rules other than ours are as frappe copied them (or, for a site set up before
	the copy was remembered, its standard rules as they are now)."""
	others, copied = _others_rules(doctype), _copied_rules().get(doctype)
	return others == _standard_rules(doctype) or (copied is not None and others == copied)


def _others_rules(doctype: str) -> set[tuple]:
	return {rule for rule in _custom_rules(doctype) if rule[0] not in ROLES}


def _copied_rules() -> dict[str, set[tuple]]:
	raw = json.loads(frappe.db.get_default(COPIED_KEY) or "{}")
	return {doctype: {tuple(rule) for rule in rules} for doctype, rules in raw.items()}


def _save_copied_rules(copied: dict[str, set[tuple]]):
	frappe.db.set_default(
		COPIED_KEY, json.dumps({doctype: sorted(rules) for doctype, rules in sorted(copied.items())})
	)


def take_back_rules():
	"""Remove our roles' rules on the doctypes of TAKEN_BACK, given by an earlier version: a doctype
	whose custom rules then equal its standard ones goes back to standard (as on uninstall)."""
	granted = _granted_rules() or set()
	set_up_by_us = set(_perm_doctypes_set_up_by_us())
	for doctype in TAKEN_BACK:
		frappe.db.delete("Custom DocPerm", {"parent": doctype, "role": ("in", ROLES)})
		if doctype in set_up_by_us and _left_as_copied(doctype):
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
	its standard rules (as they are now), unless an administrator has changed them since: its other
	rules are still as frappe copied them (`COPIED_KEY`), or equal its standard ones."""
	for doctype in _perm_doctypes_set_up_by_us():
		if _left_as_copied(doctype):
			frappe.db.delete("Custom DocPerm", {"parent": doctype})
	frappe.db.delete("Custom DocPerm", {"role": ("in", ROLES)})
	frappe.db.set_default(PERMISSION_SETUP_KEY, None)
	frappe.db.set_default(GRANTED_KEY, None)
	frappe.db.set_default(COPIED_KEY, None)
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
