"""What a save may not do to an alert: write its rule's evidence or summary, give its tasks to
people who cannot open it (a task given to someone else takes its ToDo along), raise it closed,
resolve it with an empty note, answer an ask that was never made; and a rule's Days within the
dates that exist (one stored larger runs clamped, not failing every customer)."""

import json

import frappe

from customer_success.alerts import engine, service
from customer_success.alerts.test_alerts import (
	ALERT,
	CSM1,
	CSM2,
	MANAGER,
	AlertsTestCase,
	only_rule,
	set_health,
)
from customer_success.tests.utils import make_user

WEBSITE_USER = "alerts.website@example.com"
PLANTED = json.dumps({"facts": {"score": 1}, "records": [['x"><img src=x onerror=alert(1)>', "n"]]})


def open_todos(alert, user):
	return frappe.get_all(
		"ToDo",
		filters={"reference_type": ALERT, "reference_name": alert, "allocated_to": user, "status": "Open"},
		pluck="name",
	)


class TestRuleFieldsAreTheRules(AlertsTestCase):
	def test_a_save_keeps_the_evidence_and_summary_a_rule_wrote(self):
		alert = self.raise_red()
		kept = frappe.db.get_value(
			ALERT, alert.name, ["evidence", "summary", "evidence_digest"], as_dict=True
		)
		self.assertTrue(kept.evidence and kept.summary)
		frappe.set_user(CSM1)
		doc = frappe.get_doc(ALERT, alert.name)
		doc.evidence, doc.summary = PLANTED, "<b>rewritten</b>"
		doc.save()
		self.assertEqual(
			frappe.db.get_value(ALERT, alert.name, ["evidence", "summary", "evidence_digest"], as_dict=True),
			kept,
		)

	def test_a_new_alert_brings_no_evidence_of_its_own(self):
		frappe.set_user(CSM1)
		manual = frappe.get_doc(
			{
				"doctype": ALERT,
				"customer": self.customer,
				"kind": engine.RISK,
				"severity": engine.LOW,
				"summary": "Sponsor left",
				"evidence": PLANTED,
			}
		).insert()
		self.assertIsNone(manual.evidence)
		self.assertEqual(manual.summary, "Sponsor left")  # a manual alert says what it is about
		ruled = frappe.get_doc(
			{
				"doctype": ALERT,
				"customer": self.customer,
				"rule": "Health Turned Red",
				"severity": engine.LOW,
				"summary": "made up",
				"evidence": PLANTED,
			}
		).insert()
		self.assertIsNone(ruled.evidence)
		self.assertIsNone(ruled.summary)
		# raised by hand for a rule, it takes the rule's playbook, as the rule's own alerts do
		playbook = frappe.db.get_value("CS Alert Rule", "Health Turned Red", "playbook")
		self.assertTrue(playbook)
		self.assertEqual(ruled.playbook, playbook)
		self.assertTrue(ruled.tasks)


class TestTaskAssignees(AlertsTestCase):
	def test_a_task_goes_to_someone_who_can_open_the_alert_and_its_todo_follows(self):
		make_user(WEBSITE_USER, [])
		alert = self.raise_red()
		task = alert.tasks[0]
		self.assertTrue(open_todos(alert.name, CSM1))
		frappe.set_user(CSM1)
		for user in (CSM2, WEBSITE_USER):
			doc = frappe.get_doc(ALERT, alert.name)
			doc.tasks[0].assigned_to = user
			with self.assertRaisesRegex(frappe.ValidationError, "cannot open alert"):
				doc.save()
			doc = frappe.get_doc(ALERT, alert.name)
			doc.append("tasks", {"title": "Call", "assigned_to": user, "status": "Open"})
			with self.assertRaisesRegex(frappe.ValidationError, "cannot open alert"):
				doc.save()
		self.assertFalse(open_todos(alert.name, CSM2))
		doc = frappe.get_doc(ALERT, alert.name)
		old_todo = doc.tasks[0].todo
		doc.tasks[0].assigned_to = MANAGER
		doc.save()
		self.assertEqual(frappe.db.get_value("ToDo", old_todo, "status"), "Cancelled")
		new_todo = frappe.db.get_value("CS Alert Task", task.name, "todo")
		self.assertNotEqual(new_todo, old_todo)
		self.assertEqual(frappe.db.get_value("ToDo", new_todo, ["allocated_to", "status"]), (MANAGER, "Open"))


