"""Health scoring: each factor's raw value becomes a 0-100 sub-score; a model weighs them.

A factor with no data for a customer (raw value ``None``) is left out and the remaining
weights are re-normalised, so "we know nothing" never reads as "the customer is failing".
When the factors with data carry less than a set share of the model's weight, the customer
gets no colour at all: its status is "Insufficient Data", never a green that only says
"nothing has gone wrong yet".
"""

import json
import math
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from json.encoder import encode_basestring_ascii as _encode_string

from customer_success.numbers import clamp, is_number, linear, round2

GREEN, YELLOW, RED = "Green", "Yellow", "Red"
INSUFFICIENT_DATA = "Insufficient Data"
STATUSES = (GREEN, YELLOW, RED, INSUFFICIENT_DATA)

# Below this share (percent) of the model's enabled weight carried by factors with data, no colour.
DEFAULT_MIN_KNOWN_SHARE = 50.0

# The raw engagement value of a live customer nobody has ever been in touch with: a fact, the worst.
NEVER_CONTACTED = "Never contacted"

SUPPORT_LOAD = "Support Load"
SLA_BREACHES = "SLA Breaches"
PAYMENT_BEHAVIOUR = "Payment Behaviour"
REVENUE_TREND = "Revenue Trend"
ENGAGEMENT_RECENCY = "Engagement Recency"
OBJECTIVE_PROGRESS = "Objective Progress"
MILESTONE_PUNCTUALITY = "Milestone Punctuality"
RENEWAL_PROXIMITY = "Renewal Proximity"
PRODUCT_USAGE = "Product Usage"
NPS = "NPS"
CSM_SENTIMENT = "CSM Sentiment"

SENTIMENT_SCORES = {
	"Very Positive": 100.0,
	"Positive": 75.0,
	"Neutral": 50.0,
	"Concerned": 25.0,
	"Critical": 0.0,
}

# Open issues count by priority: an urgent ticket weighs as much as four low ones.
PRIORITY_WEIGHTS = {"Urgent": 4.0, "High": 3.0, "Medium": 2.0, "Low": 1.0}
DEFAULT_PRIORITY_WEIGHT = 2.0

# Each factor's parameters and their defaults; a model row may override any of them.
DEFAULT_PARAMS: dict[str, dict[str, float]] = {
	SUPPORT_LOAD: {"worst_value": 10.0},  # open issues now: no window
	SLA_BREACHES: {"worst_ratio": 0.5, "lookback_days": 90},
	PAYMENT_BEHAVIOUR: {"worst_ratio": 0.5, "worst_days": 90, "lookback_days": 365},
	REVENUE_TREND: {"worst_change": -0.5, "best_change": 0.2, "flat_score": 70, "lookback_days": 90},
	ENGAGEMENT_RECENCY: {"good_days": 14, "worst_days": 90},
	OBJECTIVE_PROGRESS: {},
	MILESTONE_PUNCTUALITY: {},
	RENEWAL_PROXIMITY: {"window_days": 90, "floor_score": 30},
	PRODUCT_USAGE: {"target_ratio": 0.8, "lookback_days": 30, "trend_weight": 0.3, "worst_drop": -0.5},
	NPS: {"lookback_days": 365},
	CSM_SENTIMENT: {},  # freshness is a site setting (Customer Success Settings)
}
FACTOR_TYPES = tuple(DEFAULT_PARAMS)

# The bounds of the parameters that are not day counts: (lowest, highest, lowest allowed, highest
# allowed); None for no bound. A target ratio of -1 made any usage score 100, a worst ratio of 0 or a
# positive worst change divided the scale the wrong way round.
PARAM_BOUNDS: dict[str, tuple[float | None, float | None, bool, bool]] = {
	"worst_value": (0.0, None, False, False),
	"worst_ratio": (0.0, 1.0, False, True),
	"target_ratio": (0.0, 1.0, False, True),
	"trend_weight": (0.0, 1.0, True, True),
	"worst_drop": (-1.0, 0.0, True, False),
	"worst_change": (-1.0, 0.0, True, False),
	"best_change": (0.0, None, False, False),
	"flat_score": (0.0, 100.0, True, True),
	"floor_score": (0.0, 100.0, True, True),
}
# Parameters of one factor that must be in this order (the first below the second), as merged with
# their defaults: the good days below the worst.
PARAM_ORDER: dict[str, tuple[tuple[str, str], ...]] = {ENGAGEMENT_RECENCY: (("good_days", "worst_days"),)}


def parameter_in_bounds(key: str, value: float) -> bool:
	"""Whether a parameter's value lies within its bounds (`PARAM_BOUNDS`; one without any is)."""
	if key not in PARAM_BOUNDS:
		return True
	low, high, low_ok, high_ok = PARAM_BOUNDS[key]
	if low is not None and (value < low or (value == low and not low_ok)):
		return False
	return not (high is not None and (value > high or (value == high and not high_ok)))


def parameters_out_of_order(factor_type: str, overrides: dict | None) -> list[tuple[str, str]]:
	"""The pairs of `PARAM_ORDER` the row's parameters (with their defaults) break."""
	merged = params_for(factor_type, overrides)
	return [
		(first, second)
		for first, second in PARAM_ORDER.get(factor_type, ())
		if first in merged and second in merged and not float(merged[first]) < float(merged[second])
	]


def params_for(factor_type: str, overrides: dict | None = None) -> dict[str, float]:
	merged = dict(DEFAULT_PARAMS.get(factor_type, {}))
	for key, value in (overrides or {}).items():
		if is_number(value):
			merged[key] = float(value)
	return merged


# --- facts -> raw value, where "no data" needs a rule ------------------------------------------


def support_load_raw(weighted_open_issues, is_live: bool, has_had_issues: bool) -> float | None:
	"""Open issues say something only of a customer that is live or has ever raised an issue.

	For anyone else (a prospect, a record nobody works with) "no open issues" is not perfect
	support, it is nothing known: `None`, so the factor drops out.
	"""
	if has_had_issues:
		return float(weighted_open_issues or 0)
	return 0.0 if is_live else None


def engagement_raw(last_touch: date | None, today: date, is_live: bool):
	"""Days since the last touch; a live customer never touched is `NEVER_CONTACTED`, not missing."""
	if last_touch is not None:
		return (today - last_touch).days
	return NEVER_CONTACTED if is_live else None


# --- raw value -> sub-score, one function per factor type ----------------------------------


