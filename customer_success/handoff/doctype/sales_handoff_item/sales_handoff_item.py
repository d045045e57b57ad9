from frappe.model.document import Document


class SalesHandoffItem(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
