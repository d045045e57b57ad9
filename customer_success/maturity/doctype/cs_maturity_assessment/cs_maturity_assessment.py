import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, getdate, nowdate

from customer_success.maturity import engine, service

# What the data proposed: set by the app only, never by a save.
PROPOSED_FIELDS = ("kind", "proposed_level", "evidence", "next_level_needs")


class CSMaturityAssessment(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.maturity.doctype.cs_maturity_capability.cs_maturity_capability import (
			CSMaturityCapability,
		)

		assessed_by: DF.Link | None
		assessment_date: DF.Date
		capabilities: DF.Table[CSMaturityCapability]
		enabler_level: DF.Float
		naming_series: DF.Literal["CS-MA-.YYYY.-"]
		notes: DF.TextEditor | None
		overall_level: DF.Float

	# end: auto-generated types
	def before_insert(self):
		# the data proposes, whatever was sent (an API call cannot bring its own proposed levels or
		# evidence); adjustments and notes sent with the rows are kept, and checked
		service.apply_proposals(self)

	def validate(self):
		if self.assessment_date and getdate(self.assessment_date) > getdate(nowdate()):
			frappe.throw(
				_(
					"Assessment Date {0} is in the future; an assessment reads the data of today or earlier."
				).format(frappe.format(self.assessment_date, {"fieldtype": "Date"})),
				title=_("Invalid Date"),
			)
		self.keep_proposals()
		self.validate_areas()
		self.validate_adjustments()
		self.set_levels()

	def keep_proposals(self):
		"""A saved assessment keeps what the data proposed, whatever the form sent (the Propose
		Again action refreshes it, flagged)."""
		refreshed = self.flags.pop("proposals_refreshed", False)  # for this save only
		if self.is_new() or refreshed:
			return
		stored = {
			row.area: row
			for row in frappe.get_all(
				"CS Maturity Capability",
				filters={"parent": self.name, "parenttype": self.doctype},
				fields=["area", *PROPOSED_FIELDS],
			)
		}
		for row in self.capabilities:
			if row.area in stored:
				for fieldname in PROPOSED_FIELDS:
					row.set(fieldname, stored[row.area].get(fieldname))

	def validate_areas(self):
		areas = [row.area for row in self.capabilities]
		if sorted(areas) != sorted(engine.AREAS):
			frappe.throw(
				_(
					"An assessment rates each of the eight capabilities and three enablers once: use Propose Again to restore the rows."
				),
				title=_("Invalid Assessment"),
			)

	def validate_adjustments(self):
		for row in self.capabilities:
			row.adjusted_level = cint(row.adjusted_level)
			problem = engine.adjustment_problem(row.proposed_level, row.adjusted_level, row.note)
			if problem:
				frappe.throw(
					_("{0}: {1}").format(_(row.area), service.translate(problem)),
					title=_("Invalid Adjustment"),
				)

	def set_levels(self):
		for row in self.capabilities:
			row.level = engine.effective_level(row.proposed_level, row.adjusted_level)
		self.overall_level = engine.overall(
			[r.level for r in self.capabilities if r.kind == engine.CAPABILITY]
		)
		self.enabler_level = engine.overall([r.level for r in self.capabilities if r.kind == engine.ENABLER])