def score_support_load(weighted_open_issues, worst_value=10.0, **_) -> float | None:
	"""Fewer (and less urgent) open tickets is healthier; `worst_value` weighted tickets scores 0."""
	if not is_number(weighted_open_issues):
		return None
	return linear(max(float(weighted_open_issues), 0.0), best=0.0, worst=max(float(worst_value), 1e-9))


def score_sla_breaches(breach_ratio, worst_ratio=0.5, **_) -> float | None:
	"""Share of the window's tickets whose SLA failed, of those whose SLA outcome is recorded
	(Fulfilled or Failed); `None` when none has one (no SLA, or none judged yet)."""
	if not is_number(breach_ratio):
		return None
	return linear(clamp(float(breach_ratio), 0.0, 1.0), best=0.0, worst=max(float(worst_ratio), 1e-9))


def payment_raw(overdue_amount, revenue, max_days_overdue) -> dict | None:
	"""The raw payment facts in one place: `None` when the customer was never invoiced."""
	overdue = max(float(overdue_amount or 0), 0.0)
	revenue = float(revenue or 0)
	days = max(float(max_days_overdue or 0), 0.0)
	if revenue <= 0 and overdue <= 0:
		return None
	# Credit notes can push net revenue to zero or below; anything overdue then is all of it.
	ratio = 1.0 if revenue <= 0 else min(overdue / revenue, 1.0)
	return {"overdue_amount": overdue, "revenue": revenue, "overdue_ratio": ratio, "max_days_overdue": days}


@dataclass(frozen=True)
class PaymentTerm:
	"""One instalment of an invoice's payment schedule, in the receivable's currency."""

	due_date: date
	amount: float
	recorded_paid: float = 0.0  # paid (or discounted) against this very term by a payment entry


def invoice_arrears(outstanding, terms: list[PaymentTerm], today: date) -> tuple[float, date | None]:
	"""What of an unpaid invoice is overdue today, and since when, read per payment term the way
	ERPNext's Accounts Receivable ages it.

	A term keeps what a payment entry paid against it; what was paid without naming a term (the
	schedule's total less the invoice's outstanding and those recorded payments) settles the other
	terms oldest first. The instalments past their due date with something left are the overdue
	amount (never more than the invoice's outstanding), and the oldest of them dates the arrears.
	Returns (overdue amount, due date of the oldest overdue instalment or None)."""
	outstanding = max(float(outstanding or 0), 0.0)
	if outstanding <= 0 or not terms:
		return 0.0, None
	recorded = sum(max(float(t.recorded_paid or 0), 0.0) for t in terms)
	unallocated = max(sum(float(t.amount or 0) for t in terms) - outstanding - recorded, 0.0)
	overdue, oldest = 0.0, None
	# terms with a recorded payment first (they take no more), then by due date: ERPNext's order
	for term in sorted(terms, key=lambda t: (not float(t.recorded_paid or 0), t.due_date)):
		left = max(float(term.amount or 0) - max(float(term.recorded_paid or 0), 0.0), 0.0)
		if not float(term.recorded_paid or 0):
			settled = min(left, unallocated)
			unallocated -= settled
			left -= settled
		if left > 0.005 and term.due_date < today:
			overdue += left
			oldest = term.due_date if oldest is None else min(oldest, term.due_date)
	return min(overdue, outstanding), oldest


def score_payment_behaviour(raw, worst_ratio=0.5, worst_days=90, **_) -> float | None:
	"""Average of how much is overdue (vs revenue) and how late the oldest overdue invoice is."""
	if not raw:
		return None
	ratio_score = linear(raw["overdue_ratio"], best=0.0, worst=max(float(worst_ratio), 1e-9))
	days_score = linear(raw["max_days_overdue"], best=0.0, worst=max(float(worst_days), 1.0))
	return (ratio_score + days_score) / 2.0


def revenue_change(recent, previous) -> float | None:
	"""Relative change of the recent window vs the one before; `None` when there is nothing to compare:
	with no revenue in the window before, a trend is unknown, not growth. (Read as +100 %, it scored
	a yearly-billed customer, or one whose large bill half a year ago was followed by a small one,
	as strongly growing, and a customer nobody knew much about Green.)"""
	recent = float(recent or 0)
	previous = float(previous or 0)
	if previous <= 0:
		return None
	return (recent - previous) / previous


def score_revenue_trend(change, worst_change=-0.5, best_change=0.2, flat_score=70, **_) -> float | None:
	"""Flat revenue scores `flat_score`; a fall to `worst_change` scores 0; growth to `best_change` 100."""
	if not is_number(change):
		return None
	change = float(change)
	flat_score = clamp(float(flat_score))
	if change >= 0:
		if best_change <= 0:
			return 100.0
		return flat_score + (100.0 - flat_score) * clamp(change / best_change, 0.0, 1.0)
	if worst_change >= 0:
		return 0.0
	return flat_score * (1.0 - clamp(change / worst_change, 0.0, 1.0))


def score_engagement_recency(days_since_last_touch, good_days=14, worst_days=90, **_) -> float | None:
	"""Days since the last communication or event; a touch scheduled in the future counts as today.

	A live customer never contacted (`NEVER_CONTACTED`) scores 0: the worst engagement there is.
	"""
	if days_since_last_touch == NEVER_CONTACTED:
		return 0.0
	if not is_number(days_since_last_touch):
		return None
	days = max(float(days_since_last_touch), 0.0)
	if days <= good_days:
		return 100.0
	return linear(days, best=float(good_days), worst=max(float(worst_days), float(good_days) + 1))


def score_objective_progress(average_progress, **_) -> float | None:
	if not is_number(average_progress):
		return None
	return clamp(float(average_progress))


def score_milestone_punctuality(on_time_ratio, **_) -> float | None:
	if not is_number(on_time_ratio):
		return None
	return clamp(100.0 * float(on_time_ratio))


def score_renewal_proximity(days_to_renewal, window_days=90, floor_score=30, **_) -> float | None:
	"""Outside the renewal window: 100. Inside it the score falls to `floor_score`; a lapsed contract is 0."""
	if not is_number(days_to_renewal):
		return None
	days = float(days_to_renewal)
	if days < 0:
		return 0.0
	window = max(float(window_days), 1.0)
	if days >= window:
		return 100.0
	floor = clamp(float(floor_score))
	return floor + (100.0 - floor) * days / window


