import re
from contextlib import contextmanager
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.setup import defaults
from customer_success.success_plans import api as plan_api
from customer_success.success_plans import jobs as plan_jobs
from customer_success.success_plans import queries
from customer_success.success_plans import service as plans
from customer_success.tests.utils import (
	change_settings,
	make_customer,
	make_eur_company,
	make_issue,
	make_item,
	make_portal_contact,
	make_sales_invoice,
	make_shared_users,
	make_success_plan,
)

CSM1 = "cs-plans-csm1@example.com"
CSM2 = "cs-plans-csm2@example.com"
CS_MANAGER = "cs-plans-manager@example.com"
OWNER = "cs-plans-owner@example.com"


@contextmanager
def offline_pdf():
	"""The test site has no web server for wkhtmltopdf to fetch the print stylesheet from."""
	with patch(
		"frappe.utils.pdf.scrub_urls", lambda html: re.sub(r'<link[^>]+href="/assets/[^"]+"[^>]*>', "", html)
	):
		yield


def today():
	return getdate(nowdate())


def agree(plan, status="Agreed with Customer"):
	contact = frappe.db.get_value(
		"Dynamic Link", {"parenttype": "Contact", "link_name": plan.customer}, "parent"
	)
	if not contact:
		contact = (
			frappe.get_doc(
				{
					"doctype": "Contact",
					"first_name": "Sponsor",
					"links": [{"link_doctype": "Customer", "link_name": plan.customer}],
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	plan.agreed_on = today()
	plan.agreed_by = contact
	plan.status = "Agreed with Customer"
	plan.save()
	if status != "Agreed with Customer":
		plan.status = status
		plan.save()
	return plan


def make_milestone(plan, due, **fields):
	return frappe.get_doc(
		{
			"doctype": "Success Plan Milestone",
			"success_plan": plan.name,
			"title": "Step",
			"due_date": due,
			**fields,
		}
	).insert(ignore_permissions=True)


def submit_checkin(plan, day: int, value):
	"""A check-in of the plan dated `day` days from today, its first objective at `value`, submitted
	(with a reason, in case the value reads as behind)."""
	doc = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name})
	doc.checkin_date = add_days(nowdate(), day)
	doc.insert(ignore_permissions=True)
	doc.objectives[0].current_value = value
	doc.objectives[0].miss_reason = "Used by Few Teams"
	doc.submit()
	return doc


def ours(sent: list[str], *milestones) -> list[str]:
	"""The names of a test's own milestones among those reminded (a site may hold others, the demo's)."""
	own = {m.name for m in milestones}
	return [name for name in sent if name in own]


class PlansTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		defaults.make_default_plan_templates()
		make_shared_users(
			{
				CSM1: ["Customer Success Manager"],
				CSM2: ["Customer Success Manager"],
				CS_MANAGER: ["CS Manager"],
				OWNER: ["Customer Success Manager"],
			}
		)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestTemplates(PlansTestCase):
	def test_on_a_chinese_site_the_shipped_templates_are_made_in_chinese(self):
		"""ERPNext makes its masters in its setup's language: a shipped template's description,
		milestones and objectives are written in the site's (its name stays as shipped)."""
		from customer_success import utils

		frappe.delete_doc("Success Plan Template", "Value Realisation Programme", force=True)
		with patch.object(utils, "site_language", return_value="zh"):
			defaults.make_default_plan_templates()
		template = frappe.get_doc("Success Plan Template", "Value Realisation Programme")
		self.assertEqual(template.description, "将产品采用转化为发起人可以展示的、可衡量的业务成果。")
		self.assertIn("已与发起人确认成功标准", [m.title for m in template.milestones])
		self.assertIn("平均处理时间", [o.metric for o in template.objectives])
		self.assertIn("分钟", [o.unit for o in template.objectives])

	def test_every_shipped_text_has_its_chinese(self):
		"""Each text a user reads of a shipped record (templates, rules, playbooks, the model) has a
		zh translation, so a Chinese site is made with none left in English."""
		from frappe.translate import get_translations_from_csv

		zh = get_translations_from_csv("zh", "customer_success")
		missing = []

		def walk(value, key=None):
			if isinstance(value, dict):
				for k, v in value.items():
					walk(v, k)
			elif isinstance(value, list):
				for v in value:
					walk(v, key)
			elif key in defaults.SHIPPED_TEXT_FIELDS and isinstance(value, str) and value.strip("%"):
				if value not in zh:
					missing.append(value)

		for data in (
			"success_plan_templates.json",
			"cs_alert_rules.json",
			"cs_playbooks.json",
			"health_score_model.json",
			"lifecycle_touchpoints.json",
		):
			walk(defaults.load_data(data))
		self.assertEqual(missing, [])

	def test_default_templates_are_shipped_and_user_edits_survive(self):
		for spec in defaults.load_data("success_plan_templates.json"):
			template = frappe.get_doc("Success Plan Template", spec["template_name"])
			self.assertTrue(template.objectives and template.milestones)
		template = frappe.get_doc("Success Plan Template", "Onboarding Fast Track")
		template.duration_days = 99
		template.save()
		# force: on a site with plans of its own (the demo's), a shipped template is linked
		frappe.delete_doc("Success Plan Template", "Value Realisation Programme", force=True)
		defaults.make_default_plan_templates()
		self.assertEqual(
			frappe.db.get_value("Success Plan Template", "Onboarding Fast Track", "duration_days"), 99
		)
		self.assertTrue(frappe.db.exists("Success Plan Template", "Value Realisation Programme"))
		self.assertEqual(frappe.db.count("Success Plan Template", {"name": "Onboarding Fast Track"}), 1)

	def test_template_for_tier_falls_back_to_no_tier(self):
		self.assertEqual(plans.template_for_tier("Enterprise"), "Value Realisation Programme")
		self.assertEqual(plans.template_for_tier("Strategic"), "Strategic Renewal Preparation")
		self.assertEqual(plans.template_for_tier("SMB"), "Onboarding Fast Track")
		self.assertEqual(plans.template_for_tier(None), "Onboarding Fast Track")

	def test_plan_from_template_fills_objectives_and_milestones(self):
		customer = make_customer(cs_owner=CSM1).name
		template = frappe.get_doc("Success Plan Template", "Onboarding Fast Track")
		start = getdate(add_days(nowdate(), -10))
		plan = frappe.get_doc(
			{
				"doctype": "Success Plan",
				"customer": customer,
				"csm": CSM1,
				"template": template.name,
				"start_date": start,
			}
		).insert()
		self.assertEqual(getdate(plan.end_date), getdate(add_days(start, template.duration_days)))
		self.assertEqual([o.objective for o in plan.objectives], [o.objective for o in template.objectives])
		self.assertEqual(plan.objectives[0].target, template.objectives[0].default_target)
		milestones = frappe.get_all(
			"Success Plan Milestone",
			filters={"success_plan": plan.name},
			fields=[
				"title",
				"due_date",
				"completion_trigger",
				"trigger_threshold",
				"assigned_to",
				"customer",
				"status",
			],
			order_by="due_date asc, creation asc",
		)
		self.assertEqual(len(milestones), len(template.milestones))
		by_title = {m.title: m for m in milestones}
		for row in template.milestones:
			self.assertEqual(getdate(by_title[row.title].due_date), getdate(add_days(start, row.offset_days)))
			self.assertEqual(by_title[row.title].completion_trigger or "", row.completion_trigger or "")
			self.assertEqual(by_title[row.title].customer, customer)
		self.assertEqual(by_title["Kick-off call held"].assigned_to, CSM1)  # CSM-owned step
		self.assertEqual(by_title["Support load settled"].trigger_threshold, 3)
		# started 10 days ago: the 7-day kick-off is already overdue
		self.assertEqual(by_title["Kick-off call held"].status, "Overdue")
		plan.reload()
		self.assertEqual(plan.milestones_total, len(template.milestones))
		self.assertEqual(plan.milestones_overdue, 1)

	def test_create_plan_action_checks_permission(self):
		customer = make_customer(cs_owner=CSM1).name
		frappe.set_user(CSM2)
		self.assertRaises(frappe.PermissionError, plan_api.create_plan, customer)
		self.assertRaises(frappe.PermissionError, plan_api.running_plans, customer)
		frappe.set_user(CSM1)
		self.assertEqual(plan_api.running_plans(customer), [])
		name = plan_api.create_plan(customer)
		self.assertEqual(frappe.db.get_value("Success Plan", name, "template"), "Onboarding Fast Track")
		# the form asks before making another beside a running plan (tester A1)
		self.assertEqual([row.name for row in plan_api.running_plans(customer)], [name])
		frappe.db.set_value("Success Plan", name, "status", "Closed")
		self.assertEqual(plan_api.running_plans(customer), [])
		# a churned or disabled customer gets no plan from the button (tester W2: it brought the
		# closed work back at once); a churned one's next plan follows its next handoff
		before = frappe.db.count("Success Plan", {"customer": customer})
		for values, message in (
			({"cs_lifecycle_stage": "Churned"}, "churned: its next plan follows the handoff"),
			({"cs_lifecycle_stage": "Adoption", "disabled": 1}, "is disabled: enable it"),
		):
			frappe.db.set_value("Customer", customer, values)
			self.assertRaisesRegex(frappe.ValidationError, message, plan_api.create_plan, customer)
		self.assertEqual(frappe.db.count("Success Plan", {"customer": customer}), before)


class TestHandoff(PlansTestCase):
	def handoff(self, customer, **fields):
		return frappe._dict(
			{
				"name": "HO-FAKE-0001",
				"customer": customer,
				"proposed_csm": CSM2,
				"needs_and_expectations": "<p>Stop losing tickets.</p>",
				"success_definition": "<p>Every ticket answered within a day.</p>",
				"contract_end": add_days(nowdate(), 365),
				"use_cases": [
					frappe._dict(
						use_case="Cut handling time",
						metric="Minutes per ticket",
						unit="min",
						direction="Down",
						baseline=40,
						target=30,
					),
					{
						"use_case": "Self-service share",
						"unit": "%",
						"baseline": 5,
						"target": 25,
						"target_date": add_days(nowdate(), 90),
					},
					{"use_case": ""},  # blank rows from the form are ignored
				],
				**fields,
			}
		)

	def test_plan_from_fake_handoff(self):
		customer = make_customer(cs_owner=CSM1, cs_tier="Enterprise").name
		name = plans.create_plan_from_handoff(self.handoff(customer))
		plan = frappe.get_doc("Success Plan", name)
		template = frappe.get_doc("Success Plan Template", "Value Realisation Programme")
		self.assertEqual(plan.template, template.name)
		self.assertEqual(plan.csm, CSM2)
		self.assertEqual(plan.status, "Draft")
		self.assertIn("Stop losing tickets", plan.motivation)
		self.assertIn("answered within a day", plan.success_definition)
		objectives = [o.objective for o in plan.objectives]
		self.assertEqual(objectives[:2], ["Cut handling time", "Self-service share"])
		self.assertEqual(objectives[2:], [o.objective for o in template.objectives])
		self.assertEqual(plan.objectives[0].direction, "Down")
		self.assertEqual(plan.objectives[0].progress, 0)
		self.assertEqual(plan.objectives[1].direction, "Up")
		self.assertEqual(getdate(plan.objectives[1].due_date), getdate(add_days(nowdate(), 90)))
		self.assertEqual(getdate(plan.end_date), getdate(add_days(nowdate(), 365)))
		self.assertEqual(
			frappe.db.count("Success Plan Milestone", {"success_plan": name}), len(template.milestones)
		)

	def test_the_go_live_milestone_falls_on_the_handoffs_target_go_live(self):
		"""The shipped onboarding template's Go-live is 60 days in; sales agreed 45 (tester A1: the
		plan's Go-live fell on the template's day while the Onboarding Past Go-Live rule read the
		handoff's). It and the milestones after it move; those before stay."""
		customer = make_customer(cs_owner=CSM1, cs_tier="SMB").name
		template = frappe.get_doc("Success Plan Template", "Onboarding Fast Track")
		(go_live_row,) = [row for row in template.milestones if row.is_go_live]
		agreed = getdate(add_days(nowdate(), 45))
		name = plans.create_plan_from_handoff(self.handoff(customer, target_go_live=agreed))
		self.assertEqual(frappe.db.get_value("Success Plan", name, "template"), template.name)
		due = dict(
			frappe.get_all(
				"Success Plan Milestone", {"success_plan": name}, ["title", "due_date"], as_list=True
			)
		)
		self.assertEqual(getdate(due[go_live_row.title]), agreed)
		shift = agreed - getdate(add_days(nowdate(), go_live_row.offset_days))
		for row in template.milestones:
			template_day = getdate(add_days(nowdate(), row.offset_days))
			if row.offset_days < go_live_row.offset_days:
				expected = min(template_day, agreed)  # before the go-live: as planned, never after it
			else:
				expected = template_day + shift  # the go-live and what follows it move with it
			self.assertEqual(getdate(due[row.title]), expected, row.title)

		# a template marks one go-live at most
		template.milestones[0].is_go_live = 1
		self.assertRaisesRegex(frappe.ValidationError, "Only one milestone is the go-live", template.save)

	def test_a_tiers_template_without_a_go_live_gets_the_handoffs(self):
		"""Tester M2: an Enterprise customer's first plan came from its tier's template, which has no
		go-live step: the Target Go-Live sales had to give was lost on the plan."""
		customer = make_customer(cs_owner=CSM1, cs_tier="Enterprise").name
		agreed = getdate(add_days(nowdate(), 40))
		name = plans.create_plan_from_handoff(self.handoff(customer, target_go_live=agreed))
		template = frappe.db.get_value("Success Plan", name, "template")
		self.assertFalse(
			any(row.is_go_live for row in frappe.get_doc("Success Plan Template", template).milestones)
		)
		self.assertEqual(
			frappe.get_all(
				"Success Plan Milestone", {"success_plan": name, "title": "Go-live"}, pluck="due_date"
			),
			[agreed],
		)
		# a template with its own go-live step gets no second one
		onboarding = make_customer(cs_owner=CSM1, cs_tier="SMB").name
		name = plans.create_plan_from_handoff(self.handoff(onboarding, target_go_live=agreed))
		self.assertEqual(
			frappe.db.count("Success Plan Milestone", {"success_plan": name, "title": "Go-live"}), 1
		)

	def test_a_plan_from_a_longer_contract_than_a_plan_may_run_ends_at_the_limit(self):
		from customer_success.success_plans.doctype.success_plan.success_plan import MAX_PLAN_DAYS

		customer = make_customer(cs_owner=CSM1).name
		handoff = self.handoff(customer, contract_end=add_days(nowdate(), 15 * 365))
		plan = frappe.get_doc("Success Plan", plans.create_plan_from_handoff(handoff))
		self.assertEqual(getdate(plan.end_date), getdate(add_days(nowdate(), MAX_PLAN_DAYS)))
		self.assertEqual(plan.objectives[0].owner_role, "CSM")  # a use case's objective has an owner

	def test_csm_falls_back_to_customer_owner_and_tier_to_fallback_template(self):
		customer = make_customer(cs_owner=CSM1, cs_tier="Mid-Market").name
		name = plans.create_plan_from_handoff(self.handoff(customer, proposed_csm=None, use_cases=None))
		plan = frappe.get_doc("Success Plan", name)
		self.assertEqual(plan.csm, CSM1)
		self.assertEqual(plan.template, "Onboarding Fast Track")

	def test_registered_under_the_handoff_hook(self):
		self.assertIn(
			"customer_success.success_plans.service.create_plan_from_handoff",
			frappe.get_hooks("cs_on_handoff_accepted"),
		)


class TestPlanValidation(PlansTestCase):
	def test_a_plans_title_is_in_the_sites_language_whoever_saves_it(self):
		from customer_success.utils import in_language, site_language

		customer = make_customer()
		plan = make_success_plan(customer.name)
		self.assertEqual(site_language(), frappe.db.get_default("lang") or "en")
		with in_language(site_language()):
			expected = frappe._("{0} Success Plan").format(customer.customer_name)
		with in_language("zh" if site_language() != "zh" else "en"):  # a colleague in another language
			plan.reload()
			plan.save()
			self.assertEqual(plan.title, expected)
		self.assertNotEqual(frappe.local.lang, "zh" if site_language() != "zh" else "en")

	def test_end_before_start(self):
		customer = make_customer().name
		with self.assertRaisesRegex(frappe.ValidationError, "before Start Date"):
			make_success_plan(customer, end_date=add_days(nowdate(), -1))

	def test_status_flow(self):
		customer = make_customer().name
		plan = make_success_plan(customer)
		plan.status = "Active"
		self.assertRaisesRegex(frappe.ValidationError, "cannot move from Draft to Active", plan.save)
		plan.reload()
		plan.status = "Agreed with Customer"
		self.assertRaisesRegex(frappe.ValidationError, "Agreed By", plan.save)
		# the agreeing contact must belong to this customer
		other = make_portal_contact(make_customer().name, "cs-plans-other-contact@example.com")
		plan.reload()
		plan.update({"status": "Agreed with Customer", "agreed_on": nowdate(), "agreed_by": other.name})
		self.assertRaisesRegex(frappe.ValidationError, "must be a contact of customer", plan.save)
		plan.reload()
		plan.agreed_by = other.name  # a draft's contact is checked when picked, not at agreement only
		self.assertRaisesRegex(frappe.ValidationError, "must be a contact of customer", plan.save)
		plan.reload()
		agree(plan, "Active")
		plan.status = "At Risk"
		plan.save()
		plan.status = "Closed"
		plan.save()
		plan.status = "Active"
		self.assertRaisesRegex(frappe.ValidationError, "cannot move from Closed", plan.save)

	def test_target_equal_to_baseline_blocks_agreement_not_draft(self):
		customer = make_customer().name
		rows = [{"objective": "Flat", "direction": "Up", "baseline": 5, "target": 5, "current": 5}]
		plan = make_success_plan(customer, objectives=rows)  # a Draft may still be incomplete
		self.assertEqual(plan.objectives[0].progress, 0)
		with self.assertRaisesRegex(frappe.ValidationError, "Target equals Baseline"):
			agree(plan)
		plan.reload()
		plan.objectives[0].direction = "Down"
		plan.objectives[0].target = 8
		with self.assertRaisesRegex(frappe.ValidationError, "Target is above the Baseline"):
			agree(plan)

	def test_progress_handles_falling_metric_and_overshoot(self):
		customer = make_customer().name
		plan = make_success_plan(
			customer,
			objectives=[
				{
					"objective": "Handling time",
					"direction": "Down",
					"baseline": 40,
					"target": 34,
					"current": 37,
				},
				{"objective": "Users", "direction": "Up", "baseline": 0, "target": 10, "current": 25},
			],
		)
		self.assertEqual([o.progress for o in plan.objectives], [50, 100])
		self.assertEqual(plan.objectives[1].status, "Achieved")
		self.assertEqual(plan.progress, 75)

	def test_milestone_and_checkin_without_plan_say_so(self):
		for doc in (
			{"doctype": "Success Plan Milestone", "title": "Step", "due_date": nowdate()},
			{"doctype": "Success Plan Check-in", "checkin_date": nowdate()},
		):
			with self.assertRaisesRegex(frappe.MandatoryError, "Success Plan"):
				frappe.get_doc(doc).insert()

	def test_milestone_due_outside_plan(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=nowdate(), end_date=add_days(nowdate(), 30))
		with self.assertRaisesRegex(frappe.ValidationError, "before the plan starts"):
			make_milestone(plan, add_days(nowdate(), -1))
		with self.assertRaisesRegex(frappe.ValidationError, "after the plan ends"):
			make_milestone(plan, add_days(nowdate(), 31))
		self.assertTrue(make_milestone(plan, add_days(nowdate(), 30)).name)


class TestJobs(PlansTestCase):
	def test_overdue_marking_is_set_based_and_idempotent(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -30))
		late = make_milestone(plan, add_days(nowdate(), 5))
		done = make_milestone(plan, add_days(nowdate(), -5), status="Done")
		# time passes: the job runs as if it were 10 days later
		later = getdate(add_days(nowdate(), 10))
		self.assertIn(plan.name, plan_jobs.mark_overdue(later))
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", late.name, "status"), "Overdue")
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", done.name, "status"), "Done")
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "milestones_overdue"), 1)
		self.assertNotIn(plan.name, plan_jobs.mark_overdue(later))  # nothing left to mark

	def test_closed_and_achieved_plans_keep_their_milestones(self):
		later = getdate(add_days(nowdate(), 10))
		milestones = {}
		for status in ("Closed", "Achieved", "Active"):
			plan = make_success_plan(make_customer().name, start_date=add_days(nowdate(), -30))
			milestones[status] = make_milestone(plan, add_days(nowdate(), 5)).name
			frappe.db.set_value("Success Plan", plan.name, "status", status)
		plan_jobs.mark_overdue(later)
		status_of = {
			k: frappe.db.get_value("Success Plan Milestone", v, "status") for k, v in milestones.items()
		}
		self.assertEqual(status_of, {"Closed": "Not Started", "Achieved": "Not Started", "Active": "Overdue"})

	def test_a_failing_daily_step_is_logged_and_the_next_steps_still_run(self):
		plan = make_success_plan(make_customer().name)
		db = frappe.local.db
		with change_settings(milestone_reminder_days=7, create_todos=0, send_email_notifications=0):
			soon = make_milestone(plan, add_days(nowdate(), 2), assigned_to=OWNER)
			with (
				patch(
					"customer_success.success_plans.jobs.mark_overdue", side_effect=ValueError("broken step")
				) as mark_overdue,
				patch.object(db, "commit") as commit,
				patch.object(db, "rollback") as rollback,
			):
				mark_overdue.__name__ = "mark_overdue"
				plan_jobs.cs_success_plans_daily()
		mark_overdue.assert_called_once()
		rollback.assert_called_once()  # only the failed step is undone
		# the error log and each of the two good steps are committed on their own
		self.assertEqual(commit.call_count, 3)
		self.assertTrue(frappe.db.exists("Error Log", {"method": ("like", "%mark_overdue%")}))
		self.assertEqual(
			getdate(frappe.db.get_value("Success Plan Milestone", soon.name, "reminded_for_due_date")),
			getdate(soon.due_date),
		)

	def test_a_failing_reminder_is_logged_and_the_rest_go_out(self):
		plan = make_success_plan(make_customer().name)
		with change_settings(milestone_reminder_days=7, create_todos=1, send_email_notifications=0):
			bad = make_milestone(plan, add_days(nowdate(), 2), assigned_to=OWNER)
			good = make_milestone(plan, add_days(nowdate(), 3), assigned_to=OWNER)
			real = plan_jobs.remind

			def flaky(row, *args):
				if row.name == bad.name:
					raise ValueError("broken milestone")
				return real(row, *args)

			with patch("customer_success.success_plans.jobs.remind", side_effect=flaky):
				self.assertEqual(ours(plan_jobs.send_reminders(), bad, good), [good.name])
		self.assertTrue(frappe.db.exists("Error Log", {"reference_name": bad.name}))
		# the failed one is not marked as reminded, so tomorrow's run tries it again
		self.assertIsNone(frappe.db.get_value("Success Plan Milestone", bad.name, "reminded_for_due_date"))
		self.assertIsNotNone(
			frappe.db.get_value("Success Plan Milestone", good.name, "reminded_for_due_date")
		)

	def test_reminders_once_per_due_date(self):
		customer = make_customer().name
		plan = make_success_plan(customer)
		with (
			change_settings(milestone_reminder_days=7, create_todos=1, send_email_notifications=1),
			patch("frappe.sendmail") as sendmail,
		):

			def reminders():
				return [
					c.kwargs
					for c in sendmail.call_args_list
					if str(c.kwargs.get("subject", "")).startswith("Reminder")
					and c.kwargs.get("reference_name") in (soon.name, far.name)
				]

			soon = make_milestone(plan, add_days(nowdate(), 3), assigned_to=OWNER)
			far = make_milestone(plan, add_days(nowdate(), 30), assigned_to=OWNER)
			# the assignment itself made one ToDo; the reminder must not add a second open one
			self.assertEqual(frappe.db.count("ToDo", {"reference_name": soon.name, "status": "Open"}), 1)
			self.assertEqual(ours(plan_jobs.send_reminders(), soon, far), [soon.name])
			self.assertEqual(frappe.db.count("ToDo", {"reference_name": soon.name, "status": "Open"}), 1)
			# ... but the owner is told in the desk all the same (an e-mail may never leave the site)
			bell = frappe.get_all(
				"Notification Log",
				filters={"document_name": soon.name, "for_user": OWNER, "type": "Alert"},
				pluck="subject",
			)
			self.assertEqual(len(bell), 1)
			self.assertIn(soon.title, bell[0])
			# with the assignment done, the reminder brings a fresh ToDo
			frappe.db.set_value("ToDo", {"reference_name": soon.name}, "status", "Closed")
			frappe.db.set_value("Success Plan Milestone", soon.name, "reminded_for_due_date", None)
			self.assertEqual(ours(plan_jobs.send_reminders(), soon, far), [soon.name])
			self.assertEqual(
				frappe.db.count(
					"ToDo", {"reference_name": soon.name, "allocated_to": OWNER, "status": "Open"}
				),
				1,
			)
			self.assertEqual(len(reminders()), 2)
			self.assertEqual(reminders()[-1]["recipients"], [OWNER])
			self.assertEqual(reminders()[-1]["reference_name"], soon.name)
			self.assertEqual(
				getdate(frappe.db.get_value("Success Plan Milestone", soon.name, "reminded_for_due_date")),
				getdate(soon.due_date),
			)
			self.assertEqual(ours(plan_jobs.send_reminders(), soon, far), [])  # no duplicate
			self.assertEqual(len(reminders()), 2)
			self.assertNotIn(far.name, [r["reference_name"] for r in reminders()])

			# a new due date earns a new reminder
			soon.reload()
			soon.due_date = add_days(nowdate(), 5)
			soon.save()
			self.assertEqual(ours(plan_jobs.send_reminders(), soon, far), [soon.name])
			self.assertEqual(len(reminders()), 3)

	def test_a_reminder_escapes_what_was_typed_speaks_the_owners_language_and_respects_opt_out(self):
		customer = make_customer().name
		plan = make_success_plan(customer)
		with (
			change_settings(milestone_reminder_days=7, create_todos=0, send_email_notifications=1),
			patch("frappe.sendmail") as sendmail,
		):
			soon = make_milestone(plan, add_days(nowdate(), 3), assigned_to=OWNER)
			frappe.db.set_value(
				"Success Plan Milestone", soon.name, "title", 'Go <a href="http://evil.example">live</a>'
			)
			frappe.db.set_value("User", OWNER, "language", "zh")
			try:
				self.assertEqual(ours(plan_jobs.send_reminders(), soon), [soon.name])
			finally:
				frappe.db.set_value("User", OWNER, "language", None)
			mail = [c.kwargs for c in sendmail.call_args_list if c.kwargs.get("reference_name") == soon.name]
			self.assertEqual(len(mail), 1)
			self.assertNotIn('<a href="http://evil.example">', mail[0]["message"])
			self.assertIn("&lt;a href=", mail[0]["message"])
			self.assertNotIn("is due on", mail[0]["message"])  # in her language (zh)
			bell = frappe.get_all("Notification Log", filters={"document_name": soon.name}, pluck="subject")
			self.assertEqual(bell, [mail[0]["message"]])
			# e-mail notifications switched off: the bell only
			frappe.db.set_value("Success Plan Milestone", soon.name, "reminded_for_due_date", None)
			frappe.db.set_value("Notification Settings", OWNER, "enable_email_notifications", 0)
			sendmail.reset_mock()
			self.assertEqual(ours(plan_jobs.send_reminders(), soon), [soon.name])
			self.assertFalse(
				[c for c in sendmail.call_args_list if c.kwargs.get("reference_name") == soon.name]
			)

	def test_no_todos_when_settings_say_so(self):
		customer = make_customer().name
		plan = make_success_plan(customer)
		with change_settings(create_todos=0, send_email_notifications=0):
			soon = make_milestone(plan, add_days(nowdate(), 2), assigned_to=OWNER)
			self.assertEqual(ours(plan_jobs.send_reminders(), soon), [soon.name])
		self.assertEqual(frappe.db.count("ToDo", {"reference_name": soon.name}), 0)

	def test_checkin_cadence(self):
		customer = make_customer(cs_owner=CSM1).name
		plan = make_success_plan(customer, csm=CSM1, start_date=add_days(nowdate(), -100))
		agree(plan, "Active")
		with change_settings(checkin_cadence_days=90, create_todos=1):
			raised = plan_jobs.raise_due_checkins()
			mine = [
				n
				for n in raised
				if frappe.db.get_value("Success Plan Check-in", n, "success_plan") == plan.name
			]
			self.assertEqual(len(mine), 1)
			self.assertNotIn(plan.name, self._plans_of(plan_jobs.raise_due_checkins()))  # one open at a time
			self.assertTrue(frappe.db.exists("ToDo", {"reference_name": mine[0], "allocated_to": CSM1}))

			checkin = frappe.get_doc("Success Plan Check-in", mine[0])
			self.assertEqual(checkin.status, "Due")
			self.assertEqual(len(checkin.objectives), 1)
			row = checkin.objectives[0]
			self.assertEqual((row.baseline, row.target, row.previous_value), (10, 60, 35))
			# 100 of 180 days gone (56% expected), 20% progress: behind, so it needs its why
			row.current_value = 20
			checkin.save()
			self.assertEqual(checkin.objectives[0].status, "Behind")
			self.assertRaisesRegex(frappe.ValidationError, "Why Missed", checkin.submit)
			checkin.reload()
			checkin.objectives[0].update(
				{
					"miss_reason": "Used by Few Teams",
					"teams_using": "Support only",
					"how_used": "Ticket triage",
				}
			)
			checkin.save()
			checkin.submit()
			self.assertEqual(checkin.status, "Completed")

			plan.reload()
			self.assertEqual(plan.objectives[0].current, 20)
			self.assertEqual(plan.objectives[0].progress, 20)
			self.assertEqual(getdate(plan.last_checkin_date), today())
			self.assertEqual(getdate(plan.next_checkin_due), getdate(add_days(nowdate(), 90)))
			self.assertNotIn(plan.name, self._plans_of(plan_jobs.raise_due_checkins()))
			self.assertIn(plan.name, self._plans_of(plan_jobs.raise_due_checkins(add_days(nowdate(), 90))))

	def test_a_cancelled_checkin_takes_its_values_back_from_the_plan(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -100))
		self.assertEqual(plan.objectives[0].current, 35)

		def checkin(day, value):
			return submit_checkin(plan, day, value)

		first, second = checkin(-20, 40), checkin(-2, 55)
		plan.reload()
		self.assertEqual((plan.objectives[0].current, plan.progress), (55, 90))
		second.cancel()
		plan.reload()
		# back to what the remaining check-in recorded, progress with it
		self.assertEqual((plan.objectives[0].current, plan.progress), (40, 60))
		self.assertEqual(getdate(plan.last_checkin_date), getdate(add_days(nowdate(), -20)))
		first.cancel()
		plan.reload()
		self.assertEqual(plan.objectives[0].current, 35)  # what the first one started from
		self.assertIsNone(plan.last_checkin_date)

		# a value edited on the plan after the check-in is the plan's own: kept
		third = checkin(-1, 50)
		plan.reload()
		plan.objectives[0].current = 52
		plan.save(ignore_permissions=True)
		third.cancel()
		self.assertEqual(frappe.get_doc("Success Plan", plan.name).objectives[0].current, 52)

	def test_a_value_left_empty_on_a_checkin_is_no_change(self):
		"""Tester M2: an empty Current Value read as no data on the check-in (no Why Missed asked)
		and was stored as 0, which the plan took: a falling metric went Achieved at 100 %."""
		customer = make_customer().name
		objective = {
			"objective": "Faster close",
			"unit": "days",
			"direction": "Down",
			"baseline": 10,
			"target": 5,
			"current": 9,
		}
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -100), objectives=[objective])
		doc = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name})
		doc.checkin_date = nowdate()
		doc.insert(ignore_permissions=True)
		doc.objectives[0].current_value = None
		doc.save(ignore_permissions=True)
		self.assertEqual((doc.objectives[0].current_value, doc.objectives[0].progress), (9, 20))
		self.assertEqual(doc.objectives[0].status, "Behind")
		self.assertRaisesRegex(frappe.ValidationError, "Why Missed", doc.submit)
		doc.reload()
		doc.objectives[0].miss_reason = "Used by Few Teams"
		doc.save(ignore_permissions=True)
		doc.submit()
		plan.reload()
		self.assertEqual((plan.objectives[0].current, plan.progress), (9, 20))

	def test_a_checkin_recorded_after_a_later_one_does_not_roll_the_plan_back(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -100))

		def checkin(day, value):
			return submit_checkin(plan, day, value)

		checkin(-2, 55)
		checkin(-40, 20)  # a review of October, recorded today
		plan.reload()
		self.assertEqual(plan.objectives[0].current, 55)
		self.assertEqual(getdate(plan.last_checkin_date), getdate(add_days(nowdate(), -2)))

	def test_create_check_in_opens_the_one_already_due(self):
		plan = make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1)
		first = plan.make_checkin()
		self.assertEqual(plan.make_checkin(), first)
		frappe.get_doc("Success Plan Check-in", first).submit()
		self.assertNotEqual(plan.make_checkin(), first)  # the last one is done: a new one starts

	def test_no_checkins_for_draft_plans(self):
		customer = make_customer().name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -100))
		self.assertNotIn(plan.name, self._plans_of(plan_jobs.raise_due_checkins()))

	def _plans_of(self, checkins):
		return {frappe.db.get_value("Success Plan Check-in", n, "success_plan") for n in checkins}


