"""Set-based reads and bulk writes for success plans, milestones, check-ins and business reviews."""

import json
from datetime import date, datetime

import frappe
from frappe.query_builder import Case
from frappe.query_builder.functions import Coalesce, Count, Date, Max, Min, Sum
from frappe.utils import flt
from frappe.utils.data import get_number_format_info

from customer_success.constants import CHURNED
from customer_success.health.queries import company_rates
from customer_success.success_plans import engine

OPEN_ISSUE_STATUSES = ("Open", "Replied", "On Hold")
CLOSED_ISSUE_STATUSES = ("Resolved", "Closed")
OPEN_MILESTONE_STATES = (engine.NOT_STARTED, engine.IN_PROGRESS, engine.OVERDUE)


# --- milestones ----------------------------------------------------------------------------


def update_plan_milestone_summaries(plan_names: list[str] | None = None):
	"""Milestone counts and time to first value onto every given plan (all plans when None), one UPDATE."""
	if plan_names is not None and not plan_names:
		return
	# only the given plans' milestones are aggregated, not the whole table on every milestone save
	where = "where p.name in %(plans)s" if plan_names is not None else ""
	where_milestone = "where success_plan in %(plans)s" if plan_names is not None else ""
	# qb cannot express UPDATE ... JOIN (subquery); the only input is the parameterised plan list.
	frappe.db.sql(
		f"""
		update `tabSuccess Plan` p
		left join (
			select success_plan,
				sum(status != 'Skipped') as total,
				sum(status = 'Done') as done,
				sum(status = 'Overdue') as overdue,
				min(case when status = 'Done' and is_value_milestone = 1 then days_to_value end) as ttv
			from `tabSuccess Plan Milestone`
			{where_milestone}
			group by success_plan
		) m on m.success_plan = p.name
		set p.milestones_total = coalesce(m.total, 0),
			p.milestones_done = coalesce(m.done, 0),
			p.milestones_overdue = coalesce(m.overdue, 0),
			p.time_to_first_value = coalesce(m.ttv, 0)
		{where}
		""",
		{"plans": tuple(plan_names or ())},
	)


def open_triggered_milestones(customer: str, trigger: str, on_date: date) -> list[dict]:
	milestone = frappe.qb.DocType("Success Plan Milestone")
	plan = frappe.qb.DocType("Success Plan")
	return (
		frappe.qb.from_(milestone)
		.join(plan)
		.on(plan.name == milestone.success_plan)
		.select(milestone.name, milestone.trigger_threshold)
		.where(
			(milestone.customer == customer)
			& (milestone.completion_trigger == trigger)
			& milestone.status.isin(OPEN_MILESTONE_STATES)
			& plan.status.isin(engine.OPEN_PLAN_STATUSES)
			& (plan.start_date <= on_date)
		)
		.orderby(milestone.due_date)
		.run(as_dict=True)
	)


def mark_overdue_milestones(today: date) -> list[str]:
	"""Open milestones of open plans past their due date become Overdue in one UPDATE.

	Milestones of Achieved or Closed plans keep their status. Returns the plans touched.
	"""
	milestone = frappe.qb.DocType("Success Plan Milestone")
	plan = frappe.qb.DocType("Success Plan")
	open_plans = frappe.qb.from_(plan).select(plan.name).where(plan.status.isin(engine.OPEN_PLAN_STATUSES))
	late = (
		milestone.status.isin((engine.NOT_STARTED, engine.IN_PROGRESS))
		& (milestone.due_date < today)
		& milestone.success_plan.isin(open_plans)
	)
	plans = frappe.qb.from_(milestone).select(milestone.success_plan).distinct().where(late).run(pluck=True)
	if plans:
		frappe.qb.update(milestone).set(milestone.status, engine.OVERDUE).where(late).run()
	return plans


