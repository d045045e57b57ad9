from frappe.model.document import Document


class RenewalCheckpoint(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		call: DF.Literal["", "Will Renew", "At Risk", "Will Churn"]
		checkpoint: DF.Literal["6 Months", "3 Months"]
		currency: DF.Link | None
		due_date: DF.Date | None
		expected_amount: DF.Currency
		note: DF.SmallText | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		recorded_by: DF.Link | None
		recorded_on: DF.Date | None
		signal_on: DF.Date | None
		signal_score: DF.Float
		signal_status: DF.Literal["", "Green", "Yellow", "Red", "Insufficient Data"]
		signal_trend: DF.Float
		todo: DF.Link | None
	# end: auto-generated types
	pass
