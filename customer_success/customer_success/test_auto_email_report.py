"""An app report e-mailed on a schedule shows what its User sees, as the desk shows her."""

import frappe
from frappe.tests.utils import FrappeTestCase

from customer_success.tests.utils import make_customer, make_shared_users, set_customer_fields

CSM_A = "cs-aer-csm-a@example.com"
CSM_B = "cs-aer-csm-b@example.com"
MANAGER = "cs-aer-manager@example.com"


def customer_health_report(user: str, email_to: str, day_of_week: str = "Monday", **fields):
	"""A weekly CSV Auto Email Report of Customer Health for `user`'s permissions (not inserted)."""
	return frappe.get_doc(
		{
			"doctype": "Auto Email Report",
			"report": "Customer Health",
			"user": user,
			"email_to": email_to,
			"format": "CSV",
			"frequency": "Weekly",
			"day_of_week": day_of_week,
			**fields,
		}
	)


class TestAutoEmailReport(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{
				CSM_A: ["Customer Success Manager", "Report Manager"],
				CSM_B: ["Customer Success Manager"],
				MANAGER: ["CS Manager"],
			}
		)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def red_customers(self) -> tuple[str, str]:
		"""A red customer of CSM A's book and one of CSM B's."""
		mine, theirs = make_customer(cs_owner=CSM_A).name, make_customer(cs_owner=CSM_B).name
		for customer in (mine, theirs):
			set_customer_fields(customer, {"cs_health_status": "Red", "cs_health_score": 20})
		return mine, theirs

	def test_a_report_for_a_csm_holds_her_book_only(self):
		mine, theirs = self.red_customers()
		report = customer_health_report(CSM_A, CSM_A, filters=frappe.as_json({"status": "Red"})).insert(
			ignore_permissions=True
		)
		content = report.get_report_content()  # as the scheduler's job: Administrator
		self.assertIn(mine, content)
		self.assertNotIn(theirs, content)
		self.assertEqual(frappe.session.user, "Administrator")  # the sender again after it
		report.user = "Administrator"  # for the team: every book
		content = report.get_report_content()
		self.assertIn(mine, content)
		self.assertIn(theirs, content)

	def test_only_who_sees_every_book_may_send_as_another_user(self):
		mine, theirs = self.red_customers()
		# the team's rows, set up by Administrator
		report = customer_health_report(MANAGER, MANAGER).insert(ignore_permissions=True)
		frappe.set_user(CSM_A)  # a CSM who is also a Report Manager
		session = frappe.local.session
		content = report.get_report_content()  # her download of it: her book only
		self.assertIn(mine, content)
		self.assertNotIn(theirs, content)
		self.assertIs(frappe.local.session, session)  # her own session, as it was
		self.assertEqual((session.user, frappe.session.user), (CSM_A, CSM_A))
		mine_for_manager = customer_health_report(MANAGER, CSM_A, day_of_week="Tuesday")
		with self.assertRaisesRegex(frappe.PermissionError, "Only a CS Manager"):
			mine_for_manager.insert()
		mine_for_manager.user = CSM_A  # herself: her book, as her desk shows it
		mine_for_manager.insert()
