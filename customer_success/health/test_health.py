import json
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, add_to_date, getdate, now_datetime, nowdate

from customer_success.health import api, engine, queries
from customer_success.health import service as health
from customer_success.tests.utils import (
	change_settings,
	delete_customers,
	make_communication,
	make_contract,
	make_customer,
	make_eur_company,
	make_issue,
	make_sales_invoice,
	make_shared_users,
	make_user,
)

CSM1 = "cs-health-csm1@example.com"
CSM2 = "cs-health-csm2@example.com"
CS_MANAGER = "cs-health-manager@example.com"
SALES = "cs-health-sales@example.com"


def latest_row(customer):
	name = frappe.db.get_value(
		"Customer Health Score", {"customer": customer}, "name", order_by="score_date desc, name desc"
	)
	return frappe.get_doc("Customer Health Score", name) if name else None


def score_row(customer, day, score):
	return {
		"customer": customer,
		"model": "Standard Health Model",
		"score_date": getdate(day),
		"granularity": "Daily",
		"score": score,
		"status": "Yellow",
		"explanation": "[]",
	}


def factors_of(row):
	return {f["factor_type"]: f for f in json.loads(row.explanation)}


class HealthTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users(
			{
				CSM1: ["Customer Success Manager"],
				CSM2: ["Customer Success Manager"],
				CS_MANAGER: ["CS Manager"],
				SALES: ["Sales User"],
			}
		)

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def remove_when_done(self, *customers: str):
		"""For a test that commits (a whole-book run inline commits each chunk's writes, and with them
		everything the test made before): remove, once it ends, the customers it made and what was
		committed of them, so a long-lived site keeps none of it."""

		def remove():
			frappe.db.rollback()
			names = list(customers)
			frappe.db.delete("Customer Health Score", {"customer": ("in", names)})
			frappe.db.delete("Issue", {"customer": ("in", names)})
			delete_customers(names)
			frappe.db.commit()  # nosemgrep: remove what the test committed

		self.addCleanup(remove)


