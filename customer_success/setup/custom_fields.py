"""The `cs_*` fields we add to ERPNext doctypes: made on install and migrate, removed on uninstall."""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from customer_success.constants import HEALTH_STATUSES, LIFECYCLE_STAGES, SENTIMENTS, TIERS


def get_custom_fields() -> dict[str, list[dict]]:
	"""Custom fields we add to ERPNext doctypes. Every fieldname starts with `cs_`."""
	return {
		"Customer": [
			{
				"fieldname": "cs_section",
				"fieldtype": "Section Break",
				"label": "Customer Success",
				# right under the customer's basic details, open: what a CSM opens the form for
				"insert_after": "image",
				"collapsible": 0,
			},
			{
				"fieldname": "cs_owner",
				"fieldtype": "Link",
				"options": "User",
				"label": "CS Owner (CSM)",
				"insert_after": "cs_section",
				"in_standard_filter": 1,
				"in_list_view": 1,
				"search_index": 1,
			},
			{
				"fieldname": "cs_tier",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(TIERS),
				"label": "CS Tier",
				"insert_after": "cs_owner",
				"in_standard_filter": 1,
				"in_list_view": 1,
			},
			{
				# who set the tier: the nightly job from revenue bands, or a person (kept as set)
				"fieldname": "cs_tier_source",
				"fieldtype": "Select",
				"options": "\nComputed\nManual",
				"label": "Tier Set",
				"insert_after": "cs_tier",
				"read_only": 1,
				"no_copy": 1,
				"depends_on": "eval:doc.cs_tier",
				"description": "Manual: set by a person and kept by the nightly job. Clear the tier to let the job compute it from revenue.",
			},
			{
				"fieldname": "cs_segment",
				"fieldtype": "Link",
				"options": "Customer Segment",
				"label": "CS Segment",
				"insert_after": "cs_tier_source",
				"in_standard_filter": 1,
			},
			{
				"fieldname": "cs_lifecycle_stage",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(LIFECYCLE_STAGES),
				"label": "Lifecycle Stage",
				"insert_after": "cs_segment",
				"in_standard_filter": 1,
				# a duplicated customer is a new one: taken from the one copied, its first order
				# read as a live customer's repeat order (no handoff), or it was born Churned (tester K2)
				"no_copy": 1,
			},
			{
				"fieldname": "cs_annual_revenue",
				"fieldtype": "Currency",
				"label": "Annual Revenue at Stake",
				"insert_after": "cs_lifecycle_stage",
				"description": "In company currency.",
				"no_copy": 1,
			},
			{
				"fieldname": "cs_column_break",
				"fieldtype": "Column Break",
				"insert_after": "cs_annual_revenue",
			},
			{
				"fieldname": "cs_health_score",
				"fieldtype": "Float",
				"label": "Health Score",
				"insert_after": "cs_column_break",
				# with too little known there is no score to show, only the status
				"depends_on": "eval:doc.cs_health_status && doc.cs_health_status != 'Insufficient Data'",
				"read_only": 1,
				"no_copy": 1,
				"precision": "1",
				"in_list_view": 1,
			},
			{
				"fieldname": "cs_health_status",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(HEALTH_STATUSES),
				"label": "Health Status",
				"insert_after": "cs_health_score",
				"read_only": 1,
				"no_copy": 1,
				"in_standard_filter": 1,
			},
			{
				"fieldname": "cs_health_trend",
				"fieldtype": "Float",
				"label": "Health Trend (Points)",
				"description": "Change against the score of the number of days set in Customer Success Settings.",
				"insert_after": "cs_health_status",
				# an unknown trend (no history yet) is stored as 0: the form's intro says which it is
				"depends_on": "eval:doc.cs_health_status && doc.cs_health_status != 'Insufficient Data' && doc.cs_health_trend",
				"read_only": 1,
				"no_copy": 1,
				"precision": "1",
			},
			{
				"fieldname": "cs_health_computed_on",
				"fieldtype": "Datetime",
				"label": "Health Computed On",
				"insert_after": "cs_health_trend",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_health_inputs_section",
				"fieldtype": "Section Break",
				"label": "Health Inputs (set by the CSM)",
				"insert_after": "cs_health_computed_on",
				"collapsible": 1,
			},
			{
				"fieldname": "cs_csm_sentiment",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(SENTIMENTS),
				"label": "CSM Sentiment",
				"insert_after": "cs_health_inputs_section",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_sentiment_on",
				"fieldtype": "Date",
				"label": "Sentiment Recorded On",
				"insert_after": "cs_csm_sentiment",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_health_inputs_column",
				"fieldtype": "Column Break",
				"insert_after": "cs_sentiment_on",
			},
			{
				"fieldname": "cs_health_override",
				"depends_on": "eval:doc.cs_override_until",
				"fieldtype": "Float",
				"label": "Health Override Score",
				"insert_after": "cs_health_inputs_column",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_override_reason",
				"depends_on": "eval:doc.cs_override_until",
				"fieldtype": "Small Text",
				"label": "Override Reason",
				"insert_after": "cs_health_override",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_override_until",
				"depends_on": "eval:doc.cs_override_until",
				"fieldtype": "Date",
				"label": "Override Until",
				"insert_after": "cs_override_reason",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				# a submitted Sales Invoice, Sales Order or Contract: kept by their submit and cancel
				# (book_counts), read by the book roll-up's key
				"fieldname": "cs_live",
				"fieldtype": "Check",
				"label": "Live Customer",
				"insert_after": "cs_override_until",
				"read_only": 1,
				"hidden": 1,
				"no_copy": 1,
				"default": "0",
			},
		],
		# Contracts that renew by themselves, and the notice they need (ERPNext's Contract has neither):
		# the Revenue Leakage report lists those whose notice date is near.
		"Contract": [
			{
				"fieldname": "cs_auto_renew",
				"fieldtype": "Check",
				"label": "Renews Automatically",
				"insert_after": "end_date",
				"allow_on_submit": 1,
				"description": "The contract renews by itself unless notice is given.",
			},
			{
				"fieldname": "cs_notice_days",
				"fieldtype": "Int",
				"label": "Notice Period (Days)",
				"insert_after": "cs_auto_renew",
				"allow_on_submit": 1,
				"non_negative": 1,
				"depends_on": "eval:doc.cs_auto_renew",
				"description": "Notice must be given this many days before the End Date.",
			},
		],
		# A key stakeholder who left: the alerts' "Key Stakeholder Left" rule reads it.
		"Contact": [
			{
				"fieldname": "cs_left_company",
				"fieldtype": "Check",
				"label": "Left the Company",
				"insert_after": "designation",
				"description": "Ticked when this person no longer works for the customer.",
			},
		],
	}


