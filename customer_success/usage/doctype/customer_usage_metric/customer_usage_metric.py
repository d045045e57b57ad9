from datetime import date, datetime

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, nowdate

from customer_success.usage import engine


class CustomerUsageMetric(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		customer: DF.Link
		metric: DF.Link
		name: DF.Int | None
		source: DF.Data | None
		usage_date: DF.Date
		value: DF.Float

	# end: auto-generated types
	def validate(self):
		self.validate_row()
		self.validate_unique()

	def validate_row(self):
		"""A value typed in the desk is held to the same rules as one the feed sends."""
		from customer_success.usage.service import reason_message

		customers = {self.customer} if frappe.db.exists("Customer", self.customer) else set()
		metrics = (
			{self.metric} if frappe.db.get_value("Usage Metric Definition", self.metric, "enabled") else set()
		)
		row = {
			"customer": self.customer,
			"metric": self.metric,
			"date": iso_day(self.usage_date),
			"value": self.value,
			"source": self.source or "",
		}
		clean, problem = engine.check_row(row, customers, metrics, getdate(nowdate()))
		if problem:
			frappe.throw(reason_message(*problem), title=_("Invalid Usage"))
		self.usage_date = clean["usage_date"]
		self.source = clean["source"]

	def validate_unique(self):
		other = frappe.db.exists(
			self.doctype,
			{
				"customer": self.customer,
				"metric": self.metric,
				"usage_date": self.usage_date,
				"name": ("!=", self.name or 0),
			},
		)
		if other:
			frappe.throw(
				_("{0} of {1} on {2} is already recorded ({3}): change that record instead.").format(
					self.metric, self.customer, frappe.format(self.usage_date, "Date"), other
				),
				frappe.DuplicateEntryError,
				title=_("Already Recorded"),
			)


def on_doctype_update():
	# One value per customer, metric and day: a re-sent row updates it (the feed's upsert needs the key).
	frappe.db.add_unique(
		"Customer Usage Metric", ["customer", "metric", "usage_date"], "unique_customer_metric_day"
	)


def iso_day(value) -> str | None:
	"""The row's date as the feed sends it (YYYY-MM-DD): the desk gives text, frappe's Data Import a
	date or a datetime (whose text, "2026-12-02 00:00:00", the feed's rule refused: every imported
	row failed)."""
	if isinstance(value, datetime):
		value = value.date()
	if isinstance(value, date):
		return value.isoformat()
	return str(value) if value else None
