"""Install, migrate and uninstall: what each hook does, in order. Everything here is idempotent.

`after_migrate` re-creates only fields, indexes, roles and missing defaults; it never re-grants a
permission rule an administrator removed or changed (see setup/roles.py).
"""

import frappe
from frappe import _

from customer_success.setup import custom_fields, defaults, indexes, roles


def after_install():
	roles.make_roles()
	roles.make_role_permissions()
	indexes.make_indexes()
	custom_fields.make_custom_fields()
	make_defaults()
	frappe.db.commit()  # nosemgrep: the install must persist before later hooks run


def after_migrate():
	roles.make_roles()
	roles.make_role_permissions(only_new=True)
	indexes.make_indexes()
	custom_fields.make_custom_fields()
	make_defaults()


def make_defaults():
	defaults.make_default_settings()
	defaults.make_default_health_model()
	defaults.make_default_plan_templates()
	defaults.make_default_alert_rules()
	defaults.make_default_segment_settings()


class NotUninstallingError(frappe.ValidationError):
	pass


def before_uninstall():
	"""Drop our fields (and their data), permission rules and indexes: only during a real uninstall.

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
	custom_fields.remove_custom_fields()
	roles.remove_role_permissions()
	indexes.remove_indexes()
