from frappe.model.document import Document


class NPSSurveyContact(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		answered_on: DF.Datetime | None
		contact: DF.Link
		contact_name: DF.Data | None
		email_id: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		response: DF.Link | None
		state: DF.Literal["Pending", "Answered", "Expired"]
		token_hash: DF.Data | None
	# end: auto-generated types

	pass
