"""CS maturity on a real site: facts built from records, the levels proposed from them, adjustments
(a note required, the proposal kept), Propose Again, and the report comparing assessments."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, now_datetime, nowdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.maturity import engine, queries
from customer_success.maturity.report.cs_maturity_over_time import cs_maturity_over_time as report
from customer_success.tests.utils import (
	change_settings,
	make_customer,
	make_sales_invoice,
	make_shared_users,
	make_success_plan,
)

CSM = "cs-mat-csm@example.com"
MANAGER = "cs-mat-manager@example.com"
# the site's today, taken again as each test starts (`set_today`): a module imported before the
# site's midnight and tested after it would make its records a day before the code's today
TODAY = getdate(nowdate())


def set_today():
	global TODAY
	TODAY = getdate(nowdate())


def make_assessment(day=None, **fields):
	return frappe.get_doc(
		{"doctype": "CS Maturity Assessment", "assessment_date": day or TODAY, **fields}
	).insert(ignore_permissions=True)


def row_of(doc, area):
	return next(r for r in doc.capabilities if r.area == area)


def only_my_customers(*names):
	"""Within the test's transaction (rolled back after), the site's other customers are disabled,
	so the book-wide facts are about the test's customers only."""
	customer = frappe.qb.DocType("Customer")
	frappe.qb.update(customer).set(customer.disabled, 1).where(customer.name.notin(names)).run()


def active_plan(customer, **fields):
	"""A running plan (plans start as Draft; the status moves by db, as other tests do)."""
	plan = make_success_plan(customer, **fields)
	frappe.db.set_value("Success Plan", plan.name, "status", "Active")
	return plan


class MaturityTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM: [CSM_ROLE], MANAGER: [CS_MANAGER_ROLE]})

	def setUp(self):
		set_today()
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestProposals(MaturityTestCase):
	def test_an_assessment_rates_every_area_with_evidence(self):
		doc = make_assessment()
		self.assertEqual([r.area for r in doc.capabilities], list(engine.AREAS))
		for row in doc.capabilities:
			self.assertTrue(1 <= row.proposed_level <= 5, row.area)
			self.assertEqual(row.level, row.proposed_level)
			self.assertTrue(row.next_level_needs, row.area)
		self.assertEqual(
			doc.overall_level,
			engine.overall([r.level for r in doc.capabilities if r.kind == engine.CAPABILITY]),
		)

	def test_segmentation_climbs_with_the_records(self):
		segment = frappe.get_doc(
			{"doctype": "Customer Segment", "segment_name": "_CS Test Mat Segment", "needs": "Reviews"}
		).insert(ignore_permissions=True)
		a = make_customer(cs_owner=CSM).name
		b = make_customer(cs_owner=CSM).name
		for name in (a, b):
			make_sales_invoice(name, rate=5000, posting_date=add_days(TODAY, -10))
		only_my_customers(a, b)
		level = lambda: engine.segmentation(queries.gather(TODAY)).level  # noqa: E731
		self.assertEqual(level(), 1)  # no tiers
		for name in (a, b):
			frappe.db.set_value("Customer", name, "cs_tier", "SMB")
		self.assertEqual(level(), 2)  # a-priori tiers
		for name in (a, b):
			frappe.db.set_value("Customer", name, "cs_segment", segment.name)
		self.assertEqual(level(), 3)  # needs-based segments
		frappe.get_doc(
			{
				"doctype": "Success Plan Template",
				"template_name": "_CS Test Mat Template",
				"enabled": 1,
				"segment": segment.name,
			}
		).insert(ignore_permissions=True)
		with change_settings(compute_tiers=1):
			self.assertEqual(level(), 4)  # needs + value
			for name in (a, b):
				frappe.db.set_value("Customer", name, {"cs_health_status": "Green", "cs_health_score": 80})
			self.assertEqual(level(), 5)  # the segment in use is measured

	def test_health_level_five_needs_every_customer_scored_and_no_stale_override(self):
		a = make_customer(cs_owner=CSM).name
		b = make_customer(cs_owner=CSM).name
		for name in (a, b):
			make_sales_invoice(name, rate=100)
			frappe.db.set_value(
				"Customer", name, {"cs_health_status": "Green", "cs_health_computed_on": now_datetime()}
			)
		only_my_customers(a, b)
		with change_settings(recompute_health_nightly=1):
			facts = queries.gather(TODAY)
			if not facts["enabled_models_multi_factor"]:
				self.skipTest("no enabled multi-factor model on this site")
			self.assertEqual(engine.health(facts).level, 5)
			frappe.db.set_value("Customer", b, "cs_override_until", add_days(TODAY, -3))
			self.assertEqual(engine.health(queries.gather(TODAY)).level, 4)
			frappe.db.set_value("Customer", b, "cs_override_until", None)
			# scored last night with too little known: no score, no colour (tester O)
			frappe.db.set_value("Customer", b, "cs_health_status", "Insufficient Data")
			facts = queries.gather(TODAY)
			self.assertEqual(engine.health(facts).level, 3)  # half scored is not most
			self.assertEqual(facts["customers_owned_and_scored"], 1)
			frappe.db.set_value("Customer", b, {"cs_health_status": "Green", "cs_health_computed_on": None})
			self.assertEqual(engine.health(queries.gather(TODAY)).level, 3)

	def test_value_proof_reads_the_plans(self):
		a = make_customer(cs_owner=CSM).name
		make_sales_invoice(a, rate=100)
		only_my_customers(a)
		plan = frappe.qb.DocType("Success Plan")
		frappe.qb.update(plan).set(plan.status, "Closed").where(plan.customer != a).run()
		before = queries.gather(TODAY)
		self.assertEqual(before["running_plans"], 0)
		active_plan(
			a,
			objectives=[{"objective": "Unmeasured", "baseline": 5, "target": 5, "direction": "Up"}],
		)
		facts = queries.gather(TODAY)
		self.assertEqual((facts["running_plans"], facts["running_plans_measurable"]), (1, 0))
		self.assertEqual(engine.value_proof(facts).level, 2)  # goals in one place, not measurable
		active_plan(a)  # baseline 10 -> target 60
		facts = queries.gather(TODAY)
		self.assertEqual((facts["running_plans"], facts["running_plans_measurable"]), (2, 1))

	def test_touchpoints_and_alerts_feed_their_facts(self):
		before = queries.gather(TODAY)
		frappe.get_doc(
			{"doctype": "Lifecycle Touchpoint", "touchpoint_name": "_CS Test Mat TP", "offset_days": 5}
		).insert(ignore_permissions=True)
		customer = make_customer(cs_owner=CSM).name
		rule = frappe.get_all("CS Alert Rule", filters={"kind": "Risk"}, pluck="name", limit=1)
		alert = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": customer,
				"kind": "Risk",
				"rule": rule[0] if rule else None,
				"severity": "High",
				"status": "Open",
				"raised_on": now_datetime(),
			}
		)
		alert.flags.ignore_permissions = True
		alert.insert()
		after = queries.gather(TODAY)
		self.assertEqual(after["touchpoints"], before["touchpoints"] + 1)
		self.assertEqual(after["touchpoints_with_procedure"], before["touchpoints_with_procedure"])
		self.assertEqual(after["risks_identified_365d"], before["risks_identified_365d"] + 1)
		if rule:
			self.assertEqual(after["auto_risk_alerts_90d"], before["auto_risk_alerts_90d"] + 1)
		self.assertLessEqual(engine.lifecycle(after).level, 2)  # a touchpoint without its procedure

	def test_an_assessment_dated_earlier_reads_nothing_after_its_day(self):
		day = add_days(TODAY, -30)
		before = queries.data_facts(day)
		customer = make_customer(cs_owner=CSM).name
		alert = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": customer,
				"kind": "Risk",
				"severity": "High",
				"status": "Open",
			}
		)
		alert.flags.ignore_permissions = True
		alert.insert()
		frappe.db.set_value(
			"CS Alert", alert.name, {"status": "Resolved", "closed_on": now_datetime(), "opportunity": None}
		)
		self.assertEqual(queries.data_facts(day), before)  # closed today: after the assessment's day
		# a touchpoint planned (its ToDo made) today is not one planned in the 90 days up to that day
		settings = frappe.get_single("Customer Success Settings")
		planned_then = queries.lifecycle_facts(day, settings)["touchpoints_planned_90d"]
		planned_now = queries.lifecycle_facts(TODAY, settings)["touchpoints_planned_90d"]
		touchpoint = frappe.get_doc(
			{"doctype": "Lifecycle Touchpoint", "touchpoint_name": "_CS Test Mat TP2", "offset_days": 5}
		).insert(ignore_permissions=True)
		todo = frappe.get_doc({"doctype": "ToDo", "description": "Kick-off", "allocated_to": CSM}).insert(
			ignore_permissions=True
		)
		frappe.get_doc(
			{
				"doctype": "Customer Touchpoint",
				"customer": customer,
				"touchpoint": touchpoint.name,
				"status": "Planned",
				"due_date": TODAY,
				"window_start": TODAY,
				"window_end": TODAY,
				"todo": todo.name,
			}
		).insert(ignore_permissions=True)
		self.assertEqual(queries.lifecycle_facts(day, settings)["touchpoints_planned_90d"], planned_then)
		self.assertEqual(queries.lifecycle_facts(TODAY, settings)["touchpoints_planned_90d"], planned_now + 1)
		self.assertEqual(
			queries.data_facts(TODAY)["alerts_closed_90d"],
			queries.data_facts(add_days(TODAY, -1))["alerts_closed_90d"] + 1,
		)

	def test_leadership_counts_earlier_assessments(self):
		frappe.db.delete("CS Maturity Assessment")
		first = make_assessment(add_days(TODAY, -91))
		self.assertEqual(queries.gather(TODAY, None)["earlier_assessments"], 1)
		second = make_assessment()
		self.assertEqual(queries.gather(TODAY, second.name)["earlier_assessments_365d"], 1)
		self.assertGreaterEqual(row_of(second, engine.LEADERSHIP).proposed_level, 1)
		self.assertNotEqual(first.name, second.name)


