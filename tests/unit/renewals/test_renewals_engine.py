"""Retention maths, renewal dates and worth, the health weights and the CSM-versus-signal checks."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_success.renewals import engine as e

# --- retention ------------------------------------------------------------------------------------


def test_retention_splits_expansion_contraction_and_churn():
	prev = {"grow": 100.0, "shrink": 200.0, "gone": 300.0, "flat": 400.0}
	curr = {"grow": 150.0, "shrink": 120.0, "flat": 400.0, "new": 999.0}
	figures = e.retention(prev, curr)
	assert figures["customers"] == 4
	assert figures["starting_revenue"] == 1000.0
	assert figures["expansion"] == 50.0
	assert figures["contraction"] == 80.0
	assert figures["churn"] == 300.0
	assert figures["ending_revenue"] == 670.0
	assert figures["grr"] == 62.0  # (1000 - 80 - 300) / 1000
	assert figures["nrr"] == 67.0  # (1000 + 50 - 80 - 300) / 1000
	assert (figures["churned_customers"], figures["expanded_customers"], figures["contracted_customers"]) == (
		1,
		1,
		1,
	)


def test_new_customers_count_in_neither():
	assert e.retention({}, {"new": 500.0})["starting_revenue"] == 0
	assert e.retention({"a": 100.0}, {"a": 100.0, "new": 500.0})["nrr"] == 100.0


def test_a_customer_whose_later_revenue_is_netted_to_nothing_or_less_churned():
	figures = e.retention({"refunded": 100.0, "credited": 100.0}, {"refunded": 0.0, "credited": -20.0})
	assert figures["churn"] == 200.0
	assert figures["contraction"] == 0
	assert figures["grr"] == figures["nrr"] == 0.0


def test_a_cohort_needs_revenue_above_zero_before():
	# a customer whose earlier window netted to 0 or less (a full refund) is not in the cohort
	figures = e.retention(
		{"net_zero": 0.0, "net_negative": -50.0}, {"net_zero": 100.0, "net_negative": 100.0}
	)
	assert figures["customers"] == 0
	assert figures["grr"] is None and figures["nrr"] is None


def test_no_cohort_no_ratio():
	assert e.retention({}, {})["grr"] is None


amounts = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(
	st.dictionaries(st.text(min_size=1, max_size=4), amounts),
	st.dictionaries(st.text(min_size=1, max_size=4), amounts),
)
def test_grr_is_a_share_and_nrr_adds_expansion(prev, curr):
	figures = e.retention(prev, curr)
	if figures["grr"] is None:
		assert figures["starting_revenue"] == 0
		return
	assert 0 <= figures["grr"] <= 100.0001
	assert figures["nrr"] >= figures["grr"] - 0.0001
	starting = figures["starting_revenue"]
	assert figures["churn"] + figures["contraction"] <= starting + 0.01
	assert (
		abs(
			figures["ending_revenue"]
			- (starting + figures["expansion"] - figures["contraction"] - figures["churn"])
		)
		< 0.05
	)


def test_retention_windows_are_twelve_months_each():
	(p_first, p_last), (c_first, c_last) = e.retention_windows(date(2026, 6, 30))
	assert (p_first, p_last) == (date(2024, 7, 1), date(2025, 6, 30))
	assert (c_first, c_last) == (date(2025, 7, 1), date(2026, 6, 30))


def test_retention_points_monthly_and_quarterly():
	assert e.retention_points(date(2026, 1, 15), date(2026, 3, 31)) == [
		date(2026, 1, 31),
		date(2026, 2, 28),
		date(2026, 3, 31),
	]
	# a period still running is read up to the last day asked for
	assert e.retention_points(date(2026, 11, 1), date(2026, 12, 1)) == [date(2026, 11, 30), date(2026, 12, 1)]
	assert e.retention_points(date(2026, 2, 1), date(2026, 12, 31), "Quarterly") == [
		date(2026, 3, 31),
		date(2026, 6, 30),
		date(2026, 9, 30),
		date(2026, 12, 31),
	]
	assert e.retention_points(date(2026, 5, 1), date(2026, 4, 1)) == []


# --- renewal dates and worth -------------------------------------------------------------------


def test_checkpoints_six_and_three_months_before_the_end():
	assert e.checkpoint_dates(date(2027, 8, 31)) == [
		("6 Months", date(2027, 2, 28)),
		("3 Months", date(2027, 5, 31)),
	]
	assert e.add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
	assert e.add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)


def test_annualise():
	assert e.annualise(1200, 365) == 1200
	assert e.annualise(600, 182.5 * 2 // 2) == pytest.approx(1203.3, abs=0.1)
	assert e.annualise(2000, 730) == 1000
	assert e.annualise(100, 0) == 0
	assert e.annualise(None, 365) == 0


def test_revenue_at_stake_prefers_the_contracts_own_document():
	today = date(2026, 12, 1)
	amount, basis = e.revenue_at_stake(24000, date(2025, 1, 1), date(2026, 12, 31), 5000, today)
	assert basis == "document"
	assert amount == pytest.approx(24000 * 365 / 730)


def test_revenue_at_stake_from_invoices_of_the_last_twelve_months():
	today = date(2026, 12, 1)
	# a year-long contract running since 2026-01-01: its invoices so far are the year's worth as
	# they are, never scaled up from the days elapsed (an upfront or quarterly bill is not multiplied)
	amount, basis = e.revenue_at_stake(None, date(2026, 1, 1), date(2026, 12, 31), 33500, today)
	assert basis == "invoices"
	assert amount == 33500
	# an upfront annual bill a few days into a term stays one year's worth
	amount, _ = e.revenue_at_stake(None, date(2026, 11, 25), date(2027, 11, 24), 12000, today)
	assert amount == 12000
	# a contract that ended: its last twelve months
	assert e.invoice_window(date(2024, 1, 1), date(2025, 12, 31), today) == (
		date(2025, 1, 1),
		date(2025, 12, 31),
	)
	# a term shorter than a year is scaled by its own length
	amount, _ = e.revenue_at_stake(None, date(2026, 7, 1), date(2026, 12, 31), 6000, today)
	assert amount == pytest.approx(6000 * 365 / 184)
	assert e.revenue_at_stake(None, date(2026, 1, 1), date(2026, 12, 31), 0, today) == (0.0, "none")


def test_a_term_not_started_has_no_window_never_a_reversed_one():
	today = date(2026, 12, 1)
	assert e.invoice_window(date(2027, 1, 1), date(2027, 12, 31), today) is None
	first, last = e.invoice_window(date(2026, 11, 30), date(2027, 11, 29), today)
	assert first <= last == today


def test_each_invoice_counts_for_one_contract():
	old = {"name": "old", "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31)}
	overlap = {"name": "overlap", "start_date": date(2026, 6, 1), "end_date": date(2027, 5, 31)}
	new = {"name": "new", "start_date": date(2027, 1, 1), "end_date": date(2027, 12, 31)}
	contracts = [old, overlap, new]
	assert e.contract_for_invoice(date(2026, 3, 1), contracts) is old
	assert e.contract_for_invoice(date(2026, 7, 1), contracts)["name"] == "overlap", "latest start"
	assert e.contract_for_invoice(date(2025, 7, 1), contracts)["name"] == "new", "none covers: latest"
	assert e.contract_for_invoice(date(2025, 7, 1), []) is None
	today = date(2026, 12, 1)
	windows = {c["name"]: e.invoice_window(c["start_date"], c["end_date"], today) for c in contracts}
	invoices = [(date(2026, 3, 1), 100.0), (date(2026, 7, 1), 50.0), (date(2026, 11, 1), 25.0)]
	totals = e.invoiced_by_contract(invoices, contracts, windows)
	assert totals == {"old": 100.0, "overlap": 75.0}, "no invoice twice; a term not started has none"
	assert sum(totals.values()) == sum(amount for _day, amount in invoices)


def test_change_at_renewal():
	assert e.renewal_change(1000, 1200) == (200, e.EXPANSION)
	assert e.renewal_change(1000, 800) == (-200, e.CONTRACTION)
	assert e.renewal_change(1000, 1000) == (0, e.FLAT)
	# a new term with no revenue yet: no change computed from 0
	assert e.renewal_change(1000, None) == (0, e.UNKNOWN)
	assert e.expected_revenue(1000, "Red", e.RENEWED, None) == 1000
	assert e.expected_revenue(1000, "Green", e.CANCELLED) == 0


def test_the_contract_that_renewed_another_starts_on_or_after_its_end():
	old = {"name": "C1", "end_date": date(2026, 12, 31)}
	candidates = [
		{"name": "C1", "start_date": date(2027, 1, 1)},
		{"name": "early", "start_date": date(2026, 12, 1)},
		{"name": "C3", "start_date": date(2027, 2, 1)},
		{"name": "C2", "start_date": date(2026, 12, 31)},
	]
	assert e.superseded_by(old, candidates)["name"] == "C2"
	assert e.superseded_by(old, candidates[:2]) is None


# --- signal, weights, calls --------------------------------------------------------------------


def test_health_weights_and_expected_revenue():
	assert e.expected_revenue(1000, "Green") == 900
	assert e.expected_revenue(1000, "Yellow") == 600
	assert e.expected_revenue(1000, "Red") == 300
	assert e.expected_revenue(1000, "Insufficient Data") == 500
	assert e.expected_revenue(1000, None) == 500
	assert e.expected_revenue(1000, "Red", e.RENEWED, 1500) == 1500
	assert e.expected_revenue(1000, "Green", e.CHURNED) == 0


def test_weights_rank_the_colours():
	w = e.HEALTH_WEIGHTS
	assert w["Green"] > w["Insufficient Data"] > w["Red"] and w["Green"] > w["Yellow"] > w["Red"]
	assert all(0 <= value <= 1 for value in w.values())


def test_disagreement_is_a_renew_call_against_a_red_signal():
	assert e.is_disagreement("Will Renew", "Red")
	assert not e.is_disagreement("Will Renew", "Yellow")
	assert not e.is_disagreement("At Risk", "Red")
	assert not e.is_disagreement(None, "Red")


def test_at_risk_by_call_or_signal():
	assert e.is_at_risk("Will Churn", "Green")
	assert e.is_at_risk(None, "Yellow")
	assert not e.is_at_risk("Will Renew", "Green")
	assert not e.is_at_risk(None, "Insufficient Data")


def test_signal_at_a_date_is_the_latest_score_on_or_before_it():
	history = [
		{"score_date": date(2026, 1, 1), "status": "Green"},
		{"score_date": date(2026, 3, 1), "status": "Red"},
		{"score_date": date(2026, 5, 1), "status": "Yellow"},
	]
	assert e.signal_at(history, date(2026, 4, 30))["status"] == "Red"
	assert e.signal_at(history, date(2026, 3, 1))["status"] == "Red"
	assert e.signal_at(history, date(2025, 12, 31)) is None


def test_latest_call_is_the_latest_recorded_checkpoint():
	rows = [
		{"due_date": date(2026, 6, 1), "call": "Will Renew", "expected_amount": 100},
		{"due_date": date(2026, 9, 1), "call": "At Risk", "expected_amount": 50},
	]
	assert e.latest_call(rows)["call"] == "At Risk"
	assert e.latest_call([{**rows[0]}, {"due_date": date(2026, 9, 1), "call": None}])["call"] == "Will Renew"
	assert e.latest_call([{"due_date": date(2026, 9, 1)}]) is None


def test_forecast_lists_disagreements_first():
	rows = [
		{"name": "a", "end_date": date(2026, 12, 10), "disagreement": 0, "revenue_at_stake": 5},
		{"name": "b", "end_date": date(2027, 3, 1), "disagreement": 1, "revenue_at_stake": 1},
		{"name": "c", "end_date": date(2026, 12, 10), "disagreement": 0, "revenue_at_stake": 50},
	]
	assert [r["name"] for r in e.forecast_order(rows)] == ["b", "c", "a"]


def test_forecast_order_does_not_depend_on_the_order_read():
	tie = {"end_date": date(2026, 12, 10), "disagreement": 0, "revenue_at_stake": 5}
	rows = [{**tie, "renewal": name} for name in ("RN-3", "RN-1", "RN-2")]
	assert [r["renewal"] for r in e.forecast_order(rows)] == ["RN-1", "RN-2", "RN-3"]
	assert e.forecast_order(list(reversed(rows))) == e.forecast_order(rows)


def _row(status, signal, call, at_stake, end, change_type=None, renewed=None, name="RN"):
	return {
		"renewal": name,
		"status": status,
		"signal_status": signal,
		"latest_call": call,
		"revenue_at_stake": at_stake,
		"end_date": end,
		"change_type": change_type,
		"renewed_amount": renewed,
	}


def _per_row_totals(rows):
	"""The forecast's totals worked out renewal by renewal, the way the report summed its rows."""
	expected = [
		e.expected_revenue(
			r["revenue_at_stake"],
			r["signal_status"],
			r["status"],
			None if r["change_type"] == e.UNKNOWN else r["renewed_amount"],
		)
		for r in rows
	]
	by_month = {}
	for r, x in zip(rows, expected, strict=True):
		month = by_month.setdefault((r["end_date"].year, r["end_date"].month), [0.0, 0.0])
		month[0] += float(r["revenue_at_stake"] or 0)
		month[1] += x
	return {
		"renewals": len(rows),
		"revenue_at_stake": sum(float(r["revenue_at_stake"] or 0) for r in rows),
		"expected_revenue": sum(expected),
		"disagreements": sum(e.is_disagreement(r["latest_call"], r["signal_status"]) for r in rows),
		"by_month": by_month,
	}


