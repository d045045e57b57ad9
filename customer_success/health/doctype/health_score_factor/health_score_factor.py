from frappe.model.document import Document


class HealthScoreFactor(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		enabled: DF.Check
		explanation: DF.SmallText | None
		factor_type: DF.Literal[
			"Support Load",
			"SLA Breaches",
			"Payment Behaviour",
			"Revenue Trend",
			"Engagement Recency",
			"Renewal Proximity",
			"Objective Progress",
			"Milestone Punctuality",
			"CSM Sentiment",
			"Product Usage",
		]
		parameters: DF.Code | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		weight: DF.Float
	# end: auto-generated types

	pass
