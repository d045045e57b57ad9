"""The customer's voice, end to end on real records: send a survey, answer it by its emailed link as
Guest, and what the answers feed (the NPS health factor, the NPS alert rules, the NPS Trend report)."""

import json
import re
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, add_months, add_to_date, get_datetime, get_first_day, getdate, nowdate

from customer_success.alerts import service as alerts
from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.health import api as health_api
from customer_success.health import engine as health_engine
from customer_success.health import service as health
from customer_success.setup import defaults
from customer_success.tests.utils import (
	TEST_PREFIX,
	change_settings,
	make_contact,
	make_customer,
	make_shared_users,
	make_success_plan,
)
from customer_success.voice import api, engine, jobs, service

CSM1 = "cs-voice-csm1@example.com"
CSM2 = "cs-voice-csm2@example.com"
MANAGER = "cs-voice-manager@example.com"
LINK = re.compile(r"/nps\?token=([A-Za-z0-9_\-]+)")
DETRACTOR_RULE = "NPS Detractor Answer"
PROMOTER_RULE = "NPS Promoter on a Green Account"


def links_sent(mail, survey: str) -> dict[str, str]:
	"""{recipient: token} read from the emails sent for a survey, as the contact gets them."""
	found = {}
	for call in mail.call_args_list:
		kwargs = call.kwargs
		if kwargs.get("reference_doctype") != "NPS Survey" or kwargs.get("reference_name") != survey:
			continue
		tokens = set(LINK.findall(kwargs["message"]))
		assert len(tokens) == 1, tokens  # one personal link per email
		for recipient in kwargs["recipients"]:
			found[recipient] = next(iter(tokens))
	return found


def submit_as_guest(token, score, comment=None) -> dict:
	frappe.set_user("Guest")
	try:
		return api.submit_answer(token=token, score=score, comment=comment)
	finally:
		frappe.set_user("Administrator")


def response(customer: str, score, days_ago: int = 0, contact=None, **fields):
	"""An answer a CSM recorded (no survey)."""
	return frappe.get_doc(
		{
			"doctype": "NPS Response",
			"customer": customer,
			"contact": contact,
			"score": score,
			"answered_on": add_to_date(get_datetime(), days=-days_ago, minutes=-1),
			**fields,
		}
	).insert(ignore_permissions=True)


class VoiceTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM1: [CSM_ROLE], CSM2: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})
		defaults.make_default_alert_rules()
		frappe.db.commit()  # nosemgrep: shared fixtures of the class

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.local.flags.pop("cs_alert_cache", None)
		# Mail is captured, not queued: an outgoing account would make frappe send the alerts'
		# notification mails at once in tests, and that commits.
		self.mail = patch("frappe.sendmail").start()
		patch.object(service, "check_outgoing_email").start()
		self.addCleanup(patch.stopall)
		self.customer = make_customer(cs_owner=CSM1, cs_tier="SMB").name
		self.jane = make_contact(self.customer, "Jane")
		self.omar = make_contact(self.customer, "Omar")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def send(self, customer=None, contacts=None, user=CSM1, **kwargs) -> tuple[str, dict]:
		contacts = contacts if contacts is not None else [self.jane.name, self.omar.name]
		frappe.set_user(user)
		try:
			result = api.send_survey(customer=customer or self.customer, contacts=contacts, **kwargs)
		finally:
			frappe.set_user("Administrator")
		return result["survey"], links_sent(self.mail, result["survey"])


