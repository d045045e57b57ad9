"""A CSM's book on write, escaping, the customer print format, input limits, milestone owners and
the check-in list indicator."""

import json
import re
import shutil
import subprocess

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.setup import defaults
from customer_success.success_plans import service as plans
from customer_success.success_plans.test_success_plans import (
	CS_MANAGER,
	CSM1,
	CSM2,
	PlansTestCase,
	make_milestone,
)
from customer_success.tests.utils import (
	change_settings,
	make_customer,
	make_portal_contact,
	make_success_plan,
)

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
CONTACT = "cs-guards-contact@example.com"


def live_img_with_handler(html: str) -> bool:
	"""A real <img ... onerror> tag (not the escaped text of one) in the rendered HTML."""
	return bool(re.search(r"<img[^>]*onerror", html, flags=re.IGNORECASE))


def fresh(doc):
	"""A copy loaded from the database, as a request would see it."""
	return frappe.get_doc(doc.doctype, doc.name)


class BookTestCase(PlansTestCase):
	def setUp(self):
		self.mine = make_customer(cs_owner=CSM1).name
		self.theirs = make_customer(cs_owner=CSM2).name
		self.my_plan = make_success_plan(self.mine, csm=CSM1)
		self.their_plan = make_success_plan(self.theirs, csm=CSM2)
		self.their_milestone = make_milestone(self.their_plan, add_days(nowdate(), 10), title="Theirs")
		self.my_milestone = make_milestone(self.my_plan, add_days(nowdate(), 10), title="Mine")
		self.their_checkin = frappe.get_doc(
			{"doctype": "Success Plan Check-in", "success_plan": self.their_plan.name}
		).insert(ignore_permissions=True)
		self.their_review = frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": self.theirs,
				"period_start": add_days(nowdate(), -30),
				"period_end": nowdate(),
			}
		).insert(ignore_permissions=True)


class TestBookOnWrite(BookTestCase):
	def test_sending_own_customer_does_not_open_a_colleagues_record(self):
		edits = {
			self.their_plan: {"pain_points": "<p>overwritten</p>"},
			self.their_milestone: {"title": "Overwritten"},
			self.their_checkin: {"notes": "<p>overwritten</p>"},
			self.their_review: {"next_steps": "<p>overwritten</p>", "success_plan": None},
		}
		for record, fields in edits.items():
			frappe.set_user(CSM1)
			doc = fresh(record)
			doc.update({"customer": self.mine, **fields})
			self.assertRaises(frappe.PermissionError, doc.save)
			frappe.set_user("Administrator")
			stored = fresh(record)
			self.assertEqual(stored.customer, self.theirs, record.doctype)
			for field in fields:
				self.assertEqual(stored.get(field), record.get(field), f"{record.doctype}.{field}")

	def test_a_record_without_its_customer_is_refused_by_what_is_missing(self):
		"""Not "Not allowed via controller permission check": the CSM is told what to fill in."""
		records = {
			"Success Plan": ({"title": "No customer"}, "Customer"),
			"Business Review": (
				{"period_start": add_days(nowdate(), -30), "period_end": nowdate()},
				"Customer",
			),
			"Success Plan Milestone": ({"title": "No plan", "due_date": nowdate()}, "Success Plan"),
			"Success Plan Check-in": ({}, "Success Plan"),
		}
		before = {doctype: frappe.db.count(doctype) for doctype in records}
		frappe.set_user(CSM1)
		for doctype, (fields, missing) in records.items():
			with self.subTest(doctype=doctype):
				doc = frappe.get_doc({"doctype": doctype, **fields})
				with self.assertRaises(frappe.MandatoryError) as caught:
					doc.insert()
				self.assertIn(missing, str(caught.exception))
		frappe.set_user("Administrator")
		self.assertEqual({doctype: frappe.db.count(doctype) for doctype in records}, before)

	def test_rest_save_is_judged_on_the_stored_record(self):
		from frappe.client import save

		for record in (self.their_milestone, self.their_checkin, self.their_review, self.their_plan):
			payload = fresh(record).as_dict()
			payload["customer"] = self.mine
			frappe.set_user(CSM1)
			self.assertRaises(frappe.PermissionError, save, payload)
			frappe.set_user("Administrator")
			self.assertEqual(frappe.db.get_value(record.doctype, record.name, "customer"), self.theirs)

	def test_moving_a_record_needs_rights_on_both_customers(self):
		frappe.set_user(CSM1)
		# onto a colleague's plan: the new side is not theirs
		doc = fresh(self.my_milestone)
		doc.success_plan = self.their_plan.name
		self.assertRaises(frappe.PermissionError, doc.save)
		# off a colleague's plan onto their own: the stored side is not theirs
		doc = fresh(self.their_milestone)
		doc.update({"success_plan": self.my_plan.name, "customer": self.mine})
		self.assertRaises(frappe.PermissionError, doc.save)
		frappe.set_user("Administrator")
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", self.my_milestone.name, "success_plan"),
			self.my_plan.name,
		)
		self.assertEqual(
			frappe.db.get_value("Success Plan Milestone", self.their_milestone.name, "success_plan"),
			self.their_plan.name,
		)

		# between two customers of their own book it works, and a manager may move anything
		other_plan = make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1)
		frappe.set_user(CSM1)
		doc = fresh(self.my_milestone)
		doc.success_plan = other_plan.name
		doc.save()
		self.assertEqual(doc.customer, other_plan.customer)
		frappe.set_user(CS_MANAGER)
		doc = fresh(self.their_milestone)
		doc.success_plan = self.my_plan.name
		doc.save()
		self.assertEqual(doc.customer, self.mine)

	def test_own_records_stay_editable(self):
		frappe.set_user(CSM1)
		doc = fresh(self.my_milestone)
		doc.title = "Renamed"
		doc.save()
		plan = fresh(self.my_plan)
		plan.pain_points = "<p>Manual reporting</p>"
		plan.save()
		self.assertFalse(frappe.has_permission("Success Plan Milestone", "write", self.their_milestone.name))


