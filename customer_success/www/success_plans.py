"""/success-plans: a customer's contacts see the success plans shared with them, and only those."""

import frappe
from frappe import _

from customer_success.success_plans.service import CUSTOMER_PRINT_FORMAT, portal_plans

no_cache = 1


def get_context(context):
	if frappe.session.user == "Guest":
		frappe.local.flags.redirect_location = "/login?redirect-to=/success-plans"
		raise frappe.Redirect
	context.no_cache = 1
	context.show_sidebar = True
	context.title = _("Success Plans")
	context.plans = portal_plans(frappe.session.user, frappe.form_dict.get("plan"))
	context.customer_print_format = CUSTOMER_PRINT_FORMAT
	return context