class TestSurveyLoop(VoiceTestCase):
	def test_send_email_answer_once(self):
		survey, links = self.send()
		doc = frappe.get_doc("NPS Survey", survey)
		self.assertEqual(doc.status, "Sent")
		self.assertEqual(doc.sent_by, CSM1)
		self.assertEqual(getdate(doc.expires_on), getdate(add_days(nowdate(), service.link_valid_days())))
		self.assertEqual(set(links), {self.jane.email_id, self.omar.email_id})
		self.assertEqual(len(set(links.values())), 2, "each contact has their own link")
		for row in doc.contacts:
			token = links[row.email_id]
			self.assertEqual(row.state, engine.PENDING)
			self.assertEqual(row.token_hash, engine.hash_token(token))  # only the hash is stored
			self.assertNotIn(token, json.dumps(doc.as_dict(), default=str))

		token = links[self.jane.email_id]
		self.assertEqual(service.page_context(token)["state"], engine.LINK_OK)
		reply = submit_as_guest(token, "9", "<b>Great</b> team, replies in < 2 days > promised")
		self.assertTrue(reply["ok"], reply)

		answer = frappe.get_doc("NPS Response", {"survey": survey})
		self.assertEqual(
			(answer.customer, answer.contact, answer.score, answer.category, answer.source),
			(self.customer, self.jane.name, 9, engine.PROMOTER, "Survey Link"),
		)
		# markup from the page is not kept; a bracket that opens no tag is the contact's text
		self.assertEqual(answer.comment, "Great team, replies in < 2 days > promised")
		doc.reload()
		row = next(r for r in doc.contacts if r.contact == self.jane.name)
		self.assertEqual((row.state, row.response), (engine.ANSWERED, answer.name))
		self.assertEqual(doc.answers, 1)

		# single use: the same link again is refused, with a page that says so, and nothing is added
		again = submit_as_guest(token, "3")
		self.assertEqual((again["ok"], again["state"]), (False, engine.LINK_USED))
		self.assertEqual(service.page_context(token)["state"], engine.LINK_USED)
		self.assertEqual(frappe.db.count("NPS Response", {"survey": survey}), 1)
		self.assertEqual(frappe.db.get_value("NPS Response", answer.name, "score"), 9)

		# the other contact's link still works, once
		self.assertTrue(submit_as_guest(links[self.omar.email_id], 6)["ok"])
		self.assertEqual(frappe.db.get_value("NPS Survey", survey, "answers"), 2)

	def test_expired_link_is_refused_and_marked(self):
		with change_settings(nps_link_valid_days=3):
			survey, links = self.send()
		self.assertEqual(
			getdate(frappe.db.get_value("NPS Survey", survey, "expires_on")), getdate(add_days(nowdate(), 3))
		)
		jane, omar = links[self.jane.email_id], links[self.omar.email_id]

		frappe.db.set_value("NPS Survey", survey, "expires_on", nowdate())
		self.assertEqual(service.page_context(jane)["state"], engine.LINK_OK, "the expiry day still counts")

		frappe.db.set_value("NPS Survey", survey, "expires_on", add_days(nowdate(), -1))
		context = service.page_context(jane)
		self.assertEqual(context["state"], engine.LINK_EXPIRED)
		self.assertIn("expired", context["message"])
		self.assertNotIn("contact_name", context)
		reply = submit_as_guest(jane, 10)
		self.assertEqual((reply["ok"], reply["state"]), (False, engine.LINK_EXPIRED))
		self.assertFalse(frappe.db.exists("NPS Response", {"survey": survey}))

		jobs.cs_voice_daily()
		states = frappe.get_all("NPS Survey Contact", filters={"parent": survey}, pluck="state")
		self.assertEqual(states, [engine.EXPIRED, engine.EXPIRED])
		self.assertEqual(submit_as_guest(omar, 10)["state"], engine.LINK_EXPIRED)

	def test_unknown_links_show_nothing(self):
		self.send()
		for token in (None, "", "nope", engine.new_token(), "x" * 43, "' or 1=1 --" * 4):
			context = service.page_context(token)
			self.assertEqual(context["state"], engine.LINK_UNKNOWN, token)
			self.assertNotIn("contact_name", context)
			if token is not None:  # the method takes a string: frappe refuses anything else
				self.assertEqual(submit_as_guest(token, 9)["state"], engine.LINK_UNKNOWN)
		self.assertEqual(frappe.db.count("NPS Response", {"customer": self.customer}), 0)

	def test_a_link_opens_only_its_own_customers_survey(self):
		other = make_customer(cs_owner=CSM2).name
		bob = make_contact(other, "Bob")
		mine, my_links = self.send(contacts=[self.jane.name])
		theirs, their_links = self.send(customer=other, contacts=[bob.name], user=CSM2)

		context = service.page_context(my_links[self.jane.email_id])
		self.assertEqual(context["contact_name"], self.jane.full_name)
		html = render_page(my_links[self.jane.email_id])
		self.assertIn(self.jane.first_name, html)
		self.assertNotIn(bob.full_name, html)
		self.assertNotIn(other, html)

		self.assertTrue(submit_as_guest(their_links[bob.email_id], 4)["ok"])
		self.assertEqual(
			frappe.get_all("NPS Response", filters={"survey": theirs}, pluck="customer"), [other]
		)
		self.assertFalse(frappe.db.exists("NPS Response", {"survey": mine}))
		self.assertEqual(service.page_context(my_links[self.jane.email_id])["state"], engine.LINK_OK)

	def test_one_answer_per_contact_per_survey(self):
		survey, links = self.send(contacts=[self.jane.name])
		self.assertTrue(submit_as_guest(links[self.jane.email_id], 8)["ok"])
		second = frappe.get_doc(
			{
				"doctype": "NPS Response",
				"customer": self.customer,
				"contact": self.jane.name,
				"survey": survey,
				"score": 2,
				"answered_on": get_datetime(),
			}
		)
		second.flags.from_survey_link = True
		self.assertRaises(frappe.DuplicateEntryError, second.insert, ignore_permissions=True)
		# and the database says so too, whatever races past validate
		self.assertTrue(
			frappe.db.sql(
				"show index from `tabNPS Response` where Key_name = 'unique_survey_contact' and Non_unique = 0"
			)
		)

	def test_bad_scores_are_refused_and_the_link_stays_usable(self):
		survey, links = self.send(contacts=[self.jane.name])
		token = links[self.jane.email_id]
		for bad in ("11", "-1", "7.5", "ten", "", 42):
			with self.assertRaises(frappe.ValidationError, msg=repr(bad)):
				submit_as_guest(token, bad)
		self.assertFalse(frappe.db.exists("NPS Response", {"survey": survey}))
		self.assertEqual(service.page_context(token)["state"], engine.LINK_OK)
		self.assertTrue(submit_as_guest(token, "0")["ok"])
		self.assertEqual(
			frappe.db.get_value("NPS Response", {"survey": survey}, "category"), engine.DETRACTOR
		)

	def test_a_csm_records_an_answer_by_hand(self):
		for bad in (11, -1, None):
			with self.assertRaises(frappe.ValidationError, msg=repr(bad)):
				response(self.customer, bad)
		doc = response(self.customer, 0, contact=self.jane.name)
		self.assertEqual((doc.category, doc.source, doc.survey), (engine.DETRACTOR, "Entered by CSM", None))
		self.assertEqual(response(self.customer, 7).category, engine.PASSIVE)
		other = make_customer(cs_owner=CSM2).name
		self.assertRaises(frappe.ValidationError, response, other, 8, contact=self.jane.name)
		self.assertRaises(frappe.ValidationError, response, self.customer, 8, days_ago=-2)

	def test_a_contacts_answer_cannot_be_rewritten(self):
		survey, links = self.send(contacts=[self.jane.name])
		submit_as_guest(links[self.jane.email_id], 4)
		answer = frappe.get_doc("NPS Response", {"survey": survey})
		answer.score = 10
		self.assertRaises(frappe.ValidationError, answer.save, ignore_permissions=True)

	def test_a_csms_note_of_an_answer_never_becomes_the_contacts_own(self):
		survey, links = self.send(contacts=[self.jane.name])
		noted = response(self.customer, 10, contact=self.jane.name)
		frappe.set_user(CSM1)
		doc = frappe.get_doc("NPS Response", noted.name)
		doc.update({"source": "Survey Link", "survey": survey})
		with self.assertRaisesRegex(frappe.ValidationError, "how the answer came in"):
			doc.save()
		doc.reload()
		doc.survey = survey
		self.assertRaises(frappe.ValidationError, doc.save)
		frappe.set_user("Administrator")
		self.assertEqual(
			frappe.db.get_value("NPS Response", noted.name, ["source", "survey"]), ("Entered by CSM", None)
		)
		# the contact's own answer still goes in by the link, and its comment stays as said
		submit_as_guest(links[self.jane.email_id], 2, comment="Too slow")
		answer = frappe.get_doc("NPS Response", {"survey": survey})
		self.assertEqual((answer.score, answer.source), (2, "Survey Link"))
		answer.comment = "All good!"
		self.assertRaisesRegex(frappe.ValidationError, "Comment", answer.save, ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("NPS Response", answer.name, "comment"), "Too slow")
		# a CSM's own note stays hers to correct
		noted.reload()
		noted.comment = "Said on the phone"
		noted.save(ignore_permissions=True)

	def test_a_sent_survey_keeps_what_went_out(self):
		survey, links = self.send(contacts=[self.jane.name])
		stored = frappe.get_doc("NPS Survey", survey)
		forgeries = [
			{"expires_on": "2099-01-01"},
			{"sent_by": CSM2},
			{"sent_on": "2020-01-01 00:00:00"},
			{"answers": 42},
			{"note": "Not what was sent"},
		]
		for change in forgeries:
			frappe.set_user(CSM1)
			doc = frappe.get_doc("NPS Survey", survey)
			doc.update(change)
			with self.assertRaisesRegex(frappe.ValidationError, "was sent", msg=change):
				doc.save()
		for change in ({"state": "Answered"}, {"state": "Expired"}, {"email_id": "x@y.z"}):
			doc = frappe.get_doc("NPS Survey", survey)
			doc.contacts[0].update(change)
			with self.assertRaises(frappe.ValidationError, msg=change):
				doc.save()
		frappe.set_user("Administrator")
		self.assertEqual(str(frappe.db.get_value("NPS Survey", survey, "expires_on")), str(stored.expires_on))
		# a save that changes nothing passes, with its values as the API sends them (text)
		frappe.set_user(CSM1)
		doc = frappe.get_doc("NPS Survey", survey)
		doc.update({"expires_on": str(doc.expires_on), "sent_on": str(doc.sent_on), "answers": "0"})
		doc.save()
		frappe.set_user("Administrator")
		# the link still works, and the answer is counted by the app's own write
		submit_as_guest(links[self.jane.email_id], 9)
		self.assertEqual(frappe.db.get_value("NPS Survey", survey, "answers"), 1)
		# and an answered link cannot be opened again
		doc = frappe.get_doc("NPS Survey", survey)
		doc.contacts[0].update({"state": "Pending", "response": None})
		self.assertRaises(frappe.ValidationError, doc.save, ignore_permissions=True)

	def test_a_draft_carries_no_forged_answer_into_the_sent_survey(self):
		draft = service.new_survey(self.customer, [self.jane.name]).insert(ignore_permissions=True)
		draft.answers = 42
		draft.contacts[0].update({"state": "Answered", "answered_on": "2026-01-01 00:00:00"})
		draft.save(ignore_permissions=True)
		api.send_draft(survey=draft.name)
		sent = frappe.get_doc("NPS Survey", draft.name)
		self.assertEqual(sent.answers, 0)
		self.assertEqual((sent.contacts[0].state, sent.contacts[0].answered_on), (engine.PENDING, None))
		token = links_sent(self.mail, draft.name)[self.jane.email_id]
		submit_as_guest(token, 8)
		self.assertEqual(frappe.db.get_value("NPS Survey", draft.name, "answers"), 1)

	def test_the_email_shows_the_note_as_typed_escaped_once(self):
		survey, _links = self.send(contacts=[self.jane.name], note="<script>x()</script> Q&A <b>Hi</b>")
		message = next(
			call.kwargs["message"]
			for call in self.mail.call_args_list
			if call.kwargs.get("reference_name") == survey
		)
		self.assertNotIn("<script>", message)
		self.assertNotIn("&amp;lt;", message)
		self.assertNotIn("&lt;b&gt;", message)
		self.assertIn("Q&amp;A Hi", message)

	def test_an_answer_stands_when_the_contact_left_the_customer_after_the_link_went_out(self):
		survey, links = self.send(contacts=[self.jane.name])
		contact = frappe.get_doc("Contact", self.jane.name)
		contact.links = [row for row in contact.links if row.link_name != self.customer]
		contact.save(ignore_permissions=True)
		submit_as_guest(links[self.jane.email_id], 6, comment="Still here")
		answer = frappe.get_doc("NPS Response", {"survey": survey})
		self.assertEqual((answer.customer, answer.contact, answer.score), (self.customer, self.jane.name, 6))
		# a CSM's own note still names a contact of the customer only
		self.assertRaises(frappe.ValidationError, response, self.customer, 8, contact=self.jane.name)
		# the answer and its survey still save as they are (the desk re-saves them)
		frappe.get_doc("NPS Response", answer.name).save(ignore_permissions=True)
		frappe.get_doc("NPS Survey", survey).save(ignore_permissions=True)

	def test_send_refuses_wrong_contacts_and_plans(self):
		other = make_customer(cs_owner=CSM1).name
		stranger = make_contact(other, "Stranger")
		no_mail = make_contact(self.customer, "Nomail", email_ids=[])
		for contacts in ([stranger.name], [no_mail.name], [self.jane.name, self.jane.name], []):
			with self.assertRaises(frappe.ValidationError, msg=contacts):
				self.send(contacts=contacts)
		plan = make_success_plan(other).name
		self.assertRaises(frappe.ValidationError, self.send, success_plan=plan)
		# a colleague's plan: the same message, naming neither its customer nor a permission
		colleagues = make_success_plan(make_customer(cs_owner=CSM2).name).name
		with self.assertRaisesRegex(frappe.ValidationError, "is not a plan of") as refused:
			self.send(success_plan=colleagues)
		self.assertNotIsInstance(refused.exception, frappe.PermissionError)
		self.assertNotIn(frappe.db.get_value("Success Plan", colleagues, "customer"), str(refused.exception))
		self.assertFalse(frappe.db.exists("NPS Survey", {"customer": self.customer}))

		mine = make_success_plan(self.customer).name
		survey, _links = self.send(success_plan=mine)
		self.assertEqual(frappe.db.get_value("NPS Survey", survey, "success_plan"), mine)

	def test_no_outgoing_email_no_survey(self):
		patch.stopall()  # the real check, on a site without an outgoing account
		frappe.db.set_value("Email Account", {"enable_outgoing": 1}, "enable_outgoing", 0)
		frappe.local.outgoing_email_account = {}  # frappe caches the account for the request
		try:
			with self.assertRaises(frappe.OutgoingEmailError):
				api.send_survey(customer=self.customer, contacts=[self.jane.name])
		finally:
			frappe.local.outgoing_email_account = {}
		self.assertFalse(frappe.db.exists("NPS Survey", {"customer": self.customer}))

	def test_a_survey_is_sent_only_by_sending(self):
		forged = service.new_survey(self.customer, [self.jane.name])
		forged.status = "Sent"
		self.assertRaises(frappe.ValidationError, forged.insert, ignore_permissions=True)
		draft = service.new_survey(self.customer, [self.jane.name]).insert(ignore_permissions=True)
		draft.status = "Sent"
		self.assertRaises(frappe.ValidationError, draft.save, ignore_permissions=True)
		draft.reload()
		result = api.send_draft(survey=draft.name)
		self.assertEqual(result["sent_to"], [self.jane.email_id])
		self.assertEqual(set(links_sent(self.mail, draft.name)), {self.jane.email_id})
		draft.reload()
		draft.status = "Draft"
		self.assertRaises(frappe.ValidationError, draft.save, ignore_permissions=True)

	def test_a_sent_survey_keeps_its_contacts(self):
		survey, _links = self.send(contacts=[self.jane.name])
		doc = frappe.get_doc("NPS Survey", survey)
		doc.append("contacts", {"contact": self.omar.name})
		self.assertRaises(frappe.ValidationError, doc.save, ignore_permissions=True)
		self.assertRaises(frappe.ValidationError, api.send_draft, survey=survey)


