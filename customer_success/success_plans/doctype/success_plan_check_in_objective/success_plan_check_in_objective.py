from frappe.model.document import Document


class SuccessPlanCheckinObjective(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
