"""Usage's pure decisions: the batch, each row, a window's figure, utilisation and change."""

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_success.usage import engine as u

TODAY = date(2026, 12, 1)
CUSTOMERS = {"Acme", "Globex"}
METRICS = {"Active Users", "API Calls"}


def row(**overrides):
	base = {"customer": "Acme", "metric": "Active Users", "date": "2026-11-30", "value": 12, "source": "feed"}
	base.update(overrides)
	return base


# --- the batch ---------------------------------------------------------------------------------------


def test_a_json_list_and_an_object_with_rows_are_both_batches():
	rows = [row(), row(customer="Globex")]
	assert u.parse_batch(json.dumps(rows)) == rows
	assert u.parse_batch(json.dumps({"rows": rows})) == rows
	assert u.parse_batch({"rows": rows}) == rows
	assert u.parse_batch(rows) == rows
	assert u.parse_batch(json.dumps(rows).encode()) == rows
	# rows sent as JSON text inside a JSON object (a form field) are parsed too
	assert u.parse_batch({"rows": json.dumps(rows)}) == rows


@pytest.mark.parametrize("payload", ["{not json", "[1, 2", "", "NaN", "[NaN]", b"\xff\xfe"])
def test_malformed_json_is_refused_whole(payload):
	with pytest.raises(u.BatchError) as caught:
		u.parse_batch(payload)
	assert caught.value.code == u.MALFORMED


@pytest.mark.parametrize("payload", ['{"a": 1}', "42", '"rows"', "null", {"rows": 5}])
def test_anything_but_a_list_is_refused(payload):
	with pytest.raises(u.BatchError) as caught:
		u.parse_batch(payload)
	assert caught.value.code == u.NOT_A_LIST


def test_an_empty_batch_is_refused():
	with pytest.raises(u.BatchError) as caught:
		u.parse_batch("[]")
	assert caught.value.code == u.EMPTY


def test_a_batch_over_the_limit_is_refused_with_its_size_and_the_limit():
	with pytest.raises(u.BatchError) as caught:
		u.parse_batch([row()] * 11, limit=10)
	assert caught.value.code == u.TOO_MANY
	assert caught.value.details == {"rows": 11, "limit": 10}
	assert len(u.parse_batch([row()] * 10, limit=10)) == 10
	# the scheduled pull passes no limit
	assert len(u.parse_batch([row()] * (u.DEFAULT_BATCH_LIMIT + 1), limit=None)) == u.DEFAULT_BATCH_LIMIT + 1


def test_a_limit_that_is_not_a_positive_number_falls_back_to_the_default():
	assert len(u.parse_batch([row()] * u.DEFAULT_BATCH_LIMIT, limit=0)) == u.DEFAULT_BATCH_LIMIT
	with pytest.raises(u.BatchError):
		u.parse_batch([row()] * (u.DEFAULT_BATCH_LIMIT + 1), limit="x")


def test_names_to_look_up_are_distinct_and_trimmed():
	rows = [row(customer=" Acme "), row(customer="Acme"), row(customer=None), "junk", row(customer=7)]
	assert u.names_in(rows, "customer") == {"Acme", "7"}


# --- one row -----------------------------------------------------------------------------------------


def check(r, default_source=""):
	return u.check_row(r, CUSTOMERS, METRICS, TODAY, default_source)


def test_a_good_row_is_cleaned():
	clean, problem = check(row(value="12.5", customer=" Acme "))
	assert problem is None
	assert clean == {
		"customer": "Acme",
		"metric": "Active Users",
		"usage_date": date(2026, 11, 30),
		"value": 12.5,
		"source": "feed",
	}


