from frappe.model.document import Document


class CSMaturityCapability(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		adjusted_level: DF.Int
		area: DF.Literal[
			"",
			"Segmentation",
			"Lifecycle",
			"Risk",
			"Value Proof",
			"Data",
			"Health",
			"Expansion",
			"Advocacy",
			"Leadership Buy-in",
			"Team Structure",
			"Tooling",
		]
		evidence: DF.SmallText | None
		kind: DF.Literal["", "Capability", "Enabler"]
		level: DF.Int
		next_level_needs: DF.SmallText | None
		note: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		proposed_level: DF.Int
	# end: auto-generated types
	pass