def score_product_usage(raw, target_ratio=0.8, trend_weight=0.3, worst_drop=-0.5, **_) -> float | None:
	"""Usage against entitlement, and its trend.

	`raw` is a share of entitlement, or the usage room's {"utilisation", "trend"}: reaching
	`target_ratio` of the entitlement is fully healthy; a trend (relative change against the window
	before) that holds or grows scores 100 and a fall to `worst_drop` scores 0, and counts for
	`trend_weight` of the sub-score. With only one of the two known, that one is the sub-score.
	"""
	ratio, moved = (raw.get("utilisation"), raw.get("trend")) if isinstance(raw, dict) else (raw, None)
	usage = (
		clamp(100.0 * max(float(ratio), 0.0) / max(float(target_ratio), 1e-9)) if is_number(ratio) else None
	)
	trend_score = None
	if is_number(moved):
		trend_score = 100.0 if float(moved) >= 0 else linear(float(moved), 0.0, min(float(worst_drop), -1e-9))
	if usage is None:
		return trend_score
	if trend_score is None:
		return usage
	weight = clamp(float(trend_weight), 0.0, 1.0)
	return (1.0 - weight) * usage + weight * trend_score


def score_nps(latest_score, **_) -> float | None:
	"""Promoters (9-10) 100, passives (7-8) 70, detractors (0-6) from 0 to 40."""
	if not is_number(latest_score):
		return None
	value = clamp(float(latest_score), 0.0, 10.0)
	if value >= 9:
		return 100.0
	if value >= 7:
		return 70.0
	return 40.0 * value / 6.0


def sentiment_raw(sentiment: str | None, recorded_on: date | None, today: date, validity_days) -> str | None:
	"""A CSM's sentiment counts only while fresh: past `validity_days` it is stale and left out."""
	if not sentiment or sentiment not in SENTIMENT_SCORES:
		return None
	if recorded_on is None:
		return None
	if (today - recorded_on).days > int(validity_days):
		return None
	return sentiment


def is_sentiment_stale(recorded_on: date | None, today: date, validity_days) -> bool:
	return recorded_on is not None and (today - recorded_on).days > int(validity_days)


def score_csm_sentiment(sentiment, **_) -> float | None:
	return SENTIMENT_SCORES.get(sentiment) if sentiment else None


SCORERS = {
	SUPPORT_LOAD: score_support_load,
	SLA_BREACHES: score_sla_breaches,
	PAYMENT_BEHAVIOUR: score_payment_behaviour,
	REVENUE_TREND: score_revenue_trend,
	ENGAGEMENT_RECENCY: score_engagement_recency,
	OBJECTIVE_PROGRESS: score_objective_progress,
	MILESTONE_PUNCTUALITY: score_milestone_punctuality,
	RENEWAL_PROXIMITY: score_renewal_proximity,
	PRODUCT_USAGE: score_product_usage,
	NPS: score_nps,
	CSM_SENTIMENT: score_csm_sentiment,
}


def sub_score(factor_type: str, raw, params: dict | None = None) -> float | None:
	scorer = SCORERS.get(factor_type)
	if scorer is None:
		raise ValueError(f"unknown factor type {factor_type!r}")
	result = scorer(raw, **params_for(factor_type, params))
	return None if result is None else clamp(result)


# --- the model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorSpec:
	factor_type: str
	weight: float
	params: dict = field(default_factory=dict)
	# the defaults with the model's overrides, merged once per model (not once per customer)
	resolved: dict = field(init=False, compare=False, repr=False)
	# its scorer (None: an unknown type, which `compute_health` refuses) and its weight as a float,
	# looked up once per model as well
	scorer: object = field(init=False, compare=False, repr=False)
	weight_value: float | None = field(init=False, compare=False, repr=False)
	# the scorer with the resolved parameters bound (`functools.partial`, in C): called once per
	# factor per customer, where unpacking the parameters each time was a good part of the scoring
	score: object = field(init=False, compare=False, repr=False)
	# sub-scores already worked out, by (type, raw value), for the raw values that are plain numbers,
	# strings or None: most customers share theirs (no data, the same day counts, no issues)
	memo: dict = field(init=False, compare=False, repr=False)

	def __post_init__(self):
		resolved = params_for(self.factor_type, self.params)
		scorer = SCORERS.get(self.factor_type)
		object.__setattr__(self, "resolved", resolved)
		object.__setattr__(self, "scorer", scorer)
		object.__setattr__(self, "score", None if scorer is None else partial(scorer, **resolved))
		object.__setattr__(self, "memo", {})
		try:
			weight = float(self.weight)
		except (TypeError, ValueError):
			weight = None  # `compute_health` raises on it, as float() always did there
		object.__setattr__(self, "weight_value", weight)

	def float_weight(self) -> float:
		return float(self.weight) if self.weight_value is None else self.weight_value


@dataclass(slots=True)
class FactorResult:
	factor_type: str
	raw: object
	sub_score: float | None
	weight: float
	effective_weight: float
	contribution: float

	def as_dict(self) -> dict:
		# by hand: dataclasses.asdict deep-copies, and this runs for every factor of every customer
		return {
			"factor_type": self.factor_type,
			"raw": dict(self.raw) if isinstance(self.raw, dict) else self.raw,
			"sub_score": self.sub_score,
			"weight": self.weight,
			"effective_weight": self.effective_weight,
			"contribution": self.contribution,
		}

	def stored(self) -> list | dict:
		"""`compact_factor(self.as_dict())`, without building the dict for the usual factors."""
		code = FACTOR_CODES.get(self.factor_type)
		raw = self.raw
		if code is None or isinstance(raw, list):
			return compact_factor(self.as_dict())
		keys = RAW_KEYS.get(self.factor_type)
		if keys and isinstance(raw, dict) and tuple(raw) == keys:
			raw = [raw[key] for key in keys]
		elif isinstance(raw, dict):
			raw = dict(raw)
		if (
			raw is None
			and self.sub_score is None
			and _is_zero_float(self.effective_weight)
			and _is_zero_float(self.contribution)
		):
			return [code, self.weight]
		return [code, raw, self.sub_score, self.weight, self.effective_weight, self.contribution]


# what json.dumps(value, default=str, separators=(",", ":")) builds for each call, built once
_COMPACT_JSON = json.JSONEncoder(default=str, separators=(",", ":"))


