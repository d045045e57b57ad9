import frappe
from frappe import _
from frappe.model.document import Document

# Fields that must be a positive number of days, with the upper bound that still makes sense.
DAY_LIMITS = {
	"health_history_retention_days": 3650,
	"sentiment_validity_days": 3650,
	"health_trend_days": 365,
	"renewal_window_days": 3650,
	"checkin_cadence_days": 3650,
	"milestone_reminder_days": 365,
}


class CustomerSuccessSettings(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def validate(self):
		self.validate_day_fields()

	def validate_day_fields(self):
		for fieldname, upper in DAY_LIMITS.items():
			value = self.get(fieldname)
			if value is None or value < 1 or value > upper:
				frappe.throw(
					_("{0} must be between 1 and {1} days (it is {2}).").format(
						_(self.meta.get_label(fieldname)), upper, value
					),
					title=_("Invalid Setting"),
				)


def get_settings():
	"""The settings document, cached for the request."""
	return frappe.get_cached_doc("Customer Success Settings")