@pytest.mark.parametrize(
	"bad,code",
	[
		("not a row", u.NOT_AN_OBJECT),
		(row(customer=None), u.MISSING),
		(row(value=None), u.MISSING),
		({"customer": "Acme"}, u.MISSING),
		(row(customer="Initech"), u.UNKNOWN_CUSTOMER),
		(row(customer=["Acme"]), u.UNKNOWN_CUSTOMER),
		(row(metric="Logins"), u.UNKNOWN_METRIC),
		(row(date="30/11/2026"), u.BAD_DATE),
		(row(date="2026-02-30"), u.BAD_DATE),
		(row(date=20261130), u.BAD_DATE),
		(row(date="2026-12-05"), u.FUTURE_DATE),
		(row(date="2010-01-01"), u.TOO_OLD),
		(row(value="twelve"), u.NOT_NUMERIC),
		(row(value=True), u.NOT_NUMERIC),
		(row(value="inf"), u.NOT_NUMERIC),
		(row(value=[1]), u.NOT_NUMERIC),
		(row(value=-1), u.NEGATIVE),
		(row(value=1e13), u.TOO_LARGE),
		(row(value="1000000000000"), u.TOO_LARGE),
		(row(source=5), u.BAD_SOURCE),
		(row(source="x" * 141), u.BAD_SOURCE),
	],
)
def test_a_bad_row_is_rejected_with_its_reason(bad, code):
	clean, problem = check(bad)
	assert clean is None
	assert problem[0] == code


def test_the_largest_value_the_column_holds_is_accepted():
	assert check(row(value=u.MAX_VALUE))[0]["value"] == 999_999_999_999


def test_tomorrow_is_accepted_for_a_sender_in_a_later_time_zone():
	assert check(row(date="2026-12-02"))[1] is None


def test_zero_is_usage_and_a_missing_source_takes_the_default():
	clean, problem = check(
		{"customer": "Acme", "metric": "API Calls", "date": "2026-11-01", "value": 0}, "API"
	)
	assert problem is None
	assert clean["value"] == 0.0
	assert clean["source"] == "API"


def test_a_batch_keeps_good_rows_rejects_bad_ones_and_the_last_resend_of_a_day_wins():
	rows = [
		row(value=1),
		row(customer="Nobody"),
		row(value=2),
		row(metric="API Calls", value="x"),
		row(date="2026-11-29"),
	]
	checked = u.check_rows(rows, CUSTOMERS, METRICS, TODAY)
	assert [(i, code) for i, code, _ in checked.rejected] == [(1, u.UNKNOWN_CUSTOMER), (3, u.NOT_NUMERIC)]
	assert len(checked.accepted) == 2
	by_day = {r["usage_date"]: r["value"] for r in checked.accepted}
	assert by_day == {date(2026, 11, 30): 2.0, date(2026, 11, 29): 12.0}


@given(
	st.lists(
		st.fixed_dictionaries(
			{
				"customer": st.sampled_from(["Acme", "Globex", "Nope"]),
				"metric": st.sampled_from(["Active Users", "X"]),
				"date": st.dates(TODAY - timedelta(days=30), TODAY).map(str),
				"value": st.one_of(st.floats(allow_nan=True), st.text(max_size=3), st.integers(-5, 50)),
			}
		),
		max_size=15,
	)
)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_is_either_stored_or_rejected_and_never_both(rows):
	checked = u.check_rows(rows, CUSTOMERS, METRICS, TODAY)
	rejected = {i for i, _code, _d in checked.rejected}
	keys = {(r["customer"], r["metric"], r["date"]) for i, r in enumerate(rows) if i not in rejected}
	assert len(checked.accepted) == len(keys)
	assert all(r["value"] >= 0 and r["customer"] in CUSTOMERS for r in checked.accepted)


# --- a window --------------------------------------------------------------------------------------


FACTS = {"sum": 300.0, "avg": 10.0, "max": 25.0, "last": 7.0, "days": 30}


@pytest.mark.parametrize(
	"aggregation,window,expected",
	[(u.SUM, 30, 300.0), (u.SUM, 60, 150.0), (u.AVERAGE, 30, 10.0), (u.MAXIMUM, 30, 25.0), (u.LAST, 30, 7.0)],
)
def test_a_window_becomes_one_figure_by_its_aggregation(aggregation, window, expected):
	assert u.window_usage(FACTS, aggregation, window) == pytest.approx(expected)


def test_an_empty_window_has_no_figure():
	assert u.window_usage(None, u.SUM, 30) is None
	assert u.window_usage({"sum": None, "days": 0}, u.SUM, 30) is None


def test_utilisation_needs_a_positive_entitlement():
	assert u.utilisation(8, 10) == pytest.approx(0.8)
	assert u.utilisation(12, 10) == pytest.approx(1.2)
	assert u.utilisation(5, 0) is None
	assert u.utilisation(5, None) is None


