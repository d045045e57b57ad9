from frappe.model.document import Document


class RenewalCheckpoint(Document):
	pass
