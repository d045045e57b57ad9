"""The CSM e-mail digest: each CS Owner's book in one e-mail (counts, new alerts, red customers,
renewals due), in their language, once a day at most, never to who switched e-mail off; one
person's failure never stops the others'."""

from datetime import timedelta
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, get_datetime, getdate, now_datetime, nowdate
from frappe.utils.jinja import get_email_from_template

from customer_success.alerts import service as alerts
from customer_success.alerts.test_alerts import only_rule, set_health
from customer_success.constants import CSM_ROLE
from customer_success.customer_success import digest
from customer_success.renewals import service as renewals
from customer_success.renewals.test_renewals import make_contract
from customer_success.setup import defaults
from customer_success.tests.utils import change_settings, make_customer, make_shared_users

CSM_A = "cs-dg-csm-a@example.com"
CSM_B = "cs-dg-csm-b@example.com"
QUIET = "cs-dg-quiet@example.com"  # switched e-mail notifications off
GONE = "cs-dg-gone@example.com"  # disabled
OURS = {CSM_A, CSM_B, QUIET, GONE}


def sent_to(sendmail) -> dict[str, dict]:
	"""{recipient: the digest's sendmail kwargs}, ours only (the site's other CSMs get theirs too)."""
	return {
		call.kwargs["reference_name"]: call.kwargs
		for call in sendmail.call_args_list
		if call.kwargs.get("template") == "csm_digest" and call.kwargs.get("reference_name") in OURS
	}


class TestDigest(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM_A: [CSM_ROLE], CSM_B: [CSM_ROLE], QUIET: [CSM_ROLE], GONE: [CSM_ROLE]})
		defaults.make_default_alert_rules()
		frappe.db.commit()  # nosemgrep: shared fixtures of the class

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.local.flags.pop("cs_alert_cache", None)
		frappe.db.set_value("Notification Settings", QUIET, "enable_email_notifications", 0)
		for user in OURS:
			frappe.defaults.clear_default(digest.LAST_SENT_KEY, parent=user)
		# A's book: a red customer (its name as a user typed it) with an alert, a renewal due
		self.red = make_customer(cs_owner=CSM_A).name
		frappe.db.set_value("Customer", self.red, "customer_name", "CS Digest <b>Red</b>")
		only_rule("Health Turned Red")
		set_health(self.red, "Red", 22)
		alerts.evaluate_customer(self.red)
		self.alert = frappe.get_value("CS Alert", {"customer": self.red}, "name")
		due = make_customer(cs_owner=CSM_A).name
		contract = make_contract(due, add_days(nowdate(), -335), add_days(nowdate(), 30))
		renewals.create_renewals(getdate(nowdate()), contracts=[contract.name])
		self.renewal = frappe.get_value("Renewal", {"contract": contract.name}, "name")
		for owner in (CSM_B, QUIET, GONE):
			make_customer(cs_owner=owner)
		frappe.db.set_value("User", GONE, "enabled", 0)  # left, her customers not moved yet

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def send(self, now=None):
		with patch("frappe.sendmail") as sendmail:
			digest.send_digests("Weekly", now=now)
		return sent_to(sendmail)

	def test_each_csm_gets_her_book_once_a_day(self):
		sent = self.send()
		self.assertEqual(set(sent), {CSM_A, CSM_B})  # not who switched e-mail off, nor a disabled user
		mail = sent[CSM_A]
		self.assertEqual(mail["recipients"], [CSM_A])
		args = mail["args"]
		self.assertEqual(args["customers"], 2)
		self.assertEqual(args["red_count"], 1)
		self.assertEqual([c["name"] for c in args["red"]], [self.red])
		self.assertEqual([a["name"] for a in args["new_alerts"]], [self.alert])
		self.assertEqual(args["new_alerts_count"], 1)
		self.assertEqual(args["open_alerts"], 1)
		self.assertEqual([r["name"] for r in args["renewals"]], [self.renewal])
		self.assertIn("1 new alerts", mail["subject"])
		self.assertEqual(sent[CSM_B]["args"]["new_alerts"], [])
		# what the CSM reads: her figures, links to the records, user text escaped
		html = get_email_from_template("csm_digest", args)[0]
		self.assertIn(frappe.utils.get_url_to_form("CS Alert", self.alert), html)
		self.assertIn(frappe.utils.get_url_to_form("Renewal", self.renewal), html)
		self.assertIn("&lt;b&gt;Red&lt;/b&gt;", html)
		self.assertNotIn("<b>Red</b>", html)
		# a second run the same day (a retried job) sends nobody a second one
		self.assertEqual(self.send(), {})
		# the next week: only what was raised since the last digest is new
		next_week = now_datetime() + timedelta(days=7)
		again = self.send(now=next_week)
		self.assertEqual(again[CSM_A]["args"]["new_alerts"], [])
		self.assertEqual(again[CSM_A]["args"]["open_alerts"], 1)
		self.assertEqual(get_datetime(digest.last_sent(CSM_A)), get_datetime(next_week))

	def test_one_csms_failure_is_logged_and_the_others_get_theirs(self):
		real = digest.digest_of

		def failing_for_a(user, *args):
			if user == CSM_A:
				raise ValueError("broken book")
			return real(user, *args)

		errors = frappe.db.count("Error Log")
		with patch.object(digest, "digest_of", side_effect=failing_for_a):
			sent = self.send()
		self.assertEqual(set(sent), {CSM_B})
		self.assertIsNone(digest.last_sent(CSM_A))  # she gets it on the next run
		self.assertEqual(frappe.db.count("Error Log"), errors + 1)
		self.assertEqual(set(self.send()), {CSM_A})

	def test_a_site_without_an_outgoing_account_sends_nothing_and_marks_nobody(self):
		with patch("frappe.sendmail", side_effect=frappe.OutgoingEmailError("no account")):
			self.assertEqual(digest.send_digests("Weekly"), [])
		self.assertIsNone(digest.last_sent(CSM_A))

	def test_the_schedule_follows_the_settings(self):
		today = getdate(nowdate())
		weekday = today.strftime("%A")
		other_day = (today + timedelta(days=1)).strftime("%A")
		for values, expected in (
			({"csm_digest": "Off"}, False),
			({"csm_digest": "Daily"}, True),
			({"csm_digest": "Weekly", "csm_digest_weekday": weekday}, True),
			({"csm_digest": "Weekly", "csm_digest_weekday": other_day}, False),
			({"csm_digest": "Daily", "send_email_notifications": 0}, False),
		):
			settings = {"send_email_notifications": 1, **values}
			with change_settings(**settings), patch.object(digest, "send_digests", return_value=[]) as send:
				digest.cs_csm_digest()
			self.assertEqual(send.called, expected, values)

	def test_it_is_written_in_the_csms_language(self):
		frappe.db.set_value("User", CSM_A, "language", "zh")
		try:
			sent = self.send()
		finally:
			frappe.db.set_value("User", CSM_A, "language", None)
		self.assertNotIn("new alerts", sent[CSM_A]["subject"])
		self.assertIn("new alerts", sent[CSM_B]["subject"])
