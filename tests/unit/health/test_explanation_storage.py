"""The explanation's stored form: compact, and read back exactly as `HealthResult.explanation` gave it."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from customer_success.health import engine as h


def full_json(factors) -> str:
	"""How a row stored its explanation before the compact form."""
	return json.dumps(factors, default=str, separators=(",", ":"))


def spec(factor_type, weight, **params):
	return h.FactorSpec(factor_type, weight, params)


MODEL = [
	spec(h.SUPPORT_LOAD, 10),
	spec(h.SLA_BREACHES, 10),
	spec(h.PAYMENT_BEHAVIOUR, 15),
	spec(h.REVENUE_TREND, 10),
	spec(h.ENGAGEMENT_RECENCY, 15),
	spec(h.RENEWAL_PROXIMITY, 10),
	spec(h.OBJECTIVE_PROGRESS, 10),
	spec(h.MILESTONE_PUNCTUALITY, 10),
	spec(h.CSM_SENTIMENT, 10),
	spec(h.NPS, 5),
	spec(h.PRODUCT_USAGE, 5),
]

numbers = st.one_of(
	st.none(),
	st.integers(-1000, 100_000),
	st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
raw_values = st.fixed_dictionaries(
	{
		h.SUPPORT_LOAD: st.one_of(st.none(), st.floats(0, 50, allow_nan=False)),
		h.SLA_BREACHES: st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
		h.PAYMENT_BEHAVIOUR: st.one_of(
			st.none(),
			st.builds(
				h.payment_raw,
				st.floats(0, 1e6, allow_nan=False),
				st.floats(-1e3, 1e6, allow_nan=False),
				st.integers(0, 400),
			),
		),
		h.REVENUE_TREND: st.one_of(st.none(), st.floats(-1, 5, allow_nan=False)),
		h.ENGAGEMENT_RECENCY: st.one_of(st.none(), st.integers(0, 400), st.just(h.NEVER_CONTACTED)),
		h.RENEWAL_PROXIMITY: st.one_of(st.none(), st.integers(-100, 800)),
		h.OBJECTIVE_PROGRESS: st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
		h.MILESTONE_PUNCTUALITY: st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
		h.CSM_SENTIMENT: st.one_of(st.none(), st.sampled_from(sorted(h.SENTIMENT_SCORES))),
		h.NPS: st.one_of(st.none(), st.integers(0, 10)),
		h.PRODUCT_USAGE: st.one_of(
			st.none(),
			st.fixed_dictionaries(
				{
					"utilisation": st.one_of(st.none(), st.floats(0, 2, allow_nan=False)),
					"trend": st.one_of(st.none(), st.floats(-1, 1, allow_nan=False)),
					"metrics": st.just([{"metric": "Seats", "utilisation": 0.5, "change": None}]),
				}
			),
		),
	}
)


@settings(max_examples=300, deadline=None)  # a busy machine must not fail it
@given(raw_values)
def test_every_scored_explanation_reads_back_exactly_as_it_was_computed(raw):
	result = h.compute_health(raw, MODEL)
	factors = result.explanation()
	stored = h.explanation_to_json(factors)
	assert result.stored_explanation() == stored  # what the nightly run writes
	assert h.explanation_from_json(stored) == factors
	# the same text, key order and number types included: what the form and the API hand out
	assert h.full_explanation_json(stored) == full_json(factors)


def test_the_stored_form_is_a_quarter_of_the_full_one_or_less():
	raw = {
		h.SUPPORT_LOAD: 3.0,
		h.SLA_BREACHES: 0.25,
		h.PAYMENT_BEHAVIOUR: h.payment_raw(0, 77899.0, 0),
		h.REVENUE_TREND: 0.8826084051580143,
		h.ENGAGEMENT_RECENCY: 119,
		h.RENEWAL_PROXIMITY: 101,
	}
	factors = h.compute_health(raw, MODEL[:9]).explanation()
	stored = h.explanation_to_json(factors)
	assert len(stored) * 4 <= len(full_json(factors))
	assert json.loads(stored)[2] == ["PB", [0.0, 77899.0, 0.0, 0.0], 100.0, 15.0, 21.43, 21.43]
	assert json.loads(stored)[-1] == ["CS", 10.0]  # no data: its weight only


def test_every_factor_type_has_its_own_code():
	assert set(h.FACTOR_CODES) == set(h.FACTOR_TYPES)
	assert len(set(h.FACTOR_CODES.values())) == len(h.FACTOR_CODES)
	assert not set(h.FACTOR_CODES.values()) & set(h.FACTOR_TYPES)


def test_rows_stored_in_the_full_form_read_as_they_are():
	factors = h.compute_health({h.SUPPORT_LOAD: 2.0}, MODEL[:2]).explanation()
	text = full_json(factors)
	assert h.explanation_from_json(text) == factors
	assert h.full_explanation_json(text) is text
	assert h.explanation_from_json(None) == [] and h.explanation_from_json("") == []
	assert h.full_explanation_json(None) is None and h.full_explanation_json("[]") == "[]"


def test_factors_of_another_shape_are_kept_whole():
	odd = [
		{"factor_type": "Custom Factor", "raw": [1, 2], "sub_score": 50.0},  # other keys
		{  # a list raw would read as a packed dict: kept whole
			"factor_type": h.SUPPORT_LOAD,
			"raw": [1, 2],
			"sub_score": 1.0,
			"weight": 1.0,
			"effective_weight": 1.0,
			"contribution": 1.0,
		},
		{  # named like another factor's code
			"factor_type": "SL",
			"raw": 1.0,
			"sub_score": 1.0,
			"weight": 1.0,
			"effective_weight": 1.0,
			"contribution": 1.0,
		},
		{  # no data, but an integer weight of 0 where a float was expected: kept exact
			"factor_type": h.NPS,
			"raw": None,
			"sub_score": None,
			"weight": 5.0,
			"effective_weight": 0,
			"contribution": 0.0,
		},
		{  # a payment raw of other keys
			"factor_type": h.PAYMENT_BEHAVIOUR,
			"raw": {"overdue_amount": 1.0},
			"sub_score": 1.0,
			"weight": 1.0,
			"effective_weight": 1.0,
			"contribution": 1.0,
		},
	]
	stored = h.explanation_to_json(odd)
	assert h.explanation_from_json(stored) == odd
	assert h.full_explanation_json(stored) == full_json(odd)


def test_the_readers_of_an_explanation_read_the_stored_form():
	factors = h.compute_health({h.SUPPORT_LOAD: 4.0, h.SLA_BREACHES: 0.5}, MODEL[:3]).explanation()
	stored = h.explanation_from_json(h.explanation_to_json(factors))
	assert h.top_negative_factor(stored) == h.top_negative_factor(factors)
	assert (
		h.factor_sub_scores(stored)
		== h.factor_sub_scores(factors)
		== {
			h.SUPPORT_LOAD: 60.0,
			h.SLA_BREACHES: 0.0,
		}
	)