@dataclass
class HealthResult:
	"""`score` is what the factors with data add up to; with too little known it is kept only to
	explain, and `status` is `INSUFFICIENT_DATA`: never show it as a score then."""

	score: float | None
	status: str | None
	factors: list[FactorResult]
	known_share: float = 0.0

	def explanation(self) -> list[dict]:
		return [f.as_dict() for f in self.factors]

	def stored_explanation(self) -> str:
		"""`explanation_to_json(self.explanation())`, built straight from the factors (per customer)."""
		return _COMPACT_JSON.encode([f.stored() for f in self.factors])


def weight_problems(weights: list[float]) -> dict:
	"""What is wrong with a model's weights: non-positive ones, and the total when it is not 100."""
	non_positive = [i for i, w in enumerate(weights) if not is_number(w) or float(w) <= 0]
	total = round2(sum(float(w) for w in weights if is_number(w)))
	return {"non_positive": non_positive, "total": total, "sums_to_100": abs(total - 100.0) < 0.01}


def bands_valid(green_min, red_below) -> bool:
	"""Bands are ordered: 0 < red band < green band <= 100."""
	return is_number(green_min) and is_number(red_below) and 0 < float(red_below) < float(green_min) <= 100


def status_for(score: float | None, green_min: float, red_below: float) -> str | None:
	if score is None:
		return None
	if score >= green_min:
		return GREEN
	if score < red_below:
		return RED
	return YELLOW


def known_share(weight_with_data: float, total_weight: float) -> float:
	"""The share (percent) of the model's enabled weight carried by factors with data."""
	if not is_number(total_weight) or float(total_weight) <= 0:
		return 0.0
	return clamp(100.0 * max(float(weight_with_data or 0), 0.0) / float(total_weight))


def enough_known(share: float, min_share=DEFAULT_MIN_KNOWN_SHARE) -> bool:
	"""A colour needs data on at least `min_share` percent of the weight (exactly the share is enough).

	Nothing known is never enough, whatever the setting; a setting outside 0..100 is clamped.
	"""
	minimum = clamp(float(min_share)) if is_number(min_share) else DEFAULT_MIN_KNOWN_SHARE
	# rounded: weights of 33.33 + 16.67 must reach a 50 % threshold despite float noise
	return float(share) > 0 and round(float(share), 6) >= minimum


def status_for_known(score, share: float, green_min, red_below, min_share=DEFAULT_MIN_KNOWN_SHARE) -> str:
	"""The colour of a computed score, or `INSUFFICIENT_DATA` when too little of the model is known."""
	if score is None or not enough_known(share, min_share):
		return INSUFFICIENT_DATA
	return status_for(score, green_min, red_below)


def final_status(computed_status: str | None, score, is_override: bool, green_min, red_below) -> str | None:
	"""What users see: a CSM override is knowledge and always has a colour; else the computed status."""
	if is_override:
		return status_for(score, green_min, red_below)
	return computed_status


_UNKNOWN = object()
MEMO_LIMIT = 4096  # sub-scores a factor of a model keeps (continuous raw values would not repeat)


def compute_health(
	raw_values: dict,
	factors: list[FactorSpec],
	green_min=70.0,
	red_below=40.0,
	min_known_share=DEFAULT_MIN_KNOWN_SHARE,
) -> HealthResult:
	"""Score one customer: sub-score each enabled factor, re-normalise weights over those with data.

	With data on less than `min_known_share` percent of the enabled weight the status is
	`INSUFFICIENT_DATA`; the score the known factors add up to is still returned, to explain.
	"""
	# Once per factor per customer, so written out: `clamp` and `round2` inline, the parameters
	# bound to the scorer once per model (`FactorSpec.score`).
	scored = []
	for spec in factors:
		score = spec.score
		if score is None:
			raise ValueError(f"unknown factor type {spec.factor_type!r}")
		raw = raw_values.get(spec.factor_type)
		kind = type(raw)
		if kind is int or kind is float or kind is str or raw is None:
			# a scorer is a pure function of the raw value: one worked out is looked up
			memo, key = spec.memo, (kind, raw)
			sub = memo.get(key, _UNKNOWN)
			if sub is _UNKNOWN:
				result = score(raw)
				sub = None if result is None else max(0.0, min(100.0, result))  # clamp
				if len(memo) < MEMO_LIMIT:
					memo[key] = sub
		else:
			result = score(raw)
			sub = None if result is None else max(0.0, min(100.0, result))  # clamp
		weight = spec.weight_value
		scored.append(
			(
				spec.factor_type,
				raw,
				sub,
				float(spec.weight) if weight is None else weight,  # float_weight(): raises as it does
			)
		)
	# sum(), as ever: the same floats in every Python version
	weight_with_data = sum(weight for _type, _raw, sub, weight in scored if sub is not None)
	total_weight = sum(weight for _type, _raw, _sub, weight in scored)
	results = []
	total = 0.0
	for factor_type, raw, sub, weight in scored:
		if sub is None or weight_with_data <= 0:
			results.append(FactorResult(factor_type, raw, None, weight, 0.0, 0.0))
			continue
		effective = 100.0 * weight / weight_with_data
		contribution = sub * effective / 100.0
		total += contribution
		results.append(  # round2, inline
			FactorResult(
				factor_type,
				raw,
				round(sub + 0.0, 2),
				weight,
				round(effective + 0.0, 2),
				round(contribution + 0.0, 2),
			)
		)
	share = known_share(weight_with_data, total_weight)
	if weight_with_data <= 0:
		return HealthResult(None, INSUFFICIENT_DATA, results, round2(share))
	score = round2(clamp(total))
	status = status_for_known(score, share, green_min, red_below, min_known_share)
	return HealthResult(score, status, results, round2(share))


# --- the nightly run's path: the score, its status and its stored explanation at once -----------
# `compute_health` then `stored_explanation()` build a FactorResult and a small list per factor per
# customer and hand them to the JSON encoder; most of the time goes on rounding floats and writing
# them out. Much of it depends on the model alone (each factor's code and weight in JSON, the total
# weight), on which of its factors have data (the weight with data, each factor's effective weight,
# the known share) or on a raw value many customers share (its sub-score and their JSON):
# `score_explained` works those out once per model, once per pattern and once per raw value, and
# writes each factor's JSON from its values. What it does not write itself goes the general way: a
# factor whose raw value is not None, an int, a finite float, a string or the payment facts is
# encoded as `FactorResult.stored()` is, and a model with a weight that is no positive finite number
# (or of an unknown factor type), or a customer with no factor known, is scored by `compute_health`.
#
# JSON writes a finite float as repr() does, and an int as repr() does. A rounded value is written
# from f"{x:.2f}" without its last zero: the same as repr(round(x, 2)) for any float from 0 to
# 1e13, as both round with the same correctly rounded conversion (dtoa, mode 3) to the same decimal
# of at most 15 significant digits, which is the shortest one that reads back as the rounded float
# (no other decimal of 15 digits or fewer reads back as it), written without trailing zeros but one.

