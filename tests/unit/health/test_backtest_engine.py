"""The reports' pure maths: the weakest factor of a score, the outcome events, the snapshot lookup
and the backtest's separation and lift."""

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.health import engine as h

D = date(2026, 6, 30)


def factor(name, sub, effective):
	return {"factor_type": name, "sub_score": sub, "effective_weight": effective, "weight": effective}


# --- the top negative factor ------------------------------------------------------------------


def test_top_negative_factor_is_the_one_that_cost_most_points():
	explanation = [
		factor(h.SUPPORT_LOAD, 20, 10),  # lost 8 points
		factor(h.PAYMENT_BEHAVIOUR, 50, 40),  # lost 20 points
		factor(h.ENGAGEMENT_RECENCY, 0, 15),  # lost 15 points
	]
	top = h.top_negative_factor(explanation)
	assert top == {"factor_type": h.PAYMENT_BEHAVIOUR, "sub_score": 50, "points_lost": 20.0}


def test_top_negative_factor_ignores_factors_without_data_and_perfect_scores():
	explanation = [
		{"factor_type": h.NPS, "sub_score": None, "effective_weight": 0.0},
		factor(h.SUPPORT_LOAD, 100, 50),
	]
	assert h.top_negative_factor(explanation) is None
	assert h.top_negative_factor([]) is None
	assert h.top_negative_factor(None) is None


def test_top_negative_factor_tie_goes_to_the_first_listed():
	explanation = [factor(h.SUPPORT_LOAD, 50, 20), factor(h.SLA_BREACHES, 50, 20)]
	assert h.top_negative_factor(explanation)["factor_type"] == h.SUPPORT_LOAD


def test_top_negative_factor_reads_a_real_explanation():
	result = h.compute_health(
		{h.SUPPORT_LOAD: 8, h.ENGAGEMENT_RECENCY: 10},
		[h.FactorSpec(h.SUPPORT_LOAD, 50), h.FactorSpec(h.ENGAGEMENT_RECENCY, 50)],
	)
	top = h.top_negative_factor(result.explanation())
	assert top["factor_type"] == h.SUPPORT_LOAD  # 8 weighted open issues of 10: sub-score 20
	assert top["points_lost"] == pytest.approx(40.0)


def test_snapshot_signals_leave_out_a_score_without_colour():
	explanation = [factor(h.SUPPORT_LOAD, 20, 50), {"factor_type": h.NPS, "sub_score": None}]
	assert h.snapshot_signals(55.0, h.YELLOW, explanation) == {
		h.SUPPORT_LOAD: 20.0,
		h.HEALTH_SCORE_SIGNAL: 55.0,
	}
	assert h.snapshot_signals(55.0, h.INSUFFICIENT_DATA, explanation) == {h.SUPPORT_LOAD: 20.0}
	assert h.snapshot_signals(55.0, None, None) == {}


# --- the nearest snapshot on or before a day -------------------------------------------------


def test_nearest_on_or_before_takes_the_latest_not_after_the_day():
	dates = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
	assert h.nearest_on_or_before(dates, date(2026, 3, 15)) == 1
	assert h.nearest_on_or_before(dates, date(2026, 3, 31)) == 2  # the same day counts
	assert h.nearest_on_or_before(dates, date(2026, 1, 30)) is None  # nothing before


def test_nearest_on_or_before_refuses_a_stale_snapshot():
	dates = [date(2026, 1, 31)]
	assert h.nearest_on_or_before(dates, date(2026, 3, 17), max_age_days=45) == 0  # 45 days old
	assert h.nearest_on_or_before(dates, date(2026, 3, 18), max_age_days=45) is None
	assert h.nearest_on_or_before([], D) is None


