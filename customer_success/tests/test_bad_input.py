"""Text a whitelisted method cannot read (JSON that is not JSON, a date no parser can read, a filter
on a field the doctype lacks, no customer at all) is refused with a validation error that says what
is wrong, and changes nothing; before, each of these failed the request with a server error (found
by sending every whitelisted method's parameters malformed, one at a time, over HTTP)."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, nowdate

from customer_success.alerts import api as alerts_api
from customer_success.constants import CSM_ROLE
from customer_success.customer_success import api
from customer_success.health import api as health_api
from customer_success.success_plans import api as plans_api
from customer_success.tests.utils import make_customer, make_success_plan, make_user
from customer_success.utils import check_fetched_links, date_argument, json_argument

CSM = "cs-bad-input-csm@example.com"
OVERFLOWING = "99999999999999999999"  # a run of digits the date parser overflows on


class TestBadInput(FrappeTestCase):
	def setUp(self):
		make_user(CSM, [CSM_ROLE])
		self.customer = make_customer(cs_owner=CSM).name
		frappe.set_user(CSM)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_the_helpers(self):
		self.assertEqual(json_argument('{"a": [1]}', "x"), {"a": [1]})
		self.assertEqual(json_argument(["kept"], "x"), ["kept"])  # already parsed: as it is
		self.assertIsNone(json_argument(None, "x"))
		for text in ("", "{", "[1,2", "not json"):
			with self.assertRaisesRegex(frappe.ValidationError, "the message"):
				json_argument(text, "the message")
		self.assertEqual(str(date_argument("2026-12-05", "Day")), "2026-12-05")
		self.assertIsNone(date_argument("", "Day"))
		self.assertIsNone(date_argument(None, "Day"))
		for text in (OVERFLOWING, "2026-13-45", "soon", "<b>x</b>", ["2026-12-05"], 20261205):
			# the message names the field, and never shows what was typed
			with self.assertRaisesRegex(frappe.ValidationError, "^Day is not a valid date.$"):
				date_argument(text, "Day")

	def test_lists_and_pages_sent_as_text_that_is_not_json(self):
		for text in ("", "{", "[1,2"):
			with self.assertRaisesRegex(frappe.ValidationError, "at most 500 customer names"):
				api.next_renewals(text)
			with self.assertRaisesRegex(frappe.ValidationError, "Widgets must be a list"):
				api.workspace_widgets(number_cards=text)
			with self.assertRaisesRegex(frappe.ValidationError, "workspace is answered here"):
				api.workspace_page(text)
		self.assertEqual(api.next_renewals("[]"), {})  # a well-formed empty list still answers

	def test_a_call_without_an_argument_the_method_needs(self):
		"""Over HTTP a method called without an argument it needs failed with Python's TypeError (a
		server error and its traceback, to a Guest answering a survey too): now a validation error
		naming it, checked as the request starts; calls the caller may not make are left to frappe."""
		from types import SimpleNamespace

		from customer_success.utils import check_method_arguments

		def call(path, user, **given):
			frappe.set_user(user)
			frappe.local.request = SimpleNamespace(path=path)
			frappe.local.form_dict = frappe._dict(given)
			try:
				check_method_arguments()
			finally:
				frappe.local.form_dict = frappe._dict()
				del frappe.local.request

		answer = "/api/method/customer_success.voice.api.submit_answer"
		with self.assertRaisesRegex(frappe.MandatoryError, "The request has no score"):
			call(answer, "Guest", token="abc")
		call(answer, "Guest", token="abc", score="9")  # all there: the method's own checks follow
		override = "/api/v2/method/customer_success.health.api.set_override"
		with self.assertRaisesRegex(frappe.MandatoryError, "The request has no reason, until"):
			call(override, CSM, customer=self.customer, score=50)
		call(override, "Guest", customer=self.customer)  # not Guest's: frappe refuses it
		# one of frappe's methods the app answers in its place
		with self.assertRaisesRegex(frappe.MandatoryError, "The request has no docname"):
			call("/api/method/frappe.desk.form.linked_with.get", CSM, doctype="Customer")
		call("/api/method/frappe.client.get_list", CSM)  # frappe's own: as frappe answers it
		call("/api/method/customer_success.no_such.method", CSM)

	def test_what_was_typed_is_shown_back_as_text(self):
		"""A value a method does not know, named in its message: as text, never as markup (the desk's
		dialog renders a message's HTML)."""
		from customer_success.customer_success.dashboard_chart_source.customers_by_segment import (
			customers_by_segment,
		)
		from customer_success.handoff import api as handoff_api

		typed = "<img src=x onerror=alert(1)>"
		frappe.set_user("Administrator")
		for ask in (
			lambda: health_api.get_factor_records(self.customer, typed),
			lambda: handoff_api.contract_term(self.customer, typed),
			lambda: customers_by_segment.get(typed),
		):
			with self.assertRaises(frappe.ValidationError) as caught:
				ask()
			self.assertNotIn("<img", str(caught.exception))
			self.assertIn("&lt;img", str(caught.exception))

	def test_the_milestone_calendar_reads_only_the_doctypes_fields(self):
		frappe.set_user("Administrator")
		field_map = {"start": "due_date", "end": "due_date", "title": "title", "allDay": "allDay"}
		args = ("Success Plan Milestone", "2026-01-01", "2026-12-31")
		self.assertIsInstance(api.milestone_events(*args, json.dumps(field_map)), list)
		for broken in ({**field_map, "start": "sleep(1)"}, {**field_map, "title": "no_such_field"}, [], "{"):
			with self.assertRaisesRegex(frappe.ValidationError, "field map"):
				api.milestone_events(*args, broken if isinstance(broken, str) else json.dumps(broken))
		with self.assertRaisesRegex(frappe.ValidationError, "Filters must be given as JSON"):
			api.milestone_events(*args, json.dumps(field_map), filters="{")
		# filters as a dict (frappe's reader took lists only: a server error) and dates that are none
		self.assertIsInstance(
			api.milestone_events(
				*args, json.dumps(field_map), filters=json.dumps({"customer": self.customer})
			),
			list,
		)
		for dates in (("garbage", "2026-12-31"), ("2026-01-01", "")):
			with self.assertRaises(frappe.ValidationError):
				api.milestone_events("Success Plan Milestone", *dates, json.dumps(field_map))

	def test_counts_of_other_doctypes_reach_frappe_as_sent(self):
		"""Only the app's doctypes are counted here; any other count is frappe's own, its filters
		passed on as they came (frappe reads a plain name as one)."""
		frappe.set_user("Administrator")
		self.assertEqual(api.get_count("Customer", self.customer), 1)
		self.assertEqual(api.get_count("Customer", json.dumps({"name": self.customer})), 1)

	def test_counts_with_an_unknown_doctype_or_unreadable_filters(self):
		for doctype in ("", "No Such DocType"):
			with self.assertRaises(frappe.DoesNotExistError):
				api.get_count(doctype)
		for filters in ("-1", "{", '"text"'):
			with self.assertRaisesRegex(frappe.ValidationError, "Filters must be given as JSON"):
				api.get_count("CS Alert", filters)
		with self.assertRaisesRegex(frappe.ValidationError, "field"):
			api.get_count("CS Alert", '{"no_such_field": 1}')
		self.assertEqual(api.get_count("CS Alert", {"customer": self.customer}), 0)

	def test_dates_no_parser_can_read_change_nothing(self):
		plans = frappe.db.count("Success Plan", {"customer": self.customer})
		with self.assertRaisesRegex(frappe.ValidationError, "Start Date"):
			plans_api.create_plan(self.customer, start_date=OVERFLOWING)
		self.assertEqual(frappe.db.count("Success Plan", {"customer": self.customer}), plans)

		with self.assertRaisesRegex(frappe.ValidationError, "Override Until"):
			health_api.set_override(self.customer, 50, "A reason", OVERFLOWING)
		self.assertFalse(frappe.db.get_value("Customer", self.customer, "cs_override_until"))

		frappe.set_user("Administrator")
		alert = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": self.customer,
				"title": "Bad input",
				"severity": "Medium",
				"status": "Open",
				"due_date": add_days(nowdate(), 5),
			}
		).insert(ignore_permissions=True)
		plan = make_success_plan(self.customer, csm=CSM)
		frappe.set_user(CSM)
		with self.assertRaisesRegex(frappe.ValidationError, "Snooze Until"):
			alerts_api.snooze(alert.name, OVERFLOWING)
		self.assertFalse(frappe.db.get_value("CS Alert", alert.name, "snoozed_until"))

		reviews = frappe.db.count("Business Review", {"success_plan": plan.name})
		with self.assertRaisesRegex(frappe.ValidationError, "Period Start"):
			frappe.get_doc("Success Plan", plan.name).make_business_review(period_start=OVERFLOWING)
		self.assertEqual(frappe.db.count("Business Review", {"success_plan": plan.name}), reviews)

	def test_no_customer(self):
		frappe.set_user("Administrator")  # (a CS Manager may read every customer)
		for customer in ("", "No Such Customer"):
			with self.assertRaises(frappe.DoesNotExistError):
				health_api.get_customer_health(customer)


