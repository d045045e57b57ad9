"""Alerts on real records: each shipped rule, dedupe, snooze, caps, auto-resolve, cool-down,
playbook ToDos and progress, the Opportunity and its link back, row-level access, bad inputs."""

import json
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, now_datetime, nowdate

from customer_success.alerts import engine, queries, service
from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.health import queries as health_queries
from customer_success.setup import defaults
from customer_success.tests.utils import (
	TEST_PREFIX,
	change_settings,
	make_contact,
	make_contract,
	make_customer,
	make_sales_invoice,
	make_sales_order,
	make_shared_users,
	make_success_plan,
)

CSM1 = "alerts.csm1@example.com"
CSM2 = "alerts.csm2@example.com"
MANAGER = "alerts.manager@example.com"
SALES = "alerts.sales@example.com"

ALERT = service.ALERT


def today():
	return getdate(nowdate())


def alerts_of(customer, **filters):
	return frappe.get_all(
		ALERT,
		filters={"customer": customer, **filters},
		fields=[
			"name",
			"rule",
			"status",
			"severity",
			"snoozed_until",
			"summary",
			"evidence",
			"evidence_digest",
			"kind",
		],
	)


def only_rule(rule_name):
	"""Switch every shipped rule off but one, for this test (rolled back)."""
	rule = frappe.qb.DocType("CS Alert Rule")
	frappe.qb.update(rule).set(rule.enabled, 0).where(rule.name != rule_name).run()
	frappe.qb.update(rule).set(rule.enabled, 1).where(rule.name == rule_name).run()


def set_health(customer, status, score):
	frappe.db.set_value(
		"Customer", customer, {"cs_health_status": status, "cs_health_score": score}, update_modified=False
	)


def running_plan(customer, **fields):
	"""A plan agreed with the customer (running), with the contact who agreed."""
	contact = make_contact(customer, first_name="Sponsor")
	return make_success_plan(
		customer, status="Agreed with Customer", agreed_on=nowdate(), agreed_by=contact.name, **fields
	)


def accepted_handoff(customer, sales_owner=None, go_live=None, stakeholders=()):
	"""An accepted handoff written straight to the tables (its workflow is the handoff room's test)."""
	doc = frappe.get_doc(
		{
			"doctype": "Sales Handoff",
			"customer": customer,
			"status": "Accepted",
			"sales_owner": sales_owner,
			"target_go_live": go_live,
			"accepted_on": now_datetime(),
			"stakeholders": list(stakeholders),
		}
	)
	doc.name = f"{TEST_PREFIX} HO {frappe.generate_hash(length=8)}"
	doc.db_insert()
	for row in doc.stakeholders:
		row.parent, row.parenttype, row.parentfield = doc.name, "Sales Handoff", "stakeholders"
		row.db_insert()
	return doc


class AlertsTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{CSM1: [CSM_ROLE], CSM2: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE], SALES: ["Sales User"]}
		)
		defaults.make_default_alert_rules()
		frappe.db.commit()  # nosemgrep: shared fixtures of the class

	def setUp(self):
		frappe.set_user("Administrator")
		frappe.local.flags.pop("cs_alert_cache", None)
		self.customer = make_customer(cs_owner=CSM1).name

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def evaluate(self, customer=None):
		return service.evaluate_customer(customer or self.customer)

	def raise_red(self, customer=None):
		only_rule("Health Turned Red")
		set_health(customer or self.customer, "Red", 30)
		self.evaluate(customer)
		return frappe.get_doc(ALERT, alerts_of(customer or self.customer)[0].name)


class TestBellsAfterCommit(AlertsTestCase):
	def test_the_bells_of_alerts_raised_one_by_one_ring_once_committed(self):
		"""Tester U2: a pass raising alerts one by one (the bulk write failed) queued each alert's
		bells at once: killed before its commit, it rang 570 bells for alerts that never existed."""
		from types import SimpleNamespace

		from customer_success.tests.utils import change_settings

		bells = "frappe.desk.doctype.notification_log.notification_log.make_notification_logs"
		queued = []
		queue = SimpleNamespace(
			enqueue_call=lambda *args, **kwargs: queued.append(kwargs["kwargs"]["method"])
		)
		only_rule("Health Turned Red")
		set_health(self.customer, "Red", 30)
		with (
			change_settings(create_todos=1),
			patch.object(service, "insert_alerts", side_effect=RuntimeError("the bulk write failed")),
			patch("frappe.utils.background_jobs.get_queue", return_value=queue),
			patch("frappe.utils.background_jobs._check_queue_size"),
		):
			frappe.flags.in_test = False  # jobs queued, as on a site, not run in place
			try:
				self.evaluate()
			finally:
				frappe.flags.in_test = True
			[alert] = alerts_of(self.customer)
			self.assertEqual(frappe.db.get_value(ALERT, alert.name, "assigned_to"), CSM1)
			self.assertNotIn(bells, queued)  # nothing rings before the commit
			frappe.db.after_commit.run()  # what the commit runs
		self.assertIn(bells, queued)


