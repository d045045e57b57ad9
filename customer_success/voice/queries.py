"""Set-based reads and writes for the customer's voice: contacts, survey links, NPS counts."""

from datetime import date

import frappe
from frappe.query_builder import CustomFunction
from frappe.query_builder.functions import Count, Max

from customer_success.voice import engine

SURVEY, ROW, RESPONSE = "NPS Survey", "NPS Survey Contact", "NPS Response"
DateFormat = CustomFunction("DATE_FORMAT", ["date", "format"])


def customer_contacts(customer: str) -> list[dict]:
	"""The contacts linked to a customer, with their primary email (None when they have none)."""
	contact = frappe.qb.DocType("Contact")
	link = frappe.qb.DocType("Dynamic Link")
	return (
		frappe.qb.from_(link)
		.join(contact)
		.on(contact.name == link.parent)
		.select(contact.name.as_("contact"), contact.full_name, contact.email_id)
		.where(
			(link.parenttype == "Contact") & (link.link_doctype == "Customer") & (link.link_name == customer)
		)
		.orderby(contact.full_name)
		.run(as_dict=True)
	)


def last_surveyed(customer: str) -> dict[str, object]:
	"""{contact: when it was last sent a survey of this customer}."""
	survey = frappe.qb.DocType(SURVEY)
	row = frappe.qb.DocType(ROW)
	return dict(
		frappe.qb.from_(row)
		.join(survey)
		.on((survey.name == row.parent) & (row.parenttype == SURVEY))
		.select(row.contact, Max(survey.sent_on))
		.where((survey.customer == customer) & (survey.status == "Sent"))
		.groupby(row.contact)
		.run()
	)


def invitation_by_hash(token_hash: str, for_update: bool = False) -> dict | None:
	"""The contact's row of a sent survey holding this token hash, with its survey's customer and
	expiry; locked until commit with `for_update` (the submit)."""
	survey = frappe.qb.DocType(SURVEY)
	row = frappe.qb.DocType(ROW)
	query = (
		frappe.qb.from_(row)
		.join(survey)
		.on((survey.name == row.parent) & (row.parenttype == SURVEY))
		.select(
			row.name,
			row.contact,
			row.contact_name,
			row.state,
			survey.name.as_("survey"),
			survey.customer,
			survey.expires_on,
		)
		.where((row.token_hash == token_hash) & (survey.status == "Sent") & (survey.docstatus == 0))
	)
	if for_update:
		query = query.for_update()
	rows = query.run(as_dict=True)
	return rows[0] if rows else None


def mark_answered(row_name: str, survey_name: str, response: str, when):
	"""The link is used: its row points at the answer, and the survey counts it."""
	row = frappe.qb.DocType(ROW)
	(
		frappe.qb.update(row)
		.set(row.state, engine.ANSWERED)
		.set(row.answered_on, when)
		.set(row.response, response)
		.where(row.name == row_name)
		.run()
	)
	answered = (
		frappe.qb.from_(row)
		.select(Count("*"))
		.where((row.parent == survey_name) & (row.parenttype == SURVEY) & (row.state == engine.ANSWERED))
		.run()[0][0]
	)
	survey = frappe.qb.DocType(SURVEY)
	frappe.qb.update(survey).set(survey.answers, answered).where(survey.name == survey_name).run()


def expire_invitations(today: date):
	"""Every pending link of a sent survey whose expiry is before today becomes Expired: one statement."""
	survey = frappe.qb.DocType(SURVEY)
	row = frappe.qb.DocType(ROW)
	expired_surveys = (
		frappe.qb.from_(survey)
		.select(survey.name)
		.where((survey.status == "Sent") & (survey.expires_on < today))
	)
	(
		frappe.qb.update(row)
		.set(row.state, engine.EXPIRED)
		.where((row.parenttype == SURVEY) & (row.state == engine.PENDING) & row.parent.isin(expired_surveys))
		.run()
	)


def nps_counts(from_date: date, to_date: date, csm: str | None = None, tier: str | None = None) -> list[dict]:
	"""Answers per month, tier and CSM and category, in one GROUP BY: [{period, tier, csm, category,
	count}]. Tier and CSM are the customer's now, so a customer moved to another book takes its
	history with it (as every other figure of a CSM's book does)."""
	response = frappe.qb.DocType(RESPONSE)
	customer = frappe.qb.DocType("Customer")
	period = DateFormat(response.answered_on, "%Y-%m")
	query = (
		frappe.qb.from_(response)
		.join(customer)
		.on(customer.name == response.customer)
		.select(
			period.as_("period"),
			customer.cs_tier.as_("tier"),
			customer.cs_owner.as_("csm"),
			response.category,
			Count("*").as_("count"),
		)
		.where(
			(response.answered_on >= from_date) & (response.answered_on < frappe.utils.add_days(to_date, 1))
		)
		.groupby(period, customer.cs_tier, customer.cs_owner, response.category)
		.orderby(period)
	)
	if csm:
		query = query.where(customer.cs_owner == csm)
	if tier:
		query = query.where(customer.cs_tier == tier)
	return query.run(as_dict=True)
