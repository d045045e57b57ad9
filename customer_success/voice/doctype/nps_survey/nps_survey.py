import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.utils import comparable
from customer_success.voice import queries

DRAFT, SENT = "Draft", "Sent"
# What went out, and what only the answers and the daily expiry (by their own writes) change: a
# sent survey keeps them as they are.
SENT_FIELDS = ("customer", "success_plan", "channel", "sent_on", "sent_by", "expires_on", "answers", "note")
SENT_ROW_FIELDS = ("contact", "contact_name", "email_id", "state", "answered_on", "response", "token_hash")


class NPSSurvey(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.voice.doctype.nps_survey_contact.nps_survey_contact import NPSSurveyContact

		answers: DF.Int
		channel: DF.Literal["Email"]
		contacts: DF.Table[NPSSurveyContact]
		customer: DF.Link
		customer_name: DF.Data | None
		expires_on: DF.Date | None
		note: DF.SmallText | None
		sent_by: DF.Link | None
		sent_on: DF.Datetime | None
		status: DF.Literal["Draft", "Sent"]
		success_plan: DF.Link | None
	# end: auto-generated types

	def validate(self):
		self.validate_status()
		self.validate_success_plan()
		self.validate_contacts()
		self.validate_sent_unchanged()

	def validate_status(self):
		"""Only sending makes a survey Sent: that is what gives each contact a link."""
		before = None if self.is_new() else self.get_doc_before_save()
		was_sent = bool(before and before.status == SENT)
		if self.status == SENT and not was_sent and not self.flags.sending:
			frappe.throw(
				_(
					"A survey becomes Sent only by sending it (its Send button): that gives each contact a link."
				),
				title=_("Not Allowed"),
			)
		if was_sent and self.status != SENT:
			frappe.throw(_("Survey {0} was sent: it cannot go back to Draft.").format(self.name))

	def validate_success_plan(self):
		if not self.success_plan:
			return
		plan_customer = frappe.db.get_value("Success Plan", self.success_plan, "customer")
		if plan_customer != self.customer:
			# whose plan it is stays unsaid: it may be of a customer the user does not work on
			frappe.throw(
				_("Success Plan {0} is not a plan of {1}: pick a plan of this customer.").format(
					self.success_plan, self.customer
				),
				title=_("Wrong Success Plan"),
			)

	def validate_contacts(self):
		"""Each contact once, linked to the customer and with an email: the link goes by email. A sent
		survey's contacts are what went out (`validate_sent_unchanged`): one unlinked from the
		customer since holds up no later save."""
		if self.status == SENT and not self.flags.sending:
			return
		found = {row.contact: row for row in queries.customer_contacts(self.customer)}
		seen = set()
		for row in self.contacts:
			if row.contact in seen:
				frappe.throw(
					_("Row {0}: contact {1} is listed twice. Send each contact one link.").format(
						row.idx, row.contact
					)
				)
			seen.add(row.contact)
			contact = found.get(row.contact)
			if not contact:
				frappe.throw(
					_("Row {0}: contact {1} is not a contact of customer {2}.").format(
						row.idx, row.contact, self.customer
					),
					title=_("Wrong Contact"),
				)
			if not contact.email_id:
				frappe.throw(
					_("Row {0}: contact {1} has no email address: add one on the contact first.").format(
						row.idx, row.contact
					),
					title=_("No Email"),
				)
			if row.state in (None, "") or self.status == DRAFT:
				row.contact_name = contact.full_name
				row.email_id = contact.email_id

	def validate_sent_unchanged(self):
		"""A sent survey is a record of what went out: its customer, plan, note, dates and contacts
		stay as sent, and each contact's state and answer as the link and the daily job set them."""
		if self.is_new() or self.status != SENT or self.flags.sending:
			return
		before = self.get_doc_before_save()
		if not before or before.status != SENT:
			return
		if before.customer != self.customer or before.success_plan != self.success_plan:
			frappe.throw(_("Survey {0} was sent: its customer and plan cannot change.").format(self.name))
		sent = {(row.name, row.contact, row.token_hash) for row in before.contacts}
		now = {(row.name, row.contact, row.token_hash) for row in self.contacts}
		if sent != now:
			frappe.throw(
				_("Survey {0} was sent: its contacts cannot change. Send a new survey instead.").format(
					self.name
				)
			)
		changed = self.changed_labels(before, self, SENT_FIELDS)
		rows = {row.name: row for row in before.contacts}
		for row in self.contacts:
			changed += [
				_("Row {0}: {1}").format(row.idx, label)
				for label in self.changed_labels(rows[row.name], row, SENT_ROW_FIELDS)
			]
		if changed:
			frappe.throw(
				_("Survey {0} was sent: {1} cannot change.").format(self.name, ", ".join(changed)),
				title=_("Not Allowed"),
			)

	@staticmethod
	def changed_labels(before, doc, fieldnames) -> list[str]:
		meta = doc.meta
		return [
			_(meta.get_label(fieldname))
			for fieldname in fieldnames
			if comparable(before.get(fieldname), meta.get_field(fieldname).fieldtype)
			!= comparable(doc.get(fieldname), meta.get_field(fieldname).fieldtype)
		]
