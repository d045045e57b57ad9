"""What a save may change of an alert: its customer and rule are fixed once it is raised, a closed
alert is its history (only an advocacy ask's answer is still taken), its assignee can open it (and
takes its ToDo), a snooze lasts a year at most, and the names its alerts show after the customer's
changes."""

import json

import frappe
from frappe.model.rename_doc import rename_doc
from frappe.utils import add_days

from customer_success.alerts import engine, service
from customer_success.alerts.test_alerts import (
	ALERT,
	CSM1,
	CSM2,
	MANAGER,
	AlertsTestCase,
	alerts_of,
	set_health,
	today,
)
from customer_success.tests.utils import delete_customers, make_customer


class TestAClosedAlertIsItsHistory(AlertsTestCase):
	def closed(self, status=engine.RESOLVED):
		self.customer = make_customer(cs_owner=CSM1).name
		alert = self.raise_red()
		frappe.set_user(CSM1)
		service.close(frappe.get_doc(ALERT, alert.name), status, "Called the sponsor.")
		return frappe.get_doc(ALERT, alert.name)

	def test_nothing_of_a_closed_alert_changes_by_a_save(self):
		for status in (engine.RESOLVED, engine.DISMISSED):
			with self.subTest(status=status):
				alert = self.closed(status)
				kept = frappe.db.get_value(
					ALERT,
					alert.name,
					["resolution", "dismiss_reason", "severity", "closed_by", "auto_resolved", "customer"],
					as_dict=True,
				)
				other = make_customer(cs_owner=CSM1).name
				for changes in (
					{"resolution": "I never did anything", "dismiss_reason": "rewritten"},
					{"severity": "Low"},
					{"closed_by": MANAGER},
					{"auto_resolved": 1},
					{"due_date": add_days(today(), 40)},
					{"assigned_to": MANAGER},
				):
					doc = frappe.get_doc(ALERT, alert.name)
					doc.update(changes)
					with self.assertRaises(frappe.ValidationError, msg=changes):
						doc.save()
				doc = frappe.get_doc(ALERT, alert.name)
				doc.customer = other
				self.assertRaises(frappe.ValidationError, doc.save)
				doc = frappe.get_doc(ALERT, alert.name)
				doc.tasks[0].status = "Open"
				self.assertRaises(frappe.ValidationError, doc.save)
				self.assertEqual(frappe.db.get_value(ALERT, alert.name, list(kept), as_dict=True), kept)
				# the form sends what it loaded (dates as text): that is no change
				doc = frappe.get_doc(ALERT, alert.name)
				doc.closed_on = str(doc.closed_on)
				doc.raised_on = str(doc.raised_on)
				doc.due_date = str(doc.due_date) if doc.due_date else None
				doc.save()
				# an ask is an advocacy alert's (its answer may come after it is closed: test_alert_inputs)
				doc.ask_type, doc.ask_outcome = "Reference", "Agreed"
				with self.assertRaisesRegex(frappe.ValidationError, "belong to an Advocacy alert"):
					doc.save()
				self.assertFalse(frappe.db.get_value(ALERT, alert.name, "ask_outcome"))
				frappe.set_user("Administrator")

	def test_an_open_alerts_customer_and_rule_are_fixed(self):
		alert = self.raise_red()
		other = make_customer(cs_owner=CSM1).name
		frappe.set_user(CSM1)
		doc = frappe.get_doc(ALERT, alert.name)
		doc.customer = other
		self.assertRaises(frappe.ValidationError, doc.save)
		doc = frappe.get_doc(ALERT, alert.name)
		doc.rule = "No Touch"
		self.assertRaises(frappe.ValidationError, doc.save)
		self.assertEqual(
			frappe.db.get_value(ALERT, alert.name, ["customer", "rule"]), (self.customer, "Health Turned Red")
		)
		# what the save works out itself may come as it was loaded, or stale: no refusal
		doc = frappe.get_doc(ALERT, alert.name)
		doc.customer_name = "something else"
		doc.severity = "High"
		doc.save()
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "severity"), "High")


class TestTheAssignee(AlertsTestCase):
	def test_an_alert_is_assigned_to_someone_who_can_open_it_and_its_todo_follows(self):
		alert = self.raise_red()
		frappe.set_user(CSM1)
		doc = frappe.get_doc(ALERT, alert.name)
		doc.assigned_to = CSM2  # another book's CSM
		self.assertRaises(frappe.ValidationError, doc.save)
		doc = frappe.get_doc(ALERT, alert.name)
		doc.assigned_to = "nobody.at.all@example.com"
		self.assertRaises(frappe.ValidationError, doc.save)
		self.assertEqual(frappe.db.get_value(ALERT, alert.name, "assigned_to"), CSM1)

		def open_todos(user):
			return frappe.get_all(
				"ToDo",
				filters={
					"reference_type": ALERT,
					"reference_name": alert.name,
					"allocated_to": user,
					"status": "Open",
				},
				pluck="name",
			)

		task_todos = {task.todo for task in doc.tasks if task.todo}
		doc = frappe.get_doc(ALERT, alert.name)
		doc.assigned_to = MANAGER
		doc.save()
		self.assertEqual(len(open_todos(MANAGER)), 1)
		# the CSM keeps her playbook tasks' ToDos; the alert's own is the manager's now
		self.assertEqual(set(open_todos(CSM1)), task_todos & set(open_todos(CSM1)))
		self.assertIn(MANAGER, json.loads(frappe.db.get_value(ALERT, alert.name, "_assign")))