def reminder_candidates(today: date, days_before: int) -> list[dict]:
	"""Open milestones of running plans due within `days_before` days, not yet reminded for this due date."""
	milestone = frappe.qb.DocType("Success Plan Milestone")
	plan = frappe.qb.DocType("Success Plan")
	return (
		frappe.qb.from_(milestone)
		.join(plan)
		.on(plan.name == milestone.success_plan)
		.select(
			milestone.name,
			milestone.title,
			milestone.assigned_to,
			milestone.due_date,
			milestone.status,
			milestone.customer,
			milestone.success_plan,
		)
		.where(
			milestone.status.isin((engine.NOT_STARTED, engine.IN_PROGRESS))
			& milestone.assigned_to.isnotnull()
			& (milestone.assigned_to != "")
			& (milestone.due_date >= today)
			& (milestone.due_date <= frappe.utils.add_days(today, days_before))
			& (
				milestone.reminded_for_due_date.isnull()
				| (milestone.reminded_for_due_date != milestone.due_date)
			)
			& plan.status.isin(engine.OPEN_PLAN_STATUSES)
		)
		.orderby(milestone.due_date)
		.run(as_dict=True)
	)


def mark_reminded(names: list[str]):
	if not names:
		return
	milestone = frappe.qb.DocType("Success Plan Milestone")
	(
		frappe.qb.update(milestone)
		.set(milestone.reminded_for_due_date, milestone.due_date)
		.where(milestone.name.isin(names))
		.run()
	)


def open_todo_pairs(milestones: list[str]) -> set[tuple[str, str]]:
	"""(milestone, user) pairs that already have an open ToDo."""
	if not milestones:
		return set()
	todo = frappe.qb.DocType("ToDo")
	rows = (
		frappe.qb.from_(todo)
		.select(todo.reference_name, todo.allocated_to)
		.where(
			(todo.reference_type == "Success Plan Milestone")
			& todo.reference_name.isin(milestones)
			& (todo.status == "Open")
		)
		.run()
	)
	return {(r[0], r[1]) for r in rows}


# --- check-ins -----------------------------------------------------------------------------


def checkin_candidates() -> list[dict]:
	"""Running plans with their last completed check-in and how many check-ins are still open."""
	plan = frappe.qb.DocType("Success Plan")
	checkin = frappe.qb.DocType("Success Plan Check-in")
	return (
		frappe.qb.from_(plan)
		.left_join(checkin)
		.on((checkin.success_plan == plan.name) & (checkin.docstatus < 2))
		.select(
			plan.name,
			plan.customer,
			plan.csm,
			plan.start_date,
			Max(Case().when(checkin.docstatus == 1, checkin.checkin_date)).as_("last_checkin"),
			Sum(Case().when(checkin.docstatus == 0, 1).else_(0)).as_("open_checkins"),
		)
		.where(plan.status.isin((engine.AGREED, engine.ACTIVE, engine.AT_RISK)))
		.groupby(plan.name, plan.customer, plan.csm, plan.start_date)
		.run(as_dict=True)
	)


# --- renewal coverage ----------------------------------------------------------------------


def renewing_customers(start: date, end: date, csm: str | None = None) -> set[str]:
	"""Customers whose LATEST submitted contract ends from `start` to `end`: one whose renewal is
	already signed (a later contract) is not renewing, as the health score's renewal factor keeps;
	a disabled or churned customer is not renewing either. With `csm`, only that CSM's book."""
	contract = frappe.qb.DocType("Contract")
	latest_end = Max(contract.end_date)
	condition = (
		(contract.party_type == "Customer") & (contract.docstatus == 1) & contract.end_date.isnotnull()
	)
	condition &= contract.party_name.isin(renewable_customers(csm))
	return set(
		frappe.qb.from_(contract)
		.select(contract.party_name)
		.where(condition)
		.groupby(contract.party_name)
		.having((latest_end >= start) & (latest_end <= end))
		.run(pluck=True)
	)


def renewable_customers(csm: str | None = None):
	"""The sub-query of customers that can renew: enabled and not churned (a contract of a customer
	who left, still running out its term, is no renewal to plan for); of `csm`'s book when given."""
	customer = frappe.qb.DocType("Customer")
	condition = (customer.disabled == 0) & (Coalesce(customer.cs_lifecycle_stage, "") != CHURNED)
	if csm:
		condition &= customer.cs_owner == csm
	return frappe.qb.from_(customer).select(customer.name).where(condition)


