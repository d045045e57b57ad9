"""ERPNext's Delete Company Transactions with the app installed: it completes, and the roll-ups the
cards and reports read are reconciled with what it left, queued as it completes (not the next night)."""

from collections import Counter
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import nowdate

from customer_success.constants import CSM_ROLE
from customer_success.customer_success import book_counts
from customer_success.renewals import service as renewals
from customer_success.tests.utils import make_customer, make_sales_invoice, make_user

COMPANY = "_Test CS Deletion Company"
CSM = "cs-deletion-csm@example.com"
RECONCILIATIONS = {
	book_counts.UPKEEP_JOB,
	"customer_success.renewals.jobs.revenue_rollup",
	"customer_success.renewals.jobs.retention_rollup",
	"customer_success.renewals.jobs.leak_rollup",
}


def rolled_up_revenue() -> float:
	"""The CSM's revenue from the company in the roll-up CSM Workload reads."""
	return float(
		frappe.db.sql(
			"""select coalesce(sum(`net_total`), 0) from `cs_revenue_by_csm_day`
			where `csm` = %s and `company` = %s""",
			(CSM, COMPANY),
		)[0][0]
	)


class TestTransactionDeletion(FrappeTestCase):
	def setUp(self):
		make_user(CSM, [CSM_ROLE])
		if not frappe.db.exists("Company", COMPANY):
			frappe.get_doc(
				{"doctype": "Company", "company_name": COMPANY, "abbr": "TCSDC", "default_currency": "INR"}
			).insert()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def queued(self, enqueue) -> Counter:
		return Counter(
			call.args[0] for call in enqueue.call_args_list if call.args and call.args[0] in RECONCILIATIONS
		)

	def delete_transactions(self):
		"""The record as the desk makes it (the doctypes ERPNext leaves alone listed), run in one
		transaction as ERPNext's own tests run it."""
		tdr = frappe.get_doc({"doctype": "Transaction Deletion Record", "company": COMPANY})
		tdr.insert()
		tdr.process_in_single_transaction = True
		tdr.submit()
		tdr.start_deletion_tasks()
		tdr.reload()
		return tdr

	def test_the_roll_ups_follow_a_company_whose_transactions_are_deleted(self):
		customer = make_customer(cs_owner=CSM).name
		invoice = make_sales_invoice(customer, rate=1200, company=COMPANY, currency="INR")
		# an alert that made an Opportunity of the company: the deletion removes the Opportunity
		opportunity = frappe.get_doc(
			{
				"doctype": "Opportunity",
				"opportunity_from": "Customer",
				"party_name": customer,
				"company": COMPANY,
			}
		).insert(ignore_permissions=True)
		alert = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": customer,
				"title": "Expansion",
				"severity": "Low",
				"due_date": nowdate(),
				"opportunity": opportunity.name,
			}
		).insert(ignore_permissions=True)
		self.assertEqual(rolled_up_revenue(), 1200.0)  # kept by the invoice's own hook
		self.assertTrue(frappe.db.get_value("Customer", customer, "cs_live"))
		with patch("frappe.enqueue") as enqueue:
			tdr = self.delete_transactions()
			self.assertFalse(self.queued(enqueue))  # nothing before the deletion commits
			frappe.db.after_commit.run()  # what its commit runs (a test never commits)
		self.assertEqual(tdr.status, "Completed")
		self.assertFalse(frappe.db.exists("Sales Invoice", invoice.name))
		self.assertFalse(frappe.db.exists("Opportunity", opportunity.name))
		# each reconciliation queued once, though ERPNext marks the record done three times
		self.assertEqual(self.queued(enqueue), Counter(RECONCILIATIONS))
		# the alert no longer links to the deleted Opportunity, and saves
		self.assertIsNone(frappe.db.get_value("CS Alert", alert.name, "opportunity"))
		frappe.get_doc("CS Alert", alert.name).save(ignore_permissions=True)
		# the deletion went past every hook: the roll-ups hold the deleted ledger until the jobs run
		self.assertEqual(rolled_up_revenue(), 1200.0)
		renewals.reconcile_revenue_rollup()  # what the queued jobs do (they commit; a test may not)
		book_counts.reconcile()
		self.assertEqual(rolled_up_revenue(), 0.0)
		self.assertFalse(frappe.db.get_value("Customer", customer, "cs_live"))
		self.assertEqual(book_counts.rolled_up(), book_counts.customer_figures())

	def test_a_record_not_yet_run_queues_nothing(self):
		"""A record saved or submitted (not yet run) changes nothing and queues nothing."""
		tdr = frappe.get_doc({"doctype": "Transaction Deletion Record", "company": COMPANY})
		with patch("frappe.enqueue") as enqueue:
			tdr.insert()
			tdr.submit()
			frappe.db.after_commit.run()
		self.assertEqual(frappe.db.get_value("Transaction Deletion Record", tdr.name, "status"), "Queued")
		self.assertFalse(self.queued(enqueue))