class TestAdjustments(MaturityTestCase):
	def test_an_adjustment_needs_a_note_and_keeps_the_proposal(self):
		doc = make_assessment()
		row = row_of(doc, engine.LEADERSHIP)
		proposed = row.proposed_level
		row.adjusted_level = 5 if proposed != 5 else 4
		row.note = ""
		self.assertRaises(frappe.ValidationError, doc.save)
		doc.reload()
		row = row_of(doc, engine.LEADERSHIP)
		self.assertEqual(row.adjusted_level, 0)  # nothing changed
		row.adjusted_level = 5 if proposed != 5 else 4
		row.note = "The board reviews CS outcomes every month."
		row.proposed_level = 1 if proposed != 1 else 2  # a form cannot rewrite the proposal
		row.evidence = "made up"
		doc.save()
		doc.reload()
		row = row_of(doc, engine.LEADERSHIP)
		self.assertEqual(row.proposed_level, proposed)
		self.assertNotEqual(row.evidence, "made up")
		self.assertEqual(row.level, row.adjusted_level)

	def test_a_new_assessment_sent_with_its_own_proposals_gets_the_datas(self):
		"""An assessment created through the API with rows of its own: the data proposes; the
		adjustments and notes sent are kept (and checked)."""
		from customer_success.maturity import service

		proposed = {row["area"]: row["proposed_level"] for row in service.proposals(TODAY, None)}
		rows = [{"area": area, "proposed_level": 5, "evidence": "all great"} for area in engine.AREAS]
		rows[0].update(adjusted_level=3 if proposed[rows[0]["area"]] != 3 else 2, note="Seen in the QBRs")
		doc = frappe.get_doc(
			{"doctype": "CS Maturity Assessment", "assessment_date": TODAY, "capabilities": rows}
		).insert()
		expected = {
			row["area"]: (row["proposed_level"], row["evidence"])
			for row in service.proposals(TODAY, doc.name)
		}
		for row in doc.capabilities:
			self.assertEqual((row.proposed_level, row.evidence), expected[row.area], row.area)
		first = row_of(doc, rows[0]["area"])
		self.assertEqual((first.adjusted_level, first.note), (rows[0]["adjusted_level"], "Seen in the QBRs"))

	def test_an_assessment_is_not_dated_in_the_future(self):
		from frappe.utils import add_days

		with self.assertRaisesRegex(frappe.ValidationError, "in the future"):
			make_assessment(add_days(TODAY, 30))

	def test_an_adjusted_level_is_between_one_and_five(self):
		doc = make_assessment()
		row = row_of(doc, engine.TOOLING)
		row.adjusted_level, row.note = 6, "Too high"
		self.assertRaises(frappe.ValidationError, doc.save)

	def test_rows_cannot_be_removed(self):
		doc = make_assessment()
		doc.capabilities = doc.capabilities[:-1]
		self.assertRaises(frappe.ValidationError, doc.save)

	def test_propose_again_keeps_adjustments(self):
		from customer_success.maturity import api

		doc = make_assessment()
		row = row_of(doc, engine.DATA)
		row.adjusted_level, row.note = 4, "Sales reads the customer view every week."
		doc.save()
		frappe.get_doc(
			{"doctype": "Lifecycle Touchpoint", "touchpoint_name": "_CS Test Mat TP2", "offset_days": 1}
		).insert(ignore_permissions=True)
		result = api.propose_again(doc.name)
		again = frappe.get_doc("CS Maturity Assessment", result["name"])
		data = row_of(again, engine.DATA)
		self.assertEqual((data.adjusted_level, data.level), (4, 4))
		self.assertIn("Sales reads", data.note)
		self.assertGreaterEqual(
			row_of(again, engine.LIFECYCLE).proposed_level, 2
		)  # the new touchpoint counts

	def test_csms_read_and_cs_managers_assess(self):
		doc = make_assessment()
		frappe.set_user(CSM)
		self.assertTrue(frappe.has_permission("CS Maturity Assessment", "read", doc=doc.name))
		self.assertFalse(frappe.has_permission("CS Maturity Assessment", "write", doc=doc.name))
		self.assertFalse(frappe.has_permission("CS Maturity Assessment", "create"))
		from customer_success.maturity import api

		self.assertRaises(frappe.PermissionError, api.propose_again, doc.name)
		frappe.set_user(MANAGER)
		self.assertTrue(frappe.has_permission("CS Maturity Assessment", "write", doc=doc.name))