# Customer's list shows health, score, CSM and tier: ERPNext's own list columns (group, territory)
# make way, as the list has room for three or four columns. Set on install, removed on uninstall.
PROPERTY_SETTERS = (
	("Customer", "customer_group", "in_list_view", "0", "Check"),
	("Customer", "territory", "in_list_view", "0", "Check"),
)


def make_custom_fields():
	create_custom_fields(get_custom_fields(), ignore_validate=True, update=True)
	make_property_setters()


def make_property_setters():
	from frappe.custom.doctype.property_setter.property_setter import make_property_setter

	for doctype, fieldname, prop, value, prop_type in PROPERTY_SETTERS:
		# given once: a setting an administrator changed since stays as they left it
		if not frappe.db.exists(
			"Property Setter", {"doc_type": doctype, "field_name": fieldname, "property": prop}
		):
			make_property_setter(
				doctype, fieldname, prop, value, prop_type, validate_fields_for_doctype=False
			)


def remove_property_setters():
	for doctype, fieldname, prop, _value, _type in PROPERTY_SETTERS:
		frappe.db.delete(
			"Property Setter",
			{"doc_type": doctype, "field_name": fieldname, "property": prop, "is_system_generated": 1},
		)
		frappe.clear_cache(doctype=doctype)


def remove_custom_fields(custom_fields: dict[str, list[dict]] | None = None):
	"""Delete exactly the custom fields (and property setters) this app created, and the columns
	behind the fields.

	Deleting a Custom Field leaves its column in the table; we drop ours so the ERPNext
	table is as it was before the app came.
	"""
	if custom_fields is None:
		remove_property_setters()
	for doctype, fields in (custom_fields or get_custom_fields()).items():
		for df in fields:
			name = frappe.db.get_value("Custom Field", {"dt": doctype, "fieldname": df["fieldname"]})
			if name:
				frappe.delete_doc("Custom Field", name, ignore_permissions=True, force=True)
		columns = [df["fieldname"] for df in fields if frappe.db.has_column(doctype, df["fieldname"])]
		if columns:
			drops = ", ".join(f"drop column `{c}`" for c in columns)  # our own constant fieldnames
			frappe.db.sql_ddl(f"alter table `tab{doctype}` {drops}")
			frappe.cache.hdel("table_columns", f"tab{doctype}")
		frappe.clear_cache(doctype=doctype)
