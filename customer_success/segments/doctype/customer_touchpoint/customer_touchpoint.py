import hashlib

from frappe.model.document import Document

from customer_success.segments import engine


class CustomerTouchpoint(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		assigned_to: DF.Link | None
		customer: DF.Link
		done_by_doctype: DF.Link | None
		done_by_name: DF.DynamicLink | None
		done_on: DF.Date | None
		due_date: DF.Date | None
		occurrence: DF.Int
		status: DF.Literal["Planned", "Done", "Missed", "Cancelled"]
		todo: DF.Link | None
		touchpoint: DF.Link
		window_end: DF.Date | None
		window_start: DF.Date | None

	# end: auto-generated types
	def autoname(self):
		# one record per customer, touchpoint and occurrence: a second insert of the same one fails.
		# (Named before validate: the occurrence is read as a number here, as validate would.)
		from customer_success.utils import check_numbers

		check_numbers(self)
		self.name = touchpoint_record_name(self.customer, self.touchpoint, self.occurrence or 0)


def touchpoint_record_name(customer: str, touchpoint: str, occurrence: int) -> str:
	key = engine.occurrence_key(customer, touchpoint, occurrence)
	return "CS-TP-" + hashlib.sha1(key.encode()).hexdigest()[:12]
