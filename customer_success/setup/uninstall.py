"""What frappe's uninstall leaves of an app and this one removes: the scheduler's jobs of the app
(frappe drops them only at the next migrate, and until then each fails at its hour: "App
customer_success is not installed"), the roles and their holders, the portal menu item, the
autoincrement sequences of the dropped doctypes, the app's global defaults, and the records of
frappe's that point at the dropped doctypes (ToDos still open in people's lists, comments, versions,
shares, notifications). E-mails sent (Communications) stay: they are the customer's history."""

import frappe

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE, USAGE_INTEGRATION_ROLE

APP = "customer_success"
ROLES = (CSM_ROLE, CS_MANAGER_ROLE, USAGE_INTEGRATION_ROLE)
PORTAL_ROUTES = ("/success-plans",)
DEFAULT_KEYS_LIKE = "customer\\_success\\_%"
DEMO_DEFAULTS_PARENT = "__customer_success_demo"

# (doctype, the field naming a doctype, the field naming the record) of frappe's records about records
POINTERS = (
	("ToDo", "reference_type"),
	("Comment", "reference_doctype"),
	("Version", "ref_doctype"),
	("DocShare", "share_doctype"),
	("Notification Log", "document_type"),
	("Document Follow", "ref_doctype"),
	("Error Log", "reference_doctype"),
)


def app_doctypes() -> list[str]:
	modules = frappe.get_all("Module Def", filters={"app_name": APP}, pluck="name")
	return frappe.get_all("DocType", filters={"module": ("in", modules)}, pluck="name") if modules else []


def remove_leftovers():
	"""Before frappe drops the app's doctypes (it still knows them): everything above but the
	sequences, which go once the doctypes are gone (`drop_sequences`)."""
	doctypes = app_doctypes()
	frappe.flags.cs_uninstall_sequences = [
		f"{frappe.scrub(name)}_id_seq"
		for name in doctypes
		if frappe.db.get_value("DocType", name, "autoname") == "autoincrement"
	]
	for doctype, field in POINTERS:
		if doctypes and frappe.db.exists("DocType", doctype):
			frappe.db.delete(doctype, {field: ("in", doctypes)})
	jobs = frappe.get_all("Scheduled Job Type", filters={"method": ("like", f"{APP}.%")}, pluck="name")
	if jobs:
		frappe.db.delete("Scheduled Job Log", {"scheduled_job_type": ("in", jobs)})
		frappe.db.delete("Scheduled Job Type", {"name": ("in", jobs)})
	frappe.db.delete("Has Role", {"role": ("in", ROLES)})
	frappe.db.delete("Role", {"name": ("in", ROLES)})
	frappe.db.delete("Portal Menu Item", {"route": ("in", PORTAL_ROUTES)})
	frappe.db.delete("DefaultValue", {"defkey": ("like", DEFAULT_KEYS_LIKE)})
	frappe.db.delete("DefaultValue", {"parent": DEMO_DEFAULTS_PARENT})
	frappe.clear_cache()


def drop_sequences():
	"""after_uninstall: the sequences of the app's autoincrement doctypes, which frappe keeps when it
	drops their tables."""
	for sequence in frappe.flags.get("cs_uninstall_sequences") or []:
		frappe.db.sql_ddl(f"drop sequence if exists `{sequence}`")