class TestFactorsFromERPNext(HealthTestCase):
	def test_issues_without_an_sla_outcome_leave_sla_breaches_unknown(self):
		"""ERPNext gives every Issue the SLA status "First Response Due" by default, SLA or not, and
		keeps it until an SLA judges it: a site without SLAs scored every customer with tickets 0 %
		breached, 100 points of the factor (tester A1). Only Fulfilled and Failed are outcomes."""
		customer = make_customer(cs_owner=CSM1, cs_tier="SMB").name
		make_issue(customer, "High")
		make_issue(customer, "Medium")
		self.assertEqual(
			set(frappe.get_all("Issue", {"customer": customer}, pluck="agreement_status")),
			{"First Response Due"},
		)
		health.recompute_customer(customer)
		factors = factors_of(latest_row(customer))
		self.assertIsNone(factors[engine.SLA_BREACHES]["raw"])
		self.assertIsNone(factors[engine.SLA_BREACHES]["sub_score"])

		make_issue(customer, "Low", agreement_status="Failed")  # one judged: 1 of 1 failed
		health.recompute_customer(customer)
		self.assertEqual(factors_of(latest_row(customer))[engine.SLA_BREACHES]["raw"], 1.0)

	def test_every_factor_from_real_records(self):
		today = getdate(nowdate())
		customer = make_customer(cs_owner=CSM1, cs_tier="SMB").name
		make_issue(customer, "High", agreement_status="Failed")
		make_issue(customer, "Low", agreement_status="Fulfilled")
		make_issue(customer, "Urgent", status="Closed", agreement_status="Fulfilled")  # closed: no load
		overdue = make_sales_invoice(
			customer, rate=1000, posting_date=add_days(today, -50), due_date=add_days(today, -40)
		)
		current = make_sales_invoice(customer, rate=3000, posting_date=today, due_date=add_days(today, 30))
		make_communication(customer, days_ago=30)
		make_contract(customer, add_days(today, -300), add_days(today, 45))
		frappe.db.set_value("Customer", customer, {"cs_csm_sentiment": "Positive", "cs_sentiment_on": today})

		health.recompute_customer(customer)
		row = latest_row(customer)
		factors = factors_of(row)

		self.assertEqual(factors[engine.SUPPORT_LOAD]["raw"], 4)  # High 3 + Low 1
		self.assertAlmostEqual(factors[engine.SUPPORT_LOAD]["sub_score"], 60)
		self.assertAlmostEqual(factors[engine.SLA_BREACHES]["raw"], 1 / 3)  # 1 failed of the 3 with an SLA
		revenue = overdue.base_grand_total + current.base_grand_total
		payment = factors[engine.PAYMENT_BEHAVIOUR]["raw"]
		self.assertAlmostEqual(payment["revenue"], revenue)
		self.assertAlmostEqual(payment["overdue_amount"], overdue.base_grand_total)
		self.assertEqual(payment["max_days_overdue"], 40)
		# nothing in the window before: the trend is unknown (it was "+100 %")
		self.assertIsNone((factors.get(engine.REVENUE_TREND) or {}).get("raw"))
		self.assertEqual(factors[engine.ENGAGEMENT_RECENCY]["raw"], 30)
		self.assertAlmostEqual(factors[engine.ENGAGEMENT_RECENCY]["sub_score"], 78.95, places=1)
		self.assertEqual(factors[engine.RENEWAL_PROXIMITY]["raw"], 45)
		self.assertAlmostEqual(factors[engine.RENEWAL_PROXIMITY]["sub_score"], 65)
		self.assertEqual(factors[engine.CSM_SENTIMENT]["raw"], "Positive")
		self.assertAlmostEqual(sum(f["contribution"] for f in factors.values()), row.score, places=1)
		self.assertEqual(row.model, "Standard Health Model")
		self.assertEqual(row.csm, CSM1)
		self.assertEqual(row.customer_name, frappe.db.get_value("Customer", customer, "customer_name"))

		cust = frappe.db.get_value(
			"Customer",
			customer,
			["cs_health_score", "cs_health_status", "cs_health_computed_on"],
			as_dict=True,
		)
		self.assertAlmostEqual(cust.cs_health_score, row.score, places=1)
		self.assertEqual(cust.cs_health_status, row.status)
		self.assertIsNotNone(cust.cs_health_computed_on)

	def test_credit_notes_are_netted(self):
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		customer = make_customer().name
		invoice = make_sales_invoice(customer, rate=1000)
		credit = make_sales_return(invoice.name)
		credit.items[0].rate = 400  # a partial credit: 400 of the 1000 back
		credit.insert()
		credit.submit()
		health.recompute_customer(customer)
		revenue = factors_of(latest_row(customer))[engine.PAYMENT_BEHAVIOUR]["raw"]["revenue"]
		self.assertAlmostEqual(revenue, invoice.base_grand_total + credit.base_grand_total)
		self.assertLess(revenue, invoice.base_grand_total)

	def test_several_companies_and_currencies_score_on_one_scale(self):
		"""Amounts billed by a EUR company are converted to the default company's currency."""
		import erpnext

		if erpnext.get_company_currency(erpnext.get_default_company()) != "USD":
			self.skipTest("the test converts EUR into a USD default company")
		eur_company = make_eur_company(rate_date=None)
		customer = make_customer().name
		usd = make_sales_invoice(
			customer, rate=1000, posting_date=add_days(nowdate(), -50), due_date=add_days(nowdate(), -40)
		)
		eur = make_sales_invoice(
			customer,
			rate=1000,
			company=eur_company,
			currency="EUR",
			conversion_rate=1,
			posting_date=add_days(nowdate(), -50),
			due_date=add_days(nowdate(), -20),
		)
		self.assertEqual((eur.company, eur.currency), (eur_company, "EUR"))
		health.recompute_customer(customer)
		payment = factors_of(latest_row(customer))[engine.PAYMENT_BEHAVIOUR]["raw"]
		self.assertAlmostEqual(payment["revenue"], usd.base_grand_total + 1.1 * eur.base_grand_total)
		self.assertAlmostEqual(
			payment["overdue_amount"], usd.outstanding_amount + 1.1 * eur.outstanding_amount
		)
		self.assertEqual(payment["max_days_overdue"], 40)

	def test_reporting_company_and_currencies_are_read_as_erpnext_reads_them(self):
		"""The rates read the default company and each company's currency as ERPNext's own helpers
		do (without importing them): for Administrator, and for a user with a default of their own."""
		import erpnext

		eur_company = make_eur_company(rate_date=None)
		self.assertEqual(queries.default_company(), erpnext.get_default_company())
		self.assertEqual(queries.company_currency(eur_company), "EUR")
		frappe.flags.company_currency = None  # erpnext's own per-request cache
		self.assertEqual(
			queries.company_currency(erpnext.get_default_company()),
			erpnext.get_company_currency(erpnext.get_default_company()),
		)
		user = make_user("cs-health-eur@example.com", ["Sales User"]).name
		frappe.defaults.set_user_default("company", eur_company, user)
		self.addCleanup(frappe.defaults.clear_user_default, "company", user)
		self.addCleanup(frappe.set_user, "Administrator")
		frappe.set_user(user)
		self.assertEqual(queries.default_company(), eur_company)
		self.assertEqual(queries.default_company(), erpnext.get_default_company())

	def test_a_missing_exchange_rate_is_counted_one_to_one_logged_once_and_not_asked_each_chunk(self):
		"""No rate for a company's currency: its amounts count 1:1, one Error Log says so, and
		ERPNext's service (no timeout, a log a failure) is not asked again by each later chunk or
		request; a Currency Exchange record added meanwhile is read at once."""
		day = getdate(add_days(nowdate(), 2))
		pair = ("CHF", "USD")
		for key in ("cs_missing_exchange_rate", "cs_missing_exchange_rate_logged"):
			frappe.cache.delete_value(f"{key}:{pair[0]}:{pair[1]}:{day}")
		frappe.db.delete("Currency Exchange", {"from_currency": pair[0], "to_currency": pair[1]})
		title = f"No exchange rate from {pair[0]} to {pair[1]}"
		logs_before = frappe.db.count("Error Log", {"method": title})
		frappe.local.cache.pop("cs_exchange_rates", None)
		with patch("erpnext.setup.utils.get_exchange_rate", return_value=0.0) as service:
			self.assertIsNone(queries.exchange_rate(*pair, day))
			self.assertEqual(service.call_count, 1)
			frappe.local.cache.pop("cs_exchange_rates", None)  # a later chunk, or another request
			self.assertIsNone(queries.exchange_rate(*pair, day))
			self.assertEqual(service.call_count, 1)
		self.assertEqual(frappe.db.count("Error Log", {"method": title}), logs_before + 1)
		message = frappe.db.get_value("Error Log", {"method": title}, "error", order_by="creation desc")
		self.assertIn("1 CHF", message)
		# a company in that currency: counted 1:1
		with patch.object(
			queries, "company_currency", side_effect=lambda c: "CHF" if c == "CS CHF" else "USD"
		):
			with patch.object(queries, "default_company", return_value="CS USD"):
				self.assertEqual(
					queries.company_rates({"CS CHF", "CS USD"}, day), {"CS CHF": 1.0, "CS USD": 1.0}
				)
		# a user records the rate: read at once, still without the service
		frappe.get_doc(
			{
				"doctype": "Currency Exchange",
				"date": day,
				"from_currency": "CHF",
				"to_currency": "USD",
				"exchange_rate": 1.13,
				"for_selling": 1,
				"for_buying": 1,
			}
		).insert()
		frappe.local.cache.pop("cs_exchange_rates", None)
		with patch("erpnext.setup.utils.get_exchange_rate", return_value=0.0) as service:
			self.assertEqual(queries.exchange_rate(*pair, day), 1.13)
			self.assertEqual(service.call_count, 0)

	def test_foreign_invoice_on_a_company_currency_receivable_is_not_converted_twice(self):
		import erpnext

		company_currency = erpnext.get_company_currency(erpnext.get_default_company())
		foreign = "EUR" if company_currency != "EUR" else "USD"
		# ERPNext books a foreign invoice to a company-currency receivable when this is allowed
		frappe.db.set_single_value(
			"Accounts Settings", "allow_multi_currency_invoices_against_single_party_account", 1
		)
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer,
			rate=1000,
			currency=foreign,
			conversion_rate=1.1,
			plc_conversion_rate=1.1,
			posting_date=add_days(nowdate(), -50),
			due_date=add_days(nowdate(), -10),
		)
		self.assertEqual(invoice.party_account_currency, company_currency)
		health.recompute_customer(customer)
		payment = factors_of(latest_row(customer))[engine.PAYMENT_BEHAVIOUR]["raw"]
		# the receivable is kept in company currency: outstanding is already base_grand_total
		self.assertAlmostEqual(payment["overdue_amount"], invoice.base_grand_total)
		self.assertAlmostEqual(payment["revenue"], invoice.base_grand_total)

	def test_cancelled_invoices_do_not_count(self):
		customer = make_customer().name
		invoice = make_sales_invoice(
			customer, rate=1000, posting_date=add_days(nowdate(), -50), due_date=add_days(nowdate(), -40)
		)
		invoice.cancel()
		health.recompute_customer(customer)
		self.assertIsNone(factors_of(latest_row(customer))[engine.PAYMENT_BEHAVIOUR]["raw"])

	def test_factor_without_data_is_left_out(self):
		customer = make_customer().name
		# support load is known (none open); the issue is older than the SLA look-back
		make_issue(customer, status="Closed", opened_days_ago=200)
		health.recompute_customer(customer)
		row = latest_row(customer)
		factors = factors_of(row)
		self.assertIsNone(factors[engine.PAYMENT_BEHAVIOUR]["sub_score"])
		self.assertEqual(factors[engine.PAYMENT_BEHAVIOUR]["contribution"], 0)
		# only support load (no open tickets: 100) has data, so it carries the whole score
		self.assertEqual(factors[engine.SUPPORT_LOAD]["effective_weight"], 100)
		self.assertEqual(row.score, 100)
		# ... but it is 10 of the model's 100 weight: too little for a colour
		self.assertEqual(row.status, engine.INSUFFICIENT_DATA)

	def test_contact_communication_counts_as_engagement(self):
		customer = make_customer().name
		contact = frappe.get_doc(
			{
				"doctype": "Contact",
				"first_name": "Engaged",
				"links": [{"link_doctype": "Customer", "link_name": customer}],
			}
		).insert(ignore_permissions=True)
		# a communication about the contact
		make_communication(customer, days_ago=9, reference_doctype="Contact", reference_name=contact.name)
		health.recompute_customer(customer)
		self.assertEqual(factors_of(latest_row(customer))[engine.ENGAGEMENT_RECENCY]["raw"], 9)
		# an email linked to the contact on its timeline (as incoming mail is)
		comm = make_communication(
			customer, days_ago=3, reference_doctype="Issue", reference_name=make_issue(customer).name
		)
		comm.add_link("Contact", contact.name)
		comm.save(ignore_permissions=True)
		health.recompute_customer(customer)
		self.assertEqual(factors_of(latest_row(customer))[engine.ENGAGEMENT_RECENCY]["raw"], 3)

	def test_automated_messages_are_not_engagement(self):
		customer = make_customer().name
		make_communication(customer, days_ago=20)
		automated = make_communication(customer, days_ago=1)
		frappe.db.set_value("Communication", automated.name, "communication_type", "Automated Message")
		health.recompute_customer(customer)
		self.assertEqual(factors_of(latest_row(customer))[engine.ENGAGEMENT_RECENCY]["raw"], 20)

	def test_stale_sentiment_stops_counting(self):
		customer = make_customer().name
		frappe.db.set_value(
			"Customer",
			customer,
			{"cs_csm_sentiment": "Critical", "cs_sentiment_on": add_days(nowdate(), -40)},
		)
		with change_settings(sentiment_validity_days=30):
			health.recompute_customer(customer)
		self.assertIsNone(factors_of(latest_row(customer))[engine.CSM_SENTIMENT]["raw"])
		frappe.set_user("Administrator")
		self.assertTrue(api.get_customer_health(customer)["sentiment_stale"])

	def test_trend_against_30_days_ago(self):
		customer = make_customer().name
		make_issue(customer, "Low")
		with change_settings(min_known_weight_share=10):  # support load alone gives a colour
			health.recompute_customer(customer)
			today_score = latest_row(customer).score
			queries.upsert_scores([score_row(customer, add_days(nowdate(), -30), 40.0)])
			health.recompute_customer(customer)
		self.assertAlmostEqual(latest_row(customer).trend, today_score - 40.0)

	def test_plan_factors_from_real_plans_and_milestones(self):
		from customer_success.tests.utils import make_success_plan

		frappe.get_doc(
			{
				"doctype": "Health Score Model",
				"model_name": "_CS Test Plan Factors",
				"applies_to_tier": "Enterprise",
				"factors": [
					{"factor_type": engine.OBJECTIVE_PROGRESS, "weight": 50, "enabled": 1},
					{"factor_type": engine.MILESTONE_PUNCTUALITY, "weight": 50, "enabled": 1},
				],
			}
		).insert()
		customer = make_customer(cs_tier="Enterprise").name
		start = add_days(nowdate(), -60)
		plan = make_success_plan(customer, start_date=start)
		self.assertEqual(plan.progress, 50)  # baseline 10 -> target 60, now 35
		frappe.db.set_value("Success Plan", plan.name, "status", "Active")
		for title, due, status, completed in (
			("Kick-off", add_days(start, 5), "Done", add_days(start, 4)),  # on time
			("Training", add_days(start, 20), "Done", add_days(start, 30)),  # late
			("Go-live", add_days(start, 40), "Not Started", None),  # overdue
			("Later", add_days(nowdate(), 20), "Not Started", None),  # not due yet: not counted
		):
			frappe.get_doc(
				{
					"doctype": "Success Plan Milestone",
					"title": title,
					"success_plan": plan.name,
					"customer": customer,
					"due_date": due,
					"status": status,
					"completed_on": completed,
				}
			).insert(ignore_permissions=True)
		health.recompute_customer(customer)
		factors = factors_of(latest_row(customer))
		self.assertEqual(factors[engine.OBJECTIVE_PROGRESS]["raw"], 50)
		self.assertAlmostEqual(factors[engine.MILESTONE_PUNCTUALITY]["raw"], 1 / 3)
		self.assertAlmostEqual(factors[engine.MILESTONE_PUNCTUALITY]["sub_score"], 33.33, places=1)
		self.assertAlmostEqual(latest_row(customer).score, (50 + 33.33) / 2, places=1)
		records = api.get_factor_records(customer, engine.MILESTONE_PUNCTUALITY)
		self.assertEqual(len(records["records"]), 3)

	def test_an_unchanged_model_keeps_its_specs_and_an_edited_one_is_scored_as_edited(self):
		model = frappe.get_doc(
			{
				"doctype": "Health Score Model",
				"model_name": "_CS Test Kept Specs",
				"applies_to_tier": "Enterprise",
				"factors": [
					{"factor_type": engine.SUPPORT_LOAD, "weight": 50, "enabled": 1},
					{"factor_type": engine.ENGAGEMENT_RECENCY, "weight": 50, "enabled": 1},
				],
			}
		).insert()
		first = health.load_models()["by_tier"]["Enterprise"]["specs"]
		# the next chunk's load: the same spec objects, so the engine's plan and memos carry on
		self.assertIs(health.load_models()["by_tier"]["Enterprise"]["specs"], first)
		customer = make_customer(cs_tier="Enterprise", cs_live=1).name
		make_issue(customer, "Urgent")  # support load 4 of a worst 10: sub-score 60
		with change_settings(min_known_weight_share=10):
			health.recompute_customer(customer)
			self.assertAlmostEqual(factors_of(latest_row(customer))[engine.SUPPORT_LOAD]["weight"], 50)
			model.reload()
			model.factors[0].weight = 30
			model.factors[0].parameters = json.dumps({"worst_value": 5})
			model.factors[1].weight = 70
			model.save()
			edited = health.load_models()["by_tier"]["Enterprise"]["specs"]
			self.assertIsNot(edited, first)
			self.assertEqual([spec.weight for spec in edited], [30.0, 70.0])
			health.recompute_customer(customer)
		factor = factors_of(latest_row(customer))[engine.SUPPORT_LOAD]
		self.assertEqual(factor["weight"], 30)
		self.assertAlmostEqual(factor["sub_score"], 20.0)  # 4 of a worst 5

	def test_tier_model_is_used(self):
		tier_model = frappe.get_doc(
			{
				"doctype": "Health Score Model",
				"model_name": "_CS Test Strategic",
				"applies_to_tier": "Strategic",
				"green_min": 80,
				"red_below": 50,
				"factors": [{"factor_type": "Support Load", "weight": 100, "enabled": 1}],
			}
		).insert()
		customer = make_customer(cs_tier="Strategic").name
		health.recompute_customer(customer)
		self.assertEqual(latest_row(customer).model, tier_model.name)


