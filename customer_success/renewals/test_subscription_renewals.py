"""Renewals from ERPNext Subscriptions (real Subscription Plans on a real Item, real Sales Invoices):
made once per term, worth from the invoices or the plans, renewed when extended, rolled over or
replaced, churned when cancelled; and renewals closed at an Unknown worth that take it when the new
term's invoices arrive (the invoice's hook and the nightly pass)."""

import frappe
from frappe.utils import add_days, add_to_date, getdate

from customer_success.renewals import api, engine, queries, service
from customer_success.renewals.test_renewals import (
	CSM,
	MANAGER,
	OTHER_CSM,
	RenewalTestCase,
	make_contract,
	make_credit_note,
	today,
)
from customer_success.tests.utils import (
	change_settings,
	default_company,
	make_customer,
	make_sales_invoice,
	make_subscription,
	make_subscription_plan,
)

BEGINNING = "Beginning of the current subscription period"


def subscription_renewal(subscription):
	return frappe.get_doc("Renewal", {"subscription": subscription, "status": "Open"})


def sub_invoice(subscription, rate, start, end, posting_date=None, **fields):
	"""A submitted Sales Invoice of the subscription billing the service period start..end."""
	doc = frappe.get_doc("Subscription", subscription)
	return make_sales_invoice(
		doc.party,
		rate=rate,
		posting_date=posting_date or start,
		subscription=subscription,
		from_date=getdate(start),
		to_date=getdate(end),
		**fields,
	)


