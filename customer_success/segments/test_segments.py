"""Segments on a real site: tiers from invoices (manual tiers kept), touchpoints planned once and
recorded done or missed, the template that fits a segment, the Segment Performance report."""

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.segments import engine, queries, service
from customer_success.segments.report.segment_performance import segment_performance
from customer_success.setup import defaults
from customer_success.tests.utils import (
	change_settings,
	make_communication,
	make_customer,
	make_sales_invoice,
	make_sales_order,
	make_shared_users,
	make_success_plan,
)

CSM1 = "cs-seg-csm1@example.com"
CSM2 = "cs-seg-csm2@example.com"
MANAGER = "cs-seg-manager@example.com"
# the site's today, taken again as each test starts (`set_today`): a module imported before the
# site's midnight and tested after it would make its records a day before the code's today
TODAY = getdate(nowdate())


def set_today():
	global TODAY
	TODAY = getdate(nowdate())


def make_segment(name=None, needs="Quarterly reviews and an executive sponsor."):
	name = name or f"_CS Test Segment {frappe.generate_hash(length=6)}"
	return frappe.get_doc(
		{"doctype": "Customer Segment", "segment_name": name, "needs": needs, "description": "Test"}
	).insert(ignore_permissions=True)


def make_touchpoint(offset=0, window=5, repeat=0, **fields):
	return frappe.get_doc(
		{
			"doctype": "Lifecycle Touchpoint",
			"touchpoint_name": f"_CS Test Touchpoint {frappe.generate_hash(length=6)}",
			"offset_days": offset,
			"window_days": window,
			"repeat_days": repeat,
			"owner_role": "CSM",
			**fields,
		}
	).insert(ignore_permissions=True)


def records_of(customer, touchpoint=None):
	filters = {"customer": customer}
	if touchpoint:
		filters["touchpoint"] = touchpoint
	return frappe.get_all(
		"Customer Touchpoint",
		filters=filters,
		fields=[
			"name",
			"touchpoint",
			"status",
			"todo",
			"due_date",
			"done_by_doctype",
			"done_by_name",
			"assigned_to",
		],
	)


def active_plan(customer, **fields):
	"""A running plan (plans start as Draft; the status moves by db, as other tests do)."""
	plan = make_success_plan(customer, **fields)
	frappe.db.set_value("Success Plan", plan.name, "status", "Active")
	return plan


class SegmentsTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM1: [CSM_ROLE], CSM2: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})
		defaults.make_default_segment_settings()
		frappe.db.commit()  # nosemgrep: shared fixtures of the class

	def setUp(self):
		set_today()
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestTiers(SegmentsTestCase):
	def test_tiers_come_from_net_revenue_and_manual_tiers_are_kept(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		grows = make_customer().name
		make_sales_invoice(grows, rate=150000, posting_date=add_days(TODAY, -30))
		netted = make_customer().name
		invoice = make_sales_invoice(netted, rate=150000, posting_date=add_days(TODAY, -60))
		credit = make_sales_return(invoice.name)
		credit.items[0].rate = 140000
		credit.insert(ignore_permissions=True)
		credit.submit()
		manual = make_customer(cs_tier="Strategic").name  # set by a person
		make_sales_invoice(manual, rate=25000, posting_date=add_days(TODAY, -10))
		old = make_customer().name
		make_sales_invoice(old, rate=900000, posting_date=add_days(TODAY, -400))  # outside the year
		self.assertEqual(frappe.db.get_value("Customer", manual, "cs_tier_source"), engine.MANUAL)

		from customer_success.segments import api as segments_api

		frappe.set_user(CSM1)  # the button's method: CS Managers', with a message
		with self.assertRaisesRegex(frappe.PermissionError, "Only a CS Manager or a System Manager"):
			segments_api.compute_tiers()
		frappe.set_user(MANAGER)
		with change_settings(compute_tiers=0):
			self.assertTrue(segments_api.compute_tiers()["skipped"])
		frappe.set_user("Administrator")
		with change_settings(compute_tiers=0):
			self.assertTrue(service.compute_tiers()["skipped"])
			self.assertFalse(frappe.db.get_value("Customer", grows, "cs_tier"))
		with change_settings(compute_tiers=1):
			service.compute_tiers()
			tiers = {
				name: frappe.db.get_value("Customer", name, ["cs_tier", "cs_tier_source"])
				for name in (grows, netted, manual, old)
			}
			self.assertEqual(tiers[grows], ("Enterprise", engine.COMPUTED))
			self.assertEqual(tiers[netted], ("SMB", engine.COMPUTED))  # 150k - 140k = 10k
			self.assertEqual(tiers[manual], ("Strategic", engine.MANUAL))
			self.assertEqual(tiers[old], ("SMB", engine.COMPUTED))

			# clearing the tier hands it back to the job
			doc = frappe.get_doc("Customer", manual)
			doc.cs_tier = ""
			doc.save()
			self.assertFalse(doc.cs_tier_source)
			service.compute_tiers()
			self.assertEqual(
				frappe.db.get_value("Customer", manual, ["cs_tier", "cs_tier_source"]),
				("Mid-Market", engine.COMPUTED),
			)

	def test_the_tier_job_commits_batch_by_batch(self):
		"""The daily job (and the manager's button) commit each batch with the roll-ups it moved, so the
		shared sums are not held locked until the whole book is tiered; a direct call commits nothing."""
		a, b, c = (make_customer().name for _ in range(3))
		with patch.object(queries, "UPDATE_BATCH", 1), patch.object(frappe.db, "commit") as commit:
			queries.write_tiers({"Strategic": [a, b], "": [c]}, engine.COMPUTED)
			self.assertEqual(commit.call_count, 0)
			self.assertEqual(queries.write_tiers({"SMB": [a, b], "": [c]}, engine.COMPUTED, commit=True), 3)
			self.assertEqual(commit.call_count, 3)
		self.assertEqual(
			frappe.db.get_value("Customer", a, ["cs_tier", "cs_tier_source"]), ("SMB", engine.COMPUTED)
		)
		self.assertFalse(frappe.db.get_value("Customer", c, "cs_tier"))
		with (
			patch.object(service, "compute_tiers", return_value={}) as compute,
			patch.object(service, "plan_and_record", return_value={}),
			patch.object(frappe.db, "commit"),
		):
			service.run_daily(TODAY)
		compute.assert_called_once_with(TODAY, commit=True)

	def test_a_csm_setting_the_tier_makes_it_manual(self):
		customer = make_customer(cs_owner=CSM1).name
		frappe.db.set_value("Customer", customer, {"cs_tier": "SMB", "cs_tier_source": engine.COMPUTED})
		frappe.set_user(CSM1)
		doc = frappe.get_doc("Customer", customer)
		doc.customer_details = "An unrelated edit"
		doc.save()
		self.assertEqual(doc.cs_tier_source, engine.COMPUTED)  # the tier did not change
		doc.cs_tier = "Enterprise"
		doc.save()
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_tier_source"), engine.MANUAL)

	def test_a_csm_cannot_set_the_segment_of_another_book(self):
		segment = make_segment().name
		customer = make_customer(cs_owner=CSM2).name
		frappe.set_user(CSM1)
		doc = frappe.get_doc("Customer", customer)
		doc.cs_segment = segment
		self.assertRaises(frappe.PermissionError, doc.save)

	def test_a_disabled_segment_is_not_put_on_a_customer(self):
		segment = make_segment()
		customer = make_customer(cs_owner=CSM1, cs_segment=segment.name).name
		segment.enabled = 0
		segment.save()
		doc = frappe.get_doc("Customer", customer)
		doc.customer_details = "An unrelated edit"
		doc.save()  # a customer whose segment was disabled later keeps it and still saves
		other = make_customer(cs_owner=CSM1)
		other.cs_segment = segment.name
		self.assertRaisesRegex(frappe.ValidationError, "is disabled", other.save)
		self.assertFalse(frappe.db.get_value("Customer", other.name, "cs_segment"))

	def test_tier_bands_in_the_wrong_order_are_refused(self):
		settings = frappe.get_single("Customer Success Settings")
		settings.set(
			"tier_bands",
			[{"min_revenue": 100000, "tier": "Enterprise"}, {"min_revenue": 200000, "tier": "Mid-Market"}],
		)
		self.assertRaisesRegex(frappe.ValidationError, "a higher tier needs a higher", settings.save)

	def test_bands_are_validated(self):
		settings = frappe.get_single("Customer Success Settings")
		settings.set("tier_bands", [{"min_revenue": 0, "tier": "SMB"}, {"min_revenue": 10, "tier": "SMB"}])
		self.assertRaises(frappe.ValidationError, settings.save)
		settings.reload()
		settings.set("tier_bands", [])
		settings.compute_tiers = 1
		self.assertRaises(frappe.ValidationError, settings.save)


class TestTouchpoints(SegmentsTestCase):
	def started_customer(self, days_ago: int, **fields) -> str:
		customer = make_customer(cs_owner=CSM1, **fields).name
		make_sales_order(
			customer, transaction_date=add_days(TODAY, -days_ago), delivery_date=add_days(TODAY, 30)
		)
		return customer

	def test_due_touchpoints_become_todos_once(self):
		touchpoint = make_touchpoint(
			offset=3, window=5
		).name  # due in 1 day for a customer started 2 days ago
		customer = self.started_customer(2)
		with change_settings(create_todos=1, touchpoint_lead_days=7):
			first = service.plan_touchpoints(TODAY, customers=[customer])
			again = service.plan_touchpoints(TODAY, customers=[customer])
		[record] = records_of(customer, touchpoint)
		self.assertGreaterEqual(first["planned"], 1)
		self.assertEqual(again["planned"], 0)
		self.assertEqual(record.status, engine.PLANNED)
		self.assertEqual(getdate(record.due_date), add_days(TODAY, 1))
		self.assertEqual(record.assigned_to, CSM1)
		todo = frappe.get_doc("ToDo", record.todo)
		self.assertEqual(
			(todo.allocated_to, todo.reference_type, todo.reference_name),
			(CSM1, "Customer Touchpoint", record.name),
		)
		self.assertEqual(
			frappe.db.count("ToDo", {"reference_type": "Customer Touchpoint", "reference_name": record.name}),
			1,
		)

	def test_a_churned_customer_leaves_no_open_work_and_a_disabled_one_keeps_it(self):
		"""Tester Z2: a customer churned (by its form or a renewal) closed its alerts only: its plan
		stayed Active, its milestones' ToDos and reminders, its planned touchpoints and its open
		handoff went on. Now they close, saying why; an Achieved plan keeps its outcome. A disabled
		customer's are kept (tester K2: a disable undone left plans Closed for good): only its alerts
		resolve."""
		from customer_success.renewals import api as renewals_api
		from customer_success.renewals import service as renewals
		from customer_success.success_plans.test_success_plans import make_milestone
		from customer_success.tests.utils import make_contract

		make_touchpoint(offset=3, window=5)

		def customer_with_open_work():
			customer = self.started_customer(2)
			with change_settings(create_todos=1, touchpoint_lead_days=7):
				service.plan_touchpoints(TODAY, customers=[customer])
				plan = make_success_plan(customer, csm=CSM1)
				milestone = make_milestone(plan, add_days(TODAY, 10), assigned_to=CSM1)
			achieved = make_success_plan(customer, csm=CSM1)
			achieved.db_set("status", "Achieved")
			handoff = frappe.db.get_value("Sales Handoff", {"customer": customer, "status": "Draft"}) or (
				frappe.get_doc({"doctype": "Sales Handoff", "customer": customer})
				.insert(ignore_permissions=True)
				.name
			)
			return customer, plan, milestone, achieved, handoff

		def open_todos(*records):
			return frappe.get_all(
				"ToDo",
				filters={"reference_name": ("in", [r for r in records if r]), "status": "Open"},
				pluck="name",
			)

		def said_why(doctype, name):
			return frappe.db.exists(
				"Comment",
				{
					"reference_doctype": doctype,
					"reference_name": name,
					"content": ("like", "%nothing more to act on%"),
				},
			)

		churned, by_renewal, disabled = (customer_with_open_work() for _ in range(3))
		frappe.set_user(CSM1)
		doc = frappe.get_doc("Customer", churned[0])
		doc.cs_lifecycle_stage = "Churned"
		doc.save()
		frappe.set_user("Administrator")
		contract = make_contract(by_renewal[0], add_days(TODAY, -300), add_days(TODAY, 60))
		renewals.create_renewals(TODAY, contracts=[contract.name])
		frappe.set_user(CSM1)
		renewals_api.mark_churned(frappe.db.get_value("Renewal", {"contract": contract.name}), "Price")
		frappe.set_user("Administrator")
		for customer, plan, milestone, achieved, handoff in (churned, by_renewal):
			touchpoints = records_of(customer)
			self.assertTrue(touchpoints, customer)
			self.assertEqual({r.status for r in touchpoints}, {engine.CANCELLED}, customer)
			self.assertTrue(all(said_why("Customer Touchpoint", r.name) for r in touchpoints))
			self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "status"), "Closed", customer)
			self.assertTrue(said_why("Success Plan", plan.name))
			self.assertEqual(frappe.db.get_value("Success Plan", achieved.name, "status"), "Achieved")
			self.assertEqual(frappe.db.get_value("Sales Handoff", handoff, "status"), "Cancelled")
			self.assertFalse(open_todos(milestone.name, handoff, *(r.name for r in touchpoints)), customer)

		# one room failing is logged: the churn is saved and the other rooms close their work
		from unittest.mock import patch

		failing = customer_with_open_work()
		with patch(
			"customer_success.success_plans.service.close_plans_of_customer_gone",
			side_effect=RuntimeError("a plan that will not close"),
		):
			doc = frappe.get_doc("Customer", failing[0])
			doc.cs_lifecycle_stage = "Churned"
			doc.save()
		self.assertEqual(frappe.db.get_value("Customer", failing[0], "cs_lifecycle_stage"), "Churned")
		self.assertEqual({r.status for r in records_of(failing[0])}, {engine.CANCELLED})
		self.assertEqual(frappe.db.get_value("Sales Handoff", failing[4], "status"), "Cancelled")
		self.assertTrue(
			frappe.db.exists("Error Log", {"reference_doctype": "Customer", "reference_name": failing[0]})
		)

		customer, plan, milestone, _achieved, handoff = disabled
		doc = frappe.get_doc("Customer", customer)
		doc.disabled = 1
		doc.save()
		self.assertEqual({r.status for r in records_of(customer)}, {engine.PLANNED})
		self.assertEqual(frappe.db.get_value("Success Plan", plan.name, "status"), "Draft")
		self.assertEqual(frappe.db.get_value("Sales Handoff", handoff, "status"), "Draft")
		self.assertTrue(open_todos(milestone.name))

	def test_a_touchpoint_outside_the_lead_is_not_planned_yet(self):
		touchpoint = make_touchpoint(offset=30, window=5).name
		customer = self.started_customer(2)
		with change_settings(touchpoint_lead_days=7):
			service.plan_touchpoints(TODAY, customers=[customer])
		self.assertFalse(records_of(customer, touchpoint))

	def test_a_touch_in_the_window_records_the_touchpoint_done(self):
		touchpoint = make_touchpoint(offset=2, window=5).name
		customer = self.started_customer(2)
		service.plan_touchpoints(TODAY, customers=[customer])
		[record] = records_of(customer, touchpoint)
		service.record_touches(TODAY)
		self.assertEqual(records_of(customer, touchpoint)[0].status, engine.PLANNED)  # nothing happened yet
		call = make_communication(customer, days_ago=0)
		result = service.record_touches(TODAY)
		[done] = records_of(customer, touchpoint)
		self.assertGreaterEqual(result["done"], 1)
		self.assertEqual((done.status, done.done_by_doctype), (engine.DONE, "Communication"))
		# one touch completes one touchpoint: the earliest due of the customer's open ones
		self.assertIn(done.done_by_name, {call.name})
		if record.todo:
			self.assertEqual(frappe.db.get_value("ToDo", record.todo, "status"), "Closed")

	def test_one_touch_completes_one_touchpoint_across_runs(self):
		first = make_touchpoint(offset=0, window=7).name  # due 2 days ago
		second = make_touchpoint(offset=2, window=7).name  # due today
		customer = self.started_customer(2)
		service.plan_touchpoints(TODAY, customers=[customer])
		make_communication(customer, days_ago=1)
		for _run in range(3):  # the daily job, the form's Plan Touchpoints, again
			service.record_touches(TODAY, customers=[customer])
		self.assertEqual(records_of(customer, first)[0].status, engine.DONE)
		self.assertEqual(records_of(customer, second)[0].status, engine.PLANNED)
		make_communication(customer, days_ago=0)  # a second touch completes the second
		service.record_touches(TODAY, customers=[customer])
		self.assertEqual(records_of(customer, second)[0].status, engine.DONE)
		self.assertNotEqual(
			records_of(customer, first)[0].done_by_name, records_of(customer, second)[0].done_by_name
		)

	def test_the_patch_gives_a_touch_back_to_the_touchpoint_due_first(self):
		from customer_success.patches.v0_7 import touches_that_completed_two_touchpoints

		first = make_touchpoint(offset=0, window=7).name
		second = make_touchpoint(offset=2, window=7).name
		customer = self.started_customer(2)
		service.plan_touchpoints(TODAY, customers=[customer])
		call = make_communication(customer, days_ago=1)
		for touchpoint in (first, second):  # as an earlier version recorded them
			frappe.db.set_value(
				"Customer Touchpoint",
				records_of(customer, touchpoint)[0].name,
				{
					"status": engine.DONE,
					"done_on": add_days(TODAY, -1),
					"done_by_doctype": "Communication",
					"done_by_name": call.name,
				},
			)
		touches_that_completed_two_touchpoints.execute()
		self.assertEqual(
			(records_of(customer, first)[0].status, records_of(customer, first)[0].done_by_name),
			(engine.DONE, call.name),
		)
		self.assertEqual(
			(records_of(customer, second)[0].status, records_of(customer, second)[0].done_by_name),
			(engine.PLANNED, None),
		)

	def test_touches_are_found_across_names_in_the_databases_order(self):
		# Python sorts "_" after letters, MariaDB's collation before them: the range must be the
		# database's, or a book with both kinds of names misses touches.
		touchpoint = make_touchpoint(offset=2, window=5).name
		lettered = make_customer(f"Aardvark Seg Test {frappe.generate_hash(length=6)}", cs_owner=CSM1).name
		underscored = make_customer(cs_owner=CSM1).name
		for name in (lettered, underscored):
			make_sales_order(name, transaction_date=add_days(TODAY, -2))
		service.plan_touchpoints(TODAY, customers=[lettered, underscored])
		make_communication(lettered, days_ago=0)
		make_communication(underscored, days_ago=0)
		service.record_touches(TODAY)
		for name in (lettered, underscored):
			self.assertEqual(records_of(name, touchpoint)[0].status, engine.DONE, name)

	def test_a_window_that_closed_without_a_touch_is_missed(self):
		touchpoint = make_touchpoint(offset=8, window=1).name  # due 2 days ago, window closed yesterday
		customer = self.started_customer(10)
		service.plan_touchpoints(add_days(TODAY, -2), customers=[customer])
		[record] = records_of(customer, touchpoint)
		make_communication(customer, days_ago=0)  # too late for this window
		service.record_touches(TODAY)
		self.assertEqual(records_of(customer, touchpoint)[0].status, engine.MISSED)
		if record.todo:
			self.assertEqual(frappe.db.get_value("ToDo", record.todo, "status"), "Cancelled")

	def test_touchpoints_follow_tier_and_segment(self):
		segment = make_segment().name
		strategic = make_touchpoint(offset=1, tier="Strategic").name
		for_segment = make_touchpoint(offset=1, segment=segment).name
		smb = self.started_customer(1, cs_tier="SMB", cs_segment=segment)
		service.plan_touchpoints(TODAY, customers=[smb])
		planned = {r.touchpoint for r in records_of(smb)}
		self.assertIn(for_segment, planned)
		self.assertNotIn(strategic, planned)

	def test_a_customer_without_an_order_has_no_start(self):
		touchpoint = make_touchpoint(offset=0).name
		customer = make_customer(cs_owner=CSM1).name
		make_sales_invoice(customer, rate=100)  # live, but no Sales Order: no lifecycle start
		service.plan_touchpoints(TODAY, customers=[customer])
		self.assertFalse(records_of(customer, touchpoint))

	def test_a_csm_sees_the_touchpoints_of_her_book_only(self):
		make_touchpoint(offset=1)
		mine = self.started_customer(1)
		theirs = make_customer(cs_owner=CSM2).name
		make_sales_order(theirs, transaction_date=add_days(TODAY, -1))
		service.plan_touchpoints(TODAY, customers=[mine, theirs])
		frappe.set_user(CSM1)
		seen = {r.customer for r in frappe.get_list("Customer Touchpoint", fields=["customer"])}
		self.assertIn(mine, seen)
		self.assertNotIn(theirs, seen)
		other = records_of(theirs)[0].name
		self.assertFalse(frappe.has_permission("Customer Touchpoint", "read", doc=other))

	def test_the_customer_form_plans_its_own_touchpoints_only(self):
		from customer_success.segments import api

		touchpoint = make_touchpoint(offset=1).name
		mine = self.started_customer(1)
		theirs = make_customer(cs_owner=CSM2).name
		frappe.set_user(CSM1)
		api.plan_customer_touchpoints(mine)
		self.assertEqual(len(records_of(mine, touchpoint)), 1)
		self.assertTrue(any(r["touchpoint"] == touchpoint for r in api.customer_touchpoints(mine)))
		self.assertRaises(frappe.PermissionError, api.plan_customer_touchpoints, theirs)

	def test_a_user_who_reads_the_customer_and_no_touchpoints_gets_none_and_no_error(self):
		"""ERPNext's Sales User opens the Customer form, which asks for its touchpoints."""
		from customer_success.segments import api
		from customer_success.tests.utils import make_user

		make_touchpoint(offset=1)
		customer = self.started_customer(1)
		service.plan_touchpoints(TODAY, customers=[customer])
		self.assertTrue(records_of(customer))
		make_user("cs-test-sales-user@example.com", ["Sales User"])
		frappe.set_user("cs-test-sales-user@example.com")
		self.assertTrue(frappe.has_permission("Customer", "read", doc=customer))
		self.assertFalse(frappe.has_permission("Customer Touchpoint", "read"))
		self.assertEqual(api.customer_touchpoints(customer), [])

	def test_touchpoint_bounds(self):
		self.assertRaises(frappe.ValidationError, make_touchpoint, offset=-1)
		self.assertRaises(frappe.ValidationError, make_touchpoint, repeat=20, window=10)

	def test_the_daily_run_is_idempotent(self):
		touchpoint = make_touchpoint(offset=1).name
		customer = self.started_customer(1)
		# the job commits each step: here the test's transaction must stay open to be rolled back
		with change_settings(plan_touchpoints=1), patch.object(frappe.db, "commit"):
			service.run_daily(TODAY)
			service.run_daily(TODAY)
		self.assertEqual(len(records_of(customer, touchpoint)), 1)

	def test_a_renamed_customers_touchpoints_are_not_planned_again(self):
		"""A record's name is made of its customer's name when planned; a rename keeps the records."""
		touchpoint = make_touchpoint(offset=1).name
		customer = self.started_customer(1)
		planned = service.plan_touchpoints(TODAY, customers=[customer])["planned"]
		self.assertEqual(len(records_of(customer, touchpoint)), 1)
		renamed = frappe.rename_doc("Customer", customer, f"{customer} Renamed", force=True)
		self.assertEqual(len(records_of(renamed)), planned)
		self.assertEqual(service.plan_touchpoints(TODAY, customers=[renamed])["planned"], 0)
		self.assertEqual(len(records_of(renamed)), planned)
		self.assertEqual(len(records_of(renamed, touchpoint)), 1)


