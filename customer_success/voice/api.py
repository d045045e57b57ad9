"""Whitelisted functions of the customer's voice: the CSM's send and reads, and the answer page's
submit (the only one open to Guest, rate-limited per address)."""

import json

import frappe
from frappe import _
from frappe.rate_limiter import rate_limit

from customer_success.permissions import check_can_work_on_customer
from customer_success.voice import service

# A survey link's holder answers once; ten tries an hour from one address is plenty for typos.
SUBMIT_LIMIT, SUBMIT_WINDOW = 10, 60 * 60


@frappe.whitelist()
def get_contacts_to_survey(customer: str) -> list[dict]:
	"""The send dialog's choices: the customer's contacts, with email and when last surveyed."""
	check_can_work_on_customer(customer)
	return service.contacts_to_survey(customer)


@frappe.whitelist(methods=["POST"])
def send_survey(
	customer: str, contacts: list | str, success_plan: str | None = None, note: str | None = None
) -> dict:
	"""Customer or Success Plan form: a survey to the chosen contacts, sent now."""
	check_can_work_on_customer(customer)
	contacts = parse_contacts(contacts)
	service.check_outgoing_email()
	survey = service.new_survey(customer, contacts, success_plan, note)
	survey.validate_success_plan()  # a plan of another customer (a colleague's): said, not a bare refusal
	survey.check_permission("create")
	survey.insert()
	sent_to = service.send(survey)
	return {"survey": survey.name, "sent_to": sent_to}


@frappe.whitelist(methods=["POST"])
def send_draft(survey: str) -> dict:
	"""The NPS Survey form's Send: a Draft made on the form goes out."""
	doc = frappe.get_doc(service.SURVEY, survey)
	doc.check_permission("write")
	check_can_work_on_customer(doc.customer)
	return {"survey": doc.name, "sent_to": service.send(doc)}


@frappe.whitelist()
def get_latest_nps(customer: str) -> dict:
	"""The Customer form's NPS: latest answer and the year's NPS, as far as the user may read."""
	frappe.has_permission("Customer", "read", customer, throw=True)
	return service.latest_nps(customer)


# xss_safe: frappe escapes what a Guest sends to any other method ("&" stored as "&amp;", a script's
# tags as entities the CSM then read); the comment's markup is removed by the service instead
# (`clean_comment`), and what is left is text, shown escaped
@frappe.whitelist(allow_guest=True, methods=["POST"], xss_safe=True)
@rate_limit(limit=SUBMIT_LIMIT, seconds=SUBMIT_WINDOW)
def submit_answer(token: str, score: str | int, comment: str | None = None) -> dict:
	"""The answer page's submit: the link's token is the right to answer its one survey, once."""
	try:
		service.answer(token, score, comment)
	except service.InvalidSurveyLink as link:
		return {"ok": False, "state": link.state, "message": str(link)}
	return {"ok": True, "message": _("Thank you: your answer is recorded.")}


def parse_contacts(contacts) -> list[str]:
	if isinstance(contacts, str):
		try:
			contacts = json.loads(contacts)
		except ValueError:
			frappe.throw(_("Contacts must be a list of contact names."))
	if not isinstance(contacts, list) or not all(isinstance(c, str) and c for c in contacts):
		frappe.throw(_("Contacts must be a list of contact names."))
	if not contacts:
		frappe.throw(_("Choose at least one contact to send the survey to."), title=_("No Contacts"))
	return contacts