class TestEscaping(PlansTestCase):
	def make_plan_full_of_markup(self):
		customer = make_customer(cs_owner=CSM1).name
		make_portal_contact(customer, CONTACT)
		plan = make_success_plan(customer, csm=CSM1, share_with_customer=1)
		milestone = make_milestone(plan, add_days(nowdate(), 10))
		# Stored raw as an import, a bulk update or a script could leave it (a form save sanitises)
		frappe.db.set_value(
			"Success Plan",
			plan.name,
			{f: XSS for f in ("title", "motivation", "pain_points", "success_definition")},
		)
		frappe.db.set_value(
			"Success Plan Objective",
			plan.objectives[0].name,
			{f: XSS for f in ("objective", "metric", "unit")},
		)
		frappe.db.set_value("Success Plan Milestone", milestone.name, "title", XSS)
		return plan

	def assert_shown_as_text(self, html):
		self.assertFalse(live_img_with_handler(html), "an <img onerror> tag survived")
		self.assertIn(ESCAPED, html)

	def test_success_plan_print_formats(self):
		plan = self.make_plan_full_of_markup()
		for print_format in ("Success Plan", plans.CUSTOMER_PRINT_FORMAT):
			self.assert_shown_as_text(frappe.get_print("Success Plan", plan.name, print_format))

	def test_business_review_print_format(self):
		plan = self.make_plan_full_of_markup()
		review = frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": plan.customer,
				"success_plan": plan.name,
				"period_start": nowdate(),
				"period_end": nowdate(),
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value("Business Review", review.name, {"highlights": XSS, "next_steps": XSS})
		frappe.db.set_value(
			"Business Review Objective", review.objectives[0].name, {"objective": XSS, "unit": XSS}
		)
		frappe.db.set_value("Customer", plan.customer, "customer_name", XSS)
		frappe.db.set_value("Business Review", review.name, "customer_name", XSS)
		html = frappe.get_print("Business Review", review.name, "Business Review")
		self.assert_shown_as_text(html)

	def test_portal_page(self):
		from frappe.website.serve import get_response_without_exception_handling

		plan = self.make_plan_full_of_markup()
		frappe.set_user(CONTACT)
		html = get_response_without_exception_handling("success-plans", 200).data.decode()
		self.assertIn(plan.name, html)
		self.assert_shown_as_text(html)
		# the print links offer the customer-facing format
		self.assertIn("format=Success%20Plan%20%28Customer%29", html)


