"""Success plans: templates, plans from templates and handoffs, milestone triggers, summaries.

Controllers, the daily job (plan_jobs.py), the ERPNext doc_events and the handoff hook all
come through here; the maths lives in engine/plans.py and the reads in queries/plans.py.
"""

import re

import frappe
from frappe import _
from frappe.utils import add_days, getdate, nowdate

from customer_success.numbers import is_number
from customer_success.success_plans import engine, queries

TEMPLATE = "Success Plan Template"
PLAN = "Success Plan"
MILESTONE = "Success Plan Milestone"
CHECKIN = "Success Plan Check-in"

DEFAULT_PLAN_DAYS = 180

# Completion triggers (milestone field `completion_trigger`).
TRIGGER_DELIVERY = "Delivery Note Submitted"
TRIGGER_PROJECT = "Project Completed"
TRIGGER_INVOICE_PAID = "First Invoice Paid"
TRIGGER_ISSUES_BELOW = "Open Issues Below Threshold"


def template_for_tier(tier: str | None, segment: str | None = None) -> str | None:
	"""The enabled template that fits the customer best (engine.best_template): its tier and segment
	both, else its segment, else its tier, else one for any tier and segment."""
	templates = frappe.get_all(
		TEMPLATE, filters={"enabled": 1}, fields=["name", "tier", "segment"], order_by="creation asc"
	)
	return engine.best_template(templates, tier, segment)


# --- metrics: counts and measures ------------------------------------------------------------

METRIC_FIELDS = {
	"Success Plan Template Objective": ("default_baseline", "default_target"),
	"Success Plan Objective": ("baseline", "target", "current"),
	"Success Plan Check-in Objective": ("baseline", "target", "previous_value", "current_value"),
	"Business Review Objective": ("baseline", "current", "target"),
}


def set_metric_kinds(rows) -> None:
	"""Every objective row says whether its metric counts or measures (read from its unit when
	nobody set it), and a count's values are whole numbers."""
	for row in rows:
		if row.get("metric_kind") not in engine.METRIC_KINDS:
			row.metric_kind = engine.guess_metric_kind(row.get("unit"))
		if row.metric_kind != engine.COUNT:
			continue
		for fieldname in METRIC_FIELDS[row.doctype]:
			value = row.get(fieldname)
			if value is not None:
				row.set(fieldname, engine.metric_value(value, engine.COUNT))


def typed_below_zero(row, old, fieldname: str) -> bool:
	"""Is the row's value below zero, typed or changed on this save (`old`: the stored row, or None
	for a new one)? A value an earlier version stored holds up no later save."""
	value = row.get(fieldname)
	if not is_number(value) or float(value) >= 0:
		return False
	stored = old.get(fieldname) if old is not None else None
	return not (is_number(stored) and float(stored) == float(value))


def check_metric_values(doc, fields: tuple[str, ...] | None = None) -> None:
	"""A count cannot be below zero (no plan has -3 teams), and an objective's weight cannot either.
	Only values typed or changed on this save are checked: a row an earlier version stored holds up
	no later save (a check-in's write-back onto its plan)."""
	before = doc.get_doc_before_save() if not doc.is_new() else None
	stored = {row.name: row for row in (before.get("objectives") if before else None) or []}
	for row in doc.get("objectives") or []:
		old = stored.get(row.name)
		checked = [("weight", None)] if row.meta.has_field("weight") else []
		if row.metric_kind == engine.COUNT:
			checked += [(fieldname, engine.COUNT) for fieldname in fields or METRIC_FIELDS[row.doctype]]
		for fieldname, kind in checked:
			value = row.get(fieldname)
			if not typed_below_zero(row, old, fieldname):
				continue
			label = _(row.meta.get_label(fieldname))
			if kind == engine.COUNT:
				message = _(
					"Objectives row {0} ({1}): {2} cannot be below zero: {3} is a count (it is {4})."
				).format(
					row.idx,
					row.get("objective") or row.get("metric"),
					label,
					row.get("unit") or _("the metric"),
					value,
				)
			else:
				message = _("Objectives row {0} ({1}): {2} cannot be below zero (it is {3}).").format(
					row.idx, row.get("objective") or row.get("metric"), label, value
				)
			frappe.throw(message, title=_("Invalid Objective Value"))


