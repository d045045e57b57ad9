"""Success plan maths: objective progress, plan progress, milestone states, coverage KPI."""

from datetime import date

from customer_success.numbers import clamp, is_number, round2

UP, DOWN = "Up", "Down"

NOT_STARTED, IN_PROGRESS, DONE, OVERDUE, SKIPPED = "Not Started", "In Progress", "Done", "Overdue", "Skipped"
CLOSED_MILESTONE_STATES = (DONE, SKIPPED)


def objective_progress(baseline, target, current, direction: str = UP) -> float | None:
	"""Progress from baseline towards target, 0-100, for metrics that should rise or fall.

	A metric that moved the wrong way is 0, one that overshot is 100. When baseline equals
	target the objective is either met (100) or not (0). `None` when a value is missing.
	"""
	if not (is_number(baseline) and is_number(target) and is_number(current)):
		return None
	baseline, target, current = float(baseline), float(target), float(current)
	if target == baseline:
		met = current >= target if direction != DOWN else current <= target
		return 100.0 if met else 0.0
	return round2(clamp(100.0 * (current - baseline) / (target - baseline)))


def objective_problem(baseline, target, direction: str) -> str | None:
	"""Why an objective's numbers cannot work, as a short code, or `None` when they can."""
	if not (is_number(baseline) and is_number(target)):
		return "missing"
	if float(baseline) == float(target):
		return "target_equals_baseline"
	if direction == UP and float(target) < float(baseline):
		return "target_below_baseline"
	if direction == DOWN and float(target) > float(baseline):
		return "target_above_baseline"
	return None


def is_achieved(baseline, target, current, direction: str = UP) -> bool:
	progress = objective_progress(baseline, target, current, direction)
	return progress is not None and progress >= 100.0


def plan_progress(objectives: list[dict]) -> float | None:
	"""Mean progress of the objectives that can be measured, weighted by their `weight` (default 1)."""
	weighted = []
	for row in objectives:
		progress = objective_progress(
			row.get("baseline"), row.get("target"), row.get("current"), row.get("direction", UP)
		)
		if progress is None:
			continue
		weight = float(row["weight"]) if is_number(row.get("weight")) and float(row["weight"]) > 0 else 1.0
		weighted.append((progress, weight))
	if not weighted:
		return None
	return round2(sum(p * w for p, w in weighted) / sum(w for _, w in weighted))


def milestone_state(status: str, due_date: date | None, today: date) -> str:
	"""The status a milestone should show today: open ones past their due date are overdue."""
	if status in CLOSED_MILESTONE_STATES:
		return status
	if due_date is not None and due_date < today:
		return OVERDUE
	if status == OVERDUE:
		return IN_PROGRESS
	return status or NOT_STARTED


def should_remind(status: str, due_date: date | None, today: date, days_before: int) -> bool:
	"""An open milestone gets its reminder once it is within `days_before` days of its due date."""
	if status in CLOSED_MILESTONE_STATES or due_date is None:
		return False
	days_left = (due_date - today).days
	return 0 <= days_left <= int(days_before)


def milestone_punctuality(milestones: list[dict], today: date) -> float | None:
	"""Share of milestones due by today that were done on time. `None` when none were due yet."""
	due = [
		m for m in milestones if m.get("status") != SKIPPED and m.get("due_date") and m["due_date"] <= today
	]
	if not due:
		return None
	on_time = [
		m
		for m in due
		if m.get("status") == DONE and m.get("completed_on") and m["completed_on"] <= m["due_date"]
	]
	return round2(len(on_time) / len(due))


def days_to_value(plan_start: date | None, completed_on: date | None) -> int | None:
	if plan_start is None or completed_on is None:
		return None
	return (completed_on - plan_start).days


def checkin_due(last_checkin: date | None, plan_start: date, today: date, cadence_days: int) -> bool:
	"""A check-in is due once `cadence_days` have passed since the last one (or the plan's start)."""
	since = last_checkin or plan_start
	return (today - since).days >= int(cadence_days)


def renewal_plan_coverage(renewing_customers, customers_with_agreed_plan) -> dict:
	"""Headline KPI: of the customers renewing soon, the share that has an agreed success plan."""
	renewing = set(renewing_customers)
	covered = renewing & set(customers_with_agreed_plan)
	share = round2(100.0 * len(covered) / len(renewing)) if renewing else None
	return {
		"renewing": len(renewing),
		"with_plan": len(covered),
		"share": share,
		"target_met": share is not None and share >= 50.0,
	}


# --- plan status flow, dates and objective status --------------------------------------------

DRAFT, AGREED, ACTIVE, ACHIEVED, AT_RISK, CLOSED = (
	"Draft",
	"Agreed with Customer",
	"Active",
	"Achieved",
	"At Risk",
	"Closed",
)
PLAN_STATUSES = (DRAFT, AGREED, ACTIVE, ACHIEVED, AT_RISK, CLOSED)
# Plans the app still works on: reminders, check-ins, triggers.
OPEN_PLAN_STATUSES = (DRAFT, AGREED, ACTIVE, AT_RISK)
# Plans the customer has agreed to (the renewal coverage KPI counts these).
AGREED_PLAN_STATUSES = (AGREED, ACTIVE, ACHIEVED, AT_RISK)

PLAN_TRANSITIONS = {
	DRAFT: (AGREED, CLOSED),
	AGREED: (DRAFT, ACTIVE, CLOSED),
	ACTIVE: (ACHIEVED, AT_RISK, CLOSED),
	AT_RISK: (ACTIVE, ACHIEVED, CLOSED),
	ACHIEVED: (ACTIVE, CLOSED),
	CLOSED: (),
}