class TestSubscriptionRenewals(RenewalTestCase):
	def test_a_subscription_ending_in_the_window_gets_one_renewal_worth_its_plans(self):
		customer = make_customer(cs_owner=CSM).name
		plan = make_subscription_plan(cost=1000)  # monthly
		sub = make_subscription(customer, add_days(today(), -300), add_days(today(), 60), [(plan, 2)])
		far = make_subscription(customer, add_days(today(), -10), add_days(today(), 400), [(plan, 1)])
		monthly_evergreen = make_subscription(customer, add_days(today(), -100), None, [(plan, 1)])
		names = [sub.name, far.name, monthly_evergreen.name]

		created = service.create_subscription_renewals(today(), subscriptions=names)
		self.assertEqual(len(created), 1, "only the one ending within the window")
		self.assertEqual(service.create_subscription_renewals(today(), subscriptions=names), [])
		self.assertEqual(frappe.db.count("Renewal", {"subscription": ("in", names)}), 1)

		doc = frappe.get_doc("Renewal", created[0])
		self.assertEqual(
			(doc.source_type, doc.subscription, doc.contract or None, doc.customer, doc.csm),
			("Subscription", sub.name, None, customer, CSM),
		)
		self.assertEqual(getdate(doc.end_date), add_days(today(), 60))
		self.assertEqual(getdate(doc.contract_start), add_days(today(), -300))
		self.assertAlmostEqual(doc.revenue_at_stake, 24000.0, places=2)  # 1,000 a month x 2 seats
		self.assertIn("plans", doc.revenue_basis)
		self.assertEqual(
			[(row.checkpoint, getdate(row.due_date)) for row in doc.checkpoints],
			engine.checkpoint_dates(add_days(today(), 60)),
		)
		with self.assertRaises(frappe.DuplicateEntryError):
			frappe.get_doc(
				{"doctype": "Renewal", "source_type": "Subscription", "subscription": sub.name}
			).insert()
		with self.assertRaises(frappe.ValidationError):  # a monthly evergreen has no renewal term
			frappe.get_doc(
				{"doctype": "Renewal", "source_type": "Subscription", "subscription": monthly_evergreen.name}
			).insert()

	def test_a_plan_priced_in_a_currency_with_no_rate_has_no_worth_not_zero(self):
		"""A plan in a currency nothing converts (no Currency Exchange record, no service): its
		subscription's worth from the plans cannot be told (None), never 0."""
		from unittest.mock import patch

		frappe.db.delete("Currency Exchange", {"from_currency": "CHF"})
		frappe.local.cache.pop("cs_exchange_rates", None)
		frappe.cache.delete_value(f"cs_missing_exchange_rate:CHF:USD:{today()}")
		swiss = make_customer(cs_owner=CSM, default_currency="CHF").name  # billed in CHF
		customer = make_customer(cs_owner=CSM).name
		plan = make_subscription_plan(cost=1000, currency="CHF")
		home = make_subscription_plan(cost=1000)
		sub = make_subscription(swiss, add_days(today(), -300), add_days(today(), 60), [(plan, 1)])
		other = make_subscription(customer, add_days(today(), -300), add_days(today(), 60), [(home, 1)])
		with patch("erpnext.setup.utils.get_exchange_rate", return_value=0.0):
			worth = queries.plans_annual(queries.subscription_rows([sub.name, other.name]), today())
		self.assertIsNone(worth[sub.name])
		self.assertAlmostEqual(worth[other.name], 12000.0, places=2)

	def test_the_nightly_pass_makes_subscription_renewals_once(self):
		customer = make_customer(cs_owner=CSM).name
		sub = make_subscription(customer, add_days(today(), -300), add_days(today(), 50))
		first = service.run_nightly(commit=False)
		name = subscription_renewal(sub.name).name
		self.assertIn(name, first["created"])
		self.assertNotIn(name, service.run_nightly(commit=False)["created"])
		self.assertEqual(frappe.db.count("Renewal", {"subscription": sub.name}), 1)
		# its checkpoints are raised like a contract's: a ToDo for the CSM
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": name, "allocated_to": CSM}))

	def test_worth_from_its_own_invoices_over_the_days_they_bill_credit_notes_netted(self):
		customer = make_customer(cs_owner=CSM).name
		plan = make_subscription_plan(cost=1000)
		sub = make_subscription(customer, add_days(today(), -300), add_days(today(), 60), [(plan, 1)])
		make_sales_invoice(customer, rate=5000, posting_date=add_days(today(), -40))  # not the subscription's
		starts = [add_days(today(), d) for d in (-90, -60, -30)]
		invoices = [sub_invoice(sub.name, 1100, s, add_days(s, 29)) for s in starts]
		make_credit_note(invoices[0], 300, posting_date=add_days(today(), -20))
		service.create_subscription_renewals(today(), subscriptions=[sub.name])
		doc = subscription_renewal(sub.name)
		# (3 x 1,100 - 300) over 90 days billed, a year's worth
		self.assertAlmostEqual(doc.revenue_at_stake, round(3000 * 365 / 90, 2), places=2)
		self.assertIn("invoices", doc.revenue_basis)

	def test_a_yearly_subscription_with_no_end_date_renews_each_year(self):
		customer = make_customer(cs_owner=CSM).name
		plan = make_subscription_plan(cost=12000, interval="Year")
		sub = make_subscription(
			customer, add_days(today(), -300), None, [(plan, 1)], generate_invoice_at=BEGINNING
		)
		term_end = getdate(sub.current_invoice_end)
		self.assertEqual(term_end, getdate(add_to_date(add_days(today(), -300), years=1, days=-1)))
		(name,) = service.create_subscription_renewals(today(), subscriptions=[sub.name])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((getdate(doc.end_date), doc.revenue_at_stake), (term_end, 12000.0))

		# ERPNext rolls the billing period over: the term renewed by itself (the Subscription hook)
		sub.reload()
		sub.update_subscription_period(add_days(term_end, 1))
		sub.save(ignore_permissions=True)
		doc.reload()
		self.assertEqual(
			(doc.status, doc.renewed_subscription, doc.auto_closed, doc.change_type),
			("Renewed", sub.name, 1, "Flat"),
		)
		self.assertEqual(doc.renewed_amount, 12000.0)
		# the new term gets a renewal of its own when it comes within the window, once
		with change_settings(renewal_record_days=500):
			self.assertEqual(len(service.create_subscription_renewals(today(), subscriptions=[sub.name])), 1)
			self.assertEqual(service.create_subscription_renewals(today(), subscriptions=[sub.name]), [])
		self.assertEqual(frappe.db.count("Renewal", {"subscription": sub.name}), 2)

	def test_an_extended_end_date_closes_it_as_renewed_with_the_expansion(self):
		customer = make_customer(cs_owner=CSM).name
		plan = make_subscription_plan(cost=1000)
		sub = make_subscription(customer, add_days(today(), -300), add_days(today(), 60), [(plan, 1)])
		(name,) = service.create_subscription_renewals(today(), subscriptions=[sub.name])
		service.raise_due_checkpoints(today())
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": name, "status": "Open"}))

		sub.reload()
		sub.plans[0].qty = 3  # the upsell signed with the renewal
		sub.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("Renewal", name, "status"), "Open", "not renewed yet")
		# ERPNext's form sets Subscription End Date once; a data import or the database moves it
		frappe.db.set_value("Subscription", sub.name, "end_date", add_days(today(), 425))
		self.assertEqual(service.run_nightly(commit=False)["subscriptions"]["renewed"], [name])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((doc.status, doc.renewed_subscription), ("Renewed", sub.name))
		self.assertEqual((doc.revenue_at_stake, doc.renewed_amount), (12000.0, 36000.0))
		self.assertEqual((doc.change_amount, doc.change_type), (24000.0, "Expansion"))
		self.assertFalse(frappe.db.exists("ToDo", {"reference_name": name, "status": "Open"}))
		self.assertEqual(service.close_subscription_renewals(renewals=[name]), {"renewed": [], "churned": []})

	def test_a_new_subscription_for_the_customer_renews_it(self):
		customer = make_customer(cs_owner=CSM).name
		plan = make_subscription_plan(cost=1000)
		old = make_subscription(customer, add_days(today(), -300), add_days(today(), 60), [(plan, 1)])
		(name,) = service.create_subscription_renewals(today(), subscriptions=[old.name])
		self.assertEqual(service.close_subscription_renewals(renewals=[name])["renewed"], [])
		cheaper = make_subscription_plan(cost=800)
		# the new subscription's own hook closes the old term's renewal at once
		new = make_subscription(customer, add_days(today(), 61), add_days(today(), 425), [(cheaper, 1)])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((doc.status, doc.renewed_subscription), ("Renewed", new.name))
		self.assertEqual(
			(doc.renewed_amount, doc.change_amount, doc.change_type), (9600.0, -2400.0, "Contraction")
		)

	def test_a_cancelled_subscription_churns_its_renewal(self):
		lone = make_customer(cs_owner=CSM, cs_lifecycle_stage="Renewal").name
		busy = make_customer(cs_owner=CSM, cs_lifecycle_stage="Adoption").name
		plan = make_subscription_plan(cost=1000)
		subs = {
			c: make_subscription(
				c, add_days(today(), -300), add_days(today(), 60), [(plan, 1)], generate_invoice_at=BEGINNING
			)
			for c in (lone, busy)
		}
		make_contract(busy, add_days(today(), -30), add_days(today(), 335))  # still runs for them
		service.create_subscription_renewals(today(), subscriptions=[s.name for s in subs.values()])
		names = {c: subscription_renewal(s.name).name for c, s in subs.items()}
		service.raise_due_checkpoints(today())

		for sub in subs.values():
			sub.reload()
			sub.cancel_subscription()  # ERPNext's own action; the hook closes the renewal
		for customer, name in names.items():
			doc = frappe.get_doc("Renewal", name)
			self.assertEqual((doc.status, doc.churn_reason, doc.auto_closed), ("Churned", "Other", 1))
			self.assertIn(subs[customer].name, doc.churn_note)
			self.assertEqual(getdate(doc.closed_on), today())
			self.assertEqual(doc.weighted_revenue, 0)
			self.assertFalse(frappe.db.exists("ToDo", {"reference_name": name, "status": "Open"}))
		self.assertEqual(frappe.db.get_value("Customer", lone, "cs_lifecycle_stage"), "Churned")
		self.assertEqual(
			frappe.db.get_value("Customer", busy, "cs_lifecycle_stage"), "Adoption", "its contract runs on"
		)

	def test_a_csm_sees_her_books_subscription_renewals_and_the_forecast_lists_them(self):
		from customer_success.renewals.report.renewal_forecast import renewal_forecast

		mine = make_customer(cs_owner=CSM).name
		theirs = make_customer(cs_owner=OTHER_CSM).name
		subs = [
			make_subscription(c, add_days(today(), -300), add_days(today(), 45)).name for c in (mine, theirs)
		]
		service.create_subscription_renewals(today(), subscriptions=subs)
		my_renewal, their_renewal = (subscription_renewal(s).name for s in subs)
		frappe.set_user(CSM)
		visible = set(frappe.get_list("Renewal", filters={"subscription": ("in", subs)}, pluck="name"))
		self.assertEqual(visible, {my_renewal})
		with self.assertRaises(frappe.PermissionError):
			api.mark_churned(their_renewal, "Price")
		_columns, data, *_rest = renewal_forecast.execute({})
		rows = {row.renewal: row for row in data}
		self.assertIn(my_renewal, rows)
		self.assertNotIn(their_renewal, rows)
		self.assertEqual(
			(rows[my_renewal].subscription, rows[my_renewal].revenue_at_stake), (subs[0], 12000.0)
		)
		(shown,) = [r for r in api.customer_renewals(mine) if r.name == my_renewal]
		self.assertEqual(shown.subscription, subs[0])

	def test_mark_renewed_by_a_subscription_checks_it_is_the_customers(self):
		customer = make_customer(cs_owner=CSM).name
		sub = make_subscription(customer, add_days(today(), -300), add_days(today(), 60))
		(name,) = service.create_subscription_renewals(today(), subscriptions=[sub.name])
		elsewhere = make_subscription(make_customer().name, add_days(today(), 61), add_days(today(), 425))
		frappe.set_user(CSM)
		with self.assertRaises(frappe.ValidationError):
			api.mark_renewed(name, subscription=elsewhere.name)
		self.assertEqual(frappe.db.get_value("Renewal", name, "status"), "Open")
		api.mark_renewed(name, subscription=sub.name, amount=15000)
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((doc.status, doc.renewed_amount, doc.change_type), ("Renewed", 15000.0, "Expansion"))

	def test_the_subscription_pickers_list_her_books_subscriptions_for_the_cs_roles(self):
		"""Mark Renewed's *Renewed by Subscription* and the form's *Subscription* search with the
		app's query: the CS roles do not read ERPNext's Subscriptions, and frappe's own search refused
		them ("Not permitted", tester A2). Not cancelled, of customers she may read; of the renewal's
		customer in the dialog; through frappe's search endpoint as the desk calls it."""
		from frappe.desk.search import search_link

		query = "customer_success.renewals.api.subscriptions_to_renew"
		mine, theirs = make_customer(cs_owner=CSM).name, make_customer(cs_owner=OTHER_CSM).name
		live = make_subscription(mine, add_days(today(), -300), add_days(today(), 60))
		other_mine = make_subscription(mine, add_days(today(), -30), add_days(today(), 335))
		cancelled = make_subscription(
			mine, add_days(today(), -300), add_days(today(), 60), generate_invoice_at=BEGINNING
		)
		cancelled.reload()
		cancelled.cancel_subscription()
		self.assertEqual(frappe.db.get_value("Subscription", cancelled.name, "status"), "Cancelled")
		their = make_subscription(theirs, add_days(today(), -300), add_days(today(), 60))
		ours = {live.name, other_mine.name, cancelled.name, their.name}

		frappe.set_user(CSM)
		with self.assertRaises(frappe.PermissionError):  # frappe's own search: what the desk did
			search_link("Subscription", "")

		def found(**filters):
			rows = search_link("Subscription", "", query=query, filters=filters, page_length=100)
			return {row["value"] for row in rows} & ours

		self.assertEqual(found(customer=mine), {live.name, other_mine.name})
		self.assertEqual(found(), {live.name, other_mine.name}, "only her book's, none cancelled")
		self.assertEqual(found(customer=theirs), set(), "another book's customer: nothing")
		with self.assertRaises(frappe.PermissionError):
			api.subscriptions_to_renew("Subscription", "", "name", 0, 10, {"customer": theirs})
		typed = search_link("Subscription", live.name, query=query, filters={"customer": mine})
		self.assertEqual([row["value"] for row in typed], [live.name])

		frappe.set_user(MANAGER)
		self.assertEqual(found(), {live.name, other_mine.name, their.name})
		frappe.set_user("Guest")
		with self.assertRaises(frappe.PermissionError):
			api.subscriptions_to_renew("Subscription", "", "name", 0, 10, {})