class TestTemplatesAndReport(SegmentsTestCase):
	def test_the_template_of_the_segment_and_tier_is_chosen(self):
		from customer_success.success_plans import api as plan_api
		from customer_success.success_plans import service as plans

		segment = make_segment().name
		template = frappe.get_doc(
			{
				"doctype": "Success Plan Template",
				"template_name": f"_CS Test Template {frappe.generate_hash(length=6)}",
				"enabled": 1,
				"tier": "Strategic",
				"segment": segment,
				"objectives": [{"objective": "Adoption", "default_baseline": 10, "default_target": 50}],
			}
		).insert(ignore_permissions=True)
		self.assertEqual(plans.template_for_tier("Strategic", segment), template.name)
		self.assertNotEqual(plans.template_for_tier("Strategic", None), template.name)
		customer = make_customer(cs_owner=CSM1, cs_tier="Strategic", cs_segment=segment).name
		plan = plan_api.create_plan(customer)
		self.assertEqual(frappe.db.get_value("Success Plan", plan, "template"), template.name)

	def test_segment_performance_report(self):
		segment = make_segment().name
		green = make_customer(cs_owner=CSM1, cs_tier="Strategic", cs_segment=segment).name
		red = make_customer(cs_owner=CSM2, cs_tier="Strategic", cs_segment=segment).name
		make_sales_invoice(green, rate=3000, posting_date=add_days(TODAY, -20))
		make_sales_invoice(red, rate=1000, posting_date=add_days(TODAY, -20))
		frappe.db.set_value("Customer", green, {"cs_health_status": "Green", "cs_health_score": 80})
		frappe.db.set_value("Customer", red, {"cs_health_status": "Red", "cs_health_score": 30})
		active_plan(green)

		columns, rows, _message, chart = segment_performance.execute({"group_by": "Segment"})
		[row] = [r for r in rows if r["segment"] == segment]
		self.assertEqual(row["customers"], 2)
		self.assertEqual(row["revenue"], 4000)
		self.assertEqual(row["average_health"], 55)
		self.assertEqual(row["share_green"], 50)
		self.assertEqual(row["plan_coverage"], 50)
		self.assertIn("plan_coverage", [c["fieldname"] for c in columns])
		self.assertEqual(len(chart["data"]["labels"]), len(rows))

		_columns, rows, _message, _chart = segment_performance.execute({"group_by": "Tier and Segment"})
		self.assertTrue(any(r["segment"] == segment and r["tier"] == "Strategic" for r in rows))

		frappe.set_user(CSM1)  # her book only
		_columns, rows, _message, _chart = segment_performance.execute({"group_by": "Segment"})
		[row] = [r for r in rows if r["segment"] == segment]
		self.assertEqual((row["customers"], row["revenue"], row["share_green"]), (1, 3000, 100))

	def test_segment_retention_uses_the_renewals_maths(self):
		from customer_success.tests.utils import ensure_fiscal_year

		earlier = add_days(TODAY, -540)  # in (T - 24 months, T - 12 months]
		ensure_fiscal_year(earlier)
		segment, gone = make_segment().name, make_segment().name
		grows = make_customer(cs_segment=segment).name
		churns = make_customer(cs_segment=segment).name
		new = make_customer(cs_segment=segment).name
		lost = make_customer(cs_segment=gone).name
		for name, before, after in (
			(grows, 1000, 1200),
			(churns, 1000, None),
			(new, None, 700),
			(lost, 500, None),
		):
			if before:
				make_sales_invoice(name, rate=before, posting_date=earlier)
			if after:
				make_sales_invoice(name, rate=after, posting_date=add_days(TODAY, -30))
		frappe.db.set_value("Customer", lost, "cs_lifecycle_stage", "Churned")

		_columns, rows, _message, _chart = segment_performance.execute({"group_by": "Segment"})
		[row] = [r for r in rows if r["segment"] == segment]
		# S = 2000; E = 200; L = 1000; the new customer counts in neither
		self.assertEqual((row["grr"], row["nrr"]), (50.0, 60.0))
		[churned] = [r for r in rows if r["segment"] == gone]  # everyone left: the row still shows
		self.assertEqual((churned["customers"], churned["grr"], churned["nrr"]), (0, 0.0, 0.0))

	def test_a_bad_grouping_is_refused(self):
		self.assertRaises(frappe.ValidationError, segment_performance.execute, {"group_by": "Colour"})

	def test_segments_are_readable_by_csms_and_kept_by_managers(self):
		segment = make_segment().name
		frappe.set_user(CSM1)
		self.assertTrue(frappe.has_permission("Customer Segment", "read", doc=segment))
		self.assertFalse(frappe.has_permission("Customer Segment", "write", doc=segment))
		frappe.set_user(MANAGER)
		self.assertTrue(frappe.has_permission("Customer Segment", "write", doc=segment))


