"""The shipped templates' Go-live milestone is marked as the go-live (`is_go_live`, new in this
version), so plans made from a handoff have it on the handoff's Target Go-Live. Only a shipped
template (by its shipped name) none of whose milestones is marked, and only its milestone titled
"Go-live" as shipped (in English or in the site's language): an administrator's own templates and
edits are left alone."""

import frappe

from customer_success.setup.defaults import load_data
from customer_success.utils import in_language, site_language


def execute():
	if not frappe.db.has_column("Success Plan Template Milestone", "is_go_live"):
		return
	with in_language(site_language()):
		for spec in load_data("success_plan_templates.json"):
			titles = {row["title"] for row in spec.get("milestones", []) if row.get("is_go_live")}
			name = spec["template_name"]
			if not titles or not frappe.db.exists("Success Plan Template", name):
				continue
			if frappe.db.exists("Success Plan Template Milestone", {"parent": name, "is_go_live": 1}):
				continue
			titles |= {frappe._(title) for title in titles}
			rows = frappe.get_all(
				"Success Plan Template Milestone",
				filters={
					"parent": name,
					"parenttype": "Success Plan Template",
					"title": ("in", list(titles)),
				},
				pluck="name",
				order_by="idx",
			)
			if rows:
				frappe.db.set_value("Success Plan Template Milestone", rows[0], "is_go_live", 1)
				# plans read the template from frappe's document cache: it must see the mark
				frappe.clear_document_cache("Success Plan Template", name)
