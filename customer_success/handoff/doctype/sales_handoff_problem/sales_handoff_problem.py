from frappe.model.document import Document


class SalesHandoffProblem(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