class TestTriggers(PlansTestCase):
	def plan_with(self, customer, trigger, **fields):
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -20))
		milestone = make_milestone(
			plan, add_days(nowdate(), 10), completion_trigger=trigger, is_value_milestone=1, **fields
		)
		return plan, milestone

	def test_delivery_note_completes_milestone(self):
		customer = make_customer().name
		plan, milestone = self.plan_with(customer, plans.TRIGGER_DELIVERY)
		from customer_success.tests.utils import default_company

		note = frappe.get_doc(
			{
				"doctype": "Delivery Note",
				"customer": customer,
				"company": default_company(),
				"items": [{"item_code": make_item().name, "qty": 1, "rate": 100}],
			}
		).insert(ignore_permissions=True)
		note.submit()
		milestone.reload()
		self.assertEqual(milestone.status, "Done")
		self.assertEqual(
			(milestone.triggered_by_doctype, milestone.triggered_by), ("Delivery Note", note.name)
		)
		self.assertEqual(milestone.days_to_value, 20)
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "time_to_first_value"), 20)

	def test_first_paid_invoice_completes_milestone(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		customer = make_customer().name
		_plan, milestone = self.plan_with(customer, plans.TRIGGER_INVOICE_PAID)
		invoice = make_sales_invoice(customer, rate=500)
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", milestone.name, "status"), "Not Started"
		)
		payment = get_payment_entry("Sales Invoice", invoice.name)
		payment.reference_no = "CS-TEST"
		payment.reference_date = nowdate()
		payment.insert()
		payment.submit()
		milestone.reload()
		self.assertEqual(milestone.status, "Done")
		self.assertEqual(milestone.triggered_by, payment.name)

	def test_project_completed(self):
		customer = make_customer().name
		_plan, milestone = self.plan_with(customer, plans.TRIGGER_PROJECT)
		project = frappe.get_doc(
			{
				"doctype": "Project",
				"project_name": f"CS Test {frappe.generate_hash(length=5)}",
				"customer": customer,
			}
		).insert(ignore_permissions=True)
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", milestone.name, "status"), "Not Started"
		)
		project.status = "Completed"
		project.save()
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", milestone.name, "triggered_by"), project.name
		)

	def test_open_issues_below_threshold(self):
		customer = make_customer().name
		first = make_issue(customer)
		make_issue(customer)
		_plan, milestone = self.plan_with(customer, plans.TRIGGER_ISSUES_BELOW, trigger_threshold=2)
		first.reload()
		first.status = "Replied"  # still open: 2 open, not below 2
		first.save()
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", milestone.name, "status"), "Not Started"
		)
		first.status = "Closed"
		first.save()
		milestone.reload()
		self.assertEqual(milestone.status, "Done")
		self.assertEqual(milestone.triggered_by, first.name)

	def test_closed_plans_and_other_customers_are_untouched(self):
		customer = make_customer().name
		plan, milestone = self.plan_with(customer, plans.TRIGGER_DELIVERY)
		plan.status = "Closed"
		plan.save()
		other = make_customer().name
		self.assertEqual(
			plans.complete_triggered_milestones(
				customer, plans.TRIGGER_DELIVERY, frappe._dict(doctype="Delivery Note", name="X")
			),
			[],
		)
		self.assertEqual(
			plans.complete_triggered_milestones(
				other, plans.TRIGGER_DELIVERY, frappe._dict(doctype="Delivery Note", name="X")
			),
			[],
		)
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", milestone.name, "status"), "Not Started"
		)


