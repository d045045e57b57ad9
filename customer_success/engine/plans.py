"""Success plan maths: objective progress, plan progress, milestone states, coverage KPI."""

from datetime import date

from customer_success.engine._num import clamp, is_number, round2

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
