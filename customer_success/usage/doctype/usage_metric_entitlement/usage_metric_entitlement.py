from frappe.model.document import Document


class UsageMetricEntitlement(Document):
	pass