def count_or_none(value, metric_kind: str | None, unit: str | None):
	"""A value copied into a new plan (from a template or a handoff), or None for a count below zero
	that an earlier version let be stored there: the plan would refuse it, and with it the handoff's
	acceptance; left empty, the CSM sets it when the plan is agreed."""
	kind = metric_kind if metric_kind in engine.METRIC_KINDS else engine.guess_metric_kind(unit)
	if kind == engine.COUNT and is_number(value) and float(value) < 0:
		return None
	return value


# an image tag of a rich text field, with whatever attributes it has
IMAGE_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)


def cs_rich_text(value) -> str:
	"""A plan's or review's rich text as the print formats show it (a jinja method): markup cleaned,
	and without images. The PDF is made by wkhtmltopdf on the server, which fails the whole document
	when an image cannot be loaded (a pasted link that is broken, or one the server cannot reach):
	one image in a "success definition" kept the customer from their plan's PDF."""
	from frappe.utils.html_utils import sanitize_html

	return IMAGE_TAG.sub("", sanitize_html(value or "", always_sanitize=True))


def cs_metric(value, row) -> str:
	"""A metric's value with its unit, in the user's number format: "3 teams", "1 report", "70%"
	(a dash when there is none). Used by the print formats and the portal page (a jinja method)."""
	if value is None or value == "":
		return "\u2013"
	get = row.get if hasattr(row, "get") else lambda key, default=None: getattr(row, key, default)
	kind = get("metric_kind") or engine.guess_metric_kind(get("unit"))
	shown = engine.metric_value(value, kind)
	decimals = engine.metric_decimals(shown, kind)
	text = frappe.format_value(shown, {"fieldtype": "Float", "precision": decimals})
	return engine.metric_text(text, shown, get("unit"), get("unit_singular"))


# --- plans from templates ------------------------------------------------------------------


def objectives_from_template(template, start_date, end_date) -> list[dict]:
	rows = []
	for row in template.objectives:
		due = (
			engine.milestone_due_date(getdate(start_date), row.due_offset_days)
			if row.due_offset_days
			else end_date
		)
		if end_date and due and getdate(due) > getdate(end_date):
			due = end_date
		rows.append(
			{
				"objective": row.objective,
				"metric": row.metric,
				"unit": row.unit,
				"metric_kind": row.metric_kind,
				"unit_singular": row.unit_singular,
				"direction": row.direction or engine.UP,
				"baseline": count_or_none(row.default_baseline or 0, row.metric_kind, row.unit),
				"target": count_or_none(row.default_target or 0, row.metric_kind, row.unit),
				"current": count_or_none(row.default_baseline or 0, row.metric_kind, row.unit),
				"owner_role": row.owner_role,
				"due_date": due,
				"source": _("Template"),
			}
		)
	return rows


def default_end_date(start_date, template=None):
	days = (template.duration_days if template else 0) or DEFAULT_PLAN_DAYS
	return getdate(add_days(start_date, days))


def plan_csm(plan) -> str | None:
	"""Who answers for the plan: its CSM, else the customer's CS Owner."""
	return plan.csm or frappe.db.get_value("Customer", plan.customer, "cs_owner")


def check_plan_csm(plan):
	"""A plan's CSM is someone who can work its customer: an enabled CSM or CS Manager (its milestones,
	check-ins and reviews are assigned to them), and, unless a CS Manager names another, the
	customer's CS Owner (or, for a customer without one, the user making the plan). Checked when set;
	a plan saved without one (an import, REST: the form fills it) is given that default, else its
	milestones, check-ins and reviews had no one to go to, and a move of the book passed it by."""
	from customer_success.permissions import can_own_customers, sees_all
	from customer_success.utils import changed_fields

	if not plan.csm and plan.customer:
		owner = frappe.db.get_value("Customer", plan.customer, "cs_owner")
		if not can_own_customers(owner):
			owner = frappe.session.user if can_own_customers(frappe.session.user) else None
		plan.csm = owner
	if not plan.csm or not (plan.is_new() or changed_fields(plan, ("csm",))):
		return
	label = _(plan.meta.get_label("csm"))
	if not can_own_customers(plan.csm):
		frappe.throw(
			_(
				"{0} cannot be the {1}: choose an enabled user with the Customer Success Manager or CS Manager role."
			).format(frappe.bold(frappe.utils.escape_html(plan.csm)), label),
			title=_("Invalid CSM"),
		)
	if sees_all():
		return
	owner = frappe.db.get_value("Customer", plan.customer, "cs_owner") or frappe.session.user
	if plan.csm != owner:
		frappe.throw(
			_("The {0} of a plan for {1} is its CS Owner, {2}: only a CS Manager can name another.").format(
				label, frappe.utils.escape_html(plan.customer_name or plan.customer), owner
			),
			frappe.PermissionError,
			title=_("Invalid CSM"),
		)


