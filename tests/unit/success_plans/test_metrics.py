"""A metric counts or measures: counts are whole numbers, and the unit agrees with the number.
The desk's JavaScript twin (customer_success.bundle.js) answers as the engine does."""

import json
import pathlib
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.success_plans import engine as e

ROOT = pathlib.Path(__file__).resolve().parents[3]
BUNDLE = ROOT / "customer_success/public/js/customer_success.bundle.js"

UNITS = [
	"teams", "reports", "processes", "tickets", "issues", "meetings", "queries", "boxes", "people",
	"active users", "%", "% of contract value", "minutes", "hours", "days", "score", "USD", "$",
	"status", "bus", "analysis", "用户", "", "kg", "Teams", "hours saved", "x",
]  # fmt: skip


@pytest.mark.parametrize(
	"unit, kind",
	[
		("teams", e.COUNT),
		("reports", e.COUNT),
		("processes", e.COUNT),
		("tickets", e.COUNT),
		("%", e.MEASURE),
		("% of contract value", e.MEASURE),
		("minutes", e.MEASURE),
		("Hours", e.MEASURE),
		("USD", e.MEASURE),
		("€", e.MEASURE),
		("", e.MEASURE),
		(None, e.MEASURE),
	],
)
def test_the_kind_of_a_metric_nobody_set_is_read_from_its_unit(unit, kind):
	assert e.guess_metric_kind(unit) == kind


def test_a_count_is_a_whole_number_and_a_measure_is_kept():
	assert e.metric_value(1.541, e.COUNT) == 2
	assert e.metric_value(1.4, e.COUNT) == 1
	assert e.metric_value(0.464, e.COUNT) == 0
	assert e.metric_value(2.5, e.COUNT) == 3  # half away from zero, not to even
	assert e.metric_value(-2.5, e.COUNT) == -3
	assert e.metric_value(1.541, e.MEASURE) == 1.541
	assert e.metric_value(None, e.COUNT) is None


def test_decimals_shown():
	assert e.metric_decimals(3.7, e.COUNT) == 0
	assert e.metric_decimals(70.0, e.MEASURE) == 0
	assert e.metric_decimals(1.5, e.MEASURE) == 1
	assert e.metric_decimals(1.541, e.MEASURE) == 2


@pytest.mark.parametrize(
	"unit, singular",
	[
		("teams", "team"),
		("reports", "report"),
		("processes", "process"),
		("queries", "query"),
		("boxes", "box"),
		("people", "person"),
		("active users", "active user"),
		("minutes", "minute"),
		("%", "%"),
		("% of contract value", "% of contract value"),
		("status", "status"),
		("analysis", "analysis"),
		("用户", "用户"),
	],
)
def test_singular_of_a_unit(unit, singular):
	assert e.singular_unit(unit) == singular


def test_units_agree_in_number():
	assert e.metric_text("1", 1, "teams") == "1 team"
	assert e.metric_text("0", 0, "teams") == "0 teams"
	assert e.metric_text("2", 2, "teams") == "2 teams"
	assert e.metric_text("1.5", 1.5, "hours") == "1.5 hours"
	assert e.metric_text("1", 1, "criteria", "criterion") == "1 criterion"
	assert e.metric_text("70", 70, "%") == "70%"
	assert e.metric_text("12", 12, "% of contract value") == "12% of contract value"
	assert e.metric_text("5", 5, "") == "5"


@given(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from(e.METRIC_KINDS))
def test_a_count_shows_no_fraction(value, kind):
	shown = e.metric_value(value, kind)
	if kind == e.COUNT:
		assert shown == int(shown) and abs(shown - value) <= 0.5
		assert e.metric_decimals(shown, kind) == 0


HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
global.frappe = {
	provide(ns) { let o = global; for (const p of ns.split(".")) { o[p] = o[p] || {}; o = o[p]; } },
	utils: { escape_html: (s) => String(s) },
};
global.__ = (s) => s;
global.format_number = (v, f, d) => Number(v).toFixed(d);
vm.runInThisContext(fs.readFileSync(input.bundle, "utf8"), { filename: input.bundle });
const s = customer_success.success_plans.service;
const out = input.cases.map(([unit, value]) => ({
	kind: s.guess_metric_kind(unit),
	singular: s.singular_unit(unit),
	value: s.metric_value(value, s.guess_metric_kind(unit)),
	decimals: s.metric_decimals(s.metric_value(value, s.guess_metric_kind(unit)), s.guess_metric_kind(unit)),
	text: s.format_metric(value, { unit }),
}));
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_the_desk_formats_metrics_as_the_engine_does():
	cases = [(unit, value) for unit in UNITS for value in (0, 1, 1.0, 1.541, 0.464, 2, 2.5, 70, -1)]
	result = subprocess.run(
		["node", "-e", HARNESS],
		input=json.dumps({"bundle": str(BUNDLE), "cases": cases}),
		capture_output=True,
		text=True,
		check=True,
	)
	for (unit, value), js in zip(cases, json.loads(result.stdout), strict=True):
		kind = e.guess_metric_kind(unit)
		shown = e.metric_value(value, kind)
		decimals = e.metric_decimals(shown, kind)
		assert js["kind"] == kind, unit
		assert js["singular"] == e.singular_unit(unit), unit
		assert js["value"] == shown, (unit, value)
		assert js["decimals"] == decimals, (unit, value)
		assert js["text"] == e.metric_text(f"{shown:.{decimals}f}", shown, unit), (unit, value)
