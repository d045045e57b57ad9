from frappe.model.document import Document


class HealthRecomputeRunChunk(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		attempts: DF.Int
		chunk_index: DF.Int
		customers: DF.Int
		customers_failed: DF.Int
		customers_scored: DF.Int
		finished_at: DF.Datetime | None
		job_id: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		range_from: DF.Data | None
		range_to: DF.Data | None
		started_at: DF.Datetime | None
		status: DF.Literal["Queued", "Running", "Done", "Failed"]
	# end: auto-generated types

	pass