@given(
	st.lists(st.dates(date(2020, 1, 1), date(2030, 1, 1)), unique=True),
	st.dates(date(2020, 1, 1), date(2030, 1, 1)),
)
def test_nearest_on_or_before_is_the_max_of_the_eligible(dates, day):
	dates = sorted(dates)
	eligible = [d for d in dates if d <= day and (day - d).days <= h.SNAPSHOT_MAX_AGE_DAYS]
	index = h.nearest_on_or_before(dates, day)
	if eligible:
		assert dates[index] == max(eligible)
	else:
		assert index is None


# --- outcome events ----------------------------------------------------------------------------


def test_a_contract_followed_by_a_later_one_is_a_renewal_at_its_end():
	contracts = {"A": [(date(2025, 7, 1), date(2026, 6, 30)), (date(2026, 7, 1), date(2027, 6, 30))]}
	events = h.outcome_events(contracts, set(), date(2026, 1, 1), date(2026, 12, 31))
	assert events == [{"customer": "A", "outcome": h.RENEWED, "date": date(2026, 6, 30)}]


def test_a_churned_customer_churns_at_its_latest_contract_end():
	contracts = {"B": [(date(2025, 7, 1), date(2026, 6, 30))]}
	events = h.outcome_events(contracts, {"B"}, date(2026, 1, 1), date(2026, 12, 31))
	assert events == [{"customer": "B", "outcome": h.CHURNED, "date": date(2026, 6, 30)}]


def test_outcomes_outside_the_period_and_open_contracts_are_not_events():
	contracts = {
		"C": [(date(2025, 7, 1), date(2026, 6, 30))],  # ends in the period, not renewed, not churned
		"D": [(date(2024, 1, 1), date(2024, 12, 31)), (date(2025, 1, 1), date(2025, 12, 31))],  # before
		"E": [(date(2025, 1, 1), date(2027, 12, 31))],  # churned later than the period
	}
	assert h.outcome_events(contracts, {"E"}, date(2026, 1, 1), date(2026, 12, 31)) == []


def test_a_customer_may_renew_then_churn():
	contracts = {"F": [(date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 6, 30))]}
	events = h.outcome_events(contracts, {"F"}, date(2025, 6, 1), date(2026, 12, 31))
	assert [(e["outcome"], e["date"]) for e in events] == [
		(h.RENEWED, date(2025, 12, 31)),
		(h.CHURNED, date(2026, 6, 30)),
	]


def test_an_overlapping_amendment_that_ends_earlier_is_not_a_renewal():
	contracts = {"G": [(date(2025, 7, 1), date(2026, 6, 30)), (date(2025, 9, 1), date(2026, 3, 31))]}
	assert h.outcome_events(contracts, set(), date(2026, 1, 1), date(2026, 12, 31)) == []


# --- separation and lift -----------------------------------------------------------------------


def test_signal_lift_by_hand():
	# renewed: 80, 70, 30 (one low); churned: 20, 35, 60 (two low); low = below 40
	lift = h.signal_lift([80, 70, 30], [20, 35, 60], low_score=40)
	assert lift["mean_renewed"] == 60.0
	assert lift["mean_churned"] == pytest.approx(38.33, abs=0.01)
	assert lift["separation"] == pytest.approx(21.67, abs=0.01)
	assert lift["churn_rate"] == 50.0  # 3 of 6
	assert lift["churn_rate_low"] == pytest.approx(66.67, abs=0.01)  # 2 of the 3 low
	assert lift["lift"] == pytest.approx(1.33, abs=0.01)  # (2/3) / (1/2)
	assert (lift["renewed"], lift["churned"], lift["low"]) == (3, 3, 3)


def test_signal_lift_without_one_side_or_without_low_scorers():
	only_renewed = h.signal_lift([80, 90], [])
	assert only_renewed["separation"] is None
	assert only_renewed["churn_rate"] == 0.0
	assert only_renewed["lift"] is None  # no churn: no rate to compare with
	no_low = h.signal_lift([80], [70])
	assert no_low["separation"] == 10.0
	assert no_low["churn_rate_low"] is None and no_low["lift"] is None
	nothing = h.signal_lift([], [])
	assert nothing["churn_rate"] is None and nothing["lift"] is None


