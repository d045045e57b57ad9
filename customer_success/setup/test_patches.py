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
