from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.health import engine as h


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
	assert h.revenue_change(100, 0) is None  # nothing before to compare with: unknown, not growth
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


def test_no_data_at_all_gives_no_score_and_no_colour():
	result = h.compute_health({}, [spec(h.NPS, 100)])
	assert result.score is None and result.status == h.INSUFFICIENT_DATA
	assert result.known_share == 0


# --- a score says only what is known -----------------------------------------------------


def test_known_share():
	assert h.known_share(50, 100) == 50
	assert h.known_share(0, 100) == 0
	assert h.known_share(30, 60) == 50  # weights need not add up to 100
	assert h.known_share(10, 0) == 0
	assert h.known_share(-5, 100) == 0


@pytest.mark.parametrize(
	("share", "minimum", "enough"),
	[
		(50, 50, True),  # exactly the threshold is enough
		(49.99, 50, False),
		(50.01, 50, True),
		(100, 100, True),
		(99.99, 100, False),
		(0, 0, False),  # nothing known is never enough
		(0.01, 0, True),
		(10, 0, True),
		(100, 150, True),  # a setting above 100 is clamped to 100
		(30, -10, True),  # below 0 clamped to 0
		(49.9999999999, 50, True),  # float noise of re-summed weights does not flip the colour
		(40, None, False),  # unset setting: the default 50
		(60, None, True),
	],
)
def test_enough_known_edges(share, minimum, enough):
	assert h.enough_known(share, minimum) is enough


def test_status_for_known():
	assert h.status_for_known(90, 50, 70, 40, 50) == h.GREEN
	assert h.status_for_known(90, 49.99, 70, 40, 50) == h.INSUFFICIENT_DATA
	assert h.status_for_known(None, 100, 70, 40, 50) == h.INSUFFICIENT_DATA
	assert h.status_for_known(10, 80, 70, 40, 50) == h.RED


def test_too_little_known_has_no_colour_but_keeps_its_explanation():
	factors = [spec(h.SUPPORT_LOAD, 30), spec(h.PAYMENT_BEHAVIOUR, 40), spec(h.NPS, 30)]
	result = h.compute_health({h.SUPPORT_LOAD: 0}, factors, min_known_share=50)
	assert result.status == h.INSUFFICIENT_DATA
	assert result.known_share == 30
	assert result.score == 100  # what the known factor adds up to, kept to explain, not shown
	by_type = {f.factor_type: f for f in result.factors}
	assert by_type[h.SUPPORT_LOAD].effective_weight == 100


def test_exactly_the_threshold_gets_a_colour():
	factors = [spec(h.SUPPORT_LOAD, 50), spec(h.NPS, 50)]
	assert h.compute_health({h.SUPPORT_LOAD: 0}, factors, min_known_share=50).status == h.GREEN
	assert h.compute_health({h.SUPPORT_LOAD: 0}, factors, min_known_share=50.01).status == h.INSUFFICIENT_DATA
	# the default threshold is 50 %
	assert h.compute_health({h.SUPPORT_LOAD: 0}, factors).status == h.GREEN
	assert h.compute_health({h.SUPPORT_LOAD: 0}, factors, min_known_share=0).status == h.GREEN


def test_thirds_reach_a_threshold_despite_rounding():
	factors = [spec(h.SUPPORT_LOAD, 33.33), spec(h.NPS, 16.67), spec(h.SLA_BREACHES, 50)]
	result = h.compute_health({h.SUPPORT_LOAD: 0, h.NPS: 10}, factors, min_known_share=50)
	assert result.status == h.GREEN


def test_an_override_is_knowledge_and_has_a_colour():
	assert h.final_status(h.INSUFFICIENT_DATA, 80, True, 70, 40) == h.GREEN
	assert h.final_status(h.INSUFFICIENT_DATA, 30, True, 70, 40) == h.RED
	assert h.final_status(h.INSUFFICIENT_DATA, 80, False, 70, 40) == h.INSUFFICIENT_DATA
	assert h.final_status(h.YELLOW, 55, False, 70, 40) == h.YELLOW


def test_support_load_is_known_only_for_live_customers_or_ones_with_issues():
	assert h.support_load_raw(None, is_live=False, has_had_issues=False) is None
	assert h.support_load_raw(None, is_live=True, has_had_issues=False) == 0
	assert h.support_load_raw(0.0, is_live=False, has_had_issues=True) == 0  # issues, all closed
	assert h.support_load_raw(7.0, is_live=False, has_had_issues=True) == 7
	assert h.sub_score(h.SUPPORT_LOAD, h.support_load_raw(None, False, False)) is None


def test_never_contacted_is_a_fact_for_a_live_customer():
	today = date(2026, 11, 23)
	assert h.engagement_raw(None, today, is_live=True) == h.NEVER_CONTACTED
	assert h.engagement_raw(None, today, is_live=False) is None
	assert h.engagement_raw(today - timedelta(days=9), today, is_live=False) == 9
	assert h.engagement_raw(today + timedelta(days=2), today, is_live=True) == -2  # a meeting booked ahead
	assert h.sub_score(h.ENGAGEMENT_RECENCY, h.NEVER_CONTACTED) == 0
	assert h.sub_score(h.ENGAGEMENT_RECENCY, None) is None