class TestRules(AlertsTestCase):
	def assert_fires(self, rule_name, customer=None):
		only_rule(rule_name)
		self.evaluate(customer)
		found = alerts_of(customer or self.customer, rule=rule_name)
		self.assertEqual(len(found), 1, f"{rule_name} did not fire")
		self.assertEqual(found[0].kind, frappe.db.get_value("CS Alert Rule", rule_name, "kind"))
		return frappe.get_doc(ALERT, found[0].name)

	def assert_quiet(self, rule_name, customer=None):
		only_rule(rule_name)
		self.evaluate(customer)
		self.assertFalse(alerts_of(customer or self.customer, rule=rule_name))

	def test_health_turned_red(self):
		set_health(self.customer, "Yellow", 55)
		self.assert_quiet("Health Turned Red")
		set_health(self.customer, "Red", 30)
		alert = self.assert_fires("Health Turned Red")
		self.assertEqual(alert.severity, engine.HIGH)
		self.assertEqual(alert.assigned_to, CSM1)
		self.assertEqual(alert.csm, CSM1)
		self.assertIn("30", alert.summary)

	def test_an_alerts_words_are_in_the_sites_language_whoever_raises_it(self):
		"""A night's job runs in English and a CSM's check in her own language: what the alert stores
		(its title, with the shipped rule's name translated, its summary and its ToDo) is in the
		site's, as its colleagues and every list read it."""
		from customer_success.utils import in_language, site_language

		other = "zh" if site_language() != "zh" else "en"
		with in_language(other):
			alert = self.raise_red()
			self.assertEqual(frappe.local.lang, other)
		customer_name = frappe.db.get_value("Customer", self.customer, "customer_name")
		with in_language(site_language()):
			title = frappe._("{0}: {1}").format(frappe._("Health Turned Red"), customer_name)
			summary = frappe._("Health turned Red (score {0}).").format(30)
		self.assertEqual(alert.title, title)
		self.assertEqual(alert.summary, summary)
		todo = frappe.db.get_value(
			"ToDo", {"reference_type": ALERT, "reference_name": alert.name}, "description"
		)
		self.assertTrue(todo.startswith(title), todo)  # a playbook task's: "<title>: <task>"
		# and a save by a colleague in another language (Start Work, a resolve, the form)
		with in_language(other):
			alert.reload()
			alert.save()
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "title"), title)
		# and so does a rename's new title
		with in_language(other):
			service.name_alerts_after_customer(self.customer)
			frappe.db.set_value("CS Alert", alert.name, "customer_name", "stale")
			service.name_alerts_after_customer(self.customer)
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "title"), title)

	def test_on_a_chinese_site_a_nights_alert_and_its_tasks_are_in_chinese(self):
		"""The night runs in English; on a site whose language is Chinese the alert, its playbook's
		tasks (a shipped playbook's titles translated) and their ToDos are in Chinese."""
		from customer_success.utils import in_language

		with patch.object(service, "site_language", return_value="zh"), in_language("en"):
			alert = self.raise_red()
		customer_name = frappe.db.get_value("Customer", self.customer, "customer_name")
		colon = "\uff1a"  # the Chinese colon of "{0}: {1}"
		self.assertEqual(alert.title, f"健康度转红{colon}{customer_name}")
		self.assertTrue(alert.summary.startswith("健康度转为红"), alert.summary)
		self.assertTrue(alert.tasks)
		with in_language("zh"):
			playbook = frappe.get_doc("CS Playbook", alert.playbook)
			expected = [frappe._(task.title) for task in playbook.tasks]
		self.assertEqual([task.title for task in alert.tasks], expected)
		self.assertIn("阅读健康度说明及其背后的记录", expected)
		todos = frappe.get_all(
			"ToDo", filters={"reference_type": ALERT, "reference_name": alert.name}, pluck="description"
		)
		self.assertIn(f"{alert.title}{colon}{expected[0]}", todos)

	def test_health_dropped(self):
		health_queries.upsert_scores(
			[
				{
					"customer": self.customer,
					"model": defaults.DEFAULT_MODEL_NAME,
					"score_date": add_days(today(), -30),
					"score": 85,
					"status": "Green",
					"computed_score": 85,
					"computed_status": "Green",
					"explanation": "[]",
					"computed_on": now_datetime(),
				}
			]
		)
		set_health(self.customer, "Yellow", 75)
		self.assert_quiet("Health Dropped Sharply")
		set_health(self.customer, "Yellow", 65)
		health_queries.upsert_scores(
			[
				{
					"customer": self.customer,
					"model": defaults.DEFAULT_MODEL_NAME,
					"score_date": today(),
					"score": 65,
					"status": "Yellow",
					"computed_score": 65,
					"computed_status": "Yellow",
					"explanation": "[]",
					"computed_on": now_datetime(),
				}
			]
		)
		alert = self.assert_fires("Health Dropped Sharply")
		self.assertEqual(alert.severity, engine.MEDIUM)
		# the customer, whose form shows its score and history: a link that stays the same day to day
		self.assertIn(["Customer", self.customer], frappe.parse_json(alert.evidence)["records"])

	def test_renewal_at_risk_and_green_before_renewal(self):
		make_contract(self.customer, add_days(today(), -300), add_days(today(), 30))
		set_health(self.customer, "Yellow", 55)
		self.assertEqual(self.assert_fires("Renewal at Risk").severity, engine.HIGH)
		self.assert_quiet("Green Before Renewal")
		set_health(self.customer, "Green", 85)
		self.assert_fires("Green Before Renewal")

	def test_overdue_receivable(self):
		make_sales_invoice(
			self.customer, rate=1000, posting_date=add_days(today(), -100), due_date=add_days(today(), -60)
		)
		alert = self.assert_fires("Overdue Receivable")
		facts = frappe.parse_json(alert.evidence)["facts"]
		self.assertEqual(getdate(facts["oldest_due"]), add_days(today(), -60))
		self.assertNotIn("days_overdue", facts)  # a count would move every day; the date does not
		self.assertEqual(alert.evidence_digest, service.digest(alert.evidence))

	def test_overdue_receivable_quiet_when_small_and_recent(self):
		make_sales_invoice(
			self.customer, rate=1000, posting_date=add_days(today(), -20), due_date=add_days(today(), -5)
		)
		self.assert_quiet("Overdue Receivable")

	def test_milestones_overdue(self):
		plan = running_plan(self.customer, start_date=add_days(today(), -60), csm=CSM1)
		milestone = frappe.get_doc(
			{
				"doctype": "Success Plan Milestone",
				"success_plan": plan.name,
				"title": "Go live",
				"due_date": add_days(today(), 10),
			}
		).insert(ignore_permissions=True)
		self.assert_quiet("Milestones Overdue")
		frappe.db.set_value("Success Plan Milestone", milestone.name, "due_date", add_days(today(), -5))
		alert = self.assert_fires("Milestones Overdue")
		self.assertIn(
			["Success Plan Milestone", milestone.name], frappe.parse_json(alert.evidence)["records"]
		)

	def test_checkin_overdue(self):
		running_plan(self.customer, start_date=add_days(today(), -60), csm=CSM1)
		self.assert_quiet("Check-in Overdue")
		with change_settings(checkin_cadence_days=30):
			frappe.local.flags.pop("cs_alert_cache", None)
			self.assert_fires("Check-in Overdue")

	def test_no_touch(self):
		self.assert_quiet("No Touch")  # not live: nothing to miss yet
		make_sales_order(self.customer)
		alert = self.assert_fires("No Touch")
		self.assertIsNone(frappe.parse_json(alert.evidence)["facts"]["last_touch"])

	def test_key_stakeholder_left(self):
		champion = make_contact(self.customer, first_name="Champ")
		accepted_handoff(
			self.customer,
			stakeholders=[{"contact": champion.name, "stakeholder_name": "Champ", "is_champion": 1}],
		)
		self.assert_quiet("Key Stakeholder Left")
		frappe.db.set_value("Contact", champion.name, "cs_left_company", 1)
		alert = self.assert_fires("Key Stakeholder Left")
		self.assertIn(["Contact", champion.name], frappe.parse_json(alert.evidence)["records"])

	def test_key_stakeholder_unlinked(self):
		buyer = make_contact(self.customer, first_name="Buyer")
		accepted_handoff(
			self.customer,
			stakeholders=[{"contact": buyer.name, "stakeholder_name": "Buyer", "is_economic_buyer": 1}],
		)
		frappe.db.delete("Dynamic Link", {"parenttype": "Contact", "parent": buyer.name})
		self.assert_fires("Key Stakeholder Left")

	def test_objectives_achieved(self):
		objectives = [
			{
				"objective": "Adoption",
				"unit": "%",
				"direction": "Up",
				"baseline": 10,
				"target": 60,
				"current": 60,
			}
		]
		running_plan(self.customer, objectives=objectives, csm=CSM1)
		self.assertEqual(self.assert_fires("Objectives Achieved").kind, engine.EXPANSION)

	def test_onboarding_past_go_live(self):
		frappe.db.set_value("Customer", self.customer, "cs_lifecycle_stage", "Onboarding")
		accepted_handoff(self.customer, go_live=add_days(today(), -30))
		plan = running_plan(self.customer, start_date=add_days(today(), -60), csm=CSM1)
		self.assert_quiet("Onboarding Past Go-Live")  # no milestone open
		frappe.get_doc(
			{
				"doctype": "Success Plan Milestone",
				"success_plan": plan.name,
				"title": "Go live",
				"due_date": add_days(today(), 10),
			}
		).insert(ignore_permissions=True)
		self.assertEqual(self.assert_fires("Onboarding Past Go-Live").kind, engine.LIFECYCLE)


