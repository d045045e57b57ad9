"""The Health Trend roll-up's period keys and bounds (health.engine), without frappe."""

import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from customer_success.health import engine

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def test_iso_weeks_at_the_year_boundary():
	assert engine.trend_period_key(date(2026, 12, 31), "Week") == "202653"
	assert engine.trend_period_key(date(2027, 1, 3), "Week") == "202653"
	assert engine.trend_period_key(date(2027, 1, 4), "Week") == "202701"
	assert engine.trend_period_key(date(2024, 12, 30), "Week") == "202501"


def test_months():
	assert engine.trend_period_key(date(2026, 2, 9), "Month") == "2026-02"
	assert engine.trend_period_bounds(date(2024, 2, 9), "Month") == (date(2024, 2, 1), date(2024, 2, 29))
	assert engine.trend_period_bounds(date(2026, 12, 31), "Month") == (date(2026, 12, 1), date(2026, 12, 31))


@given(days, st.sampled_from(engine.TREND_PERIODS))
def test_a_day_lies_in_its_period_and_the_period_shares_its_key(day, period):
	start, end = engine.trend_period_bounds(day, period)
	assert start <= day <= end
	assert engine.trend_period_key(start, period) == engine.trend_period_key(day, period)
	assert engine.trend_period_key(end, period) == engine.trend_period_key(day, period)
	assert engine.trend_period_key(start - timedelta(days=1), period) != engine.trend_period_key(day, period)
	assert engine.trend_period_key(end + timedelta(days=1), period) != engine.trend_period_key(day, period)


@given(days, st.integers(min_value=0, max_value=400), st.sampled_from(engine.TREND_PERIODS))
def test_periods_between_tile_the_range(since, length, period):
	until = since + timedelta(days=length)
	periods = engine.trend_periods_between(since, until, period)
	assert periods[0][1] <= since <= periods[0][2]
	assert periods[-1][1] <= until <= periods[-1][2]
	for (_k, _s, end), (_k2, start, _e) in itertools.pairwise(periods):
		assert start == end + timedelta(days=1)
	assert len({key for key, _s, _e in periods}) == len(periods)


def test_periods_of_days():
	assert engine.trend_periods_of({date(2026, 11, 30)}) == {("Week", "202649"), ("Month", "2026-11")}
	assert engine.trend_periods_of(set()) == set()
