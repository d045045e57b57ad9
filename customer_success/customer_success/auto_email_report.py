"""Auto Email Report: the app's reports, e-mailed on a schedule, show what their User sees.

frappe runs an Auto Email Report's report as whoever sends it (Administrator, in the scheduler's
job) and passes its "Based on Permissions For User" to the report only for its filters' permission
check. The app's reports choose the book from the session user (a CSM sees her own customers): one
set up for a CSM e-mailed her the whole team's rows. Here the report's content is made as its User
(`override_doctype_class`); other apps' reports are made as frappe makes them."""

import frappe
from frappe.email.doctype.auto_email_report.auto_email_report import AutoEmailReport


class CSAutoEmailReport(AutoEmailReport):
	def get_report_content(self):
		if not self.user or self.user == frappe.session.user or not is_app_report(self.report):
			return super().get_report_content()
		sender = frappe.session.user
		frappe.set_user(self.user)
		try:
			return super().get_report_content()
		finally:
			frappe.set_user(sender)


def is_app_report(report: str) -> bool:
	"""A report of this app's modules, or a user's custom report made from one."""
	values = frappe.db.get_value("Report", report, ["module", "reference_report"], as_dict=True)
	if not values:
		return False
	modules = set(frappe.get_module_list("customer_success"))
	if values.module in modules:
		return True
	return bool(values.reference_report) and (
		frappe.db.get_value("Report", values.reference_report, "module") in modules
	)
