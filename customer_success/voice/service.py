"""The customer's voice: send an NPS survey, take an answer from its link, what the forms show.

A survey goes to some of a customer's contacts; each gets an email with a personal link
(/nps?token=...). Only the token's SHA-256 is stored, on the contact's row of the survey. The link
is single-use and expires (Customer Success Settings); the answer page and its submit find the row
by the hash and never show anything but that row's survey.
"""

import html

import frappe
from frappe import _
from frappe.utils import (
	add_days,
	cint,
	get_datetime,
	get_url,
	getdate,
	now_datetime,
	nowdate,
)

from customer_success.utils import plain_text
from customer_success.voice import engine, queries

SURVEY, RESPONSE = "NPS Survey", "NPS Response"
DRAFT, SENT = "Draft", "Sent"
SURVEY_LINK = "Survey Link"
PAGE_ROUTE = "nps"
SETTINGS = "Customer Success Settings"
DEFAULT_VALID_DAYS = 14
DEFAULT_SUBJECT = "How likely are you to recommend us?"
MAX_COMMENT_LENGTH = 2000


class InvalidSurveyLink(frappe.ValidationError):
	"""The link was used, has expired, or is not one we sent: nothing is recorded."""

	def __init__(self, state: str, message: str):
		super().__init__(message)
		self.state = state


# --- sending ---------------------------------------------------------------------------------


def link_valid_days() -> int:
	return cint(frappe.db.get_single_value(SETTINGS, "nps_link_valid_days")) or DEFAULT_VALID_DAYS


def new_survey(customer: str, contacts: list[str], success_plan: str | None = None, note: str | None = None):
	"""A Draft survey of the customer's chosen contacts (not saved)."""
	return frappe.get_doc(
		{
			"doctype": SURVEY,
			"customer": customer,
			"success_plan": success_plan or None,
			"channel": "Email",
			"status": DRAFT,
			"note": note,
			"contacts": [{"contact": contact} for contact in contacts],
		}
	)


def send(survey) -> list[str]:
	"""Give each contact of a Draft survey a fresh link, save the survey as Sent (the caller's
	write permission is checked by the save), then queue one email per contact. Returns the
	addresses written to."""
	if survey.status != DRAFT:
		frappe.throw(
			_("Survey {0} was already sent on {1}.").format(
				survey.name, frappe.format(survey.sent_on, {"fieldtype": "Datetime"})
			)
		)
	if not survey.contacts:
		frappe.throw(_("Add at least one contact to send the survey to."), title=_("No Contacts"))
	check_outgoing_email()
	tokens = {}
	for row in survey.contacts:
		token = engine.new_token()
		tokens[row.contact] = token
		row.token_hash = engine.hash_token(token)
		row.state = engine.PENDING
		row.response = row.answered_on = None  # a Draft's rows carry no answer into the sent survey
	survey.answers = 0
	survey.status = SENT
	survey.sent_on = now_datetime()
	survey.sent_by = frappe.session.user
	survey.expires_on = add_days(getdate(nowdate()), link_valid_days())
	survey.flags.sending = True
	survey.save()
	for row in survey.contacts:
		send_invitation(survey, row, tokens[row.contact])
	return [row.email_id for row in survey.contacts]


def check_outgoing_email():
	"""A survey goes by email: without an outgoing account nothing is sent, and nothing saved."""
	from frappe.email.doctype.email_account.email_account import EmailAccount

	if not EmailAccount.find_outgoing(match_by_doctype=SURVEY):
		frappe.throw(
			_(
				"Set up an outgoing Email Account (Tools > Email Account) first: each contact's survey link goes by email."
			),
			frappe.OutgoingEmailError,
			title=_("No Outgoing Email"),
		)


def survey_link(token: str) -> str:
	return get_url(f"/{PAGE_ROUTE}?token={token}")


def send_invitation(survey, row, token: str):
	subject = _(frappe.db.get_single_value(SETTINGS, "nps_email_subject") or DEFAULT_SUBJECT)
	message = frappe.render_template(
		"templates/emails/nps_survey.html",
		{
			"contact_name": row.contact_name,
			"company": company_name(),
			"note": note_text(survey.note),
			"link": survey_link(token),
			"expires_on": survey.expires_on,
		},
	)
	frappe.sendmail(
		recipients=[row.email_id],
		subject=subject,
		message=message,
		reference_doctype=SURVEY,
		reference_name=survey.name,
		delayed=True,
	)


def note_text(note: str | None) -> str | None:
	"""The note as the CSM typed it, as plain text (the email escapes it once): frappe stores a Small
	Text with its markup sanitised and the rest escaped, which escaped again read "&lt;" in the mail."""
	text = html.unescape(plain_text(note)).strip()
	return text or None


def company_name() -> str:
	import erpnext

	return erpnext.get_default_company() or frappe.db.get_single_value("Website Settings", "app_name") or ""


# --- answering -------------------------------------------------------------------------------


