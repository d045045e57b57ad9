"""The Customer form's connections, and who may change our fields on a Customer."""

import sys

import frappe
from frappe import _

from customer_success.utils import changed_fields

# (group label, [doctypes linked to the customer by a field named `customer`])
CONNECTIONS = [
	(
		_("Customer Success"),
		[
			"Customer Health Score",
			"Sales Handoff",
			"Success Plan",
			"Success Plan Milestone",
			"Business Review",
			"CS Alert",
			"Customer Touchpoint",
			"NPS Survey",
			"NPS Response",
			"Renewal",
			"Customer Usage Metric",
		],
	),
]


def get_dashboard_data(data: dict) -> dict:
	data = data or {}
	data.setdefault("transactions", [])
	data.setdefault("non_standard_fieldnames", {})
	for label, doctypes in CONNECTIONS:
		data["transactions"].append({"label": label, "items": list(doctypes)})
	return data


# Who may change our fields on a Customer through a normal save (form, REST, import). The app's
# own actions and jobs write with db.set_value / SQL after their own checks (and without touching
# `modified`, so a form opened before them still saves), so they pass by.
OWNER_FIELDS = ("cs_owner",)
BOOK_FIELDS = ("cs_tier", "cs_segment", "cs_lifecycle_stage", "cs_annual_revenue")
APP_FIELDS = (
	"cs_health_score",
	"cs_health_status",
	"cs_health_trend",
	"cs_health_computed_on",
	"cs_csm_sentiment",
	"cs_sentiment_on",
	"cs_health_override",
	"cs_override_reason",
	"cs_override_until",
	"cs_live",
)


def protect_customer_success_fields(doc, method=None):
	"""Customer validate: a CSM cannot take over another CSM's customers; scores are never set by hand."""
	from customer_success.segments.service import check_segment_enabled, tier_source_on_save

	keep_app_fields(doc)
	tier_source_on_save(doc)
	check_segment_enabled(doc)
	user = frappe.session.user
	# administrators may repair data; a new customer has no book to move yet
	if not (doc.is_new() or user == "Administrator" or "System Manager" in frappe.get_roles(user)):
		check_book_rights(doc, user)
	check_cs_owner(doc)  # after the rights: a CSM moving a customer is refused as such


def check_book_rights(doc, user: str):
	"""Who may change the app's fields of an existing customer: its CS Owner a CS Manager, its tier
	and stage its CSM or a CS Manager."""
	from customer_success.permissions import can_work_on_customer, sees_all

	label = lambda fieldname: _(doc.meta.get_label(fieldname))  # noqa: E731
	if changed_fields(doc, OWNER_FIELDS) and not sees_all(user):
		frappe.throw(
			_("Only a CS Manager can change the {0}.").format(label("cs_owner")), frappe.PermissionError
		)
	book = changed_fields(doc, BOOK_FIELDS)
	if book and not can_work_on_customer(doc.name, user):
		frappe.throw(
			_("Only the customer's CSM or a CS Manager can change {0}.").format(
				", ".join(label(f) for f in book)
			),
			frappe.PermissionError,
		)


def check_cs_owner(doc):
	"""A customer's CS Owner works its book: an enabled user with the CSM or CS Manager role, who can
	open its alerts, renewals and plans (the night assigns them their work). Checked when it is set;
	one that lost the role later holds no save up."""
	from customer_success.permissions import can_own_customers

	if not doc.get("cs_owner") or not (doc.is_new() or changed_fields(doc, ("cs_owner",))):
		return
	if not can_own_customers(doc.cs_owner):
		frappe.throw(
			_(
				"{0} cannot be the {1}: choose an enabled user with the Customer Success Manager or CS Manager role."
			).format(frappe.bold(frappe.utils.escape_html(doc.cs_owner)), _(doc.meta.get_label("cs_owner"))),
			title=_("Invalid CS Owner"),
		)


def keep_app_fields(doc):
	"""The app's computed fields never come from a save, whatever the form sent: a new Customer
	starts without them, a saved one keeps what is stored. A form opened before the nightly run
	(or a CSM's recompute, sentiment or override) still holds the old values: its unrelated edit
	saves, and the newest values stay. The stored row is the one frappe read `for update` just
	before validate, so a recompute cannot slip in between."""
	before = None if doc.is_new() else doc.get_doc_before_save()
	if not doc.is_new() and before is None:
		before = frappe.db.get_value(doc.doctype, doc.name, APP_FIELDS, as_dict=True, for_update=True)
	for fieldname in APP_FIELDS:
		df = doc.meta.get_field(fieldname)
		if not df:
			continue
		if before is not None:
			doc.set(fieldname, before.get(fieldname))
		else:
			doc.set(fieldname, 0 if df.fieldtype in ("Float", "Int", "Currency", "Check") else None)


