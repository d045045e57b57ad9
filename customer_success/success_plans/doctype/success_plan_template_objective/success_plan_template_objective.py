from frappe.model.document import Document


class SuccessPlanTemplateObjective(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
