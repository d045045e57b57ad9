import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.success_plans.service import (
	TRIGGER_ISSUES_BELOW,
	check_metric_values,
	set_metric_kinds,
)

# Offsets and lengths are days from a plan's start; ten years bounds a typo, not a real plan.
MAX_TEMPLATE_DAYS = 3650


class SuccessPlanTemplate(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.success_plans.doctype.success_plan_template_milestone.success_plan_template_milestone import (
			SuccessPlanTemplateMilestone,
		)
		from customer_success.success_plans.doctype.success_plan_template_objective.success_plan_template_objective import (
			SuccessPlanTemplateObjective,
		)

		description: DF.SmallText | None
		duration_days: DF.Int
		enabled: DF.Check
		focus: DF.Literal["", "Onboarding", "Value Realisation", "Renewal Preparation"]
		milestones: DF.Table[SuccessPlanTemplateMilestone]
		objectives: DF.Table[SuccessPlanTemplateObjective]
		segment: DF.Link | None
		template_name: DF.Data
		tier: DF.Literal["", "Strategic", "Enterprise", "Mid-Market", "SMB"]
	# end: auto-generated types

	def validate(self):
		self.validate_duration()
		set_metric_kinds(self.objectives)
		check_metric_values(self)
		for row in self.objectives:
			if not days_in_range(row.due_offset_days):
				frappe.throw(
					_(
						"Objectives row {0} ({1}): Due (days after plan start) is {2}; set 0 to {3} days."
					).format(row.idx, row.objective, row.due_offset_days, MAX_TEMPLATE_DAYS),
					title=_("Invalid Offset"),
				)
		go_lives = [row for row in self.milestones if row.is_go_live]
		if len(go_lives) > 1:
			frappe.throw(
				_("Only one milestone is the go-live; rows {0} are marked Go-Live.").format(
					", ".join(str(row.idx) for row in go_lives)
				),
				title=_("Several Go-Live Milestones"),
			)
		for row in self.milestones:
			if not days_in_range(row.offset_days):
				frappe.throw(
					_(
						"Milestones row {0} ({1}): Offset Days is {2}; set 0 to {3} days, milestones fall on or after the plan's start."
					).format(row.idx, row.title, row.offset_days, MAX_TEMPLATE_DAYS),
					title=_("Invalid Offset"),
				)
			if row.completion_trigger == TRIGGER_ISSUES_BELOW and (row.trigger_threshold or 0) < 1:
				frappe.throw(
					_(
						"Milestones row {0} ({1}): set an Issue Threshold of 1 or more for the open-issues trigger."
					).format(row.idx, row.title)
				)

	def validate_duration(self):
		if not days_in_range(self.duration_days):
			frappe.throw(
				_(
					"Plan Length (days) is {0}; set 1 to {1} days, or leave it empty for the default length."
				).format(self.duration_days, MAX_TEMPLATE_DAYS),
				title=_("Invalid Plan Length"),
			)


def days_in_range(days) -> bool:
	return 0 <= (days or 0) <= MAX_TEMPLATE_DAYS
