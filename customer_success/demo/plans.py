"""Demo step: success plans for about half the book, milestones (some overdue), check-ins, a QBR.

Called by demo.setup_demo as fn(registry, book); idempotent through the registry.
"""

import random

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.demo import new_user, remember
from customer_success.setup import defaults
from customer_success.success_plans import engine
from customer_success.success_plans import service as plans

SEED = 5


def make_demo_plans(registry, book):
	# The step ends with the business review: once that exists it has run. Plans alone are no
	# sign, since the handoff step's accepted handoffs create plans too.
	if registry.get("Business Review"):
		return
	rng = random.Random(SEED)
	defaults.make_default_plan_templates()
	today = getdate(nowdate())
	profiles = book["customers"][::2]  # every other customer: about half the book
	made = []
	for profile in profiles:
		if frappe.db.exists(plans.PLAN, {"customer": profile["name"]}):
			continue  # e.g. the plan an accepted demo handoff created
		plan = _make_plan(registry, profile, today, rng)
		made.append((profile, plan))
	for _profile, plan in made:
		if plan.status in (engine.ACTIVE, engine.AT_RISK):
			_make_checkin(registry, plan, today, rng)
	# Every CSM has something in every list: a business review and a check-in still due.
	active = [plan for _profile, plan in made if plan.status in (engine.ACTIVE, engine.AT_RISK)]
	first_of_each_csm = {}
	for plan in active:
		first_of_each_csm.setdefault(plan.csm, plan)
	for plan in first_of_each_csm.values():
		_make_due_checkin(registry, plan, today)
		_make_review(registry, plan, today)
	portal_plan = first_of_each_csm.get(book["csms"][0]) if book["csms"] else None
	if portal_plan:
		make_portal_contact(registry, portal_plan.customer)


# The customer's side: a contact of the first CSM's customer who can sign in to the portal.
PORTAL_CONTACT = ("pat.portal@example.com", "Pat", "Portal")


def make_portal_contact(registry, customer: str):
	"""A website user linked to a Contact of `customer`, who sees its shared plans at /success-plans."""
	email, first, last = PORTAL_CONTACT
	if not frappe.db.exists("User", email):
		# the portal menu shows "Success Plans" to customers' contacts (ERPNext's Customer role)
		user = new_user(email, first, last, "Website User", roles=("Customer",))
		remember(registry, user)
	if frappe.db.exists("Contact", {"user": email}):
		return
	contact = frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": first,
			"last_name": last,
			"designation": "Project Lead",
			"user": email,
			"email_ids": [{"email_id": email, "is_primary": 1}],
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	).insert(ignore_permissions=True)
	remember(registry, contact)


def _make_due_checkin(registry, plan, today):
	checkin = frappe.get_doc(
		{
			"doctype": plans.CHECKIN,
			"success_plan": plan.name,
			"csm": plan.csm,
			"due_date": add_days(today, 7),
			"notes": "<p>Next progress review: bring the adoption figures per team.</p>",
		}
	)
	checkin.flags.ignore_permissions = True
	checkin.insert()
	remember(registry, checkin)


def refresh_demo_reviews(registry):
	"""Snapshot the demo's reviews again, now that the customers have a health score."""
	for name in registry.get("Business Review", []):
		review = frappe.get_doc("Business Review", name)
		review.take_snapshot()
		review.flags.ignore_permissions = True
		review.save()