class CSMCustomerTestCase(FrappeTestCase):
	"""A customer of a CSM's book, made afresh for each test; everything rolled back after."""

	def setUp(self):
		make_user(CSM, [CSM_ROLE])
		self.customer = make_customer(cs_owner=CSM).name

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestLinksThatFillOtherFields(CSMCustomerTestCase):
	"""frappe v15 leaves a Link unchecked when another field fetches from it (frappe/frappe#26930):
	an alert, plan or handoff was saved for a customer that does not exist (a name misspelt in an
	API call or a Server Script). The app's doctypes check those Links themselves."""

	def test_a_record_for_a_customer_that_does_not_exist_is_refused(self):
		documents = [
			{"doctype": "CS Alert", "title": "x", "severity": "Medium", "due_date": add_days(nowdate(), 5)},
			{"doctype": "Success Plan", "start_date": nowdate()},
			{"doctype": "Sales Handoff"},
			{"doctype": "Renewal"},
		]
		for fields in documents:
			doctype = fields["doctype"]
			before = frappe.db.count(doctype)
			with self.assertRaisesRegex(frappe.LinkValidationError, "Customer: No Such Customer"):
				frappe.get_doc({**fields, "customer": "No Such Customer"}).insert(ignore_permissions=True)
			self.assertEqual(frappe.db.count(doctype), before, doctype)
		# what was typed is shown as text in the message, never as markup
		with self.assertRaises(frappe.LinkValidationError) as refused:
			frappe.get_doc({"doctype": "Sales Handoff", "customer": "<img src=x onerror=alert(1)>"}).insert(
				ignore_permissions=True
			)
		self.assertIn("&lt;img src=x onerror=alert(1)&gt;", str(refused.exception))
		self.assertNotIn("<img", str(refused.exception))

	def test_a_milestone_of_a_plan_that_does_not_exist_and_a_missing_contact(self):
		with self.assertRaisesRegex(frappe.LinkValidationError, "No Such Plan"):
			frappe.get_doc(
				{"doctype": "Success Plan Milestone", "success_plan": "No Such Plan", "title": "Kickoff"}
			).insert(ignore_permissions=True)
		with self.assertRaisesRegex(frappe.LinkValidationError, "No Such Contact"):
			frappe.get_doc(
				{
					"doctype": "Sales Handoff",
					"customer": self.customer,
					"stakeholders": [{"contact": "No Such Contact"}],
				}
			).insert(ignore_permissions=True)

	def test_a_record_saved_with_a_broken_link_still_saves(self):
		"""Only a value the save brings is checked: a record left with a Link to a missing record
		(saved before this check, or by a deletion past the hooks) still saves."""
		plan = make_success_plan(self.customer, csm=CSM)
		frappe.db.set_value("Success Plan", plan.name, "customer", "Gone Customer", update_modified=False)
		doc = frappe.get_doc("Success Plan", plan.name)
		doc.title = "Renamed"
		doc.flags.ignore_links = False
		check_fetched_links(doc)  # as the save runs it: nothing new, nothing refused
		doc.load_doc_before_save()
		check_fetched_links(doc)
		doc.customer = "Another Gone Customer"  # a value this save brings
		with self.assertRaisesRegex(frappe.LinkValidationError, "Another Gone Customer"):
			check_fetched_links(doc)

	def test_existing_records_and_ignore_links_pass(self):
		plan = make_success_plan(self.customer, csm=CSM)
		self.assertEqual(plan.customer, self.customer)
		doc = frappe.get_doc({"doctype": "Sales Handoff", "customer": "No Such Customer"})
		doc.flags.ignore_links = True
		check_fetched_links(doc)  # frappe's own flag is kept: nothing is checked