# What a Closed plan still lets a save change: whether the customer sees it on the portal.
CLOSED_PLAN_EDITABLE = frozenset({"share_with_customer"})


def check_closed_plan_kept(plan):
	"""A Closed plan keeps its figures as they were when it closed (reports and reviews read them):
	a save changes nothing of it but its sharing with the customer."""
	from customer_success.utils import changed_fields

	before = None if plan.is_new() else plan.get_doc_before_save()
	if before is None or before.status != engine.CLOSED:
		return
	changed = changed_fields(
		plan,
		[
			df.fieldname
			for df in plan.meta.fields
			if df.fieldtype not in frappe.model.no_value_fields and df.fieldname not in CLOSED_PLAN_EDITABLE
		],
	)
	if [row_values(row) for row in before.objectives] != [row_values(row) for row in plan.objectives]:
		changed.append("objectives")
	if changed:
		frappe.throw(
			_("Success Plan {0} is Closed: it keeps its figures as they were when it closed ({1}).").format(
				plan.name, ", ".join(_(plan.meta.get_label(f)) for f in changed)
			),
			title=_("Plan Closed"),
		)


OBJECTIVE_KEPT_FIELDS = (
	"objective",
	"metric",
	"baseline",
	"target",
	"current",
	"direction",
	"weight",
	"due_date",
)


def row_values(row) -> tuple:
	from customer_success.utils import comparable

	return tuple(
		comparable(row.get(f), row.meta.get_field(f).fieldtype if row.meta.get_field(f) else "Data")
		for f in OBJECTIVE_KEPT_FIELDS
	)


def plan_is_closed(plan_name: str) -> bool:
	return frappe.db.get_value(PLAN, plan_name, "status") == engine.CLOSED


def check_plan_takes_checkins(plan_name: str):
	"""A Closed plan takes no check-in: none is started, completed or cancelled on it (its figures
	stay as they were when it closed)."""
	if plan_is_closed(plan_name):
		frappe.throw(
			_(
				"Success Plan {0} is Closed: it takes no more check-ins (its figures stay as they were when it closed)."
			).format(plan_name),
			title=_("Plan Closed"),
		)


def check_milestone_of_closed_plan(milestone, plan):
	"""A Closed plan's milestones are its history: none is added, and a save changes none of them
	(the plan's milestone figures would move after it closed)."""
	if plan.status != engine.CLOSED:
		return
	if milestone.is_new():
		frappe.throw(
			_("Success Plan {0} is Closed: it takes no new milestones.").format(plan.name),
			title=_("Plan Closed"),
		)
	from customer_success.utils import changed_fields

	changed = changed_fields(
		milestone,
		[df.fieldname for df in milestone.meta.fields if df.fieldtype not in frappe.model.no_value_fields],
	)
	if changed:
		frappe.throw(
			_("Success Plan {0} is Closed: its milestones stay as they were when it closed ({1}).").format(
				plan.name, ", ".join(_(milestone.meta.get_label(f)) for f in changed)
			),
			title=_("Plan Closed"),
		)


