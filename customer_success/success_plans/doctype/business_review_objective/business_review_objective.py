from frappe.model.document import Document


class BusinessReviewObjective(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		baseline: DF.Float
		current: DF.Float
		direction: DF.Literal["Up", "Down"]
		metric: DF.Data | None
		objective: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		progress: DF.Percent
		status: DF.Literal["", "Not Started", "On Track", "Behind", "Achieved", "Missed"]
		target: DF.Float
		unit: DF.Data | None
	# end: auto-generated types

	pass