class TestNumberFields(FrappeTestCase):
	"""A number field sent as text that is no number is refused with the field's name; before, the
	app's own checks compared the text with a number and failed the request with a TypeError."""

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_the_reading(self):
		from customer_success.utils import _NOT_A_NUMBER, as_number

		for value, expected in (
			(None, None),
			("", None),
			(" 12 ", 12),
			("-1.5", -1.5),
			("1e2", 100.0),
			(True, 1),
			(7, 7),
			(2.5, 2.5),
		):
			self.assertEqual(as_number(value), expected, repr(value))
		for value in (
			"abc",
			"1,5x",
			"nan",
			"inf",
			float("nan"),
			"1 2",
			[1],
			{"a": 1},
			"\uff11\uff12",
			10**400,
		):
			self.assertIs(as_number(value), _NOT_A_NUMBER, repr(value))

	def test_settings_and_a_touchpoint_sent_text_say_which_field(self):
		settings = frappe.get_doc("Customer Success Settings")
		before = settings.usage_pull_retries
		settings.usage_pull_enabled = 1
		settings.usage_pull_url = "https://example.com/usage"
		settings.usage_pull_retries = "abc"
		with self.assertRaisesRegex(frappe.ValidationError, "must be a number \\(it is abc\\)"):
			settings.save()
		self.assertEqual(
			frappe.db.get_single_value("Customer Success Settings", "usage_pull_retries"), before
		)
		touchpoint = frappe.get_doc(
			{
				"doctype": "Lifecycle Touchpoint",
				"touchpoint_name": "cs-bad-number",
				"repeat_days": "<b>abc</b>",
			}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "&lt;b&gt;abc&lt;/b&gt;"):
			touchpoint.insert()
		self.assertFalse(frappe.db.exists("Lifecycle Touchpoint", {"touchpoint_name": "cs-bad-number"}))

	def test_a_number_sent_as_text_is_read_as_the_number(self):
		plan = make_success_plan(make_customer().name)
		plan.objectives[0].current = "42"
		plan.objectives[0].weight = " 2 "
		plan.save()
		row = frappe.get_doc("Success Plan Objective", plan.objectives[0].name)
		self.assertEqual((row.current, row.weight), (42, 2))
		plan.objectives[0].target = "sixty"
		with self.assertRaisesRegex(frappe.ValidationError, "Row #1: Target must be a number"):
			plan.save()

	def test_a_whole_number_field_refuses_a_fraction(self):
		from customer_success.maturity import engine as maturity
		from customer_success.maturity.test_maturity import make_assessment, row_of

		doc = make_assessment()
		for value in ("3.7", 3.7):
			doc.reload()
			row = row_of(doc, maturity.TOOLING)
			row.adjusted_level, row.note = value, "Reviewed with the team"
			with self.assertRaisesRegex(frappe.ValidationError, "must be a whole number", msg=value):
				doc.save()
		self.assertFalse(row_of(frappe.get_doc(doc.doctype, doc.name), maturity.TOOLING).adjusted_level)
		doc.reload()
		row = row_of(doc, maturity.TOOLING)
		row.adjusted_level, row.note = "3.0", "Reviewed with the team"
		doc.save()
		self.assertEqual(row_of(frappe.get_doc(doc.doctype, doc.name), maturity.TOOLING).adjusted_level, 3)

	def test_a_number_no_column_holds_says_so(self):
		plan = make_success_plan(make_customer().name)
		for value, message in (
			(10**400, "must be a number"),
			(10**15, "is too large"),
			("1e13", "is too large"),
		):
			plan.reload()  # a refused save leaves the form's copy newer than the stored one
			plan.objectives[0].target = value
			with self.assertRaisesRegex(frappe.ValidationError, message, msg=value):
				plan.save()
		touchpoint = frappe.get_doc(
			{"doctype": "Customer Touchpoint", "customer": plan.customer, "occurrence": "abc"}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "must be a number"):
			touchpoint.insert()  # named before validate: read as a number there too

	def test_other_apps_doctypes_are_left_to_frappe(self):
		from customer_success.utils import check_numbers

		customer = frappe.new_doc("Customer")
		customer.default_commission_rate = "abc"
		check_numbers(customer)  # ERPNext's doctype: not the app's to judge
		self.assertEqual(customer.default_commission_rate, "abc")