class TestNoiseControl(AlertsTestCase):
	def test_fires_again_updates_instead_of_duplicating(self):
		alert = self.raise_red()
		self.evaluate()
		self.evaluate()
		self.assertEqual(len(alerts_of(self.customer)), 1)
		set_health(self.customer, "Red", 12)
		self.evaluate()
		found = alerts_of(self.customer)
		self.assertEqual(len(found), 1)
		self.assertEqual(found[0].name, alert.name)
		# the same severity: the alert keeps the score it fired with (the Customer shows today's)
		self.assertIn("30", found[0].summary)
		# its severity moves (the rule's, edited): written again, with today's score
		frappe.db.set_value("CS Alert Rule", "Health Turned Red", "severity", engine.CRITICAL)
		self.evaluate()
		found = alerts_of(self.customer)
		self.assertEqual([(a.name, a.severity) for a in found], [(alert.name, engine.CRITICAL)])
		self.assertIn("12", found[0].summary)

	def test_the_next_day_rewrites_nothing_while_nothing_changed(self):
		"""The evidence holds dates, not day counts, and links the customer, not the day's score row:
		a night later the same facts give the same evidence, and the open alerts are left untouched."""
		make_sales_invoice(
			self.customer, rate=9000, posting_date=add_days(today(), -100), due_date=add_days(today(), -60)
		)
		set_health(self.customer, "Red", 20)
		for rule in ("Health Turned Red", "Overdue Receivable"):
			frappe.db.set_value("CS Alert Rule", rule, "enabled", 1)
		rule = frappe.qb.DocType("CS Alert Rule")
		frappe.qb.update(rule).set(rule.enabled, 0).where(
			rule.name.notin(("Health Turned Red", "Overdue Receivable"))
		).run()
		service.evaluate(self.customer, self.customer, {self.customer}, today=today())
		before = {a.name: (a.evidence, a.evidence_digest, a.summary) for a in alerts_of(self.customer)}
		self.assertEqual(len(before), 2)
		for evidence, evidence_digest, _summary in before.values():
			self.assertEqual(evidence_digest, service.digest(evidence))
		stamps = dict(frappe.get_all(ALERT, {"customer": self.customer}, ["name", "modified"], as_list=True))
		result = service.evaluate(self.customer, self.customer, {self.customer}, today=add_days(today(), 1))
		self.assertEqual((result["updated"], result["raised"], result["resolved"]), (0, 0, 0))
		after = {a.name: (a.evidence, a.evidence_digest, a.summary) for a in alerts_of(self.customer)}
		self.assertEqual(after, before)
		self.assertEqual(
			dict(frappe.get_all(ALERT, {"customer": self.customer}, ["name", "modified"], as_list=True)),
			stamps,
		)
		# a fact that really moved is written: the evidence, its digest and the summary; a score
		# that moved at the same colour is not (a health alert keeps the figures it fired with)
		make_sales_invoice(
			self.customer, rate=1000, posting_date=add_days(today(), -40), due_date=add_days(today(), -10)
		)
		set_health(self.customer, "Red", 12)
		result = service.evaluate(self.customer, self.customer, {self.customer}, today=add_days(today(), 1))
		self.assertEqual(result["updated"], 1)
		overdue = alerts_of(self.customer, rule="Overdue Receivable")[0]
		self.assertIn(service.money(10000.0), overdue.summary)
		self.assertEqual(overdue.evidence_digest, service.digest(overdue.evidence))
		red = alerts_of(self.customer, rule="Health Turned Red")[0]
		self.assertEqual((red.evidence, red.evidence_digest, red.summary), before[red.name])

	def test_database_refuses_a_second_open_alert_for_the_same_rule(self):
		alert = self.raise_red()
		copy = frappe.get_doc(
			{"doctype": ALERT, "customer": self.customer, "rule": alert.rule, "severity": "Low"}
		)
		self.assertRaises(frappe.UniqueValidationError, copy.insert, ignore_permissions=True)

	def test_snoozed_alert_stays_quiet_unless_severity_rises(self):
		only_rule("Health Dropped Sharply")
		rule = frappe.get_doc("CS Alert Rule", "Health Dropped Sharply")
		finding = engine.Finding(engine.MEDIUM, {"drop": 16, "days": 30, "score_then": 80, "score": 64})
		alert = service.raise_alert({"name": self.customer}, rule, finding, today(), service.alert_settings())
		alert.reload()
		alert.snoozed_until = add_days(today(), 10)
		alert.save()
		with (
			patch.object(service, "decider", return_value=lambda _customer: finding),
			patch.object(service, "customers_with_facts", return_value=None),
		):
			self.evaluate()
		self.assertEqual(
			getdate(frappe.db.get_value(ALERT, alert.name, "snoozed_until")), add_days(today(), 10)
		)
		higher = engine.Finding(engine.HIGH, {"drop": 40, "days": 30, "score_then": 80, "score": 40})
		with (
			patch.object(service, "decider", return_value=lambda _customer: higher),
			patch.object(service, "customers_with_facts", return_value=None),
		):
			self.evaluate()
		self.assertIsNone(frappe.db.get_value(ALERT, alert.name, "snoozed_until"))
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "severity"), engine.HIGH)

	def test_an_alert_whose_severity_rises_is_due_as_its_new_severity_would_be(self):
		only_rule("Health Dropped Sharply")
		rule = frappe.get_doc("CS Alert Rule", "Health Dropped Sharply")
		settings = service.alert_settings()
		low = engine.Finding(engine.LOW, {"drop": 16, "days": 30, "score_then": 80, "score": 64})
		alert = service.raise_alert({"name": self.customer}, rule, low, add_days(today(), -3), settings)
		raised_due = getdate(frappe.db.get_value(ALERT, alert.name, "due_date"))
		critical = engine.Finding(engine.CRITICAL, {"drop": 60, "days": 30, "score_then": 80, "score": 20})
		sooner = engine.due_date(engine.CRITICAL, today(), settings["due_days"])
		self.assertLess(sooner, raised_due, "the shipped due days make a Critical alert due sooner")
		todo = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": CSM1,
				"reference_type": ALERT,
				"reference_name": alert.name,
				"description": "work the alert",
				"date": raised_due,
			}
		).insert(ignore_permissions=True)
		with (
			patch.object(service, "decider", return_value=lambda _customer: critical),
			patch.object(service, "customers_with_facts", return_value=None),
		):
			self.evaluate()
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "severity"), engine.CRITICAL)
		self.assertEqual(getdate(frappe.db.get_value(ALERT, alert.name, "due_date")), sooner)
		self.assertEqual(getdate(frappe.db.get_value("ToDo", todo.name, "date")), sooner)
		for due in frappe.get_all(
			"CS Alert Task", filters={"parent": alert.name, "status": "Open"}, pluck="due_date"
		):
			self.assertLessEqual(getdate(due), sooner)
		# falling back to Low later does not push the dates out again
		with (
			patch.object(service, "decider", return_value=lambda _customer: low),
			patch.object(service, "customers_with_facts", return_value=None),
		):
			self.evaluate()
		self.assertEqual(getdate(frappe.db.get_value(ALERT, alert.name, "due_date")), sooner)

	def test_weekly_cap(self):
		with change_settings(max_new_alerts_per_week=1):
			frappe.local.flags.pop("cs_alert_cache", None)
			make_sales_order(self.customer)  # live, never touched: No Touch
			set_health(self.customer, "Red", 20)  # Health Turned Red
			rule = frappe.qb.DocType("CS Alert Rule")
			frappe.qb.update(rule).set(rule.enabled, 0).where(
				rule.name.notin(["No Touch", "Health Turned Red"])
			).run()
			self.evaluate()
			found = alerts_of(self.customer)
			self.assertEqual(len(found), 1)
			self.assertEqual(found[0].rule, "Health Turned Red")  # the more severe first

	def test_auto_resolve_when_condition_clears(self):
		alert = self.raise_red()
		set_health(self.customer, "Yellow", 50)
		self.evaluate()
		alert.reload()
		self.assertEqual(alert.status, engine.RESOLVED)
		self.assertTrue(alert.auto_resolved)
		self.assertTrue(alert.resolution)

	def test_a_night_without_a_colour_does_not_resolve_a_health_alert(self):
		"""Tester Z2: a Red customer's invoice cancelled made its score Insufficient Data one night:
		its Health Turned Red resolved ("condition cleared"), and when Red came back the weekly cap,
		full, held it. Unknown is not cleared: the alert stays open until a colour says so."""
		alert = self.raise_red()
		for status in ("Insufficient Data", ""):
			set_health(self.customer, status, 0)
			self.evaluate()
			self.assertEqual(frappe.db.get_value(ALERT, alert.name, "status"), engine.OPEN, status)
		set_health(self.customer, "Red", 20)
		self.evaluate()
		self.assertEqual(len(alerts_of(self.customer)), 1)  # the same alert, not a second one
		set_health(self.customer, "Green", 80)
		self.evaluate()
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "status"), engine.RESOLVED)

	def test_no_auto_resolve_when_rule_says_not(self):
		frappe.db.set_value("CS Alert Rule", "Health Turned Red", "auto_resolve", 0)
		alert = self.raise_red()
		set_health(self.customer, "Yellow", 50)
		self.evaluate()
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "status"), engine.OPEN)

	def test_dismissed_is_not_raised_again_during_cooldown(self):
		alert = self.raise_red()
		service.close(alert, engine.DISMISSED, "Known: billing dispute, handled by finance")
		self.evaluate()
		self.assertEqual(len(alerts_of(self.customer)), 1)
		frappe.db.set_value(ALERT, alert.name, "closed_on", add_days(now_datetime(), -31))
		self.evaluate()
		self.assertEqual(len(alerts_of(self.customer, status=engine.OPEN)), 1)

	def test_resolved_by_hand_is_not_raised_again_while_its_condition_holds(self):
		alert = self.raise_red()
		service.close(alert, engine.RESOLVED, "Called the sponsor; recovery plan agreed")
		self.evaluate()  # still red the next night: the same open condition
		self.assertEqual(len(alerts_of(self.customer)), 1)
		frappe.db.set_value(ALERT, alert.name, "closed_on", add_days(now_datetime(), -31))
		self.evaluate()  # past the cool-down and still red: raised again, a reminder
		self.assertEqual(len(alerts_of(self.customer, status=engine.OPEN)), 1)

	def test_resolved_by_itself_is_raised_again_when_the_condition_returns(self):
		alert = self.raise_red()
		frappe.db.set_value(
			ALERT,
			alert.name,
			{"status": engine.RESOLVED, "auto_resolved": 1, "open_key": None, "closed_on": now_datetime()},
		)
		self.evaluate()
		self.assertEqual(len(alerts_of(self.customer, status=engine.OPEN)), 1)

	def test_evidence_is_the_canonical_json_of_the_finding(self):
		# the text every stored digest was made from: sorted keys, no spaces, ASCII, dates as days
		finding = engine.Finding(
			"High",
			{
				"overdue": 1234.5,
				"oldest_due": getdate("2026-10-01"),
				"count": 3,
				"none": None,
				"flag": True,
				"who": 'Zoë "Z" O\'Brien',
				"metrics": [{"metric": "Seats", "percent": 95.25, "used": None}],
			},
			[("Customer", "C 1"), ("Sales Invoice", "SINV-0001")],
		)
		rule = frappe._dict(rule_type=engine.OVERDUE_RECEIVABLE)
		expected = json.dumps(
			{
				"rule_type": engine.OVERDUE_RECEIVABLE,
				"facts": {**finding.facts, "oldest_due": "2026-10-01"},
				"records": [["Customer", "C 1"], ["Sales Invoice", "SINV-0001"]],
			},
			sort_keys=True,
			separators=(",", ":"),
		)
		self.assertEqual(service.evidence_json(rule, finding), expected)
		with patch.object(service, "_C_EVIDENCE_ENCODER", None):  # a Python without the C encoder
			self.assertEqual(service.evidence_json(rule, finding), expected)

	def test_cooldowns_and_weekly_counts_read_the_same_by_name_and_by_range(self):
		# a name the driver must escape; the range read and the named read of both look-ups agree
		other = make_customer(f"{TEST_PREFIX} O'Brien {frappe.generate_hash(length=4)}", cs_owner=CSM1).name
		dismissed = self.raise_red()
		service.close(dismissed, engine.DISMISSED, "Known: billing dispute, handled by finance")
		self.raise_red(other)
		names = sorted([self.customer, other])
		lo, hi = names[0], names[-1]
		since = add_days(today(), -6)

		def ours(found):  # a range may hold other tests' customers
			return (
				{key for key in found if key[0] in names}
				if isinstance(found, set)
				else {customer: count for customer, count in found.items() if customer in names}
			)

		for customers in (names, None, []):
			# by name (or none): exactly those; by range: those of ours among whatever else is there
			only = ours if customers is None else (lambda found: found)
			with self.subTest(customers=customers):
				expected_dismissed = set() if customers == [] else {(self.customer, "Health Turned Red")}
				self.assertEqual(
					only(queries.recently_dismissed(lo, hi, since, customers)), expected_dismissed
				)
				expected_raised = {} if customers == [] else {self.customer: 1, other: 1}
				self.assertEqual(only(queries.raised_since(lo, hi, since, customers)), expected_raised)
		# more names than a query names: the range is read whole
		with patch.object(queries, "NAMED_CUSTOMERS_MAX", 1):
			self.assertEqual(ours(queries.raised_since(lo, hi, since, names)), {self.customer: 1, other: 1})
			self.assertEqual(
				ours(queries.recently_dismissed(lo, hi, since, names)), {(self.customer, "Health Turned Red")}
			)

	def test_one_customers_failure_is_logged_and_the_rest_go_on(self):
		other = make_customer(cs_owner=CSM2).name
		set_health(self.customer, "Red", 20)
		set_health(other, "Red", 20)
		only_rule("Health Turned Red")
		real = service.decider

		def broken(*args):
			decide = real(*args)

			def one(customer):
				if customer["name"] == self.customer:
					raise ValueError("bad data")
				return decide(customer)

			return one

		errors = frappe.db.count("Error Log")
		lo, hi = sorted([self.customer, other])
		with patch.object(service, "decider", side_effect=broken):
			result = service.evaluate(lo, hi, {self.customer, other})
		self.assertEqual(result["failed"], [self.customer])
		self.assertEqual(len(alerts_of(other)), 1)
		self.assertFalse(alerts_of(self.customer))
		self.assertGreater(frappe.db.count("Error Log"), errors)

	def test_after_health_run_queues_one_pass_per_day(self):
		self.assertIn(
			"customer_success.alerts.service.after_health_run", frappe.get_hooks("cs_after_health_run")
		)
		frappe.flags.in_test = False
		try:
			with patch("frappe.enqueue") as enqueue:
				service.after_health_run(run="R1", status="Completed", score_date=today())
		finally:
			frappe.flags.in_test = True
		kwargs = enqueue.call_args.kwargs
		self.assertEqual(enqueue.call_args.args[0], "customer_success.alerts.jobs.start_nightly_pass")
		self.assertEqual(kwargs["job_id"], f"cs-alerts-{today()}")
		self.assertEqual(kwargs["run"], "R1")  # its chunks ran the rules: only what they left is evaluated
		self.assertTrue(kwargs["deduplicate"])
		self.assertEqual(kwargs["queue"], "long")

	def test_nightly_pass_queues_one_job_per_range(self):
		with patch("frappe.enqueue") as enqueue:
			count = service.enqueue_ranges(str(today()))
		ranges = health_queries.customer_ranges(service.CHUNK_SIZE)
		self.assertEqual(count, len(ranges))
		self.assertEqual(
			[(c.kwargs["lo"], c.kwargs["hi"]) for c in enqueue.call_args_list], [tuple(r) for r in ranges]
		)
		self.assertEqual(len({c.kwargs["job_id"] for c in enqueue.call_args_list}), len(ranges))
		self.assertTrue(all(c.kwargs["queue"] == "long" for c in enqueue.call_args_list))


