"""What frappe's uninstall leaves of an app and this one removes: the scheduler's jobs of the app
(frappe drops them only at the next migrate, and until then each fails at its hour: "App
customer_success is not installed"), the roles and their holders, the portal menu item, the
autoincrement sequences of the dropped doctypes, the app's global defaults, and the records of
frappe's that point at the dropped doctypes (ToDos still open in people's lists, comments, versions,
shares, notifications). E-mails sent (Communications) stay: they are the customer's history."""

import inspect

import frappe
from frappe import _

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


def is_dry_run() -> bool:
	"""Whether this uninstall is only a dry run (`bench uninstall-app --dry-run`): frappe calls the
	app's `before_uninstall` then as well, and tells it nothing; its own `remove_app` knows."""
	frame = inspect.currentframe()
	while frame is not None:
		if frame.f_code.co_name == "remove_app" and frame.f_globals.get("__name__") == "frappe.installer":
			return bool(frame.f_locals.get("dry_run"))
		frame = frame.f_back
	return False


def remove_demo() -> dict:
	"""The demo book goes with the app (`demo.teardown_demo`: exactly what it made, ledger entries
	included). Its record of what it made is the app's, removed with it: kept past the uninstall,
	the demo's customers, invoices and users could no longer be told from the site's own, and the
	demo loaded again after a new install made a second book beside them. Should the teardown stop
	(a record of the site's own now depends on one of the demo's), the uninstall stops before it has
	removed anything of the app's, saying why."""
	from customer_success import demo

	if not demo.has_demo_records():
		return {}
	print(
		_(
			"Removing the demo book Customer Success made (its customers, orders, invoices, ledger entries and users)..."
		)
	)
	try:
		return demo.teardown_demo()
	except Exception as error:
		frappe.db.rollback()
		frappe.throw(
			_(
				"Customer Success was not uninstalled: the demo book it made could not all be removed ({0}). What was removed stays removed; resolve this, then uninstall again."
			).format(error),
			title=_("Demo Not Removed"),
		)
