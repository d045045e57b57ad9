"""Auto Email Report: the app's reports, e-mailed on a schedule, show what their User sees.

frappe runs an Auto Email Report's report as whoever sends it (Administrator, in the scheduler's
job) and passes its "Based on Permissions For User" to the report only for its filters' permission
check. The app's reports choose the book from the session user (a CSM sees her own customers): one
set up for a CSM e-mailed her the whole team's rows. Here the report's content is made as its User
(`override_doctype_class`), and only someone who sees every book may name another User than
themselves for an app report; a download or "Send Now" by someone else who does not is made as
that person. Other apps' reports are made as frappe makes them."""

import frappe
from frappe import _
from frappe.email.doctype.auto_email_report.auto_email_report import AutoEmailReport

from customer_success.permissions import sees_all
from customer_success.utils import acting_as


class CSAutoEmailReport(AutoEmailReport):
	def validate(self):
		super().validate()
		if self.user and self.user != frappe.session.user and not sees_all() and is_app_report(self.report):
			frappe.throw(
				_(
					"Only a CS Manager may send {0} based on another user's permissions: choose yourself."
				).format(_(self.report)),
				frappe.PermissionError,
				title=_("Not Permitted"),
			)

	def get_report_content(self):
		runner = self.user
		if frappe.session.user != self.user and not sees_all():
			runner = frappe.session.user  # a download or Send Now by someone else: as that person
		if not runner or runner == frappe.session.user or not is_app_report(self.report):
			return super().get_report_content()
		with acting_as(runner):
			return super().get_report_content()


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