class TestPlaybooks(AlertsTestCase):
	def test_playbook_tasks_become_todos_and_move_progress(self):
		accepted_handoff(self.customer, sales_owner=SALES)
		alert = self.raise_red()
		playbook = frappe.get_doc("CS Playbook", alert.playbook)
		self.assertEqual(len(alert.tasks), len(playbook.tasks))
		for task, spec in zip(alert.tasks, playbook.tasks, strict=True):
			self.assertEqual(getdate(task.due_date), add_days(today(), spec.offset_days))
			self.assertEqual(frappe.db.get_value("ToDo", task.todo, "allocated_to"), task.assigned_to)
		self.assertIn(MANAGER, {t.assigned_to for t in alert.tasks})  # the CS Manager's review
		for task in alert.tasks[:-1]:
			todo = frappe.get_doc("ToDo", task.todo)
			todo.status = "Closed"
			todo.save(ignore_permissions=True)
		alert.reload()
		self.assertEqual((alert.tasks_done, alert.tasks_total), (len(alert.tasks) - 1, len(alert.tasks)))
		last = frappe.get_doc("ToDo", alert.tasks[-1].todo)
		last.status = "Closed"
		last.save(ignore_permissions=True)
		alert.reload()
		self.assertEqual(alert.progress, 100)

	def test_sales_owner_task_goes_to_sales_owner(self):
		accepted_handoff(self.customer, sales_owner=SALES)
		only_rule("Key Stakeholder Left")
		contact = make_contact(self.customer)
		frappe.db.set_value("Contact", contact.name, "cs_left_company", 1)
		accepted_handoff(
			self.customer, sales_owner=SALES, stakeholders=[{"contact": contact.name, "is_champion": 1}]
		)
		self.evaluate()
		alert = frappe.get_doc(ALERT, alerts_of(self.customer)[0].name)
		self.assertIn(SALES, [t.assigned_to for t in alert.tasks if t.assign_role == engine.SALES_OWNER])

	def test_a_sales_owner_given_a_task_can_open_the_alert_and_only_read_it(self):
		only_rule("Key Stakeholder Left")
		contact = make_contact(self.customer)
		frappe.db.set_value("Contact", contact.name, "cs_left_company", 1)
		accepted_handoff(
			self.customer, sales_owner=SALES, stakeholders=[{"contact": contact.name, "is_champion": 1}]
		)
		self.assertFalse(frappe.has_permission(ALERT, "read", user=SALES))  # no alert of theirs yet
		self.evaluate()  # the night's bulk write
		alert = frappe.get_doc(ALERT, alerts_of(self.customer)[0].name)
		self.assertIn(SALES, [t.assigned_to for t in alert.tasks])
		self.assertTrue(frappe.has_permission(ALERT, "read", doc=alert, user=SALES))
		self.assertFalse(frappe.has_permission(ALERT, "write", doc=alert, user=SALES))
		self.assertFalse(frappe.has_permission(ALERT, "read", doc=alert, user=CSM2))  # nobody else
		frappe.set_user(SALES)
		self.assertEqual(frappe.get_list(ALERT, pluck="name"), [alert.name])
		self.assertEqual(frappe.get_doc(ALERT, alert.name).customer, self.customer)
		frappe.set_user("Administrator")
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{"reference_name": alert.name, "comment_type": "Shared", "comment_email": "Administrator"},
			)
		)

	def test_a_csm_of_another_book_given_a_task_by_hand_can_read_that_alert(self):
		frappe.db.set_value("Customer", self.customer, "account_manager", CSM2)
		alert = self.raise_red()
		self.assertFalse(frappe.has_permission(ALERT, "read", doc=alert, user=CSM2))
		alert.tasks[0].assigned_to = CSM2  # the customer's Account Manager: one of its people
		alert.save()
		self.assertTrue(frappe.has_permission(ALERT, "read", doc=alert, user=CSM2))
		self.assertFalse(frappe.has_permission(ALERT, "write", doc=alert, user=CSM2))
		self.assertEqual(frappe.db.get_value("ToDo", alert.reload().tasks[0].todo, "allocated_to"), CSM2)
		# the task goes on, open, with its new person (it was marked Cancelled by its old ToDo's
		# cancelling, and the next save cancelled the new ToDo)
		total = alert.tasks_total
		self.assertEqual((alert.tasks[0].status, alert.tasks_total), ("Open", total))
		alert.tasks[1].description = "Call the sponsor first"
		alert.save()
		alert.reload()
		self.assertEqual(alert.tasks[0].status, "Open")
		self.assertEqual(
			frappe.db.get_value("ToDo", alert.tasks[0].todo, ["allocated_to", "status"]), (CSM2, "Open")
		)
		frappe.set_user(CSM2)
		self.assertIn(alert.name, frappe.get_list(ALERT, pluck="name"))
		other = frappe.get_list(ALERT, filters={"customer": self.customer, "name": ["!=", alert.name]})
		self.assertEqual(other, [])

	def test_a_website_user_as_account_manager_is_given_no_task(self):
		"""ERPNext lets a Customer's Account Manager be any User: a website user is nobody's person
		for an alert (its task would share the alert with them; frappe's Assign To is refused)."""
		from customer_success.tests.utils import make_portal_contact

		portal = make_portal_contact(self.customer, "alerts.portal@example.com").user
		frappe.db.set_value("Customer", self.customer, "account_manager", portal)
		self.assertNotIn(portal, service.people_of(self.customer).values())
		alert = self.raise_red()
		self.assertNotIn(portal, [task.assigned_to for task in alert.tasks])
		self.assertFalse(frappe.db.exists("DocShare", {"share_name": alert.name, "user": portal}))

	def test_a_cs_owner_who_cannot_work_alerts_is_given_none(self):
		# one who lost the CSM role (the night, as a bulk write)
		frappe.db.set_value("Customer", self.customer, "cs_owner", SALES)
		alert = self.raise_red()
		self.assertEqual((alert.csm, alert.assigned_to), (SALES, MANAGER))
		self.assertNotIn(SALES, {t.assigned_to for t in alert.tasks})
		self.assertEqual(
			frappe.get_all(
				"ToDo", filters={"reference_name": alert.name, "allocated_to": SALES, "status": "Open"}
			),
			[],
		)
		# one who was disabled (an alert raised by its document)
		other = make_customer(cs_owner=CSM2).name
		frappe.db.set_value("User", CSM2, "enabled", 0)
		hand_made = frappe.get_doc(
			{
				"doctype": ALERT,
				"customer": other,
				"kind": "Risk",
				"severity": "High",
				"summary": "Sponsor left",
			}
		).insert()
		self.assertEqual((hand_made.csm, hand_made.assigned_to), (CSM2, MANAGER))

	def test_an_alert_raised_by_hand_rings_each_person_once(self):
		"""A playbook gives the CSM several tasks of one alert: one bell for her, not one a task (as
		the nightly pass rings)."""
		hand_made = frappe.get_doc(
			{
				"doctype": ALERT,
				"customer": self.customer,
				"kind": "Risk",
				"severity": "High",
				"summary": "Sponsor left",
				"playbook": "Rescue a Red Account",  # three tasks for the CSM, one for a CS Manager
			}
		).insert()
		self.assertEqual(len([t for t in hand_made.tasks if t.assigned_to == CSM1]), 3)
		self.assertEqual(
			frappe.db.count(
				"Notification Log",
				{
					"for_user": CSM1,
					"document_type": ALERT,
					"document_name": hand_made.name,
					"type": "Assignment",
				},
			),
			1,
		)

	def test_resolving_closes_its_todos(self):
		alert = self.raise_red()
		service.close(alert, engine.RESOLVED, "Sponsor call done; recovery plan agreed")
		with self.assertRaisesRegex(frappe.ValidationError, "already"):  # its note is its history
			service.close(alert, engine.RESOLVED, "again")
		with self.assertRaisesRegex(frappe.ValidationError, "already"):  # nor snoozed
			service.snooze(alert, add_days(nowdate(), 5))
		self.assertEqual(
			frappe.db.get_value(ALERT, alert.name, "resolution"), "Sponsor call done; recovery plan agreed"
		)
		open_todos = frappe.get_all(
			"ToDo", filters={"reference_type": ALERT, "reference_name": alert.name, "status": "Open"}
		)
		self.assertFalse(open_todos)

	def test_a_closed_alerts_open_tasks_are_cancelled_by_hand_and_by_itself(self):
		accepted_handoff(self.customer, sales_owner=SALES)
		alert = self.raise_red()
		first = frappe.get_doc("ToDo", alert.tasks[0].todo)
		first.status = "Closed"
		first.save(ignore_permissions=True)
		alert.reload()
		service.close(alert, engine.DISMISSED, "Known: billing dispute, handled by finance")
		alert.reload()
		self.assertEqual([t.status for t in alert.tasks], ["Done"] + ["Cancelled"] * (len(alert.tasks) - 1))
		self.assertEqual((alert.tasks_done, alert.tasks_total, alert.progress), (1, 1, 100))
		# resolved by itself (the night's bulk path): the same
		other = make_customer(cs_owner=CSM1).name
		accepted_handoff(other, sales_owner=SALES)
		red = self.raise_red(other)
		set_health(other, "Yellow", 50)
		self.evaluate(other)
		red.reload()
		self.assertEqual(red.status, engine.RESOLVED)
		self.assertEqual({t.status for t in red.tasks}, {"Cancelled"})
		self.assertEqual((red.tasks_done, red.tasks_total, red.progress), (0, 0, 0))

	def test_a_customer_disabled_or_churned_has_its_open_alerts_resolved_and_raises_none(self):
		from customer_success.constants import CHURNED

		frappe.db.set_value("CS Alert Rule", "Health Turned Red", "auto_resolve", 0)
		alert = self.raise_red()
		customer = frappe.get_doc("Customer", self.customer)
		customer.cs_lifecycle_stage = CHURNED
		customer.save(ignore_permissions=True)
		alert.reload()
		self.assertEqual((alert.status, alert.auto_resolved), (engine.RESOLVED, 1))
		self.assertIn("churned", alert.resolution)
		self.evaluate()  # still red, but lost: no new alert
		self.assertEqual(len(alerts_of(self.customer, status=engine.OPEN)), 0)
		other = make_customer(cs_owner=CSM1).name
		red = self.raise_red(other)
		customer = frappe.get_doc("Customer", other)
		customer.disabled = 1
		customer.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value(ALERT, red.name, "status"), engine.RESOLVED)


