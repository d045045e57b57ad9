from frappe.model.document import Document


class SalesHandoffCommunication(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		communication: DF.Link | None
		communication_date: DF.Datetime | None
		communication_medium: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		sent_or_received: DF.Data | None
		subject: DF.Data | None
	# end: auto-generated types

	pass