def render_page(token: str, lang: str | None = None, accept_language: str | None = None) -> str:
	"""The /nps page as a browser gets it (frappe picks the language as for any request)."""
	from frappe.translate import get_language
	from frappe.utils import set_request
	from frappe.website.serve import get_response

	query = f"token={token}" + (f"&_lang={lang}" if lang else "")
	headers = {"Accept-Language": accept_language} if accept_language else None
	frappe.set_user("Guest")
	previous = frappe.local.lang
	try:
		set_request(method="GET", path=f"/nps?{query}", headers=headers)
		frappe.local.form_dict = frappe._dict(token=token, **({"_lang": lang} if lang else {}))
		frappe.local.lang = get_language()  # what frappe's request setup does
		return get_response().get_data(as_text=True)
	finally:
		frappe.local.lang = previous
		frappe.local.form_dict = frappe._dict()
		frappe.local.request = None
		frappe.set_user("Administrator")


class TestAnswerPage(VoiceTestCase):
	def test_the_page_speaks_the_visitors_language(self):
		_survey, links = self.send(contacts=[self.jane.name])
		token = links[self.jane.email_id]
		english = render_page(token, lang="en")
		self.assertIn("Your Feedback", english)
		self.assertIn("How likely are you to recommend", english)
		chinese = render_page(token, lang="zh")
		self.assertIn("您的反馈", chinese)
		self.assertIn("您有多大可能向朋友或同事推荐", chinese)
		self.assertIn("您的反馈", render_page(token, accept_language="zh-CN,zh;q=0.9"))
		used = submit_as_guest(token, 9)
		self.assertTrue(used["ok"])
		self.assertIn("此调查链接已被使用", render_page(token, lang="zh"))
		self.assertIn("not valid", render_page(engine.new_token(), lang="en"))

	def test_guest_reaches_only_the_submit(self):
		from customer_success.voice import api as voice_api

		open_to_guest = {
			name
			for name in dir(voice_api)
			if callable(getattr(voice_api, name)) and getattr(voice_api, name) in frappe.guest_methods
		}
		self.assertEqual(open_to_guest, {"submit_answer"})
		self.assertIn(voice_api.submit_answer, frappe.allowed_http_methods_for_whitelisted_func)
		self.assertEqual(frappe.allowed_http_methods_for_whitelisted_func[voice_api.submit_answer], ["POST"])

	def test_a_comment_sent_as_the_page_sends_it_is_kept_as_typed_without_markup(self):
		"""Through frappe's request handler, as the answer page posts it: frappe escapes what a Guest
		sends to a method not marked safe, which stored entities ("&amp;", "&lt;script&gt;") the CSM
		then read; the method takes the text as typed and removes its markup itself."""
		import frappe.handler
		from frappe.utils import set_request

		survey, links = self.send(contacts=[self.jane.name])
		method = "customer_success.voice.api.submit_answer"
		set_request(method="POST", path=f"/api/method/{method}")
		frappe.local.request_ip = f"cs-test-{frappe.generate_hash(length=10)}"
		try:
			frappe.set_user("Guest")  # (which empties the form_dict: filled after)
			frappe.local.form_dict = frappe._dict(
				cmd=method,
				token=links[self.jane.email_id],
				score="2",
				comment='<img src=x onerror="alert(1)"><b>Terrible</b> support & "slow" <script>alert(2)</script>',
			)
			reply = frappe.handler.execute_cmd(method)
		finally:
			frappe.set_user("Administrator")
			frappe.local.request = None
			frappe.local.form_dict = frappe._dict()
		self.assertTrue(reply["ok"], reply)
		answer = frappe.get_doc("NPS Response", {"survey": survey})
		self.assertEqual(answer.comment, 'Terrible support & "slow" alert(2)')

	def test_the_submit_is_rate_limited(self):
		from frappe.utils import set_request

		set_request(method="POST", path="/api/method/customer_success.voice.api.submit_answer")
		frappe.local.request_ip = f"cs-test-{frappe.generate_hash(length=10)}"  # a fresh visitor
		frappe.local.form_dict = frappe._dict(cmd="customer_success.voice.api.submit_answer")
		try:
			frappe.set_user("Guest")
			for _ in range(api.SUBMIT_LIMIT):
				api.submit_answer(token=engine.new_token(), score=5)
			self.assertRaises(
				frappe.RateLimitExceededError, api.submit_answer, token=engine.new_token(), score=5
			)
		finally:
			frappe.local.request = None
			frappe.local.form_dict = frappe._dict()
			frappe.set_user("Administrator")


