import frappe
from frappe.tests.utils import FrappeTestCase

from customer_success.tests.utils import change_settings


class TestCustomerSuccessSettings(FrappeTestCase):
	def test_defaults_are_set_on_install(self):
		settings = frappe.get_single("Customer Success Settings")
		self.assertEqual(settings.renewal_window_days, 90)
		self.assertEqual(settings.checkin_cadence_days, 90)
		self.assertEqual(settings.health_history_retention_days, 180)
		self.assertEqual(settings.recompute_health_nightly, 1)

	def test_day_fields_must_be_positive(self):
		settings = frappe.get_single("Customer Success Settings")
		settings.renewal_window_days = 0
		with self.assertRaises(frappe.ValidationError) as ctx:
			settings.save()
		self.assertIn("Renewal Window", str(ctx.exception))
		settings.reload()
		self.assertEqual(settings.renewal_window_days, 90)

	def test_change_settings_restores(self):
		with change_settings(renewal_window_days=30):
			self.assertEqual(
				frappe.db.get_single_value("Customer Success Settings", "renewal_window_days"), 30
			)
		self.assertEqual(frappe.db.get_single_value("Customer Success Settings", "renewal_window_days"), 90)

	def test_csm_cannot_write_settings(self):
		from customer_success.tests.utils import make_user

		make_user("cs-settings-csm@example.com", ["Customer Success Manager"])
		self.assertTrue(
			frappe.has_permission("Customer Success Settings", "read", user="cs-settings-csm@example.com")
		)
		self.assertFalse(
			frappe.has_permission("Customer Success Settings", "write", user="cs-settings-csm@example.com")
		)
