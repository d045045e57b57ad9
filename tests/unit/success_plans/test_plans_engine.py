from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.success_plans import engine as p

TODAY = date(2026, 11, 23)


def test_progress_rising_metric():
	assert p.objective_progress(10, 20, 15) == 50
	assert p.objective_progress(10, 20, 10) == 0
	assert p.objective_progress(10, 20, 20) == 100


def test_progress_falling_metric():
	# handling time per ticket: 40 min down to 34 min (-15%)
	assert p.objective_progress(40, 34, 37, p.DOWN) == 50
	assert p.objective_progress(40, 34, 34, p.DOWN) == 100


def test_progress_overshoot_and_wrong_way_are_clamped():
	assert p.objective_progress(10, 20, 35) == 100
	assert p.objective_progress(10, 20, 2) == 0
	assert p.objective_progress(40, 34, 20, p.DOWN) == 100
	assert p.objective_progress(40, 34, 50, p.DOWN) == 0


def test_progress_baseline_equals_target():
	assert p.objective_progress(5, 5, 5) == 100
	assert p.objective_progress(5, 5, 4) == 0
	assert p.objective_progress(5, 5, 4, p.DOWN) == 100
	assert p.objective_progress(5, 5, 6, p.DOWN) == 0


def test_progress_missing_values():
	assert p.objective_progress(None, 5, 3) is None
	assert p.objective_progress(1, 5, None) is None
	assert p.objective_progress("x", 5, 3) is None


def test_objective_problems():
	assert p.objective_problem(10, 20, p.UP) is None
	assert p.objective_problem(10, 10, p.UP) == "target_equals_baseline"
	assert p.objective_problem(10, 5, p.UP) == "target_below_baseline"
	assert p.objective_problem(10, 15, p.DOWN) == "target_above_baseline"
	assert p.objective_problem(None, 15, p.DOWN) == "missing"
	assert p.is_achieved(10, 20, 25)
	assert not p.is_achieved(10, 20, 19)


def test_plan_progress_weighted_mean_skips_unmeasurable():
	objectives = [
		{"baseline": 0, "target": 10, "current": 5},
		{"baseline": 0, "target": 10, "current": 10, "weight": 3},
		{"baseline": None, "target": 10, "current": 10},
	]
	assert p.plan_progress(objectives) == pytest.approx((50 + 300) / 4)
	assert p.plan_progress([]) is None


def test_an_objective_weighted_zero_is_not_counted():
	objectives = [
		{"baseline": 0, "target": 10, "current": 10, "weight": 1},
		{"baseline": 0, "target": 10, "current": 0, "weight": 0},
		{"baseline": 0, "target": 10, "current": 0, "weight": 0},
	]
	assert p.plan_progress(objectives) == pytest.approx(100)
	# every one weighted 0: they count alike
	for row in objectives:
		row["weight"] = 0
	assert p.plan_progress(objectives) == pytest.approx(100 / 3, abs=0.01)
	# a negative weight (refused on save) counts as 0
	objectives[0]["weight"], objectives[1]["weight"] = 2, -1
	assert p.plan_progress(objectives) == pytest.approx(100)


def test_milestone_state():
	assert p.milestone_state(p.NOT_STARTED, TODAY - timedelta(days=1), TODAY) == p.OVERDUE
	assert p.milestone_state(p.IN_PROGRESS, TODAY, TODAY) == p.IN_PROGRESS
	assert p.milestone_state(p.DONE, TODAY - timedelta(days=9), TODAY) == p.DONE
	assert p.milestone_state(p.SKIPPED, TODAY - timedelta(days=9), TODAY) == p.SKIPPED
	assert p.milestone_state(p.OVERDUE, TODAY + timedelta(days=5), TODAY) == p.IN_PROGRESS
	assert p.milestone_state("", None, TODAY) == p.NOT_STARTED


def test_reminder_window():
	assert p.should_remind(p.NOT_STARTED, TODAY + timedelta(days=3), TODAY, 3)
	assert p.should_remind(p.NOT_STARTED, TODAY, TODAY, 3)
	assert not p.should_remind(p.NOT_STARTED, TODAY + timedelta(days=4), TODAY, 3)
	assert not p.should_remind(p.NOT_STARTED, TODAY - timedelta(days=1), TODAY, 3)
	assert not p.should_remind(p.DONE, TODAY + timedelta(days=1), TODAY, 3)


def test_milestone_punctuality():
	milestones = [
		{
			"status": p.DONE,
			"due_date": TODAY - timedelta(days=10),
			"completed_on": TODAY - timedelta(days=12),
		},
		{"status": p.DONE, "due_date": TODAY - timedelta(days=10), "completed_on": TODAY - timedelta(days=2)},
		{"status": p.OVERDUE, "due_date": TODAY - timedelta(days=1)},
		{"status": p.SKIPPED, "due_date": TODAY - timedelta(days=1)},
		{"status": p.NOT_STARTED, "due_date": TODAY + timedelta(days=10)},
	]
	assert p.milestone_punctuality(milestones, TODAY) == pytest.approx(1 / 3, abs=0.01)
	assert p.milestone_punctuality(milestones[-1:], TODAY) is None