def _make_plan(registry, profile, today, rng):
	customer = profile["name"]
	start = max(getdate(profile["term_start"]), getdate(add_days(today, -300)))
	template = plans.template_for_tier(profile["tier"])
	plan = frappe.get_doc(
		{
			"doctype": plans.PLAN,
			"customer": customer,
			"csm": profile["csm"],
			"template": template,
			"start_date": start,
			"end_date": add_days(start, 364),
			"status": engine.DRAFT,
			"motivation": "<p>Replace spreadsheets and get one view of operations.</p>",
			"pain_points": "<p>Manual reporting, slow support answers.</p>",
			"success_definition": "<p>Teams run their week from the product and reporting takes minutes.</p>",
			"share_with_customer": 1,
		}
	)
	plan.flags.ignore_permissions = True
	plan.insert()
	remember(registry, plan)
	for name in frappe.get_all(plans.MILESTONE, filters={"success_plan": plan.name}, pluck="name"):
		remember(registry, frappe._dict(doctype=plans.MILESTONE, name=name))

	# Quantify the objectives as a CSM would, with progress that matches the customer's health.
	share = {"healthy": 0.8, "middling": 0.45, "at_risk": 0.15}[profile["health"]]
	for row in plan.objectives:
		if row.baseline == row.target:
			row.target = row.baseline + 10 if row.direction != engine.DOWN else max(row.baseline - 5, 0)
		# a count (teams, reports, tickets) is kept whole when the plan is saved
		row.current = row.baseline + (row.target - row.baseline) * share * rng.uniform(0.7, 1.2)

	# Milestones due in the past: healthy customers did them, others let some slip.
	for name, due in frappe.get_all(
		plans.MILESTONE, filters={"success_plan": plan.name}, fields=["name", "due_date"], as_list=True
	):
		if getdate(due) < today and (profile["health"] == "healthy" or rng.random() < 0.5):
			milestone = frappe.get_doc(plans.MILESTONE, name)
			milestone.status = engine.DONE
			milestone.completed_on = min(getdate(add_days(due, rng.randint(-5, 10))), today)
			milestone.completed_on = max(getdate(milestone.completed_on), start)
			milestone.flags.ignore_permissions = True
			milestone.save()

	renewing_soon = profile["stage"] == "Renewal"
	if renewing_soon or profile["health"] != "at_risk":
		contact = frappe.db.get_value(
			"Dynamic Link",
			{"parenttype": "Contact", "link_doctype": "Customer", "link_name": customer},
			"parent",
		)
		plan.agreed_on = add_days(start, 14)
		plan.agreed_by = contact
		plan.status = engine.AGREED
		plan.save()
		plan.status = engine.ACTIVE
		plan.save()
		if profile["health"] == "at_risk":  # the flow reaches At Risk only from Active
			plan.status = engine.AT_RISK
			plan.save()
	else:
		plan.save()
	plans.refresh_plan_summaries([plan.name])
	# mark overdue ones straight away, as the daily job would
	from customer_success.success_plans.jobs import mark_overdue

	mark_overdue(today)
	return plan


def _make_checkin(registry, plan, today, rng):
	checkin = frappe.get_doc(
		{
			"doctype": plans.CHECKIN,
			"success_plan": plan.name,
			"csm": plan.csm,
			"checkin_date": today,
			"due_date": today,
			"notes": "<p>Quarterly progress review with the customer's project lead.</p>",
		}
	)
	checkin.flags.ignore_permissions = True
	checkin.insert()
	for row in checkin.objectives:
		if engine.target_missed(row.status):
			row.miss_reason = rng.choice(("Installed, Not Used", "Used by Few Teams", "Process Not Changed"))
			row.teams_using = "Operations"
			row.how_used = "Weekly reporting only"
	checkin.save()
	checkin.submit()
	remember(registry, checkin)


def _make_review(registry, plan, today):
	review = frappe.get_doc(
		{
			"doctype": "Business Review",
			"customer": plan.customer,
			"success_plan": plan.name,
			"csm": plan.csm,
			"period_start": max(getdate(add_days(today, -90)), getdate(plan.start_date)),
			"period_end": today,
			"highlights": "<p>Two more teams live; reporting time down by a third.</p>",
			"next_steps": "<p>Roll out to finance; agree renewal scope.</p>",
		}
	)
	review.flags.ignore_permissions = True
	review.insert()
	remember(registry, review)