class TestBusinessReview(PlansTestCase):
	def test_snapshot_numbers_from_real_invoices_and_issues(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		customer = make_customer(cs_owner=CSM1).name
		start, end = getdate(add_days(nowdate(), -60)), getdate(add_days(nowdate(), -5))
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -90), csm=CSM1)
		make_milestone(plan, add_days(nowdate(), -40), status="Done", completed_on=add_days(nowdate(), -45))
		make_milestone(plan, add_days(nowdate(), -20))  # overdue by period end
		make_milestone(plan, add_days(nowdate(), 20))

		before = make_sales_invoice(
			customer, rate=999, posting_date=add_days(nowdate(), -80), due_date=add_days(nowdate(), -70)
		)
		paid_late = make_sales_invoice(
			customer, rate=1000, posting_date=add_days(nowdate(), -50), due_date=add_days(nowdate(), -40)
		)
		current = make_sales_invoice(
			customer, rate=500, posting_date=add_days(nowdate(), -10), due_date=add_days(nowdate(), 20)
		)
		credit = make_sales_return(current.name)
		credit.items[0].rate = 200
		credit.set_posting_time = 1
		credit.posting_date = add_days(nowdate(), -8)
		credit.insert()
		credit.submit()
		make_sales_invoice(customer, rate=700, posting_date=nowdate())  # after the period
		# paid after the period ended: it was still overdue on the last day of the period
		payment = get_payment_entry("Sales Invoice", paid_late.name)
		payment.reference_no = "CS-QBR"
		payment.reference_date = nowdate()
		payment.posting_date = nowdate()
		payment.insert()
		payment.submit()

		make_issue(customer, agreement_status="Failed", opened_days_ago=30)
		closed = make_issue(customer, opened_days_ago=40)
		frappe.db.set_value(
			"Issue", closed.name, {"status": "Closed", "sla_resolution_date": add_days(nowdate(), -35)}
		)
		make_issue(customer, opened_days_ago=90)  # before the period, still open
		make_issue(customer, opened_days_ago=1)  # after the period

		for day, score in ((add_days(nowdate(), -70), 55.0), (add_days(nowdate(), -6), 72.5)):
			frappe.get_doc(
				{
					"doctype": "Customer Health Score",
					"customer": customer,
					"model": "Standard Health Model",
					"score_date": day,
					"granularity": "Daily",
					"score": score,
					"status": "Yellow" if score < 70 else "Green",
					"explanation": "[]",
				}
			).insert(ignore_permissions=True)

		frappe.set_user(CSM1)
		review = frappe.get_doc(
			{"doctype": "Business Review", "customer": customer, "period_start": start, "period_end": end}
		).insert()
		frappe.set_user("Administrator")

		self.assertEqual(review.success_plan, plan.name)
		self.assertAlmostEqual(
			review.invoiced, paid_late.base_net_total + current.base_net_total + credit.base_net_total
		)
		# what was owed past due at the period's end, less the credit note's own outstanding (it keeps
		# it, v15's Return: set against what is overdue, as Payment Behaviour does)
		self.assertAlmostEqual(
			review.overdue_outstanding,
			paid_late.base_grand_total + before.base_grand_total + credit.base_grand_total,
		)
		self.assertEqual(review.issues_opened, 2)
		self.assertEqual(review.issues_closed, 1)
		self.assertEqual(review.sla_failed, 1)
		self.assertEqual(review.open_issues_at_end, 2)  # the old one and the SLA-failed one
		self.assertEqual((review.health_start, review.health_end, review.health_trend), (55.0, 72.5, 17.5))
		self.assertEqual(review.health_status, "Green")
		self.assertEqual(
			(review.milestones_total, review.milestones_done, review.milestones_overdue), (3, 1, 1)
		)
		self.assertEqual(len(review.objectives), 1)
		self.assertEqual(
			(review.objectives[0].baseline, review.objectives[0].current, review.objectives[0].target),
			(10, 35, 60),
		)
		self.assertEqual(review.objectives[0].progress, 50)

		with offline_pdf():
			pdf = frappe.get_print("Business Review", review.name, "Business Review", as_pdf=True)
		self.assertTrue(pdf.startswith(b"%PDF"))
		html = frappe.get_print("Business Review", review.name, "Business Review")
		self.assertIn("Weekly active users", html)

	def test_a_past_period_shows_the_objectives_as_the_check_ins_had_them_then(self):
		customer = make_customer(cs_owner=CSM1).name
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -90), csm=CSM1)
		for day, value in ((-50, 20), (-2, 45)):
			submit_checkin(plan, day, value)
		self.assertEqual(frappe.get_doc("Success Plan", plan.name).objectives[0].current, 45)

		def review(start, end):
			return frappe.get_doc(
				{"doctype": "Business Review", "customer": customer, "period_start": start, "period_end": end}
			).insert(ignore_permissions=True)

		then = review(add_days(nowdate(), -60), add_days(nowdate(), -5))
		self.assertEqual(then.objectives[0].current, 20)  # not today's 45
		self.assertEqual(then.objectives[0].progress, 20)  # (20 - 10) / (60 - 10)
		before_any = review(add_days(nowdate(), -80), add_days(nowdate(), -60))
		self.assertEqual(before_any.objectives[0].current, 35)  # what the first check-in started from
		self.assertEqual(review(add_days(nowdate(), -30), nowdate()).objectives[0].current, 45)
		self.assertEqual(then.csm, CSM1)
		# the plan's progress of the period is worked out from the values shown, not today's
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "progress"), 70)
		self.assertEqual(then.plan_progress, 20)

	def test_a_past_period_shows_each_objectives_figures_and_rows_as_they_were(self):
		"""Tester K3: a past review showed today's target (and progress against it) and none of an
		objective removed since."""
		customer = make_customer(cs_owner=CSM1).name
		rows = [
			{
				"objective": "Adoption",
				"unit": "%",
				"direction": "Up",
				"baseline": 10,
				"target": 60,
				"current": 35,
			},
			{
				"objective": "Tickets",
				"unit": "tickets",
				"direction": "Down",
				"baseline": 40,
				"target": 20,
				"current": 30,
			},
		]
		plan = make_success_plan(customer, start_date=add_days(nowdate(), -90), objectives=rows)
		plan.reload()
		plan.objectives[0].target, plan.objectives[0].current = 80, 50
		plan.remove(plan.objectives[1])
		plan.append(
			"objectives",
			{
				"objective": "New one",
				"metric": "New",
				"owner_role": "CSM",
				"direction": "Up",
				"baseline": 0,
				"target": 5,
				"current": 1,
			},
		)
		plan.save(ignore_permissions=True, ignore_version=False)
		past = frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": customer,
				"period_start": add_days(nowdate(), -60),
				"period_end": add_days(nowdate(), -5),
			}
		).insert(ignore_permissions=True)
		self.assertEqual(
			[(r.objective, r.baseline, r.current, r.target, r.progress) for r in past.objectives],
			[("Adoption", 10, 35, 60, 50), ("Tickets", 40, 30, 20, 50)],
		)
		self.assertEqual(past.plan_progress, 50)

	def test_a_review_finds_the_plan_that_ran_in_its_period_closed_since(self):
		"""Tester W2: after a churn closed the customer's plan, a review of a period it ran in found no
		plan (its pick left Closed plans out); one still open is preferred where two ran."""
		customer = make_customer(cs_owner=CSM1).name
		old = make_success_plan(
			customer, start_date=add_days(nowdate(), -200), end_date=add_days(nowdate(), -1)
		)
		old.db_set("status", "Closed")

		def review(start, end):
			return frappe.get_doc(
				{"doctype": "Business Review", "customer": customer, "period_start": start, "period_end": end}
			).insert(ignore_permissions=True)

		self.assertEqual(review(add_days(nowdate(), -90), add_days(nowdate(), -30)).success_plan, old.name)
		running = make_success_plan(customer, start_date=add_days(nowdate(), -100))
		self.assertEqual(
			review(add_days(nowdate(), -90), add_days(nowdate(), -30)).success_plan, running.name
		)

	def test_the_period_invoiced_is_net_of_taxes(self):
		"""Tester Z2: the review's Invoiced in Period included taxes, unlike every other revenue
		figure of the app (tiers, retention, CSM Workload, health)."""
		from customer_success.tests.utils import default_company

		customer = make_customer(cs_owner=CSM1).name
		company = default_company()
		tax_account = frappe.db.get_value(
			"Account", {"company": company, "account_type": "Tax", "is_group": 0}
		)
		taxes = [
			{"charge_type": "On Net Total", "account_head": tax_account, "rate": 20, "description": "VAT"}
		]
		taxed = make_sales_invoice(customer, rate=1000, posting_date=add_days(nowdate(), -3), taxes=taxes)
		self.assertEqual((taxed.base_net_total, taxed.base_grand_total), (1000, 1200))
		review = frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": customer,
				"period_start": add_days(nowdate(), -30),
				"period_end": nowdate(),
			}
		).insert(ignore_permissions=True)
		self.assertEqual(review.invoiced, 1000)
		self.assertEqual(review.overdue_outstanding, 1200)  # what is owed, taxes in

	def test_the_overdue_at_period_end_is_net_of_credit_notes_that_keep_their_own_outstanding(self):
		"""Tester M2: ERPNext's Return (Update Outstanding for Self, v15's default) left the invoice
		unpaid and the credit note with its own negative outstanding: the review printed the whole
		invoice as overdue, where Payment Behaviour (the same day) said what was owed."""
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		customer = make_customer(cs_owner=CSM1).name
		invoice = make_sales_invoice(
			customer, rate=8000, posting_date=add_days(nowdate(), -50), due_date=add_days(nowdate(), -20)
		)
		credit = make_sales_return(invoice.name)
		credit.items[0].rate = 2000
		credit.posting_date, credit.set_posting_time = add_days(nowdate(), -30), 1
		credit.insert(ignore_permissions=True)
		credit.submit()
		self.assertEqual(frappe.db.get_value("Sales Invoice", invoice.name, "outstanding_amount"), 8000)

		def review(end):
			return frappe.get_doc(
				{
					"doctype": "Business Review",
					"customer": customer,
					"period_start": add_days(nowdate(), -60),
					"period_end": end,
				}
			).insert(ignore_permissions=True)

		self.assertEqual(review(nowdate()).overdue_outstanding, 6000)
		# before the credit note, the whole invoice was owed; before its due date, nothing was overdue
		self.assertEqual(review(add_days(nowdate(), -31)).overdue_outstanding, 0)
		self.assertEqual(review(add_days(nowdate(), -19)).overdue_outstanding, 6000)

	def test_a_past_period_shows_what_was_known_then(self):
		"""Tester Z2: a review of a period before the plan began showed the plan's objectives at
		today's values (all Achieved) and its milestones; and values set on the plan after the
		period were shown for it."""
		customer = make_customer(cs_owner=CSM1).name

		def review(start, end, **fields):
			return frappe.get_doc(
				{
					"doctype": "Business Review",
					"customer": customer,
					"period_start": start,
					"period_end": end,
					**fields,
				}
			).insert(ignore_permissions=True)

		late = make_success_plan(customer, start_date=nowdate(), csm=CSM1)
		make_milestone(late, add_days(nowdate(), 10))
		for chosen in ({}, {"success_plan": late.name}):  # picked by the app, or by hand
			before = review(add_days(nowdate(), -90), add_days(nowdate(), -60), **chosen)
			self.assertEqual(before.success_plan, chosen.get("success_plan"))
			self.assertEqual(
				(len(before.objectives), before.plan_progress, before.milestones_total), (0, 0, 0)
			)
		self.assertEqual(review(add_days(nowdate(), -30), nowdate()).success_plan, late.name)
		late.db_set("status", "Closed")

		plan = make_success_plan(customer, start_date=add_days(nowdate(), -90), csm=CSM1)
		plan.reload()
		plan.objectives[0].current = 60  # achieved, set today
		plan.append(
			"objectives",
			{
				"objective": "Tickets per week",
				"metric": "Tickets",
				"owner_role": "CSM",
				"direction": "Down",
				"baseline": 40,
				"target": 20,
				"current": 30,
			},
		)
		plan.save(ignore_permissions=True, ignore_version=False)  # (tests save no Version unless told)
		past = review(add_days(nowdate(), -60), add_days(nowdate(), -5))
		self.assertEqual(past.success_plan, plan.name)
		self.assertEqual([(r.objective, r.current) for r in past.objectives], [("Weekly active users", 35)])
		self.assertEqual(past.plan_progress, 50)
		# a Version keeps the number as the site formatted it, in the site's number format
		from unittest.mock import patch

		from customer_success.success_plans.queries import formatted_number

		self.assertEqual(formatted_number("1,234.5"), 1234.5)
		with patch.object(frappe.db, "get_default", return_value="#.###,##"):
			self.assertEqual(formatted_number("1.234,5"), 1234.5)
		now = review(add_days(nowdate(), -30), nowdate())
		self.assertEqual(
			[(r.objective, r.current) for r in now.objectives],
			[("Weekly active users", 60), ("Tickets per week", 30)],
		)

	def test_a_saved_reviews_figures_are_the_apps_and_another_customer_or_period_retakes_them(self):
		mine = make_customer(cs_owner=CSM1).name
		other = make_customer(cs_owner=CSM2).name
		mine_plan = make_success_plan(mine, start_date=add_days(nowdate(), -90), csm=CSM1)
		other_plan = make_success_plan(other, start_date=add_days(nowdate(), -90), csm=CSM2)
		frappe.db.set_value("Success Plan Objective", other_plan.objectives[0].name, "objective", "Theirs")
		make_sales_invoice(mine, rate=400, posting_date=add_days(nowdate(), -20))
		start, end = add_days(nowdate(), -30), add_days(nowdate(), -1)
		review = frappe.get_doc(
			{"doctype": "Business Review", "customer": mine, "period_start": start, "period_end": end}
		).insert(ignore_permissions=True)
		invoiced = review.invoiced
		self.assertGreater(invoiced, 0)

		# figures sent with a save are not kept; the narrative is
		review.invoiced, review.plan_progress, review.health_end = 99999999, 100, 100
		review.objectives[0].current = 1e6
		review.highlights = "<p>Went live</p>"
		review.save(ignore_permissions=True)
		review.reload()
		self.assertEqual(
			(review.invoiced, review.plan_progress, review.health_end), (invoiced, mine_plan.progress, 0)
		)
		self.assertEqual(review.objectives[0].current, 35)
		self.assertEqual(review.highlights, "<p>Went live</p>")

		# another customer: its own plan, figures and CSM
		review.customer, review.success_plan = other, None
		review.save(ignore_permissions=True)
		review.reload()
		self.assertEqual((review.success_plan, review.csm, review.invoiced), (other_plan.name, CSM2, 0))
		self.assertEqual([row.objective for row in review.objectives], ["Theirs"])

		# another period, of the first customer again: taken again
		review.customer, review.success_plan = mine, None
		review.period_start = add_days(nowdate(), -10)
		review.save(ignore_permissions=True)
		self.assertEqual((review.success_plan, review.csm, review.invoiced), (mine_plan.name, CSM1, 0))
		# a CSM cannot put another CSM's name on it (a CS Manager may)
		frappe.set_user(CSM1)
		mine_review = frappe.get_doc("Business Review", review.name)
		mine_review.csm = CSM2
		mine_review.save()
		self.assertEqual(frappe.db.get_value("Business Review", review.name, "csm"), CSM1)
		frappe.set_user("Administrator")
		review.reload()
		# Refresh Snapshot takes the figures again (an invoice booked late into the period)
		make_sales_invoice(mine, rate=250, posting_date=add_days(nowdate(), -5))
		review.refresh_snapshot()
		review.reload()
		self.assertGreater(review.invoiced, 0)

	def test_amounts_of_several_companies_are_converted_to_one_currency(self):
		import erpnext

		if erpnext.get_company_currency(erpnext.get_default_company()) != "USD":
			self.skipTest("the test converts EUR into a USD default company")
		start, end = getdate(add_days(nowdate(), -60)), getdate(add_days(nowdate(), -5))
		eur_company = make_eur_company(rate_date=end)
		customer = make_customer().name
		usd = make_sales_invoice(
			customer, rate=1000, posting_date=add_days(nowdate(), -50), due_date=add_days(nowdate(), -40)
		)
		eur = make_sales_invoice(
			customer,
			rate=2000,
			company=eur_company,
			currency="EUR",
			conversion_rate=1,
			posting_date=add_days(nowdate(), -50),
			due_date=add_days(nowdate(), -20),
		)
		self.assertEqual((eur.company, eur.currency), (eur_company, "EUR"))
		review = frappe.get_doc(
			{"doctype": "Business Review", "customer": customer, "period_start": start, "period_end": end}
		).insert()
		self.assertEqual(review.currency, "USD")
		self.assertAlmostEqual(review.invoiced, usd.base_grand_total + 1.1 * eur.base_grand_total)
		self.assertAlmostEqual(review.overdue_outstanding, usd.base_grand_total + 1.1 * eur.base_grand_total)

	def test_bad_period_and_foreign_plan(self):
		customer = make_customer().name
		plan = make_success_plan(make_customer().name)
		doc = {"doctype": "Business Review", "customer": customer}
		with self.assertRaisesRegex(frappe.ValidationError, "before Period Start"):
			frappe.get_doc({**doc, "period_start": nowdate(), "period_end": add_days(nowdate(), -1)}).insert()
		# an empty date is named, not read as today (tester M2: "... before Period Start ()")
		for empty, label in (("period_start", "Period Start"), ("period_end", "Period End")):
			dates = {
				"period_start": add_days(nowdate(), -30),
				"period_end": add_days(nowdate(), -1),
				empty: None,
			}
			with self.assertRaisesRegex(frappe.MandatoryError, f"^Set the review's {label}.$"):
				frappe.get_doc({**doc, **dates}).insert()
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to"):
			frappe.get_doc(
				{
					**doc,
					"success_plan": plan.name,
					"period_start": add_days(nowdate(), -9),
					"period_end": nowdate(),
				}
			).insert()