class TestTextLengths(CSMCustomerTestCase):
	"""A text longer than its column (MariaDB's TEXT: 65,535 bytes) is refused with the field's name,
	not failed by the database ("Data too long", an HTTP 500), and nothing is written."""

	def test_a_churn_note_too_long_is_refused_and_nothing_changes(self):
		from customer_success.renewals import api as renewals_api
		from customer_success.renewals import service as renewals_service
		from customer_success.tests.utils import make_contract

		contract = make_contract(self.customer, add_days(nowdate(), -300), add_days(nowdate(), 60))
		renewals_service.create_renewals(frappe.utils.getdate(), contracts=[contract.name])
		renewal = frappe.get_doc("Renewal", {"contract": contract.name})
		frappe.set_user(CSM)
		with self.assertRaisesRegex(frappe.CharacterLengthExceededError, "Churn Note is too long"):
			renewals_api.mark_churned(renewal.name, "Price", "x" * 70000)
		frappe.set_user("Administrator")
		self.assertEqual(frappe.db.get_value("Renewal", renewal.name, "status"), "Open")
		self.assertNotEqual(frappe.db.get_value("Customer", self.customer, "cs_lifecycle_stage"), "Churned")

		renewal.reload()  # a checkpoint's note (a child row) says which row
		renewal.checkpoints[0].note = "y" * 70000
		with self.assertRaisesRegex(frappe.CharacterLengthExceededError, r"Row #1: Note is too long"):
			renewal.save()

	def test_an_answer_entered_with_a_comment_too_long_is_not_recorded(self):
		frappe.set_user(CSM)
		answer = frappe.get_doc(
			{"doctype": "NPS Response", "customer": self.customer, "score": 3, "comment": "z" * 100000}
		)
		with self.assertRaisesRegex(frappe.CharacterLengthExceededError, r"Comment is too long \(100,000"):
			answer.insert()
		self.assertFalse(frappe.db.exists("NPS Response", {"customer": self.customer}))

	def test_the_limit_is_the_columns_bytes(self):
		from customer_success.utils import check_text_lengths

		answer = frappe.new_doc("NPS Response")
		answer.comment = "汉" * 21000  # 63,000 bytes: it fits
		check_text_lengths(answer)
		answer.comment = "汉" * 22000  # 66,000 bytes
		with self.assertRaises(frappe.CharacterLengthExceededError):
			check_text_lengths(answer)
		customer = frappe.new_doc("Customer")
		customer.customer_details = "x" * 70000
		check_text_lengths(customer)  # ERPNext's doctype: not the app's to judge


