import json

import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.engine import health as engine

FACTOR_EXPLANATIONS = {
	engine.SUPPORT_LOAD: "Open issues now, weighted by priority (Urgent 4, High 3, Medium 2, Low 1).",
	engine.SLA_BREACHES: "Share of the look-back window's issues whose SLA failed.",
	engine.PAYMENT_BEHAVIOUR: "Overdue outstanding against revenue in the look-back, and days the oldest overdue invoice is late.",
	engine.REVENUE_TREND: "Net invoiced in the last look-back window against the window before it.",
	engine.ENGAGEMENT_RECENCY: "Days since the last communication or event with the customer or its contacts.",
	engine.RENEWAL_PROXIMITY: "Days until the latest contract ends; the score falls inside the renewal window.",
	engine.CSM_SENTIMENT: "The CSM's own sentiment on the Customer, while it is fresh.",
	engine.OBJECTIVE_PROGRESS: "Average progress of success plan objectives.",
	engine.MILESTONE_PUNCTUALITY: "Share of due milestones done on time.",
	engine.PRODUCT_USAGE: "Usage against entitlement.",
	engine.NPS: "The latest NPS answer.",
}


class HealthScoreModel(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def validate(self):
		self.validate_factors()
		self.validate_weights()
		self.validate_bands()
		self.validate_default()

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
			if isinstance(value, bool) or not isinstance(value, int | float):
				frappe.throw(_("Row {0}: parameter {1} must be a number.").format(row.idx, key))
			if key.endswith("_days") and value < 1:
				frappe.throw(_("Row {0}: parameter {1} must be at least 1 day.").format(row.idx, key))
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
	"""Start a recompute of every active customer in the background (the button on the model)."""
	frappe.has_permission("Health Score Model", "write", model, throw=True)
	from customer_success.health import start_recompute

	run = start_recompute(trigger="Manual")
	return {"run": run.name, "status": run.status, "message": run.message}
