from frappe.model.document import Document


class CSTierBand(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		min_revenue: DF.Currency
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		tier: DF.Literal["", "Strategic", "Enterprise", "Mid-Market", "SMB"]
	# end: auto-generated types
	pass
