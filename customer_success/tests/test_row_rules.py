"""A CSM's book holds through frappe's generic doors too: child-table lists, counts, link search.

Each test goes through the same endpoint the desk (or anyone with a session) calls.
"""

import json
from types import SimpleNamespace

import frappe
from frappe.handler import execute_cmd
from frappe.tests.utils import FrappeTestCase

from customer_success.tests.utils import make_customer, make_shared_users, make_success_plan

CSM_A = "cs-rr-csm-a@example.com"
CSM_B = "cs-rr-csm-b@example.com"
MANAGER = "cs-rr-manager@example.com"
SALES = "cs-rr-sales@example.com"


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
				SALES: ["Sales User"],
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

	def test_a_csm_counts_other_doctypes_through_their_rules_too(self):
		frappe.get_doc(
			{"doctype": "ToDo", "allocated_to": CSM_B, "description": "cs-rr call about the secret deal"}
		).insert(ignore_permissions=True)
		about = json.dumps({"description": ["like", "%cs-rr call about the secret deal%"]})
		frappe.set_user(MANAGER)  # frappe's own count: every ToDo
		self.assertEqual(call("frappe.client.get_count", doctype="ToDo", filters=about), 1)
		frappe.set_user(CSM_A)  # her ToDos only, as her ToDo list
		self.assertEqual(call("frappe.client.get_count", doctype="ToDo", filters=about), 0)
		with self.assertRaises(frappe.PermissionError):  # a doctype she may not read at all
			call("frappe.client.get_count", doctype="Version")

	def test_assigned_to_counts_only_what_the_list_shows(self):
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": CSM_B,
				"reference_type": "Success Plan",
				"reference_name": self.theirs.name,
				"description": "cs-rr plan task",
			}
		).insert(ignore_permissions=True)
		filters = json.dumps({"name": self.theirs.name})
		method = "frappe.desk.listview.get_group_by_count"
		frappe.set_user(MANAGER)
		counts = call(method, doctype="Success Plan", current_filters=filters, field="assigned_to")
		self.assertEqual([(row.name, row.count) for row in counts], [(CSM_B, 1)])
		frappe.set_user(CSM_A)
		self.assertEqual(
			call(method, doctype="Success Plan", current_filters=filters, field="assigned_to"), []
		)
		frappe.set_user(SALES)  # no read of the doctype at all
		with self.assertRaises(frappe.PermissionError):
			call(method, doctype="Success Plan", current_filters=filters, field="assigned_to")
		# her own plan, with two open ToDos of hers (and a closed one): one record assigned to her
		frappe.set_user("Administrator")
		for status in ("Open", "Open", "Closed"):
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": CSM_A,
					"status": status,
					"reference_type": "Success Plan",
					"reference_name": self.mine.name,
					"description": "cs-rr her task",
				}
			).insert(ignore_permissions=True)
		frappe.set_user(CSM_A)
		mine = json.dumps({"name": self.mine.name})
		counts = call(method, doctype="Success Plan", current_filters=mine, field="assigned_to")
		self.assertEqual([(row.name, row.count) for row in counts], [(CSM_A, 1)])

	def searchable(self, rows: list[tuple]):
		"""Put `rows` (doctype, name, content) in the search table, among enough rows of other words
		that the search's own rule (a word in over half of the table's rows is no match) never
		hides them on a new site, whose table is empty; removed after the test (the table is MyISAM:
		no transaction)."""
		from frappe.utils.global_search import sync_values

		filler = [
			("Customer", f"_CS filler {frappe.generate_hash(length=10)}", "Customer Name : filler", 0, "", "")
			for _ in range(3 * len(rows))
		]
		values = [(doctype, name, content, 0, name, "") for doctype, name, content in rows] + filler
		self.addCleanup(
			lambda: frappe.db.sql(
				"delete from `__global_search` where (`doctype`, `name`) in %s",
				[[(doctype, name) for doctype, name, *_rest in values]],
			)
		)
		sync_values(values)

	def test_global_search_finds_only_records_she_may_open(self):
		word = "Quokka" + frappe.generate_hash(length=8)
		customers = [self.mine.customer, self.theirs.customer]
		self.searchable([("Customer", name, f"Customer Name : {word}") for name in customers])

		def found():
			rows = call("frappe.utils.global_search.search", text=word, limit=20)
			return {row.name for row in rows}

		frappe.set_user(MANAGER)
		self.assertEqual(found(), set(customers))
		frappe.set_user(CSM_A)
		self.assertEqual(found(), {self.mine.customer})

	def test_global_search_pages_what_she_may_open(self):
		"""Her matches ranked below many she may not open are found, and paged as hers."""
		word = "Wombat" + frappe.generate_hash(length=8)
		mine = [make_customer(cs_owner=CSM_A).name for _ in range(3)]
		others = [f"_CS gone {word} {i}" for i in range(45)]  # records she cannot open (none exist)
		self.searchable(
			[("Customer", name, f"Customer Name : {word} {word} {word}") for name in others]
			+ [("Customer", name, f"Customer Name : {word}") for name in mine]
		)
		frappe.set_user(CSM_A)
		first = call("frappe.utils.global_search.search", text=word, start=0, limit=2)
		rest = call("frappe.utils.global_search.search", text=word, start=2, limit=2)
		self.assertEqual(len(first), 2)
		self.assertEqual(len(rest), 1)
		self.assertEqual({row.name for row in first + rest}, set(mine))

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


