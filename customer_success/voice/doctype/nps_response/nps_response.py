import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import get_datetime, now_datetime

from customer_success.voice import engine, service

SURVEY_LINK, ENTERED_BY_CSM = "Survey Link", "Entered by CSM"
# What a contact said stays as said: a CSM may add to a response, never rewrite its answer.
ANSWER_FIELDS = ("customer", "contact", "survey", "score", "comment", "answered_on", "source")
# How the answer came in: set when it is recorded, never after (a CSM's note of an answer cannot
# become a contact's own, nor take a survey's place and shut its link).
ORIGIN_FIELDS = ("source", "survey")


class NPSResponse(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		answered_on: DF.Datetime
		category: DF.Literal["Promoter", "Passive", "Detractor"]
		comment: DF.SmallText | None
		contact: DF.Link | None
		contact_name: DF.Data | None
		customer: DF.Link
		customer_name: DF.Data | None
		score: DF.Int
		source: DF.Literal["Entered by CSM", "Survey Link"]
		survey: DF.Link | None
	# end: auto-generated types

	def validate(self):
		self.set_source()
		self.validate_score()
		self.set_category()
		self.validate_answered_on()
		self.validate_contact()
		self.validate_one_answer()
		self.validate_answer_unchanged()

	def after_insert(self):
		service.after_answer(self)

	def set_source(self):
		"""Only the survey link records a survey's answer; anything else is a CSM's note of one."""
		if self.is_new():
			if not self.flags.from_survey_link:
				self.source = ENTERED_BY_CSM
				self.survey = None
			return
		before = self.get_doc_before_save()
		if not before:
			return
		changed = [f for f in ORIGIN_FIELDS if str(before.get(f) or "") != str(self.get(f) or "")]
		if changed:
			frappe.throw(
				_("Response {0}: {1} cannot change: they say how the answer came in.").format(
					self.name, ", ".join(_(self.meta.get_label(f)) for f in changed)
				),
				title=_("Not Allowed"),
			)

	def validate_score(self):
		score = engine.parse_score(self.score) if self.score not in (None, "") else None
		if score is None:
			frappe.throw(
				_("Score must be a whole number from 0 to 10 (it is {0}).").format(
					"-" if self.score in (None, "") else self.score
				),
				title=_("Invalid Score"),
			)
		self.score = score

	def set_category(self):
		self.category = engine.category(self.score)

	def validate_answered_on(self):
		if self.answered_on and get_datetime(self.answered_on) > now_datetime():
			frappe.throw(_("Answered On cannot be in the future."), title=_("Invalid Date"))

	def validate_contact(self):
		# The survey's link was sent to a contact of the customer: an answer by it stands even when
		# the contact was unlinked from the customer since (the link's holder would lose it).
		if self.flags.from_survey_link or self.source == SURVEY_LINK:
			return
		# a contact stored earlier (since unlinked from the customer) holds up no later save
		before = None if self.is_new() else self.get_doc_before_save()
		if before is not None and before.contact == self.contact and before.customer == self.customer:
			return
		if self.contact and not frappe.db.exists(
			"Dynamic Link",
			{
				"parenttype": "Contact",
				"parent": self.contact,
				"link_doctype": "Customer",
				"link_name": self.customer,
			},
		):
			frappe.throw(
				_("Contact {0} is not a contact of customer {1}.").format(self.contact, self.customer),
				title=_("Wrong Contact"),
			)

	def validate_one_answer(self):
		if not (self.survey and self.contact):
			return
		other = frappe.db.exists(
			self.doctype,
			{"survey": self.survey, "contact": self.contact, "name": ("!=", self.name or "")},
		)
		if other:
			frappe.throw(
				_("Contact {0} has already answered survey {1} (response {2}).").format(
					self.contact, self.survey, other
				),
				frappe.DuplicateEntryError,
				title=_("Already Answered"),
			)

	def validate_answer_unchanged(self):
		if self.is_new():
			return
		before = self.get_doc_before_save()
		if not before:
			return
		changed = [f for f in ANSWER_FIELDS if str(before.get(f) or "") != str(self.get(f) or "")]
		if changed and before.source == SURVEY_LINK:
			frappe.throw(
				_("Response {0} is the contact's own answer: {1} cannot change.").format(
					self.name, ", ".join(_(self.meta.get_label(f)) for f in changed)
				),
				title=_("Not Allowed"),
			)


def on_doctype_update():
	# One answer per contact per survey, whatever races past validate.
	frappe.db.add_unique("NPS Response", ["survey", "contact"], constraint_name="unique_survey_contact")