def test_worth_unknown_is_an_unknown_change_or_no_renewed_amount():
	assert e.worth_unknown(e.UNKNOWN, 500)
	assert e.worth_unknown(e.EXPANSION, None)
	assert e.worth_unknown(None, None)
	assert not e.worth_unknown(e.CONTRACTION, 0)
	assert not e.worth_unknown(None, 100)


def test_forecast_totals_by_hand():
	jan, feb = date(2027, 1, 15), date(2027, 2, 3)
	rows = [
		_row(e.OPEN, e.GREEN, None, 1000, jan),  # 900
		_row(e.OPEN, e.GREEN, e.AT_RISK, 3000, jan),  # 2,700
		_row(e.OPEN, e.RED, e.WILL_RENEW, 2000, jan),  # 600, a disagreement
		_row(e.OPEN, e.RED, e.WILL_RENEW, 4000, feb),  # 1,200, a disagreement
		_row(e.OPEN, None, None, 800, feb),  # 400
		_row(e.RENEWED, e.RED, e.WILL_RENEW, 1000, feb, e.EXPANSION, 1500),  # 1,500, a disagreement
		_row(e.RENEWED, e.GREEN, None, 2000, feb, e.CONTRACTION, 1200),  # 1,200
		_row(e.RENEWED, e.YELLOW, None, 700, feb, e.UNKNOWN, None),  # 700 (its stake)
		_row(e.RENEWED, e.YELLOW, None, 300, feb, e.UNKNOWN, 0),  # 300 (its stake)
		_row(e.CHURNED, e.RED, e.WILL_CHURN, 5000, jan),  # 0
		_row(e.CANCELLED, e.GREEN, None, 9000, jan),  # 0
	]
	totals = e.forecast_totals(e.forecast_groups(rows))
	assert totals["renewals"] == 11
	assert totals["revenue_at_stake"] == 28800
	assert totals["expected_revenue"] == pytest.approx(
		900 + 2700 + 600 + 1200 + 400 + 1500 + 1200 + 700 + 300
	)
	assert totals["disagreements"] == 3
	assert totals["by_call"] == {"": 6, e.AT_RISK: 1, e.WILL_RENEW: 3, e.WILL_CHURN: 1}
	assert totals["by_month"][(2027, 1)] == pytest.approx([20000, 900 + 2700 + 600])
	assert totals["by_month"][(2027, 2)] == pytest.approx([8800, 1200 + 400 + 1500 + 1200 + 700 + 300])
	per_row = _per_row_totals(rows)
	for key in ("renewals", "revenue_at_stake", "expected_revenue", "disagreements"):
		assert totals[key] == pytest.approx(per_row[key])
	assert totals["by_month"].keys() == per_row["by_month"].keys()
	for month, figures in per_row["by_month"].items():
		assert totals["by_month"][month] == pytest.approx(figures)