class TestDataImportNumbers(FrappeTestCase):
	"""frappe's Data Import reads a number column's text as a number before any hook of the record
	sees it ("ten" imported as 0): a file for one of the app's doctypes is read when it is attached."""

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def data_import(self, content: str, doctype: str = "NPS Response"):
		file = frappe.get_doc(
			{
				"doctype": "File",
				"file_name": f"cs-import-{frappe.generate_hash(length=6)}.csv",
				"content": content,
				"is_private": 1,
			}
		).insert(ignore_permissions=True)
		return frappe.get_doc(
			{
				"doctype": "Data Import",
				"reference_doctype": doctype,
				"import_type": "Insert New Records",
				"import_file": file.file_url,
			}
		)

	def test_text_in_a_number_column_is_refused_by_row(self):
		customer = make_customer().name
		content = f"Customer,Score (0-10),Answered On\n{customer},ten,2026-12-01 10:00:00\n{customer},7,2026-12-01 11:00:00\n{customer},<b>x</b>,2026-12-01 12:00:00\n"
		with self.assertRaisesRegex(
			frappe.ValidationError, r"Row 2: Score \(0-10\) must be a number \(it is ten\)"
		) as refused:
			self.data_import(content).insert(ignore_permissions=True)
		self.assertIn(
			"Row 4: Score (0-10) must be a number (it is &lt;b&gt;x&lt;/b&gt;)", str(refused.exception)
		)
		self.assertNotIn("Row 3", str(refused.exception))

	def test_numbers_pass_and_other_apps_doctypes_are_left_to_frappe(self):
		customer = make_customer().name
		# a thousands separator is a number to frappe's reading too
		self.data_import(
			f'Customer,Score (0-10),Answered On\n{customer},7,2026-12-01 11:00:00\n{customer},"1,0",2026-12-01\n'
		).insert(ignore_permissions=True)
		self.data_import("Customer Name,Default Commission Rate\nX,abc\n", doctype="Customer").insert(
			ignore_permissions=True
		)
