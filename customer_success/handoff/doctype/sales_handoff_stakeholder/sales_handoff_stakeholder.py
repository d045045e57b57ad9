from frappe.model.document import Document


class SalesHandoffStakeholder(Document):
	# begin: auto-generated types
	# end: auto-generated types

	pass