class TestPermissionsAndPortal(PlansTestCase):
	def test_csm_sees_and_edits_only_own_customers_plans(self):
		mine = make_success_plan(make_customer(cs_owner=CSM1).name)
		theirs = make_success_plan(make_customer(cs_owner=CSM2).name)
		frappe.set_user(CSM1)
		visible = frappe.get_list("Success Plan", pluck="name")
		self.assertIn(mine.name, visible)
		self.assertNotIn(theirs.name, visible)
		self.assertTrue(frappe.has_permission("Success Plan", "write", mine.name))
		self.assertFalse(frappe.has_permission("Success Plan", "read", theirs.name))
		doc = frappe.get_doc("Success Plan", mine.name)
		doc.pain_points = "Manual reporting"
		doc.save()
		frappe.set_user(CS_MANAGER)
		self.assertTrue({mine.name, theirs.name} <= set(frappe.get_list("Success Plan", pluck="name")))

	def test_portal_isolation(self):
		from frappe.www.printview import validate_print_permission

		from customer_success.www import success_plans as page

		a, b = make_customer().name, make_customer().name
		make_portal_contact(a, "cs-portal-a@example.com")
		make_portal_contact(b, "cs-portal-b@example.com")
		plan_a = make_success_plan(a, share_with_customer=1)
		plan_b = make_success_plan(b, share_with_customer=1)
		hidden_a = make_success_plan(a, share_with_customer=0)
		make_milestone(plan_a, add_days(nowdate(), 10), title="Go-live")
		# fresh copies: documents inserted with ignore_permissions carry that flag
		plan_a, plan_b, hidden_a = (
			frappe.get_doc("Success Plan", p.name) for p in (plan_a, plan_b, hidden_a)
		)

		frappe.set_user("cs-portal-a@example.com")
		context = page.get_context(frappe._dict())
		self.assertEqual([p["name"] for p in context.plans], [plan_a.name])
		self.assertEqual(context.plans[0]["milestones"][0]["title"], "Go-live")
		self.assertEqual(context.plans[0]["objectives"][0]["progress"], 50)
		frappe.form_dict.plan = plan_b.name
		try:
			self.assertEqual(page.get_context(frappe._dict()).plans, [])  # asking for B's plan gives nothing
		finally:
			frappe.form_dict.pop("plan", None)
		self.assertTrue(frappe.has_website_permission(plan_a))
		self.assertFalse(frappe.has_website_permission(plan_b))
		self.assertFalse(frappe.has_website_permission(hidden_a))
		self.assertFalse(frappe.has_permission("Success Plan", "read", plan_a.name))  # no desk access
		validate_print_permission(plan_a)
		self.assertRaises(frappe.PermissionError, validate_print_permission, plan_b)
		with offline_pdf():
			pdf = frappe.get_print("Success Plan", plan_a.name, plans.CUSTOMER_PRINT_FORMAT, as_pdf=True)
		self.assertTrue(pdf.startswith(b"%PDF"))
		# an image the PDF maker cannot load (a broken link pasted by a CSM) leaves the plan's PDF whole
		frappe.db.set_value(
			"Success Plan",
			plan_a.name,
			"success_definition",
			'<p>Three teams live</p><img src="x" onerror="alert(1)"><script>alert(2)</script>',
		)
		html = frappe.get_print("Success Plan", plan_a.name, plans.CUSTOMER_PRINT_FORMAT)
		self.assertIn("Three teams live", html)
		self.assertNotIn("<img", html.split("Three teams live")[1][:200])
		self.assertNotIn("<script>alert(2)", html)
		with offline_pdf():
			pdf = frappe.get_print("Success Plan", plan_a.name, plans.CUSTOMER_PRINT_FORMAT, as_pdf=True)
		self.assertTrue(pdf.startswith(b"%PDF"))

		frappe.set_user("cs-portal-b@example.com")
		self.assertEqual([p["name"] for p in page.get_context(frappe._dict()).plans], [plan_b.name])

		frappe.set_user("Guest")
		self.assertRaises(frappe.Redirect, page.get_context, frappe._dict())