class TestCustomerPrintFormat(PlansTestCase):
	def setUp(self):
		self.customer = make_customer(cs_owner=CSM1).name
		make_portal_contact(self.customer, CONTACT)
		self.plan = make_success_plan(
			self.customer,
			csm=CSM1,
			share_with_customer=1,
			motivation="<p>Internal: lost a big deal to churn</p>",
			pain_points="<p>Internal: sponsor is sceptical</p>",
			success_definition="<p>Tickets answered within a day</p>",
		)
		make_milestone(self.plan, add_days(nowdate(), 10), title="Go-live")

	def test_contact_prints_only_the_customer_format(self):
		from frappe.utils.print_format import download_pdf

		frappe.set_user(CONTACT)
		html = frappe.get_print("Success Plan", self.plan.name, plans.CUSTOMER_PRINT_FORMAT)
		for shown in ("Weekly active users", "Go-live", "Tickets answered within a day"):
			self.assertIn(shown, html)
		self.assertNotIn("Internal:", html)
		for print_format in ("Standard", "Success Plan", None):
			with self.assertRaises(frappe.PermissionError, msg=print_format):
				frappe.get_print("Success Plan", self.plan.name, print_format)
			self.assertRaises(
				frappe.PermissionError, download_pdf, "Success Plan", self.plan.name, print_format
			)

	def test_desk_users_keep_every_format(self):
		frappe.set_user(CSM1)
		for print_format in ("Standard", "Success Plan", plans.CUSTOMER_PRINT_FORMAT):
			self.assertIn(
				"Weekly active users", frappe.get_print("Success Plan", self.plan.name, print_format)
			)
		self.assertIn(
			"sponsor is sceptical", frappe.get_print("Success Plan", self.plan.name, "Success Plan")
		)

	def test_customer_format_holds_nothing_internal(self):
		html = frappe.get_print("Success Plan", self.plan.name, plans.CUSTOMER_PRINT_FORMAT)
		self.assertNotIn("Internal:", html)
		self.assertIn("Weekly active users", html)

	def test_website_permission_reads_the_stored_plan(self):
		other = make_customer().name
		theirs = make_success_plan(other, share_with_customer=1)
		hidden = make_success_plan(self.customer, share_with_customer=0)
		frappe.set_user(CONTACT)
		forged = fresh(theirs)
		forged.customer = self.customer  # a print request may carry a whole document
		self.assertFalse(frappe.has_website_permission(forged))
		forged = fresh(hidden)
		forged.share_with_customer = 1
		self.assertFalse(frappe.has_website_permission(forged))
		self.assertTrue(frappe.has_website_permission(fresh(self.plan)))