def close_plans_of_customer_gone(customer: str, why: str) -> list[str]:
	"""A customer recorded as churned (the `cs_on_customer_churned` hook): its open plans are
	Closed, saying why, and their milestones' ToDos cancelled (as closing a plan does), so no
	reminder, overdue flag or check-in follows; an Achieved plan keeps its outcome. Written
	directly: a plan another rule would refuse to save still closes, and the Customer's save is
	never refused for it. Returns the plans closed."""
	names = frappe.get_all(
		PLAN, filters={"customer": customer, "status": ("in", engine.OPEN_PLAN_STATUSES)}, pluck="name"
	)
	for name in names:
		plan = frappe.get_doc(PLAN, name)
		plan.db_set("status", engine.CLOSED)
		sync_plan_status(name, engine.CLOSED)
		cancel_milestone_todos(name)
		plan.add_comment("Info", why)
	return names


def sync_plan_status(plan_name: str, status: str):
	"""The plan's status on its milestones and check-ins (`plan_status`), set-based: the cards of
	overdue milestones and check-ins due count those of plans not Closed, and open the same list
	(tester W2: a closed plan's overdue milestones were counted as work to do)."""
	for doctype in (MILESTONE, CHECKIN):
		table = frappe.qb.DocType(doctype)
		frappe.qb.update(table).set(table.plan_status, status).where(table.success_plan == plan_name).run()


def cancel_milestone_todos(plan_name: str):
	"""A closed plan's milestones and check-ins leave nobody's list: their open ToDos are cancelled,
	as frappe cancels an assignment (the milestones keep their status and owner, as history)."""
	from customer_success.utils import end_assignments

	milestone = frappe.qb.DocType(MILESTONE)
	todo = frappe.qb.DocType("ToDo")
	with_open_todos = (
		frappe.qb.from_(todo)
		.join(milestone)
		.on(milestone.name == todo.reference_name)
		.select(todo.reference_name)
		.distinct()
		.where(
			(todo.reference_type == MILESTONE)
			& (milestone.success_plan == plan_name)
			& (todo.status == "Open")
		)
		.orderby(todo.reference_name)
		.run(pluck=True)
	)
	for reference_name in with_open_todos:
		end_assignments(MILESTONE, reference_name, "Cancelled")
	# and its check-ins still due (they take no more values: tester K3, the ToDo stayed on the list)
	for name in frappe.get_all(CHECKIN, filters={"success_plan": plan_name, "docstatus": 0}, pluck="name"):
		end_assignments(CHECKIN, name, "Cancelled")


def make_milestones_from_template(plan, template) -> list[str]:
	"""Create the template's milestones for a saved plan; dates past the plan's end are pulled in.
	A plan made from a handoff with a Target Go-Live (`plan.flags.go_live`) has the template's
	go-live milestone on that date, and the milestones after it as far from it as in the template
	(`engine.milestone_due_dates`): its Go-live fell on the template's offset, weeks from the date
	sales agreed, which the Onboarding Past Go-Live rule reads (tester A1)."""
	start, end = getdate(plan.start_date), getdate(plan.end_date) if plan.end_date else None
	# Only the CSM is a person of ours for sure; a step owned by another role (sponsor, support,
	# implementation...) would otherwise have nobody to remind, so the CSM holds it.
	csm = plan_csm(plan)
	names = []
	go_live_rows = [index for index, row in enumerate(template.milestones) if row.get("is_go_live")]
	go_live = plan.flags.go_live
	dues = engine.milestone_due_dates(
		start,
		[row.offset_days for row in template.milestones],
		go_live_rows[0] if go_live_rows and go_live else None,
		getdate(go_live) if go_live else None,
		end,
	)
	for row, due in zip(template.milestones, dues, strict=True):
		milestone = frappe.get_doc(
			{
				"doctype": MILESTONE,
				"success_plan": plan.name,
				"customer": plan.customer,
				"title": row.title,
				"description": row.description,
				"owner_role": row.owner_role,
				"assigned_to": csm,
				"due_date": due,
				"is_value_milestone": row.is_value_milestone,
				"completion_trigger": row.completion_trigger,
				"trigger_threshold": row.trigger_threshold,
			}
		)
		milestone.flags.ignore_permissions = True
		milestone.flags.skip_plan_summary = True
		milestone.insert()
		names.append(milestone.name)
	refresh_plan_summaries([plan.name])
	return names


# --- the handoff hook ----------------------------------------------------------------------


def _get(obj, key, default=None):
	value = obj.get(key) if hasattr(obj, "get") else getattr(obj, key, None)
	return default if value is None else value


