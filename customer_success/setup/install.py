"""Install, migrate and uninstall: what each hook does, in order. Everything here is idempotent.

`after_migrate` re-creates only fields, indexes, roles and missing defaults; it never re-grants a
permission rule an administrator removed or changed (see setup/roles.py).
"""

import frappe
from frappe import _

from customer_success.setup import custom_fields, defaults, indexes, roles, rollups, sequences, uninstall


def after_install():
	roles.make_roles()
	roles.make_role_permissions()
	custom_fields.make_custom_fields()  # before the indexes: some index our cs_ columns
	indexes.make_indexes()
	sequences.make_sequences()
	rollups.make_tables()
	make_defaults()
	frappe.db.commit()  # nosemgrep: the install must persist before later hooks run


def after_sync():
	"""The install's last step (frappe's `after_sync`, after its fixtures and dashboards): forget the
	cached meta of the ERPNext doctypes our roles were given rules on. While an app installs, frappe
	builds a doctype's meta without its Custom DocPerm rules (`Meta.set_custom_permissions` skips
	them during an install) and caches it. A later step of the install read Contract's meta after
	our roles were given their rules, so the cache held it without them: on a brand-new site a CSM
	had no right to read a Contract until the cache was next cleared, and Renewal Forecast failed
	with "No permission to read Contract"."""
	roles.forget_cached_permissions()


def after_migrate():
	roles.make_roles()
	roles.make_role_permissions(only_new=True)
	roles.follow_standard_rules()
	custom_fields.make_custom_fields()
	indexes.make_indexes()
	sequences.make_sequences()
	rollups.make_tables()
	make_defaults()
	queue_rollup_build()
	# patches run with frappe's patch flag, under which a doctype's meta is built (and cached) without
	# its Custom DocPerm rules, as during an install (see after_sync)
	roles.forget_cached_permissions()


def queue_rollup_build():
	"""Fill the roll-up tables in the background (the nightly job does it too); until then the
	reports compute what is missing live, so nothing waits on it."""
	if frappe.flags.in_test or frappe.flags.in_install:
		return
	for method in (
		"customer_success.renewals.jobs.revenue_rollup",
		"customer_success.health.jobs.trend_rollup",
		"customer_success.renewals.jobs.retention_rollup",
		"customer_success.renewals.jobs.leak_rollup",
		"customer_success.customer_success.book_counts.upkeep",
	):
		frappe.enqueue(
			method, queue="long", job_id=method, deduplicate=True, enqueue_after_commit=True, timeout=3600
		)


def make_defaults():
	defaults.make_default_settings()
	defaults.make_default_health_model()
	defaults.make_default_plan_templates()
	defaults.make_default_alert_rules()
	defaults.make_default_segment_settings()
	defaults.make_default_notifications()


class NotUninstallingError(frappe.ValidationError):
	pass


def before_uninstall():
	"""Remove the demo book, then drop our fields (and their data), permission rules and indexes:
	only during a real uninstall (not a dry run).

	Called from anywhere else (a test, a console) it would erase every CS owner, tier, score and
	override on a live site, so it refuses.
	"""
	if not frappe.flags.in_uninstall:
		frappe.throw(
			_(
				"Customer Success removes its fields and their data only while the app is being uninstalled (bench uninstall-app customer_success)."
			),
			NotUninstallingError,
		)
	if uninstall.is_dry_run():
		return  # frappe only lists what it would remove: nothing is removed
	uninstall.remove_demo()  # first: it needs the app's fields and hooks
	custom_fields.remove_custom_fields()
	roles.remove_role_permissions()
	indexes.remove_indexes()
	rollups.remove_tables()
	uninstall.remove_leftovers()


def after_uninstall():
	uninstall.drop_sequences()