class TestNightlyJob(HealthTestCase):
	def test_end_to_end_idempotent(self):
		a = make_customer(cs_owner=CSM1).name
		b = make_customer(cs_owner=CSM2).name
		self.remove_when_done(a, b)
		make_issue(a, "High")
		run = health.start_recompute(trigger="Nightly", now=True)
		run.reload()
		self.assertEqual(run.status, "Completed")
		self.assertEqual(run.chunks_done, run.chunks_total)
		self.assertGreaterEqual(run.customers_scored, 2)
		first = {c: latest_row(c).score for c in (a, b)}

		health.start_recompute(trigger="Nightly", now=True)
		for c in (a, b):
			self.assertEqual(
				frappe.db.count("Customer Health Score", {"customer": c, "score_date": getdate(nowdate())}), 1
			)
			self.assertEqual(latest_row(c).score, first[c])

	def test_failure_is_isolated_and_logged(self):
		good = make_customer(f"_CS Test Iso A {frappe.generate_hash(length=5)}").name
		bad = make_customer(f"_CS Test Iso B {frappe.generate_hash(length=5)}").name
		real = health.score_customer

		def flaky(customer, *args, **kwargs):
			if customer["name"] == bad:
				raise ValueError("corrupt data")
			return real(customer, *args, **kwargs)

		lo, hi = sorted([good, bad])
		with patch("customer_success.health.service.score_customer", side_effect=flaky):
			result = health.score_range(lo, hi)
		self.assertEqual(result["failed"], [bad])
		self.assertIsNotNone(latest_row(good))
		self.assertIsNone(latest_row(bad))
		self.assertTrue(
			frappe.db.exists("Error Log", {"reference_doctype": "Customer", "reference_name": bad})
		)

	def test_a_zero_date_stored_past_frappe_is_no_date_not_a_failed_range(self):
		"""A lax import (sql_mode without NO_ZERO_DATE) can store 0000-00-00 in a Customer's date
		fields: the range is still scored, that date read as none."""
		zero = make_customer(f"_CS Test Zero A {frappe.generate_hash(length=5)}", cs_live=1).name
		other = make_customer(f"_CS Test Zero B {frappe.generate_hash(length=5)}", cs_live=1).name
		mode = frappe.db.sql("select @@session.sql_mode")[0][0]
		frappe.db.sql("set session sql_mode = ''")
		try:
			frappe.db.sql(
				"""update `tabCustomer` set `cs_override_until` = '0000-00-00', `cs_health_override` = 30,
				`cs_sentiment_on` = '0000-00-00', `cs_csm_sentiment` = 'Positive' where `name` = %s""",
				zero,
			)
		finally:
			frappe.db.sql("set session sql_mode = %s", mode)
		self.assertIsNone(queries.iso_date("0000-00-00"))
		self.assertIsNone(queries.iso_datetime("0000-00-00 00:00:00"))
		lo, hi = sorted([zero, other])
		result = health.score_range(lo, hi)
		self.assertEqual(result["failed"], [])
		self.assertEqual(latest_row(zero).is_override, 0)  # an override with no expiry is not active
		self.assertIsNotNone(latest_row(other))

	def test_second_start_is_skipped_while_running(self):
		running = health.new_run("Manual", "Running", None, chunks_total=3)
		run = health.start_recompute(trigger="Nightly", now=True)
		self.assertEqual(run.status, "Skipped")
		self.assertIn(str(running.name), run.message)
		frappe.db.delete("Health Recompute Run", {"name": ("in", (running.name, run.name))})
		frappe.db.commit()  # nosemgrep

	def test_stale_run_does_not_hold_the_lock(self):
		stale = health.new_run("Nightly", "Running", None, chunks_total=3)
		frappe.db.set_value(
			"Health Recompute Run",
			stale.name,
			"modified",
			add_to_date(now_datetime(), hours=-7),
			update_modified=False,
		)
		run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual(frappe.db.get_value("Health Recompute Run", run.name, "status"), "Completed")
		self.assertEqual(frappe.db.get_value("Health Recompute Run", stale.name, "status"), "Failed")

	def test_chunks_go_to_the_long_queue_when_workers_listen(self):
		self.remove_when_done(make_customer().name)
		frappe.flags.in_test = False
		try:
			with (
				patch("customer_success.health.service.long_queue_worker_count", return_value=1),
				patch("frappe.enqueue") as enqueue,
			):
				run = health.start_recompute(trigger="Nightly")
		finally:
			frappe.flags.in_test = True
		self.assertEqual(run.status, "Running")
		self.assertEqual(enqueue.call_count, run.chunks_total)
		kwargs = enqueue.call_args.kwargs
		self.assertEqual((kwargs["queue"], kwargs["now"], kwargs["deduplicate"]), ("long", False, True))
		frappe.db.set_value("Health Recompute Run", run.name, "status", "Failed")
		frappe.db.commit()  # nosemgrep: release the lock this test's run holds

	def test_without_workers_the_chunks_wait_on_the_long_queue(self):
		customer = make_customer().name
		self.remove_when_done(customer)
		frappe.flags.in_test = False
		try:
			with (
				patch("customer_success.health.service.long_queue_worker_count", return_value=0),
				patch("frappe.enqueue") as enqueue,
			):
				run = health.start_recompute(trigger="Nightly")
		finally:
			frappe.flags.in_test = True
		self.assertEqual(frappe.db.get_value("Health Recompute Run", run.name, "status"), "Queued")
		self.assertEqual(enqueue.call_count, run.chunks_total)
		self.assertIsNone(latest_row(customer))
		frappe.db.set_value("Health Recompute Run", run.name, "status", "Failed")
		frappe.db.commit()  # nosemgrep: release the lock this test's run holds

	def test_nightly_switch_off(self):
		before = frappe.db.count("Health Recompute Run")
		with change_settings(recompute_health_nightly=0):
			self.assertIsNone(health.nightly_recompute())
		self.assertEqual(frappe.db.count("Health Recompute Run"), before)

	def test_job_is_scheduled(self):
		hooks = frappe.get_hooks("scheduler_events")
		self.assertIn(
			"customer_success.health.jobs.nightly_recompute",
			[m for ms in hooks["cron"].values() for m in ms],
		)