def on_update(doc, method=None):
	"""A customer moved to another CSM's book, or disabled or enabled: its revenue moves with it in
	the roll-up the CSM Workload reads; its retention part follows its CS Owner, tier, segment,
	lifecycle stage and disabled flag."""
	from customer_success.renewals.service import (
		change_customer_retention,
		customer_book_changed,
		retention_keys_changed,
	)

	before = doc.get_doc_before_save()
	if before is None:
		return  # a new customer has no submitted invoice yet
	customer_book_changed(doc.name, before.cs_owner, before.disabled, doc.cs_owner, doc.disabled)
	if retention_keys_changed(before, doc):
		change_customer_retention(doc.name)
	customer_gone(doc.name, before, doc)
	if (before.customer_name or "") != (doc.customer_name or ""):
		follow_customer_name(doc.name)  # its records show the name it has now
	if (before.cs_owner or "") != (doc.cs_owner or ""):
		from customer_success.alerts.queries import sync_alert_csms
		from customer_success.customer_success.handover import hand_over_open_work

		sync_alert_csms(doc.name)  # its open alerts are the new CSM's (the CSM Workload counts them)
		hand_over_open_work(doc.name, before.cs_owner, doc.cs_owner)  # and the old CSM's open work


# The app's records that show their customer's name (fetched when they are saved): they follow a
# rename, a merge into the customer, or a new Customer Name. (A Business Review keeps the name its
# period was reviewed under; the score history is the health room's, which follows on its own.)
NAMED_RECORDS = ("Renewal", "NPS Response", "NPS Survey", "Success Plan", "Sales Handoff")


def follow_customer_name(customer: str):
	"""The customer's live records and alerts show the Customer Name it has now, a plan's title with it
	(alerts: `alerts.service.name_alerts_after_customer`): one UPDATE a doctype, of the stale ones."""
	from frappe.query_builder.functions import Coalesce

	from customer_success.alerts.service import name_alerts_after_customer

	customer_name = frappe.db.get_value("Customer", customer, "customer_name") or ""
	for doctype in NAMED_RECORDS:
		table = frappe.qb.DocType(doctype)
		query = (
			frappe.qb.update(table)
			.set(table.customer_name, customer_name)
			.where((table.customer == customer) & (Coalesce(table.customer_name, "") != customer_name))
		)
		if doctype == "Success Plan":
			from customer_success.utils import stored_title

			query = query.set(table.title, stored_title("{0} Success Plan", customer_name or customer))
		query.run()
	name_alerts_after_customer(customer)


def customer_gone(customer: str, before, after):
	"""Disabled, or recorded as churned, by this save: its open alerts call for nothing more; a
	churned one's open plans, planned touchpoints and open handoff close too (`utils.customer_gone`;
	before, only its alerts did)."""
	from customer_success.constants import CHURNED
	from customer_success.utils import customer_gone as close_open_work

	if after.cs_lifecycle_stage == CHURNED and before.cs_lifecycle_stage != CHURNED:
		close_open_work(customer, _("The customer churned: nothing more to act on."), churned=True)
	elif after.disabled and not before.disabled:
		close_open_work(customer, _("The customer was disabled: nothing more to act on."))


def before_rename(doc, method=None, old_name=None, new_name=None, merge=False):
	"""A customer merged into another (Rename, "Merge with existing"): frappe moves every record of
	the old one to the kept one, where a day of score or usage the kept one has of its own collides on
	its unique key (the merge failed: "Duplicate entry ... for key 'unique_customer_model_day'"). So
	first: the old one's scores of those days go (the kept one's history stands), its usage of those
	days is combined into the kept one's rows, and its open alerts of a rule the kept one has open are
	resolved as merged."""
	if not merge or not new_name or new_name == old_name or not frappe.db.exists("Customer", new_name):
		return
	rename = renaming_now()
	if rename is None:
		return
	if not rename.get("ignore_permissions") and not all(
		frappe.has_permission("Customer", "write", doc=name) for name in (old_name, new_name)
	):
		return  # frappe refuses the merge next (`validate_rename`): nothing is changed for it
	from customer_success.alerts.service import resolve_merged_away
	from customer_success.health.queries import drop_days_merged_away
	from customer_success.renewals.queries import move_customer_revenue
	from customer_success.usage.queries import merge_entitlements, merge_usage_days

	drop_days_merged_away(old_name, new_name)
	merge_usage_days(old_name, new_name)
	merge_entitlements(old_name, new_name)
	resolve_merged_away(old_name, new_name)
	# its invoices' revenue is the kept customer's CSM's from now (the CSM Workload's roll-up), and
	# its open work too (after the merge: `after_rename`)
	old, kept = (
		frappe.db.get_value("Customer", name, ["cs_owner", "disabled"], as_dict=True)
		for name in (old_name, new_name)
	)
	if (old.cs_owner or "") != (kept.cs_owner or "") or bool(old.disabled) != bool(kept.disabled):
		move_customer_revenue(old_name, old.cs_owner, old.disabled, kept.cs_owner, kept.disabled)
	frappe.flags.cs_merged_away = {"name": old_name, "csm": old.cs_owner}


