"""Shipped defaults, insert-if-missing: settings, the health model, the success plan templates.

The model and the templates are data (setup/data/*.json): a record that exists, maybe edited by
its users, is never overwritten.
"""

import json
import os

import frappe
from frappe import _
from frappe.utils.data import cast

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")


def load_data(name: str):
	with open(os.path.join(DATA_DIR, name), encoding="utf-8") as f:
		return json.load(f)


def default_model() -> dict:
	return load_data("health_score_model.json")


DEFAULT_MODEL_NAME = default_model()["model_name"]


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
			# Field defaults are stored as text: "180" must reach an Int field as 180.
			settings.set(df.fieldname, cast(df.fieldtype, df.default))
			changed = True
	if changed:
		settings.flags.ignore_permissions = True
		settings.save()


# What a user reads of the shipped records (a template's milestones and objectives, a rule's or a
# playbook's description, a task's title) is written in the site's language when they are made, as
# ERPNext makes its own masters in the language of its setup; a shipped record's name stays as
# shipped (an upgrade finds it by that name).
SHIPPED_TEXT_FIELDS = ("description", "title", "metric", "objective", "unit", "procedure")


def in_site_language(spec):
	"""`spec` (a shipped record as its data file holds it) with its text fields in the site's
	language (as shipped where the language has no translation)."""
	from customer_success.utils import in_language, site_language

	def translated(value, key=None):
		if isinstance(value, dict):
			return {k: translated(v, k) for k, v in value.items()}
		if isinstance(value, list):
			return [translated(v, key) for v in value]
		if key in SHIPPED_TEXT_FIELDS and isinstance(value, str) and value:
			return _(value)
		return value

	with in_language(site_language()):
		return translated(spec)


def make_default_health_model():
	"""A sensible default model on install; left alone once any default model exists (users own it)."""
	if frappe.db.exists("Health Score Model", {"is_default": 1}):
		return
	spec = default_model()
	if frappe.db.exists("Health Score Model", spec["model_name"]):
		model = frappe.get_doc("Health Score Model", spec["model_name"])
		model.is_default = 1
		model.enabled = 1
	else:
		model = frappe.get_doc({"doctype": "Health Score Model", **in_site_language(spec)})
	model.flags.ignore_permissions = True
	model.save()


def make_default_plan_templates():
	"""Ship the default templates once; a template that exists (maybe edited) is left alone."""
	for spec in load_data("success_plan_templates.json"):
		if frappe.db.exists("Success Plan Template", spec["template_name"]):
			continue
		doc = frappe.get_doc({"doctype": "Success Plan Template", "enabled": 1, **in_site_language(spec)})
		doc.flags.ignore_permissions = True
		doc.insert()


SHIPPED_ALERT_DEFAULTS_KEY = "customer_success_shipped_alert_defaults"


def make_default_alert_rules():
	"""Ship the playbooks, then the alert rules that use them, once each: one that exists (maybe
	edited) is left alone, and one an administrator deleted is not shipped again."""
	shipped = set(json.loads(frappe.db.get_default(SHIPPED_ALERT_DEFAULTS_KEY) or "[]"))
	for doctype, key, data in (
		("CS Playbook", "playbook_name", "cs_playbooks.json"),
		("CS Alert Rule", "rule_name", "cs_alert_rules.json"),
	):
		for spec in load_data(data):
			marker = f"{doctype}|{spec[key]}"
			if marker in shipped and not frappe.db.exists(doctype, spec[key]):
				continue  # deleted by an administrator: stays deleted
			shipped.add(marker)
			if frappe.db.exists(doctype, spec[key]):
				continue
			doc = frappe.get_doc({"doctype": doctype, "enabled": 1, **in_site_language(spec)})
			doc.flags.ignore_permissions = True
			doc.insert()
	frappe.db.set_default(SHIPPED_ALERT_DEFAULTS_KEY, json.dumps(sorted(shipped)))


SHIPPED_NOTIFICATIONS_KEY = "customer_success_shipped_notifications"


def make_default_notifications():
	"""Ship the e-mail Notifications (the new High or Critical alert's) switched off, as ordinary
	records an administrator switches on and edits: frappe refuses to enable a *standard*
	Notification outside developer mode ("Cannot edit Standard Notification"), so one shipped in a
	module folder could never be switched on on a production site. One that exists is left alone
	(a standard one from an earlier version becomes an ordinary one); one an administrator deleted
	is not shipped again."""
	shipped = set(json.loads(frappe.db.get_default(SHIPPED_NOTIFICATIONS_KEY) or "[]"))
	for spec in load_data("notifications.json"):
		spec = dict(spec)
		replaces = spec.pop("replaces", [])
		name = spec["name"]
		if frappe.db.exists("Notification", name):
			shipped.add(name)
			stored = frappe.db.get_value(
				"Notification", name, ["is_standard", "message", "message_type"], as_dict=True
			)
			if stored.is_standard:
				frappe.db.set_value("Notification", name, "is_standard", 0, update_modified=False)
			if any(
				(stored.message or "").strip() == old["message"].strip()
				and stored.message_type == old["message_type"]
				for old in replaces
			):
				# the text an earlier version shipped, never edited: the one shipped now (frappe renders
				# Markdown only for a standard Notification: the old text went out raw, names unescaped)
				frappe.db.set_value(
					"Notification",
					name,
					{"message": spec["message"], "message_type": spec["message_type"]},
					update_modified=False,
				)
			continue
		if name in shipped:
			continue  # deleted by an administrator: stays deleted
		doc = frappe.get_doc({"doctype": "Notification", "enabled": 0, "is_standard": 0, **spec})
		doc.flags.ignore_permissions = True
		doc.insert()
		shipped.add(name)
	frappe.db.set_default(SHIPPED_NOTIFICATIONS_KEY, json.dumps(sorted(shipped)))


SHIPPED_SEGMENT_DEFAULTS_KEY = "customer_success_shipped_segment_defaults"


def make_default_segment_settings():
	"""Ship the tier bands and the lifecycle touchpoints once each: bands only into an empty table,
	touchpoints one by one; what an administrator changed or deleted since stays so."""
	shipped = set(json.loads(frappe.db.get_default(SHIPPED_SEGMENT_DEFAULTS_KEY) or "[]"))
	if "tier_bands" not in shipped:
		settings = frappe.get_single("Customer Success Settings")
		if not settings.get("tier_bands"):
			for band in load_data("tier_bands.json"):
				settings.append("tier_bands", band)
			settings.flags.ignore_permissions = True
			settings.save()
		shipped.add("tier_bands")
	for spec in load_data("lifecycle_touchpoints.json"):
		marker = f"Lifecycle Touchpoint|{spec['touchpoint_name']}"
		if marker in shipped:
			continue
		shipped.add(marker)
		if not frappe.db.exists("Lifecycle Touchpoint", spec["touchpoint_name"]):
			doc = frappe.get_doc({"doctype": "Lifecycle Touchpoint", "enabled": 1, **in_site_language(spec)})
			doc.flags.ignore_permissions = True
			doc.insert()
	frappe.db.set_default(SHIPPED_SEGMENT_DEFAULTS_KEY, json.dumps(sorted(shipped)))