class TestVoicePermissions(VoiceTestCase):
	def test_guest_cannot_read_or_send(self):
		survey, links = self.send(contacts=[self.jane.name])
		submit_as_guest(links[self.jane.email_id], 9)
		name = frappe.db.get_value("NPS Response", {"survey": survey})
		frappe.set_user("Guest")
		self.assertRaises(frappe.PermissionError, frappe.get_list, "NPS Response")
		self.assertRaises(frappe.PermissionError, frappe.get_list, "NPS Survey")
		self.assertFalse(frappe.has_permission("NPS Response", "read", name))
		self.assertRaises(frappe.PermissionError, api.get_latest_nps, customer=self.customer)
		self.assertRaises(
			frappe.PermissionError, api.send_survey, customer=self.customer, contacts=[self.jane.name]
		)
		self.assertRaises(frappe.PermissionError, api.get_contacts_to_survey, customer=self.customer)

	def test_a_csm_works_only_their_book(self):
		survey, links = self.send(contacts=[self.jane.name])
		submit_as_guest(links[self.jane.email_id], 9)
		name = frappe.db.get_value("NPS Response", {"survey": survey})

		frappe.set_user(CSM2)
		self.assertNotIn(survey, frappe.get_list("NPS Survey", pluck="name"))
		self.assertNotIn(name, frappe.get_list("NPS Response", pluck="name"))
		self.assertFalse(frappe.has_permission("NPS Response", "read", name))
		self.assertFalse(frappe.has_permission("NPS Survey", "read", survey))
		with self.assertRaises(frappe.PermissionError):  # another book's customer
			api.get_latest_nps(customer=self.customer)
		self.assertRaises(
			frappe.PermissionError, api.send_survey, customer=self.customer, contacts=[self.jane.name]
		)
		foreign = frappe.get_doc(
			{"doctype": "NPS Response", "customer": self.customer, "score": 1, "answered_on": get_datetime()}
		)
		self.assertRaises(frappe.PermissionError, foreign.insert)

		frappe.set_user(CSM1)
		self.assertIn(survey, frappe.get_list("NPS Survey", pluck="name"))
		self.assertIn(name, frappe.get_list("NPS Response", pluck="name"))
		self.assertEqual(api.get_latest_nps(customer=self.customer)["latest"]["name"], name)
		mine = frappe.get_doc(
			{"doctype": "NPS Response", "customer": self.customer, "score": 8, "answered_on": get_datetime()}
		).insert()
		self.assertEqual(mine.category, engine.PASSIVE)

		frappe.set_user(MANAGER)
		self.assertIn(name, frappe.get_list("NPS Response", pluck="name"))
		self.assertIn(survey, frappe.get_list("NPS Survey", pluck="name"))

	def test_the_book_holds_through_frappes_generic_doors(self):
		from customer_success.tests.test_row_rules import call

		mine, _links = self.send(contacts=[self.jane.name])
		other = make_customer(cs_owner=CSM2).name
		theirs, _their_links = self.send(
			customer=other, contacts=[make_contact(other, "Bob").name], user=CSM2
		)
		both = {mine, theirs}
		frappe.set_user(CSM1)
		rows = call(
			"frappe.client.get_list",
			doctype="NPS Survey Contact",
			parent="NPS Survey",
			fields='["parent"]',
			limit_page_length=0,
		)
		self.assertEqual({row.parent for row in rows} & both, {mine})
		names = json.dumps({"name": ["in", list(both)]})
		self.assertEqual(call("frappe.client.get_count", doctype="NPS Survey", filters=names), 1)
		found = call(
			"frappe.desk.search.search_widget",
			doctype="NPS Survey",
			txt="",
			page_length=1000,
			ignore_user_permissions=1,
		)
		self.assertEqual({row[0] for row in found} & both, {mine})

	def test_the_customer_form_shows_the_latest_answer_and_the_years_nps(self):
		response(self.customer, 3, days_ago=400)  # outside the year
		response(self.customer, 10, days_ago=20)
		response(self.customer, 6, days_ago=10)
		latest = response(self.customer, 9, days_ago=1)
		frappe.set_user(CSM1)
		data = api.get_latest_nps(customer=self.customer)
		self.assertEqual(data["latest"]["name"], latest.name)
		self.assertEqual(data["responses"], 3)
		self.assertAlmostEqual(data["nps"], 33.33)  # 2 promoters, 1 detractor of 3


