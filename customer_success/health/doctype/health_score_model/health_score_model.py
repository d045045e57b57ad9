import json

import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.health import engine
from customer_success.utils import in_language, site_language

# Day parameters (look-backs, windows): at least a day, at most ten years.
MIN_DAYS, MAX_DAYS = 1, 3650

FACTOR_EXPLANATIONS = {
	engine.SUPPORT_LOAD: "Open issues now, weighted by priority (Urgent 4, High 3, Medium 2, Low 1).",
	engine.SLA_BREACHES: "Share of the look-back window's issues whose SLA failed, of those with an SLA outcome (Fulfilled or Failed).",
	engine.PAYMENT_BEHAVIOUR: "Overdue outstanding against revenue in the look-back, and days the oldest overdue invoice is late.",
	engine.REVENUE_TREND: "Net invoiced in the last look-back window against the window before it.",
	engine.ENGAGEMENT_RECENCY: "Days since the last communication or event with the customer or its contacts.",
	engine.RENEWAL_PROXIMITY: "Days until the latest contract ends; the score falls inside the renewal window.",
	engine.CSM_SENTIMENT: "The CSM's own sentiment on the Customer, while it is fresh.",
	engine.OBJECTIVE_PROGRESS: "Average progress of success plan objectives.",
	engine.MILESTONE_PUNCTUALITY: "Share of due milestones done on time.",
	engine.PRODUCT_USAGE: "Ingested usage against entitlement over the look-back, and its change against the window before.",
	engine.NPS: "The customer's latest NPS answer in the look-back: promoters (9-10) 100, passives (7-8) 70, detractors (0-6) 0 to 40.",
}