class TestInputLimits(PlansTestCase):
	def test_template_offsets_and_length(self):
		template = frappe.get_doc("Success Plan Template", "Onboarding Fast Track")
		cases = (
			("milestones", "offset_days", -1, "Offset Days is -1"),
			("milestones", "offset_days", 3651, "Offset Days is 3651"),
			("objectives", "due_offset_days", -5, r"Due \(days after plan start\) is -5"),
			("objectives", "due_offset_days", 4000, r"Due \(days after plan start\) is 4000"),
		)
		for table, field, value, message in cases:
			doc = frappe.get_doc("Success Plan Template", template.name)
			doc.get(table)[0].set(field, value)
			self.assertRaisesRegex(frappe.ValidationError, message, doc.save)
		for days in (-1, 3651):
			doc = frappe.get_doc("Success Plan Template", template.name)
			doc.duration_days = days
			self.assertRaisesRegex(frappe.ValidationError, "Plan Length", doc.save)
		stored = frappe.get_doc("Success Plan Template", template.name)
		self.assertEqual(stored.duration_days, template.duration_days)
		self.assertEqual(stored.milestones[0].offset_days, template.milestones[0].offset_days)
		doc = frappe.get_doc("Success Plan Template", template.name)
		doc.milestones[0].offset_days = 3650
		doc.save()

	def test_a_plan_that_began_long_ago_can_still_be_closed(self):
		from frappe.utils import add_days, nowdate

		plan = make_success_plan(make_customer().name, start_date=add_days(nowdate(), -30))
		frappe.db.set_value(
			"Success Plan",
			plan.name,
			{"start_date": add_days(nowdate(), -4000), "end_date": add_days(nowdate(), -3900)},
		)
		plan = frappe.get_doc("Success Plan", plan.name)
		plan.title = "An old plan"
		plan.save()  # the start date did not change: the far-past bound is not re-applied
		plan.start_date = add_days(nowdate(), -4001)
		self.assertRaisesRegex(frappe.ValidationError, "Start Date", plan.save)

	def test_an_agreed_plan_has_every_objective_measured_and_owned(self):
		from customer_success.success_plans.test_success_plans import agree

		plan = make_success_plan(make_customer().name)
		plan.objectives[0].metric = ""
		plan.save()  # a Draft may still lack them
		self.assertRaisesRegex(frappe.ValidationError, "set the Metric", agree, fresh(plan))
		plan = fresh(plan)
		plan.objectives[0].metric = "Share of users active weekly"
		plan.objectives[0].owner_role = ""
		plan.objectives[0].owner_user = None
		plan.save()
		self.assertRaisesRegex(frappe.ValidationError, "set its Owner", agree, fresh(plan))
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "status"), "Draft")
		plan = fresh(plan)
		plan.objectives[0].owner_role = "Customer Sponsor"
		agree(plan)
		plan = fresh(plan)
		plan.append("objectives", {"objective": "Reports", "baseline": 0, "target": 4})  # no metric
		self.assertRaisesRegex(frappe.ValidationError, "set the Metric", plan.save)

	def test_a_row_an_earlier_version_stored_without_metric_does_not_block_a_later_save(self):
		from customer_success.success_plans.test_success_plans import agree

		plan = agree(make_success_plan(make_customer().name))
		frappe.db.set_value(
			"Success Plan Objective", plan.objectives[0].name, {"metric": "", "owner_role": ""}
		)
		plan = fresh(plan)
		plan.objectives[0].current = 40  # as a check-in writes the value back
		plan.save()
		self.assertEqual(
			frappe.db.get_value("Success Plan Objective", plan.objectives[0].name, "current"), 40
		)
		plan.status = "Active"
		self.assertRaisesRegex(frappe.ValidationError, "set the Metric", plan.save)

	def test_plan_dates(self):
		customer = make_customer().name
		with self.assertRaisesRegex(frappe.ValidationError, "more than 3650 days after Start Date"):
			make_success_plan(customer, end_date=add_days(nowdate(), 3651))
		with self.assertRaisesRegex(frappe.ValidationError, "more than 3650 days away from today"):
			make_success_plan(customer, start_date="1925-01-01", end_date="1925-06-01")
		with self.assertRaisesRegex(frappe.ValidationError, "before Start Date"):
			make_success_plan(customer, end_date=add_days(nowdate(), -1))
		self.assertFalse(frappe.db.exists("Success Plan", {"customer": customer}))
		plan = make_success_plan(customer, end_date=add_days(nowdate(), 3650))
		plan.end_date = add_days(plan.start_date, 5000)
		self.assertRaisesRegex(frappe.ValidationError, "End Date", plan.save)
		self.assertEqual(
			getdate(frappe.db.get_value("Success Plan", plan.name, "end_date")),
			getdate(add_days(nowdate(), 3650)),
		)

	def test_agreed_on_cannot_be_in_the_future(self):
		from customer_success.success_plans.test_success_plans import agree

		plan = agree(make_success_plan(make_customer().name))
		plan = fresh(plan)
		plan.agreed_on = add_days(nowdate(), 5)
		self.assertRaisesRegex(frappe.ValidationError, "in the future", plan.save)

	def test_records_naming_a_plan_or_customer_that_does_not_exist_say_so(self):
		frappe.set_user(CSM1)
		try:
			for doc in (
				{
					"doctype": "Success Plan Milestone",
					"success_plan": "NO-SUCH-PLAN",
					"title": "x",
					"due_date": nowdate(),
				},
				{"doctype": "Success Plan Check-in", "success_plan": "NO-SUCH-PLAN"},
				{"doctype": "Success Plan", "customer": "No Such Customer", "start_date": nowdate()},
			):
				with self.assertRaisesRegex(frappe.LinkValidationError, "does not exist"):
					frappe.get_doc(doc).insert()
		finally:
			frappe.set_user("Administrator")

	def test_checkin_cannot_be_dated_in_the_future(self):
		plan = make_success_plan(make_customer().name)
		checkin = {"doctype": "Success Plan Check-in", "success_plan": plan.name}
		with self.assertRaisesRegex(frappe.ValidationError, "in the future"):
			frappe.get_doc({**checkin, "checkin_date": add_days(nowdate(), 1)}).insert()
		self.assertFalse(frappe.db.exists("Success Plan Check-in", {"success_plan": plan.name}))
		done = frappe.get_doc({**checkin, "checkin_date": nowdate()}).insert()
		done.checkin_date = add_days(nowdate(), 3)
		self.assertRaisesRegex(frappe.ValidationError, "in the future", done.save)
		self.assertEqual(getdate(fresh(done).checkin_date), getdate(nowdate()))

	def test_a_checkin_reviews_the_plans_objectives_as_the_plan_has_them(self):
		plan = make_success_plan(
			make_customer(cs_owner=CSM1).name, csm=CSM1, start_date=add_days(nowdate(), -200)
		)
		objective = plan.objectives[0]  # baseline 10, target 60, current 35: missed past its end
		frappe.set_user(CSM1)
		try:
			checkin = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name}).insert()
			row = checkin.objectives[0]
			# rows sent with a target the CSM already meets are read from the plan again
			row.update({"baseline": 0, "target": 35, "direction": "Down", "objective": "Made up"})
			checkin.save()
			row = checkin.objectives[0]
			self.assertEqual(
				(row.objective, row.baseline, row.target, row.direction),
				(objective.objective, 10, 60, "Up"),
			)
			self.assertEqual(row.previous_value, 35)
			self.assertRaisesRegex(frappe.ValidationError, "Why Missed", checkin.submit)
			# a row the plan does not have, or the same objective twice, is refused
			for extra in ({"plan_objective": "zzz", "current_value": 5}, {"plan_objective": objective.name}):
				doc = frappe.get_doc("Success Plan Check-in", checkin.name)
				doc.append("objectives", {"objective": "Extra", **extra})
				with self.assertRaises(frappe.ValidationError, msg=extra):
					doc.save()
			# another CSM's name does not go on it
			doc = frappe.get_doc("Success Plan Check-in", checkin.name)
			doc.csm = CSM2
			doc.save()
			self.assertEqual(doc.csm, CSM1)
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(len(fresh(checkin).objectives), 1)
		# a row whose objective has since left the plan keeps what it stored
		plan.reload()
		plan.append(
			"objectives",
			{
				"objective": "Second",
				"metric": "Second",
				"owner_role": "CSM",
				"unit": "%",
				"baseline": 0,
				"target": 10,
			},
		)
		plan.save(ignore_permissions=True)
		kept = fresh(checkin)
		kept.objectives[0].current_value = 40
		plan.reload()
		plan.remove(plan.objectives[0])
		plan.save(ignore_permissions=True)
		kept.save(ignore_permissions=True)
		self.assertEqual((kept.objectives[0].baseline, kept.objectives[0].target), (10, 60))

	def test_every_objective_is_reviewed_and_a_checkin_stays_with_its_plan(self):
		customer = make_customer(cs_owner=CSM1).name
		plan = make_success_plan(customer, csm=CSM1, start_date=add_days(nowdate(), -200))
		other = make_success_plan(customer, csm=CSM1, start_date=add_days(nowdate(), -10))
		frappe.set_user(CSM1)
		try:
			checkin = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name}).insert()
			checkin.objectives[0].current_value = 36
			checkin.save()
			# the rows taken out come back, with what they recorded, and the missed one still asks why
			checkin.set("objectives", [])
			checkin.save()
			self.assertEqual([row.plan_objective for row in checkin.objectives], [plan.objectives[0].name])
			self.assertEqual(checkin.objectives[0].current_value, 36)
			self.assertRaisesRegex(frappe.ValidationError, "Why Missed", checkin.submit)
			doc = frappe.get_doc("Success Plan Check-in", checkin.name)
			doc.success_plan = other.name
			self.assertRaisesRegex(frappe.ValidationError, "cannot move to another plan", doc.save)
			doc = frappe.get_doc("Success Plan Check-in", checkin.name)
			doc.checkin_date = add_days(nowdate(), -201)
			self.assertRaisesRegex(frappe.ValidationError, "before Success Plan", doc.save)
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(
			frappe.db.get_value("Success Plan Check-in", checkin.name, "success_plan"), plan.name
		)

	def test_a_count_below_zero_stored_earlier_does_not_stop_a_new_plan(self):
		template = frappe.get_doc(plans.TEMPLATE, "Onboarding Fast Track")
		row = next(r for r in template.objectives if r.metric_kind == "Count")
		frappe.db.set_value(row.doctype, row.name, "default_target", -3)  # as an earlier version let it be
		template.reload()
		objectives = plans.objectives_from_template(template, getdate(nowdate()), add_days(nowdate(), 90))
		made = next(o for o in objectives if o["objective"] == row.objective)
		self.assertIsNone(made["target"])
		plan = make_success_plan(make_customer().name, template=template.name)
		self.assertTrue(plan.name)

	def test_milestone_completed_before_plan_started(self):
		plan = make_success_plan(make_customer().name, start_date=add_days(nowdate(), -10))
		with self.assertRaisesRegex(frappe.ValidationError, "before the plan started"):
			make_milestone(plan, nowdate(), status="Done", completed_on=add_days(nowdate(), -11))
		milestone = make_milestone(plan, nowdate(), status="Done", completed_on=add_days(nowdate(), -10))
		self.assertEqual(milestone.days_to_value, 0)
		milestone.completed_on = add_days(nowdate(), -20)
		self.assertRaisesRegex(frappe.ValidationError, "before the plan started", milestone.save)
		self.assertEqual(getdate(fresh(milestone).completed_on), getdate(add_days(nowdate(), -10)))


