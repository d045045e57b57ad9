from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.engine import health as h


def spec(factor_type, weight, **params):
	return h.FactorSpec(factor_type, weight, params)


# --- factor mappings ---------------------------------------------------------------------


def test_support_load_zero_tickets_is_perfect_and_worst_is_zero():
	assert h.sub_score(h.SUPPORT_LOAD, 0) == 100
	assert h.sub_score(h.SUPPORT_LOAD, 10) == 0
	assert h.sub_score(h.SUPPORT_LOAD, 5) == 50
	assert h.sub_score(h.SUPPORT_LOAD, 10_000) == 0  # huge outlier clamps
	assert h.sub_score(h.SUPPORT_LOAD, -3) == 100  # nonsense negative counts as none
	assert h.sub_score(h.SUPPORT_LOAD, None) is None


def test_support_load_respects_param_override():
	assert h.sub_score(h.SUPPORT_LOAD, 5, {"worst_value": 20}) == 75


def test_priority_weights():
	assert h.priority_weight("Urgent") == 4
	assert h.priority_weight("Low") == 1
	assert h.priority_weight(None) == h.DEFAULT_PRIORITY_WEIGHT
	assert h.priority_weight("Custom") == h.DEFAULT_PRIORITY_WEIGHT


def test_sla_breaches():
	assert h.sub_score(h.SLA_BREACHES, None) is None
	assert h.sub_score(h.SLA_BREACHES, 0) == 100
	assert h.sub_score(h.SLA_BREACHES, 0.25) == 50
	assert h.sub_score(h.SLA_BREACHES, 0.5) == 0
	assert h.sub_score(h.SLA_BREACHES, 3) == 0


def test_payment_raw_no_invoices_is_no_data():
	assert h.payment_raw(0, 0, 0) is None
	assert h.sub_score(h.PAYMENT_BEHAVIOUR, h.payment_raw(0, 0, 0)) is None


def test_payment_all_paid_is_perfect():
	raw = h.payment_raw(0, 1000, 0)
	assert raw["overdue_ratio"] == 0
	assert h.sub_score(h.PAYMENT_BEHAVIOUR, raw) == 100


def test_payment_zero_or_negative_revenue_with_overdue_is_worst_ratio():
	raw = h.payment_raw(500, 0, 10)
	assert raw["overdue_ratio"] == 1.0
	raw_credit = h.payment_raw(500, -200, 10)  # credit notes exceed invoices
	assert raw_credit["overdue_ratio"] == 1.0


def test_payment_mixes_ratio_and_days():
	raw = h.payment_raw(250, 1000, 45)  # 25% overdue (half of worst), 45 days (half of worst)
	assert h.sub_score(h.PAYMENT_BEHAVIOUR, raw) == pytest.approx(50)


def test_payment_negative_inputs_are_floored():
	raw = h.payment_raw(-10, 1000, -5)
	assert raw["overdue_amount"] == 0 and raw["max_days_overdue"] == 0


def test_revenue_change_edges():
	assert h.revenue_change(0, 0) is None
	assert h.revenue_change(100, 0) == 1.0
	assert h.revenue_change(-50, 0) is None
	assert h.revenue_change(50, 100) == -0.5
	assert h.revenue_change(120, 100) == pytest.approx(0.2)


def test_revenue_trend_mapping():
	assert h.sub_score(h.REVENUE_TREND, None) is None
	assert h.sub_score(h.REVENUE_TREND, 0) == 70
	assert h.sub_score(h.REVENUE_TREND, 0.2) == 100
	assert h.sub_score(h.REVENUE_TREND, 5.0) == 100
	assert h.sub_score(h.REVENUE_TREND, -0.5) == 0
	assert h.sub_score(h.REVENUE_TREND, -0.25) == pytest.approx(35)
	assert h.sub_score(h.REVENUE_TREND, -1.0) == 0


def test_engagement_recency():
	assert h.sub_score(h.ENGAGEMENT_RECENCY, None) is None
	assert h.sub_score(h.ENGAGEMENT_RECENCY, 0) == 100
	assert h.sub_score(h.ENGAGEMENT_RECENCY, 14) == 100
	assert h.sub_score(h.ENGAGEMENT_RECENCY, 90) == 0
	assert h.sub_score(h.ENGAGEMENT_RECENCY, 52) == pytest.approx(50)
	assert h.sub_score(h.ENGAGEMENT_RECENCY, -7) == 100  # a meeting booked in the future


def test_objective_and_milestone_factors():
	assert h.sub_score(h.OBJECTIVE_PROGRESS, 42.5) == 42.5
	assert h.sub_score(h.OBJECTIVE_PROGRESS, 250) == 100
	assert h.sub_score(h.MILESTONE_PUNCTUALITY, 0.75) == 75
	assert h.sub_score(h.MILESTONE_PUNCTUALITY, None) is None


def test_renewal_proximity():
	assert h.sub_score(h.RENEWAL_PROXIMITY, None) is None
	assert h.sub_score(h.RENEWAL_PROXIMITY, 365) == 100
	assert h.sub_score(h.RENEWAL_PROXIMITY, 90) == 100
	assert h.sub_score(h.RENEWAL_PROXIMITY, 0) == 30
	assert h.sub_score(h.RENEWAL_PROXIMITY, 45) == pytest.approx(65)
	assert h.sub_score(h.RENEWAL_PROXIMITY, -1) == 0