class TestStatusAndAsk(AlertsTestCase):
	def test_an_alert_is_raised_open(self):
		frappe.set_user(CSM1)
		names = frappe.db.count(ALERT)
		with self.assertRaisesRegex(frappe.ValidationError, "A new alert is raised open"):
			frappe.get_doc(
				{
					"doctype": ALERT,
					"customer": self.customer,
					"kind": engine.RISK,
					"severity": engine.LOW,
					"status": engine.DISMISSED,
					"dismiss_reason": "no",
				}
			).insert()
		self.assertEqual(frappe.db.count(ALERT), names)

	def test_an_empty_note_does_not_close_an_alert(self):
		alert = self.raise_red()
		frappe.set_user(CSM1)
		for status, field in ((engine.RESOLVED, "resolution"), (engine.DISMISSED, "dismiss_reason")):
			doc = frappe.get_doc(ALERT, alert.name)
			doc.status = status
			doc.set(field, "<p> </p>")
			with self.assertRaises(frappe.ValidationError):
				doc.save()
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "status"), engine.OPEN)

	def test_an_asks_outcome_needs_its_ask(self):
		frappe.set_user(CSM1)
		advocacy = frappe.get_doc(
			{"doctype": ALERT, "customer": self.customer, "kind": engine.ADVOCACY, "severity": engine.LOW}
		).insert()
		advocacy.reload()
		advocacy.ask_outcome = "Agreed"
		with self.assertRaisesRegex(frappe.ValidationError, "before its Outcome"):
			advocacy.save()
		advocacy.reload()
		advocacy.ask_type, advocacy.ask_outcome = "Reference", "Agreed"
		advocacy.save()
		self.assertEqual(frappe.db.get_value(ALERT, advocacy.name, "ask_outcome"), "Agreed")
		# its answer may come after the alert is closed
		service.close(advocacy, engine.RESOLVED, "Asked at the review.")
		advocacy = frappe.get_doc(ALERT, advocacy.name)
		advocacy.ask_outcome = "Declined"
		advocacy.save()
		self.assertEqual(frappe.db.get_value(ALERT, advocacy.name, "ask_outcome"), "Declined")

	def test_only_an_advocacy_alert_records_an_ask(self):
		frappe.set_user(CSM1)
		risk = frappe.get_doc(
			{"doctype": ALERT, "customer": self.customer, "kind": engine.RISK, "severity": engine.LOW}
		)
		risk.ask_type = "Referral"
		with self.assertRaisesRegex(frappe.ValidationError, "belong to an Advocacy alert"):
			risk.insert()
		risk.ask_type = None
		risk.insert()
		risk.reload()
		risk.ask_type, risk.ask_outcome = "Review", "Agreed"
		with self.assertRaisesRegex(frappe.ValidationError, "belong to an Advocacy alert"):
			risk.save()
		self.assertFalse(any(frappe.db.get_value(ALERT, risk.name, ["ask_type", "ask_outcome"])))


class TestRuleDaysBound(AlertsTestCase):
	def test_days_are_bounded_and_one_stored_larger_runs_clamped(self):
		for days in (3651, 2147483647):
			rule = frappe.get_doc("CS Alert Rule", "Health Dropped Sharply")
			rule.days = days
			with self.assertRaisesRegex(frappe.ValidationError, "from 0 to 3650"):
				rule.save()
		frappe.db.set_value("CS Alert Rule", "Health Dropped Sharply", "days", 2147483647)  # stored before
		only_rule("Health Dropped Sharply")
		set_health(self.customer, "Red", 30)
		errors = frappe.db.count("Error Log")
		service.evaluate_customer(self.customer)
		self.assertEqual(frappe.db.count("Error Log"), errors)
		self.assertTrue(all(r.days <= engine.MAX_RULE_DAYS for r in service.load_rules()))


class TestADisabledRulesAlerts(AlertsTestCase):
	def test_a_rule_that_resolves_its_alerts_resolves_them_when_disabled(self):
		rules = {
			auto: frappe.get_all("CS Alert Rule", {"enabled": 1, "auto_resolve": auto}, pluck="name", limit=1)
			for auto in (1, 0)
		}
		if not (rules[1] and rules[0]):
			self.skipTest("the site has no enabled rule of each kind")
		alerts = {}
		for auto, (rule,) in rules.items():
			alert = frappe.get_doc(
				{
					"doctype": ALERT,
					"customer": self.customer,
					"rule": rule,
					"severity": engine.MEDIUM,
					"status": engine.OPEN,
				}
			).insert(ignore_permissions=True)
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": CSM1,
					"reference_type": ALERT,
					"reference_name": alert.name,
					"description": "Call",
				}
			).insert(ignore_permissions=True)
			alerts[auto] = alert.name
		for rule in rules.values():
			doc = frappe.get_doc("CS Alert Rule", rule[0])
			doc.enabled = 0
			doc.save()
		resolved = frappe.db.get_value(ALERT, alerts[1], ["status", "auto_resolved", "resolution"])
		self.assertEqual(resolved[:2], (engine.RESOLVED, 1))
		self.assertIn("was disabled", resolved[2])
		self.assertFalse(open_todos(alerts[1], CSM1))
		# the CSM closes the other rule's alerts herself: it stays open, with its ToDo
		self.assertEqual(frappe.db.get_value(ALERT, alerts[0], "status"), engine.OPEN)
		self.assertTrue(open_todos(alerts[0], CSM1))
