"""Demo step: sales handoffs in every state, on the demo book's most recent deals.

The demo's Sales Orders are submitted with the auto-draft switched off (setup_demo), so no
handoff is drafted for them behind the demo's back: this step drafts a deliberate set, each
registered so teardown removes it (with its ToDos, comments and notifications). Nothing is
deleted to be made again: a deleted handoff's name would be reused by the next draft while
Frappe's jobs cleaning up after the deleted one are still queued, and they would then delete the
new handoff's ToDos and comments. Times are relative to now, so the SLA shows some handoffs on
time and some overdue.
"""

import frappe
from frappe.utils import add_days, add_to_date, now_datetime, nowdate

from customer_success.customer_success.doctype.customer_success_settings.customer_success_settings import (
	handoff_sla_hours as sla_hours,
)
from customer_success.demo import remember
from customer_success.handoff import service as handoffs

# (final status, complete?, hours since the order, hours to hand over, hours to accept/return)
SCENARIOS = (
	("Draft", False, 5, None, None),
	("Draft", False, 40, None, None),
	("Handed Over", True, 20, 14, None),
	("Handed Over", True, 80, 30, None),
	("Returned", True, 60, 20, 12),
	("Accepted", True, 400, 18, 6),
	("Accepted", True, 200, 30, 20),
	("Accepted", True, 90, 10, 40),
)

NEEDS = (
	"Replace spreadsheets for month-end reporting; one view of every customer's orders and invoices.",
	"Faster support for their own customers: handling time per ticket is too high.",
	"Cut manual work in order entry; their team re-keys every order twice.",
)
USE_CASES = (
	("Month-end close", "Days to close the books", "days", "Down", 10, 3),
	("Ticket handling", "Handling time per ticket", "minutes", "Down", 45, 30),
	("Order entry", "Orders entered per person per day", "orders", "Up", 40, 70),
)


def make_demo_handoffs(registry, book):
	if registry.get("Sales Handoff"):
		return

	recent = sorted(book["customers"], key=lambda p: p["term_start"], reverse=True)
	for index, (profile, scenario) in enumerate(zip(recent, SCENARIOS, strict=False)):
		order = frappe.db.get_value(
			"Sales Order",
			{"customer": profile["name"], "docstatus": 1},
			"name",
			order_by="transaction_date desc, creation desc",
		)
		if order:
			_make_handoff(registry, profile, order, index, *scenario)


def _make_handoff(
	registry, profile, order, index, status, is_complete, order_hours, handover_hours, decide_hours
):
	now = now_datetime()
	received = add_to_date(now, hours=-order_hours)
	handoff = handoffs.draft_handoff(order, received_on=received)
	remember(registry, handoff)
	handoff.proposed_csm = profile["csm"]
	_fill(handoff, index, is_complete)
	handoff.save(ignore_permissions=True)
	if status == "Draft":
		_backdate(handoff, {})
		return handoff

	handoff.hand_over()
	handed = add_to_date(received, hours=handover_hours)
	values = {"handed_over_on": handed, "hours_to_hand_over": handover_hours}
	if status == "Returned":
		handoff.return_to_sales(
			"Please confirm the economic buyer and a realistic go-live date before we start."
		)
		values.update(
			{"returned_on": add_to_date(handed, hours=decide_hours), "hours_to_decide": decide_hours}
		)
	elif status == "Accepted":
		handoff.accept()
		values.update(
			{"accepted_on": add_to_date(handed, hours=decide_hours), "hours_to_decide": decide_hours}
		)
		_remember_plans(registry, handoff)
	_backdate(handoff, values)
	return handoff


def _fill(handoff, index, is_complete):
	index = index % len(NEEDS)
	handoff.needs_and_expectations = f"<p>{NEEDS[index]}</p>"
	handoff.append(
		"stakeholders",
		{
			"contact": handoff.primary_contact,
			"stakeholder_name": handoff.contact_display or "Primary contact",
			"designation": handoff.contact_designation,
			"influence": "High",
			"attitude": "Champion",
			"is_champion": 1,
		},
	)
	if not is_complete:
		return
	use_case, metric, unit, direction, baseline, target = USE_CASES[index]
	handoff.target_go_live = add_days(nowdate(), 45)
	handoff.success_definition = f"<p>{metric}: from {baseline} to {target} {unit} within two quarters.</p>"
	handoff.implementation_plan = (
		"<p>Weeks 1-2: kickoff and data migration. Weeks 3-6: configuration and training. "
		"Week 7: go-live and hypercare.</p>"
	)
	handoff.support_needs = "<p>Business-hours support; a named contact during the first 90 days.</p>"
	handoff.sales_feedback = "<p>Liked the dashboards; asked for Excel export and SSO.</p>"
	handoff.roi_target = "Save 1.5 FTE of manual work within 12 months."
	handoff.append(
		"stakeholders",
		{
			"stakeholder_name": "Finance Director",
			"designation": "CFO",
			"influence": "High",
			"attitude": "Neutral",
			"is_economic_buyer": 1,
			"is_decision_maker": 1,
			"is_sponsor": 1,
		},
	)
	handoff.append(
		"use_cases",
		{
			"use_case": use_case,
			"metric": metric,
			"unit": unit,
			"direction": direction,
			"baseline": baseline,
			"target": target,
			"target_date": add_days(nowdate(), 180),
		},
	)
	handoff.append(
		"anticipated_problems",
		{
			"problem": "Legacy data is inconsistent",
			"likelihood": "High",
			"impact": "Medium",
			"mitigation": "Pilot import of one month before the full migration.",
		},
	)


def _backdate(handoff, values: dict):
	"""The story happened over the last days: move its clock, then recompute the SLA fields."""
	if values:
		frappe.db.set_value("Sales Handoff", handoff.name, values, update_modified=False)
	handoff.reload()
	handoff.set_sla()
	handoff_hours, acceptance_hours = sla_hours()
	missed = (handoff.hours_to_hand_over or 0) > handoff_hours > 0 or (
		(handoff.hours_to_decide or 0) > acceptance_hours > 0
	)
	frappe.db.set_value(
		"Sales Handoff",
		handoff.name,
		{
			"due_by": handoff.due_by,
			"sla_step": handoff.sla_step,
			"is_late": handoff.is_late,
			"sla_missed": 1 if (missed or handoff.is_late) else 0,
		},
		update_modified=False,
	)


def _remember_plans(registry, handoff):
	"""Plans created by the acceptance hooks are demo records too."""
	if not frappe.db.exists("DocType", "Success Plan"):
		return
	meta = frappe.get_meta("Success Plan")
	if not meta.has_field("sales_handoff"):
		return
	for name in frappe.get_all("Success Plan", filters={"sales_handoff": handoff.name}, pluck="name"):
		remember(registry, frappe._dict(doctype="Success Plan", name=name))
