"""NPS maths and the survey link's rules, as plain data."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.voice import engine as e

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
	"score,expected",
	[
		(0, e.DETRACTOR),
		(3, e.DETRACTOR),
		(6, e.DETRACTOR),
		(7, e.PASSIVE),
		(8, e.PASSIVE),
		(9, e.PROMOTER),
		(10, e.PROMOTER),
		(6.0, e.DETRACTOR),
		(9.0, e.PROMOTER),
	],
)
def test_category_boundaries(score, expected):
	assert e.category(score) == expected


@pytest.mark.parametrize("score", [-1, 11, 6.5, None, "7", True, False, float("nan"), float("inf"), "x"])
def test_what_is_not_a_score_has_no_category(score):
	assert e.category(score) is None
	assert not e.is_valid_score(score)


@pytest.mark.parametrize(
	"value,expected",
	[
		("0", 0),
		("10", 10),
		(" 7 ", 7),
		(7, 7),
		(9.0, 9),
		("11", None),
		("-1", None),
		("7.5", None),
		("", None),
		("seven", None),
		(None, None),
		(True, None),
		([], None),
	],
)
def test_parse_score(value, expected):
	assert e.parse_score(value) == expected


def test_nps_is_promoters_minus_detractors_in_percent():
	assert e.nps({e.PROMOTER: 5, e.PASSIVE: 3, e.DETRACTOR: 2}) == 30.0
	assert e.nps({e.PROMOTER: 0, e.PASSIVE: 4, e.DETRACTOR: 0}) == 0.0
	assert e.nps({e.DETRACTOR: 3}) == -100.0
	assert e.nps({e.PROMOTER: 1}) == 100.0
	assert e.nps({e.PROMOTER: 1, e.PASSIVE: 1, e.DETRACTOR: 1}) == 0.0
	assert e.nps({e.PROMOTER: 2, e.DETRACTOR: 1}) == 33.33


def test_no_answers_no_nps():
	assert e.nps({}) is None
	assert e.nps_of_scores([]) is None
	assert e.nps_of_scores([None, 11, "x"]) is None


def test_nps_of_scores_counts_each_category():
	assert e.nps_of_scores([10, 9, 8, 7, 6, 0]) == 0.0
	assert e.nps_of_scores([10, 10, 10, 3]) == 50.0


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=200))
def test_nps_is_bounded_and_matches_the_definition(scores):
	value = e.nps_of_scores(scores)
	promoters = sum(1 for s in scores if s >= 9)
	detractors = sum(1 for s in scores if s <= 6)
	assert -100.0 <= value <= 100.0
	assert value == pytest.approx(100.0 * (promoters - detractors) / len(scores), abs=0.006)


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=50))
def test_adding_a_promoter_never_lowers_nps(scores):
	assert e.nps_of_scores([*scores, 10]) >= e.nps_of_scores(scores)


def test_nps_table_groups_and_scores():
	rows = [
		{"period": "2026-10", "tier": "SMB", "category": e.PROMOTER, "count": 3},
		{"period": "2026-10", "tier": "SMB", "category": e.DETRACTOR, "count": 1},
		{"period": "2026-10", "tier": "Enterprise", "category": e.PASSIVE, "count": 2},
		{"period": "2026-11", "tier": "SMB", "category": e.DETRACTOR, "count": 2},
		{"period": "2026-11", "tier": "SMB", "category": e.PROMOTER, "count": 1},
		{"period": "2026-11", "tier": "SMB", "category": e.PASSIVE, "count": 1},
	]
	table = e.nps_table(rows, ("period", "tier"))
	assert table == [
		{
			"period": "2026-10",
			"tier": "SMB",
			"promoters": 3,
			"passives": 0,
			"detractors": 1,
			"responses": 4,
			"nps": 50.0,
		},
		{
			"period": "2026-10",
			"tier": "Enterprise",
			"promoters": 0,
			"passives": 2,
			"detractors": 0,
			"responses": 2,
			"nps": 0.0,
		},
		{
			"period": "2026-11",
			"tier": "SMB",
			"promoters": 1,
			"passives": 1,
			"detractors": 2,
			"responses": 4,
			"nps": -25.0,
		},
	]
	by_month = e.nps_table(rows, ("period",))
	assert [(r["period"], r["responses"], r["nps"]) for r in by_month] == [
		("2026-10", 6, 33.33),
		("2026-11", 4, -25.0),
	]


def test_tokens_are_random_urlsafe_and_hashed():
	tokens = {e.new_token() for _ in range(50)}
	assert len(tokens) == 50
	for token in tokens:
		assert e.looks_like_token(token)
		digest = e.hash_token(token)
		assert len(digest) == 64 and digest != token
		assert e.hash_token(token) == digest


@pytest.mark.parametrize(
	"token", [None, "", "short", "a" * 65, "abc def" * 6, "<script>alert(1)</script>" * 2, 12345]
)
def test_what_we_never_made_is_not_a_token(token):
	assert not e.looks_like_token(token)


@pytest.mark.parametrize(
	"row,state",
	[
		(None, e.LINK_UNKNOWN),
		({"state": e.PENDING, "expires_on": TODAY}, e.LINK_OK),
		({"state": e.PENDING, "expires_on": TODAY + timedelta(days=3)}, e.LINK_OK),
		({"state": e.PENDING, "expires_on": TODAY - timedelta(days=1)}, e.LINK_EXPIRED),
		({"state": e.EXPIRED, "expires_on": TODAY + timedelta(days=3)}, e.LINK_EXPIRED),
		({"state": e.ANSWERED, "expires_on": TODAY + timedelta(days=3)}, e.LINK_USED),
		({"state": e.ANSWERED, "expires_on": TODAY - timedelta(days=3)}, e.LINK_USED),
	],
)
def test_link_state(row, state):
	assert e.link_state(row, TODAY) == state


def test_the_health_factor_and_the_categories_agree():
	from customer_success.health import engine as health

	for score in range(0, 11):
		sub = health.sub_score(health.NPS, score)
		kind = e.category(score)
		assert (sub == 100) == (kind == e.PROMOTER)
		assert (sub == 70) == (kind == e.PASSIVE)
		assert (sub <= 40) == (kind == e.DETRACTOR)