class HealthScoreModel(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.health.doctype.health_score_factor.health_score_factor import HealthScoreFactor

		applies_to_tier: DF.Literal["", "Strategic", "Enterprise", "Mid-Market", "SMB"]
		description: DF.SmallText | None
		enabled: DF.Check
		factors: DF.Table[HealthScoreFactor]
		green_min: DF.Float
		is_default: DF.Check
		model_name: DF.Data
		red_below: DF.Float
		total_weight: DF.Float
	# end: auto-generated types

	def validate(self):
		self.validate_factors()
		self.validate_weights()
		self.validate_bands()
		self.validate_default()
		self.validate_tier()

	def on_update(self):
		self.unset_other_defaults()

	def on_trash(self):
		if self.is_default:
			frappe.throw(
				_("Health Score Model {0} is the default: make another model the default first.").format(
					self.name
				)
			)

	def validate_factors(self):
		seen = set()
		for row in self.factors:
			if row.factor_type in seen:
				frappe.throw(
					_("Row {0}: factor {1} appears twice. Keep one row per factor.").format(
						row.idx, _(row.factor_type)
					)
				)
			seen.add(row.factor_type)
			row.parameters = json.dumps(self.parse_parameters(row), indent=1) if row.parameters else None
			# stored text, in the site's language whoever saves (the install runs in English)
			with in_language(site_language()):
				row.explanation = _(FACTOR_EXPLANATIONS.get(row.factor_type, ""))

	@staticmethod
	def parse_parameters(row) -> dict:
		if not row.parameters or not row.parameters.strip():
			return {}
		try:
			params = json.loads(row.parameters)
		except ValueError:
			frappe.throw(
				_("Row {0}: Parameters must be valid JSON, for example {1}.").format(
					row.idx, '{"worst_days": 90}'
				)
			)
		if not isinstance(params, dict):
			frappe.throw(_("Row {0}: Parameters must be a JSON object of names and numbers.").format(row.idx))
		known = engine.DEFAULT_PARAMS.get(row.factor_type, {})
		for key, value in params.items():
			if key not in known:
				frappe.throw(
					_("Row {0}: {1} has no parameter {2}. Known parameters: {3}.").format(
						row.idx, _(row.factor_type), key, ", ".join(known) or _("none")
					)
				)
			if isinstance(value, bool) or not isinstance(value, int | float) or not engine.is_number(value):
				frappe.throw(_("Row {0}: parameter {1} must be a number.").format(row.idx, key))
			if key.endswith("_days") and not (MIN_DAYS <= value <= MAX_DAYS and float(value).is_integer()):
				frappe.throw(
					_(
						"Row {0}: parameter {1} of {2} must be a whole number of days from {3} to {4} (it is {5})."
					).format(row.idx, key, _(row.factor_type), MIN_DAYS, MAX_DAYS, value),
					title=_("Parameters"),
				)
			if not engine.parameter_in_bounds(key, value):
				frappe.throw(
					_("Row {0}: parameter {1} of {2} must be {3} (it is {4}).").format(
						row.idx, key, _(row.factor_type), bounds_text(key), value
					),
					title=_("Parameters"),
				)
		for first, second in engine.parameters_out_of_order(row.factor_type, params):
			frappe.throw(
				_("Row {0}: parameter {1} of {2} must be below {3}.").format(
					row.idx, first, _(row.factor_type), second
				),
				title=_("Parameters"),
			)
		return params

	def validate_weights(self):
		enabled = [row for row in self.factors if row.enabled]
		if not enabled:
			frappe.throw(_("Enable at least one factor."), title=_("No Factors"))
		problems = engine.weight_problems([row.weight for row in enabled])
		if problems["non_positive"]:
			row = enabled[problems["non_positive"][0]]
			frappe.throw(
				_("Row {0}: the weight of {1} must be more than 0.").format(row.idx, _(row.factor_type))
			)
		self.total_weight = problems["total"]
		if not problems["sums_to_100"]:
			frappe.throw(
				_("Weights of the enabled factors must add up to 100 (they add up to {0}).").format(
					problems["total"]
				),
				title=_("Weights"),
			)

	def validate_bands(self):
		if not engine.bands_valid(self.green_min, self.red_below):
			frappe.throw(
				_(
					"Bands must be ordered: 0 < Red Band ({0}) < Green Band ({1}) ≤ 100. Scores from the red band up to the green band are yellow."
				).format(self.red_below, self.green_min),
				title=_("Bands"),
			)

	def validate_default(self):
		if self.is_default and not self.enabled:
			frappe.throw(_("The default model must be enabled."))
		if not self.is_default and self.name and frappe.db.get_value(self.doctype, self.name, "is_default"):
			other = frappe.db.exists(self.doctype, {"is_default": 1, "name": ("!=", self.name)})
			if not other:
				frappe.throw(_("There must be a default model: make another model the default instead."))

	def validate_tier(self):
		"""One enabled model per tier: with two, which one scores the tier's customers would be chance."""
		if not (self.enabled and self.applies_to_tier):
			return
		other = frappe.db.exists(
			self.doctype,
			{"enabled": 1, "applies_to_tier": self.applies_to_tier, "name": ("!=", self.name or "")},
		)
		if other:
			frappe.throw(
				_(
					"Applies to Tier: model {0} is already enabled for tier {1}. Disable that model or pick another tier."
				).format(other, _(self.applies_to_tier)),
				title=_("Applies to Tier"),
			)

	def unset_other_defaults(self):
		if not self.is_default:
			return
		others = frappe.get_all(
			self.doctype, filters={"is_default": 1, "name": ("!=", self.name)}, pluck="name"
		)
		for name in others:
			frappe.db.set_value(self.doctype, name, "is_default", 0)
		if others:
			frappe.msgprint(_("{0} is no longer the default model.").format(", ".join(others)), alert=True)
		frappe.db.set_single_value("Customer Success Settings", "default_health_model", self.name)

	def factor_specs(self) -> list[engine.FactorSpec]:
		"""The enabled factors as the engine takes them."""
		return [
			engine.FactorSpec(
				row.factor_type, float(row.weight), json.loads(row.parameters) if row.parameters else {}
			)
			for row in self.factors
			if row.enabled
		]


@frappe.whitelist(methods=["POST"])
def recompute_all(model: str) -> dict:
	"""Start a recompute of every active customer on the long queue (the button on the model).

	Never inline: the whole book does not run inside a web request. Without a worker on the long
	queue the run waits, and the message says so.
	"""
	frappe.has_permission("Health Score Model", "write", model, throw=True)
	from customer_success.health.service import start_recompute

	run = start_recompute(trigger="Manual", now=False)
	message = run.message
	if run.status == "Queued":
		message = _(
			"Health Recompute Run {0} is queued: it will run when a worker on the long queue is listening."
		).format(run.name)
	return {"run": run.name, "status": run.status, "message": message}


def bounds_text(key: str) -> str:
	"""A parameter's bounds in words ("more than 0 and at most 1")."""
	low, high, low_ok, high_ok = engine.PARAM_BOUNDS[key]
	parts = []
	if low is not None:
		parts.append((_("at least {0}") if low_ok else _("more than {0}")).format(f"{low:g}"))
	if high is not None:
		parts.append((_("at most {0}") if high_ok else _("less than {0}")).format(f"{high:g}"))
	return _("{0} and {1}").format(*parts) if len(parts) == 2 else parts[0]