class TestRenewalCoverage(PlansTestCase):
	def test_share_of_renewing_customers_with_agreed_plan(self):
		from customer_success.tests.utils import make_contract

		covered, uncovered, later = make_customer().name, make_customer().name, make_customer().name
		for customer, days in ((covered, 60), (uncovered, 120), (later, 300)):
			make_contract(customer, add_days(nowdate(), -200), add_days(nowdate(), days))
		agree(make_success_plan(covered))
		make_success_plan(uncovered)  # a Draft does not count
		renewing = queries.renewing_customers(today(), getdate(frappe.utils.add_months(today(), 6)))
		self.assertTrue({covered, uncovered} <= renewing)
		self.assertNotIn(later, renewing)
		agreed = queries.customers_with_agreed_plan(
			{covered, uncovered, later}, ("Agreed with Customer", "Active")
		)
		self.assertEqual(agreed, {covered})
		draft = make_customer().name
		make_contract(draft, add_days(nowdate(), -200), add_days(nowdate(), 30), submit=False)
		agree(make_success_plan(draft))
		self.assertNotIn(draft, queries.renewing_customers(today(), add_days(nowdate(), 60)))
		kpi = plans.renewal_plan_coverage()
		self.assertGreaterEqual(kpi["renewing"], 2)
		self.assertGreaterEqual(kpi["with_plan"], 1)

	def test_churned_and_disabled_customers_are_not_renewing(self):
		from customer_success.tests.utils import make_contract, set_customer_fields

		window = (today(), getdate(frappe.utils.add_months(today(), 6)))
		kept, churned, disabled = (make_customer(cs_owner=CSM1).name for _ in range(3))
		for customer in (kept, churned, disabled):
			make_contract(customer, add_days(nowdate(), -200), add_days(nowdate(), 60))
			agree(make_success_plan(customer, csm=CSM1))
		before = queries.renewal_plan_counts(*window, CSM1, ("Agreed with Customer", "Active"))
		set_customer_fields(churned, {"cs_lifecycle_stage": "Churned"})
		set_customer_fields(disabled, {"disabled": 1})
		renewing = queries.renewing_customers(*window, CSM1)
		self.assertIn(kept, renewing)
		self.assertFalse({churned, disabled} & renewing)
		after = queries.renewal_plan_counts(*window, CSM1, ("Agreed with Customer", "Active"))
		self.assertEqual((before[0] - after[0], before[1] - after[1]), (2, 2))