def create_plan_from_handoff(handoff) -> str:
	"""The customer's first success plan, from an accepted Sales Handoff (or a plain dict).

	Registered under the `cs_on_handoff_accepted` hook. Objectives: the handoff's use cases
	first, then the template's. Accepting the same handoff twice returns the same plan; a
	customer with a running plan (not achieved or closed) keeps working from it, and gets none.
	"""
	customer = _get(handoff, "customer")
	if not customer:
		frappe.throw(_("The handoff has no Customer; set the Customer before accepting it."))
	handoff_name = _get(handoff, "name")
	if handoff_name:
		existing = frappe.db.get_value(PLAN, {"sales_handoff": handoff_name}, "name")
		if existing:
			return existing
	running = frappe.db.get_value(
		PLAN,
		{"customer": customer, "status": ("in", engine.OPEN_PLAN_STATUSES)},
		"name",
		order_by="start_date desc, creation desc",
	)
	if running:
		return running

	tier, segment, owner = frappe.db.get_value("Customer", customer, ["cs_tier", "cs_segment", "cs_owner"])
	template_name = template_for_tier(tier, segment)
	template = frappe.get_cached_doc(TEMPLATE, template_name) if template_name else None
	start = getdate(nowdate())
	contract_end = _get(handoff, "contract_end")
	end = (
		getdate(contract_end)
		if contract_end and getdate(contract_end) > start
		else default_end_date(start, template)
	)
	# a plan runs at most MAX_PLAN_DAYS: a longer contract's plan ends there (a new plan follows it)
	end = min(end, getdate(add_days(start, engine.MAX_PLAN_DAYS)))

	objectives = []
	for row in _get(handoff, "use_cases", []) or []:
		if not _get(row, "use_case"):
			continue
		due = _get(row, "target_date")
		objectives.append(
			{
				"objective": _get(row, "use_case"),
				"metric": _get(row, "metric"),
				"unit": _get(row, "unit"),
				"direction": _get(row, "direction") or engine.UP,
				"baseline": count_or_none(_get(row, "baseline", 0), None, _get(row, "unit")),
				"target": count_or_none(_get(row, "target", 0), None, _get(row, "unit")),
				"current": count_or_none(_get(row, "baseline", 0), None, _get(row, "unit")),
				"due_date": min(getdate(due), end) if due else end,
				"owner_role": "CSM",  # the CSM who accepted the deal carries it until they hand it on
				"source": _("Sales Handoff"),
			}
		)
	if template:
		objectives += objectives_from_template(template, start, end)

	plan = frappe.get_doc(
		{
			"doctype": PLAN,
			"customer": customer,
			"csm": _get(handoff, "proposed_csm") or owner,
			"template": template_name,
			"start_date": start,
			"end_date": end,
			"status": engine.DRAFT,
			"motivation": _get(handoff, "needs_and_expectations"),
			"success_definition": _get(handoff, "success_definition"),
			"objectives": objectives,
		}
	)
	if handoff_name and _handoff_exists(handoff_name):
		plan.sales_handoff = handoff_name
	plan.flags.template_objectives_applied = True
	plan.flags.go_live = _get(handoff, "target_go_live")  # the template's go-live milestone falls on it
	plan.flags.ignore_permissions = True
	plan.insert()
	if plan.flags.go_live and not (template and any(row.get("is_go_live") for row in template.milestones)):
		add_go_live_milestone(plan, getdate(plan.flags.go_live))
	return plan.name


def add_go_live_milestone(plan, go_live) -> str | None:
	"""A plan made from a handoff whose template has no go-live step (a tier's own template, or no
	template) gets one on the Target Go-Live sales agreed, when it falls within the plan's dates:
	the date was otherwise lost on the plan (tester M2: an Enterprise customer's first plan)."""
	from customer_success.utils import stored_title

	start, end = getdate(plan.start_date), getdate(plan.end_date) if plan.end_date else None
	if go_live < start or (end and go_live > end):
		return None
	milestone = frappe.get_doc(
		{
			"doctype": MILESTONE,
			"success_plan": plan.name,
			"customer": plan.customer,
			"title": stored_title("Go-live"),
			"description": stored_title("The go-live date agreed at the handoff."),
			"owner_role": "CSM",
			"assigned_to": plan_csm(plan),
			"due_date": go_live,
			"is_value_milestone": 1,
		}
	)
	milestone.flags.ignore_permissions = True
	milestone.insert()
	return milestone.name