def test_change_against_the_window_before():
	assert u.change(80, 100) == pytest.approx(-0.2)
	assert u.change(10, 0) == 1.0
	assert u.change(0, 0) is None
	assert u.change(5, None) is None


def test_metric_usage_and_customer_usage():
	metric = {"name": "Active Users", "aggregation": u.AVERAGE}
	facts = {"recent": {"avg": 9.0, "days": 30}, "previous": {"avg": 10.0, "days": 30}}
	one = u.metric_usage(metric, facts, 10, 30)
	assert one == {
		"metric": "Active Users",
		"used": 9.0,
		"entitlement": 10.0,
		"utilisation": 0.9,
		"change": -0.1,
	}
	calls = u.metric_usage(
		{"name": "API Calls", "aggregation": u.SUM}, {"recent": {"sum": 500, "days": 3}}, None, 30
	)
	assert calls["utilisation"] is None and calls["change"] is None
	raw = u.customer_usage([one, calls])
	assert raw["utilisation"] == pytest.approx(0.9)
	assert raw["trend"] == pytest.approx(-0.1)
	assert [m["metric"] for m in raw["metrics"]] == ["API Calls", "Active Users"]


def test_no_recent_data_means_no_factor_not_zero_usage():
	metric = {"name": "Active Users", "aggregation": u.AVERAGE}
	assert u.metric_usage(metric, {"previous": {"avg": 10.0, "days": 30}}, 10, 30) is None
	assert u.customer_usage([]) is None
	assert u.customer_usage([None]) is None
	# data but neither an entitlement nor a window before: nothing to score
	only = u.metric_usage({"name": "X", "aggregation": u.SUM}, {"recent": {"sum": 5, "days": 1}}, None, 30)
	assert u.customer_usage([only]) is None


def test_near_entitlement_lists_the_metrics_at_or_over_the_threshold():
	metrics = [
		{"metric": "A", "utilisation": 0.95},
		{"metric": "B", "utilisation": 0.5},
		{"metric": "C", "utilisation": 1.3},
		{"metric": "D", "utilisation": None},
	]
	assert [m["metric"] for m in u.near_entitlement(metrics, 90)] == ["C", "A"]
	assert u.near_entitlement(metrics, 200) == []


def test_days_and_values_are_read_only_in_the_forms_the_api_names():
	assert u.parse_day("2026-12-03") == date(2026, 12, 3)
	assert u.parse_day(" 2026-12-03 ") == date(2026, 12, 3)
	# Python's date.fromisoformat also reads these: the API says YYYY-MM-DD
	for text in ("20261203", "2026-W49-1", "2026-337", "2026-12-3", "2026-02-30", "", None, 20261203):
		assert u.parse_day(text) is None, text
	assert u.parse_value(" 1.5 ") == 1.5
	assert u.parse_value("-2") == -2.0
	assert u.parse_value("1e3") == 1000.0
	assert u.parse_value(7) == 7.0
	# float() also reads these
	for text in ("1_000", "nan", "NaN", "infinity", "-inf", "0x10", "", " ", True, None, float("nan")):
		assert u.parse_value(text) is None, text


def test_a_rejected_row_is_echoed_as_strict_json():
	row = {"customer": "A", "value": float("nan"), "more": [float("inf"), {"x": float("-inf")}], "n": 2}
	echoed = u.as_sent(row)
	assert echoed == {"customer": "A", "value": "NaN", "more": ["Infinity", {"x": "-Infinity"}], "n": 2}
	json.dumps(echoed, allow_nan=False)  # strict JSON


def test_digits_of_other_scripts_and_huge_numbers_are_no_values():
	from customer_success.numbers import is_number

	for text in (
		"\uff11\uff12",
		"\u0661\u0662\u0663",
		"\u0663",
	):  # fullwidth and Arabic-Indic digits: float() reads them
		assert u.parse_value(text) is None, text
	assert u.parse_day("\uff12\uff10\uff12\uff16-\uff11\uff12-\uff10\uff13") is None
	huge = 10**400  # a JSON number of 400 digits: float() overflows
	assert u.parse_value(huge) is None
	assert not is_number(huge)
	assert not is_number(-huge)
	assert is_number(10**300)
