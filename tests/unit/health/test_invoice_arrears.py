"""Overdue amount and age of an unpaid invoice, per payment term (ERPNext's receivables)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from customer_success.health.engine import PaymentTerm, invoice_arrears

TODAY = date(2026, 6, 30)


def days(n: int) -> date:
	return TODAY + timedelta(days=n)


def test_only_the_past_due_instalment_is_overdue():
	terms = [PaymentTerm(days(-60), 500), PaymentTerm(days(30), 500)]
	assert invoice_arrears(1000, terms, TODAY) == (500, days(-60))


def test_a_payment_without_a_term_settles_the_oldest_instalment_first():
	terms = [PaymentTerm(days(-60), 400), PaymentTerm(days(-10), 400), PaymentTerm(days(30), 200)]
	# 500 paid of 1000: the first term is settled and 100 of the second
	assert invoice_arrears(500, terms, TODAY) == (300, days(-10))


def test_a_payment_recorded_against_a_term_stays_on_that_term():
	terms = [
		PaymentTerm(days(-60), 400),
		PaymentTerm(days(-10), 400, recorded_paid=400),
		PaymentTerm(days(30), 200),
	]
	assert invoice_arrears(600, terms, TODAY) == (400, days(-60))


def test_nothing_past_due_is_nothing_overdue():
	terms = [PaymentTerm(days(0), 500), PaymentTerm(days(30), 500)]
	assert invoice_arrears(1000, terms, TODAY) == (0, None)


def test_a_paid_invoice_or_no_schedule_is_nothing_overdue():
	assert invoice_arrears(0, [PaymentTerm(days(-60), 500)], TODAY) == (0, None)
	assert invoice_arrears(-50, [PaymentTerm(days(-60), 500)], TODAY) == (0, None)
	assert invoice_arrears(100, [], TODAY) == (0, None)


def test_a_single_due_date_is_the_whole_outstanding():
	assert invoice_arrears(250, [PaymentTerm(days(-5), 1000)], TODAY) == (250, days(-5))


@given(
	st.lists(st.tuples(st.integers(-400, 400), st.floats(0, 1e6), st.floats(0, 1e6)), min_size=1, max_size=6),
	st.floats(0, 2e6),
)
def test_overdue_is_never_more_than_outstanding_nor_negative(rows, outstanding):
	terms = [PaymentTerm(days(d), amount, min(paid, amount)) for d, amount, paid in rows]
	overdue, oldest = invoice_arrears(outstanding, terms, TODAY)
	assert 0 <= overdue <= outstanding
	assert (oldest is None) == (overdue == 0)
	if oldest is not None:
		assert oldest < TODAY