def renewal_plan_counts(start: date, end: date, csm: str | None, statuses) -> tuple[int, int]:
	"""(customers renewing from `start` to `end` as `renewing_customers` counts them, those of them
	with an agreed plan): counted in the database, without carrying the customers' names out and
	back (a whole book renews by the tens of thousands).

	A customer's latest contract ends in the window when one of its contracts ends in it and none
	ends after it: the contracts ending in the window are read from the app's end-date index, and
	each one's later terms looked up in its party/term index (an anti-join), instead of grouping
	every contract of the book to find each customer's latest."""
	contract = frappe.qb.DocType("Contract")
	later = frappe.qb.DocType("Contract").as_("later")
	plan = frappe.qb.DocType("Success Plan")
	condition = (
		(contract.docstatus == 1)
		& contract.end_date[start:end]
		& (contract.party_type == "Customer")
		& later.name.isnull()
	)
	condition &= contract.party_name.isin(renewable_customers(csm))
	agreed = (
		frappe.qb.from_(plan)
		.select(plan.customer)
		.where(plan.status.isin(statuses) & plan.agreed_on.isnotnull())
		.distinct()
	).as_("agreed")
	count, with_plan = (
		frappe.qb.from_(contract)
		.left_join(later)
		.on(
			(later.party_type == "Customer")
			& (later.docstatus == 1)
			& (later.party_name == contract.party_name)
			& (later.end_date > end)
		)
		.left_join(agreed)
		.on(agreed.customer == contract.party_name)
		.select(Count(contract.party_name).distinct(), Count(agreed.customer).distinct())
		.where(condition)
		.run()[0]
	)
	return int(count or 0), int(with_plan or 0)


def customers_with_agreed_plan(customers, statuses) -> set[str]:
	if not customers:
		return set()
	plan = frappe.qb.DocType("Success Plan")
	return set(
		frappe.qb.from_(plan)
		.select(plan.customer)
		.distinct()
		.where(plan.customer.isin(list(customers)) & plan.status.isin(statuses) & plan.agreed_on.isnotnull())
		.run(pluck=True)
	)


# --- business review -----------------------------------------------------------------------


def open_issue_count(customer: str) -> int:
	issue = frappe.qb.DocType("Issue")
	return (
		frappe.qb.from_(issue)
		.select(Count("*"))
		.where((issue.customer == customer) & issue.status.isin(OPEN_ISSUE_STATUSES))
		.run()[0][0]
	)


def issue_summary(customer: str, start: date, end: date) -> dict:
	"""Issues opened and closed in the period, SLA failures among those opened, open at period end.

	An issue's closing day is its SLA resolution date, or its last change when it has no SLA.
	"""
	issue = frappe.qb.DocType("Issue")
	closed_on = Coalesce(issue.sla_resolution_date, issue.modified)
	in_period = (issue.opening_date >= start) & (issue.opening_date <= end)
	closed_in_period = (
		issue.status.isin(CLOSED_ISSUE_STATUSES) & (Date(closed_on) >= start) & (Date(closed_on) <= end)
	)
	open_at_end = (issue.opening_date <= end) & (
		issue.status.isin(OPEN_ISSUE_STATUSES) | (Date(closed_on) > end)
	)
	row = (
		frappe.qb.from_(issue)
		.select(
			Sum(Case().when(in_period, 1).else_(0)).as_("opened"),
			Sum(Case().when(closed_in_period, 1).else_(0)).as_("closed"),
			Sum(Case().when(in_period & (issue.agreement_status == "Failed"), 1).else_(0)).as_("sla_failed"),
			Sum(Case().when(open_at_end, 1).else_(0)).as_("open_at_end"),
		)
		.where(issue.customer == customer)
		.run(as_dict=True)[0]
	)
	return {key: int(row.get(key) or 0) for key in ("opened", "closed", "sla_failed", "open_at_end")}


