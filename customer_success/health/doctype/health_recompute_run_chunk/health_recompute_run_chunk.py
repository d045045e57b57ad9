from frappe.model.document import Document


class HealthRecomputeRunChunk(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