class TestHistory(HealthTestCase):
	def test_pruning_keeps_one_row_per_month(self):
		customer = make_customer().name
		today = getdate("2026-11-15")
		days = [add_days(today, -n) for n in range(1, 251)]
		queries.upsert_scores([score_row(customer, d, 50.0) for d in days])
		health.prune_history(today, retention_days=180)
		cutoff = getdate("2026-05-01")  # first day of the month 180 days before
		rows = frappe.get_all(
			"Customer Health Score", filters={"customer": customer}, fields=["score_date", "granularity"]
		)
		old = [r for r in rows if r.score_date < cutoff]
		recent = [r for r in rows if r.score_date >= cutoff]
		self.assertTrue(all(r.granularity == "Monthly" for r in old))
		self.assertEqual(len(old), len({(r.score_date.year, r.score_date.month) for r in old}))
		self.assertEqual(len(recent), len([d for d in days if getdate(d) >= cutoff]))
		health.prune_history(today, retention_days=180)
		self.assertEqual(frappe.db.count("Customer Health Score", {"customer": customer}), len(rows))


class TestOverrides(HealthTestCase):
	def test_override_keeps_computed_score_and_lapses(self):
		customer = make_customer(cs_owner=CSM1).name
		make_issue(customer, "Urgent")
		frappe.set_user(CSM1)
		row = api.set_override(customer, 95, "Exec sponsor confirmed renewal", add_days(nowdate(), 5))
		self.assertEqual(row["score"], 95)
		self.assertTrue(row["is_override"])
		self.assertNotEqual(row["computed_score"], 95)
		frappe.set_user("Administrator")

		frappe.db.set_value("Customer", customer, "cs_override_until", add_days(nowdate(), -1))
		health.recompute_customer(customer)
		latest = latest_row(customer)
		self.assertFalse(latest.is_override)
		self.assertEqual(latest.score, latest.computed_score)
		health.lapse_expired_overrides()
		self.assertIsNone(frappe.db.get_value("Customer", customer, "cs_override_until"))
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_override"), 0)

	def test_override_counts_for_a_customer_without_data(self):
		frappe.get_doc(
			{
				"doctype": "Health Score Model",
				"model_name": "_CS Test Billing Only",
				"applies_to_tier": "SMB",
				"factors": [{"factor_type": engine.PAYMENT_BEHAVIOUR, "weight": 100, "enabled": 1}],
			}
		).insert()
		customer = make_customer(cs_owner=CSM1, cs_tier="SMB").name  # never invoiced: no data
		health.recompute_customer(customer)
		self.assertEqual(latest_row(customer).status, engine.INSUFFICIENT_DATA)
		row = api.set_override(
			customer, 80, "Strong sponsor, billing starts next month", add_days(nowdate(), 5)
		)
		self.assertEqual((row["score"], row["is_override"]), (80, 1))
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), "Green")

	def test_clear_override(self):
		customer = make_customer(cs_owner=CSM1).name
		make_issue(customer, "Urgent")
		frappe.set_user(CSM1)
		api.set_override(customer, 95, "Sponsor confirmed", add_days(nowdate(), 5))
		row = api.clear_override(customer)
		frappe.set_user("Administrator")
		self.assertFalse(row["is_override"])
		self.assertEqual(row["score"], row["computed_score"])
		self.assertIsNone(frappe.db.get_value("Customer", customer, "cs_override_until"))
		self.assertIsNone(frappe.db.get_value("Customer", customer, "cs_override_reason"))

	def test_bad_override_changes_nothing(self):
		customer = make_customer(cs_owner=CSM1).name
		for args in (
			(150, "reason", add_days(nowdate(), 3)),
			(50, "  ", add_days(nowdate(), 3)),
			(50, "reason", add_days(nowdate(), -1)),
			(50, "reason", add_days(nowdate(), 400)),
		):
			with self.assertRaises(frappe.ValidationError):
				api.set_override(customer, *args)
		with self.assertRaisesRegex(frappe.ValidationError, "must be a number from 0 to 100"):
			api.set_override(customer, "high", "reason", add_days(nowdate(), 3))  # the app's message
		self.assertIsNone(frappe.db.get_value("Customer", customer, "cs_override_until"))
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_override"), 0)

	def test_sentiment_validation(self):
		customer = make_customer(cs_owner=CSM1).name
		with self.assertRaises(frappe.ValidationError):
			api.set_sentiment(customer, "Ecstatic")
		row = api.set_sentiment(customer, "Concerned")
		self.assertIsNotNone(row)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_csm_sentiment"), "Concerned")


