import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.usage import engine


class UsageMetricDefinition(Document):
	def validate(self):
		self.validate_aggregation()
		self.validate_entitlements()

	def validate_aggregation(self):
		if self.aggregation not in engine.AGGREGATIONS:
			frappe.throw(
				_("Aggregation must be one of {0} (it is {1}).").format(
					", ".join(_(a) for a in engine.AGGREGATIONS), self.aggregation or _("empty")
				),
				title=_("Aggregation"),
			)

	def validate_entitlements(self):
		seen = set()
		for row in self.entitlements:
			if row.customer in seen:
				frappe.throw(
					_("Row {0}: customer {1} has an entitlement already. Keep one row per customer.").format(
						row.idx, row.customer
					),
					title=_("Entitlement per Customer"),
				)
			seen.add(row.customer)
			if row.entitlement is None or float(row.entitlement) < 0:
				frappe.throw(
					_("Row {0}: the entitlement of {1} must be zero or more.").format(row.idx, row.customer),
					title=_("Entitlement per Customer"),
				)
