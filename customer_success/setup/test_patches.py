import frappe
from frappe.tests.utils import FrappeTestCase

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