class TestPermissions(HealthTestCase):
	def test_csm_sees_own_book_manager_sees_all_others_nothing(self):
		mine = make_customer(cs_owner=CSM1).name
		theirs = make_customer(cs_owner=CSM2).name
		health.recompute_customer(mine)
		health.recompute_customer(theirs)

		frappe.set_user(CSM1)
		visible = set(frappe.get_list("Customer Health Score", pluck="customer", limit_page_length=0))
		self.assertIn(mine, visible)
		self.assertNotIn(theirs, visible)
		self.assertFalse(frappe.has_permission("Customer Health Score", "read", latest_row(theirs)))
		with self.assertRaises(frappe.PermissionError):
			api.set_override(theirs, 50, "not mine", add_days(nowdate(), 3))
		with self.assertRaises(frappe.PermissionError):
			api.recompute_customer(theirs)

		frappe.set_user(CS_MANAGER)
		visible = set(frappe.get_list("Customer Health Score", pluck="customer", limit_page_length=0))
		self.assertTrue({mine, theirs} <= visible)

		frappe.set_user(SALES)
		self.assertFalse(frappe.has_permission("Customer Health Score", "read"))
		with self.assertRaises(frappe.PermissionError):
			frappe.get_list("Customer Health Score")
		with self.assertRaises(frappe.PermissionError):
			api.get_factor_records(mine, engine.SUPPORT_LOAD)

	def test_factor_records_show_the_documents_behind(self):
		customer = make_customer(cs_owner=CSM1).name
		invoice = make_sales_invoice(
			customer, rate=500, posting_date=add_days(nowdate(), -45), due_date=add_days(nowdate(), -15)
		)
		issue = make_issue(customer, "High", agreement_status="Failed")
		records = api.get_factor_records(customer, engine.PAYMENT_BEHAVIOUR)
		self.assertEqual(records["doctype"], "Sales Invoice")
		self.assertEqual([r.name for r in records["records"]], [invoice.name])
		records = api.get_factor_records(customer, engine.SLA_BREACHES)
		self.assertEqual([r.name for r in records["records"]], [issue.name])


