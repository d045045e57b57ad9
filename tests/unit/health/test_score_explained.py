"""`score_explained` (the nightly run's path) gives exactly what `compute_health` and its
`stored_explanation()` give, to the byte, and raises where they raise: for any raw values, any
model, any threshold, and however many customers a model's plan has scored before."""

import gc
import json
import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from customer_success.health import engine as h

from .test_compute_health_reference import reference_compute_health
from .test_explanation_storage import raw_values


def outcome(fn, *args):
	"""What a call gives, or the exception it raises (by type and message)."""
	try:
		return fn(*args)
	except Exception as e:
		return ("raised", type(e), str(e))


def general(raw, model, green=70.0, red=40.0, min_share=h.DEFAULT_MIN_KNOWN_SHARE):
	result = h.compute_health(raw, model, green, red, min_share)
	return result.score, result.status, result.stored_explanation()


def reference(raw, model, green=70.0, red=40.0, min_share=h.DEFAULT_MIN_KNOWN_SHARE):
	result = reference_compute_health(raw, model, green, red, min_share)
	return result.score, result.status, result.stored_explanation()


def assert_same(raw, model, green=70.0, red=40.0, min_share=h.DEFAULT_MIN_KNOWN_SHARE):
	fast = outcome(h.score_explained, raw, model, green, red, min_share)
	assert fast == outcome(general, raw, model, green, red, min_share)
	if fast[0] != "raised":  # the reference raises at other points (a weight that is no number)
		assert fast == outcome(reference, raw, model, green, red, min_share)
	return fast


class Unprintable:
	def __str__(self):
		raise RuntimeError("no JSON for this one")


# Raw values of every kind a factor could be handed: the usual ones, and the ones the fast path
# leaves to the general way (NaN, infinities, -0.0, bools, dates, decimals, lists, odd dicts), or
# that fail a scorer or the JSON (too long an int, an object that cannot be written).
odd_values = st.one_of(
	st.none(),
	st.sampled_from([10**5000, Unprintable()]),
	st.floats(allow_nan=True, allow_infinity=True),
	st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.005, 0.015, 0.125, 2.675, 1e-300, 1e300]),
	st.integers(-(10**20), 10**20),
	st.booleans(),
	st.sampled_from([h.NEVER_CONTACTED, "Positive", "Critical", "", "é\n\"'", "12"]),
	st.just(date(2026, 1, 31)),
	st.just(Decimal("1.5")),
	st.lists(st.integers(0, 3), max_size=4),
	st.builds(h.payment_raw, st.floats(0, 1e6), st.floats(-1e3, 1e6), st.integers(0, 400)),
	st.fixed_dictionaries(  # the payment facts with odd values (infinite days are scored: 0)
		{
			"overdue_amount": st.one_of(st.floats(0, 10), st.integers(0, 10)),
			"revenue": st.floats(allow_nan=True, allow_infinity=True),
			"overdue_ratio": st.one_of(st.floats(0, 1), st.just(-0.0)),
			"max_days_overdue": st.one_of(st.floats(allow_infinity=True, allow_nan=False), st.just(-0.0)),
		}
	),
	st.fixed_dictionaries(  # the payment facts in another order
		{
			"revenue": st.floats(allow_nan=True),
			"overdue_amount": st.floats(0, 10),
			"overdue_ratio": st.one_of(st.floats(0, 1), st.integers(0, 1)),
			"max_days_overdue": st.floats(allow_infinity=True, allow_nan=False),
		}
	),
	st.fixed_dictionaries(
		{
			"utilisation": st.one_of(st.none(), st.floats(0, 2)),
			"trend": st.one_of(st.none(), st.floats(-1, 1)),
		}
	),
)
odd_raw_values = st.dictionaries(st.sampled_from(h.FACTOR_TYPES), odd_values)
any_weight = st.one_of(
	st.integers(1, 60),
	st.floats(0.01, 60),
	st.sampled_from(["12.5", "33.33", 0, 0.0, -5, float("nan"), float("inf"), 1e308, 1e-300, "heavy", None]),
)
factor_types = st.one_of(st.sampled_from(h.FACTOR_TYPES), st.just("Telepathy"))


