from frappe.model.document import Document


class HealthRecomputeRun(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.health.doctype.health_recompute_run_chunk.health_recompute_run_chunk import (
			HealthRecomputeRunChunk,
		)

		chunks: DF.Table[HealthRecomputeRunChunk]
		chunks_done: DF.Int
		chunks_failed: DF.Int
		chunks_total: DF.Int
		customers_failed: DF.Int
		customers_scored: DF.Int
		finished_at: DF.Datetime | None
		message: DF.SmallText | None
		name: DF.Int | None
		runs_inline: DF.Check
		score_date: DF.Date | None
		started_at: DF.Datetime | None
		started_by: DF.Link | None
		status: DF.Literal["Queued", "Running", "Completed", "Failed", "Skipped"]
		trigger: DF.Literal["Nightly", "Manual"]
	# end: auto-generated types

	pass