PLAN_LIMIT = 64  # models (lists of factor specs) planned at once
PATTERN_LIMIT = 4096  # patterns of factors with data planned per model
# contributions (and their JSON) remembered per model, by pattern, factor and sub-score: the
# sub-scores of shared raw values repeat, and so do their contributions
CONTRIBUTION_LIMIT = 8192
# an effective weight is at most 100 (positive weights); a larger one is scored the general way, so
# that sub-score x effective weight / 100 stays well inside the range `_two_places` is exact for
MAX_PLANNED_EFFECTIVE = 1e6


def score_explained(
	raw_values: dict,
	factors: list[FactorSpec],
	green_min=70.0,
	red_below=40.0,
	min_known_share=DEFAULT_MIN_KNOWN_SHARE,
) -> tuple[float | None, str | None, str]:
	"""(score, status, stored explanation) of `compute_health(...)`: its `score`, its `status` and
	its `stored_explanation()`, to the byte, without the FactorResults. Once per customer."""
	if type(factors) is not list and type(factors) is not tuple:
		factors = list(factors)
	plan = _plan_for(factors)
	if plan is not None:
		try:
			planned = _score_planned(plan, raw_values, green_min, red_below, min_known_share)
		except Exception:
			# scored again the general way, to fail just where and as `compute_health` (or its
			# explanation) fails: a scorer first, then the status, then the JSON
			planned = None
		if planned is not None:
			return planned
	result = compute_health(raw_values, factors, green_min, red_below, min_known_share)
	return result.score, result.status, result.stored_explanation()


def _score_planned(plan, raw_values, green_min, red_below, min_known_share) -> tuple | None:
	"""`score_explained` by the model's plan; None for a customer scored the general way."""
	steps, patterns, room = plan
	# each factor's sub-score, as `compute_health` works it out, and the start of its JSON: its code,
	# raw value and rounded sub-score (or the whole of it, for a factor without data)
	scored = []
	known = 0
	for factor_type, score, memo, bit, prefix, weight in steps:
		raw = raw_values.get(factor_type)
		kind = type(raw)
		if raw is None or kind is int or kind is float or kind is str:
			# keyed by type and value (None, the usual one, by itself); but a raw value that equals
			# another is not always written like it: 0.0 and -0.0
			if raw is None:
				key = None
			elif kind is float and raw == 0.0:
				key = (kind, repr(raw))
			else:
				key = (kind, raw)
			remembered = memo.get(key)
			if remembered is None:
				sub = _clamped_sub_score(score, raw)
				remembered = (sub, _factor_head(factor_type, prefix, weight, raw, sub))
				if len(memo) < MEMO_LIMIT:
					memo[key] = remembered
		else:
			sub = _clamped_sub_score(score, raw)
			remembered = (sub, _factor_head(factor_type, prefix, weight, raw, sub))
		scored.append(remembered)
		if remembered[0] is not None:
			known |= bit
	pattern = patterns.get(known, _UNKNOWN)
	if pattern is _UNKNOWN:
		pattern = _plan_pattern(plan, known)
	if pattern is None:
		return None
	rows, share, enough = pattern
	parts = []
	total = 0.0
	for (sub, head), (factor_type, weight, effective, rounded_effective, middle, contributions) in zip(
		scored, rows, strict=True
	):
		if sub is None:
			parts.append(head)  # the whole factor: it adds nothing
			continue
		if head is not None:
			remembered = contributions.get(sub)  # a sub-score is a float in 0..100, never -0.0
			if remembered is not None:
				contribution, tail = remembered
				total += contribution
				parts.append(head + tail)
				continue
		contribution = sub * effective / 100.0
		total += contribution
		if head is None:
			parts.append(
				_COMPACT_JSON.encode(
					FactorResult(
						factor_type,
						raw_values.get(factor_type),
						round(sub + 0.0, 2),
						weight,
						rounded_effective,
						round(contribution + 0.0, 2),
					).stored()
				)
			)
		else:
			# [code, raw, sub_score, weight, effective_weight, contribution]
			text = f"{contribution:.2f}"  # `_two_places`, inline
			tail = f"{middle}{text[:-1] if text[-1] == '0' else text}]"
			if room[0] > 0:
				room[0] -= 1
				contributions[sub] = (contribution, tail)
			parts.append(head + tail)
	score = round(max(0.0, min(100.0, total)) + 0.0, 2)  # round2(clamp(total))
	# `status_for_known`, with `enough_known` remembered per pattern for a plain-number threshold
	plain = type(min_known_share) is float or type(min_known_share) is int
	is_enough = enough.get(min_known_share) if plain else None
	if is_enough is None:
		is_enough = enough_known(share, min_known_share)
		if plain:
			enough[min_known_share] = is_enough
	status = status_for(score, green_min, red_below) if is_enough else INSUFFICIENT_DATA
	return score, status, "[" + ",".join(parts) + "]"


def _clamped_sub_score(score, raw):
	result = score(raw)
	return None if result is None else max(0.0, min(100.0, result))  # clamp, as compute_health does


def _two_places(value: float) -> str:
	"""repr(round(value, 2)) for a float from 0 to 1e13 (see above)."""
	text = f"{value:.2f}"
	return text[:-1] if text[-1] == "0" else text


def _factor_head(factor_type: str, prefix: str, weight: float, raw, sub) -> str | None:
	"""The JSON of a factor without data (whole: `FactorResult.stored()` of it), or the start of a
	factor with data's, up to its sub-score: `[code,raw,sub_score`; None to encode that one the
	general way, customer by customer."""
	if sub is None:
		if raw is None:
			return f"{prefix}{weight!r}]"  # [code, weight]
		return _COMPACT_JSON.encode(FactorResult(factor_type, raw, None, weight, 0.0, 0.0).stored())
	if type(sub) is not float:
		return None
	kind = type(raw)
	if (kind is float and math.isfinite(raw)) or kind is int:
		text = repr(raw)
	elif kind is str:
		text = _encode_string(raw)
	else:
		text = _raw_json(factor_type, raw)
		if text is None:
			return None
	return f"{prefix}{text},{_two_places(sub)}"


