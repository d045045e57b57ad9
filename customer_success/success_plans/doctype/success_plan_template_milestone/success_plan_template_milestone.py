from frappe.model.document import Document


class SuccessPlanTemplateMilestone(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
