from frappe.model.document import Document


class BusinessReviewObjective(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
