"""The explanation is stored compactly, and every reader shows what it showed before: the score
document (the form and the REST API), the Customer form's banner (`api.get_customer_health`), the
Customer Health report's weakest factor. Rows stored in the full form are converted by a patch."""

import json
from unittest.mock import patch

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.health import api, engine, queries
from customer_success.health import service as health
from customer_success.health.test_health import CSM1, HealthTestCase, latest_row
from customer_success.patches.v0_4 import compact_health_explanations
from customer_success.tests.utils import make_contract, make_customer, make_issue, make_sales_invoice


def full_json(factors) -> str:
	"""The text a row stored before the compact form."""
	return json.dumps(factors, default=str, separators=(",", ":"))


def stored_text(name) -> str:
	return frappe.db.get_value("Customer Health Score", name, "explanation")


class TestCompactExplanation(HealthTestCase):
	def scored_customer(self) -> str:
		today = getdate(nowdate())
		customer = make_customer(cs_owner=CSM1, cs_tier="SMB").name
		make_issue(customer, "High", agreement_status="Failed")
		make_sales_invoice(
			customer, rate=1000, posting_date=add_days(today, -50), due_date=add_days(today, -40)
		)
		make_contract(customer, add_days(today, -300), add_days(today, 45))
		health.recompute_customer(customer)
		return customer

	def test_a_score_row_stores_its_explanation_compactly_and_the_document_reads_it_whole(self):
		customer = self.scored_customer()
		row = latest_row(customer)
		factors = json.loads(row.explanation)
		# the document: every factor with its keys, as the form and the REST API read it
		self.assertTrue(factors and all(set(f) == set(engine.EXPLANATION_KEYS) for f in factors))
		payment = next(f for f in factors if f["factor_type"] == engine.PAYMENT_BEHAVIOUR)
		self.assertEqual(payment["raw"]["max_days_overdue"], 40)
		self.assertEqual(row.factors(), factors)
		# the column: one array per factor, about a quarter of the bytes
		stored = stored_text(row.name)
		self.assertTrue(all(isinstance(f, list) for f in json.loads(stored)))
		self.assertLess(len(stored) * 3, len(row.explanation))
		self.assertEqual(stored, engine.explanation_to_json(factors))
		self.assertEqual(engine.full_explanation_json(stored), row.explanation)

	def test_the_customer_form_gets_the_whole_explanation(self):
		customer = self.scored_customer()
		frappe.set_user(CSM1)
		score = api.get_customer_health(customer)["score"]
		factors = json.loads(score.explanation)
		self.assertEqual(score.explanation, full_json(factors))
		self.assertEqual(score.explanation, engine.full_explanation_json(stored_text(score.name)))
		frappe.set_user("Administrator")
		self.assertEqual(factors, latest_row(customer).factors())
		self.assertIn(engine.SUPPORT_LOAD, {f["factor_type"] for f in factors})

	def test_the_report_reads_the_weakest_factor_from_the_stored_form(self):
		customer = self.scored_customer()
		computed_on = frappe.db.get_value("Customer", customer, "cs_health_computed_on")
		found = queries.current_explanations([frappe._dict(customer=customer, computed_on=computed_on)])
		self.assertEqual(found[customer], latest_row(customer).factors())
		self.assertIsNotNone(engine.top_negative_factor(found[customer]))

	def test_the_patch_converts_rows_stored_in_the_full_form(self):
		customer = self.scored_customer()
		name = latest_row(customer).name
		full = latest_row(customer).explanation
		# as a row was stored before the compact form, and one written by hand with other spacing
		frappe.db.set_value("Customer Health Score", name, "explanation", full, update_modified=False)
		other = frappe.get_doc(
			{
				"doctype": "Customer Health Score",
				"customer": customer,
				"model": latest_row(customer).model,
				"score_date": add_days(getdate(nowdate()), -1),
				"score": 50,
				"status": "Yellow",
				"explanation": json.dumps(json.loads(full)),
			}
		).insert(ignore_permissions=True)
		self.assertTrue(stored_text(name).startswith("[{"))

		with patch.object(frappe.db, "commit"):  # the patch commits each batch; the test rolls back
			compact_health_explanations.execute()

		for row_name in (name, other.name):
			stored = stored_text(row_name)
			self.assertTrue(all(isinstance(f, list) for f in json.loads(stored)), stored)
			self.assertEqual(frappe.get_doc("Customer Health Score", row_name).explanation, full)
		before = stored_text(name)
		with patch.object(frappe.db, "commit"):  # again: nothing left to convert, nothing changed
			compact_health_explanations.execute()
		self.assertEqual(stored_text(name), before)
