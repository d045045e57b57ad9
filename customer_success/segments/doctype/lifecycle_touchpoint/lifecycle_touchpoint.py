import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.segments import engine

# field -> (lowest, highest) days
DAY_BOUNDS = {
	"offset_days": (0, engine.MAX_OFFSET_DAYS),
	"repeat_days": (0, engine.MAX_OFFSET_DAYS),
	"window_days": (0, 365),
}


class LifecycleTouchpoint(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		enabled: DF.Check
		offset_days: DF.Int
		owner_role: DF.Literal["CSM", "CS Manager", "Account Manager"]
		procedure: DF.TextEditor | None
		repeat_days: DF.Int
		segment: DF.Link | None
		tier: DF.Literal["", "Strategic", "Enterprise", "Mid-Market", "SMB"]
		touchpoint_name: DF.Data
		window_days: DF.Int

	# end: auto-generated types
	def validate(self):
		self.validate_days()

	def validate_days(self):
		for fieldname, (low, high) in DAY_BOUNDS.items():
			value = self.get(fieldname) or 0
			if not low <= value <= high:
				frappe.throw(
					_("{0} must be between {1} and {2} days (it is {3}).").format(
						_(self.meta.get_label(fieldname)), low, high, value
					),
					title=_("Invalid Touchpoint"),
				)
		if self.repeat_days and self.window_days * 2 >= self.repeat_days:
			frappe.throw(
				_(
					"The window ({0} days either side) must be shorter than half the repeat ({1} days), so each occurrence has its own window."
				).format(self.window_days, self.repeat_days),
				title=_("Invalid Touchpoint"),
			)