NPS_MODEL = f"{TEST_PREFIX} NPS Model"


class TestNPSFactor(VoiceTestCase):
	def setUp(self):
		super().setUp()
		frappe.get_doc(
			{
				"doctype": "Health Score Model",
				"model_name": NPS_MODEL,
				"enabled": 1,
				"applies_to_tier": "SMB",
				"green_min": 70,
				"red_below": 40,
				"factors": [
					{"factor_type": "NPS", "weight": 50, "enabled": 1, "parameters": '{"lookback_days": 90}'},
					{"factor_type": "CSM Sentiment", "weight": 50, "enabled": 1},
				],
			}
		).insert()
		frappe.db.set_value(
			"Customer", self.customer, {"cs_csm_sentiment": "Positive", "cs_sentiment_on": nowdate()}
		)

	def factors(self, customer=None):
		health.recompute_customer(customer or self.customer)
		name = frappe.db.get_value(
			"Customer Health Score",
			{"customer": customer or self.customer},
			"name",
			order_by="score_date desc, name desc",
		)
		row = frappe.get_doc("Customer Health Score", name)
		return row, {f["factor_type"]: f for f in json.loads(row.explanation)}

	def test_the_shipped_model_offers_nps(self):
		shipped = {row["factor_type"]: row for row in defaults.default_model()["factors"]}
		self.assertIn(health_engine.NPS, shipped)
		meta = frappe.get_meta("Health Score Factor")
		self.assertIn("NPS", meta.get_field("factor_type").options.split("\n"))
		model = frappe.get_doc("Health Score Model", defaults.DEFAULT_MODEL_NAME)
		self.assertIn("NPS", [row.factor_type for row in model.factors])

	def test_the_patch_offers_nps_on_an_existing_model_without_changing_scores(self):
		from customer_success.patches.v0_3 import offer_nps_factor

		model = frappe.get_doc("Health Score Model", defaults.DEFAULT_MODEL_NAME)
		model.factors = [row for row in model.factors if row.factor_type != "NPS"]
		model.save()
		weights = [(row.factor_type, row.weight, row.enabled) for row in model.factors]
		offer_nps_factor.execute()
		offer_nps_factor.execute()  # idempotent
		model.reload()
		nps = [row for row in model.factors if row.factor_type == "NPS"]
		self.assertEqual(len(nps), 1)
		self.assertEqual((nps[0].enabled, nps[0].weight), (0, 10))
		self.assertEqual(
			[(r.factor_type, r.weight, r.enabled) for r in model.factors if r.factor_type != "NPS"], weights
		)
		self.assertEqual(model.total_weight, 100)

	def test_no_answer_no_nps_data(self):
		row, factors = self.factors()
		self.assertEqual(row.model, NPS_MODEL)
		self.assertIsNone(factors["NPS"]["raw"])
		self.assertIsNone(factors["NPS"]["sub_score"])
		self.assertEqual(factors["CSM Sentiment"]["effective_weight"], 100)  # re-normalised
		self.assertEqual(row.computed_score, 75)

	def test_the_latest_answer_in_the_look_back_scores(self):
		response(self.customer, 10, days_ago=120, contact=self.omar.name)  # outside the 90 days
		response(self.customer, 3, days_ago=30, contact=self.jane.name)
		latest = response(self.customer, 9, days_ago=2, contact=self.omar.name)
		row, factors = self.factors()
		self.assertEqual(factors["NPS"]["raw"], 9)
		self.assertEqual(factors["NPS"]["sub_score"], 100)
		self.assertEqual(factors["NPS"]["effective_weight"], 50)
		self.assertEqual(row.computed_score, 87.5)  # (100 + 75) / 2

		records = health_api.get_factor_records(self.customer, "NPS")
		self.assertEqual(records["doctype"], "NPS Response")
		self.assertEqual(records["records"][0].name, latest.name)
		self.assertEqual(len(records["records"]), 2)  # the two in the look-back

		response(self.customer, 4, days_ago=0, contact=self.jane.name)
		row, factors = self.factors()
		self.assertEqual(factors["NPS"]["raw"], 4)
		self.assertAlmostEqual(factors["NPS"]["sub_score"], 26.67, places=2)

	def test_an_answer_only_older_than_the_look_back_is_no_data(self):
		response(self.customer, 10, days_ago=100)
		_row, factors = self.factors()
		self.assertIsNone(factors["NPS"]["raw"])

	def test_the_nightly_read_is_one_query_for_the_range(self):
		from customer_success.health import queries

		other = make_customer(cs_owner=CSM2, cs_tier="SMB").name
		response(self.customer, 2, days_ago=5)
		response(other, 10, days_ago=5)
		found = queries.latest_nps(
			min(self.customer, other), max(self.customer, other), add_days(nowdate(), -90)
		)
		self.assertEqual(found[self.customer]["score"], 2)
		self.assertEqual(found[other]["score"], 10)