def billing_summary(customer: str, start: date, end: date) -> dict:
	"""Invoiced in the period (submitted, net of taxes as every revenue figure of the app, returns
	netted) and overdue outstanding as at period end (what is owed: taxes included).

	Outstanding at period end comes from the Payment Ledger (what was still owed on that day,
	payments made afterwards do not count). Both are summed per company in that company's
	currency (the ledger's `amount` is company currency, whatever the receivable's currency)
	and converted to the default company's currency at the rate of the period's end.
	"""
	invoice = frappe.qb.DocType("Sales Invoice")
	invoiced_by_company = (
		frappe.qb.from_(invoice)
		.select(invoice.company, Sum(invoice.base_net_total).as_("invoiced"))
		.where(
			(invoice.customer == customer)
			& (invoice.docstatus == 1)
			& (invoice.posting_date >= start)
			& (invoice.posting_date <= end)
		)
		.groupby(invoice.company)
		.run(as_dict=True)
	)

	ple = frappe.qb.DocType("Payment Ledger Entry")
	per_invoice = (
		frappe.qb.from_(ple)
		.join(invoice)
		.on(invoice.name == ple.against_voucher_no)
		.select(ple.company, ple.against_voucher_no, invoice.is_return, Sum(ple.amount).as_("outstanding"))
		.where(
			(ple.party_type == "Customer")
			& (ple.party == customer)
			& (ple.against_voucher_type == "Sales Invoice")
			& (ple.delinked == 0)
			& (ple.posting_date <= end)
			& (invoice.docstatus == 1)
			& ((invoice.due_date < end) | (invoice.is_return == 1))
		)
		.groupby(ple.company, ple.against_voucher_no, invoice.is_return)
		.run(as_dict=True)
	)
	companies = {row.company for row in invoiced_by_company} | {row.company for row in per_invoice}
	rates = company_rates(companies, end) if companies else {}
	invoiced = sum(float(row.invoiced or 0) * rates[row.company] for row in invoiced_by_company)
	# what is overdue per company, less the credit notes that keep their own outstanding there
	# (ERPNext v15's Return: "Update Outstanding for Self"), as the health score's Payment Behaviour
	# settles them: a credited customer was shown owing the whole invoice (tester M2)
	by_company: dict[str, float] = {}
	for row in per_invoice:
		amount = float(row.outstanding or 0)
		if (row.is_return and amount < -0.005) or (not row.is_return and amount > 0.005):
			by_company[row.company] = by_company.get(row.company, 0.0) + amount
	overdue = sum(max(amount, 0.0) * rates[company] for company, amount in by_company.items())
	return {"invoiced": float(invoiced), "overdue_outstanding": float(overdue)}


def health_at(customer: str, day: date) -> dict | None:
	"""The customer's latest health score on or before `day`."""
	score = frappe.qb.DocType("Customer Health Score")
	rows = (
		frappe.qb.from_(score)
		.select(score.score, score.status, score.score_date)
		.where((score.customer == customer) & (score.score_date <= day))
		.orderby(score.score_date, order=frappe.qb.desc)
		.orderby(score.creation, order=frappe.qb.desc)
		.limit(1)
		.run(as_dict=True)
	)
	return rows[0] if rows else None


def objective_values_at(plan: str, on: date) -> dict[str, float]:
	"""{plan objective row: its value on `on`} as the plan's submitted check-ins recorded it: the
	latest check-in on or before `on`, else the value the first later check-in started from (its
	previous value). Objectives no check-in ever recorded are left out (their history is unknown)."""
	checkin = frappe.qb.DocType("Success Plan Check-in")
	row = frappe.qb.DocType("Success Plan Check-in Objective")
	recorded = (
		frappe.qb.from_(checkin)
		.join(row)
		.on((row.parent == checkin.name) & (row.parenttype == "Success Plan Check-in"))
		.select(checkin.checkin_date, row.plan_objective, row.previous_value, row.current_value)
		.where(
			(checkin.success_plan == plan)
			& (checkin.docstatus == 1)
			& checkin.checkin_date.isnotnull()
			& row.plan_objective.isnotnull()
		)
		.orderby(checkin.checkin_date)
		.orderby(checkin.creation)
		.run(as_dict=True)
	)
	values: dict[str, float] = {}
	for r in recorded:
		if r.checkin_date <= on:
			values[r.plan_objective] = r.current_value  # a later one on or before `on` wins
		elif r.plan_objective not in values:
			values[r.plan_objective] = r.previous_value  # the first after `on`: what it started from
	return values


# The figures of an objective a past period shows as they were then (`objective_rows_at`).
OBJECTIVE_FIGURES = ("current", "target", "baseline")