def _raw_json(factor_type: str, raw) -> str | None:
	"""The stored JSON of the payment facts (the array of their finite floats); None for any other
	raw value, which is encoded the general way."""
	keys = RAW_KEYS.get(factor_type)
	if not keys or type(raw) is not dict or tuple(raw) != keys:
		return None
	values = tuple(raw.values())  # in the order of `keys`
	for value in values:
		if type(value) is not float or not math.isfinite(value):
			return None
	return "[" + ",".join(map(repr, values)) + "]"


# {ids of a model's specs: (weak references to them, the model's plan or None)}. A plan lives as
# long as its specs (as their own memos would): the run loads its models afresh for every chunk, and
# the plans of a chunk's models must not outlive it. The first of its specs to go removes it, before
# any other object can take that spec's id.
_PLANS: dict[tuple, tuple] = {}


def _plan_for(factors) -> tuple | None:
	key = tuple(map(id, factors))
	held = _PLANS.get(key)
	if held is not None:
		return held[1]
	plan = _plan_model(factors)
	try:
		forget = partial(_forget_plan, key)
		refs = tuple(weakref.ref(spec, forget) for spec in factors)
	except TypeError:  # a spec that cannot be referenced weakly: planned again next time
		return plan
	if len(_PLANS) >= PLAN_LIMIT:  # a backstop: a process scores with a handful of models at once
		_PLANS.clear()
	_PLANS[key] = (refs, plan)
	return plan


def _forget_plan(key, _ref):
	_PLANS.pop(key, None)


def _plan_model(factors) -> tuple | None:
	"""([(factor type, scorer, memo, bit, JSON prefix, weight)], {pattern: its plan}, [contributions
	it may still remember]), or None for a model scored the general way: a factor of no known type
	(`compute_health` raises on it) or a weight that is no positive finite number (a weight with data
	of 0 or less, an infinite sum, NaN in the JSON)."""
	steps = []
	for i, spec in enumerate(factors):
		if not isinstance(spec, FactorSpec) or spec.score is None or spec.factor_type not in FACTOR_CODES:
			return None
		weight = spec.weight_value
		if type(weight) is not float or not math.isfinite(weight) or weight <= 0:
			return None
		code = _encode_string(FACTOR_CODES[spec.factor_type])
		# the memo is the plan's own: it holds each raw value's sub-score and the start of its JSON
		steps.append((spec.factor_type, spec.score, {}, 1 << i, f"[{code},", weight))
	return steps, {}, [CONTRIBUTION_LIMIT]


def _plan_pattern(plan, known: int) -> tuple | None:
	"""For the factors with data marked in `known`: each factor's (type, weight, effective weight,
	its round2, the JSON between its sub-score and its contribution, and the contributions worked out,
	by sub-score), the known share and the remembered `enough_known` answers. None (scored the general
	way) for nothing known, or a weight with data that leaves an effective weight out of the planned
	range."""
	steps, patterns, _room = plan
	# sum(), as `compute_health` adds them: the same floats in the same order
	weight_with_data = sum(weight for _type, _score, _memo, bit, _prefix, weight in steps if known & bit)
	pattern = None
	if weight_with_data > 0:
		rows = []
		for factor_type, _score, _memo, bit, _prefix, weight in steps:
			effective = 100.0 * weight / weight_with_data if known & bit else 0.0
			if not (0.0 <= effective <= MAX_PLANNED_EFFECTIVE):
				rows = None
				break
			rounded = round(effective + 0.0, 2)
			rows.append((factor_type, weight, effective, rounded, f",{weight!r},{rounded!r},", {}))
		if rows is not None:
			total_weight = sum(weight for _type, _score, _memo, _bit, _prefix, weight in steps)
			pattern = (rows, known_share(weight_with_data, total_weight), {})
	if len(patterns) < PATTERN_LIMIT:
		patterns[known] = pattern
	return pattern


def trend(current: float | None, previous: float | None) -> float | None:
	"""Change in points against an earlier score (30 days ago by default); `None` without both."""
	if current is None or previous is None:
		return None
	return round2(float(current) - float(previous))


def effective_score(computed: float | None, override_score, override_until: date | None, today: date):
	"""The score users see: a CSM override wins until its expiry date (inclusive), then lapses."""
	if is_number(override_score) and override_until is not None and today <= override_until:
		return clamp(float(override_score)), True
	return computed, False


def priority_weight(priority: str | None) -> float:
	return PRIORITY_WEIGHTS.get(priority or "", DEFAULT_PRIORITY_WEIGHT)


# --- the stored explanation ----------------------------------------------------------------
# A score row stores its explanation compactly: one array per factor, [code, raw, sub_score,
# weight, effective_weight, contribution], the factor type by a short code and the payment facts
# as an array in their fixed order; a factor without data is [code, weight]. The keys repeated in
# every factor were three quarters of the bytes the nightly run wrote. `expand_explanation` gives
# back exactly the list `HealthResult.explanation` returns (keys, order, values and their types),
# so every reader shows what it showed before; it reads the full form too (rows stored before).

FACTOR_CODES = {
	SUPPORT_LOAD: "SL",
	SLA_BREACHES: "SB",
	PAYMENT_BEHAVIOUR: "PB",
	REVENUE_TREND: "RT",
	ENGAGEMENT_RECENCY: "ER",
	OBJECTIVE_PROGRESS: "OP",
	MILESTONE_PUNCTUALITY: "MP",
	RENEWAL_PROXIMITY: "RP",
	PRODUCT_USAGE: "PU",
	NPS: "NP",
	CSM_SENTIMENT: "CS",
}
FACTORS_BY_CODE = {code: factor for factor, code in FACTOR_CODES.items()}
# Raw values that are dicts of fixed keys are stored as the array of their values, in this order.
RAW_KEYS = {PAYMENT_BEHAVIOUR: ("overdue_amount", "revenue", "overdue_ratio", "max_days_overdue")}
EXPLANATION_KEYS = ("factor_type", "raw", "sub_score", "weight", "effective_weight", "contribution")


def _is_zero_float(value) -> bool:
	return type(value) is float and value == 0.0


