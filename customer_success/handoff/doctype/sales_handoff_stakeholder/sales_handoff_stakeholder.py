from frappe.model.document import Document


class SalesHandoffStakeholder(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		attitude: DF.Literal["", "Champion", "Supporter", "Neutral", "Sceptic", "Blocker"]
		contact: DF.Link | None
		designation: DF.Data | None
		email: DF.Data | None
		influence: DF.Literal["", "High", "Medium", "Low"]
		is_champion: DF.Check
		is_decision_maker: DF.Check
		is_economic_buyer: DF.Check
		is_sponsor: DF.Check
		notes: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		stakeholder_name: DF.Data | None
	# end: auto-generated types

	pass
