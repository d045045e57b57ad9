"""The app moved from one Frappe module to one module per room (Handoff, Success Plans, Health).

Before the doctypes are synced, each record's module is set to the module its files now live in,
so frappe finds every controller at its new path (and never takes a moved doctype for an orphan).
Only the module column changes: no record, link, permission or workspace entry is touched.
"""

import json
import os

import frappe

APP = "customer_success"
# (record doctype, folder kind) of the module-scoped records a room holds
KINDS = (("DocType", "doctype"), ("Print Format", "print_format"), ("Report", "report"))


def execute():
	for module in read_modules_txt():
		if not frappe.db.exists("Module Def", module):
			frappe.get_doc({"doctype": "Module Def", "module_name": module, "app_name": APP}).insert(
				ignore_permissions=True
			)
	for doctype, name, module in records_on_disk():
		if frappe.db.exists(doctype, name) and frappe.db.get_value(doctype, name, "module") != module:
			frappe.db.set_value(doctype, name, "module", module, update_modified=False)
	frappe.clear_cache()


def read_modules_txt() -> list[str]:
	with open(frappe.get_app_path(APP, "modules.txt")) as f:
		return [line.strip() for line in f if line.strip()]


def records_on_disk():
	app_path = frappe.get_app_path(APP)
	for module in read_modules_txt():
		module_path = os.path.join(app_path, frappe.scrub(module))
		for doctype, folder in KINDS:
			base = os.path.join(module_path, folder)
			if not os.path.isdir(base):
				continue
			for entry in sorted(os.listdir(base)):
				path = os.path.join(base, entry, f"{entry}.json")
				if os.path.isfile(path):
					with open(path) as f:
						name = json.load(f).get("name")
					if name:
						yield doctype, name, module