def compact_factor(factor: dict) -> list | dict:
	"""One factor of an explanation in its stored form; a factor of any other shape is kept whole."""
	if not isinstance(factor, dict) or tuple(factor) != EXPLANATION_KEYS:
		return factor
	factor_type, raw = factor["factor_type"], factor["raw"]
	code = FACTOR_CODES.get(factor_type, factor_type)
	if code in FACTORS_BY_CODE and code != FACTOR_CODES.get(factor_type):
		return factor  # a factor named like another's code: kept whole, never misread
	keys = RAW_KEYS.get(factor_type)
	if keys and isinstance(raw, dict) and tuple(raw) == keys:
		raw = [raw[key] for key in keys]
	elif isinstance(raw, list):
		return factor  # a list is how a dict raw is stored: kept whole, never misread
	if (
		raw is None
		and factor["sub_score"] is None
		and _is_zero_float(factor["effective_weight"])
		and _is_zero_float(factor["contribution"])
	):
		return [code, factor["weight"]]
	return [
		code,
		raw,
		factor["sub_score"],
		factor["weight"],
		factor["effective_weight"],
		factor["contribution"],
	]


def compact_explanation(factors: list[dict]) -> list:
	"""The stored form of an explanation (a list of the factor dicts `HealthResult.explanation` returns)."""
	return [compact_factor(factor) for factor in factors]


def expand_factor(stored) -> dict:
	if not isinstance(stored, list):
		return stored  # the full form
	code, *rest = stored
	factor_type = FACTORS_BY_CODE.get(code, code)
	if len(rest) == 1:
		return dict(zip(EXPLANATION_KEYS, (factor_type, None, None, rest[0], 0.0, 0.0), strict=True))
	raw = rest[0]
	keys = RAW_KEYS.get(factor_type)
	if keys and isinstance(raw, list) and len(raw) == len(keys):
		raw = dict(zip(keys, raw, strict=True))
	return dict(zip(EXPLANATION_KEYS, (factor_type, raw, *rest[1:]), strict=True))


def expand_explanation(stored) -> list[dict]:
	"""The explanation as `HealthResult.explanation` returned it, from its stored form (or the full one)."""
	return [expand_factor(factor) for factor in stored or ()]


def explanation_to_json(factors: list[dict]) -> str:
	"""What a score row stores in its `explanation` column."""
	return json.dumps(compact_explanation(factors), default=str, separators=(",", ":"))


def explanation_from_json(text: str | None) -> list[dict]:
	"""A stored explanation (either form) as the list of factor dicts."""
	return expand_explanation(json.loads(text)) if text else []


def full_explanation_json(text: str | None) -> str | None:
	"""A stored explanation as the JSON text of the full form, exactly as rows stored it before
	the compact form: what the form, the API and the exports hand out."""
	if not text:
		return text
	stored = json.loads(text)
	if all(isinstance(factor, dict) for factor in stored):
		return text  # stored in the full form already
	return json.dumps(expand_explanation(stored), default=str, separators=(",", ":"))


# --- reports: the weakest factor of a score, and the backtest ---------------------------------

HEALTH_SCORE_SIGNAL = "Health Score"
CHURNED, RENEWED = "Churned", "Renewed"
BACKTEST_LOOKBACKS = (90, 180)
# The backtest reads a customer's latest snapshot on or before the look-back date, if it is at most
# this old: monthly history (the month's last day) is always within it.
SNAPSHOT_MAX_AGE_DAYS = 45
# Below this a signal counts as "low" for the lift (the default model's red band).
DEFAULT_LOW_SCORE = 40.0


def factor_sub_scores(explanation) -> dict[str, float]:
	"""{factor: sub-score} of the factors that had data, from a stored explanation (a list of the
	factor dicts `HealthResult.explanation` returns)."""
	scores = {}
	for row in explanation or ():
		if isinstance(row, dict) and row.get("factor_type") and is_number(row.get("sub_score")):
			scores[row["factor_type"]] = float(row["sub_score"])
	return scores


def points_lost(row: dict) -> float:
	"""What a factor cost the score: its shortfall from 100, in points of the final score."""
	if not is_number(row.get("sub_score")) or not is_number(row.get("effective_weight")):
		return 0.0
	return round2((100.0 - float(row["sub_score"])) * float(row["effective_weight"]) / 100.0)


def top_negative_factor(explanation) -> dict | None:
	"""The factor that cost the score the most points, or None when no factor with data lost any.

	Ties go to the factor listed first (the model's order)."""
	best = None
	for row in explanation or ():
		if not isinstance(row, dict) or not row.get("factor_type"):
			continue
		lost = points_lost(row)
		if lost > 0 and (best is None or lost > best["points_lost"]):
			best = {"factor_type": row["factor_type"], "sub_score": row.get("sub_score"), "points_lost": lost}
	return best


def nearest_on_or_before(
	dates: list[date], day: date, max_age_days: int = SNAPSHOT_MAX_AGE_DAYS
) -> int | None:
	"""Index of the latest date on or before `day` in the sorted list `dates`, if it is at most
	`max_age_days` old; None otherwise (no snapshot then, rather than a stale one)."""
	from bisect import bisect_right

	i = bisect_right(dates, day) - 1
	if i < 0 or (day - dates[i]).days > max_age_days:
		return None
	return i


def outcome_events(contracts: dict[str, list[tuple[date, date]]], churned: set[str], start: date, end: date):
	"""The renewals and churns of the period [start, end], from submitted contracts (start, end).

	Renewed: a contract ending in the period for which the customer signed a later one (one that
	starts after it started and ends after it ends); dated at the old contract's end.
	Churned: a customer whose lifecycle stage is Churned, dated at the end of its latest contract,
	when that end falls in the period.
	Returns [{"customer", "outcome", "date"}], ordered by date and customer.
	"""
	events = []
	for customer, terms in contracts.items():
		terms = [(s, e) for s, e in terms if s and e]
		for s, e in terms:
			if start <= e <= end and any(s2 > s and e2 > e for s2, e2 in terms):
				events.append({"customer": customer, "outcome": RENEWED, "date": e})
		if customer in churned and terms:
			latest = max(e for _, e in terms)
			if start <= latest <= end:
				events.append({"customer": customer, "outcome": CHURNED, "date": latest})
	return sorted(events, key=lambda ev: (ev["date"], ev["customer"], ev["outcome"]))


def _mean(values: list[float]) -> float | None:
	return round2(sum(values) / len(values)) if values else None