class TestStandardPrint(AlertsTestCase):
	def test_the_standard_print_shows_no_internal_keys(self):
		"""The evidence as JSON, its digest and the open key are the app's own; the print shows the
		alert's summary (tester P)."""
		alert = self.raise_red()
		html = frappe.get_print(ALERT, alert.name, "Standard", doc=alert)
		self.assertIn(frappe.utils.escape_html(alert.summary or alert.title), html)
		for internal in (alert.evidence_digest, alert.open_key, '"records"'):
			self.assertNotIn(internal, html)


class TestNotifications(AlertsTestCase):
	"""The bell and ToDo for the assignee; the optional email is frappe's Notification on CS Alert
	(shipped switched off). Its sending is frappe's: the test checks it is asked to send."""

	def sent_for(self, enabled: bool):
		from frappe.email.doctype.notification.notification import Notification

		frappe.db.set_value("Notification", "New High-Severity CS Alert", "enabled", int(enabled))
		frappe.cache.hdel("notifications", ALERT)
		with patch.object(Notification, "send") as send:
			alert = self.raise_red()  # High
		frappe.cache.hdel("notifications", ALERT)
		return alert, [call.args[0].name for call in send.call_args_list]

	def test_assignee_gets_a_todo_and_optional_email_for_high_severity(self):
		alert, sent = self.sent_for(enabled=True)
		self.assertIn(alert.name, sent)
		self.assertTrue(
			frappe.db.exists(
				"ToDo",
				{
					"reference_type": ALERT,
					"reference_name": alert.name,
					"allocated_to": CSM1,
					"status": "Open",
				},
			)
		)

	def test_no_email_when_the_notification_is_off(self):
		_alert, sent = self.sent_for(enabled=False)
		self.assertFalse(sent)


class TestOpportunity(AlertsTestCase):
	def expansion_alert(self):
		"""An open Green Before Renewal alert (Expansion) of the test's customer."""
		make_contract(self.customer, add_days(today(), -300), add_days(today(), 60))
		set_health(self.customer, "Green", 90)
		only_rule("Green Before Renewal")
		self.evaluate()
		return frappe.get_doc(ALERT, alerts_of(self.customer)[0].name)

	def test_expansion_alert_creates_a_linked_opportunity(self):
		alert = self.expansion_alert()
		name = service.create_opportunity(alert)
		opportunity = frappe.get_doc("Opportunity", name)
		self.assertEqual((opportunity.opportunity_from, opportunity.party_name), ("Customer", self.customer))
		self.assertEqual(opportunity.opportunity_owner, CSM1)
		self.assertIn(alert.name, opportunity.notes[0].note)
		alert.reload()
		self.assertEqual(alert.opportunity, name)
		self.assertEqual(alert.status, engine.IN_PROGRESS)
		self.assertRaises(frappe.ValidationError, service.create_opportunity, alert)  # only once
		opportunity.status = "Lost"
		opportunity.append("lost_reasons", {"lost_reason": self.lost_reason()})
		opportunity.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "opportunity_status"), "Lost")
		# a status written past every hook (a plain set_value): the nightly pass and the form catch it
		frappe.db.set_value("Opportunity", name, "status", "Converted")
		queries.sync_opportunity_outcomes()  # the first step of the nightly pass
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "opportunity_status"), "Won")
		from customer_success.integrations.erpnext.opportunity import get_dashboard_data

		self.assertIn("CS Alert", str(get_dashboard_data({})))

	def test_an_opportunity_of_a_closed_alert_can_be_deleted_and_of_an_open_one_not(self):
		alert = self.expansion_alert()
		name = service.create_opportunity(alert)
		with self.assertRaises(frappe.LinkExistsError):  # the open alert holds it, as any link does
			frappe.delete_doc("Opportunity", name)
		service.close(frappe.get_doc(ALERT, alert.name), engine.RESOLVED, "Upsell handed to sales")
		frappe.delete_doc("Opportunity", name)
		self.assertFalse(frappe.db.exists("Opportunity", name))
		alert.reload()
		self.assertEqual(
			(alert.status, alert.opportunity, alert.opportunity_status), (engine.RESOLVED, None, "Open")
		)
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{"reference_name": alert.name, "comment_type": "Info", "content": ("like", f"%{name}%")},
			)
		)

	def test_an_opportunity_converted_by_erpnext_shows_on_its_alert_at_once(self):
		"""ERPNext moves an Opportunity's status with `set_status(update=True)` (a db_set) as its
		Quotation is made: that runs `on_change`, where the alert's outcome is taken."""
		alert = self.expansion_alert()
		name = service.create_opportunity(alert)
		frappe.get_doc("Opportunity", name).set_status(update=True, status="Converted")
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "opportunity_status"), "Won")

	def test_the_opportunity_takes_the_names_this_sites_types_and_stages_have(self):
		"""A site set up in another language has its Opportunity types named in it ("销售" on one set up
		in Chinese) while the Opportunity's defaults stay "Sales" and "Prospecting": the alert's
		Opportunity takes the names the site has (else none), and is made either way."""
		from erpnext.selling.doctype.customer import customer as erpnext_customer

		alert = self.expansion_alert()
		real = erpnext_customer.make_opportunity

		def with_defaults_this_site_lacks(customer):
			opportunity = real(customer)
			opportunity.opportunity_type, opportunity.sales_stage = f"{TEST_PREFIX} no type", None
			return opportunity

		with patch.object(erpnext_customer, "make_opportunity", side_effect=with_defaults_this_site_lacks):
			name = service.create_opportunity(alert)
		self.assertEqual(frappe.db.get_value("Opportunity", name, "opportunity_type"), "Sales")
		self.assertIsNone(service.named_as_on_this_site("Opportunity Type", "No Such Type", "No Such Either"))
		# the site's language's name, when the user's language has none
		translated = f"{TEST_PREFIX} 销售"
		if not frappe.db.exists("Opportunity Type", translated):
			frappe.get_doc({"doctype": "Opportunity Type", "__newname": translated}).insert()
		with (
			patch.object(frappe.db, "get_default", return_value="zh"),
			patch.object(
				service, "_", side_effect=lambda msg, lang=None: translated if lang == "zh" else msg
			),
		):
			self.assertEqual(
				service.named_as_on_this_site("Opportunity Type", "No Such Type", "Sales Untranslated"),
				translated,
			)

	def lost_reason(self):
		name = f"{TEST_PREFIX} too expensive"
		if not frappe.db.exists("Opportunity Lost Reason", name):
			frappe.get_doc({"doctype": "Opportunity Lost Reason", "lost_reason": name}).insert(
				ignore_permissions=True
			)
		return name

	def test_risk_alert_creates_no_opportunity(self):
		alert = self.raise_red()
		self.assertRaises(frappe.ValidationError, service.create_opportunity, alert)