def plan_transition_allowed(old: str | None, new: str) -> bool:
	"""May a plan move from `old` to `new`? A new plan (no `old`) starts as a Draft or Agreed."""
	if not old:
		return new in (DRAFT, AGREED)
	return old == new or new in PLAN_TRANSITIONS.get(old, ())


def allowed_next_statuses(old: str | None) -> tuple[str, ...]:
	if not old:
		return (DRAFT, AGREED)
	return PLAN_TRANSITIONS.get(old, ())


def needs_quantified_objectives(status: str) -> bool:
	"""A Draft may hold objectives not quantified yet; an agreed or running plan may not."""
	return status not in (DRAFT, CLOSED)


def plan_dates_problem(start: date | None, end: date | None) -> str | None:
	if start is None:
		return "missing_start"
	if end is not None and end < start:
		return "end_before_start"
	return None


def milestone_due_problem(due: date | None, plan_start: date | None, plan_end: date | None) -> str | None:
	"""A milestone must fall inside its plan's dates."""
	if due is None:
		return "missing"
	if plan_start is not None and due < plan_start:
		return "before_plan_start"
	if plan_end is not None and due > plan_end:
		return "after_plan_end"
	return None


OBJ_NOT_STARTED, OBJ_ON_TRACK, OBJ_BEHIND, OBJ_ACHIEVED, OBJ_MISSED = (
	"Not Started",
	"On Track",
	"Behind",
	"Achieved",
	"Missed",
)


def expected_progress(start: date | None, due: date | None, on: date) -> float | None:
	"""Where a steady objective would be by `on`: the share of its time that has passed, 0-100."""
	if start is None or due is None:
		return None
	if due <= start:
		return 100.0 if on >= due else 0.0
	return round2(clamp(100.0 * (on - start).days / (due - start).days))


def objective_status(
	progress: float | None, start: date | None, due: date | None, today: date, tolerance: float = 10.0
) -> str:
	"""Achieved, Missed (due date passed short of target), Behind (more than `tolerance` points
	below where steady progress would be), On Track, or Not Started (nothing measurable yet)."""
	if progress is not None and progress >= 100.0:
		return OBJ_ACHIEVED
	if due is not None and today > due:
		return OBJ_MISSED
	if progress is None:
		return OBJ_NOT_STARTED
	expected = expected_progress(start, due, today)
	if expected is not None and progress + tolerance < expected:
		return OBJ_BEHIND
	if progress == 0 and not expected:
		return OBJ_NOT_STARTED
	return OBJ_ON_TRACK


def target_missed(status: str) -> bool:
	"""At a check-in, a missed or lagging objective needs its reasons recorded."""
	return status in (OBJ_MISSED, OBJ_BEHIND)


def milestone_due_date(plan_start: date, offset_days) -> date:
	from datetime import timedelta

	return plan_start + timedelta(days=int(offset_days or 0))


def time_to_value(plan_start: date | None, milestones: list[dict]) -> list[dict]:
	"""Days from plan start to each value milestone, in due-date order; `days` is None while open."""
	rows = []
	for m in sorted(
		(m for m in milestones if m.get("is_value_milestone")), key=lambda m: m.get("due_date") or date.max
	):
		done = m.get("status") == DONE
		rows.append(
			{
				"title": m.get("title"),
				"due_date": m.get("due_date"),
				"completed_on": m.get("completed_on") if done else None,
				"days": days_to_value(plan_start, m.get("completed_on")) if done else None,
				"planned_days": days_to_value(plan_start, m.get("due_date")),
			}
		)
	return rows


def first_value_days(plan_start: date | None, milestones: list[dict]) -> int | None:
	days = [r["days"] for r in time_to_value(plan_start, milestones) if r["days"] is not None]
	return min(days) if days else None


def milestone_completion(milestones: list[dict]) -> float | None:
	"""Share (0-100) of milestones done, skipped ones left out."""
	counted = [m for m in milestones if m.get("status") != SKIPPED]
	if not counted:
		return None
	return round2(100.0 * sum(1 for m in counted if m.get("status") == DONE) / len(counted))


def issue_threshold_met(open_issues: int, threshold) -> bool:
	"""The "issue count below a threshold" trigger: strictly fewer open issues than the threshold."""
	return is_number(threshold) and int(open_issues) < int(threshold)


def health_trend(start_score, end_score) -> float | None:
	if not (is_number(start_score) and is_number(end_score)):
		return None
	return round2(float(end_score) - float(start_score))


# --- which template fits a customer -----------------------------------------------------------


def best_template(templates: list[dict], tier: str | None, segment: str | None) -> str | None:
	"""The template that fits a customer's tier and segment best; templates come oldest first.

	A template's empty tier (segment) fits any tier (segment); one set to another value does not
	fit. Among those that fit, the most specific wins: tier and segment, then segment only (a
	segment says what the customer needs, which is what a plan is made of), then tier only, then
	neither. The oldest wins a tie."""
	best, best_rank = None, -1
	for template in templates:
		t_tier, t_segment = template.get("tier") or None, template.get("segment") or None
		if (t_tier and t_tier != tier) or (t_segment and t_segment != segment):
			continue
		rank = (2 if t_segment else 0) + (1 if t_tier else 0)
		if rank > best_rank:
			best, best_rank = template["name"], rank
	return best
