import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.usage import engine


class UsageMetricDefinition(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.usage.doctype.usage_metric_entitlement.usage_metric_entitlement import (
			UsageMetricEntitlement,
		)

		aggregation: DF.Literal["Sum", "Average", "Maximum", "Last"]
		description: DF.SmallText | None
		enabled: DF.Check
		entitlement_item: DF.Link | None
		entitlements: DF.Table[UsageMetricEntitlement]
		metric_name: DF.Data
		unit: DF.Data | None

	# end: auto-generated types
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