class TestAccessAndBadInput(AlertsTestCase):
	def test_csm_sees_and_works_only_their_book(self):
		mine = self.raise_red()
		theirs_customer = make_customer(cs_owner=CSM2).name
		theirs = self.raise_red(theirs_customer)
		frappe.set_user(CSM1)
		names = set(frappe.get_list(ALERT, pluck="name"))
		self.assertIn(mine.name, names)
		self.assertNotIn(theirs.name, names)
		self.assertFalse(frappe.has_permission(ALERT, "read", doc=frappe.get_doc(ALERT, theirs.name)))
		from customer_success.alerts import api

		self.assertRaises(frappe.PermissionError, api.resolve, theirs.name, "not mine")
		self.assertRaises(frappe.PermissionError, api.evaluate_customer, theirs_customer)
		api.start_work(mine.name)
		self.assertEqual(frappe.db.get_value(ALERT, mine.name, "status"), engine.IN_PROGRESS)
		frappe.set_user(MANAGER)
		names = set(frappe.get_list(ALERT, pluck="name"))
		self.assertTrue({mine.name, theirs.name} <= names)

	def test_open_alerts_follow_the_customer_to_its_new_csm(self):
		alert = self.raise_red()
		frappe.db.set_value("Customer", self.customer, "cs_owner", CSM2)
		queries.sync_alert_csms()  # a step of the nightly pass
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "csm"), CSM2)
		frappe.set_user(CSM2)
		self.assertIn(alert.name, frappe.get_list(ALERT, pluck="name"))
		frappe.set_user(CSM1)
		self.assertNotIn(alert.name, frappe.get_list(ALERT, pluck="name"))

	def test_customer_form_lists_open_alerts(self):
		from customer_success.alerts import api
		from customer_success.integrations.erpnext.customer import get_dashboard_data

		alert = self.raise_red()
		frappe.set_user(CSM1)
		self.assertEqual([a.name for a in api.customer_alerts(self.customer)], [alert.name])
		self.assertIn("CS Alert", str(get_dashboard_data({})))
		frappe.set_user(SALES)  # may read the customer, not alerts: the form shows none, no error
		self.assertEqual(api.customer_alerts(self.customer), [])

	def test_resolving_needs_a_note_and_dismissing_a_reason(self):
		alert = self.raise_red()
		self.assertRaises(frappe.ValidationError, service.close, alert, engine.RESOLVED, "  ")
		alert.reload()
		self.assertRaises(frappe.ValidationError, service.close, alert, engine.DISMISSED, "")
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "status"), engine.OPEN)

	def test_closed_alert_stays_closed(self):
		alert = self.raise_red()
		service.close(alert, engine.RESOLVED, "done")
		alert.status = engine.OPEN
		self.assertRaises(frappe.ValidationError, alert.save)

	def test_snooze_must_be_in_the_future(self):
		alert = self.raise_red()
		self.assertRaises(frappe.ValidationError, service.snooze, alert, nowdate())

	def test_rule_rejects_negative_thresholds_and_missing_severity(self):
		def rule(**fields):
			return frappe.get_doc(
				{
					"doctype": "CS Alert Rule",
					"rule_name": f"{TEST_PREFIX} rule {frappe.generate_hash(length=5)}",
					"rule_type": engine.HEALTH_DROP,
					"severity": engine.MEDIUM,
					"threshold": 10,
					"days": 30,
					**fields,
				}
			)

		self.assertRaisesRegex(frappe.ValidationError, "Threshold", rule(threshold=-5).insert)
		self.assertRaisesRegex(frappe.ValidationError, "Days", rule(days=-1).insert)
		self.assertRaisesRegex(frappe.ValidationError, "Severity", rule(severity="").insert)
		self.assertEqual(rule().insert().kind, engine.RISK)

	def test_playbook_rejects_negative_offsets(self):
		doc = frappe.get_doc(
			{
				"doctype": "CS Playbook",
				"playbook_name": f"{TEST_PREFIX} playbook",
				"tasks": [{"title": "Call", "offset_days": -2, "assign_to": "CSM"}],
			}
		)
		self.assertRaises(frappe.ValidationError, doc.insert)

	def test_every_rule_kind_is_shipped(self):
		types = set(frappe.get_all("CS Alert Rule", pluck="rule_type"))
		self.assertLessEqual(set(engine.RULE_TYPES), types)
		# the usage room's expansion rule ships enabled
		self.assertEqual(
			frappe.db.get_value("CS Alert Rule", {"rule_type": engine.USAGE_NEAR_ENTITLEMENT}, "enabled"), 1
		)


class TestShippedDefaults(AlertsTestCase):
	def tearDown(self):
		super().tearDown()
		frappe.defaults._clear_cache("__default")  # the rolled-back default must not linger in the cache

	def test_shipped_rules_are_not_overwritten_nor_brought_back(self):
		frappe.db.set_value("CS Alert Rule", "No Touch", {"days": 99, "severity": engine.LOW})
		frappe.delete_doc("CS Alert Rule", "Check-in Overdue", ignore_permissions=True)
		defaults.make_default_alert_rules()
		self.assertEqual(frappe.db.get_value("CS Alert Rule", "No Touch", "days"), 99)
		self.assertFalse(frappe.db.exists("CS Alert Rule", "Check-in Overdue"))
		self.assertEqual(frappe.db.count("CS Playbook Task", {"parent": "Hold the Check-in"}), 1)

	def test_every_shipped_rule_has_its_playbook_and_severity(self):
		for rule in frappe.get_all("CS Alert Rule", fields=["name", "playbook", "severity", "enabled"]):
			if rule.name.startswith(TEST_PREFIX):
				continue
			self.assertTrue(rule.playbook and rule.severity and rule.enabled, rule.name)


