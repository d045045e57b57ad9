from frappe.model.document import Document


class SuccessPlanTemplateMilestone(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		completion_trigger: DF.Literal[
			"",
			"Delivery Note Submitted",
			"Project Completed",
			"First Invoice Paid",
			"Open Issues Below Threshold",
		]
		description: DF.SmallText | None
		is_go_live: DF.Check
		is_value_milestone: DF.Check
		offset_days: DF.Int
		owner_role: DF.Literal[
			"", "CSM", "Customer Sponsor", "Customer Admin", "Implementation", "Support", "Account Executive"
		]
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		title: DF.Data
		trigger_threshold: DF.Int
	# end: auto-generated types

	pass
