from frappe.model.document import Document


class CSPlaybookTask(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		assign_to: DF.Literal["CSM", "CS Manager", "Sales Owner", "Account Manager"]
		description: DF.SmallText | None
		offset_days: DF.Int
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		title: DF.Data
	# end: auto-generated types

	pass
