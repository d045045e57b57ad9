"""The payment factor ages an unpaid invoice from its oldest unpaid instalment, as ERPNext's
receivables do, not from the invoice's own (last) due date."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.health import queries
from customer_success.tests.utils import make_customer, make_sales_invoice


class TestOldestUnpaidDueDate(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_an_instalment_past_due_makes_the_invoice_late(self):
		today = getdate(nowdate())
		customer = make_customer().name
		posted = add_days(today, -90)
		make_sales_invoice(
			customer,
			rate=1000,
			posting_date=posted,
			due_date=add_days(today, 30),
			payment_schedule=[
				{"due_date": add_days(today, -60), "invoice_portion": 50, "payment_amount": 500},
				{"due_date": add_days(today, 30), "invoice_portion": 50, "payment_amount": 500},
			],
		)
		facts = queries.invoice_facts(customer, customer, today, add_days(today, -365), 90)
		self.assertEqual(getdate(facts[customer]["oldest_overdue_due"]), getdate(add_days(today, -60)))

	def test_a_paid_up_customer_has_nothing_overdue(self):
		today = getdate(nowdate())
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer, posting_date=add_days(today, -60), due_date=add_days(today, -30)
		)
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		payment = get_payment_entry("Sales Invoice", invoice.name)
		payment.reference_no = "CS-TEST"
		payment.reference_date = today
		payment.insert(ignore_permissions=True)
		payment.submit()
		facts = queries.invoice_facts(customer, customer, today, add_days(today, -365), 90)
		self.assertIsNone(facts[customer]["oldest_overdue_due"])