class TestNPSAlerts(VoiceTestCase):
	def alerts(self, rule=None):
		filters = {"customer": self.customer, "status": ("in", ("Open", "In Progress"))}
		if rule:
			filters["rule"] = rule
		return frappe.get_all(
			"CS Alert", filters=filters, fields=["name", "rule", "kind", "severity", "evidence"]
		)

	def test_a_detractor_answer_raises_its_risk_alert_at_once(self):
		survey, links = self.send()
		self.assertTrue(submit_as_guest(links[self.omar.email_id], 8)["ok"])  # a passive: nothing
		self.assertFalse(self.alerts(DETRACTOR_RULE))

		self.assertTrue(submit_as_guest(links[self.jane.email_id], 5)["ok"])
		raised = self.alerts(DETRACTOR_RULE)
		self.assertEqual(len(raised), 1)
		alert = raised[0]
		self.assertEqual((alert.kind, alert.severity), ("Risk", "High"))
		answer = frappe.db.get_value("NPS Response", {"survey": survey, "contact": self.jane.name})
		self.assertIn(["NPS Response", answer], json.loads(alert.evidence)["records"])
		doc = frappe.get_doc("CS Alert", alert.name)
		self.assertEqual(doc.playbook, "Close the Loop with a Detractor")
		self.assertEqual(doc.assigned_to, CSM1)
		# raised by the system, as at night, not by the contact's Guest session
		self.assertEqual(doc.owner, "Administrator")
		self.assertNotIn(
			"Guest",
			frappe.get_all(
				"ToDo",
				filters={"reference_type": "CS Alert", "reference_name": alert.name},
				pluck="assigned_by",
			),
		)
		self.assertNotIn(
			"Guest",
			frappe.get_all("Notification Log", filters={"document_name": alert.name}, pluck="from_user"),
		)

		# another detractor: the same alert, more severe (a 2 is angry), never a second one
		bob = make_contact(self.customer, "Bob")
		_second, more = self.send(contacts=[bob.name])
		submit_as_guest(more[bob.email_id], 2)
		raised = self.alerts(DETRACTOR_RULE)
		self.assertEqual([a.name for a in raised], [alert.name])
		self.assertEqual(raised[0].severity, "Critical")
		self.assertEqual(len(json.loads(raised[0].evidence)["records"]), 2)

		# the nightly pass agrees, and adds nothing
		result = alerts.evaluate(self.customer, self.customer, {self.customer})
		self.assertEqual(result["raised"], 0)
		self.assertEqual(len(self.alerts(DETRACTOR_RULE)), 1)

	def test_an_alert_that_fails_never_loses_the_answer(self):
		_survey, links = self.send(contacts=[self.jane.name])
		with patch.object(alerts, "evaluate_customer", side_effect=RuntimeError("alerts down")):
			self.assertTrue(submit_as_guest(links[self.jane.email_id], 1)["ok"])
		self.assertEqual(frappe.db.count("NPS Response", {"customer": self.customer}), 1)
		self.assertFalse(self.alerts(DETRACTOR_RULE))
		self.assertTrue(
			frappe.db.exists(
				"Error Log", {"method": ("like", "After NPS answer hook%"), "reference_name": ("is", "set")}
			)
		)
		alerts.evaluate(self.customer, self.customer, {self.customer})  # the nightly pass catches up
		self.assertEqual(len(self.alerts(DETRACTOR_RULE)), 1)

	def test_an_old_detractor_answer_raises_nothing(self):
		response(self.customer, 1, days_ago=45)
		self.assertFalse(self.alerts(DETRACTOR_RULE))
		alerts.evaluate(self.customer, self.customer, {self.customer})
		self.assertFalse(self.alerts(DETRACTOR_RULE))

	def test_a_promoter_on_a_green_account_is_an_advocacy_ask(self):
		frappe.db.set_value("Customer", self.customer, {"cs_health_status": "Yellow", "cs_health_score": 60})
		response(self.customer, 10, days_ago=3)
		self.assertFalse(self.alerts(PROMOTER_RULE), "not while health is Yellow")

		frappe.db.set_value("Customer", self.customer, {"cs_health_status": "Green", "cs_health_score": 85})
		result = alerts.evaluate(self.customer, self.customer, {self.customer})
		self.assertEqual(result["raised"], 1)
		raised = self.alerts(PROMOTER_RULE)
		self.assertEqual((raised[0].kind, raised[0].severity), ("Advocacy", "Low"))
		self.assertEqual(frappe.db.get_value("CS Alert", raised[0].name, "playbook"), "Ask for Advocacy")

		# a later passive answer is now the latest: the ask resolves itself
		response(self.customer, 7, days_ago=0)
		self.assertFalse(self.alerts(PROMOTER_RULE))

	def test_a_promoter_answer_on_a_green_account_asks_at_once(self):
		frappe.db.set_value("Customer", self.customer, {"cs_health_status": "Green", "cs_health_score": 85})
		_survey, links = self.send(contacts=[self.jane.name])
		submit_as_guest(links[self.jane.email_id], 9)
		self.assertEqual(len(self.alerts(PROMOTER_RULE)), 1)

	def test_both_rules_are_shipped_enabled_with_a_playbook(self):
		for name, kind in ((DETRACTOR_RULE, "Risk"), (PROMOTER_RULE, "Advocacy")):
			rule = frappe.get_doc("CS Alert Rule", name)
			self.assertTrue(rule.enabled and rule.playbook and rule.days, name)
			self.assertEqual(rule.kind, kind)
			self.assertTrue(frappe.db.exists("CS Playbook", rule.playbook))