def test_backtest_rows_per_signal_and_lookback():
	events = [
		{"outcome": h.RENEWED, "signals": {90: {h.HEALTH_SCORE_SIGNAL: 80, h.SUPPORT_LOAD: 90}, 180: {}}},
		{"outcome": h.RENEWED, "signals": {90: {h.HEALTH_SCORE_SIGNAL: 60, h.SUPPORT_LOAD: 70}, 180: {}}},
		{
			"outcome": h.CHURNED,
			"signals": {
				90: {h.HEALTH_SCORE_SIGNAL: 30, h.SUPPORT_LOAD: 75, h.PAYMENT_BEHAVIOUR: 10},
				180: {h.PAYMENT_BEHAVIOUR: 20},
			},
		},
	]
	rows = h.backtest(events)
	assert [r["signal"] for r in rows] == [h.HEALTH_SCORE_SIGNAL, h.SUPPORT_LOAD, h.PAYMENT_BEHAVIOUR]
	health = rows[0]
	assert health[90]["separation"] == 40.0  # 70 - 30
	assert health[90]["lift"] == 3.0  # the one low reading churned: 100 % ÷ 33.3 %
	assert health[180]["renewed"] == 0 and health[180]["churned"] == 0
	support = rows[1]
	assert support[90]["separation"] == 5.0  # 80 - 75: it barely separated
	payment = rows[2]
	assert payment[90]["separation"] is None  # known for the churned only
	assert payment[180]["churned"] == 1


def test_backtest_orders_factors_by_separation():
	events = [
		{"outcome": h.RENEWED, "signals": {90: {"A": 50, "B": 90}}},
		{"outcome": h.CHURNED, "signals": {90: {"A": 45, "B": 10}}},
	]
	assert [r["signal"] for r in h.backtest(events, lookbacks=(90,))] == ["B", "A"]
	assert h.backtest([]) == []


@given(
	st.lists(st.floats(0, 100), max_size=30),
	st.lists(st.floats(0, 100), max_size=30),
	st.floats(1, 100),
)
def test_signal_lift_is_bounded(renewed, churned, low):
	lift = h.signal_lift(renewed, churned, low)
	if lift["churn_rate"] is not None:
		assert 0 <= lift["churn_rate"] <= 100
	if lift["lift"] is not None:
		# the low scorers' churn rate is at most 100 %, so the lift is at most 1 / base rate
		assert 0 <= lift["lift"] <= 100 / lift["churn_rate"] + 0.01
	if lift["separation"] is not None:
		assert -100 <= lift["separation"] <= 100


def test_monthly_history_is_always_close_enough():
	# month ends only (the history after pruning): every day finds the previous month's end at most
	month_ends = [
		date(year, month, calendar.monthrange(year, month)[1])
		for year in (2025, 2026)
		for month in range(1, 13)
	]
	for offset in range(0, 690):
		target = date(2025, 1, 31) + timedelta(days=offset)
		assert h.nearest_on_or_before(month_ends, target) is not None, target


def test_recorded_outcomes_win_over_contracts_for_the_same_day():
	derived = [
		{"customer": "A", "outcome": h.RENEWED, "date": D},
		{"customer": "B", "outcome": h.RENEWED, "date": D},
	]
	recorded = [
		{"customer": "A", "outcome": h.CHURNED, "date": D},
		{"customer": "C", "outcome": h.CHURNED, "date": date(2026, 1, 1)},
	]
	merged = h.merge_outcomes(derived, recorded)
	assert [(e["customer"], e["outcome"]) for e in merged] == [
		("C", h.CHURNED),
		("A", h.CHURNED),
		("B", h.RENEWED),
	]
	assert h.merge_outcomes([], []) == []