@st.composite
def models(draw, weights=any_weight, types=factor_types):
	specs = draw(
		st.lists(
			st.tuples(types, weights, st.sampled_from([{}, {"worst_days": 45}, {"worst_value": 3}])),
			max_size=12,
		)
	)
	return [h.FactorSpec(factor_type, weight, params) for factor_type, weight, params in specs]


thresholds = st.one_of(st.floats(0, 100), st.integers(0, 100), st.sampled_from([50, 50.0, -1, 150, "50"]))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(raw_values, odd_raw_values), models(), thresholds)
def test_any_customer_of_any_model_scores_and_explains_as_compute_health_does(raw, model, min_share):
	assert_same(raw, model, 75.0, 45.0, min_share)


# One model scoring many customers, as a chunk does: its plan remembers patterns and raw values.
usual_model = st.lists(st.sampled_from(h.FACTOR_TYPES), min_size=1, max_size=11, unique=True).flatmap(
	lambda types: st.lists(
		st.one_of(st.integers(1, 60), st.floats(0.01, 60)), min_size=len(types), max_size=len(types)
	).map(lambda weights: [h.FactorSpec(t, w) for t, w in zip(types, weights, strict=True)])
)


@settings(max_examples=300, deadline=None)
@given(
	usual_model,
	st.lists(st.tuples(st.one_of(raw_values, odd_raw_values), thresholds), min_size=1, max_size=15),
)
def test_a_model_scoring_customer_after_customer_gives_what_compute_health_gives(model, customers):
	for raw, min_share in customers + customers:  # each twice: the second time from what was remembered
		assert_same(raw, model, 70.0, 40.0, min_share)


def test_the_usual_customer_goes_the_fast_way_and_odd_ones_the_general_way():
	model = [h.FactorSpec(t, 10.0) for t in h.FACTOR_TYPES]
	usual = {
		h.SUPPORT_LOAD: 3.0,
		h.SLA_BREACHES: 0.25,
		h.PAYMENT_BEHAVIOUR: h.payment_raw(120.0, 77899.0, 12),
		h.REVENUE_TREND: 0.8826084051580143,
		h.ENGAGEMENT_RECENCY: 119,
		h.RENEWAL_PROXIMITY: 101,
		h.CSM_SENTIMENT: "Positive",
	}
	assert h._plan_for(model) is not None
	score, status, stored = assert_same(usual, model)
	assert json.loads(stored)[0] == ["SL", 3.0, 70.0, 10.0, 14.29, 10.0]
	assert (score, status) == (69.74, h.YELLOW)
	# a zero and a negative zero are one key of a dict, but are written apart
	first = assert_same({h.REVENUE_TREND: 0.0}, model)[2]
	second = assert_same({h.REVENUE_TREND: -0.0}, model)[2]
	assert '["RT",0.0,' in first and '["RT",-0.0,' in second
	# payment facts the fast way only when they are the usual four finite floats in their order
	payment = {"overdue_amount": 5.0, "revenue": 10.0, "overdue_ratio": 0.5, "max_days_overdue": math.inf}
	assert "Infinity" in assert_same({h.PAYMENT_BEHAVIOUR: payment}, model)[2]
	assert (
		"[5.0,10.0,0.5,3]" in assert_same({h.PAYMENT_BEHAVIOUR: {**payment, "max_days_overdue": 3}}, model)[2]
	)
	assert "0.5,true]" in assert_same({h.PAYMENT_BEHAVIOUR: {**payment, "max_days_overdue": True}}, model)[2]
	reordered = dict(reversed(h.payment_raw(5.0, 10.0, 3).items()))
	assert '"max_days_overdue":3.0' in assert_same({h.PAYMENT_BEHAVIOUR: reordered}, model)[2]
	# nothing known, and models the plan leaves to compute_health (it raises on two of them)
	assert assert_same({}, model)[1] == h.INSUFFICIENT_DATA
	for weights in ([10.0, 0.0], [10.0, -1.0], [10.0, float("nan")], [10.0, "heavy"]):
		odd = [h.FactorSpec(h.SUPPORT_LOAD, weights[0]), h.FactorSpec(h.NPS, weights[1])]
		assert h._plan_for(odd) is None
		assert_same({h.SUPPORT_LOAD: 1.0, h.NPS: 9}, odd)
	with pytest.raises(ValueError, match="unknown factor type"):
		h.score_explained({}, [h.FactorSpec("Telepathy", 10)])


