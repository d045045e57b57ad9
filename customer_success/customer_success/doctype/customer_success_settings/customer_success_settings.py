import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint

# Fields that must be a positive number of days, with the upper bound that still makes sense.
DAY_LIMITS = {
	"health_history_retention_days": 3650,
	"sentiment_validity_days": 3650,
	"health_trend_days": 365,
	"renewal_window_days": 3650,
	"checkin_cadence_days": 3650,
	"milestone_reminder_days": 365,
	"nps_link_valid_days": 365,
	"renewal_record_days": 3650,
	"auto_renewal_notice_days": 365,
}
# Handoff SLAs in hours: 0 turns the SLA off; otherwise at least an hour, at most 30 days.
HOUR_LIMITS = {
	"handoff_sla_hours": 720,
	"acceptance_sla_hours": 720,
}

# Usage: the largest batch taken at once, and the pull's bounds.
USAGE_MAX_BATCH_ROWS = 100000
USAGE_MAX_TIMEOUT = 300
USAGE_MAX_RETRIES = 10


class CustomerSuccessSettings(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.customer_success.doctype.cs_tier_band.cs_tier_band import CSTierBand

		acceptance_sla_hours: DF.Int
		alert_dismiss_cooldown_days: DF.Int
		alert_due_days_critical: DF.Int
		alert_due_days_high: DF.Int
		alert_due_days_low: DF.Int
		alert_due_days_medium: DF.Int
		auto_draft_handoff: DF.Check
		auto_renewal_notice_days: DF.Int
		checkin_cadence_days: DF.Int
		compute_tiers: DF.Check
		create_todos: DF.Check
		csm_digest: DF.Literal["Off", "Daily", "Weekly"]
		csm_digest_weekday: DF.Literal[
			"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
		]
		default_health_model: DF.Link | None
		handoff_for_repeat_orders: DF.Check
		handoff_sla_hours: DF.Int
		health_history_retention_days: DF.Int
		health_trend_days: DF.Int
		max_new_alerts_per_week: DF.Int
		milestone_reminder_days: DF.Int
		min_known_weight_share: DF.Percent
		plan_touchpoints: DF.Check
		nps_email_subject: DF.Data | None
		nps_link_valid_days: DF.Int
		recompute_health_nightly: DF.Check
		renewal_record_days: DF.Int
		renewal_window_days: DF.Int
		send_email_notifications: DF.Check
		sentiment_validity_days: DF.Int
		tier_bands: DF.Table[CSTierBand]
		touchpoint_lead_days: DF.Int
		usage_max_batch_rows: DF.Int
		usage_pull_auth_header: DF.Password | None
		usage_pull_enabled: DF.Check
		usage_pull_retries: DF.Int
		usage_pull_timeout: DF.Int
		usage_pull_url: DF.Data | None
	# end: auto-generated types

	def validate(self):
		self.validate_day_fields()
		self.validate_hour_fields()
		self.validate_segment_settings()
		self.validate_usage_fields()
		self.validate_min_known_share()

	def validate_min_known_share(self):
		"""A share of the model's weight, in percent (unset: the default)."""
		value = self.get("min_known_weight_share")
		if value is None or value == "":
			return
		if not 0 <= value <= 100:
			frappe.throw(
				_("{0} must be between 0 and 100 percent (it is {1}).").format(
					_(self.meta.get_label("min_known_weight_share")), value
				),
				title=_("Invalid Setting"),
			)

	def validate_day_fields(self):
		for fieldname, upper in DAY_LIMITS.items():
			self.validate_range(fieldname, upper, _("{0} must be between 1 and {1} days (it is {2})."))

	def validate_hour_fields(self):
		for fieldname, upper in HOUR_LIMITS.items():
			if self.get(fieldname) == 0:
				continue  # the SLA is off
			self.validate_range(
				fieldname,
				upper,
				_("{0} must be between 1 and {1} hours, or 0 to turn the SLA off (it is {2})."),
			)

	def validate_usage_fields(self):
		"""The usage batch limit, and the pull's endpoint, timeout and retries when the pull is on."""
		self.validate_range(
			"usage_max_batch_rows", USAGE_MAX_BATCH_ROWS, _("{0} must be between 1 and {1} rows (it is {2}).")
		)
		if not self.get("usage_pull_enabled"):
			# set now, used once the pull is turned on: checked when changed
			if self.has_value_changed("usage_pull_retries"):
				self.validate_retries()
			return
		url = (self.get("usage_pull_url") or "").strip()
		if not url.lower().startswith(("http://", "https://")):
			frappe.throw(
				_("{0} must be an http:// or https:// address to pull usage from (it is {1}).").format(
					_(self.meta.get_label("usage_pull_url")), url or _("empty")
				),
				title=_("Invalid Setting"),
			)
		self.validate_range(
			"usage_pull_timeout", USAGE_MAX_TIMEOUT, _("{0} must be between 1 and {1} seconds (it is {2}).")
		)
		self.validate_retries()

	def validate_retries(self):
		retries = self.get("usage_pull_retries")
		if retries is None or not 0 <= retries <= USAGE_MAX_RETRIES:
			frappe.throw(
				_("{0} must be between 0 and {1} (it is {2}).").format(
					_(self.meta.get_label("usage_pull_retries")), USAGE_MAX_RETRIES, retries
				),
				title=_("Invalid Setting"),
			)

	def validate_range(self, fieldname: str, upper: int, message: str):
		value = self.get(fieldname)
		if value is None or value < 1 or value > upper:
			frappe.throw(
				message.format(_(self.meta.get_label(fieldname)), upper, value),
				title=_("Invalid Setting"),
			)

	def validate_segment_settings(self):
		from customer_success.constants import TIERS
		from customer_success.segments import engine

		lead = self.get("touchpoint_lead_days") or 0
		if not 0 <= lead <= 365:
			frappe.throw(
				_("{0} must be between 0 and 365 days (it is {1}).").format(
					_(self.meta.get_label("touchpoint_lead_days")), lead
				),
				title=_("Invalid Setting"),
			)
		bands = [{"min_revenue": row.min_revenue, "tier": row.tier} for row in self.get("tier_bands") or []]
		problems = engine.band_problems(bands, TIERS)
		if problems:
			frappe.throw(
				"<br>".join(_(message).format(*args) for message, args in problems),
				title=_("Invalid Tier Bands"),
			)
		if self.get("compute_tiers") and not bands:
			frappe.throw(
				_("Add at least one Tier Band before computing tiers from revenue."),
				title=_("Invalid Setting"),
			)


def get_settings():
	"""The settings document, cached for the request."""
	return frappe.get_cached_doc("Customer Success Settings")


def handoff_sla_hours() -> tuple[int, int]:
	"""Hours allowed to hand over and to accept or return a handoff (0: no SLA)."""
	settings = frappe.get_cached_doc("Customer Success Settings")
	return cint(settings.get("handoff_sla_hours")), cint(settings.get("acceptance_sla_hours"))