class TestSegmentPerformanceFromTheRollup(SegmentsTestCase):
	"""At a point the retention roll-up holds, the report groups it in the database: the same rows as the
	live computation from every customer and the ledger, for the team and a CSM's book, in every
	grouping (churned and disabled customers, a credit note, a customer live through an order only,
	one not live at all, several tiers and segments)."""

	LEAP_POINT = getdate("2024-03-31")  # its twelve months hold 29 February 2024: a day more than 365

	def setUp(self):
		from customer_success.tests.utils import ensure_fiscal_year

		super().setUp()
		self.month_end = getdate(frappe.utils.get_last_day(frappe.utils.add_months(TODAY, -2)))
		ensure_fiscal_year(getdate("2023-04-01"))

	def make_book(self):
		from customer_success.renewals.test_renewals import make_credit_note

		one, two = make_segment().name, make_segment().name
		customers = {
			"grows": make_customer(cs_owner=CSM1, cs_tier="Strategic", cs_segment=one),
			"shrinks": make_customer(cs_owner=CSM1, cs_tier="Strategic", cs_segment=one),
			"churned": make_customer(cs_owner=CSM1, cs_tier="SMB", cs_segment=two),
			"disabled": make_customer(cs_owner=CSM2, cs_tier="SMB", cs_segment=two),
			"order_only": make_customer(cs_owner=CSM1, cs_tier="SMB"),
			"not_live": make_customer(cs_owner=CSM1, cs_tier="Strategic", cs_segment=one),
			"other_book": make_customer(cs_owner=CSM2, cs_tier="Enterprise", cs_segment=one),
		}
		names = {key: doc.name for key, doc in customers.items()}
		earlier, later = add_days(TODAY, -540), add_days(TODAY, -30)
		for key, before, after in (
			("grows", 1000, 1500),
			("shrinks", 2000, 1200),
			("churned", 800, None),
			("disabled", 600, 300),
			("other_book", 400, 900),
		):
			make_sales_invoice(names[key], rate=before, posting_date=earlier)
			if after:
				make_sales_invoice(names[key], rate=after, posting_date=later)
		make_credit_note(make_sales_invoice(names["shrinks"], rate=500, posting_date=later), 300)
		# the leap point: 1 April 2023 is in its later window, not in the report's 365 days
		make_sales_invoice(names["grows"], rate=700, posting_date="2023-04-01")
		make_sales_invoice(names["grows"], rate=900, posting_date="2023-04-02")
		make_sales_invoice(names["other_book"], rate=250, posting_date="2023-04-01")
		make_sales_order(names["order_only"], rate=100)
		for key, status, score in (
			("grows", "Green", 82),
			("shrinks", "Red", 31),
			("other_book", "Yellow", 55),
		):
			frappe.db.set_value(
				"Customer", names[key], {"cs_health_status": status, "cs_health_score": score}
			)
		frappe.db.set_value("Customer", names["churned"], "cs_lifecycle_stage", "Churned")
		frappe.db.set_value("Customer", names["disabled"], "disabled", 1)
		active_plan(names["grows"])
		active_plan(names["other_book"])
		return names, (one, two)

	def test_the_rollup_gives_the_live_rows(self):
		_names, (one, two) = self.make_book()
		from customer_success.renewals import service as renewals_service

		renewals_service.reconcile_retention_rollup()
		for day in (TODAY, self.month_end, self.LEAP_POINT):
			self.assertTrue(service.rollup_answers(day, None), day)
			for group_by in segment_performance.GROUPINGS.values():
				for csm in (None, CSM1, CSM2):
					self.assertEqual(
						service.performance_from_rollup(day, group_by, csm),
						service.live_performance(day, group_by, None, csm),
						(day, group_by, csm),
					)
		# the figures themselves, by hand, for segment one in CSM1's book today
		[row] = [r for r in service.performance_from_rollup(TODAY, ("segment",), CSM1) if r["segment"] == one]
		# grows (Green 82, a plan) and shrinks (Red 31); the customer with nothing invoiced is not live
		self.assertEqual((row["customers"], row["revenue"]), (2, 1500 + 1200 + 500 - 300))
		self.assertEqual((row["average_health"], row["share_green"], row["plan_coverage"]), (56.5, 50, 50))
		# S = 3000; E = 500 (grows); C = 2000 - 1400 = 600 (shrinks, its credit note netted)
		self.assertEqual((row["grr"], row["nrr"]), (80.0, round(100 * 2900 / 3000, 2)))
		# segment two: the churned and the disabled customer count for retention only
		[row] = [r for r in service.performance_from_rollup(TODAY, ("segment",), None) if r["segment"] == two]
		self.assertEqual((row["customers"], row["revenue"]), (0, 0.0))
		self.assertEqual(row["grr"], round(100 * (1400 - 800 - 300) / 1400, 2))
		# at the leap point, the day the roll-up's window holds more is taken off the year's revenue
		[row] = [
			r
			for r in service.performance_from_rollup(self.LEAP_POINT, ("tier",), CSM1)
			if r["tier"] == "Strategic"
		]
		self.assertEqual(row["revenue"], 900)

	def assert_sums_give_the_live_rows(self, step):
		"""On a large book the rows come from the kept sums (the retention roll-up's point sums, the book
		roll-up's health figures), never from a pass over the customers: the live rows all the same."""
		from customer_success.customer_success import book_counts

		with (
			patch.object(book_counts, "large_book", return_value=True),
			patch.object(queries, "rolled_up_group_figures") as joined,
		):
			for day in (TODAY, self.month_end, self.LEAP_POINT):
				for group_by in segment_performance.GROUPINGS.values():
					for csm in (None, CSM1, CSM2):
						self.assertEqual(
							service.performance_from_rollup(day, group_by, csm),
							service.live_performance(day, group_by, None, csm),
							(step, day, group_by, csm),
						)
			self.assertFalse(joined.called)

	def test_the_kept_sums_give_the_live_rows_after_every_write(self):
		from customer_success.customer_success import book_counts
		from customer_success.renewals import service as renewals_service

		names, (one, two) = self.make_book()
		# make_book writes status, stage and disabled past the writers: the nightly reconciliations
		book_counts.reconcile()
		renewals_service.reconcile_retention_rollup()
		self.assert_sums_give_the_live_rows("reconciled")

		def save(name, **values):
			doc = frappe.get_doc("Customer", name)
			doc.update(values)
			doc.save(ignore_permissions=True)

		# the ledger: a first invoice makes a customer live; a cancelled one, the only one, not
		first = make_sales_invoice(names["not_live"], rate=300, posting_date=add_days(TODAY, -20))
		self.assert_sums_give_the_live_rows("first invoice")
		first.reload()
		first.cancel()
		self.assert_sums_give_the_live_rows("its only invoice cancelled")
		order = make_sales_order(names["not_live"], rate=50)
		self.assert_sums_give_the_live_rows("an order only")
		order.reload()
		order.cancel()
		# the Customer: CS Owner, tier, segment by form; stage Churned, disabled
		save(names["grows"], cs_owner=CSM2)
		self.assert_sums_give_the_live_rows("CS Owner by form")
		save(names["shrinks"], cs_tier="SMB")
		self.assert_sums_give_the_live_rows("tier by form")
		save(names["other_book"], cs_segment=two)
		self.assert_sums_give_the_live_rows("segment by form")
		save(names["shrinks"], cs_lifecycle_stage="Churned")
		self.assert_sums_give_the_live_rows("churned by form")
		save(names["grows"], disabled=1)
		self.assert_sums_give_the_live_rows("disabled by form")
		save(names["disabled"], disabled=0)
		self.assert_sums_give_the_live_rows("enabled by form")
		# the tier job, set-based
		untiered = make_customer(cs_owner=CSM1, cs_segment=one).name
		make_sales_invoice(untiered, rate=150000, posting_date=add_days(TODAY, -10))
		with change_settings(compute_tiers=1):
			service.compute_tiers()
		self.assertTrue(frappe.db.get_value("Customer", untiered, "cs_tier"))
		self.assert_sums_give_the_live_rows("tier by the tier job")

	def test_the_report_reads_the_rollup_when_it_holds_the_day(self):
		from customer_success.renewals import service as renewals_service

		self.make_book()
		renewals_service.reconcile_retention_rollup()
		for user in ("Administrator", CSM1):
			frappe.set_user(user)
			for grouping in segment_performance.GROUPINGS:
				filters = {"group_by": grouping}
				with patch.object(service, "rollup_answers", return_value=False):
					_c, live_rows, *_r = segment_performance.execute(dict(filters))
				with patch.object(service, "live_performance") as live:
					_c, rolled_rows, *_r = segment_performance.execute(dict(filters))
					self.assertFalse(live.called)
				self.assertEqual(rolled_rows, live_rows, (user, grouping))
		# a company that is not the only one with revenue, or a day it does not hold: live
		self.assertFalse(service.rollup_answers(add_days(self.month_end, -10), None))  # no month end
		self.assertFalse(service.rollup_answers(TODAY, "_CS No Such Company"))
