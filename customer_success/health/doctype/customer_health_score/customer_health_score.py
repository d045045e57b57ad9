import frappe
from frappe.model.document import Document

from customer_success.health import engine


class CustomerHealthScore(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		computed_on: DF.Datetime | None
		computed_score: DF.Float
		computed_status: DF.Literal["", "Green", "Yellow", "Red", "Insufficient Data"]
		csm: DF.Link | None
		customer: DF.Link
		customer_name: DF.Data | None
		explanation: DF.JSON | None
		granularity: DF.Literal["Daily", "Monthly"]
		is_override: DF.Check
		model: DF.Link | None
		name: DF.Int | None
		override_reason: DF.SmallText | None
		override_until: DF.Date | None
		score: DF.Float
		score_date: DF.Date
		status: DF.Literal["", "Green", "Yellow", "Red", "Insufficient Data"]
		trend: DF.Float
	# end: auto-generated types

	def load_from_db(self):
		super().load_from_db()
		# Stored compactly (engine.compact_explanation); the document, as the form, the REST API and
		# the print views read it, carries the full explanation, exactly as rows stored it before.
		self.explanation = engine.full_explanation_json(self.explanation)

	def factors(self) -> list[dict]:
		return engine.explanation_from_json(self.explanation)


def on_doctype_update():
	# One score per customer, model and day: the nightly job relies on it being impossible to duplicate.
	frappe.db.add_unique(
		"Customer Health Score", ["customer", "model", "score_date"], "unique_customer_model_day"
	)
	# (The history's reads by day, compaction's included, use `cs_score_history_index`, which ends
	# with the granularity: `setup.indexes`.)
