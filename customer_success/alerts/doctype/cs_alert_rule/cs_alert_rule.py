import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.alerts import engine


class CSAlertRule(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		auto_resolve: DF.Check
		days: DF.Int
		description: DF.SmallText | None
		enabled: DF.Check
		kind: DF.Literal["", "Risk", "Expansion", "Advocacy", "Lifecycle"]
		playbook: DF.Link | None
		rule_name: DF.Data
		rule_type: DF.Literal[
			"",
			"Health Turned Red",
			"Health Dropped",
			"Renewal Near, Health Not Green",
			"Overdue Receivable",
			"Milestones Overdue",
			"Check-in Overdue",
			"No Touch",
			"Key Stakeholder Left",
			"Objectives Achieved",
			"Green Before Renewal",
			"Onboarding Past Go-Live",
			"Usage Near Entitlement",
			"NPS Promoter, Health Green",
			"NPS Detractor Answer",
		]
		severity: DF.Literal["", "Low", "Medium", "High", "Critical"]
		threshold: DF.Float
	# end: auto-generated types

	def validate(self):
		self.validate_severity()
		self.validate_parameters()
		self.kind = engine.RULE_KINDS[self.rule_type]

	def on_update(self):
		before = self.get_doc_before_save()
		if before and before.enabled and not self.enabled and self.auto_resolve:
			# its open alerts are resolved (by a job: there may be thousands)
			frappe.enqueue(
				"customer_success.alerts.service.rule_disabled",
				queue="long",
				rule=self.name,
				enqueue_after_commit=True,
				now=bool(frappe.flags.in_test),
			)

	def validate_severity(self):
		if self.severity not in engine.SEVERITIES:
			frappe.throw(
				_(
					"Rule {0} needs a Severity (Low, Medium, High or Critical): its alerts are raised with it."
				).format(self.rule_name or _("New")),
				title=_("Severity Required"),
			)

	def validate_parameters(self):
		problems = engine.param_problems(self.rule_type, self.threshold, self.days)
		if "rule_type" in problems:
			frappe.throw(
				_("Choose a Rule Kind for rule {0}.").format(self.rule_name or _("New")),
				title=_("Rule Kind Required"),
			)
		messages = {
			"threshold": _("Threshold of rule {0} must be zero or more (it is {1})."),
			"days": _("Days of rule {0} must be a whole number from 0 to {2} (it is {1})."),
		}
		for field in problems:
			frappe.throw(
				messages[field].format(self.rule_name or _("New"), self.get(field), engine.MAX_RULE_DAYS),
				title=_("Invalid Parameter"),
			)