def _handoff_exists(name: str) -> bool:
	return bool(frappe.db.exists("DocType", "Sales Handoff") and frappe.db.exists("Sales Handoff", name))


# --- guards --------------------------------------------------------------------------------


def require_plan(doc) -> None:
	"""Milestones and check-ins read their plan before frappe's mandatory check runs (API, Data
	Import): without a Success Plan they would fail obscurely, so say what is missing."""
	if not doc.get("success_plan"):
		frappe.throw(
			_("Set the Success Plan this {0} belongs to.").format(_(doc.doctype)),
			frappe.MandatoryError,
			title=_("Missing Success Plan"),
		)
	if not frappe.db.exists(PLAN, doc.success_plan):
		frappe.throw(
			_("Success Plan {0} does not exist; pick an existing Success Plan.").format(doc.success_plan),
			frappe.LinkValidationError,
			title=_("Missing Success Plan"),
		)


# --- summaries -----------------------------------------------------------------------------


def refresh_plan_summaries(plan_names: list[str] | None = None):
	"""Copy milestone counts and time to first value onto the plans, set-based."""
	queries.update_plan_milestone_summaries(plan_names)


def plan_overview(plan) -> dict:
	"""Milestones with their time to value, for the plan form, the portal and the print format."""
	milestones = frappe.get_all(
		MILESTONE,
		filters={"success_plan": plan.name},
		fields=[
			"name",
			"title",
			"assigned_to",
			"owner_role",
			"due_date",
			"status",
			"completed_on",
			"is_value_milestone",
			"days_to_value",
			"triggered_by_doctype",
			"triggered_by",
		],
		order_by="due_date asc, creation asc",
	)
	start = getdate(plan.start_date) if plan.start_date else None
	for m in milestones:
		m.due_date = getdate(m.due_date) if m.due_date else None
		m.completed_on = getdate(m.completed_on) if m.completed_on else None
	return {
		"milestones": milestones,
		"time_to_value": engine.time_to_value(start, milestones),
		"completion": engine.milestone_completion(milestones),
	}


# --- milestone triggers --------------------------------------------------------------------


def complete_triggered_milestones(
	customer: str, trigger: str, source, on_date=None, open_issues=None
) -> list[str]:
	"""Mark the customer's open milestones waiting for `trigger` as done, linked to `source`.

	Only plans still being worked on and started on or before the event count. For the issue
	threshold, a milestone fires when the customer's open issues are below its threshold.
	"""
	on_date = getdate(on_date or nowdate())
	rows = queries.open_triggered_milestones(customer, trigger, on_date)
	done = []
	for row in rows:
		if trigger == TRIGGER_ISSUES_BELOW and not engine.issue_threshold_met(
			open_issues or 0, row.trigger_threshold
		):
			continue
		milestone = frappe.get_doc(MILESTONE, row.name)
		milestone.status = engine.DONE
		milestone.completed_on = on_date
		milestone.triggered_by_doctype = source.doctype
		milestone.triggered_by = source.name
		note = _("Completed automatically: {0} {1}.").format(_(source.doctype), source.name)
		milestone.evidence = f"{milestone.evidence or ''}<p>{frappe.utils.escape_html(note)}</p>"
		milestone.flags.ignore_permissions = True
		milestone.save()
		done.append(milestone.name)
	return done


def run_trigger_safely(customer: str | None, trigger: str, source, **kwargs) -> list[str]:
	"""Never let a milestone problem block the ERPNext document that fired it."""
	if not customer or not frappe.db.table_exists(MILESTONE):
		return []
	frappe.db.savepoint("cs_milestone_trigger")
	try:
		return complete_triggered_milestones(customer, trigger, source, **kwargs)
	except Exception:
		frappe.db.rollback(save_point="cs_milestone_trigger")
		frappe.log_error(
			title=_("Success plan milestone trigger failed for {0} {1}").format(source.doctype, source.name),
			reference_doctype=source.doctype,
			reference_name=source.name,
		)
		return []