LINK_MESSAGES = {
	engine.LINK_USED: "This survey link has already been used: thank you, your answer is recorded.",
	engine.LINK_EXPIRED: "This survey link has expired. Ask your contact at {0} for a new one if you would still like to answer.",
	engine.LINK_UNKNOWN: "This survey link is not valid. Please open the link exactly as it came in your email.",
}


def link_message(state: str) -> str:
	return _(LINK_MESSAGES[state]).format(company_name())


def invitation(token: str | None, for_update: bool = False) -> dict | None:
	"""The contact's row of the survey the token opens, or None (a token we never made, a hash
	nobody holds)."""
	if not engine.looks_like_token(token):
		return None
	return queries.invitation_by_hash(engine.hash_token(token), for_update=for_update)


def page_context(token: str | None) -> dict:
	"""What the answer page shows for a link: the question, or why it cannot be answered.

	Only the link's own survey: the customer and contact come from the row its hash finds."""
	row = invitation(token)
	state = engine.link_state(row, getdate(nowdate()))
	context = {"state": state, "company": company_name()}
	if state == engine.LINK_OK:
		context.update(
			{
				"contact_name": row.contact_name,
				"expires_on": row.expires_on,
				"scores": list(range(engine.MIN_SCORE, engine.MAX_SCORE + 1)),
			}
		)
	else:
		context["message"] = link_message(state)
	return context


def answer(token: str | None, score, comment: str | None = None, *, answered_on=None) -> str:
	"""Record the answer a link's holder gave: one answer, once, while the link is valid.

	The row is locked while it is checked and marked, so two submits of the same link cannot
	both pass. Returns the NPS Response's name. `answered_on` (now by default) is for history
	loaded from elsewhere (the demo), never from the page.
	"""
	row = invitation(token, for_update=True)
	state = engine.link_state(row, getdate(nowdate()))
	if state != engine.LINK_OK:
		raise InvalidSurveyLink(state, link_message(state))
	value = engine.parse_score(score)
	if value is None:
		frappe.throw(_("Choose a score from 0 to 10."), title=_("Invalid Score"))
	now = get_datetime(answered_on) if answered_on else now_datetime()
	response = frappe.get_doc(
		{
			"doctype": RESPONSE,
			"customer": row.customer,
			"contact": row.contact,
			"survey": row.survey,
			"score": value,
			"comment": clean_comment(comment),
			"answered_on": now,
			"source": SURVEY_LINK,
		}
	)
	response.flags.from_survey_link = True
	response.flags.ignore_permissions = True  # the link is the holder's right to answer this one row
	response.insert()
	queries.mark_answered(row.name, row.survey, response.name, now)
	return response.name


def clean_comment(comment: str | None) -> str | None:
	text = plain_text(comment).strip()
	return text[:MAX_COMMENT_LENGTH] or None


def after_answer(response):
	"""A new answer: the rooms that follow answers (alerts: its customer's NPS rules, now, so a
	detractor waits for no night) register in `cs_on_nps_answer`, each called as fn(response).

	One that fails is rolled back and logged, never lost with the answer: the nightly pass runs the
	rules again.
	"""
	for method in frappe.get_hooks("cs_on_nps_answer"):
		savepoint = "cs_nps_answer_" + frappe.generate_hash(length=8)
		frappe.db.savepoint(savepoint)
		try:
			frappe.get_attr(method)(response)
		except Exception:
			frappe.db.rollback(save_point=savepoint)
			frappe.log_error(
				title=_("After NPS answer hook {0} failed for customer {1}").format(
					method, response.customer
				),
				reference_doctype=RESPONSE,
				reference_name=response.name,
			)


def expire_links(today=None):
	"""Mark the pending links of surveys past their expiry as Expired (the page already refuses
	them; this keeps the survey's rows telling the truth)."""
	queries.expire_invitations(getdate(today or nowdate()))


# --- what the forms show ---------------------------------------------------------------------


def latest_nps(customer: str) -> dict:
	"""The Customer form's NPS: the latest answer and the last year's NPS, as the user may read them."""
	if not frappe.has_permission(RESPONSE, "read"):
		return {"can_read": False}
	since = add_days(getdate(nowdate()), -365)
	rows = frappe.get_list(
		RESPONSE,
		filters={"customer": customer, "answered_on": (">=", since)},
		fields=["name", "score", "category", "answered_on", "contact", "contact_name"],
		order_by="answered_on desc, creation desc",
		limit_page_length=0,
	)
	return {
		"can_read": True,
		"latest": rows[0] if rows else None,
		"responses": len(rows),
		"nps": engine.nps_of_scores([row.score for row in rows]),
	}


def contacts_to_survey(customer: str) -> list[dict]:
	"""The customer's contacts, each with its email and when it was last sent a survey."""
	contacts = queries.customer_contacts(customer)
	last = queries.last_surveyed(customer)
	return [
		{
			"contact": c.contact,
			"full_name": c.full_name,
			"email_id": c.email_id,
			"last_surveyed_on": last.get(c.contact),
		}
		for c in contacts
	]