def test_days_to_value_and_checkins():
	assert p.days_to_value(TODAY - timedelta(days=40), TODAY) == 40
	assert p.days_to_value(None, TODAY) is None
	assert p.checkin_due(None, TODAY - timedelta(days=90), TODAY, 90)
	assert not p.checkin_due(TODAY - timedelta(days=10), TODAY - timedelta(days=200), TODAY, 90)


def test_renewal_plan_coverage():
	kpi = p.renewal_plan_coverage({"A", "B", "C", "D"}, {"A", "B", "Z"})
	assert kpi == {"renewing": 4, "with_plan": 2, "share": 50.0, "target_met": True}
	assert p.renewal_plan_coverage(set(), {"A"})["share"] is None


@given(
	st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
	st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
	st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_progress_is_bounded(baseline, target, current):
	direction = p.UP if target >= baseline else p.DOWN
	value = p.objective_progress(baseline, target, current, direction)
	assert 0 <= value <= 100


# --- which template fits a customer (segments) ------------------------------------------------

TEMPLATES = [
	{"name": "Any", "tier": "", "segment": ""},
	{"name": "Enterprise", "tier": "Enterprise", "segment": ""},
	{"name": "Retail", "tier": "", "segment": "Retail"},
	{"name": "Enterprise Retail", "tier": "Enterprise", "segment": "Retail"},
	{"name": "SMB Health", "tier": "SMB", "segment": "Health"},
]


@pytest.mark.parametrize(
	"tier,segment,expected",
	[
		("Enterprise", "Retail", "Enterprise Retail"),
		("SMB", "Retail", "Retail"),
		("Enterprise", None, "Enterprise"),
		("Enterprise", "Health", "Enterprise"),
		("SMB", "Health", "SMB Health"),
		("Strategic", None, "Any"),
		(None, None, "Any"),
	],
)
def test_best_template_prefers_segment_and_tier(tier, segment, expected):
	assert p.best_template(TEMPLATES, tier, segment) == expected


def test_best_template_oldest_wins_a_tie_and_none_fits():
	assert p.best_template([{"name": "A", "tier": "SMB"}, {"name": "B", "tier": "SMB"}], "SMB", None) == "A"
	assert p.best_template([{"name": "A", "tier": "SMB"}], "Strategic", None) is None


# --- milestone due dates anchored on the agreed go-live ----------------------------------------

START = date(2026, 12, 5)
OFFSETS = [7, 14, 30, 45, 60, 90]  # the shipped onboarding template; the go-live is row 4 (60 days)


def test_milestones_follow_the_template_without_a_go_live():
	dues = p.milestone_due_dates(START, OFFSETS)
	assert dues == [START + timedelta(days=d) for d in OFFSETS]
	assert p.milestone_due_dates(START, OFFSETS, 4, None) == dues  # no agreed date: as the template


def test_an_earlier_go_live_moves_it_and_the_milestones_after_it():
	go_live = START + timedelta(days=45)  # the handoff's Target Go-Live, 15 days before the template's
	dues = p.milestone_due_dates(START, OFFSETS, 4, go_live)
	assert dues[4] == go_live
	assert dues[5] == go_live + timedelta(days=30)  # as far after it as in the template
	assert dues[:4] == [START + timedelta(days=d) for d in (7, 14, 30, 45)]  # none after the go-live


def test_a_later_go_live_keeps_the_earlier_steps_and_pulls_into_the_plan():
	go_live = START + timedelta(days=100)
	end = START + timedelta(days=120)
	dues = p.milestone_due_dates(START, OFFSETS, 4, go_live, end)
	assert dues[:4] == [START + timedelta(days=d) for d in (7, 14, 30, 45)]
	assert dues[4] == go_live
	assert dues[5] == end  # 130 days: pulled in to the plan's end


def test_a_go_live_before_the_plan_starts_falls_on_its_start():
	dues = p.milestone_due_dates(START, OFFSETS, 4, START - timedelta(days=10))
	assert dues[4] == START
	assert all(due >= START for due in dues)


@given(
	st.lists(st.integers(0, 400), min_size=1, max_size=8),
	st.integers(0, 7),
	st.integers(-30, 500),
	st.integers(0, 600),
)
def test_anchored_dates_stay_in_the_plan_and_none_before_the_go_live_is_after_it(offsets, row, go, length):
	row = row % len(offsets)
	go_live, end = START + timedelta(days=go), START + timedelta(days=length)
	dues = p.milestone_due_dates(START, offsets, row, go_live, end)
	assert len(dues) == len(offsets)
	assert all(START <= due <= end for due in dues)
	anchor = min(max(go_live, START), end)
	assert dues[row] == anchor
	for index, offset in enumerate(offsets):
		if offset <= offsets[row] and index != row:
			assert dues[index] <= anchor
