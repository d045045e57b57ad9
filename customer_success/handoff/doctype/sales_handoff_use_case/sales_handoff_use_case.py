from frappe.model.document import Document


class SalesHandoffUseCase(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
