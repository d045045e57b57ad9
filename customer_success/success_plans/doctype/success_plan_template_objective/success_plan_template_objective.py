from frappe.model.document import Document


class SuccessPlanTemplateObjective(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		default_baseline: DF.Float
		default_target: DF.Float
		direction: DF.Literal["Up", "Down"]
		due_offset_days: DF.Int
		metric: DF.Data | None
		objective: DF.Data
		owner_role: DF.Literal[
			"", "CSM", "Customer Sponsor", "Customer Admin", "Implementation", "Support", "Account Executive"
		]
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		unit: DF.Data | None
	# end: auto-generated types

	pass