class TestAssigneesOnce(AlertsTestCase):
	def test_each_assignee_is_named_once_as_raised_and_after_a_task_is_done(self):
		alert = self.raise_red()  # its playbook gives the CSM several tasks, a ToDo each
		self.assertGreater(sum(1 for task in alert.tasks if task.assigned_to == CSM1), 1)
		assigned = json.loads(frappe.db.get_value(ALERT, alert.name, "_assign"))
		self.assertEqual(len(assigned), len(set(assigned)))
		self.assertIn(CSM1, assigned)
		todo = frappe.get_doc("ToDo", alert.tasks[0].todo)
		todo.status = "Closed"
		todo.save(ignore_permissions=True)
		assigned = json.loads(frappe.db.get_value(ALERT, alert.name, "_assign"))
		self.assertEqual(len(assigned), len(set(assigned)))
		self.assertIn(CSM1, assigned)


class TestSnoozeLimit(AlertsTestCase):
	def test_a_snooze_lasts_a_year_at_most(self):
		alert = self.raise_red()
		frappe.set_user(CSM1)
		for until in (add_days(today(), 366), "2099-01-01"):
			with self.assertRaises(frappe.ValidationError):
				service.snooze(frappe.get_doc(ALERT, alert.name), until)
		self.assertIsNone(frappe.db.get_value(ALERT, alert.name, "snoozed_until"))
		service.snooze(frappe.get_doc(ALERT, alert.name), add_days(today(), 365))
		self.assertEqual(
			str(frappe.db.get_value(ALERT, alert.name, "snoozed_until")), str(add_days(today(), 365))
		)


class TestRuleDays(AlertsTestCase):
	def test_a_rules_days_are_whole(self):
		rule = frappe.get_doc("CS Alert Rule", "No Touch")
		rule.days = 2.7
		self.assertRaises(frappe.ValidationError, rule.save)
		rule = frappe.get_doc("CS Alert Rule", "No Touch")
		rule.days = 3
		rule.save()


class TestNamesAfterTheCustomer(AlertsTestCase):
	def test_a_renamed_or_merged_customers_alerts_show_its_name(self):
		tag = frappe.generate_hash(length=6)
		first = make_customer(f"_CS Test Echo {tag}", cs_owner=CSM1).name
		second = make_customer(f"_CS Test Delta {tag}", cs_owner=CSM1).name
		kept = make_customer(f"_CS Test Charlie {tag}", cs_owner=CSM1).name
		kept_name = frappe.db.get_value("Customer", kept, "customer_name")
		for name in (first, second):
			set_health(name, "Red", 20)
			service.evaluate_customer(name, rule_types={"Health Turned Red"})
		frappe.db.commit()  # nosemgrep: a rename commits
		renamed = f"{first} Renewed"
		try:
			# a new Customer Name, then a new name (which frappe gives the Customer Name too)
			frappe.get_doc("Customer", first).update({"customer_name": "Echo Renewed"}).save()
			(alert,) = alerts_of(first)
			self.assertEqual(
				frappe.db.get_value(ALERT, alert.name, ["customer_name", "title"]),
				("Echo Renewed", "Health Turned Red: Echo Renewed"),
			)
			rename_doc("Customer", first, renamed, force=True)
			(alert,) = alerts_of(renamed)
			now_named = frappe.db.get_value("Customer", renamed, "customer_name")
			self.assertEqual(
				frappe.db.get_value(ALERT, alert.name, ["customer_name", "title"]),
				(now_named, f"Health Turned Red: {now_named}"),
			)
			rename_doc("Customer", second, kept, merge=True, force=True)
			(alert,) = alerts_of(kept)
			self.assertEqual(
				frappe.db.get_value(ALERT, alert.name, ["customer_name", "title"]),
				(kept_name, f"Health Turned Red: {kept_name}"),
			)
		finally:
			names = [renamed, first, second, kept]
			for alert in frappe.get_all(ALERT, filters={"customer": ("in", names)}, pluck="name"):
				frappe.db.delete("ToDo", {"reference_type": ALERT, "reference_name": alert})
				frappe.db.delete("Comment", {"reference_doctype": ALERT, "reference_name": alert})
				frappe.db.delete("CS Alert Task", {"parent": alert})
				frappe.db.delete(ALERT, alert)
			delete_customers([n for n in names if frappe.db.exists("Customer", n)])
			frappe.db.commit()  # nosemgrep
