"""Demo step: alerts of every kind in every state, with their playbook tasks.

The shipped rules run over the demo's own customers first (scored for the purpose), so most
alerts come from real records; an Advocacy ask (the NPS answers come in the next step, demo.voice)
and any kind the book did not trigger are raised by hand, as a CSM would. Then some alerts are worked:
started, snoozed, resolved with a note, dismissed with a reason, one turned into an Opportunity.

Called by demo.setup_demo as fn(registry, book); idempotent through the registry.
"""

import frappe
from frappe.utils import add_days, nowdate

from customer_success.alerts import engine
from customer_success.alerts import service as alerts
from customer_success.demo import remember
from customer_success.health import service as health
from customer_success.setup import defaults

STATES = (engine.OPEN, engine.IN_PROGRESS, engine.RESOLVED, engine.DISMISSED)
MANUAL = {
	engine.RISK: ("Rescue a Red Account", "The sponsor sounded unhappy on the last call."),
	engine.EXPANSION: ("Propose the Next Step", "The customer asked about a second business unit."),
	engine.ADVOCACY: ("Ask for Advocacy", "Promoter on the last call: ask for a reference."),
	engine.LIFECYCLE: ("Rescue a Late Onboarding", "Data migration is two weeks behind plan."),
}
ASKS = ("Reference", "Case Study", "Referral", "Review")


def make_demo_alerts(registry, book):
	if registry.get(alerts.ALERT):
		return
	defaults.make_default_alert_rules()
	customers = registry.get("Customer", [])
	if not customers:
		return
	models = health.load_models()
	for name in customers:
		health.score_range(name, name, models=models)
	before = set(frappe.get_all(alerts.ALERT, filters={"customer": ("in", customers)}, pluck="name"))
	for name in customers:
		alerts.evaluate_customer(name)
	made = [
		frappe.get_doc(alerts.ALERT, name)
		for name in frappe.get_all(
			alerts.ALERT, filters={"customer": ("in", customers)}, pluck="name", order_by="name"
		)
		if name not in before
	]
	for alert in made:
		remember(registry, alert)
	_fill_every_kind_and_state(registry, customers, made)


def _fill_every_kind_and_state(registry, customers, made):
	by_kind = {kind: [a for a in made if a.kind == kind] for kind in engine.KINDS}
	for index, kind in enumerate(engine.KINDS):
		pool = by_kind[kind]
		while len(pool) < len(STATES):
			customer = customers[(index * 7 + len(pool)) % len(customers)]
			pool.append(_manual_alert(registry, customer, kind, len(pool)))
		for alert, state in zip(pool, STATES, strict=False):
			_move(registry, alert, state)
		if len(pool) > len(STATES):
			pool[len(STATES)].reload()
			pool[len(STATES)].snoozed_until = add_days(nowdate(), 10)
			pool[len(STATES)].save(ignore_permissions=True)


def _manual_alert(registry, customer, kind, index):
	playbook, summary = MANUAL[kind]
	alert = frappe.get_doc(
		{
			"doctype": alerts.ALERT,
			"customer": customer,
			"kind": kind,
			"severity": (engine.MEDIUM, engine.HIGH, engine.LOW, engine.CRITICAL)[index % 4],
			"playbook": playbook,
			"summary": summary,
			"ask_type": ASKS[index % len(ASKS)] if kind == engine.ADVOCACY else None,
		}
	)
	alert.insert(ignore_permissions=True)
	remember(registry, alert)
	return alert


def _move(registry, alert, state):
	alert.reload()
	if state == engine.OPEN or alert.status != engine.OPEN:
		return
	if alert.tasks and alert.tasks[0].todo:
		todo = frappe.get_doc("ToDo", alert.tasks[0].todo)
		todo.status = "Closed"
		todo.save(ignore_permissions=True)
		alert.reload()
	if state == engine.IN_PROGRESS:
		alert.status = engine.IN_PROGRESS
		alert.save(ignore_permissions=True)
		if alert.kind == engine.EXPANSION and not alert.opportunity:
			opportunity = alerts.create_opportunity(alert)
			remember(registry, frappe.get_doc("Opportunity", opportunity))
		return
	if alert.kind == engine.ADVOCACY:
		alert.ask_outcome = "Agreed" if state == engine.RESOLVED else "Declined"
	alert.flags.ignore_permissions = True
	if state == engine.RESOLVED:
		alerts.close(alert, engine.RESOLVED, "Called the sponsor; agreed next steps and dates.")
	else:
		alerts.close(alert, engine.DISMISSED, "Known situation, already handled with the account team.")


def settle_demo_alerts(registry):
	"""The rules once more over the demo's customers, as the first night will run them, once every
	step has written: the renewals renewed, churned and invoiced after the alerts step, and the score
	history the drop rules compare with came after it too. So the first night finds the alerts as
	the rules leave them (a renewed customer's Green Before Renewal is resolved now, not by that
	night) and moves none by itself. What this raises is the demo's, and goes with it."""
	customers = registry.get("Customer", [])
	if not customers:
		return
	for name in customers:
		alerts.evaluate_customer(name)
	for name in frappe.get_all(
		alerts.ALERT, filters={"customer": ("in", customers)}, pluck="name", order_by="name"
	):
		remember(registry, frappe._dict(doctype=alerts.ALERT, name=name))
