"""Subscription terms and worth, what became of a subscription's renewal, and a renewed term's worth
from its own invoices (never a first monthly bill read as a year)."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_success.renewals import engine as e

# --- the term ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
	("interval", "count", "months"),
	[
		("Month", 1, 1),
		("Month", 12, 12),
		("Year", 1, 12),
		("Year", 2, 24),
		("Day", 0, 1 / 30.4375),
		(None, 1, 0),
	],
)
def test_billing_months(interval, count, months):
	assert e.billing_months(interval, count) == pytest.approx(months)


def test_a_subscription_with_an_end_date_renews_at_its_end_date():
	assert e.subscription_term_end(date(2027, 3, 31), date(2026, 12, 31), 1) == date(2027, 3, 31)
	assert e.subscription_term_end(date(2027, 3, 31), None, 0) == date(2027, 3, 31)


def test_an_evergreen_subscription_renews_only_on_a_yearly_period():
	assert e.subscription_term_end(None, date(2027, 1, 31), 12) == date(2027, 1, 31)
	assert e.subscription_term_end(None, date(2027, 1, 31), 24) == date(2027, 1, 31)
	assert e.subscription_term_end(None, date(2027, 1, 31), 1) is None, "a monthly evergreen is no renewal"
	assert e.subscription_term_end(None, date(2027, 1, 31), 6) is None
	assert e.subscription_term_end(None, None, 12) is None


# --- the worth -----------------------------------------------------------------------------------


def test_plan_annual_by_price_determination():
	assert e.plan_annual("Fixed Rate", 100, 2, 1) == 2400.0  # monthly plan, 2 seats
	assert e.plan_annual("Fixed Rate", 12000, 1, 12) == 12000.0  # yearly
	assert e.plan_annual("Fixed Rate", 6000, 1, 6) == 12000.0  # half-yearly
	assert e.plan_annual("Fixed Rate", 30000, 1, 36) == 10000.0  # every three years
	assert e.plan_annual("Monthly Rate", 100, 3, 12) == 3600.0  # a monthly rate, whatever the period
	assert e.plan_annual("Based On Price List", 50, 1, 1) == 600.0
	assert e.plan_annual("Fixed Rate", None, 1, 1) is None
	assert e.plan_annual("Fixed Rate", 100, 1, 0) is None
	assert e.plan_annual("Fixed Rate", 0, 1, 1) == 0.0


def test_discounted_takes_the_percentage_and_the_amount_off_every_period():
	assert e.discounted(12000, 10, None, 1) == 10800.0
	assert e.discounted(12000, None, 100, 1) == 10800.0  # 100 off each of 12 monthly invoices
	assert e.discounted(12000, None, 100, 12) == 11900.0  # once a year
	assert e.discounted(1000, None, 500, 1) == 0.0, "never negative"


def test_per_year_is_the_daily_rate():
	assert e.per_year(1000, 31) == round(1000 * 365 / 31, 2)
	assert e.per_year(12000, 365) == 12000.0
	assert e.per_year(1000, 0) == 0.0
	assert e.per_year(None, 30) == 0.0


def test_subscription_revenue_prefers_its_invoices_then_its_plans():
	assert e.subscription_revenue(3000, 92, 9999) == (round(3000 * 365 / 92, 2), "invoices")
	assert e.subscription_revenue(0, 0, 9999) == (9999.0, "plans")
	assert e.subscription_revenue(3000, 0, 9999) == (9999.0, "plans"), "invoices with no service days"
	assert e.subscription_revenue(None, None, None) == (0.0, "none")


@settings(deadline=None)
@given(st.floats(min_value=1, max_value=1e6), st.integers(min_value=1, max_value=12))
def test_any_number_of_equal_monthly_bills_is_the_same_years_worth(monthly, months):
	# 30-day service periods: n bills of `monthly` over 30 n days
	worth, basis = e.subscription_revenue(monthly * months, 30 * months, None)
	assert basis == "invoices"
	assert worth == pytest.approx(monthly * 365 / 30, rel=1e-6, abs=0.01)


# --- outcomes ------------------------------------------------------------------------------------

END = date(2027, 3, 31)


@pytest.mark.parametrize(
	("status", "end_date", "current_end", "newer", "outcome"),
	[
		("Active", END, END, False, None),  # still running to its end
		("Active", date(2028, 3, 31), END, False, e.RENEWED),  # end date extended
		("Past Due Date", date(2028, 3, 31), END, False, e.RENEWED),
		("Active", None, date(2028, 3, 31), False, e.RENEWED),  # yearly period rolled over
		("Active", None, END, False, None),
		("Cancelled", END, END, False, e.CHURNED),
		("Cancelled", date(2028, 3, 31), END, False, e.CHURNED),  # extended, then cancelled
		("Cancelled", END, END, True, e.RENEWED),  # replaced by a new subscription
		("Completed", END, END, False, None),  # ended, not renewed: the CSM says why
		("Completed", END, END, True, e.RENEWED),
	],
)
def test_subscription_outcome(status, end_date, current_end, newer, outcome):
	assert e.subscription_outcome(END, status, end_date, current_end, newer) == outcome


# --- a renewed term's worth ----------------------------------------------------------------------

START = date(2026, 1, 1)


def bill(day, amount, service=None, is_return=0):
	return {
		"posting_date": day,
		"amount": amount,
		"from_date": service[0] if service else None,
		"to_date": service[1] if service else None,
		"is_return": is_return,
	}


def test_a_new_term_not_started_or_not_billed_is_unknown():
	assert e.new_term_revenue(START, date(2026, 12, 31), date(2025, 12, 31), [bill(START, 1000)]) is None
	assert e.new_term_revenue(START, date(2026, 12, 31), date(2026, 3, 1), []) is None
	assert e.new_term_revenue(None, None, date(2026, 3, 1), [bill(START, 1000)]) is None


def test_a_first_monthly_bill_without_a_service_period_is_not_a_years_worth():
	# one month into a year's term: 1,000 invoiced is not "1,000 a year" (a contraction from 12,000)
	assert e.new_term_revenue(START, date(2026, 12, 31), date(2026, 2, 1), [bill(START, 1000)]) is None


def test_bills_naming_their_service_period_give_the_daily_rate():
	bills = [
		bill(START, 1100, (START, date(2026, 1, 31))),
		bill(date(2026, 2, 1), 1100, (date(2026, 2, 1), date(2026, 2, 28))),
	]
	assert e.new_term_revenue(START, date(2026, 12, 31), date(2026, 2, 15), bills) == round(
		2200 * 365 / 59, 2
	)
	# a credit note is netted, its days are not counted twice
	bills.append(bill(date(2026, 2, 10), -200, (START, date(2026, 1, 31)), is_return=1))
	assert e.new_term_revenue(START, date(2026, 12, 31), date(2026, 2, 15), bills) == round(
		2000 * 365 / 59, 2
	)


def test_an_upfront_year_without_service_dates_is_read_once_the_year_has_run():
	end = date(2026, 12, 31)
	bills = [bill(START, 15000)]
	assert e.new_term_revenue(START, end, date(2026, 6, 30), bills) is None
	assert e.new_term_revenue(START, end, end, bills) == 15000.0
	assert e.new_term_revenue(START, end, end + timedelta(days=40), bills) == 15000.0


def test_a_short_term_is_read_when_it_ends_and_annualised():
	end = date(2026, 6, 30)  # 181 days
	bills = [bill(START, 3000), bill(date(2026, 4, 1), 3000)]
	assert e.new_term_revenue(START, end, date(2026, 5, 1), bills) is None
	assert e.new_term_revenue(START, end, end, bills) == round(6000 * 365 / 181, 2)


def test_only_credit_notes_is_unknown():
	assert (
		e.new_term_revenue(START, date(2026, 12, 31), date(2027, 1, 5), [bill(START, -100, is_return=1)])
		is None
	)
