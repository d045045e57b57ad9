from frappe.model.document import Document


class SuccessPlanCheckinObjective(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		baseline: DF.Float
		current_value: DF.Float
		direction: DF.Literal["Up", "Down"]
		how_used: DF.SmallText | None
		miss_reason: DF.Literal[
			"",
			"Not Installed",
			"Installed, Not Used",
			"Used by Few Teams",
			"Process Not Changed",
			"Data Not Available",
			"Other",
		]
		objective: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		plan_objective: DF.Data | None
		previous_value: DF.Float
		progress: DF.Percent
		status: DF.Literal["Not Started", "On Track", "Behind", "Achieved", "Missed"]
		target: DF.Float
		teams_using: DF.SmallText | None
		unit: DF.Data | None
	# end: auto-generated types

	pass