def test_a_model_is_planned_by_its_very_specs():
	model = [h.FactorSpec(h.SUPPORT_LOAD, 10.0), h.FactorSpec(h.NPS, 10.0)]
	before = assert_same({h.SUPPORT_LOAD: 1.0, h.NPS: 9}, model)
	model[1] = h.FactorSpec(h.NPS, 30.0)  # the same list, another spec: another plan
	after = assert_same({h.SUPPORT_LOAD: 1.0, h.NPS: 9}, model)
	assert before != after
	assert h.score_explained({h.SUPPORT_LOAD: 1.0, h.NPS: 9}, iter(model)) == after  # any iterable


def test_a_plan_lives_as_long_as_its_specs():
	model = [h.FactorSpec(h.SUPPORT_LOAD, 10.0), h.FactorSpec(h.NPS, 10.0)]
	h.score_explained({h.NPS: 9}, model)
	key = tuple(map(id, model))
	assert h._PLANS[key][1] is not None
	del model[1]  # one spec gone, another may take its id: its plan goes with it
	gc.collect()
	assert key not in h._PLANS
	for n in range(50):  # models made and dropped one after another (their specs' ids come again)
		assert_same(
			{h.SUPPORT_LOAD: 1.0, h.NPS: 9},
			[h.FactorSpec(h.SUPPORT_LOAD, 10.0), h.FactorSpec(h.NPS, n + 1.0)],
		)
	odd = [h.FactorSpec(h.NPS, 0.0)]  # a model scored the general way is remembered as such
	h.score_explained({h.NPS: 9}, odd)
	assert h._PLANS[tuple(map(id, odd))][1] is None
	odd_key = tuple(map(id, odd))
	del odd
	gc.collect()
	assert odd_key not in h._PLANS


def test_plans_and_what_they_remember_are_bounded():
	models = [[h.FactorSpec(h.NPS, 1.0 + n)] for n in range(h.PLAN_LIMIT + 5)]
	for n, model in enumerate(models):
		assert_same({h.NPS: n % 11}, model)
	assert len(h._PLANS) <= h.PLAN_LIMIT
	for n, model in enumerate(models):  # planned again, after the backstop cleared them
		assert_same({h.NPS: n % 11}, model)
	model = [h.FactorSpec(h.SUPPORT_LOAD, 10.0)]
	for n in range(h.MEMO_LIMIT + 50):
		assert_same({h.SUPPORT_LOAD: n / 7}, model)
	steps, patterns, room = h._plan_for(model)
	assert len(steps[0][2]) == h.MEMO_LIMIT
	remembered = sum(len(row[-1]) for rows, _share, _enough in patterns.values() for row in rows)
	assert remembered + room[0] == h.CONTRIBUTION_LIMIT and room[0] >= 0
	h._plan_for(model)[2][0] = 0  # no room left: contributions are still right, only not remembered
	for n in range(100):
		assert_same({h.SUPPORT_LOAD: n / 3}, model)


# `_two_places` stands for repr(round(x, 2)) from 0 to 1e13: ties of every kind, the floats either
# side of each hundredth, and floats anywhere in the range.
def near_hundredths():
	for k in [*range(0, 20001), 10**11, 10**13 - 1]:
		for base in (k / 100, k / 100 + 0.005, k / 1000):
			for value in (math.nextafter(base, -1.0), base, math.nextafter(base, math.inf)):
				if 0.0 <= value < 1e13:
					yield value


def test_two_places_is_repr_of_round_near_every_hundredth_and_tie():
	for value in near_hundredths():
		assert h._two_places(value) == repr(round(value + 0.0, 2)), value


@settings(max_examples=3000, deadline=None)
@given(
	st.one_of(
		st.floats(0, 100), st.floats(0, 1e13, exclude_max=True), st.integers(0, 10**6).map(lambda n: n / 8)
	)
)
def test_two_places_is_repr_of_round_for_any_float_in_range(value):
	assume(value < 1e13)
	assert h._two_places(value) == repr(round(value + 0.0, 2))