def objective_rows_at(plan, after: datetime) -> list:
	"""The plan's objective rows as its saves after `after` found them, from their recorded changes
	(frappe's Version of each save: the plan tracks changes): a row added since is left out, a row
	removed since is back (as it was removed), and each row's current value, target and baseline
	are the ones before the first change of each since (tester K3: a past review showed today's
	target, and none of an objective removed since). A Version keeps a changed number as the site
	formatted it: read back with the site's number format."""
	version = frappe.qb.DocType("Version")
	saved = (
		frappe.qb.from_(version)
		.select(version.data)
		.where(
			(version.ref_doctype == "Success Plan")
			& (version.docname == plan.name)
			& (version.creation > after)
		)
		.orderby(version.creation)
		.orderby(version.name)
		.run()
	)
	before: dict[str, dict] = {}  # row: {figure: its value before the first change of it}
	added: set[str] = set()
	removed: list[dict] = []
	for (data,) in saved:
		try:
			diff = json.loads(data or "{}")
		except ValueError:
			continue
		for table, row in diff.get("added") or []:
			if table == "objectives" and isinstance(row, dict) and row.get("name"):
				added.add(row["name"])
		for change in diff.get("row_changed") or []:
			if len(change) < 4 or change[0] != "objectives" or change[2] in added:
				continue
			figures = before.setdefault(change[2], {})
			for field, old, _new in change[3]:
				if field in OBJECTIVE_FIGURES and field not in figures:
					figures[field] = formatted_number(old)
		for table, row in diff.get("removed") or []:
			if table == "objectives" and isinstance(row, dict) and row.get("name") not in added:
				removed.append(row)
	rows = []
	for row in [*plan.objectives, *removed]:
		row = frappe._dict(row.as_dict() if hasattr(row, "as_dict") else row)
		if row.name in added:
			continue
		row.update(before.get(row.name, {}))
		rows.append(row)
	return sorted(rows, key=lambda r: r.get("idx") or 0)


def formatted_number(text) -> float:
	"""A number as frappe formatted it for the site ("1,234.5", "1.234,5"), as a float."""
	if not isinstance(text, str):
		return flt(text)
	decimal, group, _precision = get_number_format_info(frappe.db.get_default("number_format") or "#,###.##")
	if group:
		text = text.replace(group, "")
	return flt(text.replace(decimal, ".") if decimal != "." else text)


def plan_running_in(customer: str, start: date, end: date) -> str | None:
	"""The customer's plan running in a period: begun by its end (a plan begun after it had nothing
	to show for it) and not ended before it began, the latest begun, one still open first; Closed
	since or not (tester W2: a churned customer's closed plan was not found for a period it ran in)."""
	plan = frappe.qb.DocType("Success Plan")
	running = (
		frappe.qb.from_(plan)
		.select(plan.name)
		.where(
			(plan.customer == customer)
			& (plan.start_date.isnull() | (plan.start_date <= end))
			& (plan.end_date.isnull() | (plan.end_date >= start))
		)
		.orderby(Case().when(plan.status == engine.CLOSED, 1).else_(0))
		.orderby(plan.start_date, order=frappe.qb.desc)
		.orderby(plan.creation, order=frappe.qb.desc)
		.limit(1)
		.run()
	)
	return running[0][0] if running else None


def milestone_counts(plan: str, on: date) -> dict:
	"""Milestone totals of a plan as at `on`: done by then, and overdue by then."""
	milestone = frappe.qb.DocType("Success Plan Milestone")
	done = (milestone.status == engine.DONE) & (milestone.completed_on <= on)
	overdue = (milestone.status != engine.SKIPPED) & (milestone.due_date < on) & ~done
	row = (
		frappe.qb.from_(milestone)
		.select(
			Sum(Case().when(milestone.status != engine.SKIPPED, 1).else_(0)).as_("total"),
			Sum(Case().when(done, 1).else_(0)).as_("done"),
			Sum(Case().when(overdue, 1).else_(0)).as_("overdue"),
		)
		.where(milestone.success_plan == plan)
		.run(as_dict=True)[0]
	)
	return {key: int(row.get(key) or 0) for key in ("total", "done", "overdue")}


# --- portal --------------------------------------------------------------------------------


def portal_customers(user: str) -> list[str]:
	"""Customers this website user is a contact of (Contact.user → Dynamic Link to Customer)."""
	if not user or user == "Guest":
		return []
	contact = frappe.qb.DocType("Contact")
	link = frappe.qb.DocType("Dynamic Link")
	return (
		frappe.qb.from_(contact)
		.join(link)
		.on((link.parent == contact.name) & (link.parenttype == "Contact"))
		.select(link.link_name)
		.distinct()
		.where((contact.user == user) & (link.link_doctype == "Customer"))
		.run(pluck=True)
	)


