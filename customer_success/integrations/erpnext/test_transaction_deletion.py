"""ERPNext's Delete Company Transactions with the app installed: it completes, and the roll-ups the
cards and reports read are reconciled with what it left, queued as it completes (not the next night)."""

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

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
		self.assertEqual(rolled_up_revenue(), 1200.0)  # kept by the invoice's own hook
		self.assertTrue(frappe.db.get_value("Customer", customer, "cs_live"))
		with patch("frappe.enqueue") as enqueue:
			tdr = self.delete_transactions()
		self.assertEqual(tdr.status, "Completed")
		self.assertFalse(frappe.db.exists("Sales Invoice", invoice.name))
		queued = {
			call.args[0]: call.kwargs.get("enqueue_after_commit")
			for call in enqueue.call_args_list
			if call.args and call.args[0] in RECONCILIATIONS
		}
		# each queued once the deletion commits: a job started before would not see it
		self.assertEqual(queued, dict.fromkeys(RECONCILIATIONS, True))
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
		self.assertEqual(frappe.db.get_value("Transaction Deletion Record", tdr.name, "status"), "Queued")
		self.assertFalse(
			[call for call in enqueue.call_args_list if call.args and call.args[0] in RECONCILIATIONS]
		)