class TestCustomerFieldsGuard(HealthTestCase):
	"""A normal save (form, REST, import) cannot move customers between books or set scores."""

	def save_as(self, user, customer, **values):
		frappe.set_user(user)
		try:
			doc = frappe.get_doc("Customer", customer)
			doc.update(values)
			doc.save()
		finally:
			frappe.set_user("Administrator")

	def test_csm_cannot_take_over_another_csms_customer(self):
		theirs = make_customer(cs_owner=CSM2).name
		with self.assertRaises(frappe.PermissionError):
			self.save_as(CSM1, theirs, cs_owner=CSM1)
		with self.assertRaises(frappe.PermissionError):
			self.save_as(CSM1, theirs, cs_lifecycle_stage="Churned")
		self.assertEqual(frappe.db.get_value("Customer", theirs, "cs_owner"), CSM2)

	def test_scores_and_overrides_are_not_set_by_hand(self):
		mine = make_customer(cs_owner=CSM1).name
		# silently kept as stored (test_health_runs has the open-form cases)
		self.save_as(CSM1, mine, cs_health_override=99, cs_override_until=add_days(nowdate(), 9))
		self.save_as(CS_MANAGER, mine, cs_health_status="Green")
		self.assertIsNone(frappe.db.get_value("Customer", mine, "cs_override_until"))
		self.assertFalse(frappe.db.get_value("Customer", mine, "cs_health_status"))

	def test_who_may_change_what(self):
		mine = make_customer(cs_owner=CSM1).name
		self.save_as(CSM1, mine, cs_lifecycle_stage="Adoption", cs_tier="Enterprise")
		self.assertEqual(frappe.db.get_value("Customer", mine, "cs_lifecycle_stage"), "Adoption")
		self.save_as(CS_MANAGER, mine, cs_owner=CSM2)
		self.assertEqual(frappe.db.get_value("Customer", mine, "cs_owner"), CSM2)
		# unrelated edits by other teams are untouched by the guard, even with our dates on the doc
		frappe.db.set_value("Customer", mine, "cs_sentiment_on", nowdate())
		self.save_as(SALES, mine, customer_details="Prefers email")
		self.assertEqual(frappe.db.get_value("Customer", mine, "customer_details"), "Prefers email")