def test_forecast_groups_sum_by_the_keys_the_maths_needs():
	jan = date(2027, 1, 15)
	rows = [
		_row(e.OPEN, e.GREEN, None, 1000, jan),
		_row(e.OPEN, e.GREEN, None, 500, date(2027, 1, 31)),
		_row(e.OPEN, e.GREEN, None, 500, date(2027, 2, 1)),
		_row(e.RENEWED, e.GREEN, None, 100, jan, e.EXPANSION, 150),
		_row(e.RENEWED, e.GREEN, None, 100, jan, e.UNKNOWN, None),
	]
	groups = {tuple(g[k] for k in e.FORECAST_GROUP_KEYS): g for g in e.forecast_groups(rows)}
	assert len(groups) == 4
	january = groups[(e.OPEN, e.GREEN, None, False, 2027, 1)]
	assert (january["renewals"], january["revenue_at_stake"]) == (2, 1500)
	assert groups[(e.RENEWED, e.GREEN, None, False, 2027, 1)]["renewed_amount"] == 150
	assert groups[(e.RENEWED, e.GREEN, None, True, 2027, 1)]["renewed_amount"] == 0
	assert e.forecast_totals([]) == {
		"renewals": 0,
		"revenue_at_stake": 0.0,
		"expected_revenue": 0.0,
		"disagreements": 0,
		"by_call": {},
		"by_month": {},
	}


_cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: c / 100)


@given(
	st.lists(
		st.tuples(
			st.sampled_from(e.STATUSES),
			st.sampled_from((*e.HEALTH_WEIGHTS, None)),
			st.sampled_from((*e.CALLS, None)),
			_cents,
			st.sampled_from((None, e.EXPANSION, e.FLAT, e.CONTRACTION, e.UNKNOWN)),
			st.one_of(st.none(), _cents),
			st.integers(min_value=0, max_value=400),
		),
		max_size=60,
	)
)
def test_forecast_totals_are_the_sum_of_the_rows_to_the_rounding(cases):
	"""Each group's figure is its renewals' figures summed, but for the rounding to the cent, done once
	per group rather than once per renewal (at most half a cent a renewal apart)."""
	rows = [
		_row(status, signal, call, stake, date(2027, 1, 1) + timedelta(days=day), change, renewed)
		for status, signal, call, stake, change, renewed, day in cases
	]
	totals = e.forecast_totals(e.forecast_groups(rows))
	per_row = _per_row_totals(rows)
	slack = 0.005 * len(rows) + 1e-6
	assert totals["renewals"] == per_row["renewals"]
	assert totals["disagreements"] == per_row["disagreements"]
	assert totals["revenue_at_stake"] == pytest.approx(per_row["revenue_at_stake"], abs=1e-6)
	assert abs(totals["expected_revenue"] - per_row["expected_revenue"]) <= slack
	assert set(totals["by_month"]) == set(per_row["by_month"])
	for month, (stake, expected) in per_row["by_month"].items():
		assert totals["by_month"][month][0] == pytest.approx(stake, abs=1e-6)
		assert abs(totals["by_month"][month][1] - expected) <= slack


