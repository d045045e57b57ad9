"""Success plan maths: objective progress, plan progress, milestone states, coverage KPI."""

import math
from datetime import date

from customer_success.numbers import clamp, is_number, round2

UP, DOWN = "Up", "Down"

NOT_STARTED, IN_PROGRESS, DONE, OVERDUE, SKIPPED = "Not Started", "In Progress", "Done", "Overdue", "Skipped"
CLOSED_MILESTONE_STATES = (DONE, SKIPPED)


# A plan runs for at most ten years and starts within ten years of today: anything else is a typo
# (a year 2205 or 0024) that would throw every date computed from the plan off.
MAX_PLAN_DAYS = 3650


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
	"""Mean progress of the objectives that can be measured, weighted by their `weight` (unset: 1).
	An objective weighted 0 is followed but not counted; when every one is weighted 0, they count
	alike (a plan's progress is never left out for that)."""
	weighted = []
	for row in objectives:
		progress = objective_progress(
			row.get("baseline"), row.get("target"), row.get("current"), row.get("direction", UP)
		)
		if progress is None:
			continue
		weight = float(row["weight"]) if is_number(row.get("weight")) else 1.0
		weighted.append((progress, max(weight, 0.0)))
	if not weighted:
		return None
	if not any(w for _, w in weighted):
		weighted = [(p, 1.0) for p, _ in weighted]
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
	return plan_coverage(len(renewing), len(renewing & set(customers_with_agreed_plan)))


def plan_coverage(renewing: int, with_plan: int) -> dict:
	"""The KPI from its two counts: `with_plan` of the `renewing` customers have an agreed plan."""
	share = round2(100.0 * with_plan / renewing) if renewing else None
	return {
		"renewing": renewing,
		"with_plan": with_plan,
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
# Plans a check-in falls due for: agreed with the customer and still running.
CHECKIN_PLAN_STATUSES = (AGREED, ACTIVE, AT_RISK)
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


def milestone_due_dates(
	plan_start: date,
	offsets: list,
	go_live_row: int | None = None,
	go_live: date | None = None,
	plan_end: date | None = None,
) -> list[date]:
	"""The due date of each template milestone (`offsets`: days after the plan's start), within the
	plan. With the go-live milestone (`go_live_row`, its index) and an agreed go-live date (the
	handoff's Target Go-Live): the go-live milestone falls on it, the milestones after it keep their
	distance from it, and none before it falls after it. Then every date is pulled into the plan
	(on or after its start, on or before its end)."""
	dues = [milestone_due_date(plan_start, offset) for offset in offsets]
	if go_live_row is not None and go_live is not None and 0 <= go_live_row < len(dues):
		anchor = dues[go_live_row]
		shift = go_live - anchor
		dues = [
			due + shift if index == go_live_row or due > anchor else min(due, go_live)
			for index, due in enumerate(dues)
		]
	return [max(plan_start, min(due, plan_end) if plan_end else due) for due in dues]


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


# --- metrics: counts and measures, and their units ----------------------------------------------

COUNT, MEASURE = "Count", "Measure"
METRIC_KINDS = (COUNT, MEASURE)

# Units that measure a quantity (a fraction makes sense); any other unit counts things.
MEASURE_WORDS = frozenset(
	"percent percentage pct seconds second secs sec minutes minute mins min hours hour hrs hr days day "
	"weeks week months month years year score points point nps csat ces rate ratio share usd eur gbp "
	"money revenue amount value kg km gb mb tb".split()
)


def guess_metric_kind(unit: str | None) -> str:
	"""The kind of a metric whose kind nobody set, read from its unit: "%", time, scores and money
	measure; "teams", "reports", "tickets" count."""
	text = (unit or "").strip().lower()
	if not text or "%" in text or any(c in text for c in "$€£¥"):
		return MEASURE
	first = text.replace("/", " ").replace("-", " ").split()[0]
	return MEASURE if first in MEASURE_WORDS else COUNT


def metric_value(value, kind: str | None):
	"""A metric's value as it is kept and shown: a count is a whole number (half away from zero),
	a measure as it is. `None` stays `None`."""
	if value is None or value == "":
		return None
	value = float(value)
	if kind != COUNT:
		return value
	whole = math.floor(abs(value) + 0.5)
	return int(math.copysign(whole, value)) if whole else 0


def metric_decimals(value, kind: str | None) -> int:
	"""Decimals to show: none for a count or a whole number, else as few as needed, at most 2."""
	if value is None or kind == COUNT:
		return 0
	value = float(value)
	for decimals in (0, 1):
		if abs(round(value, decimals) - value) < 1e-9:
			return decimals
	return 2


def singular_unit(unit: str | None) -> str:
	"""The unit for one thing, from an English plural: teams to team, processes to process, queries
	to query. A unit that is not a plural English word ("%", "% of contract value", "hours saved",
	"用户") is returned as it is; the last word is the one made singular ("active users" → "active user")."""
	text = (unit or "").strip()
	head, _sep, word = text.rpartition(" ")
	lower = word.lower()
	if lower == "people":
		return f"{head} {word[:-4]}rson" if head else f"{word[:-4]}rson"
	if not word.isascii() or not word.isalpha() or len(word) < 3 or not lower.endswith("s"):
		return text
	if lower.endswith(("ss", "us", "is")):
		return text
	if lower.endswith("ies") and len(word) > 4:
		singular = word[:-3] + "y"
	elif lower.endswith(("sses", "xes", "zes", "ches", "shes")):
		singular = word[:-2]
	else:
		singular = word[:-1]
	return f"{head} {singular}" if head else singular


def unit_for(value, unit: str | None, unit_singular: str | None = None) -> str:
	"""The unit that agrees in number with the value shown: "1 team", "2 teams", "1.5 hours"."""
	if value is not None and abs(float(value)) == 1:
		return (unit_singular or "").strip() or singular_unit(unit)
	return (unit or "").strip()


def metric_text(number_text: str, value, unit: str | None, unit_singular: str | None = None) -> str:
	"""The formatted number and its unit: "3 teams", "1 report", "70%", "12% of contract value"."""
	label = unit_for(value, unit, unit_singular)
	if not label:
		return number_text
	return f"{number_text}{label}" if label.startswith("%") else f"{number_text} {label}"


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
