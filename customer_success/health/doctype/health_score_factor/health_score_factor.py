from frappe.model.document import Document


class HealthScoreFactor(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
