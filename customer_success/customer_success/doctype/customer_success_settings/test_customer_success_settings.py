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

	def test_the_minimum_known_weight_is_a_share(self):
		before = frappe.db.get_single_value("Customer Success Settings", "min_known_weight_share")
		for value in (150, -5, 100.5):
			settings = frappe.get_single("Customer Success Settings")
			settings.min_known_weight_share = value
			with self.assertRaisesRegex(frappe.ValidationError, "between 0 and 100 percent"):
				settings.save()
		self.assertEqual(
			frappe.db.get_single_value("Customer Success Settings", "min_known_weight_share"), before
		)
		for value in (0, 35, 100):
			settings = frappe.get_single("Customer Success Settings")
			settings.min_known_weight_share = value
			settings.save()
		frappe.db.rollback()
		frappe.clear_document_cache("Customer Success Settings", "Customer Success Settings")

	def test_the_pulls_retries_are_bounded_even_while_it_is_off(self):
		from customer_success.usage import service as usage

		before = frappe.db.get_single_value("Customer Success Settings", "usage_pull_retries")
		try:
			settings = frappe.get_single("Customer Success Settings")
			settings.usage_pull_enabled = 0
			settings.usage_pull_retries = 100000
			with self.assertRaisesRegex(frappe.ValidationError, "between 0 and 10"):
				settings.save()
			self.assertEqual(
				frappe.db.get_single_value("Customer Success Settings", "usage_pull_retries"), before
			)
			# one stored before the bound: the pull takes at most the bound
			frappe.db.set_single_value("Customer Success Settings", "usage_pull_retries", 100000)
			frappe.clear_document_cache("Customer Success Settings", "Customer Success Settings")
			self.assertEqual(usage.pull_settings().retries, 10)
		finally:
			frappe.db.rollback()
			frappe.clear_document_cache("Customer Success Settings", "Customer Success Settings")

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

	def test_sla_hours_have_bounds(self):
		for fieldname, label in (
			("handoff_sla_hours", "Hand Over Within (Hours)"),
			("acceptance_sla_hours", "Accept or Return Within (Hours)"),
		):
			for bad in (-1, 721, 100000):
				with self.subTest(field=fieldname, value=bad):
					settings = frappe.get_single("Customer Success Settings")
					settings.set(fieldname, bad)
					with self.assertRaisesRegex(frappe.ValidationError, "between 1 and 720 hours") as ctx:
						settings.save()
					self.assertIn(label, str(ctx.exception))
					self.assertEqual(frappe.db.get_single_value("Customer Success Settings", fieldname), 24)
			for good in (0, 1, 720):  # 0 turns the SLA off
				with self.subTest(field=fieldname, value=good), change_settings(**{fieldname: good}):
					self.assertEqual(frappe.db.get_single_value("Customer Success Settings", fieldname), good)