class TestReport(MaturityTestCase):
	def test_the_report_compares_assessments_with_a_chart(self):
		frappe.db.delete("CS Maturity Assessment")
		older = make_assessment(add_days(TODAY, -91))
		newer = make_assessment()
		row = row_of(newer, engine.TEAM)
		row.adjusted_level, row.note = 5, "Two pods, each with a lead."
		newer.save()

		columns, data, _message, chart = report.execute(
			{"from_date": add_days(TODAY, -365), "to_date": TODAY}
		)
		fields = [c["fieldname"] for c in columns]
		self.assertEqual(fields[2:], [frappe.scrub(older.name), frappe.scrub(newer.name)])
		self.assertEqual(len(data), len(engine.AREAS))
		team = next(r for r in data if r["area"] == engine.TEAM)
		self.assertEqual(team[frappe.scrub(newer.name)], 5)
		self.assertEqual(team[frappe.scrub(older.name)], row_of(older, engine.TEAM).level)
		self.assertEqual(chart["type"], "bar")
		self.assertEqual(len(chart["data"]["datasets"]), 2)
		self.assertEqual(len(chart["data"]["labels"]), len(engine.AREAS))

		_c, data, _m, chart = report.execute({"from_date": add_days(TODAY, -30), "to_date": TODAY})
		self.assertEqual(len(chart["data"]["datasets"]), 1)

	def test_dates_the_wrong_way_round_say_so(self):
		with self.assertRaisesRegex(frappe.ValidationError, "must be on or before To Date"):
			report.execute({"from_date": TODAY, "to_date": add_days(TODAY, -30)})

	def test_the_report_runs_and_has_its_print_layout(self):
		from frappe.desk.query_report import get_script, run

		doc = make_assessment()
		result = run("CS Maturity over Time", filters={"from_date": add_days(TODAY, -30), "to_date": TODAY})
		self.assertEqual(len(result["result"]), len(engine.AREAS))
		self.assertIn(frappe.scrub(doc.name), [c["fieldname"] for c in result["columns"]])
		self.assertTrue(result["chart"])
		layout = get_script("CS Maturity over Time")["html_format"]
		self.assertIn("CS Maturity over Time", layout)
