"""The alert card and charts the workspace no longer uses (replaced by Custom ones that count a
CSM's book or the team and say which) go from sites that synced them."""

import frappe

REPLACED = {
	"Number Card": ("My Open Alerts",),
	"Dashboard Chart": (
		"Open Alerts by Severity in My Book",
		"Alerts Opened per Week",
		"Alerts Resolved per Week",
	),
}


def execute():
	for doctype, names in REPLACED.items():
		for name in names:
			if frappe.db.get_value(doctype, name, "module") == "Alerts":
				frappe.delete_doc(doctype, name, ignore_permissions=True, force=True)
