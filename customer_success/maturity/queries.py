"""Maturity: the facts the level rules read, gathered from the company's own records.

A handful of aggregates over the whole book (one scan of the active customers, then counts per
doctype); nothing is read customer by customer. Windows (last 90 days, last 12 months) end on the
assessment's date.
"""

from datetime import date

import frappe
from frappe.query_builder import Case
from frappe.query_builder.functions import Coalesce, Count, Sum
from frappe.utils import add_days, cint, get_datetime, getdate

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.segments import queries as segment_queries

COLOURS = ("Green", "Yellow", "Red")
RUNNING_PLAN_STATUSES = ("Active", "At Risk")
MULTI_FACTOR = 3  # a model weighs "several" factors from three


def count_if(condition):
	"""How many rows meet `condition` (MariaDB has no FILTER clause)."""
	return Coalesce(Sum(Case().when(condition, 1).else_(0)), 0)


def gather(day: date, exclude_assessment: str | None = None) -> dict:
	"""Every fact any rule of maturity/engine.py reads, as of `day`."""
	day = getdate(day)
	settings = frappe.get_cached_doc("Customer Success Settings")
	customers = segment_queries.active_customers()
	revenue = segment_queries.annual_revenue(day)
	facts: dict = {}
	facts.update(customer_facts(customers, revenue, day))
	facts.update(segmentation_facts(customers, revenue, settings))
	facts.update(lifecycle_facts(day, settings))
	facts.update(alert_facts(day))
	facts.update(value_facts(customers, day, settings))
	facts.update(data_facts(day))
	facts.update(health_facts(settings))
	facts.update(people_facts(day, exclude_assessment))
	facts.update(tool_facts(facts, settings))
	return facts


def customer_facts(customers: list[dict], revenue: dict, day: date) -> dict:
	recently = get_datetime(add_days(day, -2))
	owned = [c for c in customers if c.cs_owner]
	books: dict[str, int] = {}
	for c in owned:
		books[c.cs_owner] = books.get(c.cs_owner, 0) + 1
	return {
		"active_customers": len(customers),
		"with_tier": sum(1 for c in customers if c.cs_tier),
		"with_segment": sum(1 for c in customers if c.cs_segment),
		"with_tier_and_segment": sum(1 for c in customers if c.cs_tier and c.cs_segment),
		"customers_owned": len(owned),
		# scored: with a colour (a customer with too little known for one, Insufficient Data, has no
		# score, as on its form and in every green/yellow/red figure)
		"customers_owned_and_scored": sum(
			1 for c in owned if c.cs_health_computed_on and c.cs_health_status in COLOURS
		),
		"scored_recently": sum(
			1
			for c in customers
			if c.cs_health_computed_on
			and c.cs_health_status in COLOURS
			and get_datetime(c.cs_health_computed_on) >= recently
		),
		"largest_book": max(books.values()) if books else 0,
		"average_book": (sum(books.values()) / len(books)) if books else 0,
	}


def segmentation_facts(customers: list[dict], revenue: dict, settings) -> dict:
	by_segment: dict[str, list] = {}
	for c in customers:
		if c.cs_segment:
			by_segment.setdefault(c.cs_segment, []).append(c)
	measured = 0
	for rows in by_segment.values():
		known = sum(1 for c in rows if c.cs_health_status in COLOURS and (revenue.get(c.name) or 0) > 0)
		measured += 100.0 * known / len(rows) >= 80.0
	segment = frappe.qb.DocType("Customer Segment")
	with_needs = (
		frappe.qb.from_(segment)
		.select(Count("*"))
		.where((segment.enabled == 1) & segment.needs.isnotnull() & (segment.needs != ""))
		.run()[0][0]
	)
	return {
		"segments_with_needs": with_needs,
		"tiers_computed": bool(cint(settings.get("compute_tiers")) and settings.get("tier_bands")),
		"templates_for_segments": frappe.db.count(
			"Success Plan Template", {"enabled": 1, "segment": ("is", "set")}
		),
		"segments_in_use": len(by_segment),
		"segments_measured": measured,
	}


def lifecycle_facts(day: date, settings) -> dict:
	touchpoint = frappe.qb.DocType("Lifecycle Touchpoint")
	total, with_procedure = (
		frappe.qb.from_(touchpoint)
		.select(
			Count("*"),
			count_if(touchpoint.procedure.isnotnull() & (touchpoint.procedure != "")),
		)
		.where(touchpoint.enabled == 1)
		.run()[0]
	)
	record = frappe.qb.DocType("Customer Touchpoint")
	since = add_days(day, -90)
	closed, done = (
		frappe.qb.from_(record)
		.select(Count("*"), count_if(record.status == "Done"))
		.where((record.window_end >= since) & (record.window_end < day))
		.run()[0]
	)
	return {
		"touchpoints": total,
		"touchpoints_with_procedure": with_procedure,
		"reminders_on": bool(
			cint(settings.get("create_todos")) and cint(settings.get("milestone_reminder_days"))
		),
		# planned in the 90 days up to the assessment's own day (a back-dated one reads its past)
		"touchpoints_planned_90d": frappe.db.count(
			"Customer Touchpoint",
			{
				"creation": ("between", [get_datetime(since), get_datetime(add_days(day, 1))]),
				"todo": ("is", "set"),
			},
		),
		"touchpoints_closed_90d": closed,
		"touchpoints_done_90d": done,
	}


