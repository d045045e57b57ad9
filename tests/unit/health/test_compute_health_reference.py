"""`compute_health` looks each factor's scorer and weight up once per model (`FactorSpec`): it gives
exactly what scoring each factor from scratch gave, to the last bit of every float."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_success.health import engine as h
from customer_success.numbers import clamp, round2

from .test_explanation_storage import MODEL, raw_values


def reference_compute_health(raw_values, factors, green_min=70.0, red_below=40.0, min_known_share=50.0):
	"""`compute_health` as it was written before the per-model look-ups."""
	scored = []
	for spec in factors:
		raw = raw_values.get(spec.factor_type)
		scorer = h.SCORERS.get(spec.factor_type)
		if scorer is None:
			raise ValueError(f"unknown factor type {spec.factor_type!r}")
		result = scorer(raw, **h.params_for(spec.factor_type, spec.params))
		scored.append((spec, raw, None if result is None else clamp(result)))
	weight_with_data = sum(float(spec.weight) for spec, _, sub in scored if sub is not None)
	results, total = [], 0.0
	for spec, raw, sub in scored:
		if sub is None or weight_with_data <= 0:
			results.append(h.FactorResult(spec.factor_type, raw, None, float(spec.weight), 0.0, 0.0))
			continue
		effective = 100.0 * float(spec.weight) / weight_with_data
		contribution = sub * effective / 100.0
		total += contribution
		results.append(
			h.FactorResult(
				spec.factor_type,
				raw,
				round2(sub),
				float(spec.weight),
				round2(effective),
				round2(contribution),
			)
		)
	share = h.known_share(weight_with_data, sum(float(spec.weight) for spec in factors))
	if weight_with_data <= 0:
		return h.HealthResult(None, h.INSUFFICIENT_DATA, results, round2(share))
	score = round2(clamp(total))
	return h.HealthResult(
		score, h.status_for_known(score, share, green_min, red_below, min_known_share), results, round2(share)
	)


weights = st.lists(
	st.one_of(st.integers(1, 60), st.floats(0.01, 60, allow_nan=False), st.sampled_from(["12.5", "33.33"])),
	min_size=len(MODEL),
	max_size=len(MODEL),
)


@settings(max_examples=400, deadline=None)
@given(raw_values, weights, st.floats(0, 100, allow_nan=False))
def test_every_score_and_explanation_is_what_it_was(raw, model_weights, min_share):
	model = [
		h.FactorSpec(
			spec.factor_type, weight, {"worst_days": 60} if spec.factor_type == h.ENGAGEMENT_RECENCY else {}
		)
		for spec, weight in zip(MODEL, model_weights, strict=True)
	]
	now = h.compute_health(raw, model, 75, 45, min_share)
	then = reference_compute_health(raw, model, 75, 45, min_share)
	assert (now.score, now.status, now.known_share) == (then.score, then.status, then.known_share)
	assert now.explanation() == then.explanation()
	assert now.stored_explanation() == then.stored_explanation()


def test_an_unknown_factor_or_a_weight_that_is_no_number_still_fails_the_score():
	with pytest.raises(ValueError, match="unknown factor type"):
		h.compute_health({}, [h.FactorSpec("Telepathy", 10)])
	with pytest.raises(ValueError):
		h.compute_health({h.SUPPORT_LOAD: 1.0}, [h.FactorSpec(h.SUPPORT_LOAD, "heavy")])


# One model scoring every customer, as a chunk does: its factors' sub-scores are remembered by raw
# value (`FactorSpec.memo`) across all the examples below.
SHARED_MODEL = [
	h.FactorSpec(
		spec.factor_type, weight, {"worst_days": 45} if spec.factor_type == h.ENGAGEMENT_RECENCY else {}
	)
	for spec, weight in zip(MODEL, [10, 12.5, 20, 7, 15, 5, 10, 10, 5.5, 5][: len(MODEL)], strict=False)
]


@settings(max_examples=300, deadline=None)
@given(st.lists(raw_values, min_size=1, max_size=12))
def test_remembered_sub_scores_are_the_ones_worked_out(customers):
	for raw in customers + customers:  # each customer twice: the second time from what was remembered
		now = h.compute_health(raw, SHARED_MODEL)
		then = reference_compute_health(raw, SHARED_MODEL)
		assert (now.score, now.status, now.known_share) == (then.score, then.status, then.known_share)
		assert now.stored_explanation() == then.stored_explanation()


def test_what_is_remembered_is_bounded_and_keyed_by_type():
	spec = h.FactorSpec(h.SUPPORT_LOAD, 10)
	for n in range(h.MEMO_LIMIT + 500):
		h.compute_health({h.SUPPORT_LOAD: n / 7}, [spec])
	assert len(spec.memo) == h.MEMO_LIMIT
	one = h.FactorSpec(h.ENGAGEMENT_RECENCY, 10)
	h.compute_health({h.ENGAGEMENT_RECENCY: 20}, [one])
	h.compute_health({h.ENGAGEMENT_RECENCY: 20.0}, [one])
	assert set(one.memo) == {(int, 20), (float, 20.0)}
	assert h.compute_health({h.ENGAGEMENT_RECENCY: float("nan")}, [one]).score is None