CSM_ONLY = "cs-rr-csm-only@example.com"
CSM_SALES = "cs-rr-csm-sales@example.com"


class TestERPNextRecordsOfTheBook(FrappeTestCase):
	"""The ERPNext records the app gives the CSM role (Customer, its orders, invoices, contracts,
	issues, contacts...): a user who reads them only as a CSM reads and changes her book's only;
	one whose other roles read them (Sales User) keeps that team's view; a CS Manager sees all."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{
				CSM_ONLY: ["Customer Success Manager"],
				CSM_B: ["Customer Success Manager"],
				CSM_SALES: ["Customer Success Manager", "Sales User"],
				MANAGER: ["CS Manager"],
			}
		)

	def setUp(self):
		from customer_success.tests.utils import make_contact, make_contract, make_issue, make_sales_invoice

		self.mine = make_customer(cs_owner=CSM_ONLY).name
		self.theirs = make_customer(cs_owner=CSM_B).name
		self.records = {}
		for key, customer in (("mine", self.mine), ("theirs", self.theirs)):
			self.records[key] = {
				"Customer": customer,
				"Sales Invoice": make_sales_invoice(customer, rate=100).name,
				"Issue": make_issue(customer).name,
				"Contract": make_contract(customer, "2026-01-01", "2026-12-31").name,
				"Contact": make_contact(customer).name,
			}

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def listed(self, doctype):
		names = set(frappe.get_list(doctype, pluck="name", limit_page_length=0))
		return {key for key in ("mine", "theirs") if self.records[key][doctype] in names}

	def test_a_csm_only_reads_and_changes_her_books_records(self):
		frappe.set_user(CSM_ONLY)
		for doctype in ("Customer", "Sales Invoice", "Issue", "Contract", "Contact"):
			self.assertEqual(self.listed(doctype), {"mine"}, doctype)
			self.assertTrue(frappe.has_permission(doctype, "read", self.records["mine"][doctype]), doctype)
			self.assertFalse(frappe.has_permission(doctype, "read", self.records["theirs"][doctype]), doctype)
		with self.assertRaises(frappe.PermissionError):
			frappe.get_doc("Customer", self.theirs).check_permission("read")
		# writing: her own customer yes, a colleague's no (through the API's own door too)
		frappe.client.set_value("Customer", self.mine, "website", "https://mine.example.com")
		with self.assertRaises(frappe.PermissionError):
			frappe.client.set_value("Customer", self.theirs, "website", "https://theirs.example.com")
		self.assertIsNone(frappe.db.get_value("Customer", self.theirs, "website"))
		# a count and a link search hold the book too
		self.assertEqual(
			frappe.db.count("Customer", {"name": ("in", [self.mine, self.theirs])}), 2
		)  # (no permission: the database itself)
		self.assertEqual(
			len(frappe.get_list("Customer", filters={"name": ("in", [self.mine, self.theirs])})), 1
		)

	def test_an_event_names_only_her_books_customers_and_contacts(self):
		def event(*references):
			from frappe.client import insert  # the REST insert's own door (a POST)

			return insert(
				{
					"doctype": "Event",
					"subject": "cs-rr call",
					"event_type": "Private",
					"starts_on": "2026-12-03 10:00:00",
					"event_participants": [
						{"reference_doctype": doctype, "reference_docname": name}
						for doctype, name in references
					],
				}
			)

		frappe.set_user(CSM_ONLY)
		made = event(("Customer", self.mine), ("Contact", self.records["mine"]["Contact"]))
		for theirs in (("Customer", self.theirs), ("Contact", self.records["theirs"]["Contact"])):
			with self.assertRaises(frappe.PermissionError, msg=theirs):
				event(("Customer", self.mine), theirs)
		# nor added to her own event later
		doc = frappe.get_doc("Event", made["name"])
		doc.append("event_participants", {"reference_doctype": "Customer", "reference_docname": self.theirs})
		with self.assertRaises(frappe.PermissionError):
			doc.save()
		frappe.set_user(CSM_SALES)  # another team's view: every customer
		event(("Customer", self.theirs))
		frappe.set_user("Administrator")
		self.assertEqual(
			frappe.get_all(
				"Event Participants",
				filters={"reference_docname": self.theirs, "parenttype": "Event"},
				pluck="parent",
			).__len__(),
			1,
		)

	def test_child_rows_listed_directly_hold_the_book_too(self):
		"""Invoice lines, payment schedules, a contact's e-mails and the links of contacts: listed with
		their parent named (as the desk's child-table views do), only her book's parents' rows."""

		def parents(doctype, parent, **extra):
			rows = call(
				"frappe.client.get_list",
				doctype=doctype,
				parent=parent,
				fields='["parent"]',
				limit_page_length=0,
				**extra,
			)
			return {row["parent"] for row in rows}

		frappe.set_user(CSM_ONLY)
		for doctype, parent in (
			("Sales Invoice Item", "Sales Invoice"),
			("Payment Schedule", "Sales Invoice"),
			("Contact Email", "Contact"),
			("Dynamic Link", "Contact"),
		):
			found = parents(doctype, parent)
			self.assertIn(self.records["mine"][parent], found, doctype)
			self.assertNotIn(self.records["theirs"][parent], found, doctype)
		self.assertEqual(
			call(
				"frappe.client.get_count",
				doctype="Sales Invoice Item",
				filters=json.dumps({"parent": self.records["theirs"]["Sales Invoice"]}),
			),
			0,
		)
		frappe.set_user(MANAGER)
		self.assertIn(self.records["theirs"]["Contact"], parents("Contact Email", "Contact"))

	def test_a_partys_balance_and_outstanding_documents_are_her_books_only(self):
		from customer_success.tests.utils import default_company

		company = default_company()
		outstanding = (
			"erpnext.accounts.doctype.payment_entry.payment_entry.get_outstanding_reference_documents"
		)

		def ask(customer):
			balance = call(
				"erpnext.accounts.utils.get_balance_on",
				party_type="Customer",
				party=customer,
				company=company,
				date=frappe.utils.nowdate(),
			)
			documents = call(
				outstanding,
				args=json.dumps(
					{
						"posting_date": frappe.utils.nowdate(),
						"company": company,
						"party_type": "Customer",
						"party": customer,
						"party_account": frappe.db.get_value(
							"Sales Invoice", self.records["mine"]["Sales Invoice"], "debit_to"
						),
					}
				),
			)
			return balance, documents

		def ask_payment_entry(customer):
			module = "erpnext.accounts.doctype.payment_entry.payment_entry"
			balances = call(
				f"{module}.get_party_and_account_balance",
				company=company,
				date=frappe.utils.nowdate(),
				ptype="Customer",
				pty=customer,
			)
			return balances["party_balance"]

		frappe.set_user(CSM_ONLY)
		balance, documents = ask(self.mine)
		self.assertGreater(balance, 0)
		self.assertTrue(documents)
		self.assertEqual(ask_payment_entry(self.mine), balance)
		with self.assertRaises(frappe.PermissionError):
			ask(self.theirs)
		with self.assertRaises(frappe.PermissionError):
			ask_payment_entry(self.theirs)
		for spelling in ("customer", "Customer ", " CUSTOMER"):  # the database compares them equal
			with self.assertRaises(frappe.PermissionError, msg=spelling):
				call(
					"erpnext.accounts.doctype.payment_entry.payment_entry.get_party_and_account_balance",
					company=company,
					date=frappe.utils.nowdate(),
					ptype=spelling,
					pty=self.theirs,
				)
		frappe.set_user(MANAGER)  # anyone else who reads the customer: ERPNext's own answer
		self.assertGreater(ask(self.theirs)[0], 0)
		self.assertGreater(ask_payment_entry(self.theirs), 0)
		# a customer's portal user (a Website User) read any customer's balance: ERPNext checks nothing
		# when no account is named (tester HH)
		from customer_success.tests.utils import make_portal_contact

		portal = make_portal_contact(self.mine, "cs-rows-portal@example.com").user
		frappe.set_user(portal)
		for customer in (self.theirs, self.mine):
			with self.assertRaises(frappe.PermissionError, msg=customer):
				ask(customer)
			with self.assertRaises(frappe.PermissionError, msg=customer):
				ask_payment_entry(customer)
		# filters that are not a JSON object, a party given as a list: a message, not a server error
		# (a list skipped the check, and ERPNext's query failed)
		for args in ("notjson", '["x"]', json.dumps({"party_type": "Customer", "party": [self.theirs]})):
			with self.assertRaises(frappe.ValidationError, msg=args) as caught:
				call(outstanding, args=args)
			self.assertNotIsInstance(caught.exception, frappe.PermissionError)
		with self.assertRaisesRegex(frappe.ValidationError, "each given as one name"):
			call(
				"erpnext.accounts.utils.get_balance_on",
				party_type="Customer",
				party=[self.theirs],
				date=frappe.utils.nowdate(),
			)

	def test_another_team_and_the_manager_see_every_customer(self):
		for user in (CSM_SALES, MANAGER):
			frappe.set_user(user)
			self.assertEqual(self.listed("Customer"), {"mine", "theirs"}, user)
			self.assertTrue(frappe.has_permission("Customer", "read", self.theirs), user)
		frappe.set_user(CSM_SALES)
		self.assertEqual(self.listed("Issue"), set())  # a Sales User reads no Issue: her (empty) book's
		self.assertEqual(self.listed("Sales Invoice"), set())  # nor invoices (ERPNext: Accounts)
		self.assertEqual(self.listed("Contact"), {"mine", "theirs"})
