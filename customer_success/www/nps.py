"""/nps?token=...: a contact answers the NPS survey their personal link opens, without logging in.

Only the link's own survey is ever shown: the row is found by the token's hash. A used, expired
or unknown link gets a page that says so and nothing else. The page is in the visitor's language
(?_lang=, the language cookie, or the browser's Accept-Language: frappe's own order).
"""

import frappe
from frappe import _

from customer_success.voice.service import page_context

no_cache = 1
sitemap = 0


def get_context(context):
	context.no_cache = 1
	context.no_breadcrumbs = 1
	context.show_sidebar = False
	context.title = _("Your Feedback")
	context.update(page_context(frappe.form_dict.get("token")))
	return context
