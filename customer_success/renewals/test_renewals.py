"""Renewal records on real contracts: made once per term, worth, self-closing, checkpoint ToDos and
signals, the CSM's calls, the outcomes, and who sees and works which renewal."""

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.renewals import api, engine, queries, service
from customer_success.tests.utils import (
	ensure_fiscal_year,
	make_customer,
	make_sales_invoice,
	make_sales_order,
	make_shared_users,
)

CSM = "cs-rn-csm@example.com"
OTHER_CSM = "cs-rn-other@example.com"
MANAGER = "cs-rn-manager@example.com"


def today():
	return getdate(nowdate())


def make_contract(customer, start, end, order=None, signed=True, **fields):
	doc = frappe.get_doc(
		{
			"doctype": "Contract",
			"party_type": "Customer",
			"party_name": customer,
			"start_date": getdate(start),
			"end_date": getdate(end),
			"contract_terms": "Annual subscription",
			"is_signed": int(signed),
			"signee": "Jane Buyer" if signed else None,
			"signed_on": frappe.utils.now_datetime() if signed else None,
			"document_type": "Sales Order" if order else None,
			"document_name": order,
			**fields,
		}
	).insert(ignore_permissions=True)
	doc.submit()
	return doc


def make_credit_note(invoice, rate: float, posting_date=None):
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	note = make_sales_return(invoice.name)
	note.set_posting_time = 1
	note.posting_date = getdate(posting_date or invoice.posting_date)
	note.items[0].rate = rate
	note.insert(ignore_permissions=True)
	note.submit()
	return note


def make_score(customer, day, status, score=50.0, trend=0.0):
	return frappe.get_doc(
		{
			"doctype": "Customer Health Score",
			"customer": customer,
			"score_date": getdate(day),
			"granularity": "Daily",
			"status": status,
			"score": score,
			"trend": trend,
			"computed_status": status,
			"computed_score": score,
		}
	).insert(ignore_permissions=True)


def renewal_of(contract):
	return frappe.get_doc("Renewal", {"contract": contract})


class RenewalTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{
				CSM: ["Customer Success Manager"],
				OTHER_CSM: ["Customer Success Manager"],
				MANAGER: ["CS Manager"],
			}
		)
		ensure_fiscal_year(add_days(nowdate(), -800))

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestRenewalRecords(RenewalTestCase):
	def test_one_renewal_per_contract_term_with_its_checkpoints(self):
		customer = make_customer(cs_owner=CSM).name
		order = make_sales_order(customer, rate=12000)
		ending = make_contract(customer, add_days(today(), -300), add_days(today(), 65), order.name)
		later = make_contract(customer, add_days(today(), -10), add_days(today(), 300))
		created = service.create_renewals(today(), contracts=[ending.name, later.name])
		self.assertEqual(len(created), 1, "only the contract ending within the window")
		self.assertEqual(service.create_renewals(today(), contracts=[ending.name, later.name]), [])
		self.assertEqual(frappe.db.count("Renewal", {"contract": ending.name}), 1)
		self.assertFalse(frappe.db.exists("Renewal", {"contract": later.name}))

		doc = renewal_of(ending.name)
		self.assertEqual((doc.customer, doc.csm, doc.status), (customer, CSM, "Open"))
		self.assertEqual(getdate(doc.end_date), getdate(ending.end_date))
		# the order's net total over its 366-day term, as a year's worth
		self.assertAlmostEqual(doc.revenue_at_stake, round(12000 * 365 / 366, 2), places=2)
		self.assertEqual(
			[(row.checkpoint, getdate(row.due_date)) for row in doc.checkpoints],
			engine.checkpoint_dates(getdate(ending.end_date)),
		)
		# the unique key holds even for a renewal made by hand
		with self.assertRaises(frappe.DuplicateEntryError):
			frappe.get_doc({"doctype": "Renewal", "contract": ending.name}).insert()

	def test_a_csm_who_may_not_create_renewals_is_told_so(self):
		"""Renewals are made by the nightly pass, or by hand by a CS Manager; a CSM who opened a new
		one was told "set Customer first", the Customer field being read-only (tester W): she is
		refused as not permitted, and a CS Manager makes it from the contract alone."""
		contract = make_contract(
			make_customer(cs_owner=CSM).name, add_days(today(), -300), add_days(today(), 400)
		)
		new = {"doctype": "Renewal", "source_type": "Contract", "contract": contract.name}
		frappe.set_user(CSM)
		self.assertFalse(frappe.has_permission("Renewal", "create"))
		with self.assertRaises(frappe.PermissionError) as refused:
			frappe.get_doc(new).insert()
		self.assertNotIn("set Customer first", str(refused.exception))
		frappe.set_user(MANAGER)
		doc = frappe.get_doc(new).insert()
		self.assertEqual((doc.customer, doc.csm), (contract.party_name, CSM))

	def test_a_longer_window_setting_reaches_further(self):
		from customer_success.tests.utils import change_settings

		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -100), add_days(today(), 250))
		self.assertEqual(service.create_renewals(today(), contracts=[contract.name]), [])
		with change_settings(renewal_record_days=300):
			self.assertEqual(len(service.create_renewals(today(), contracts=[contract.name])), 1)

	def test_revenue_at_stake_from_the_invoices_credit_notes_netted(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 65))
		make_sales_invoice(customer, rate=1000, posting_date=add_days(today(), -400))  # before the term
		first = make_sales_invoice(customer, rate=1000, posting_date=add_days(today(), -200))
		make_sales_invoice(customer, rate=1000, posting_date=add_days(today(), -100))
		make_sales_invoice(customer, rate=1000, posting_date=add_days(today(), -10))
		make_credit_note(first, 500, posting_date=add_days(today(), -5))
		service.create_renewals(today(), contracts=[contract.name])
		doc = renewal_of(contract.name)
		# 2,500 net in the twelve months to date: a year's worth as it is (a term of a year or more)
		self.assertAlmostEqual(doc.revenue_at_stake, 2500.0, places=2)
		self.assertIn("invoices", doc.revenue_basis)

	def test_a_renewal_whose_contract_was_renewed_closes_itself(self):
		customer = make_customer(cs_owner=CSM).name
		order = make_sales_order(customer, rate=10000)
		old = make_contract(customer, add_days(today(), -300), add_days(today(), 64), order.name)
		service.create_renewals(today(), contracts=[old.name])
		name = renewal_of(old.name).name
		service.raise_due_checkpoints(today())
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": name, "status": "Open"}))
		self.assertEqual(service.close_renewed([name]), [], "no newer contract yet")

		new_order = make_sales_order(customer, rate=13000)
		new = make_contract(customer, add_days(old.end_date, 1), add_days(old.end_date, 365), new_order.name)
		self.assertEqual(service.close_renewed([name]), [name])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((doc.status, doc.renewed_contract, doc.auto_closed), ("Renewed", new.name, 1))
		self.assertAlmostEqual(doc.revenue_at_stake, 10000.0, places=2)  # a 365-day term
		self.assertAlmostEqual(doc.renewed_amount, 13000.0, places=2)
		self.assertEqual((doc.change_amount, doc.change_type), (3000.0, "Expansion"))
		self.assertEqual(doc.weighted_revenue, 13000.0)
		self.assertFalse(frappe.db.exists("ToDo", {"reference_name": name, "status": "Open"}))
		self.assertEqual(service.close_renewed([name]), [], "closed once")

	def test_renewed_by_a_smaller_order_is_a_contraction(self):
		customer = make_customer(cs_owner=CSM).name
		order = make_sales_order(customer, rate=10000)
		old = make_contract(customer, add_days(today(), -300), add_days(today(), 64), order.name)
		service.create_renewals(today(), contracts=[old.name])
		smaller = make_sales_order(customer, rate=8000)
		frappe.set_user(CSM)
		api.mark_renewed(renewal_of(old.name).name, sales_order=smaller.name)
		doc = renewal_of(old.name)
		self.assertEqual((doc.status, doc.renewed_order, doc.renewed_amount), ("Renewed", smaller.name, 8000))
		self.assertEqual((doc.change_amount, doc.change_type), (-2000.0, "Contraction"))

	def test_mark_renewed_refuses_another_customers_contract(self):
		customer = make_customer(cs_owner=CSM).name
		old = make_contract(customer, add_days(today(), -300), add_days(today(), 64))
		service.create_renewals(today(), contracts=[old.name])
		elsewhere = make_contract(make_customer().name, add_days(today(), 65), add_days(today(), 400))
		doc = renewal_of(old.name)
		with self.assertRaises(frappe.ValidationError):
			service.mark_renewed(doc, contract=elsewhere.name)
		with self.assertRaises(frappe.ValidationError):
			service.mark_renewed(doc)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Open")

	def test_mark_renewed_refuses_a_suppliers_contract_with_the_customers_name(self):
		customer = make_customer(cs_owner=CSM).name
		old = make_contract(customer, add_days(today(), -300), add_days(today(), 64))
		service.create_renewals(today(), contracts=[old.name])
		if not frappe.db.exists("Supplier", customer):
			frappe.get_doc(
				{
					"doctype": "Supplier",
					"supplier_name": customer,
					"supplier_group": frappe.db.get_value("Supplier Group", {"is_group": 0}, "name"),
				}
			).insert(ignore_permissions=True)
		supplier_term = make_contract(
			customer, add_days(today(), 65), add_days(today(), 400), party_type="Supplier"
		)
		doc = renewal_of(old.name)
		with self.assertRaisesRegex(frappe.ValidationError, "must be a submitted contract of"):
			service.mark_renewed(doc, contract=supplier_term.name)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Open")

	def test_mark_renewed_refuses_an_earlier_terms_contract_or_order(self):
		customer = make_customer(cs_owner=CSM).name
		earlier = make_contract(customer, add_days(today(), -700), add_days(today(), -301))
		early_order = make_sales_order(customer, rate=9000, transaction_date=add_days(today(), -320))
		old = make_contract(customer, add_days(today(), -300), add_days(today(), 64))
		service.create_renewals(today(), contracts=[old.name])
		doc = renewal_of(old.name)
		overlapping = make_contract(customer, add_days(today(), -10), add_days(today(), 30))
		for kwargs in (
			{"contract": earlier.name},
			{"order": early_order.name},
			{"contract": overlapping.name},
		):
			with self.assertRaisesRegex(frappe.ValidationError, "belongs to an earlier term", msg=kwargs):
				service.mark_renewed(renewal_of(old.name), **kwargs)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Open")
		# signed early, for the next term: it renews this one
		following = make_contract(customer, add_days(today(), -5), add_days(today(), 430))
		service.mark_renewed(renewal_of(old.name), contract=following.name)
		self.assertEqual(frappe.db.get_value("Renewal", doc.name, "status"), "Renewed")

	def test_nightly_job_runs_the_whole_pass_once(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		first = service.run_nightly(commit=False)
		self.assertIn(renewal_of(contract.name).name, first["created"])
		second = service.run_nightly(commit=False)
		self.assertNotIn(renewal_of(contract.name).name, second["created"])
		self.assertEqual(frappe.db.count("Renewal", {"contract": contract.name}), 1)


class TestRevenueAndTerms(RenewalTestCase):
	"""Each invoice counts for one contract; upfront bills are not annualised up; a new term with no
	revenue yet is no contraction; a cancelled contract's renewal closes."""

	def test_an_upfront_bill_is_a_years_worth_not_more(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 65))
		make_sales_invoice(customer, rate=12000, posting_date=add_days(today(), -300))
		service.create_renewals(today(), contracts=[contract.name])
		self.assertAlmostEqual(renewal_of(contract.name).revenue_at_stake, 12000.0, places=2)

	def test_each_invoice_counts_for_one_contract(self):
		customer = make_customer(cs_owner=CSM).name
		first = make_contract(customer, add_days(today(), -300), add_days(today(), 65))
		second = make_contract(customer, add_days(today(), -200), add_days(today(), 165))
		make_sales_invoice(customer, rate=6000, posting_date=add_days(today(), -250))  # the first's only
		make_sales_invoice(customer, rate=9000, posting_date=add_days(today(), -100))  # both: the later
		service.create_renewals(today(), contracts=[first.name, second.name])
		self.assertAlmostEqual(renewal_of(first.name).revenue_at_stake, 6000.0, places=2)
		self.assertAlmostEqual(renewal_of(second.name).revenue_at_stake, 9000.0, places=2)

	def test_a_new_term_with_no_revenue_yet_is_no_contraction(self):
		customer = make_customer(cs_owner=CSM).name
		for days in (-270, -180, -90, -5):
			make_sales_invoice(customer, rate=3000, posting_date=add_days(today(), days))
		old = make_contract(customer, add_days(today(), -364), add_days(today(), 60))
		service.create_renewals(today(), contracts=[old.name])
		name = renewal_of(old.name).name
		new = make_contract(customer, add_days(today(), 61), add_days(today(), 425))
		self.assertEqual(service.close_renewed([name]), [name])
		doc = frappe.get_doc("Renewal", name)
		self.assertAlmostEqual(doc.revenue_at_stake, 12000.0, places=2)
		self.assertEqual((doc.status, doc.renewed_contract), ("Renewed", new.name))
		self.assertEqual((doc.change_amount, doc.change_type), (0, "Unknown"))
		self.assertEqual(doc.weighted_revenue, doc.revenue_at_stake, "counted at the old term's worth")
		self.assertEqual(service.renewed_worth(new.name, None), None)

	def test_a_cancelled_contracts_renewal_closes_and_follows_its_amendment(self):
		from customer_success.customer_success import api as desk

		customer = make_customer(cs_owner=CSM).name
		order = make_sales_order(customer, rate=10000)
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60), order.name)
		service.run_nightly(commit=False)
		name = renewal_of(contract.name).name
		due_before = desk.renewals_due()["value"]
		# the CSM's call on the first checkpoint (due already); the second still to call
		frappe.set_user(CSM)
		api.record_checkpoint(name, "6 Months", "Will Renew", 12000, "Sponsor confirmed the budget")
		frappe.set_user("Administrator")
		service.raise_due_checkpoints(today())

		contract.reload()
		contract.cancel()
		self.assertEqual(frappe.db.get_value("Renewal", name, "status"), "Cancelled")
		self.assertFalse(frappe.db.exists("ToDo", {"reference_name": name, "status": "Open"}))
		amended = frappe.copy_doc(contract)
		amended.amended_from = contract.name
		amended.end_date = add_days(today(), 65)
		amended.docstatus = 0
		amended.insert(ignore_permissions=True)
		amended.submit()
		service.run_nightly(commit=False)

		# the same renewal, open again on the amendment's term, with the CSM's call
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual(
			(doc.status, doc.contract, getdate(doc.end_date), doc.term_key),
			("Open", amended.name, add_days(today(), 65), f"{amended.name}|{add_days(today(), 65)}"),
		)
		self.assertEqual(
			frappe.get_all("Renewal", filters={"customer": customer, "status": "Open"}, pluck="name"), [name]
		)
		row = next(r for r in doc.checkpoints if r.checkpoint == "6 Months")
		self.assertEqual((row.call, row.expected_amount, row.recorded_by), ("Will Renew", 12000, CSM))
		self.assertEqual((doc.latest_call, doc.expected_amount), ("Will Renew", 12000))
		for label, due in engine.checkpoint_dates(add_days(today(), 65)):
			self.assertEqual(getdate(next(r for r in doc.checkpoints if r.checkpoint == label).due_date), due)
		# the ToDo of the checkpoint still to call is open again, dated on its checkpoint
		to_call = [r for r in doc.checkpoints if not r.call and r.todo]
		for r in to_call:
			self.assertEqual(
				frappe.db.get_value("ToDo", r.todo, ["status", "date"]), ("Open", getdate(r.due_date))
			)
		self.assertEqual(desk.renewals_due()["value"], due_before, "the desk counts it once")
		self.assertEqual(service.create_renewals(today(), contracts=[contract.name, amended.name]), [])

	def test_a_cancelled_contract_can_be_deleted_and_its_cancelled_renewal_stays(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		contract.reload()
		contract.cancel()
		frappe.delete_doc("Contract", contract.name)
		self.assertFalse(frappe.db.exists("Contract", contract.name))
		self.assertEqual(frappe.db.get_value("Renewal", name, ["status", "contract"]), ("Cancelled", None))
		# a contract whose renewal is still open is held by it, as by any record that links it
		other = make_contract(customer, add_days(today(), -300), add_days(today(), 70))
		service.create_renewals(today(), contracts=[other.name])
		frappe.db.set_value("Contract", other.name, "docstatus", 2)  # cancelled without the hook
		self.assertRaises(frappe.LinkExistsError, frappe.delete_doc, "Contract", other.name)
		self.assertEqual(frappe.db.get_value("Renewal", renewal_of(other.name).name, "status"), "Open")

	def test_the_nightly_pass_closes_a_renewal_its_contract_left_open(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		frappe.db.set_value("Contract", contract.name, "docstatus", 2)  # cancelled without the hook
		self.assertEqual(service.run_nightly(commit=False)["cancelled"], [name])
		self.assertEqual(frappe.db.get_value("Renewal", name, "status"), "Cancelled")


class TestCheckpoints(RenewalTestCase):
	def test_due_checkpoints_get_a_dated_todo_and_the_signal_of_their_date(self):
		customer = make_customer(cs_owner=CSM).name
		end = add_days(today(), 170)
		contract = make_contract(customer, add_days(today(), -195), end)
		six, three = engine.checkpoint_dates(getdate(end))
		make_score(customer, add_days(six[1], -3), "Yellow", 55, -12)  # the signal on its date
		make_score(customer, add_days(six[1], 1), "Red", 30, -25)  # after it: not its signal
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name

		self.assertGreaterEqual(service.raise_due_checkpoints(today()), 1)
		doc = frappe.get_doc("Renewal", name)
		first, second = doc.checkpoints
		self.assertTrue(first.todo, "the 6-month checkpoint is due")
		self.assertFalse(second.todo, "the 3-month checkpoint is not due yet")
		todo = frappe.get_doc("ToDo", first.todo)
		self.assertEqual(
			(todo.allocated_to, todo.reference_type, todo.reference_name), (CSM, "Renewal", name)
		)
		self.assertEqual(getdate(todo.date), getdate(first.due_date))
		self.assertEqual((first.signal_status, first.signal_score, first.signal_trend), ("Yellow", 55, -12))

		service.raise_due_checkpoints(today())
		self.assertEqual(frappe.db.count("ToDo", {"reference_type": "Renewal", "reference_name": name}), 1)
		# the 3-month one falls due in time
		service.raise_due_checkpoints(getdate(three[1]))
		doc.reload()
		self.assertTrue(doc.checkpoints[1].todo)
		self.assertEqual(doc.checkpoints[1].signal_status, "Red")

	def test_a_checkpoints_todo_is_in_its_csms_language(self):
		"""The nightly job runs in English: a Chinese-speaking CSM's ToDo is in Chinese (the site's
		language for one who chose none)."""
		from customer_success.utils import in_language

		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -305), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		language = frappe.db.get_value("User", CSM, "language")
		self.addCleanup(frappe.db.set_value, "User", CSM, "language", language)
		frappe.db.set_value("User", CSM, "language", "zh")
		frappe.clear_document_cache("User", CSM)
		with in_language("en"):
			service.raise_due_checkpoints(today())
		first = renewal_of(contract.name).checkpoints[0]
		description = frappe.db.get_value("ToDo", first.todo, "description")
		self.assertIn("续约检查点", description)
		self.assertNotIn("Renewal checkpoint", description)

	def test_a_subscriptions_checkpoint_todo_names_no_contract(self):
		"""A renewal of a subscription has no contract: its ToDo says the term ends (it said
		"contract None")."""
		customer = make_customer(cs_owner=CSM)
		contract = make_contract(customer.name, add_days(today(), -305), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		row = frappe._dict(
			csm=CSM,
			checkpoint="6 Months",
			customer=customer.name,
			customer_name=customer.customer_name,
			contract=None,  # as a subscription's renewal has it
			end_date=add_days(today(), 60),
			parent=renewal_of(contract.name).name,
			due_date=today(),
		)
		description = frappe.db.get_value("ToDo", service.make_checkpoint_todo(row), "description")
		self.assertNotIn("None", description)
		self.assertIn(customer.customer_name, description)

	def test_a_checkpoint_raised_while_the_customer_had_no_csm_goes_to_the_csm_named_later(self):
		customer = make_customer().name  # no CSM yet (a new site, before CSMs are appointed)
		end = add_days(today(), 60)  # its 6-month checkpoint is due
		contract = make_contract(customer, add_days(today(), -305), end)
		service.create_renewals(today(), contracts=[contract.name])
		service.raise_due_checkpoints(today())
		first = renewal_of(contract.name).checkpoints[0]
		self.assertTrue(first.signal_on)  # raised: its signal taken
		self.assertFalse(first.todo)  # but no one to give it to
		frappe.db.set_value("Customer", customer, "cs_owner", CSM)
		service.raise_due_checkpoints(today())
		first = renewal_of(contract.name).checkpoints[0]
		self.assertEqual(frappe.db.get_value("ToDo", first.todo, "allocated_to"), CSM)
		service.raise_due_checkpoints(today())  # once
		self.assertEqual(
			frappe.db.count("ToDo", {"reference_type": "Renewal", "reference_name": first.parent}),
			len([c for c in renewal_of(contract.name).checkpoints if c.todo]),
		)

	def test_a_customers_first_csm_takes_up_its_open_renewal_at_once(self):
		"""Set on the Customer form (a save, not the night's refresh): the renewal made while the
		customer had no CSM is hers now, and its checkpoint raised meanwhile is her ToDo."""
		customer = make_customer().name
		contract = make_contract(customer, add_days(today(), -305), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		service.raise_due_checkpoints(today())
		self.assertFalse(renewal_of(contract.name).csm)
		doc = frappe.get_doc("Customer", customer)
		doc.cs_owner = CSM
		doc.save(ignore_permissions=True)
		renewal = renewal_of(contract.name)
		self.assertEqual(renewal.csm, CSM)
		first = renewal.checkpoints[0]
		self.assertEqual(frappe.db.get_value("ToDo", first.todo, "allocated_to"), CSM)
		service.raise_due_checkpoints(today())  # the night after: no second ToDo
		self.assertEqual(
			frappe.db.count("ToDo", {"reference_type": "Renewal", "reference_name": renewal.name}),
			len([c for c in renewal_of(contract.name).checkpoints if c.todo]),
		)

	def test_a_checkpoint_raised_late_takes_the_latest_signal_known(self):
		customer = make_customer(cs_owner=CSM).name
		end = add_days(today(), 60)  # both checkpoints are past when the renewal is made
		contract = make_contract(customer, add_days(today(), -305), end)
		make_score(customer, add_days(today(), -2), "Green", 82, 4)
		service.create_renewals(today(), contracts=[contract.name])
		service.raise_due_checkpoints(today())
		first = renewal_of(contract.name).checkpoints[0]
		self.assertEqual((first.signal_status, first.signal_score), ("Green", 82))
		self.assertEqual(
			getdate(first.signal_on), add_days(today(), -2), "dated as the score, not the checkpoint"
		)

	def test_the_csms_call_is_recorded_and_closes_the_todo(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		service.raise_due_checkpoints(today())
		doc = renewal_of(contract.name)
		frappe.db.set_value("Customer", customer, "cs_health_status", "Red")
		self.assertIn(CSM, frappe.parse_json(frappe.db.get_value("Renewal", doc.name, "_assign") or "[]"))

		frappe.set_user(CSM)
		api.record_checkpoint(doc.name, doc.checkpoints[0].name, "At Risk", 5000, "Budget review")
		api.record_checkpoint(doc.name, "3 Months", "Will Renew", 9000, "Signed off verbally")
		doc.reload()
		self.assertEqual(doc.checkpoints[0].call, "At Risk")
		self.assertEqual(doc.checkpoints[1].recorded_by, CSM)
		self.assertEqual(getdate(doc.checkpoints[1].recorded_on), today())
		self.assertEqual((doc.latest_call, doc.expected_amount), ("Will Renew", 9000))
		self.assertEqual(doc.disagreement, 1, "the CSM says renew, health is red")
		self.assertEqual(doc.weighted_revenue, engine.expected_revenue(doc.revenue_at_stake, "Red"))
		for row in doc.checkpoints:
			self.assertEqual(frappe.db.get_value("ToDo", row.todo, "status"), "Closed")
		# the renewal's assignment list follows its closed ToDos ("Assigned to me" listed it still)
		self.assertEqual(frappe.parse_json(frappe.db.get_value("Renewal", doc.name, "_assign") or "[]"), [])
		with self.assertRaises(frappe.ValidationError):
			api.record_checkpoint(doc.name, "3 Months", "Maybe")

	def test_todos_follow_the_setting(self):
		from customer_success.tests.utils import change_settings

		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		with change_settings(create_todos=0):
			service.raise_due_checkpoints(today())
		doc = renewal_of(contract.name)
		self.assertFalse(doc.checkpoints[0].todo)
		self.assertTrue(doc.checkpoints[0].signal_on, "the signal is taken all the same")


class TestOutcomes(RenewalTestCase):
	def test_a_churn_date_that_is_no_date_is_refused_by_name(self):
		customer = make_customer(cs_owner=CSM, cs_lifecycle_stage="Renewal")
		contract = make_contract(customer.name, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		frappe.set_user(CSM)
		for value in ("9" * 40, "<img src=x onerror=alert(1)>"):
			with self.assertRaises(frappe.ValidationError) as refused:
				api.mark_churned(name, "Price", None, value)
			self.assertIn("Churned On is not a valid date", str(refused.exception))
			self.assertNotIn("<img", str(refused.exception))
		self.assertEqual(frappe.db.get_value("Renewal", name, "status"), "Open")

	def test_churn_records_the_reason_and_the_customer_is_churned(self):
		customer = make_customer(cs_owner=CSM, cs_lifecycle_stage="Renewal")
		contract = make_contract(customer.name, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		rule = frappe.get_all("CS Alert Rule", pluck="name", limit=1)[0]
		alert = frappe.get_doc(
			{
				"doctype": "CS Alert",
				"customer": customer.name,
				"rule": rule,
				"severity": "High",
				"status": "Open",
			}
		).insert(ignore_permissions=True)
		frappe.set_user(CSM)
		with self.assertRaises(frappe.ValidationError):
			api.mark_churned(name, "Bad vibes")
		self.assertEqual(frappe.db.get_value("Customer", customer.name, "cs_lifecycle_stage"), "Renewal")
		api.mark_churned(name, "Competitor", "Moved to a rival", str(add_days(today(), -1)))
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual(
			(doc.status, doc.churn_reason, doc.churn_note, getdate(doc.closed_on)),
			("Churned", "Competitor", "Moved to a rival", add_days(today(), -1)),
		)
		self.assertEqual(doc.weighted_revenue, 0)
		stored = frappe.db.get_value(
			"Customer", customer.name, ["cs_lifecycle_stage", "modified"], as_dict=True
		)
		self.assertEqual(stored.cs_lifecycle_stage, "Churned")
		# nothing more to act on: its open alerts are resolved, saying why
		self.assertEqual(frappe.db.get_value("CS Alert", alert.name, "status"), "Resolved")
		self.assertEqual(
			frappe.utils.get_datetime(stored.modified),
			frappe.utils.get_datetime(customer.modified),
			"an open Customer form still saves",
		)
		with self.assertRaises(frappe.ValidationError):
			api.mark_churned(name, "Price")

	def test_one_contract_churned_while_another_runs_keeps_the_customer(self):
		customer = make_customer(cs_owner=CSM, cs_lifecycle_stage="Renewal").name
		dropped = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		kept = make_contract(customer, add_days(today(), -100), add_days(today(), 90))
		service.create_renewals(today(), contracts=[dropped.name, kept.name])
		frappe.set_user(CSM)
		api.mark_churned(renewal_of(dropped.name).name, "Price", "dropped the add-on")
		self.assertEqual(renewal_of(dropped.name).status, "Churned")
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_lifecycle_stage"), "Renewal")
		note = frappe.db.get_value(
			"Comment",
			{"reference_doctype": "Customer", "reference_name": customer, "comment_type": "Info"},
			"content",
			order_by="creation desc",
		)
		self.assertIn(renewal_of(dropped.name).name, note)
		api.mark_churned(renewal_of(kept.name).name, "Competitor")  # the last one running
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_lifecycle_stage"), "Churned")

	def test_a_save_cannot_set_the_outcome_or_the_term(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		frappe.set_user(CSM)
		doc = renewal_of(contract.name)
		at_stake = doc.revenue_at_stake
		doc.status = "Churned"
		doc.churn_reason = "Price"
		doc.revenue_at_stake = 1
		doc.checkpoints[0].due_date = add_days(today(), 500)
		doc.save()
		doc.reload()
		self.assertEqual(
			(doc.status, doc.churn_reason or None, doc.revenue_at_stake), ("Open", None, at_stake)
		)
		self.assertNotEqual(getdate(doc.checkpoints[0].due_date), add_days(today(), 500))
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_lifecycle_stage") or "", "")

	def test_a_closed_renewals_calls_are_final_and_its_currency_kept(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		frappe.set_user(CSM)
		api.record_checkpoint(name, "6 Months", "Will Churn", 0, "bad")
		api.mark_churned(name, "Price", "gone")
		doc = frappe.get_doc("Renewal", name)
		currency = doc.currency
		doc.checkpoints[0].call = "Will Renew"
		doc.checkpoints[0].note = "rewritten"
		doc.checkpoints[0].expected_amount = 99999
		doc.currency = "EUR" if currency != "EUR" else "USD"
		doc.save()
		doc.reload()
		row = doc.checkpoints[0]
		self.assertEqual((row.call, row.note, row.expected_amount), ("Will Churn", "bad", 0))
		self.assertEqual((doc.latest_call, doc.currency), ("Will Churn", currency))

	def test_a_changed_call_is_dated_and_signed_again(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		api.record_checkpoint(name, "6 Months", "At Risk")
		frappe.db.set_value(
			"Renewal Checkpoint",
			renewal_of(contract.name).checkpoints[0].name,
			"recorded_on",
			add_days(today(), -20),
		)
		frappe.set_user(CSM)
		api.record_checkpoint(name, "6 Months", "Will Renew")
		row = renewal_of(contract.name).checkpoints[0]
		self.assertEqual((row.call, getdate(row.recorded_on), row.recorded_by), ("Will Renew", today(), CSM))


class TestRenewalPermissions(RenewalTestCase):
	def test_a_csm_sees_and_works_only_her_book(self):
		mine = make_customer(cs_owner=CSM).name
		theirs = make_customer(cs_owner=OTHER_CSM).name
		contracts = [
			make_contract(customer, add_days(today(), -300), add_days(today(), 60)).name
			for customer in (mine, theirs)
		]
		service.create_renewals(today(), contracts=contracts)
		my_renewal, their_renewal = (renewal_of(c).name for c in contracts)

		frappe.set_user(CSM)
		visible = set(
			frappe.get_list("Renewal", filters={"name": ("in", [my_renewal, their_renewal])}, pluck="name")
		)
		self.assertEqual(visible, {my_renewal})
		self.assertFalse(frappe.has_permission("Renewal", "read", doc=their_renewal))
		with self.assertRaises(frappe.PermissionError):
			api.record_checkpoint(their_renewal, "6 Months", "Will Churn")
		with self.assertRaises(frappe.PermissionError):
			api.mark_churned(their_renewal, "Price")
		self.assertEqual(frappe.db.get_value("Customer", theirs, "cs_lifecycle_stage") or "", "")
		self.assertEqual([r.name for r in api.customer_renewals(mine)], [my_renewal])
		with self.assertRaises(frappe.PermissionError):  # another book's customer: not hers to open
			api.customer_renewals(theirs)

		frappe.set_user(MANAGER)
		visible = set(
			frappe.get_list("Renewal", filters={"name": ("in", [my_renewal, their_renewal])}, pluck="name")
		)
		self.assertEqual(visible, {my_renewal, their_renewal})
		api.record_checkpoint(their_renewal, "6 Months", "Will Churn")
		self.assertEqual(frappe.db.get_value("Renewal", their_renewal, "latest_call"), "Will Churn")

	def test_counts_link_search_and_checkpoint_rows_keep_her_book(self):
		from customer_success.customer_success import api as desk

		mine = make_customer(cs_owner=CSM).name
		theirs = make_customer(cs_owner=OTHER_CSM).name
		contracts = [
			make_contract(customer, add_days(today(), -300), add_days(today(), 60)).name
			for customer in (mine, theirs)
		]
		service.create_renewals(today(), contracts=contracts)
		names = [renewal_of(c).name for c in contracts]
		frappe.set_user(CSM)
		self.assertEqual(desk.get_count("Renewal", {"name": ("in", names)}), 1)
		found = {row[0] for row in desk.search_in_book("Renewal", "", None, 0, 50, {"name": ("in", names)})}
		self.assertEqual(found, {names[0]})
		# typed text is matched in the text fields (the search fields hold a date too)
		typed = frappe.db.get_value("Customer", mine, "customer_name")[:8]
		found = {
			row[0] for row in desk.search_in_book("Renewal", typed, None, 0, 50, {"name": ("in", names)})
		}
		self.assertEqual(found, {names[0]})
		parents = set(
			frappe.get_list(
				"Renewal Checkpoint",
				filters={"parent": ("in", names)},
				fields=["parent"],
				parent_doctype="Renewal",
				pluck="parent",
			)
		)
		self.assertEqual(parents, {names[0]})

	def test_the_customer_form_reads_checkpoints(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		frappe.set_user(CSM)
		(renewal,) = api.customer_renewals(customer)
		self.assertEqual([c.checkpoint for c in renewal["checkpoints"]], ["6 Months", "3 Months"])

	def test_open_renewals_follow_their_customers_health_and_csm(self):
		customer = make_customer(cs_owner=CSM).name
		contract = make_contract(customer, add_days(today(), -300), add_days(today(), 60))
		service.create_renewals(today(), contracts=[contract.name])
		name = renewal_of(contract.name).name
		frappe.db.set_value("Customer", customer, {"cs_owner": OTHER_CSM, "cs_health_status": "Green"})
		queries.refresh_open_renewals([name])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((doc.csm, doc.signal_status), (OTHER_CSM, "Green"))
		self.assertEqual(doc.weighted_revenue, engine.expected_revenue(doc.revenue_at_stake, "Green"))


class TestDeskCharts(RenewalTestCase):
	def test_renewals_by_month_and_by_call_count_her_book(self):
		from customer_success.renewals.dashboard_chart_source.renewals_by_call import renewals_by_call
		from customer_success.renewals.dashboard_chart_source.renewals_by_month import renewals_by_month

		mine = make_customer(cs_owner=CSM).name
		theirs = make_customer(cs_owner=OTHER_CSM).name
		frappe.db.set_value("Customer", mine, "cs_health_status", "Red")
		contracts = [
			make_contract(customer, add_days(today(), -300), add_days(today(), 40)).name
			for customer in (mine, theirs)
		]
		service.create_renewals(today(), contracts=contracts)
		queries.refresh_open_renewals()
		frappe.set_user(CSM)
		api.record_checkpoint(renewal_of(contracts[0]).name, "6 Months", "At Risk")
		by_month = renewals_by_month.get()
		month = str(add_days(today(), 40))[:7]
		column = by_month["labels"].index(month)
		values = {d["name"]: d["values"][column] for d in by_month["datasets"]}
		self.assertEqual(values, {"Green": 0, "Yellow": 0, "Red": 1, "Insufficient Data": 0})
		by_call = renewals_by_call.get()
		self.assertEqual(
			dict(zip(by_call["labels"], by_call["datasets"][0]["values"], strict=True))["At Risk"], 1
		)
		self.assertEqual(sum(by_call["datasets"][0]["values"]), 1)