def test_product_usage_and_nps():
	assert h.sub_score(h.PRODUCT_USAGE, 0.4) == pytest.approx(50)
	assert h.sub_score(h.PRODUCT_USAGE, 3.0) == 100
	assert h.sub_score(h.NPS, 10) == 100
	assert h.sub_score(h.NPS, 9) == 100
	assert h.sub_score(h.NPS, 8) == 70
	assert h.sub_score(h.NPS, 6) == 40
	assert h.sub_score(h.NPS, 0) == 0
	assert h.sub_score(h.NPS, None) is None


def test_sentiment_goes_stale():
	today = date(2026, 11, 23)
	assert h.sentiment_raw("Positive", today - timedelta(days=30), today, 30) == "Positive"
	assert h.sentiment_raw("Positive", today - timedelta(days=31), today, 30) is None
	assert h.is_sentiment_stale(today - timedelta(days=31), today, 30)
	assert not h.is_sentiment_stale(today, today, 30)
	assert h.sentiment_raw("Unknown", today, today, 30) is None
	assert h.sentiment_raw("Positive", None, today, 30) is None
	assert h.sub_score(h.CSM_SENTIMENT, "Critical") == 0
	assert h.sub_score(h.CSM_SENTIMENT, "Very Positive") == 100


def test_unknown_factor_type_is_an_error():
	with pytest.raises(ValueError):
		h.sub_score("Horoscope", 1)


# --- the model ---------------------------------------------------------------------------


def test_weights_and_bands_validation():
	assert h.weight_problems([50, 50])["sums_to_100"]
	problems = h.weight_problems([50, 30])
	assert not problems["sums_to_100"] and problems["total"] == 80
	assert h.weight_problems([120, -20])["non_positive"] == [1]
	assert h.bands_valid(70, 40)
	assert not h.bands_valid(40, 70)
	assert not h.bands_valid(70, 70)
	assert not h.bands_valid(101, 40)
	assert not h.bands_valid(70, 0)


def test_band_edges():
	assert h.status_for(70, 70, 40) == h.GREEN
	assert h.status_for(69.99, 70, 40) == h.YELLOW
	assert h.status_for(40, 70, 40) == h.YELLOW
	assert h.status_for(39.99, 70, 40) == h.RED
	assert h.status_for(None, 70, 40) is None


def test_missing_factors_are_left_out_and_weights_renormalised():
	factors = [spec(h.SUPPORT_LOAD, 50), spec(h.SLA_BREACHES, 30), spec(h.NPS, 20)]
	result = h.compute_health({h.SUPPORT_LOAD: 5, h.SLA_BREACHES: None, h.NPS: None}, factors)
	# only support load has data: it carries the whole score
	assert result.score == 50
	by_type = {f.factor_type: f for f in result.factors}
	assert by_type[h.SUPPORT_LOAD].effective_weight == 100
	assert by_type[h.SLA_BREACHES].sub_score is None and by_type[h.SLA_BREACHES].contribution == 0


def test_contributions_add_up_to_score():
	factors = [spec(h.SUPPORT_LOAD, 40), spec(h.SLA_BREACHES, 40), spec(h.NPS, 20)]
	result = h.compute_health({h.SUPPORT_LOAD: 0, h.SLA_BREACHES: 0.5, h.NPS: 8}, factors)
	assert result.score == pytest.approx(40 * 1 + 40 * 0 + 20 * 0.7)
	assert sum(f.contribution for f in result.factors) == pytest.approx(result.score)
	assert result.status == h.YELLOW  # 54 sits between the bands
	explanation = result.explanation()
	assert explanation[0]["factor_type"] == h.SUPPORT_LOAD and explanation[0]["weight"] == 40


def test_no_data_at_all_gives_no_score():
	result = h.compute_health({}, [spec(h.NPS, 100)])
	assert result.score is None and result.status is None


def test_trend_and_override():
	today = date(2026, 11, 23)
	assert h.trend(60, 75) == -15
	assert h.trend(60, None) is None
	assert h.effective_score(55, 80, today, today) == (80, True)
	assert h.effective_score(55, 80, today - timedelta(days=1), today) == (55, False)
	assert h.effective_score(55, None, today, today) == (55, False)
	assert h.effective_score(55, 180, today, today) == (100, True)


@given(
	st.dictionaries(
		st.sampled_from([h.SUPPORT_LOAD, h.SLA_BREACHES, h.ENGAGEMENT_RECENCY, h.NPS, h.OBJECTIVE_PROGRESS]),
		st.one_of(st.none(), st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)),
	),
	st.lists(st.integers(min_value=1, max_value=100), min_size=5, max_size=5),
)
def test_score_is_always_within_0_and_100(raw, weights):
	types = [h.SUPPORT_LOAD, h.SLA_BREACHES, h.ENGAGEMENT_RECENCY, h.NPS, h.OBJECTIVE_PROGRESS]
	result = h.compute_health(raw, [spec(t, w) for t, w in zip(types, weights, strict=True)])
	if result.score is not None:
		assert 0 <= result.score <= 100
		assert sum(f.contribution for f in result.factors) == pytest.approx(result.score, abs=0.1)


@given(
	st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
	st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)
def test_revenue_trend_is_monotonic(a, b):
	low, high = sorted([a, b])
	assert h.sub_score(h.REVENUE_TREND, low) <= h.sub_score(h.REVENUE_TREND, high)
