import json

import frappe
from frappe.model.document import Document


class CustomerHealthScore(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def factors(self) -> list[dict]:
		return json.loads(self.explanation) if self.explanation else []


def on_doctype_update():
	# One score per customer, model and day: the nightly job relies on it being impossible to duplicate.
	frappe.db.add_unique(
		"Customer Health Score", ["customer", "model", "score_date"], "unique_customer_model_day"
	)
	frappe.db.add_index("Customer Health Score", ["score_date", "granularity"], "score_date_granularity")
