"""Plan status flow, dates, objective status, time-to-value and QBR helpers (pure)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from customer_success.success_plans import engine as p

TODAY = date(2026, 11, 23)


def days(n):
	return TODAY + timedelta(days=n)


def test_status_flow():
	assert p.plan_transition_allowed(None, p.DRAFT)
	assert p.plan_transition_allowed(None, p.AGREED)
	assert not p.plan_transition_allowed(None, p.ACTIVE)
	assert p.plan_transition_allowed(p.DRAFT, p.AGREED)
	assert not p.plan_transition_allowed(p.DRAFT, p.ACTIVE)  # agree with the customer first
	assert p.plan_transition_allowed(p.AGREED, p.ACTIVE)
	assert p.plan_transition_allowed(p.ACTIVE, p.AT_RISK)
	assert p.plan_transition_allowed(p.AT_RISK, p.ACTIVE)
	assert p.plan_transition_allowed(p.ACTIVE, p.ACHIEVED)
	assert not p.plan_transition_allowed(p.CLOSED, p.ACTIVE)  # closed is final
	assert p.plan_transition_allowed(p.CLOSED, p.CLOSED)
	assert p.allowed_next_statuses(p.CLOSED) == ()
	for status in p.PLAN_STATUSES:
		assert status in p.PLAN_TRANSITIONS


def test_quantified_objectives_needed_once_agreed():
	assert not p.needs_quantified_objectives(p.DRAFT)
	assert p.needs_quantified_objectives(p.AGREED)
	assert p.needs_quantified_objectives(p.ACTIVE)


def test_plan_dates():
	assert p.plan_dates_problem(TODAY, days(10)) is None
	assert p.plan_dates_problem(TODAY, TODAY) is None
	assert p.plan_dates_problem(TODAY, None) is None
	assert p.plan_dates_problem(TODAY, days(-1)) == "end_before_start"
	assert p.plan_dates_problem(None, TODAY) == "missing_start"


def test_milestone_due_inside_plan():
	assert p.milestone_due_problem(days(5), TODAY, days(10)) is None
	assert p.milestone_due_problem(TODAY, TODAY, days(10)) is None
	assert p.milestone_due_problem(days(10), TODAY, days(10)) is None
	assert p.milestone_due_problem(days(-1), TODAY, days(10)) == "before_plan_start"
	assert p.milestone_due_problem(days(11), TODAY, days(10)) == "after_plan_end"
	assert p.milestone_due_problem(days(500), TODAY, None) is None
	assert p.milestone_due_problem(None, TODAY, None) == "missing"


def test_expected_progress():
	assert p.expected_progress(TODAY, days(100), days(25)) == 25
	assert p.expected_progress(TODAY, days(100), days(-5)) == 0
	assert p.expected_progress(TODAY, days(100), days(150)) == 100
	assert p.expected_progress(TODAY, TODAY, TODAY) == 100
	assert p.expected_progress(None, days(100), TODAY) is None


def test_objective_status():
	start, due = days(-50), days(50)  # half way through
	assert p.objective_status(100, start, due, TODAY) == p.OBJ_ACHIEVED
	assert p.objective_status(100, start, days(-1), TODAY) == p.OBJ_ACHIEVED  # late but there
	assert p.objective_status(80, start, days(-1), TODAY) == p.OBJ_MISSED
	assert p.objective_status(45, start, due, TODAY) == p.OBJ_ON_TRACK  # within the 10-point tolerance
	assert p.objective_status(30, start, due, TODAY) == p.OBJ_BEHIND
	assert p.objective_status(None, start, due, TODAY) == p.OBJ_NOT_STARTED
	assert p.objective_status(0, TODAY, due, TODAY) == p.OBJ_NOT_STARTED
	assert p.objective_status(10, None, None, TODAY) == p.OBJ_ON_TRACK
	assert p.target_missed(p.OBJ_MISSED) and p.target_missed(p.OBJ_BEHIND)
	assert not p.target_missed(p.OBJ_ON_TRACK)


def test_time_to_value():
	start = days(-100)
	milestones = [
		{
			"title": "Go-live",
			"is_value_milestone": 1,
			"status": p.DONE,
			"due_date": days(-60),
			"completed_on": days(-70),
		},
		{
			"title": "Kick-off",
			"is_value_milestone": 0,
			"status": p.DONE,
			"due_date": days(-95),
			"completed_on": days(-95),
		},
		{"title": "First report", "is_value_milestone": 1, "status": p.IN_PROGRESS, "due_date": days(10)},
		{
			"title": "Adoption",
			"is_value_milestone": 1,
			"status": p.DONE,
			"due_date": days(-20),
			"completed_on": days(-10),
		},
	]
	rows = p.time_to_value(start, milestones)
	assert [r["title"] for r in rows] == ["Go-live", "Adoption", "First report"]
	assert [r["days"] for r in rows] == [30, 90, None]
	assert rows[2]["planned_days"] == 110
	assert p.first_value_days(start, milestones) == 30
	assert p.first_value_days(start, milestones[2:3]) is None


def test_milestone_completion_leaves_out_skipped():
	ms = [{"status": p.DONE}, {"status": p.SKIPPED}, {"status": p.OVERDUE}, {"status": p.NOT_STARTED}]
	assert p.milestone_completion(ms) == round(100 / 3, 2)
	assert p.milestone_completion([{"status": p.SKIPPED}]) is None


def test_issue_threshold_and_health_trend():
	assert p.issue_threshold_met(2, 3)
	assert not p.issue_threshold_met(3, 3)
	assert not p.issue_threshold_met(0, None)
	assert p.health_trend(55, 70.5) == 15.5
	assert p.health_trend(None, 70) is None


@given(st.integers(min_value=1, max_value=2000), st.integers(min_value=-100, max_value=3000))
def test_expected_progress_is_bounded_and_monotonic(length, elapsed):
	start = TODAY
	due = days(length)
	now = days(elapsed)
	value = p.expected_progress(start, due, now)
	assert 0 <= value <= 100
	assert value <= p.expected_progress(start, due, now + timedelta(days=1))
