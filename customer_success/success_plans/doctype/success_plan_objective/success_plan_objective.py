from frappe.model.document import Document


class SuccessPlanObjective(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		baseline: DF.Float
		current: DF.Float
		direction: DF.Literal["Up", "Down"]
		due_date: DF.Date | None
		metric: DF.Data | None
		objective: DF.Data
		owner_role: DF.Literal[
			"", "CSM", "Customer Sponsor", "Customer Admin", "Implementation", "Support", "Account Executive"
		]
		owner_user: DF.Link | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		progress: DF.Percent
		source: DF.Data | None
		status: DF.Literal["Not Started", "On Track", "Behind", "Achieved", "Missed"]
		target: DF.Float
		unit: DF.Data | None
		weight: DF.Float
	# end: auto-generated types

	pass