def alert_facts(day: date) -> dict:
	"""Per alert kind, over 90 days and 12 months: raised by hand, by rules, and followed up."""
	alert = frappe.qb.DocType("CS Alert")
	year_ago, quarter_ago = get_datetime(add_days(day, -365)), get_datetime(add_days(day, -90))
	until = get_datetime(add_days(day, 1))
	auto = alert.rule.isnotnull() & (alert.rule != "")
	followed = (alert.playbook.isnotnull() & (alert.playbook != "")) | (
		alert.opportunity.isnotnull() & (alert.opportunity != "")
	)
	rows = (
		frappe.qb.from_(alert)
		.select(
			alert.kind,
			Count("*").as_("year"),
			count_if(~auto).as_("manual"),
			count_if(auto).as_("auto"),
			count_if(auto & (followed | alert.ask_outcome.isin(("Agreed", "Declined")))).as_("followed"),
			count_if(alert.raised_on >= quarter_ago).as_("quarter"),
			count_if(auto & (alert.raised_on >= quarter_ago)).as_("auto_quarter"),
			count_if(
				auto & (alert.raised_on >= quarter_ago) & alert.playbook.isnotnull() & (alert.playbook != "")
			).as_("playbook_quarter"),
		)
		.where((alert.raised_on >= year_ago) & (alert.raised_on < until))
		.groupby(alert.kind)
		.run(as_dict=True)
	)
	kinds = {row.kind: row for row in rows}
	none = frappe._dict(year=0, manual=0, auto=0, followed=0, quarter=0, auto_quarter=0, playbook_quarter=0)
	risk, expansion, advocacy = (kinds.get(k, none) for k in ("Risk", "Expansion", "Advocacy"))
	rules = dict(
		frappe.get_all(
			"CS Alert Rule",
			filters={"enabled": 1},
			fields=["kind", "count(name) as n"],
			group_by="kind",
			as_list=True,
		)
	)
	return {
		"risks_identified_365d": risk.year + frappe.db.count("Success Plan", {"status": "At Risk"}),
		"risk_playbooks": risk_playbooks(),
		"risk_rules": rules.get("Risk", 0),
		"auto_risk_alerts_90d": risk.auto_quarter,
		"auto_risk_alerts_with_playbook_90d": risk.playbook_quarter,
		"expansion_manual_365d": expansion.manual + customer_opportunities(day),
		"expansion_alerts_365d": expansion.year,
		"expansion_rules": rules.get("Expansion", 0),
		"expansion_auto_alerts_365d": expansion.auto,
		"expansion_auto_followed_365d": expansion.followed,
		"advocacy_manual_365d": advocacy.manual,
		"advocacy_alerts_365d": advocacy.year,
		"advocacy_rules": rules.get("Advocacy", 0),
		"advocacy_auto_alerts_365d": advocacy.auto,
		"advocacy_auto_followed_365d": advocacy.followed,
	}


def risk_playbooks() -> int:
	playbook = frappe.qb.DocType("CS Playbook")
	task = frappe.qb.DocType("CS Playbook Task")
	return (
		frappe.qb.from_(playbook)
		.join(task)
		.on((task.parent == playbook.name) & (task.parenttype == "CS Playbook"))
		.select(Count(playbook.name).distinct())
		.where((playbook.enabled == 1) & (playbook.kind == "Risk"))
		.run()[0][0]
	)


def customer_opportunities(day: date) -> int:
	"""Opportunities opened for existing customers in the last 12 months (manual expansion)."""
	return frappe.db.count(
		"Opportunity",
		{"opportunity_from": "Customer", "transaction_date": ("between", (add_days(day, -365), day))},
	)