class TestMilestoneOwners(PlansTestCase):
	def test_every_shipped_template_milestone_has_an_owner(self):
		customer = make_customer(cs_owner=CSM1).name
		with change_settings(create_todos=1):
			for spec in defaults.load_data("success_plan_templates.json"):
				plan = frappe.get_doc(
					{
						"doctype": "Success Plan",
						"customer": customer,
						"csm": CSM2,  # the plan's CSM comes before the customer's CS Owner
						"template": spec["template_name"],
						"start_date": nowdate(),
					}
				).insert(ignore_permissions=True)
				milestones = frappe.get_all(
					"Success Plan Milestone",
					filters={"success_plan": plan.name},
					fields=["name", "owner_role", "assigned_to"],
				)
				self.assertEqual(len(milestones), len(spec["milestones"]))
				self.assertTrue(any(m.owner_role != "CSM" for m in milestones))
				for m in milestones:
					self.assertEqual(m.assigned_to, CSM2, m.owner_role)
					self.assertTrue(
						frappe.db.exists("ToDo", {"reference_name": m.name, "allocated_to": CSM2}),
						m.owner_role,
					)

	def test_plan_without_csm_falls_back_to_the_cs_owner(self):
		customer = make_customer(cs_owner=CSM1).name
		plan = frappe.get_doc(
			{
				"doctype": "Success Plan",
				"customer": customer,
				"template": "Strategic Renewal Preparation",
				"start_date": nowdate(),
			}
		).insert(ignore_permissions=True)
		# the plan's own CSM too (made through REST or an import, it was left empty: nobody's plan)
		self.assertEqual(plan.csm, CSM1)
		owners = frappe.get_all(
			"Success Plan Milestone", filters={"success_plan": plan.name}, pluck="assigned_to"
		)
		self.assertEqual(set(owners), {CSM1})
		# a milestone added by hand without an owner gets the CSM too
		self.assertEqual(make_milestone(plan, add_days(nowdate(), 20)).assigned_to, CSM1)

	def test_a_milestone_goes_to_a_colleague_or_to_the_customers_own_contact(self):
		mine, theirs = make_customer(cs_owner=CSM1).name, make_customer(cs_owner=CSM2).name
		own_contact = make_portal_contact(mine, "cs-guards-own-contact@example.com").user
		other_contact = make_portal_contact(theirs, "cs-guards-other-contact@example.com").user
		plan = make_success_plan(mine, csm=CSM1)
		self.assertEqual(make_milestone(plan, add_days(nowdate(), 10), assigned_to=CSM2).assigned_to, CSM2)
		self.assertEqual(
			make_milestone(plan, add_days(nowdate(), 10), assigned_to=own_contact).assigned_to, own_contact
		)
		before = frappe.db.count("Success Plan Milestone", {"success_plan": plan.name})
		with self.assertRaisesRegex(frappe.ValidationError, "no contact of customer"):
			make_milestone(plan, add_days(nowdate(), 10), assigned_to=other_contact)
		self.assertEqual(frappe.db.count("Success Plan Milestone", {"success_plan": plan.name}), before)
		self.assertFalse(
			frappe.db.exists("DocShare", {"share_doctype": "Success Plan Milestone", "user": other_contact})
		)
		milestone = fresh(make_milestone(plan, add_days(nowdate(), 10)))
		milestone.assigned_to = other_contact
		self.assertRaisesRegex(frappe.ValidationError, "no contact of customer", milestone.save)
		# frappe's Assign To (the form's sidebar, or its REST method) is held to the same rule (tester P)
		from frappe.desk.form.assign_to import add as assign_to

		milestone.reload()
		frappe.set_user(CSM1)
		try:
			with self.assertRaisesRegex(frappe.PermissionError, "cannot be given"):
				assign_to(
					{"assign_to": [other_contact], "doctype": milestone.doctype, "name": milestone.name}
				)
		finally:
			frappe.set_user("Administrator")
		self.assertFalse(
			frappe.db.exists("ToDo", {"reference_name": milestone.name, "allocated_to": other_contact})
		)
		self.assertEqual(frappe.db.get_value(milestone.doctype, milestone.name, "assigned_to"), CSM1)
		frappe.set_user(CSM1)
		try:
			assign_to({"assign_to": [own_contact], "doctype": milestone.doctype, "name": milestone.name})
		finally:
			frappe.set_user("Administrator")
		self.assertTrue(
			frappe.db.exists("ToDo", {"reference_name": milestone.name, "allocated_to": own_contact})
		)

	def test_the_sidebars_assign_to_leaves_the_owner_and_the_open_form_alone(self):
		"""frappe's Assign To writes the owner field (`assigned_to`) on assigning and empties it on
		removing: through the sidebar, a colleague became the owner, the open form went stale, and
		removing anyone's assignment left no owner (tester Q). The request goes to our override."""
		from customer_success.integrations.desk import api as assign_to

		for method in ("add", "add_multiple", "remove", "remove_multiple", "close"):
			self.assertEqual(
				frappe.override_whitelisted_method(f"frappe.desk.form.assign_to.{method}"),
				f"customer_success.integrations.desk.api.{method}",
			)
		plan = make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1)
		with change_settings(create_todos=1):
			milestone = make_milestone(plan, add_days(nowdate(), 10), assigned_to=CSM1)
		stored = frappe.db.get_value(milestone.doctype, milestone.name, ["assigned_to", "modified"])
		opened = frappe.get_doc(milestone.doctype, milestone.name)  # the form, as opened
		frappe.set_user(CSM1)
		try:
			assign_to.add({"assign_to": [CSM2], "doctype": milestone.doctype, "name": milestone.name})
			self.assertTrue(
				frappe.db.exists(
					"ToDo", {"reference_name": milestone.name, "allocated_to": CSM2, "status": "Open"}
				)
			)
			self.assertEqual(
				frappe.db.get_value(milestone.doctype, milestone.name, ["assigned_to", "modified"]), stored
			)
			assign_to.remove(milestone.doctype, milestone.name, CSM2)
			self.assertEqual(
				frappe.db.get_value(milestone.doctype, milestone.name, ["assigned_to", "modified"]), stored
			)
			opened.description = "Kick-off agreed"
			opened.save()  # the form opened before still saves
			# several records at once, as the list's Assign To sends them (a JSON list of names)
			stored = frappe.db.get_value(milestone.doctype, milestone.name, ["assigned_to", "modified"])
			names = json.dumps([milestone.name])
			assign_to.add_multiple({"assign_to": [CSM2], "doctype": milestone.doctype, "name": names})
			self.assertTrue(
				frappe.db.exists(
					"ToDo", {"reference_name": milestone.name, "allocated_to": CSM2, "status": "Open"}
				)
			)
			assign_to.remove_multiple(milestone.doctype, names)
			self.assertEqual(
				frappe.db.get_value(milestone.doctype, milestone.name, ["assigned_to", "modified"]), stored
			)
			# text that is not JSON: a message, not a server error, and nothing assigned
			for broken in (
				lambda: assign_to.add("notjson"),
				lambda: assign_to.add('["x"]'),
				lambda: assign_to.add_multiple(
					{"assign_to": [CSM2], "doctype": milestone.doctype, "name": "notjson"}
				),
				lambda: assign_to.remove_multiple(milestone.doctype, "notjson"),
				lambda: assign_to.remove_multiple(milestone.doctype, '{"a": 1}'),
			):
				self.assertRaisesRegex(frappe.ValidationError, "must be given as a JSON", broken)
		finally:
			frappe.set_user("Administrator")

	def test_a_milestone_done_keeps_its_owner_and_its_form_saves_again(self):
		plan = make_success_plan(make_customer(cs_owner=CSM1).name, csm=CSM1)
		with change_settings(create_todos=1):
			milestone = make_milestone(plan, add_days(nowdate(), 10), assigned_to=CSM2)
			self.assertTrue(
				frappe.db.exists(
					"ToDo", {"reference_name": milestone.name, "allocated_to": CSM2, "status": "Open"}
				)
			)
			# the form as saved: what frappe's assignment wrote after it must not make it stale
			self.assertEqual(
				str(frappe.db.get_value(milestone.doctype, milestone.name, "modified")),
				str(milestone.modified),
			)
			milestone.status = "Done"
			milestone.completed_on = nowdate()
			milestone.save()
			self.assertEqual(frappe.db.get_value(milestone.doctype, milestone.name, "assigned_to"), CSM2)
			self.assertEqual(
				str(frappe.db.get_value(milestone.doctype, milestone.name, "modified")),
				str(milestone.modified),
			)
			self.assertEqual(
				frappe.db.get_value(
					"ToDo", {"reference_name": milestone.name, "allocated_to": CSM2}, "status"
				),
				"Closed",
			)
			milestone.evidence = "Signed off"  # the next save of the same form goes through
			milestone.save()
			# the plan closes: its milestones keep their owners
			other = make_milestone(plan, add_days(nowdate(), 12), assigned_to=CSM2)
			plans.cancel_milestone_todos(plan.name)
			self.assertEqual(frappe.db.get_value(other.doctype, other.name, "assigned_to"), CSM2)
			self.assertEqual(
				frappe.db.get_value("ToDo", {"reference_name": other.name, "allocated_to": CSM2}, "status"),
				"Cancelled",
			)

	def test_a_milestone_is_not_done_in_the_future(self):
		plan = make_success_plan(make_customer().name, start_date=add_days(nowdate(), -30))
		with self.assertRaisesRegex(frappe.ValidationError, "in the future"):
			make_milestone(plan, add_days(nowdate(), 10), status="Done", completed_on=add_days(nowdate(), 5))
		done = make_milestone(plan, add_days(nowdate(), 10), status="Done", completed_on=nowdate())
		self.assertEqual(getdate(done.completed_on), getdate(nowdate()))