class TestNPSTrend(VoiceTestCase):
	def run_report(self, user=CSM1, **filters):
		from customer_success.voice.report.nps_trend import nps_trend

		frappe.set_user(user)
		try:
			return nps_trend.execute(
				{"from_date": self.start, "to_date": nowdate(), "group_by": "CSM", **filters}
			)
		finally:
			frappe.set_user("Administrator")

	def setUp(self):
		super().setUp()
		# Two months with answers, for CSM1's SMB customer and CSM2's Enterprise one:
		#   last month  CSM1: 10, 9, 6      -> (2 - 1) / 3 = 33.33
		#               CSM2: 3             -> -100
		#   this month  CSM1: 8, 7, 0, 10   -> (1 - 1) / 4 = 0
		#               CSM2: 9, 9          -> 100
		self.start = get_first_day(add_months(nowdate(), -1))
		last_month = add_to_date(get_datetime(self.start), days=10, hours=10)
		this_month = add_to_date(get_datetime(get_first_day(nowdate())), minutes=5)
		self.other = make_customer(cs_owner=CSM2, cs_tier="Enterprise").name
		for customer, when, scores in (
			(self.customer, last_month, (10, 9, 6)),
			(self.other, last_month, (3,)),
			(self.customer, this_month, (8, 7, 0, 10)),
			(self.other, this_month, (9, 9)),
		):
			for score in scores:
				frappe.get_doc(
					{"doctype": "NPS Response", "customer": customer, "score": score, "answered_on": when}
				).insert(ignore_permissions=True)
		self.last, self.this = str(self.start)[:7], nowdate()[:7]

	def test_numbers_by_csm_against_the_hand_count(self):
		_columns, rows, _msg, chart, summary = self.run_report(user=MANAGER, tier=None)
		mine = {(r["period"], r["group"]): r for r in rows if r["group"] in (CSM1, CSM2)}
		self.assertEqual(mine[(self.last, CSM1)]["nps"], 33.33)
		self.assertEqual(mine[(self.last, CSM2)]["nps"], -100.0)
		self.assertEqual(mine[(self.this, CSM1)]["nps"], 0.0)
		self.assertEqual(mine[(self.this, CSM2)]["nps"], 100.0)
		self.assertEqual(
			(
				mine[(self.this, CSM1)]["promoters"],
				mine[(self.this, CSM1)]["passives"],
				mine[(self.this, CSM1)]["detractors"],
			),
			(1, 2, 1),
		)
		self.assertEqual(chart["type"], "line")
		self.assertEqual(
			chart["data"]["labels"], sorted({self.last, self.this} | set(chart["data"]["labels"]))
		)
		lines = {d["name"]: d["values"] for d in chart["data"]["datasets"]}
		self.assertEqual(lines[CSM1][chart["data"]["labels"].index(self.last)], 33.33)
		self.assertTrue(summary)

	def test_a_single_month_is_a_bar_chart(self):
		"""frappe-charts cannot draw a line through one point: a month alone is a bar per group."""
		*_rest, chart, _summary = self.run_report(user=MANAGER, from_date=get_first_day(nowdate()))
		self.assertEqual(chart["type"], "bar")
		self.assertEqual(chart["data"]["labels"], [self.this])
		self.assertNotIn("lineOptions", chart)

	def test_numbers_by_tier_and_overall(self):
		_c, rows, *_ = self.run_report(user=MANAGER, group_by="Tier", csm=CSM1)
		self.assertEqual(
			{(r["period"], r["group"], r["nps"]) for r in rows},
			{(self.last, "SMB", 33.33), (self.this, "SMB", 0.0)},
		)
		_c, rows, _m, _chart, summary = self.run_report(user=MANAGER, group_by="Overall", csm=CSM2)
		self.assertEqual(
			[(r["period"], r["nps"], r["responses"]) for r in rows],
			[(self.last, -100.0, 1), (self.this, 100.0, 2)],
		)
		# 2 promoters, 1 detractor of 3: shown to one decimal, as the NPS column (the desk would pad a
		# summary's Float to the site's float precision, "33.330")
		self.assertEqual(summary[0]["value"], "33.3")

	def test_a_csm_sees_only_their_book(self):
		_c, rows, *_ = self.run_report(user=CSM1)
		self.assertEqual({r["group"] for r in rows}, {CSM1})
		self.assertEqual(sum(r["responses"] for r in rows), 7)
		_c, rows, *_ = self.run_report(user=CSM1, csm=CSM2)
		self.assertEqual(rows, [])

	def test_bad_dates_are_refused(self):
		self.assertRaises(
			frappe.ValidationError,
			self.run_report,
			user=MANAGER,
			from_date=nowdate(),
			to_date=add_days(nowdate(), -5),
		)