def test_a_live_customer_never_contacted_scores_the_worst_engagement():
	factors = [spec(h.ENGAGEMENT_RECENCY, 50), spec(h.SUPPORT_LOAD, 50)]
	today = date(2026, 11, 23)
	raw = {
		h.ENGAGEMENT_RECENCY: h.engagement_raw(None, today, is_live=True),
		h.SUPPORT_LOAD: h.support_load_raw(None, is_live=True, has_had_issues=False),
	}
	result = h.compute_health(raw, factors)
	assert result.score == 50 and result.status == h.YELLOW
	assert result.explanation()[0]["raw"] == h.NEVER_CONTACTED
	# the same customer before any order: nothing is known about it
	raw = {
		h.ENGAGEMENT_RECENCY: h.engagement_raw(None, today, is_live=False),
		h.SUPPORT_LOAD: h.support_load_raw(None, is_live=False, has_had_issues=False),
	}
	assert h.compute_health(raw, factors).status == h.INSUFFICIENT_DATA


@given(
	st.lists(st.booleans(), min_size=4, max_size=4),
	st.lists(st.integers(min_value=1, max_value=100), min_size=4, max_size=4),
	st.floats(min_value=0, max_value=100, allow_nan=False),
)
def test_colour_only_with_enough_known(known, weights, minimum):
	types = [h.SUPPORT_LOAD, h.SLA_BREACHES, h.NPS, h.OBJECTIVE_PROGRESS]
	raw = {t: (5 if k else None) for t, k in zip(types, known, strict=True)}
	result = h.compute_health(raw, [spec(t, w) for t, w in zip(types, weights, strict=True)], 70, 40, minimum)
	share = 100 * sum(w for w, k in zip(weights, known, strict=True) if k) / sum(weights)
	if share == 0 or share < minimum - 1e-6:
		assert result.status == h.INSUFFICIENT_DATA
	elif share > minimum + 1e-6:
		assert result.status in (h.GREEN, h.YELLOW, h.RED)


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


# --- product usage: against entitlement, and its trend ------------------------------------------


def test_product_usage_from_the_usage_room_scores_utilisation_and_trend():
	# at target and growing: fully healthy
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": 0.8, "trend": 0.1}) == 100
	# at target but usage halved against the window before: the trend's 30 % share is lost
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": 0.8, "trend": -0.5}) == pytest.approx(70)
	# half of the target, flat: 0.7 * 50 + 0.3 * 100
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": 0.4, "trend": 0.0}) == pytest.approx(65)
	# a fall of a quarter is half-way to the worst drop
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": 0.8, "trend": -0.25}) == pytest.approx(85)


def test_product_usage_with_only_one_side_known_scores_that_side():
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": 0.4, "trend": None}) == pytest.approx(50)
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": None, "trend": -0.5}) == 0
	assert h.sub_score(h.PRODUCT_USAGE, {"utilisation": None, "trend": None}) is None
	assert h.sub_score(h.PRODUCT_USAGE, None) is None


def test_product_usage_parameters_override():
	raw = {"utilisation": 0.5, "trend": -0.5}
	assert h.sub_score(h.PRODUCT_USAGE, raw, {"target_ratio": 0.5, "trend_weight": 0}) == 100
	assert h.sub_score(h.PRODUCT_USAGE, raw, {"trend_weight": 1}) == 0


def test_no_usage_data_leaves_the_factor_out_of_the_score():
	specs = [spec(h.PRODUCT_USAGE, 50), spec(h.SUPPORT_LOAD, 50)]
	result = h.compute_health({h.SUPPORT_LOAD: 0}, specs)
	assert result.score == 100
	assert result.factors[0].sub_score is None
	with_usage = h.compute_health(
		{h.SUPPORT_LOAD: 0, h.PRODUCT_USAGE: {"utilisation": 0.0, "trend": -1}}, specs
	)
	assert with_usage.score == 50


@given(
	st.floats(0, 5, allow_nan=False),
	st.one_of(st.none(), st.floats(-1, 5, allow_nan=False)),
)
def test_product_usage_is_bounded_and_more_usage_never_scores_less(ratio, trend):
	low = h.sub_score(h.PRODUCT_USAGE, {"utilisation": ratio, "trend": trend})
	high = h.sub_score(h.PRODUCT_USAGE, {"utilisation": ratio + 0.1, "trend": trend})
	assert 0 <= low <= 100
	assert high >= low


def test_parameter_bounds():
	assert h.parameter_in_bounds("target_ratio", 0.8)
	assert h.parameter_in_bounds("target_ratio", 1.0)
	assert not h.parameter_in_bounds("target_ratio", -1)
	assert not h.parameter_in_bounds("target_ratio", 0)
	assert h.parameter_in_bounds("trend_weight", 0)
	assert not h.parameter_in_bounds("worst_drop", 0)
	assert h.parameter_in_bounds("worst_drop", -1)
	assert not h.parameter_in_bounds("worst_change", 0.1)
	assert not h.parameter_in_bounds("flat_score", 101)
	assert not h.parameter_in_bounds("worst_value", 0)
	assert h.parameter_in_bounds("lookback_days", 30)  # day counts are checked apart
	# every shipped default is within its bounds
	for params in h.DEFAULT_PARAMS.values():
		for key, value in params.items():
			assert h.parameter_in_bounds(key, value), key


def test_parameters_out_of_order():
	recency = h.ENGAGEMENT_RECENCY
	assert h.parameters_out_of_order(recency, None) == []
	assert h.parameters_out_of_order(recency, {"good_days": 100, "worst_days": 50}) == [
		("good_days", "worst_days")
	]
	# with the default worst days (90)
	assert h.parameters_out_of_order(recency, {"good_days": 90}) == [("good_days", "worst_days")]
	assert h.parameters_out_of_order(recency, {"good_days": 30}) == []
	assert h.parameters_out_of_order(h.SUPPORT_LOAD, {"worst_value": 3}) == []
