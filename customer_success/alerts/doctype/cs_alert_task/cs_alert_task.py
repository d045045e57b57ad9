from frappe.model.document import Document


class CSAlertTask(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		alert_open: DF.Check
		assign_role: DF.Literal["CSM", "CS Manager", "Sales Owner", "Account Manager"]
		assigned_to: DF.Link | None
		csm: DF.Link | None
		description: DF.SmallText | None
		due_date: DF.Date | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		status: DF.Literal["Open", "Done", "Cancelled"]
		title: DF.Data
		todo: DF.Link | None
	# end: auto-generated types

	pass
