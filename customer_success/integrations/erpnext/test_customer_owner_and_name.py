"""A customer's CS Owner is someone who can work its book, and its records follow its name."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.tests.utils import make_contract, make_customer, make_success_plan, make_user

CSM = "cs-owner-check-csm@example.com"
MANAGER = "cs-owner-check-manager@example.com"
ACCOUNTS = "cs-owner-check-accounts@example.com"
GONE = "cs-owner-check-gone@example.com"


class TestCSOwner(FrappeTestCase):
	def setUp(self):
		make_user(CSM, [CSM_ROLE])
		make_user(MANAGER, [CS_MANAGER_ROLE])
		make_user(ACCOUNTS, ["Accounts User"])
		make_user(GONE, [CSM_ROLE])
		frappe.db.set_value("User", GONE, "enabled", 0)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_only_someone_who_can_work_a_book_owns_a_customer(self):
		for user in (ACCOUNTS, GONE, "Guest"):
			with self.subTest(user=user), self.assertRaisesRegex(frappe.ValidationError, "cannot be the"):
				make_customer(cs_owner=user)
		customer = make_customer(cs_owner=CSM)
		for user in (ACCOUNTS, GONE):
			customer.reload()
			customer.cs_owner = user
			self.assertRaises(frappe.ValidationError, customer.save)
		self.assertEqual(frappe.db.get_value("Customer", customer.name, "cs_owner"), CSM)
		customer.reload()
		customer.cs_owner = MANAGER
		customer.save()
		# an owner who lost the role later holds no other change of the customer up
		frappe.db.set_value("Customer", customer.name, "cs_owner", ACCOUNTS, update_modified=False)
		customer.reload()
		customer.customer_details = "still saves"
		customer.save()


class TestRecordsFollowTheCustomersName(FrappeTestCase):
	def setUp(self):
		make_user(CSM, [CSM_ROLE])

	def tearDown(self):
		frappe.db.rollback()

	def test_a_new_customer_name_shows_on_its_records(self):
		customer = make_customer(cs_owner=CSM)
		plan = make_success_plan(customer.name)
		contract = make_contract(customer.name, add_days(nowdate(), -300), add_days(nowdate(), 60))
		renewal = frappe.get_doc(
			{
				"doctype": "Renewal",
				"customer": customer.name,
				"contract": contract.name,
				"end_date": add_days(nowdate(), 60),
			}
		)
		renewal.flags.ignore_permissions = True
		renewal.insert()
		customer.reload()
		customer.customer_name = f"{customer.customer_name} Renamed"
		customer.save()
		self.assertEqual(
			frappe.db.get_value("Renewal", renewal.name, "customer_name"), customer.customer_name
		)
		self.assertEqual(
			frappe.db.get_value("Success Plan", plan.name, ["customer_name", "title"]),
			(customer.customer_name, f"{customer.customer_name} Success Plan"),
		)
