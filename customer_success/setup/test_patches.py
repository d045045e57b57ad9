import json

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate

from customer_success.patches.v0_2 import move_doctypes_to_rooms


class TestMoveDoctypesToRooms(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()
		frappe.clear_cache()

	def test_records_of_the_old_layout_get_the_module_of_their_room(self):
		"""A site installed before the rooms has every record in "Customer Success": the patch moves
		each to the module its files live in now, and leaves the rest alone."""
		moved = {
			("DocType", "Sales Handoff"): "Handoff",
			("DocType", "Success Plan Milestone"): "Success Plans",
			("DocType", "Customer Health Score"): "Health",
			("Print Format", "Business Review"): "Success Plans",
		}
		for (doctype, name), _module in moved.items():
			frappe.db.set_value(doctype, name, "module", "Customer Success", update_modified=False)
		frappe.db.delete("Module Def", {"name": "Health"})

		move_doctypes_to_rooms.execute()

		self.assertEqual(frappe.db.get_value("Module Def", "Health", "app_name"), "customer_success")
		for (doctype, name), module in moved.items():
			self.assertEqual(frappe.db.get_value(doctype, name, "module"), module, name)
		self.assertEqual(
			frappe.db.get_value("DocType", "Customer Success Settings", "module"), "Customer Success"
		)
		self.assertEqual(frappe.db.get_value("DocType", "Customer", "module"), "Selling")


class TestSegmentsAndTierSources(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_free_text_segments_move_to_the_description_and_old_tiers_are_manual(self):
		from customer_success.patches.v0_3 import segments_and_tier_sources as patch
		from customer_success.tests.utils import make_customer

		template = frappe.get_doc(
			{
				"doctype": "Success Plan Template",
				"template_name": "_CS Test Patch Template",
				"enabled": 0,
				"description": "Old template",
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value("Success Plan Template", template.name, "segment", "Retail chains")
		old = make_customer().name
		frappe.db.set_value("Customer", old, {"cs_tier": "SMB", "cs_tier_source": None})
		computed = make_customer().name
		frappe.db.set_value("Customer", computed, {"cs_tier": "SMB", "cs_tier_source": "Computed"})

		patch.move_free_text_segments()
		patch.mark_tiers_set_by_hand()

		segment, description = frappe.db.get_value(
			"Success Plan Template", template.name, ["segment", "description"]
		)
		self.assertIsNone(segment)
		self.assertEqual(description, "Old template\nRetail chains")
		self.assertEqual(frappe.db.get_value("Customer", old, "cs_tier_source"), "Manual")
		self.assertEqual(frappe.db.get_value("Customer", computed, "cs_tier_source"), "Computed")


class TestStableAlertEvidence(FrappeTestCase):
	"""Alerts written before the evidence held dates only: counts dropped, the day's score row
	relinked to the customer, the digest stored, an open alert's summary written again."""

	def tearDown(self):
		frappe.db.rollback()

	def old_alert(self, customer: str, rule: str, evidence: dict, summary: str, status: str = "Open") -> str:
		alert = frappe.get_doc(
			{"doctype": "CS Alert", "customer": customer, "rule": rule, "severity": "Medium"}
		).insert(ignore_permissions=True)
		frappe.db.set_value(
			"CS Alert",
			alert.name,
			{
				"evidence": json.dumps(evidence, sort_keys=True, separators=(",", ":")),
				"evidence_digest": None,
				"summary": summary,
				"status": status,
				"evidence_updated_on": "2026-11-20 08:00:00",
			},
			update_modified=False,
		)
		return alert.name

	def test_old_evidence_becomes_dates_and_links_that_do_not_move(self):
		from customer_success.alerts import service
		from customer_success.patches.v0_4 import stable_alert_evidence as patch
		from customer_success.setup import defaults
		from customer_success.tests.utils import make_customer

		defaults.make_default_alert_rules()
		customer = make_customer().name
		touch = self.old_alert(
			customer,
			"No Touch",
			{"rule_type": "No Touch", "facts": {"last_touch": "2026-08-21", "days_since": 91}, "records": []},
			"No touch for 91 days (last on 21-08-2026).",
		)
		red = self.old_alert(
			customer,
			"Health Turned Red",
			{
				"rule_type": "Health Turned Red",
				"facts": {"score": 20, "status": "Red"},
				"records": [["Customer Health Score", "4711"]],
			},
			"Health is Red (score 20).",
		)
		checkin = self.old_alert(
			customer,
			"Check-in Overdue",
			{
				"rule_type": "Check-in Overdue",
				"facts": {"cadence_days": 90, "days_since": 120, "plans": 1},
				"records": [["Success Plan", "SP-1"]],
			},
			"No check-in for 120 days on 1 running plans (cadence 90 days).",
		)
		closed = self.old_alert(
			customer,
			"Overdue Receivable",
			{
				"rule_type": "Overdue Receivable",
				"facts": {"days_overdue": 60, "oldest_due": "2026-09-21", "overdue": 9000.0},
				"records": [],
			},
			"9,000 overdue in receivables, the oldest 60 days overdue.",
			status="Resolved",
		)

		patch.execute()

		def read(name):
			row = frappe.db.get_value(
				"CS Alert", name, ["evidence", "evidence_digest", "summary"], as_dict=True
			)
			self.assertEqual(row.evidence_digest, service.digest(row.evidence))
			return json.loads(row.evidence), row.summary

		evidence, summary = read(touch)
		self.assertEqual(evidence["facts"], {"last_touch": "2026-08-21"})
		self.assertNotIn("91", summary)
		self.assertIn(frappe.format_value(getdate("2026-08-21"), {"fieldtype": "Date"}), summary)
		evidence, _summary = read(red)
		self.assertEqual(evidence["records"], [["Customer", customer]])
		evidence, summary = read(checkin)
		self.assertEqual(evidence["facts"], {"cadence_days": 90, "plans": 1, "since": "2026-07-23"})
		self.assertEqual(evidence["records"], [["Success Plan", "SP-1"]])
		evidence, summary = read(closed)
		self.assertEqual(evidence["facts"], {"oldest_due": "2026-09-21", "overdue": 9000.0})
		self.assertEqual(summary, "9,000 overdue in receivables, the oldest 60 days overdue.")  # closed: kept

		# the evidence the pass writes for the same facts now is the migrated one: nothing is rewritten
		rule = frappe._dict(rule_type="No Touch")
		finding = service.engine.Finding("Medium", {"last_touch": getdate("2026-08-21")})
		self.assertEqual(
			service.evidence_json(rule, finding), frappe.db.get_value("CS Alert", touch, "evidence")
		)
		# and running the patch again changes nothing
		before = frappe.get_all(
			"CS Alert", {"customer": customer}, ["name", "evidence", "summary"], order_by="name"
		)
		patch.execute()
		after = frappe.get_all(
			"CS Alert", {"customer": customer}, ["name", "evidence", "summary"], order_by="name"
		)
		self.assertEqual(after, before)


class TestShippedGoLiveMilestones(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()
		frappe.clear_document_cache("Success Plan Template", "Onboarding Fast Track")

	def test_the_shipped_onboarding_templates_go_live_is_marked_once_and_edits_are_kept(self):
		from customer_success.patches.v0_8 import shipped_go_live_milestones

		name = "Onboarding Fast Track"
		row = frappe.qb.DocType("Success Plan Template Milestone")
		frappe.qb.update(row).set(row.is_go_live, 0).where(row.parent == name).run()
		frappe.get_cached_doc("Success Plan Template", name)  # cached as a site before this version has it
		shipped_go_live_milestones.execute()
		marked = [
			r.title for r in frappe.get_cached_doc("Success Plan Template", name).milestones if r.is_go_live
		]
		self.assertEqual(marked, ["Go-live"])
		# an administrator's choice of another go-live is kept
		first = frappe.get_doc("Success Plan Template", name).milestones[0].name
		frappe.qb.update(row).set(row.is_go_live, 0).where(row.parent == name).run()
		frappe.db.set_value("Success Plan Template Milestone", first, "is_go_live", 1)
		shipped_go_live_milestones.execute()
		self.assertEqual(
			frappe.get_all(
				"Success Plan Template Milestone", {"parent": name, "is_go_live": 1}, pluck="name"
			),
			[first],
		)


class TestOpenWorkOfCustomersGone(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_plans_of_customers_churned_before_close_and_others_stay(self):
		from customer_success.patches.v0_8 import open_work_of_customers_gone_closed
		from customer_success.tests.utils import make_customer, make_success_plan

		churned = make_customer().name
		running = make_customer().name
		disabled = make_customer().name
		plans = {name: make_success_plan(name).name for name in (churned, running, disabled)}
		# churned (disabled) before this version: the stage (the flag) written, nothing closed
		frappe.db.set_value("Customer", churned, "cs_lifecycle_stage", "Churned", update_modified=False)
		frappe.db.set_value("Customer", disabled, "disabled", 1, update_modified=False)
		open_work_of_customers_gone_closed.execute()
		self.assertEqual(frappe.db.get_value("Success Plan", plans[churned], "status"), "Closed")
		self.assertEqual(frappe.db.get_value("Success Plan", plans[running], "status"), "Draft")
		self.assertEqual(frappe.db.get_value("Success Plan", plans[disabled], "status"), "Draft")  # kept
		open_work_of_customers_gone_closed.execute()  # again: nothing more
		self.assertEqual(
			frappe.db.count(
				"Comment",
				{
					"reference_doctype": "Success Plan",
					"reference_name": plans[churned],
					"comment_type": "Info",
				},
			),
			1,
		)
