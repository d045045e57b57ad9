import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.plans import TRIGGER_ISSUES_BELOW


class SuccessPlanTemplate(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def validate(self):
		for row in self.milestones:
			if (row.offset_days or 0) < 0:
				frappe.throw(
					_(
						"Milestones row {0} ({1}): Offset Days cannot be negative; milestones fall on or after the plan's start."
					).format(row.idx, row.title)
				)
			if row.completion_trigger == TRIGGER_ISSUES_BELOW and (row.trigger_threshold or 0) < 1:
				frappe.throw(
					_(
						"Milestones row {0} ({1}): set an Issue Threshold of 1 or more for the open-issues trigger."
					).format(row.idx, row.title)
				)
