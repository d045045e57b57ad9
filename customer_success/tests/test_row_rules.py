"""A CSM's book holds through frappe's generic doors too: child-table lists, counts, link search.

Each test goes through the same endpoint the desk (or anyone with a session) calls.
"""

from types import SimpleNamespace

import frappe
from frappe.handler import execute_cmd
from frappe.tests.utils import FrappeTestCase

from customer_success.tests.utils import make_customer, make_shared_users, make_success_plan

CSM_A = "cs-rr-csm-a@example.com"
CSM_B = "cs-rr-csm-b@example.com"
MANAGER = "cs-rr-manager@example.com"


def call(cmd: str, **form):
	"""Run a whitelisted method the way an HTTP request does (overrides included)."""
	frappe.local.form_dict = frappe._dict(cmd=cmd, **form)
	frappe.local.response = frappe._dict()
	frappe.local.request = SimpleNamespace(method="GET")
	try:
		return execute_cmd(cmd)
	finally:
		frappe.local.form_dict = frappe._dict()
		del frappe.local.request


class TestRowRulesEverywhere(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{
				CSM_A: ["Customer Success Manager"],
				CSM_B: ["Customer Success Manager"],
				MANAGER: ["CS Manager"],
			}
		)

	def setUp(self):
		self.mine = make_success_plan(make_customer(cs_owner=CSM_A).name)
		self.theirs = make_success_plan(make_customer(cs_owner=CSM_B).name)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def ours(self, names):
		return {name for name in names if name in (self.mine.name, self.theirs.name)}

	def test_child_rows_are_listed_only_under_parents_of_the_book(self):
		frappe.set_user(CSM_A)
		rows = call(
			"frappe.client.get_list",
			doctype="Success Plan Objective",
			parent="Success Plan",
			fields='["parent"]',
			limit_page_length=0,
		)
		self.assertEqual(self.ours(row.parent for row in rows), {self.mine.name})

		frappe.set_user(MANAGER)
		rows = call(
			"frappe.client.get_list",
			doctype="Success Plan Objective",
			parent="Success Plan",
			fields='["parent"]',
			limit_page_length=0,
		)
		self.assertEqual(self.ours(row.parent for row in rows), {self.mine.name, self.theirs.name})

	def test_get_count_counts_only_the_book(self):
		names = frappe.json.dumps({"name": ["in", [self.mine.name, self.theirs.name]]})
		frappe.set_user(CSM_A)
		self.assertEqual(call("frappe.client.get_count", doctype="Success Plan", filters=names), 1)
		objective_filter = frappe.json.dumps({"parent": ["in", [self.mine.name, self.theirs.name]]})
		self.assertEqual(
			call("frappe.client.get_count", doctype="Success Plan Objective", filters=objective_filter), 1
		)
		frappe.set_user(MANAGER)
		self.assertEqual(call("frappe.client.get_count", doctype="Success Plan", filters=names), 2)

	def test_get_count_of_other_doctypes_is_frappes_own(self):
		frappe.set_user(MANAGER)
		expected = frappe.db.count("ToDo")
		self.assertEqual(call("frappe.client.get_count", doctype="ToDo"), expected)

	def test_link_search_keeps_the_book_even_when_told_to_ignore_user_permissions(self):
		frappe.set_user(CSM_A)
		for ignore in (0, 1):
			found = call(
				"frappe.desk.search.search_widget",
				doctype="Success Plan",
				txt="",
				page_length=1000,
				ignore_user_permissions=ignore,
			)
			self.assertEqual(self.ours(row[0] for row in found), {self.mine.name}, f"ignore={ignore}")

		frappe.set_user(MANAGER)
		found = call(
			"frappe.desk.search.search_widget",
			doctype="Success Plan",
			txt=self.theirs.name,
			ignore_user_permissions=1,
		)
		self.assertEqual(self.ours(row[0] for row in found), {self.theirs.name})