class TestBulkWrites(AlertsTestCase):
	"""The pass writes alerts set-based: what it writes is what a saved document would hold."""

	def open_todo_users(self, name):
		return frappe.get_all(
			"ToDo",
			filters={"reference_type": ALERT, "reference_name": name, "status": "Open"},
			pluck="allocated_to",
			order_by="creation asc",
		)

	def test_a_raised_alert_is_what_its_document_would_be(self):
		accepted_handoff(self.customer, sales_owner=SALES)
		bulk = self.raise_red()
		by_hand = make_customer(cs_owner=CSM1).name
		accepted_handoff(by_hand, sales_owner=SALES)
		set_health(by_hand, "Red", 30)
		rule = frappe.get_doc("CS Alert Rule", "Health Turned Red")
		finding = engine.Finding(engine.HIGH, {"status": "Red", "score": 30})
		customer = frappe.db.get_value(
			"Customer", by_hand, ["name", "customer_name", "cs_owner", "account_manager"], as_dict=True
		)
		document = service.raise_alert(customer, rule, finding, today(), service.alert_settings())
		document.reload()
		for field in ("kind", "rule", "status", "severity", "csm", "assigned_to", "due_date", "playbook"):
			self.assertEqual(bulk.get(field), document.get(field), field)
		self.assertEqual(
			bulk.title,
			f"Health Turned Red: {frappe.db.get_value('Customer', self.customer, 'customer_name')}",
		)
		self.assertEqual(bulk.open_key, f"{self.customer}::Health Turned Red")
		self.assertEqual((bulk.tasks_done, bulk.tasks_total, bulk.progress), (0, len(bulk.tasks), 0))
		self.assertEqual(
			[
				(t.title, t.assign_role, t.assigned_to, t.due_date, t.status, t.csm, t.alert_open)
				for t in bulk.tasks
			],
			[
				(t.title, t.assign_role, t.assigned_to, t.due_date, t.status, t.csm, t.alert_open)
				for t in document.tasks
			],
		)
		self.assertTrue(bulk.tasks and all(t.alert_open for t in bulk.tasks))  # the CSM Workload counts them
		# `_assign` is what Frappe keeps, each user once: the users of the open ToDos
		self.assertEqual(
			sorted(frappe.parse_json(bulk._assign)), sorted(set(self.open_todo_users(bulk.name)))
		)
		self.assertEqual(sorted(frappe.parse_json(bulk._assign)), sorted(frappe.parse_json(document._assign)))
		for task in bulk.tasks:
			todo = frappe.get_doc("ToDo", task.todo)
			self.assertEqual(
				(todo.allocated_to, todo.date, todo.status), (task.assigned_to, task.due_date, "Open")
			)
		# the timeline and the bell, as assigning through Frappe leaves them
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{"reference_doctype": ALERT, "reference_name": bulk.name, "comment_type": "Assigned"},
			)
		)
		self.assertTrue(
			frappe.db.exists(
				"Notification Log",
				{"for_user": CSM1, "document_type": ALERT, "document_name": bulk.name, "type": "Assignment"},
			)
		)
		# and the ToDos drive it as a document's do: closing one moves the progress
		todo = frappe.get_doc("ToDo", bulk.tasks[0].todo)
		todo.status = "Closed"
		todo.save(ignore_permissions=True)
		bulk.reload()
		self.assertEqual(bulk.tasks_done, 1)
		self.assertEqual(
			sorted(frappe.parse_json(bulk._assign) or []), sorted(set(self.open_todo_users(bulk.name)))
		)

	def test_many_customers_raise_in_one_pass_with_names_from_the_series(self):
		customers = sorted(make_customer(cs_owner=CSM1 if i % 2 else CSM2).name for i in range(4))
		for name in customers:
			set_health(name, "Red", 20)
		only_rule("Health Turned Red")
		result = service.evaluate(customers[0], customers[-1], set(customers))
		self.assertEqual(result["raised"], 4)
		names = [alerts_of(c)[0].name for c in customers]
		self.assertEqual(len(set(names)), 4)
		self.assertTrue(all(n.startswith(f"CS-AL-{today().year}-") for n in names))
		# the series moved past them: the next document's name is new
		next_one = service.raise_alert(
			{"name": make_customer().name},
			frappe.get_doc("CS Alert Rule", "Health Turned Red"),
			engine.Finding(engine.HIGH, {"score": 1}),
			today(),
			service.alert_settings(),
		)
		self.assertNotIn(next_one.name, names)
		self.assertEqual({frappe.db.get_value(ALERT, n, "assigned_to") for n in names}, {CSM1, CSM2})

	def test_a_bulk_failure_falls_back_to_one_by_one_and_isolates_the_customer(self):
		set_health(self.customer, "Red", 20)
		other = make_customer(cs_owner=CSM2).name
		set_health(other, "Red", 20)
		only_rule("Health Turned Red")
		lo, hi = sorted([self.customer, other])
		errors = frappe.db.count("Error Log")
		real = service.raise_alert

		def fails_for_one(customer, *args, **kwargs):
			if customer["name"] == self.customer:
				raise ValueError("this customer's data breaks the alert")
			return real(customer, *args, **kwargs)

		# the bulk insert fails (for one customer's data), then each alert is raised alone
		with (
			patch.object(service, "insert_alerts", side_effect=ValueError("bulk")),
			patch.object(service, "raise_alert", side_effect=fails_for_one),
		):
			result = service.evaluate(lo, hi, {self.customer, other})
		self.assertEqual(result["failed"], [self.customer])
		self.assertEqual(result["raised"], 1)
		self.assertEqual(alerts_of(self.customer), [])
		self.assertEqual(len(alerts_of(other)), 1)
		self.assertGreater(frappe.db.count("Error Log"), errors)

	def three_red_alerts(self) -> tuple[list[str], list[str]]:
		"""Three customers of CSM1 turned Red, each with its open alert: (customers, alert names)."""
		customers = sorted(make_customer(cs_owner=CSM1).name for _ in range(3))
		for name in customers:
			set_health(name, "Red", 30)
		only_rule("Health Turned Red")
		service.evaluate(customers[0], customers[-1], set(customers))
		return customers, [alerts_of(c)[0].name for c in customers]

	def test_updates_and_resolutions_are_written_in_bulk(self):
		customers, names = self.three_red_alerts()
		alerts = dict(zip(customers, names, strict=True))
		set_health(customers[0], "Red", 10)  # fires again at the same severity: keeps its figures
		set_health(customers[1], "Yellow", 60)  # cleared: resolves itself
		result = service.evaluate(customers[0], customers[-1], set(customers))
		self.assertEqual((result["updated"], result["resolved"], result["raised"]), (0, 1, 0))
		self.assertIn("30", frappe.db.get_value(ALERT, alerts[customers[0]], "summary"))
		# the rule's severity edited: the two still Red are written again, with today's figures
		frappe.db.set_value("CS Alert Rule", "Health Turned Red", "severity", engine.CRITICAL)
		result = service.evaluate(customers[0], customers[-1], set(customers))
		self.assertEqual((result["updated"], result["resolved"], result["raised"]), (2, 0, 0))
		updated = frappe.db.get_value(ALERT, alerts[customers[0]], ["severity", "summary"], as_dict=True)
		self.assertEqual(updated.severity, engine.CRITICAL)
		self.assertIn("10", updated.summary)
		self.assertEqual(frappe.db.get_value(ALERT, alerts[customers[2]], "severity"), engine.CRITICAL)
		resolved = frappe.get_doc(ALERT, alerts[customers[1]])
		self.assertEqual((resolved.status, resolved.auto_resolved), (engine.RESOLVED, 1))
		self.assertTrue(resolved.resolution and resolved.closed_on)
		self.assertFalse(resolved.open_key or resolved._assign)
		self.assertFalse(self.open_todo_users(resolved.name))
		self.assertTrue(frappe.db.exists("Version", {"ref_doctype": ALERT, "docname": resolved.name}))
		self.assertEqual(frappe.db.get_value(ALERT, alerts[customers[2]], "status"), engine.OPEN)
		# a resolved alert's (customer, rule) may be raised again when the rule fires again
		set_health(customers[1], "Red", 25)
		service.evaluate(customers[0], customers[-1], set(customers))
		self.assertEqual(len(alerts_of(customers[1], status=engine.OPEN)), 1)

	def test_bulk_updates_write_exactly_what_they_carry_and_only_on_open_alerts(self):
		_customers, names = self.three_red_alerts()
		frappe.db.set_value(ALERT, names[1], "snoozed_until", add_days(today(), 5), update_modified=False)
		frappe.db.set_value(ALERT, names[2], "status", engine.DISMISSED, update_modified=False)
		# text a literal must carry as it is: quotes, a backslash, a newline, non-ASCII, an emoji
		odd = 'O\'Brien \\ "quoted"\nZürich \u2013 東京 😀'
		evidence = json.dumps({"facts": {"note": odd}, "records": [], "rule_type": "x"}, sort_keys=True)
		rows = [
			{
				"name": name,
				"severity": engine.CRITICAL,
				"summary": f"{odd} {i}",
				"evidence": evidence,
				"evidence_digest": service.digest(evidence),
				"wake": i == 1,
			}
			for i, name in enumerate(names)
		]
		now = now_datetime()
		# one batch of three, each alert's statement alone: its literal passes the (lowered) limit
		with (
			patch.object(health_queries, "MAX_LITERAL", 600),
			patch.object(health_queries, "execute_literal", wraps=health_queries.execute_literal) as sent,
		):
			queries.update_alerts(rows, now, "Administrator", batch=3)
		self.assertEqual(sent.call_count, 3)
		for i, name in enumerate(names[:2]):
			stored = frappe.db.get_value(
				ALERT,
				name,
				[
					"severity",
					"summary",
					"evidence",
					"evidence_digest",
					"snoozed_until",
					"evidence_updated_on",
				],
				as_dict=True,
			)
			self.assertEqual(
				(stored.severity, stored.summary, stored.evidence, stored.evidence_digest),
				(engine.CRITICAL, f"{odd} {i}", evidence, service.digest(evidence)),
			)
			self.assertEqual(stored.evidence_updated_on, now)
		self.assertIsNone(frappe.db.get_value(ALERT, names[1], "snoozed_until"))  # woken
		# a dismissed alert is no longer open: left as it was
		dismissed = frappe.db.get_value(ALERT, names[2], ["severity", "summary"], as_dict=True)
		self.assertNotEqual(dismissed.severity, engine.CRITICAL)
		self.assertNotIn(odd, dismissed.summary)

	def test_bulk_inserts_write_every_value_as_given(self):
		odd = 'O\'Brien \\ "q"\nZürich 😀 %s %(x)s'
		name = f"{TEST_PREFIX} bulk {frappe.generate_hash(length=8)}"
		when = now_datetime()

		def row(name):
			return {
				"name": name,
				"creation": when,
				"modified": when,
				"owner": "Administrator",
				"modified_by": "Administrator",
				"docstatus": 0,
				"status": "Open",
				"priority": "Medium",
				"date": today(),
				"allocated_to": CSM1,
				"description": odd,
				"reference_type": ALERT,
				"reference_name": None,
				"assigned_by": "Administrator",
				"assigned_by_full_name": odd,
			}

		# a batch of three whose text passes the (lowered) limit: written in halves
		with (
			patch.object(health_queries, "MAX_LITERAL", 1500),
			patch.object(health_queries, "execute_literal", wraps=health_queries.execute_literal) as sent,
		):
			queries.insert_rows("ToDo", [row(name), row(f"{name} 2"), row(f"{name} 3")], batch=10)
		self.assertGreater(sent.call_count, 1)
		self.assertEqual(frappe.db.count("ToDo", {"name": ("like", f"{name}%")}), 3)
		stored = frappe.db.get_value(
			"ToDo",
			name,
			["description", "date", "creation", "reference_name", "assigned_by_full_name"],
			as_dict=True,
		)
		self.assertEqual(
			(stored.description, stored.date, stored.creation, stored.reference_name),
			(odd, today(), when, None),
		)
		self.assertEqual(stored.assigned_by_full_name, odd)

	def test_webhooks_and_notifications_hear_of_bulk_raised_alerts(self):
		from frappe.email.doctype.notification.notification import Notification

		webhook = frappe.get_doc(
			{
				"doctype": "Webhook",
				"name": f"{TEST_PREFIX} chat {frappe.generate_hash(length=6)}",
				"webhook_doctype": ALERT,
				"webhook_docevent": "after_insert",
				"request_url": "https://chat.example.com/hooks/cs",
				"request_structure": "Form URL-Encoded",
				"webhook_data": [{"fieldname": "name", "key": "alert"}],
			}
		).insert(ignore_permissions=True)
		frappe.cache.delete_value("webhooks")
		frappe.db.set_value("Notification", "New High-Severity CS Alert", "enabled", 1)
		frappe.cache.hdel("notifications", ALERT)
		frappe.local._webhook_queue = None
		try:
			with patch.object(Notification, "send") as send:
				alert = self.raise_red()
			self.assertIn(alert.name, [call.args[0].name for call in send.call_args_list])
			queued = getattr(frappe.local, "_webhook_queue", None) or []
			self.assertIn((webhook.name, alert.name), {(e.webhook.name, e.doc.name) for e in queued})
		finally:
			frappe.local._webhook_queue = None
			frappe.cache.delete_value("webhooks")
			frappe.cache.hdel("notifications", ALERT)