def value_facts(customers: list[dict], day: date, settings) -> dict:
	plan = frappe.qb.DocType("Success Plan")
	objective = frappe.qb.DocType("Success Plan Objective")
	checkin = frappe.qb.DocType("Success Plan Check-in")
	review = frappe.qb.DocType("Business Review")
	of_plan = (objective.parent == plan.name) & (objective.parenttype == "Success Plan")
	with_objectives = (
		frappe.qb.from_(plan).join(objective).on(of_plan).select(Count(plan.name).distinct()).run()[0][0]
	)
	running = plan.status.isin(RUNNING_PLAN_STATUSES)
	rows = (
		frappe.qb.from_(plan)
		.left_join(objective)
		.on(of_plan)
		.select(
			plan.name,
			Count(objective.name).as_("objectives"),
			count_if(objective.baseline == objective.target).as_("unmeasurable"),
		)
		.where(running)
		.groupby(plan.name)
		.run(as_dict=True)
	)
	cadence = cint(settings.get("checkin_cadence_days")) or 90
	checked = (
		frappe.qb.from_(plan)
		.join(checkin)
		.on(checkin.success_plan == plan.name)
		.select(Count(plan.name).distinct())
		.where(
			running
			& (checkin.docstatus == 1)
			& (checkin.checkin_date >= add_days(day, -cadence))
			& (checkin.checkin_date <= day)
		)
		.run()[0][0]
	)
	active = {c.name for c in customers}
	reviewed = set(
		frappe.qb.from_(review)
		.select(review.customer)
		.distinct()
		.where(
			(review.period_end >= add_days(day, -365)) & (review.period_end <= day) & (review.docstatus < 2)
		)
		.run(pluck=True)
	)
	return {
		"plans_with_objectives": with_objectives,
		"running_plans": len(rows),
		"running_plans_measurable": sum(1 for r in rows if r.objectives and not r.unmeasurable),
		"running_plans_checked_in": checked,
		"customers_reviewed_365d": len(reviewed & active),
	}


def data_facts(day: date) -> dict:
	# windows that end with the assessment's day (one dated earlier reads nothing after it)
	since, until = get_datetime(add_days(day, -365)), get_datetime(add_days(day, 1))
	handed_over = frappe.db.count("Sales Handoff", {"handed_over_on": ("between", (since, until))})
	opportunities = frappe.db.count(
		"CS Alert", {"opportunity": ("is", "set"), "raised_on": ("between", (since, until))}
	)
	quarter = get_datetime(add_days(day, -90))
	alert = frappe.qb.DocType("CS Alert")
	closed, resolved = (
		frappe.qb.from_(alert)
		.select(Count("*"), count_if(alert.status == "Resolved"))
		.where(
			alert.status.isin(("Resolved", "Dismissed"))
			& (alert.closed_on >= quarter)
			& (alert.closed_on < until)
		)
		.run()[0]
	)
	return {
		"shared_with_sales_365d": handed_over + opportunities,
		"alerts_closed_90d": closed,
		"alerts_resolved_90d": resolved,
	}


def health_facts(settings) -> dict:
	customer = frappe.qb.DocType("Customer")
	rated = (
		frappe.qb.from_(customer)
		.select(Count("*"))
		.where(
			(customer.disabled == 0)
			& (
				customer.cs_health_status.isin(COLOURS)
				| (customer.cs_csm_sentiment.isnotnull() & (customer.cs_csm_sentiment != ""))
			)
		)
		.run()[0][0]
	)
	model = frappe.qb.DocType("Health Score Model")
	factor = frappe.qb.DocType("Health Score Factor")
	factors = (
		frappe.qb.from_(model)
		.join(factor)
		.on((factor.parent == model.name) & (factor.parenttype == "Health Score Model"))
		.select(model.name, Count(factor.name).as_("n"))
		.where((model.enabled == 1) & (factor.enabled == 1) & (factor.weight > 0))
		.groupby(model.name)
		.run(as_dict=True)
	)
	stale = frappe.db.count("Customer", {"disabled": 0, "cs_override_until": ("<", getdate())})
	return {
		"customers_with_colour_or_sentiment": rated,
		"enabled_models_multi_factor": sum(1 for row in factors if row.n >= MULTI_FACTOR),
		"enabled_models": frappe.db.count("Health Score Model", {"enabled": 1}),
		"nightly_on": bool(cint(settings.get("recompute_health_nightly"))),
		"overrides_past_expiry": stale,
	}


def role_holders(role: str) -> int:
	from customer_success.permissions import count_enabled_role_holders

	return count_enabled_role_holders(role)


def people_facts(day: date, exclude_assessment: str | None) -> dict:
	assessment = frappe.qb.DocType("CS Maturity Assessment")
	earlier = assessment.assessment_date < day
	if exclude_assessment:
		earlier &= assessment.name != exclude_assessment
	total, last_year = (
		frappe.qb.from_(assessment)
		.select(Count("*"), count_if(assessment.assessment_date >= add_days(day, -365)))
		.where(earlier)
		.run()[0]
	)
	return {
		"cs_managers": role_holders(CS_MANAGER_ROLE),
		"csms": role_holders(CSM_ROLE),
		"earlier_assessments": total,
		"earlier_assessments_365d": last_year,
	}


def tool_facts(facts: dict, settings) -> dict:
	return {
		"health_tool": bool(facts.get("nightly_on") and facts.get("enabled_models")),
		"alerts_tool": bool(
			facts.get("risk_rules") or facts.get("expansion_rules") or facts.get("advocacy_rules")
		),
		"templates_tool": bool(frappe.db.count("Success Plan Template", {"enabled": 1})),
		"handoff_tool": bool(cint(settings.get("auto_draft_handoff"))),
		"touchpoints_tool": bool(cint(settings.get("plan_touchpoints")) and facts.get("touchpoints")),
		"tiers_tool": bool(facts.get("tiers_computed")),
	}
