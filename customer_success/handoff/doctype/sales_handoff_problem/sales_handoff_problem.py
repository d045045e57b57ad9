from frappe.model.document import Document


class SalesHandoffProblem(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		impact: DF.Literal["", "High", "Medium", "Low"]
		likelihood: DF.Literal["", "High", "Medium", "Low"]
		mitigation: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		problem: DF.SmallText
	# end: auto-generated types

	pass