class TestUnknownRenewedWorth(RenewalTestCase):
	"""A renewal closed as Renewed while the new term showed no revenue (change type Unknown) takes its
	worth, and the expansion or contraction, once the new term's invoices arrive."""

	def renewed_unknown(self, new_start_days=-60):
		"""A contract worth 12,000 a year renewed by a contract starting `new_start_days` from today
		that has no invoice yet: closed as Renewed, Unknown."""
		customer = make_customer(cs_owner=CSM).name
		old_end = add_days(today(), new_start_days - 1)
		old = make_contract(customer, add_days(old_end, -364), old_end)
		for days in (-340, -250, -160, -70):
			make_sales_invoice(customer, rate=3000, posting_date=add_days(old_end, days))
		service.create_renewals(add_days(old_end, -60), contracts=[old.name])
		name = frappe.db.get_value("Renewal", {"contract": old.name})
		new = make_contract(customer, add_days(old_end, 1), add_days(old_end, 365))
		self.assertEqual(service.close_renewed([name]), [name])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual(
			(doc.revenue_at_stake, doc.change_type, doc.renewed_contract), (12000.0, "Unknown", new.name)
		)
		return customer, new, name

	def test_an_invoice_billing_the_new_terms_first_month_promotes_it(self):
		customer, new, name = self.renewed_unknown()
		start = getdate(new.start_date)
		make_sales_invoice(
			customer, rate=1200, posting_date=start, from_date=start, to_date=add_days(start, 29)
		)  # 1,200 for 30 days: 14,600 a year (the Sales Invoice hook)
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual(doc.status, "Renewed")
		self.assertEqual((doc.renewed_amount, doc.change_type), (14600.0, "Expansion"))
		self.assertEqual(doc.change_amount, 2600.0)
		self.assertEqual(doc.weighted_revenue, 14600.0)
		# idempotent: nothing left to promote, and another invoice does not move it
		self.assertEqual(service.promote_unknown(), [])
		make_sales_invoice(
			customer,
			rate=900,
			posting_date=add_days(start, 30),
			from_date=add_days(start, 30),
			to_date=add_days(start, 59),
		)
		self.assertEqual(frappe.db.get_value("Renewal", name, "renewed_amount"), 14600.0)

	def test_a_first_monthly_bill_without_a_service_period_leaves_it_unknown(self):
		customer, new, name = self.renewed_unknown(new_start_days=-20)
		make_sales_invoice(customer, rate=1000, posting_date=new.start_date)
		self.assertEqual(service.promote_unknown(), [])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual((doc.change_type, doc.renewed_amount), ("Unknown", 0))
		self.assertEqual(doc.weighted_revenue, 12000.0, "still counted at the old term's worth")

	def test_the_nightly_pass_promotes_what_the_hook_missed_once(self):
		customer, new, name = self.renewed_unknown(new_start_days=-365)
		# an upfront bill for the whole new year, submitted while the hook failed (simulated: the
		# renewal is put back to Unknown afterwards)
		make_sales_invoice(customer, rate=10000, posting_date=new.start_date)
		frappe.db.set_value(
			"Renewal", name, {"renewed_amount": 0, "change_amount": 0, "change_type": "Unknown"}
		)
		result = service.run_nightly(commit=False)
		self.assertEqual(result["promoted"], [name])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual(
			(doc.renewed_amount, doc.change_amount, doc.change_type), (10000.0, -2000.0, "Contraction")
		)
		self.assertEqual(service.run_nightly(commit=False)["promoted"], [])

	def test_a_subscription_renewed_with_no_price_known_takes_its_new_terms_invoices(self):
		customer = make_customer(cs_owner=CSM).name
		# a price-list plan whose item has no price in that list: the plan tells no worth
		price_list = frappe.get_doc(
			{
				"doctype": "Price List",
				"price_list_name": f"_CS Test Empty {frappe.generate_hash(length=6)}",
				"currency": frappe.db.get_value("Company", default_company(), "default_currency"),
				"selling": 1,
			}
		).insert(ignore_permissions=True)
		plan = make_subscription_plan(
			cost=0, price_determination="Based On Price List", price_list=price_list.name
		)
		sub = make_subscription(customer, add_days(today(), -400), add_days(today(), -31), [(plan, 1)])
		sub_invoice(sub.name, 1000, add_days(today(), -61), add_days(today(), -32))  # the old term's
		(name,) = service.create_subscription_renewals(add_days(today(), -50), subscriptions=[sub.name])
		at_stake = engine.per_year(1000, 30)
		self.assertEqual(frappe.db.get_value("Renewal", name, "revenue_at_stake"), at_stake)

		start = add_days(today(), -30)
		# renewed by a new subscription on the same plan (the Subscription hook closes the renewal)
		new = make_subscription(customer, start, add_days(start, 364), [(plan, 1)])
		doc = frappe.get_doc("Renewal", name)
		self.assertEqual(
			(doc.status, doc.renewed_subscription, doc.change_type), ("Renewed", new.name, "Unknown")
		)

		sub_invoice(new.name, 900, start, add_days(start, 29))  # the new term's first month arrives
		doc.reload()
		self.assertEqual((doc.renewed_amount, doc.change_type), (engine.per_year(900, 30), "Contraction"))
		self.assertAlmostEqual(doc.change_amount, engine.per_year(900, 30) - at_stake, places=2)
		self.assertEqual(queries.unknown_renewals([name]), [])
