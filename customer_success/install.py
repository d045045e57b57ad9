"""Install, migrate and uninstall: roles, custom fields on ERPNext doctypes, defaults.

Everything here is idempotent: `after_migrate` re-runs it on every migrate.
"""

import json

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

CSM_ROLE = "Customer Success Manager"
CS_MANAGER_ROLE = "CS Manager"
ROLES = (CSM_ROLE, CS_MANAGER_ROLE)

TIERS = ("Strategic", "Enterprise", "Mid-Market", "SMB")
LIFECYCLE_STAGES = ("Onboarding", "Adoption", "Value Realisation", "Renewal", "Expansion", "Churned")
HEALTH_STATUSES = ("Green", "Yellow", "Red", "Insufficient Data")
SENTIMENTS = ("Very Positive", "Positive", "Neutral", "Concerned", "Critical")

DEFAULT_MODEL_NAME = "Standard Health Model"
DEFAULT_MODEL_FACTORS = (
	("Support Load", 10),
	("SLA Breaches", 10),
	("Payment Behaviour", 15),
	("Revenue Trend", 10),
	("Engagement Recency", 15),
	("Renewal Proximity", 10),
	("Objective Progress", 10),
	("Milestone Punctuality", 10),
	("CSM Sentiment", 10),
)


def get_custom_fields() -> dict[str, list[dict]]:
	"""Custom fields we add to ERPNext doctypes. Every fieldname starts with `cs_`."""
	return {
		"Customer": [
			{
				"fieldname": "cs_section",
				"fieldtype": "Section Break",
				"label": "Customer Success",
				"insert_after": "customer_details",
				"collapsible": 1,
			},
			{
				"fieldname": "cs_owner",
				"fieldtype": "Link",
				"options": "User",
				"label": "CS Owner (CSM)",
				"insert_after": "cs_section",
				"in_standard_filter": 1,
				"search_index": 1,
			},
			{
				"fieldname": "cs_tier",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(TIERS),
				"label": "CS Tier",
				"insert_after": "cs_owner",
				"in_standard_filter": 1,
			},
			{
				"fieldname": "cs_lifecycle_stage",
				"fieldtype": "Select",
				"options": "\n" + "\n".join(LIFECYCLE_STAGES),
				"label": "Lifecycle Stage",
				"insert_after": "cs_tier",
				"in_standard_filter": 1,
			},
			{
				"fieldname": "cs_annual_revenue",
				"fieldtype": "Currency",
				"label": "Annual Revenue at Stake",
				"insert_after": "cs_lifecycle_stage",
				"description": "In company currency.",
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
				"depends_on": "eval:doc.cs_health_status != 'Insufficient Data'",
				"read_only": 1,
				"no_copy": 1,
				"precision": "1",
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
				"depends_on": "eval:doc.cs_health_status != 'Insufficient Data'",
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
				"fieldtype": "Float",
				"label": "Health Override Score",
				"insert_after": "cs_health_inputs_column",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_override_reason",
				"fieldtype": "Small Text",
				"label": "Override Reason",
				"insert_after": "cs_health_override",
				"read_only": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "cs_override_until",
				"fieldtype": "Date",
				"label": "Override Until",
				"insert_after": "cs_override_reason",
				"read_only": 1,
				"no_copy": 1,
			},
		]
	}


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
	"ToDo": ("read", "write", "create"),
}


# Indexes we add to ERPNext tables for the nightly health reads (ERPNext already indexes
# Issue.customer, Sales Invoice.customer and Communication's reference).
# The two covering indexes let the nightly aggregates over invoices and issues read the index
# alone instead of every row (see benchmarks/health_recompute.py for their effect and build time).
APP_INDEXES = (
	("Contract", ("party_type", "party_name"), "cs_party_index"),
	("Event Participants", ("reference_doctype", "reference_docname"), "cs_reference_index"),
	(
		"Sales Invoice",
		(
			"customer",
			"docstatus",
			"company",
			"posting_date",
			"due_date",
			"outstanding_amount",
			"conversion_rate",
			"base_grand_total",
			"base_net_total",
		),
		"cs_customer_billing_index",
	),
	(
		"Issue",
		("customer", "status", "priority", "opening_date", "agreement_status"),
		"cs_customer_support_index",
	),
)


def after_install():
	make_roles()
	make_role_permissions()
	make_indexes()
	make_custom_fields()
	make_default_settings()
	make_default_health_model()
	make_default_plan_templates()
	frappe.db.commit()  # nosemgrep: the install must persist before later hooks run


def after_migrate():
	make_roles()
	make_role_permissions()
	make_indexes()
	make_custom_fields()
	make_default_settings()
	make_default_health_model()
	make_default_plan_templates()