def signal_lift(renewed: list[float], churned: list[float], low_score: float = DEFAULT_LOW_SCORE) -> dict:
	"""How one signal (a score or a factor's sub-score, read N days before the outcome) separated
	churn from renewal.

	Separation = mean of the renewed - mean of the churned (points; > 0: churners scored lower).
	Lift = churn rate among the low scorers (below `low_score`) ÷ churn rate among all
	(> 1: a low value came before churn more often than churn came at all).
	Either is None when it cannot be computed (no one on a side, no low scorer, no churn).
	"""
	all_values = len(renewed) + len(churned)
	low_churned = sum(1 for v in churned if v < low_score)
	low_all = low_churned + sum(1 for v in renewed if v < low_score)
	base_rate = len(churned) / all_values if all_values else None
	low_rate = low_churned / low_all if low_all else None
	mean_renewed, mean_churned = _mean(renewed), _mean(churned)
	return {
		"renewed": len(renewed),
		"churned": len(churned),
		"mean_renewed": mean_renewed,
		"mean_churned": mean_churned,
		"separation": (
			round2(mean_renewed - mean_churned)
			if mean_renewed is not None and mean_churned is not None
			else None
		),
		"low": low_all,
		"churn_rate_low": None if low_rate is None else round2(100 * low_rate),
		"churn_rate": None if base_rate is None else round2(100 * base_rate),
		"lift": round2(low_rate / base_rate) if low_rate is not None and base_rate else None,
	}


def backtest(
	events: list[dict], lookbacks=BACKTEST_LOOKBACKS, low_score: float = DEFAULT_LOW_SCORE
) -> list[dict]:
	"""Each signal's separation and lift at each look-back, over the outcome events.

	`events`: [{"outcome": Renewed | Churned, "signals": {lookback: {signal: value}}}], where a
	signal is "Health Score" or a factor type, and a missing one was not known then.
	Returns one row per signal: {"signal", lookback: signal_lift(...)}, the Health Score first,
	then the factors that separated most (at the first look-back) first.
	"""
	signals = {sig for ev in events for lb in lookbacks for sig in (ev.get("signals", {}).get(lb) or {})}
	rows = []
	for signal in signals:
		row = {"signal": signal}
		for lb in lookbacks:
			values = {RENEWED: [], CHURNED: []}
			for ev in events:
				value = (ev.get("signals", {}).get(lb) or {}).get(signal)
				if ev.get("outcome") in values and is_number(value):
					values[ev["outcome"]].append(float(value))
			row[lb] = signal_lift(values[RENEWED], values[CHURNED], low_score)
		rows.append(row)

	def order(row):
		separation = row[lookbacks[0]]["separation"] if lookbacks else None
		return (row["signal"] != HEALTH_SCORE_SIGNAL, separation is None, -(separation or 0), row["signal"])

	return sorted(rows, key=order)


def snapshot_signals(score, status: str | None, explanation) -> dict[str, float]:
	"""What a stored score said: its factors' sub-scores, and the score itself when it had a colour
	(an Insufficient Data score is not a reading)."""
	signals = factor_sub_scores(explanation)
	if status and status != INSUFFICIENT_DATA and is_number(score):
		signals[HEALTH_SCORE_SIGNAL] = float(score)
	return signals


def merge_outcomes(derived: list[dict], recorded: list[dict]) -> list[dict]:
	"""The outcomes recorded on renewals win over those read off contracts for the same customer
	and date (a renewal records the CSM's account of it: a churn with no new contract yet, or a
	renewal signed as an order); the rest of each list is kept. Ordered by date and customer."""
	seen = {(ev["customer"], ev["date"]) for ev in recorded}
	events = list(recorded) + [ev for ev in derived if (ev["customer"], ev["date"]) not in seen]
	return sorted(events, key=lambda ev: (ev["date"], ev["customer"], ev["outcome"]))


# --- Health Trend periods (the report's buckets, and its roll-up's keys) ----------------------------

TREND_PERIODS = ("Week", "Month")


def trend_period_key(day: date, period: str) -> str:
	"""The report's bucket of a day: ISO year and week as MariaDB's yearweek(day, 3) gives it
	("202648"), or the month ("2026-11")."""
	if period == "Week":
		year, week, _weekday = day.isocalendar()
		return f"{year}{week:02d}"
	return f"{day.year:04d}-{day.month:02d}"


def trend_period_bounds(day: date, period: str) -> tuple[date, date]:
	"""The first and last day of the period holding `day`."""
	if period == "Week":
		start = day - timedelta(days=day.weekday())
		return start, start + timedelta(days=6)
	start = day.replace(day=1)
	following = (start + timedelta(days=32)).replace(day=1)
	return start, following - timedelta(days=1)


def trend_periods_between(since: date, until: date, period: str) -> list[tuple[str, date, date]]:
	"""[(key, first day, last day)] of every period overlapping [since, until], in order."""
	periods = []
	day = since
	while day <= until:
		start, end = trend_period_bounds(day, period)
		periods.append((trend_period_key(day, period), start, end))
		day = end + timedelta(days=1)
	return periods


def trend_periods_of(days) -> set[tuple[str, str]]:
	"""{(period type, key)} of every week and month holding one of `days`."""
	return {(period, trend_period_key(day, period)) for day in days for period in TREND_PERIODS}


def balanced_chunk_sizes(customers: int, workers: int, most: int) -> list[int] | None:
	"""How many customers each chunk of a run holds when `workers` processes share it: None when
	chunks of `most` already give each worker the same work (one worker, a book of one chunk, or
	equal chunks whose count the workers divide). Else as many chunks as a multiple of `workers`
	(fewer only on a book of fewer customers than that), none larger than `most`, their sizes
	differing by at most one, so that the workers finish together: with 25 chunks of 4,000 on 2
	workers, one ran the last chunk alone while the other waited (0.4-0.9 s of a 100,000-customer
	night on 2 cores); 26 of 3,846 or 3,847 keep both busy to the end."""
	most = max(int(most), 1)
	customers, workers = int(customers), int(workers)
	if workers <= 1 or customers <= most:
		return None
	plain = -(-customers // most)
	if customers % most == 0 and plain % workers == 0:
		return None
	chunks = min(-(-plain // workers) * workers, customers)
	small, larger = divmod(customers, chunks)
	return [small + 1] * larger + [small] * (chunks - larger)
