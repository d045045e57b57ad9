from frappe.model.document import Document


class NPSSurveyContact(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
