from frappe.model.document import Document


class SuccessPlanObjective(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