class NotUninstallingError(frappe.ValidationError):
	pass


def before_uninstall():
	"""Drop our fields (and their data), permission rules and indexes: only during a real uninstall.

	Called from anywhere else (a test, a console) it would erase every CS owner, tier, score and
	override on a live site, so it refuses.
	"""
	if not frappe.flags.in_uninstall:
		frappe.throw(
			frappe._(
				"Customer Success removes its fields and their data only while the app is being uninstalled (bench uninstall-app customer_success)."
			),
			NotUninstallingError,
		)
	remove_custom_fields()
	remove_role_permissions()
	remove_indexes()


def make_roles():
	for role in ROLES:
		if not frappe.db.exists("Role", role):
			frappe.get_doc(
				{"doctype": "Role", "role_name": role, "desk_access": 1, "search_bar": 1, "notifications": 1}
			).insert(ignore_permissions=True)


def make_indexes():
	for doctype, fields, index_name in APP_INDEXES:
		frappe.db.add_index(doctype, list(fields), index_name)


def remove_indexes():
	for doctype, _fields, index_name in APP_INDEXES:
		if frappe.db.has_index(f"tab{doctype}", index_name):
			frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{index_name}`")  # our constant names


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


def make_role_permissions():
	"""Give our roles their rule on each ERPNext doctype they work with, once.

	A rule is only added where our role has none: a right an administrator later revokes stays
	revoked across migrates. Frappe copies a doctype's standard rules into Custom DocPerm when
	the first custom rule is added; the doctypes where that happened because of us are
	remembered, so uninstall can put them back to standard.
	"""
	from frappe.permissions import add_permission, update_permission_property

	set_up_by_us = set(_perm_doctypes_set_up_by_us())
	for role in ROLES:
		for doctype, ptypes in ROLE_PERMISSIONS.items():
			if not frappe.db.exists("DocType", doctype):
				continue
			if frappe.db.exists(
				"Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0, "if_owner": 0}
			):
				continue
			if not frappe.db.exists("Custom DocPerm", {"parent": doctype}):
				set_up_by_us.add(doctype)
			add_permission(doctype, role, 0)
			for ptype in ptypes:
				update_permission_property(doctype, role, 0, ptype, 1, validate=False)
	frappe.db.set_default(PERMISSION_SETUP_KEY, json.dumps(sorted(set_up_by_us)))


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


def make_custom_fields():
	create_custom_fields(get_custom_fields(), ignore_validate=True, update=True)


def remove_custom_fields(custom_fields: dict[str, list[dict]] | None = None):
	"""Delete exactly the custom fields this app created, and the columns behind them.

	Deleting a Custom Field leaves its column in the table; we drop ours so the ERPNext
	table is as it was before the app came.
	"""
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


def make_default_settings():
	"""Settings are a Single: give every field never stored yet its default, keep what users chose.

	"Never stored" is read from the table: frappe loads a missing Check or Int as 0, so a new
	setting added by an upgrade would otherwise keep 0 instead of its default.
	"""
	settings = frappe.get_single("Customer Success Settings")
	stored = set(frappe.db.get_singles_dict("Customer Success Settings"))
	changed = False
	for df in settings.meta.fields:
		if df.default is not None and (
			df.fieldname not in stored or settings.get(df.fieldname) in (None, "")
		):
			settings.set(df.fieldname, df.default)
			changed = True
	if changed:
		settings.flags.ignore_permissions = True
		settings.save()


def make_default_health_model():
	"""A sensible default model on install; left alone once any model exists (users own it)."""
	if frappe.db.exists("Health Score Model", {"is_default": 1}):
		return
	if frappe.db.exists("Health Score Model", DEFAULT_MODEL_NAME):
		model = frappe.get_doc("Health Score Model", DEFAULT_MODEL_NAME)
		model.is_default = 1
		model.enabled = 1
	else:
		model = frappe.get_doc(
			{
				"doctype": "Health Score Model",
				"model_name": DEFAULT_MODEL_NAME,
				"enabled": 1,
				"is_default": 1,
				"green_min": 70,
				"red_below": 40,
				"description": "Shipped with Customer Success: support, billing, engagement, renewal and the CSM's view.",
				"factors": [{"factor_type": f, "weight": w, "enabled": 1} for f, w in DEFAULT_MODEL_FACTORS],
			}
		)
	model.flags.ignore_permissions = True
	model.save()


def make_default_plan_templates():
	"""Success plan templates shipped with the app (created once, never overwritten)."""
	from customer_success.plans import make_default_plan_templates as make_templates

	make_templates()
