"""What a renewal takes from a save, a hand-made insert and the outcome actions (a tester's findings):
who recorded a call and when, a hand-made renewal's worth and outcome, a subscription of an earlier
term, a renewing contract or order cancelled, a churn before the term, and where a failure is logged."""

import frappe
from frappe.utils import add_days, getdate

from customer_success.renewals import api, engine, service
from customer_success.renewals.test_renewals import (
	CSM,
	MANAGER,
	RenewalTestCase,
	make_contract,
	renewal_of,
	today,
)
from customer_success.tests.utils import make_customer, make_sales_order, make_subscription


class TestRenewalInputs(RenewalTestCase):
	def renewal(self, rate=12000):
		customer = make_customer(cs_owner=CSM).name
		order = make_sales_order(customer, rate=rate)
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 64), order.name)
		service.create_renewals(today(), contracts=[contract.name])
		return customer, contract, renewal_of(contract.name)

	def test_who_recorded_a_call_and_when_is_never_written_by_a_save(self):
		_customer, contract, doc = self.renewal()
		frappe.set_user(CSM)
		api.record_checkpoint(doc.name, "6 Months", "Will Renew", 36000, "sponsor confirmed")
		stored = renewal_of(contract.name).checkpoints[0]
		self.assertEqual((getdate(stored.recorded_on), stored.recorded_by), (today(), CSM))
		# the same call sent back with another signer and date: kept as recorded
		doc = renewal_of(contract.name)
		doc.checkpoints[0].recorded_by = MANAGER
		doc.checkpoints[0].recorded_on = "2020-01-01"
		doc.save()
		row = renewal_of(contract.name).checkpoints[0]
		self.assertEqual((getdate(row.recorded_on), row.recorded_by), (today(), CSM))
		# its amount changed: a new recording, signed by whoever saves it, today
		frappe.db.set_value("Renewal Checkpoint", row.name, "recorded_on", add_days(today(), -20))
		frappe.set_user(MANAGER)
		doc = renewal_of(contract.name)
		doc.checkpoints[0].expected_amount = 1
		doc.checkpoints[0].recorded_by = CSM
		doc.checkpoints[0].recorded_on = "2020-01-01"
		doc.save()
		row = renewal_of(contract.name).checkpoints[0]
		self.assertEqual(
			(row.expected_amount, getdate(row.recorded_on), row.recorded_by), (1, today(), MANAGER)
		)

	def test_a_checkpoint_typed_as_markup_is_shown_as_text(self):
		_customer, _contract, doc = self.renewal()
		frappe.set_user(CSM)
		with self.assertRaises(frappe.ValidationError) as caught:
			api.record_checkpoint(doc.name, "<img src=x onerror=alert(1)>", "At Risk")
		self.assertIn("has no checkpoint &lt;img", str(caught.exception))

	def test_an_expected_amount_that_is_no_number_is_refused(self):
		_customer, contract, doc = self.renewal()
		frappe.set_user(CSM)
		with self.assertRaisesRegex(frappe.ValidationError, "must be a number"):
			service.record_checkpoint(frappe.get_doc("Renewal", doc.name), "6 Months", "At Risk", "abc")
		self.assertFalse(renewal_of(contract.name).checkpoints[0].call)

	def test_the_new_renewal_form_asks_only_for_its_source(self):
		"""The desk form checks its mandatory fields before it sends them: the customer and the term
		come from the contract (or subscription) on the server, so the form must not require them."""
		meta = frappe.get_meta("Renewal")
		required = {df.fieldname for df in meta.fields if df.reqd}
		self.assertFalse(required & {"customer", "end_date", "contract_start", "revenue_at_stake"})
		self.assertEqual(
			meta.get_field("contract").mandatory_depends_on, "eval:doc.source_type == 'Contract'"
		)

	def test_a_renewal_made_by_hand_is_worth_its_source_and_open(self):
		customer = make_customer(cs_owner=CSM).name
		order = make_sales_order(customer, rate=12000)
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 64), order.name)
		frappe.set_user(MANAGER)
		doc = frappe.get_doc(
			{
				"doctype": "Renewal",
				"contract": contract.name,
				"revenue_at_stake": -5000,
				"currency": "EUR" if frappe.db.get_default("currency") != "EUR" else "USD",
				"renewed_amount": 77777,
				"change_type": "Expansion",
				"churn_reason": "Price",
				"closed_on": "2020-01-01",
				"closed_by": CSM,
				"auto_closed": 1,
				"checkpoints": [
					{"checkpoint": "6 Months", "due_date": "2020-01-01"},
					{
						"checkpoint": "6 Months",
						"due_date": "2030-01-01",
						"call": "Will Renew",
						"expected_amount": 15000,
						"recorded_by": CSM,
						"recorded_on": "2019-01-01",
					},
					{"checkpoint": "Someday", "due_date": "2031-01-01"},
				],
			}
		).insert()
		doc.reload()
		# what the nightly pass would have made of the same contract
		self.assertAlmostEqual(doc.revenue_at_stake, 12000.0, places=2)  # a 365-day term
		self.assertTrue(doc.revenue_basis)
		self.assertEqual(doc.currency, service.company_currency())
		self.assertEqual(
			(doc.status, doc.renewed_amount, doc.change_type or None, doc.churn_reason or None),
			("Open", 0, None, None),
		)
		self.assertEqual((doc.closed_on, doc.closed_by, doc.auto_closed), (None, None, 0))
		expected = [label for label, _due in engine.checkpoint_dates(getdate(contract.end_date))]
		self.assertEqual([row.checkpoint for row in doc.checkpoints], expected)
		for row, (_label, due) in zip(
			doc.checkpoints, engine.checkpoint_dates(getdate(contract.end_date)), strict=True
		):
			self.assertEqual(getdate(row.due_date), getdate(due))
		# the call given for a checkpoint is kept, recorded by who made the renewal, today
		row = doc.checkpoints[expected.index("6 Months")]
		self.assertEqual(
			(row.call, row.expected_amount, row.recorded_by, getdate(row.recorded_on)),
			("Will Renew", 15000, MANAGER, today()),
		)
		self.assertGreater(doc.weighted_revenue, 0)
		# and the nightly pass takes it as that term's renewal
		self.assertEqual(service.create_renewals(today(), contracts=[contract.name]), [])

	def test_a_subscription_of_an_earlier_term_renews_nothing(self):
		customer, contract, doc = self.renewal()
		earlier = make_subscription(customer, add_days(today(), -400))
		with self.assertRaisesRegex(frappe.ValidationError, "belongs to an earlier term"):
			service.mark_renewed(renewal_of(contract.name), subscription=earlier.name)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Open")
		later = make_subscription(customer, add_days(today(), 10))
		service.mark_renewed(renewal_of(contract.name), subscription=later.name)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Renewed")

	def test_a_renewal_opens_again_when_what_renewed_it_is_cancelled(self):
		customer, contract, doc = self.renewal()
		new_order = make_sales_order(customer, rate=15000)
		new = make_contract(
			customer, add_days(contract.end_date, 1), add_days(contract.end_date, 365), new_order.name
		)
		self.assertEqual(service.close_renewed([doc.name]), [doc.name])
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "change_type"), "Expansion")
		frappe.get_doc("Contract", new.name).cancel()
		doc = frappe.get_doc("Renewal", doc.name)
		self.assertEqual(
			(doc.status, doc.renewed_contract, doc.renewed_amount, doc.change_type or None, doc.closed_on),
			("Open", None, 0, None, None),
		)
		self.assertEqual(
			doc.weighted_revenue,
			engine.expected_revenue(doc.revenue_at_stake, doc.signal_status, "Open", None),
		)
		self.assertTrue(
			frappe.db.exists(
				"Comment", {"reference_name": doc.name, "content": ("like", f"%{new.name}%was cancelled%")}
			)
		)
		# the same for a Sales Order that renewed it
		order = make_sales_order(customer, rate=9000)
		service.mark_renewed(renewal_of(contract.name), order=order.name)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Renewed")
		frappe.get_doc("Sales Order", order.name).cancel()
		self.assertEqual(
			frappe.db.get_value("Renewal", doc.name, ["status", "renewed_order"]), ("Open", None)
		)

	def test_a_churn_date_before_the_term_is_refused(self):
		_customer, contract, doc = self.renewal()
		frappe.set_user(CSM)
		with self.assertRaisesRegex(frappe.ValidationError, "before the term began"):
			api.mark_churned(doc.name, "Price", None, "1900-01-01")
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Open")
		api.mark_churned(doc.name, "Price", None, str(contract.start_date))
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Churned")

	def test_a_failed_renewal_names_its_contract_in_the_error_log(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 64))
		frappe.db.set_value("Contract", contract.name, "party_name", "No Such Customer " + contract.name)
		since = frappe.utils.now_datetime()
		self.assertEqual(service.create_renewals(today(), contracts=[contract.name]), [])
		log = frappe.get_all(
			"Error Log",
			filters={"method": ("like", f"%{contract.name}%"), "creation": (">=", since)},
			fields=["reference_doctype", "reference_name"],
		)
		self.assertEqual(
			[(row.reference_doctype, row.reference_name) for row in log], [("Contract", contract.name)]
		)
