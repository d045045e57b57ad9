from frappe.model.document import Document


class SalesHandoffUseCase(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		baseline: DF.Float
		direction: DF.Literal["Up", "Down"]
		metric: DF.Data | None
		notes: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		target: DF.Float
		target_date: DF.Date | None
		unit: DF.Data | None
		use_case: DF.Data
	# end: auto-generated types

	pass