# --- leakage ------------------------------------------------------------------------------------


def test_covering_contracts_and_the_last_one_ended():
	contracts = [
		{"name": "old", "start_date": date(2024, 1, 1), "end_date": date(2024, 12, 31)},
		{"name": "open", "start_date": date(2026, 1, 1), "end_date": None},
	]
	assert [c["name"] for c in e.covering_contracts(date(2024, 12, 31), contracts)] == ["old"]
	assert e.covering_contracts(date(2025, 6, 1), contracts) == []
	assert [c["name"] for c in e.covering_contracts(date(2030, 1, 1), contracts)] == ["open"]
	assert e.last_ended_before(date(2025, 6, 1), contracts)["name"] == "old"
	assert e.last_ended_before(date(2024, 6, 1), contracts) is None


def test_an_invoice_leaks_unless_a_signed_contract_covers_it():
	signed = {"name": "S", "start_date": date(2025, 1, 1), "end_date": date(2025, 12, 31), "is_signed": 1}
	paper = {"name": "P", "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31), "is_signed": 0}
	later_paper = {"name": "Q", "start_date": date(2026, 6, 1), "end_date": None, "is_signed": 0}
	terms = [signed, paper, later_paper]
	assert e.invoice_leak(date(2025, 12, 31), terms) is None, "the signed term covers its last day"
	assert e.invoice_leak(date(2026, 3, 1), terms) == (e.UNSIGNED, "P")
	assert e.invoice_leak(date(2026, 7, 1), terms) == (e.UNSIGNED, "Q"), "the latest-starting one"
	assert e.invoice_leak(date(2024, 6, 1), terms) == (e.UNSIGNED, None), "before any contract"
	assert e.invoice_leak(date(2026, 3, 1), [signed]) == (e.EXPIRED, "S")
	assert e.invoice_leak(date(2026, 3, 1), []) == (e.UNSIGNED, None)
	# a signed term and an unsigned one over the same day: covered
	assert e.invoice_leak(date(2025, 6, 1), [signed, {**paper, "start_date": date(2025, 1, 1)}]) is None
	# two ended: the last one is named
	older = {"name": "O", "start_date": date(2023, 1, 1), "end_date": date(2023, 12, 31), "is_signed": 1}
	assert e.invoice_leak(date(2026, 3, 1), [older, signed]) == (e.EXPIRED, "S")


def leak(invoice, amount, csm="a", kind=e.UNSIGNED, day=date(2026, 1, 5), tier="SMB", stage=""):
	return {
		"invoice": invoice,
		"customer": "C",
		"csm": csm,
		"tier": tier,
		"stage": stage,
		"posting_date": day,
		"kind": kind,
		"contract": None,
		"company": "Co",
		"amount": amount,
	}


def test_leak_changes_write_only_differences_and_move_the_day_sums():
	stored = {"i1": leak("i1", 100), "i2": leak("i2", 50), "i3": leak("i3", 10)}
	fresh = {
		"i1": leak("i1", 100),
		"i2": leak("i2", 50, csm="b"),
		"i4": leak("i4", 7, kind=e.EXPIRED),
		"i5": leak("i5", 3, tier="Strategic", stage="Churned"),
	}
	stored["i5"] = leak("i5", 3)
	deleted, written, cells = e.leak_changes(stored, fresh)
	assert deleted == ["i3"]
	assert [row["invoice"] for row in written] == ["i2", "i4", "i5"]
	day = date(2026, 1, 5)
	assert cells == {
		("a", "SMB", "", day, e.UNSIGNED, "Co"): [-63, -3],
		("b", "SMB", "", day, e.UNSIGNED, "Co"): [50, 1],
		("a", "SMB", "", day, e.EXPIRED, "Co"): [7, 1],
		("a", "Strategic", "Churned", day, e.UNSIGNED, "Co"): [3, 1],
	}
	assert e.leak_changes(fresh, fresh) == ([], [], {}), "equal: nothing to write"


@given(
	st.dictionaries(st.sampled_from("abcdef"), st.integers(-5, 500), max_size=6),
	st.dictionaries(st.sampled_from("abcdef"), st.integers(-5, 500), max_size=6),
	st.sampled_from(["a", "b"]),
	st.sampled_from(["", "SMB"]),
	st.sampled_from(["", "Churned"]),
)
def test_leak_changes_take_the_day_sums_from_the_old_rows_to_the_new(old, new, csm, tier, stage):
	stored = {name: leak(name, amount) for name, amount in old.items()}
	fresh = {name: leak(name, amount, csm=csm, tier=tier, stage=stage) for name, amount in new.items()}
	_deleted, _written, cells = e.leak_changes(stored, fresh)

	def sums(rows):
		found = {}
		for row in rows.values():
			cell = found.setdefault(e.leak_cell(row), [0, 0])
			cell[0] += row["amount"]
			cell[1] += 1
		return found

	before, after = sums(stored), sums(fresh)
	for key in before.keys() | after.keys() | cells.keys():
		was, change = before.get(key, [0, 0]), cells.get(key, [0, 0])
		assert [was[0] + change[0], was[1] + change[1]] == after.get(key, [0, 0])


def test_cell_differences_make_a_roll_up_equal_the_truth():
	truth = {("a", 1): (10, 2), ("b", 1): (5, 1)}
	rolled = {("a", 1): (10, 2), ("b", 1): (4, 1), ("c", 1): (3, 1)}
	assert e.cell_differences(truth, rolled) == [("b", 1, 1, 0), ("c", 1, -3, -1)]
	assert e.cell_differences(truth, truth) == []


def test_notice_date():
	assert e.notice_date(date(2026, 12, 31), 30) == date(2026, 12, 1)
	assert e.notice_date(date(2026, 12, 31), None) == date(2026, 12, 31)


@given(
	st.dictionaries(
		st.sampled_from("abcdefgh"),
		st.tuples(
			st.integers(min_value=-500, max_value=5000).map(float),
			st.integers(min_value=-500, max_value=5000).map(float),
		),
		max_size=8,
	),
	st.lists(st.sampled_from("abcdefgh"), max_size=8),
)
def test_a_rollups_summed_customer_parts_give_the_reports_figures(revenue, split):
	"""The retention roll-up sums `customer_components` per CS Owner and point; summed over any split
	of the customers (here: two books), they give exactly what `retention` gives for all of them."""
	prev = {c: before for c, (before, _after) in revenue.items()}
	curr = {c: after for c, (_before, after) in revenue.items() if after}
	books = [dict.fromkeys(e.COMPONENTS, 0), dict.fromkeys(e.COMPONENTS, 0)]
	for customer, (before, after) in revenue.items():
		book = books[customer in split]
		for name, value in zip(e.COMPONENTS, e.customer_components(before, after), strict=True):
			book[name] += value
	totals = {name: books[0][name] + books[1][name] for name in e.COMPONENTS}
	assert e.retention_figures(totals) == e.retention(prev, curr)


def test_customer_components_one_of_each_kind():
	assert e.customer_components(0, 500) == (0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0)  # new: in no cohort
	assert e.customer_components(1000, 0) == (1, 1000, 0.0, 0.0, 1000, 1, 0, 0)  # churn
	assert e.customer_components(1000, -50) == (1, 1000, 0.0, 0.0, 1000, 1, 0, 0)  # credited away
	assert e.customer_components(1000, 1500) == (1, 1000, 500, 0.0, 0.0, 0, 1, 0)
	assert e.customer_components(1000, 800) == (1, 1000, 0.0, 200, 0.0, 0, 0, 1)
	assert e.customer_components(1000, 1000) == (1, 1000, 0.0, 0.0, 0.0, 0, 0, 0)  # flat