# --- check-ins -----------------------------------------------------------------------------


def checkin_rows_from_plan(plan) -> list[dict]:
	return [checkin_rows_from_plan_row(row) for row in plan.objectives]


def checkin_rows_from_plan_row(row) -> dict:
	"""A check-in's row for one objective of its plan, as the plan has it now."""
	return {
		"objective": row.objective,
		"plan_objective": row.name,
		"unit": row.unit,
		"metric_kind": row.metric_kind,
		"unit_singular": row.unit_singular,
		"direction": row.direction,
		"baseline": row.baseline,
		"target": row.target,
		"previous_value": row.current,
		"current_value": row.current,
	}


# --- the renewal coverage KPI --------------------------------------------------------------


def renewal_plan_coverage(today=None, months: int = 6, csm: str | None = None) -> dict:
	"""Of the customers whose contract ends in the next `months` (of `csm`'s book, if given), the
	share with an agreed plan."""
	today = getdate(today or nowdate())
	until = getdate(frappe.utils.add_months(today, months))
	renewing, with_plan = queries.renewal_plan_counts(today, until, csm, engine.AGREED_PLAN_STATUSES)
	return engine.plan_coverage(renewing, with_plan)


# --- the customer portal -------------------------------------------------------------------

# What a customer's contact may print: objectives, milestones, dates and the shared fields,
# none of the CSM's internal notes (why they bought, pain points, owners).
CUSTOMER_PRINT_FORMAT = "Success Plan (Customer)"


def requested_print_formats(meta) -> set[str]:
	"""The print format(s) a print request names; frappe falls back to the default, then Standard.

	/printview and frappe.get_print use `format`, get_html_and_style `print_format`: every one
	named counts, so a request cannot name one format to pass the check and render another.
	"""
	named = {frappe.form_dict.get(key) for key in ("format", "print_format")} - {None, ""}
	return {str(v) for v in named} or {meta.default_print_format or "Standard"}


def check_customer_print_format(plan) -> None:
	"""Desk users print a plan with any format; a contact (website permission) only with the
	customer-facing one."""
	if frappe.flags.ignore_print_permissions:
		return
	if any(frappe.has_permission(PLAN, ptype, plan) for ptype in ("read", "print")):
		return
	if requested_print_formats(plan.meta) != {CUSTOMER_PRINT_FORMAT}:
		frappe.throw(
			_(
				"Success plans are shared with customers in the {0} print format only; choose it to print."
			).format(_(CUSTOMER_PRINT_FORMAT)),
			frappe.PermissionError,
			title=_("Print Format Not Allowed"),
		)


def portal_plans(user: str, plan: str | None = None) -> list[dict]:
	"""The plans shared with this website user's customer(s), with objectives and milestones.

	Nothing of any other customer: the user's customers come from their Contact's links.
	"""
	customers = queries.portal_customers(user)
	rows = queries.shared_plans(customers)
	if plan:
		rows = [r for r in rows if r.name == plan]
	result = []
	for row in rows:
		doc = frappe.get_doc(PLAN, row.name)
		overview = plan_overview(doc)
		result.append(
			{
				"name": doc.name,
				"title": doc.title,
				"customer_name": doc.customer_name,
				"status": doc.status,
				"start_date": doc.start_date,
				"end_date": doc.end_date,
				"agreed_on": doc.agreed_on,
				"progress": doc.progress,
				"success_definition": doc.success_definition,
				"objectives": [
					{
						"objective": o.objective,
						"metric": o.metric,
						"unit": o.unit,
						"metric_kind": o.metric_kind,
						"unit_singular": o.unit_singular,
						"baseline": o.baseline,
						"target": o.target,
						"current": o.current,
						"progress": o.progress,
						"status": o.status,
						"due_date": o.due_date,
					}
					for o in doc.objectives
				],
				"milestones": [
					{
						k: m.get(k)
						for k in (
							"title",
							"due_date",
							"status",
							"completed_on",
							"is_value_milestone",
							"days_to_value",
						)
					}
					for m in overview["milestones"]
				],
				"time_to_value": overview["time_to_value"],
				"milestone_completion": overview["completion"],
			}
		)
	return result
