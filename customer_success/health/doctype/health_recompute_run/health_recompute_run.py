from frappe.model.document import Document


class HealthRecomputeRun(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
