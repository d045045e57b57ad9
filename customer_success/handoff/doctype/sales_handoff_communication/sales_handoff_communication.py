from frappe.model.document import Document


class SalesHandoffCommunication(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