def shared_plans(customers: list[str]) -> list[dict]:
	if not customers:
		return []
	plan = frappe.qb.DocType("Success Plan")
	return (
		frappe.qb.from_(plan)
		.select(
			plan.name,
			plan.title,
			plan.customer,
			plan.customer_name,
			plan.status,
			plan.start_date,
			plan.end_date,
			plan.progress,
		)
		.where(plan.customer.isin(customers) & (plan.share_with_customer == 1))
		.orderby(plan.start_date, order=frappe.qb.desc)
		.run(as_dict=True)
	)


# --- reads for the reports ---------------------------------------------------------------------


def plan_progress_rows(
	customers, today: date, statuses=None, overlap_from=None, overlap_to=None
) -> list[dict]:
	"""The plans of the customers of the sub-query with their progress, objectives (all, achieved),
	milestones (all, done, overdue: marked Overdue or still open past their due date) and next
	check-in (the earliest Due check-in, else the plan's next due date). Plans running in
	[overlap_from, overlap_to] when given. Four grouped queries, whatever the number of plans."""
	plan = frappe.qb.DocType("Success Plan")
	customer = frappe.qb.DocType("Customer")
	condition = plan.customer.isin(customers) & (plan.docstatus < 2)
	if statuses:
		condition &= plan.status.isin(statuses)
	if overlap_to:
		condition &= plan.start_date.isnull() | (plan.start_date <= overlap_to)
	if overlap_from:
		condition &= plan.end_date.isnull() | (plan.end_date >= overlap_from)
	rows = (
		frappe.qb.from_(plan)
		.join(customer)
		.on(customer.name == plan.customer)
		.select(
			plan.name.as_("plan"),
			plan.title,
			plan.customer,
			plan.customer_name,
			customer.cs_owner.as_("csm"),
			customer.cs_tier.as_("tier"),
			customer.cs_lifecycle_stage.as_("lifecycle_stage"),
			plan.status,
			plan.start_date,
			plan.end_date,
			plan.progress,
			plan.next_checkin_due,
		)
		.where(condition)
		.orderby(plan.end_date)
		.orderby(plan.name)
		.run(as_dict=True)
	)
	if not rows:
		return []
	plans = frappe.qb.from_(plan).select(plan.name).where(condition)  # a sub-query, not a list

	objective = frappe.qb.DocType("Success Plan Objective")
	achieved = Case().when((objective.status == "Achieved") | (objective.progress >= 100), 1).else_(0)
	objectives = {
		name: (int(total), int(done or 0))
		for name, total, done in frappe.qb.from_(objective)
		.select(objective.parent, Count("*"), Sum(achieved))
		.where((objective.parenttype == "Success Plan") & objective.parent.isin(plans))
		.groupby(objective.parent)
		.run()
	}

	milestone = frappe.qb.DocType("Success Plan Milestone")
	overdue = (milestone.status == engine.OVERDUE) | (
		milestone.status.isin((engine.NOT_STARTED, engine.IN_PROGRESS)) & (milestone.due_date < today)
	)
	milestones = {
		name: (int(total), int(done or 0), int(late or 0))
		for name, total, done, late in frappe.qb.from_(milestone)
		.select(
			milestone.success_plan,
			Count("*"),
			Sum(Case().when(milestone.status == "Done", 1).else_(0)),
			Sum(Case().when(overdue, 1).else_(0)),
		)
		.where(milestone.success_plan.isin(plans) & (milestone.status != "Skipped"))
		.groupby(milestone.success_plan)
		.run()
	}

	checkin = frappe.qb.DocType("Success Plan Check-in")
	next_checkins = dict(
		frappe.qb.from_(checkin)
		.select(checkin.success_plan, Min(checkin.due_date))
		.where(checkin.success_plan.isin(plans) & (checkin.status == "Due") & (checkin.docstatus == 0))
		.groupby(checkin.success_plan)
		.run()
	)
	for row in rows:
		row.objectives, row.objectives_achieved = objectives.get(row.plan, (0, 0))
		row.milestones, row.milestones_done, row.milestones_overdue = milestones.get(row.plan, (0, 0, 0))
		row.next_checkin = next_checkins.get(row.plan) or row.next_checkin_due
	return rows