class TestCheckinListIndicator(PlansTestCase):
	"""Runs frappe's own frappe.get_indicator with our list settings in node."""

	def indicators(self, docs, today="2026-06-15"):
		node = shutil.which("node")
		if not node:
			self.skipTest("node is not installed")
		script = """
const fs = require("fs");
global.__ = (s) => s;
global.frappe = {
	listview_settings: {},
	model: { is_submittable: () => true },
	workflow: { workflows: {}, get_state_fieldname: () => null, avoid_status_override: {} },
	get_meta: () => ({ states: [] }),
	meta: { has_field: () => false },
	datetime: { get_today: () => process.argv[3] },
	utils: { guess_colour: () => "gray" },
};
eval(fs.readFileSync(process.argv[1], "utf8"));
eval(fs.readFileSync(process.argv[2], "utf8"));
const docs = JSON.parse(process.argv[4]);
console.log(JSON.stringify(docs.map((d) => frappe.get_indicator(d, "Success Plan Check-in").slice(0, 2))));
"""
		indicator_js = frappe.get_app_path("frappe", "public", "js", "frappe", "model", "indicator.js")
		list_js = frappe.get_app_path(
			"customer_success",
			"success_plans",
			"doctype",
			"success_plan_check_in",
			"success_plan_check_in_list.js",
		)
		out = subprocess.run(
			[node, "-e", script, "--", indicator_js, list_js, today, json.dumps(docs)],
			capture_output=True,
			text=True,
			check=True,
		)
		return [tuple(i) for i in json.loads(out.stdout)]

	def test_open_checkins_show_due_or_overdue_not_draft(self):
		docs = [
			{"docstatus": 0, "status": "Due", "due_date": "2026-06-20"},
			{"docstatus": 0, "status": "Due", "due_date": "2026-06-15"},
			{"docstatus": 0, "status": "Due", "due_date": "2026-06-01"},
			{"docstatus": 1, "status": "Completed", "due_date": "2026-06-01"},
		]
		self.assertEqual(
			self.indicators(docs),
			[("Due", "orange"), ("Due", "orange"), ("Overdue", "red"), ("Completed", "green")],
		)