def renaming_now() -> dict | None:
	"""The arguments of frappe's rename (`rename_doc`, about to move the records) when this
	`before_rename` is part of it; None when it is the desk's check before it queues the rename:
	`update_document_title` runs `before_rename` in the request to validate the new name, and the
	rename follows in a job that may yet fail; nothing is changed for it then."""
	frame = sys._getframe(1)
	while frame is not None:
		if (
			frame.f_code.co_name == "rename_doc"
			and frame.f_globals.get("__name__") == "frappe.model.rename_doc"
		):
			return dict(frame.f_locals)
		frame = frame.f_back
	return None


def after_rename(doc, method=None, old_name=None, new_name=None, merge=False):
	"""A customer renamed, or merged into another: the open alerts it brought are keyed by its new
	name, and show (and are counted under) the CS Owner of the customer they now belong to; its
	invoices' leak rows and its revenue retention parts follow it."""
	from customer_success.alerts.queries import rekey_open_alerts, sync_alert_csms
	from customer_success.renewals import queries as renewal_queries
	from customer_success.renewals import service as renewals

	rekey_open_alerts(doc.name)
	sync_alert_csms(doc.name)
	follow_customer_name(doc.name)
	merged = frappe.flags.cs_merged_away
	frappe.flags.cs_merged_away = None
	if merge and merged and merged["name"] == old_name:
		settle_merged_work(doc, merged["csm"])
	# Revenue Leakage lists the invoices it brought under the name they now have (and the kept
	# customer's CS Owner), and Revenue Retention counts them there, now rather than after the
	# nightly reconciliation: the customer's parts read afresh, the old name's taken out
	renewals.refresh_leaks([name for name in (old_name, doc.name) if name])
	renewals.reconcile_retention_customers([doc.name])
	if old_name and old_name != doc.name:
		points = list(renewal_queries.retention_periods())
		renewals.reconcile_retention_batch([old_name], points, orphan=True)


def settle_merged_work(doc, merged_csm: str | None):
	"""After a merge into `doc`: the open work the merged customer brought is its CS Owner's (as when
	a customer changes CS Owner), and where the customer now has two running plans or two open
	handoffs (one each brought), its timeline says so, for a CS Manager to settle."""
	from customer_success.customer_success.handover import hand_over_open_work
	from customer_success.handoff import queries as handoff_queries

	hand_over_open_work(doc.name, merged_csm, doc.cs_owner)
	plans = frappe.get_all(
		"Success Plan", filters={"customer": doc.name, "status": ("!=", "Closed")}, pluck="name"
	)
	handoffs = frappe.get_all(
		"Sales Handoff",
		filters={"customer": doc.name, "status": ("in", handoff_queries.OPEN_STATUSES)},
		pluck="name",
	)
	for doctype, names in (("Success Plan", plans), ("Sales Handoff", handoffs)):
		if len(names) > 1:
			doc.add_comment(
				"Info",
				_("After the merge this customer has {0} open: {1}. Keep one and close the others.").format(
					_(doctype), ", ".join(names)
				),
			)


def on_update_leaks(doc, method=None):
	"""Revenue Leakage's leak table: a tier or lifecycle stage changed by this save moves its leaks."""
	from customer_success.renewals.service import customer_segment_changed

	customer_segment_changed(doc)


def on_update_book_counts(doc, method=None):
	"""The book roll-up (team cards and charts) takes the difference this save made (an insert too)."""
	from customer_success.customer_success.book_counts import customer_saved

	customer_saved(doc)


def on_trash_health(doc, method=None):
	"""A customer deleted: its score history goes with it. The nightly run scores every customer, so
	without this no customer could be deleted once scored ("Cannot delete or cancel because Customer
	... is linked with Customer Health Score"), not even one made by mistake with nothing else about
	it; its records of people's work (plans, alerts, answers, usage) still keep it, as invoices do."""
	from customer_success.health.queries import delete_history_of

	delete_history_of([doc.name])


def on_trash_book_counts(doc, method=None):
	from customer_success.customer_success.book_counts import customer_deleted

	customer_deleted(doc)
