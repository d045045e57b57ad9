"""Demo step (after the alerts step: the book is scored): NPS surveys over the last nine months and their answers, of every category.

Each survey goes to the customer's contact and is answered through the real answer path
(`voice.service.answer` with the link's token), so categories, invitations and the alerts a
detractor raises are what the app makes of them; only the dates are moved back afterwards, as
the demo does for its other history. No email is sent: the demo's addresses are not real.

Called by demo.setup_demo as fn(registry, book); idempotent through the registry.
"""

import random

import frappe
from frappe.utils import add_days, add_to_date, get_datetime, getdate, nowdate

from customer_success.demo import remember
from customer_success.voice import engine, service

SEED = 20261201
# Months back of each survey round, newest last: the NPS Trend report has a history to show.
ROUNDS = (8, 5, 2, 0)
SCORES = {
	"healthy": (8, 9, 9, 10, 10),
	"middling": (6, 7, 7, 8, 9),
	"at_risk": (2, 4, 5, 6, 7),
}
COMMENTS = {
	engine.PROMOTER: ("The team is responsive and the platform just works.", "Onboarding was smooth."),
	engine.PASSIVE: ("Good overall, reporting could be faster.", "Fine, but support takes a while."),
	engine.DETRACTOR: (
		"Too many open tickets and slow answers.",
		"We are not getting the value we expected.",
	),
}


def make_demo_voice(registry, book):
	if registry.get(service.RESPONSE):
		return
	rng = random.Random(SEED)
	customers = [p for p in book["customers"] if p["name"] in registry.get("Customer", [])]
	for index, profile in enumerate(customers):
		contact = frappe.db.get_value("Customer", profile["name"], "customer_primary_contact")
		if not contact:
			continue
		rounds = ROUNDS[index % 2 :]  # some customers were asked less often
		for months_back in rounds:
			score = rng.choice(SCORES[profile["health"]])
			_survey_and_answer(registry, profile["name"], contact, months_back, score, rng)
	_ensure_every_category(registry, customers, rng)
	_remember_alerts_raised(registry, [p["name"] for p in customers])


def _survey_and_answer(registry, customer: str, contact: str, months_back: int, score: int, rng):
	"""A survey as if sent `months_back` months ago, answered a few days later by its link."""
	sent = add_to_date(get_datetime(nowdate()), months=-months_back, days=-rng.randint(3, 20), hours=9)
	survey = service.new_survey(customer, [contact])
	survey.flags.ignore_permissions = True
	survey.insert()
	token = engine.new_token()
	row = survey.contacts[0]
	row.token_hash = engine.hash_token(token)
	row.state = engine.PENDING
	survey.status = service.SENT
	survey.sent_on = sent
	survey.sent_by = frappe.session.user
	survey.expires_on = add_days(getdate(nowdate()), service.link_valid_days())
	survey.flags.sending = True
	survey.save(ignore_permissions=True)
	remember(registry, survey)
	kind = engine.category(score)
	answered = min(add_to_date(sent, days=rng.randint(0, 3), hours=rng.randint(1, 8)), get_datetime())
	name = service.answer(token, score, rng.choice(COMMENTS[kind]), answered_on=answered)
	# The history happened before the demo existed: the records' own dates move back too.
	frappe.db.set_value(service.RESPONSE, name, "creation", answered, update_modified=False)
	frappe.db.set_value(
		service.SURVEY,
		survey.name,
		{"expires_on": getdate(add_to_date(sent, days=service.link_valid_days())), "creation": sent},
		update_modified=False,
	)
	remember(registry, frappe.get_doc(service.RESPONSE, name))


def _ensure_every_category(registry, customers, rng):
	"""However the dice fell, the book holds a promoter, a passive and a detractor this month."""
	have = set(
		frappe.get_all(
			service.RESPONSE, filters={"name": ("in", registry.get(service.RESPONSE, []))}, pluck="category"
		)
	)
	for kind, score, health in (
		(engine.PROMOTER, 10, "healthy"),
		(engine.PASSIVE, 8, "middling"),
		(engine.DETRACTOR, 3, "at_risk"),
	):
		if kind in have:
			continue
		pool = [p for p in customers if p["health"] == health] or customers
		if not pool:
			return
		profile = pool[0]
		contact = frappe.db.get_value("Customer", profile["name"], "customer_primary_contact")
		if contact:
			_survey_and_answer(registry, profile["name"], contact, 0, score, rng)


def _remember_alerts_raised(registry, customers: list[str]):
	"""A detractor's answer raised its alert on the spot: it is the demo's too, and goes with it."""
	if not customers:
		return
	for name in frappe.get_all(
		"CS Alert", filters={"customer": ("in", customers)}, pluck="name", order_by="name"
	):
		remember(registry, frappe._dict(doctype="CS Alert", name=name))