class TestAlertCards(AlertsTestCase):
	"""The workspace's alert cards and charts: a CSM's count her book, a CS Manager's everyone's."""

	def test_cards_count_her_book_for_a_csm_and_everyone_for_a_manager(self):
		from customer_success.alerts import api
		from customer_success.alerts.dashboard_chart_source.alerts_opened_vs_resolved_per_week import (
			alerts_opened_vs_resolved_per_week as weekly,
		)
		from customer_success.alerts.dashboard_chart_source.open_alerts_by_severity import (
			open_alerts_by_severity as by_severity,
		)

		frappe.set_user(MANAGER)
		team_before = api.open_alerts()["value"]
		opened_before = weekly.get()["datasets"][0]["values"][-1]
		resolved_before = weekly.get()["datasets"][1]["values"][-1]
		frappe.set_user("Administrator")
		mine = self.raise_red()  # High
		theirs = self.raise_red(make_customer(cs_owner=CSM2).name)
		frappe.set_user(CSM1)
		card = api.open_alerts()
		self.assertEqual(card["value"], 1)
		self.assertIn("my book", card["label"])
		self.assertEqual(api.critical_and_high_alerts()["value"], 1)
		self.assertEqual(api.overdue_alerts()["value"], 0)
		chart = by_severity.get()
		self.assertEqual(sum(chart["datasets"][0]["values"]), 1)
		self.assertEqual(chart["datasets"][0]["values"][engine.SEVERITIES.index(engine.HIGH)], 1)
		self.assertIn("my book", chart["label"])
		self.assertEqual(weekly.get()["datasets"][0]["values"][-1], 1)
		frappe.set_user(MANAGER)
		card = api.open_alerts()
		self.assertEqual(card["value"], team_before + 2)
		self.assertIn("team", card["label"])
		self.assertEqual(weekly.get()["datasets"][0]["values"][-1], opened_before + 2)
		frappe.set_user("Administrator")
		service.close(mine, engine.RESOLVED, "Sponsor call held; plan agreed.")
		frappe.db.set_value(ALERT, theirs.name, "due_date", add_days(today(), -1))
		frappe.set_user(MANAGER)
		self.assertEqual(weekly.get()["datasets"][1]["values"][-1], resolved_before + 1)
		self.assertEqual(api.open_alerts()["value"], team_before + 1)
		self.assertGreaterEqual(api.overdue_alerts()["value"], 1)
		frappe.set_user(CSM1)
		self.assertEqual(api.open_alerts()["value"], 0)
		self.assertEqual(weekly.get()["datasets"][1]["values"][-1], 1)

	def test_the_workspace_places_the_alert_cards_and_charts(self):
		workspace = frappe.get_doc("Workspace", "Customer Success")
		cards = {row.number_card_name for row in workspace.number_cards}
		charts = {row.chart_name for row in workspace.charts}
		self.assertTrue({"Open Alerts", "Critical and High Alerts", "Overdue Alerts"} <= cards)
		self.assertTrue({"Open Alerts by Severity", "Alerts Opened vs Resolved per Week"} <= charts)
		for name in ("Open Alerts", "Critical and High Alerts", "Overdue Alerts"):
			card = frappe.get_doc("Number Card", name)
			self.assertEqual((card.type, card.document_type), ("Custom", ALERT), name)


class TestSettingsBounds(AlertsTestCase):
	def test_alert_settings_refuse_negative_values(self):
		for field in ("max_new_alerts_per_week", "alert_dismiss_cooldown_days", "alert_due_days_high"):
			settings = frappe.get_single("Customer Success Settings")
			settings.set(field, -1)
			self.assertRaises(frappe.ValidationError, settings.save, ignore_permissions=True)


class TestReplacedWidgets(AlertsTestCase):
	def test_the_patch_removes_the_replaced_card_and_charts_only(self):
		from customer_success.patches.v0_2 import remove_replaced_alert_widgets as patch_module

		if not frappe.db.exists("Number Card", "My Open Alerts"):
			frappe.get_doc(
				{
					"doctype": "Number Card",
					"name": "My Open Alerts",
					"label": "My Open Alerts",
					"type": "Document Type",
					"document_type": ALERT,
					"function": "Count",
					"module": "Alerts",
				}
			).insert(ignore_permissions=True)
		patch_module.execute()
		self.assertFalse(frappe.db.exists("Number Card", "My Open Alerts"))
		self.assertTrue(frappe.db.exists("Number Card", "Open Alerts"))
		self.assertTrue(frappe.db.exists("Dashboard Chart", "Open Alerts by Severity"))


class TestSummaryFigures(FrappeTestCase):
	def test_summaries_read_as_figures_and_dates_not_raw_values(self):
		finding = engine.Finding(
			severity=engine.MEDIUM,
			facts={
				"metrics": [
					{"metric": "Seats", "used": 9.4666666667, "entitlement": 10.0, "percent": 94.666666667}
				]
			},
		)
		rule = frappe._dict(rule_type=engine.USAGE_NEAR_ENTITLEMENT)
		summary = service.summary_of(rule, finding)
		self.assertIn("Seats: 9.5 of 10 used (94.7%)", summary)
		self.assertNotRegex(summary, r"\d\.\d{2,}")
		late = frappe._dict(rule_type=engine.ONBOARDING_LATE)
		text = service.summary_of(
			late,
			engine.Finding(severity=engine.HIGH, facts={"go_live": "2026-03-05", "open_milestones": 2}),
		)
		self.assertIn(frappe.format_value(getdate("2026-03-05"), {"fieldtype": "Date"}), text)
		for amount in (0, 29743.0, 1234.5678, -12.3):  # the pass's own formatting, as a Currency field
			self.assertEqual(service.money(amount), frappe.format_value(amount, {"fieldtype": "Currency"}))
		self.assertEqual(service.readable(None), "\u2013")
		self.assertEqual(service.readable(3.0), "3")
		self.assertEqual(
			[service.readable(v) for v in (2.25, 2.25, 41.96, 41.96)], ["2.2", "2.2", "42", "42"]
		)

	def test_a_sentence_and_its_terms_in_one_language(self):
		"""A German site: the app ships no German sentences, frappe translates "Red" ("Rot"): the
		summary read "health is Rot" in an English sentence (tester II). In Chinese both are."""
		from customer_success.utils import in_language

		def at_risk():
			service._FORMATTED.clear()
			return service.summary_of(
				frappe._dict(rule_type=engine.RENEWAL_AT_RISK),
				engine.Finding(engine.HIGH, {"contract_end": "2027-02-28", "status": "Red"}),
			)

		with in_language("de"):
			self.assertEqual(frappe._("Red"), "Rot")  # frappe's own German
			self.assertRegex(at_risk(), r"and health is Red\.$")
		with in_language("zh"):
			self.assertIn(frappe._("Red"), at_risk())
			self.assertNotIn("health is", at_risk())
		service._FORMATTED.clear()

	def test_a_count_of_one_reads_in_the_singular(self):
		def summary(rule_type, **facts):
			return service.summary_of(frappe._dict(rule_type=rule_type), engine.Finding(engine.MEDIUM, facts))

		due = "2026-11-20"
		shown = frappe.format_value(getdate(due), {"fieldtype": "Date"})
		self.assertEqual(
			summary(engine.MILESTONES_OVERDUE, count=1, oldest_due=due),
			f"A milestone is overdue (it was due {shown}).",
		)
		self.assertIn("2 milestones are overdue", summary(engine.MILESTONES_OVERDUE, count=2, oldest_due=due))
		self.assertIn(
			"on the running plan (cadence 90 days)",
			summary(engine.CHECKIN_OVERDUE, plans=1, since=due, cadence_days=90),
		)
		self.assertIn(
			"on 3 running plans", summary(engine.CHECKIN_OVERDUE, plans=3, since=due, cadence_days=90)
		)
		self.assertEqual(
			summary(engine.OBJECTIVES_ACHIEVED, plans=1, objectives=1),
			"The objective of the running plan is achieved.",
		)
		self.assertEqual(
			summary(engine.OBJECTIVES_ACHIEVED, plans=1, objectives=4),
			"All 4 objectives of the running plan are achieved.",
		)
		self.assertEqual(
			summary(engine.NPS_DETRACTOR, answers=1, lowest=5, latest_on=due),
			f"A detractor NPS answer in the window: 5 (on {shown}).",
		)
		self.assertIn(
			"2 detractor NPS answers", summary(engine.NPS_DETRACTOR, answers=2, lowest=3, latest_on=due)
		)

	def test_amounts_show_the_currency_symbol_as_frappe_shows_it(self):
		"""The symbol is decided once a pass (`money_settings`), as `fmt_money` decides it per amount:
		on the left, on the right, or hidden by the site's setting."""
		currency = frappe.db.get_default("currency")
		self.assertTrue(currency)
		on_right = frappe.db.get_value("Currency", currency, "symbol_on_right")
		hidden = frappe.db.get_default("hide_currency_symbol")
		try:
			for right, hide in ((0, "No"), (1, "No"), (0, "Yes")):
				frappe.db.set_value("Currency", currency, "symbol_on_right", right)
				frappe.db.set_default("hide_currency_symbol", hide)
				frappe.clear_cache()
				service._FORMATTED.clear()  # a new pass
				for amount in (0, 29743.0, -12.3):
					self.assertEqual(
						service.money(amount),
						frappe.format_value(amount, {"fieldtype": "Currency", "options": None}),
						(right, hide, amount),
					)
				if hide == "No":
					self.assertIn(
						frappe.db.get_value("Currency", currency, "symbol") or currency, service.money(5)
					)
			# the session user's own default wins over the site's, as in `fmt_money`
			frappe.db.set_value("Currency", currency, "symbol_on_right", 0)
			frappe.db.set_default("hide_currency_symbol", "No")
			frappe.defaults.set_user_default("hide_currency_symbol", "Yes")
			frappe.clear_cache()
			service._FORMATTED.clear()
			self.assertEqual(service.money(7.5), frappe.format_value(7.5, {"fieldtype": "Currency"}))
			self.assertNotIn(
				frappe.db.get_value("Currency", currency, "symbol") or currency, service.money(7.5)
			)
		finally:
			frappe.defaults.clear_user_default("hide_currency_symbol")
			frappe.db.set_value("Currency", currency, "symbol_on_right", on_right)
			frappe.db.set_default("hide_currency_symbol", hidden)
			frappe.clear_cache()
			service._FORMATTED.clear()
