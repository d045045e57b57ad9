"""Tier banding, touchpoint scheduling, touch matching and segment figures, as plain data."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_success.segments import engine as e

TODAY = date(2026, 12, 1)
BANDS = [
	{"min_revenue": 100000, "tier": "Enterprise"},
	{"min_revenue": 0, "tier": "SMB"},
	{"min_revenue": 500000, "tier": "Strategic"},
	{"min_revenue": 20000, "tier": "Mid-Market"},
]


def day(n):
	return TODAY + timedelta(days=n)


# --- tiers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"revenue,tier",
	[
		(0, "SMB"),
		(19999.99, "SMB"),
		(20000, "Mid-Market"),
		(99999.99, "Mid-Market"),
		(100000, "Enterprise"),
		(499999.99, "Enterprise"),
		(500000, "Strategic"),
		(10**9, "Strategic"),
		(None, "SMB"),
		(-500, None),
	],
)
def test_tier_for_revenue_band_boundaries(revenue, tier):
	assert e.tier_for_revenue(revenue, BANDS) == tier


def test_below_every_band_has_no_tier():
	assert e.tier_for_revenue(10, [{"min_revenue": 1000, "tier": "SMB"}]) is None
	assert e.tier_for_revenue(10, []) is None


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0, max_value=1e9))
def test_more_revenue_never_means_a_lower_tier(a, b):
	order = {"SMB": 0, "Mid-Market": 1, "Enterprise": 2, "Strategic": 3}
	low, high = sorted((a, b))
	assert order[e.tier_for_revenue(low, BANDS)] <= order[e.tier_for_revenue(high, BANDS)]


def test_band_problems():
	tiers = ("Strategic", "Enterprise", "Mid-Market", "SMB")
	assert e.band_problems(BANDS, tiers) == []
	problems = e.band_problems(
		[
			{"min_revenue": 0, "tier": "SMB"},
			{"min_revenue": 0, "tier": "Enterprise"},
			{"min_revenue": 10, "tier": "SMB"},
			{"min_revenue": -1, "tier": "Strategic"},
			{"min_revenue": 5, "tier": "Gold"},
		],
		tiers,
	)
	messages = [m for m, _ in problems]
	assert "Row {0}: another band starts at the same revenue." in messages
	assert "Row {0}: tier {1} has a band already." in messages
	assert "Row {0}: Minimum Annual Revenue must be 0 or more." in messages
	assert "Row {0}: choose a Tier." in messages


def test_a_higher_tier_starts_at_a_higher_revenue():
	tiers = ("Strategic", "Enterprise", "Mid-Market", "SMB")
	problems = e.band_problems(
		[
			{"min_revenue": 100000, "tier": "Enterprise"},
			{"min_revenue": 200000, "tier": "Mid-Market"},  # above Enterprise
			{"min_revenue": 0, "tier": "SMB"},
		],
		tiers,
	)
	assert problems == [
		(
			"Tier {0} starts below tier {1}: a higher tier needs a higher Minimum Annual Revenue.",
			("Enterprise", "Mid-Market"),
		)
	]
	# tiers left out are no problem: Strategic and SMB alone, in order
	assert (
		e.band_problems([{"min_revenue": 0, "tier": "SMB"}, {"min_revenue": 9, "tier": "Strategic"}], tiers)
		== []
	)


def test_tier_changes_keep_manual_tiers_and_skip_unchanged():
	customers = [
		{"name": "A", "cs_tier": "SMB", "cs_tier_source": "Manual"},  # kept whatever it earns
		{"name": "B", "cs_tier": "Enterprise", "cs_tier_source": "Computed"},  # unchanged
		{"name": "C", "cs_tier": "SMB", "cs_tier_source": "Computed"},  # grows
		{"name": "D", "cs_tier": None, "cs_tier_source": None},  # first time
		{"name": "E", "cs_tier": "Mid-Market", "cs_tier_source": ""},  # untracked: becomes computed
		{"name": "F", "cs_tier": "SMB", "cs_tier_source": "Computed"},  # no band fits any more
	]
	revenue = {"A": 900000, "B": 150000, "C": 600000, "D": 5, "E": 30000, "F": -10}
	changes = e.tier_changes(customers, revenue, BANDS)
	assert changes == {"Strategic": ["C"], "SMB": ["D"], "Mid-Market": ["E"], "": ["F"]}


@pytest.mark.parametrize(
	"old,new,source,expected",
	[
		("SMB", "SMB", "Computed", "Computed"),
		("SMB", "Enterprise", "Computed", "Manual"),
		(None, "SMB", "", "Manual"),
		("SMB", "", "Manual", ""),
		("SMB", "SMB", "Manual", "Manual"),
	],
)
def test_tier_source_after_save(old, new, source, expected):
	assert e.tier_source_after_save(old, new, source) == expected


# --- touchpoint scheduling ------------------------------------------------------------------------


def tp(name="Kick-off", offset=0, repeat=0, window=7, **kw):
	return {"name": name, "offset_days": offset, "repeat_days": repeat, "window_days": window, **kw}


def test_one_off_touchpoint_is_planned_from_lead_until_its_window_closes():
	start = day(-10)
	touchpoint = tp(offset=20, window=5)  # due day(10)
	assert e.due_occurrences(touchpoint, start, TODAY, lead_days=9) == []  # day(10) - 9 > today
	[occ] = e.due_occurrences(touchpoint, start, TODAY, lead_days=10)
	assert (occ.occurrence, occ.due_date, occ.window_start, occ.window_end) == (0, day(10), day(5), day(15))
	assert e.due_occurrences(touchpoint, start, day(15), lead_days=0)[0].due_date == day(10)
	assert e.due_occurrences(touchpoint, start, day(16), lead_days=0) == []  # window closed


def test_repeating_touchpoint_plans_only_the_current_occurrences():
	start = day(-1000)  # a long-standing customer: no backlog of past QBRs
	qbr = tp("QBR", offset=90, repeat=90, window=10)
	occurrences = e.due_occurrences(qbr, start, TODAY, lead_days=7)
	# due dates are start + 90 + 90k = day(-910 + 90k); k=10 -> day(-10) (window open), k=11 -> day(80)
	assert [(o.occurrence, o.due_date) for o in occurrences] == [(10, day(-10))]
	later = e.due_occurrences(qbr, start, day(75), lead_days=7)
	assert [(o.occurrence, o.due_date) for o in later] == [(11, day(80))]


def test_repeating_touchpoint_before_its_first_occurrence():
	assert e.due_occurrences(tp(offset=30, repeat=90), TODAY, TODAY, lead_days=7) == []
	[occ] = e.due_occurrences(tp(offset=30, repeat=90), TODAY, day(23), lead_days=7)
	assert occ.occurrence == 0 and occ.due_date == day(30)


def test_no_start_means_nothing_planned():
	assert e.due_occurrences(tp(), None, TODAY, 7) == []


@settings(deadline=None)  # the brute-force check below is slow on a loaded machine
@given(
	st.integers(min_value=-2000, max_value=0),
	st.integers(min_value=0, max_value=400),
	st.integers(min_value=1, max_value=200),
	st.integers(min_value=0, max_value=30),
	st.integers(min_value=0, max_value=30),
)
def test_repeating_occurrences_are_exactly_those_in_the_planning_span(
	start_offset, offset, repeat, window, lead
):
	start = day(start_offset)
	touchpoint = tp(offset=offset, repeat=repeat, window=window)
	found = e.due_occurrences(touchpoint, start, TODAY, lead)
	expected = [
		k for k in range(0, 3000) if day(-window) <= e.occurrence_due(start, offset, repeat, k) <= day(lead)
	]
	assert [o.occurrence for o in found] == expected


def test_touchpoint_applies_by_tier_and_segment():
	assert e.touchpoint_applies({"tier": None, "segment": None}, "SMB", None)
	assert e.touchpoint_applies({"tier": "SMB", "segment": ""}, "SMB", "Retail")
	assert not e.touchpoint_applies({"tier": "Strategic"}, "SMB", None)
	assert not e.touchpoint_applies({"tier": "", "segment": "Retail"}, "SMB", "Health")
	assert e.touchpoint_applies({"tier": "SMB", "segment": "Retail"}, "SMB", "Retail")


def test_plan_touchpoints_over_a_book():
	customers = [
		{"name": "A", "tier": "SMB", "segment": None, "start": day(-3)},
		{"name": "B", "tier": "Strategic", "segment": None, "start": day(-3)},
		{"name": "C", "tier": "SMB", "segment": None, "start": None},
	]
	touchpoints = [tp("Kick-off", offset=0, window=7), tp("Exec Sync", offset=0, window=7, tier="Strategic")]
	planned = e.plan_touchpoints(customers, touchpoints, TODAY, 7)
	assert sorted((c, o.touchpoint) for c, o in planned) == [
		("A", "Kick-off"),
		("B", "Exec Sync"),
		("B", "Kick-off"),
	]


def test_occurrence_key_is_unique_per_occurrence():
	assert e.occurrence_key("A", "QBR", 1) != e.occurrence_key("A", "QBR", 2)
	assert e.occurrence_key("A", "QBR", 1) == e.occurrence_key("A", "QBR", 1)


# --- touches -------------------------------------------------------------------------------------


def open_tp(name, customer, due, window=5):
	return {
		"name": name,
		"customer": customer,
		"due_date": due,
		"window_start": due - timedelta(days=window),
		"window_end": due + timedelta(days=window),
	}


def test_a_touch_in_the_window_completes_the_touchpoint():
	rows = [open_tp("T1", "A", day(0)), open_tp("T2", "B", day(0))]
	touches = {
		"A": [("Communication", "C1", day(-20)), ("Event", "E1", day(4))],
		"B": [("Communication", "C2", day(6))],  # after the window
	}
	assert e.match_touches(rows, touches) == {"T1": ("Event", "E1", day(4))}


def test_window_edges_count():
	rows = [open_tp("T1", "A", day(0))]
	assert e.match_touches(rows, {"A": [("Event", "E", day(-5))]}) == {"T1": ("Event", "E", day(-5))}
	assert e.match_touches(rows, {"A": [("Event", "E", day(5))]}) == {"T1": ("Event", "E", day(5))}


def test_one_touch_completes_one_touchpoint():
	rows = [open_tp("Kick", "A", day(0)), open_tp("Train", "A", day(2))]
	one = {"A": [("Communication", "C1", day(1))]}
	assert e.match_touches(rows, one) == {"Kick": ("Communication", "C1", day(1))}
	two = {"A": [("Communication", "C1", day(1)), ("Success Plan Check-in", "K1", day(3))]}
	assert e.match_touches(rows, two) == {
		"Kick": ("Communication", "C1", day(1)),
		"Train": ("Success Plan Check-in", "K1", day(3)),
	}


def test_a_touch_that_completed_one_on_an_earlier_run_completes_no_other():
	rows = [open_tp("Train", "A", day(2))]  # "Kick" was completed by C1 on an earlier run
	touches = {"A": [("Communication", "C1", day(1))]}
	assert e.match_touches(rows, touches, {"A": {("Communication", "C1")}}) == {}
	assert e.match_touches(rows, touches, {"B": {("Communication", "C1")}}) == {
		"Train": ("Communication", "C1", day(1))
	}


def test_missed_touchpoints():
	rows = [open_tp("Old", "A", day(-10), window=5), open_tp("Now", "A", day(-5), window=5)]
	assert e.missed_touchpoints(rows, TODAY) == ["Old"]


# --- performance ---------------------------------------------------------------------------------


def test_segment_performance():
	rows = e.segment_performance(
		[
			{
				"tier": "SMB",
				"segment": "Retail",
				"revenue": 100,
				"score": 80,
				"status": "Green",
				"has_plan": 1,
			},
			{"tier": "SMB", "segment": "Retail", "revenue": 50, "score": 40, "status": "Red", "has_plan": 0},
			{"tier": "SMB", "segment": "Retail", "revenue": 0, "score": 55, "status": "Insufficient Data"},
			{
				"tier": "Strategic",
				"segment": None,
				"revenue": 1000,
				"score": None,
				"status": None,
				"has_plan": 1,
			},
		]
	)
	assert rows == [
		{
			"tier": "SMB",
			"segment": "Retail",
			"customers": 3,
			"revenue": 150.0,
			"average_health": 60.0,
			"share_green": 50.0,
			"plan_coverage": 33.33,
		},
		{
			"tier": "Strategic",
			"segment": "",
			"customers": 1,
			"revenue": 1000.0,
			"average_health": None,
			"share_green": None,
			"plan_coverage": 100.0,
		},
	]


def test_segment_performance_by_tier_only():
	rows = e.segment_performance(
		[{"tier": "SMB", "segment": "X", "revenue": 1}, {"tier": "SMB", "segment": "Y", "revenue": 2}],
		group_by=("tier",),
	)
	assert rows[0]["customers"] == 2 and rows[0]["revenue"] == 3.0 and rows[0]["tier"] == "SMB"


def test_split_by_group_keeps_each_customer_in_its_group():
	groups = e.split_by_group(
		{"A": 100, "B": 50, "C": 10},
		{"A": 120, "D": 30},
		{"A": ("SMB",), "B": ("SMB",), "C": ("Strategic",), "D": ("Strategic",)},
	)
	assert groups == {
		("SMB",): ({"A": 100, "B": 50}, {"A": 120}),
		("Strategic",): ({"C": 10}, {"D": 30}),
	}


CUSTOMER = st.fixed_dictionaries(
	{
		"tier": st.sampled_from(["SMB", "Strategic", None, ""]),
		"segment": st.sampled_from(["Retail", "Health", None]),
		"revenue": st.integers(-500, 5000),
		"score": st.one_of(st.none(), st.integers(0, 100)),
		"status": st.sampled_from(["Green", "Yellow", "Red", "Insufficient Data", None]),
		"has_plan": st.booleans(),
	}
)


@settings(max_examples=60, deadline=None)
@given(st.lists(CUSTOMER, max_size=30))
def test_rows_folded_from_finer_groups_equal_the_rows_of_the_customers(customers):
	# what the database returns: the figures per tier and segment; folded per grouping they give the
	# rows the customers give
	finer = [
		{"tier": key[0], "segment": key[1], **figures}
		for key, figures in e.group_figures(customers, ("tier", "segment")).items()
	]
	for group_by in (("tier", "segment"), ("tier",), ("segment",)):
		assert e.performance_rows(e.fold_groups(finer, group_by), group_by) == e.segment_performance(
			customers, group_by
		)


def test_fold_groups_sums_only_the_figures_asked_for():
	rows = [
		{"tier": "SMB", "segment": "A", "customers": 2, "expansion": 5},
		{"tier": "SMB", "segment": None, "customers": 1},
		{"tier": None, "segment": "A", "expansion": 1},
	]
	assert e.fold_groups(rows, ("tier",), ("customers", "expansion")) == {
		("SMB",): {"customers": 3, "expansion": 5},
		("",): {"customers": 0, "expansion": 1},
	}


def test_average_health_rounds_a_half_up_as_shown():
	# 79.1 + 86.86 + 89.62 + 95.0 = 350.58, / 4 = 87.645: 87.65 (round() gave 87.64)
	scores = (79.1, 86.86, 89.62, 95.0)
	rows = e.segment_performance(
		[{"tier": "SMB", "segment": "X", "revenue": 1, "score": s, "status": "Green"} for s in scores],
		group_by=("tier",),
	)
	assert rows[0]["average_health"] == 87.65
