"""The renewals room's reports, against figures worked out by hand on real invoices and contracts:
Revenue Retention, Renewal Forecast, Revenue Leakage; and each keeps a CSM to her own book."""

import frappe
from frappe.utils import add_days, add_months, get_first_day, get_last_day, getdate, nowdate

from customer_success.renewals import engine, service
from customer_success.renewals.report.renewal_forecast import renewal_forecast
from customer_success.renewals.report.revenue_leakage import revenue_leakage
from customer_success.renewals.report.revenue_retention import revenue_retention
from customer_success.renewals.test_renewals import (
	CSM,
	MANAGER,
	OTHER_CSM,
	RenewalTestCase,
	make_contract,
	make_credit_note,
	renewal_of,
	today,
)
from customer_success.tests.utils import make_customer, make_sales_invoice, make_sales_order, make_user

BOOK = "cs-rn-book@example.com"  # a CSM of the tests' own, so the site's other data stays out


def make_renewal(owner, health, rate, end_in):
	"""The renewal of a one-year contract of a new customer of `owner`'s, with that health, ending in
	`end_in` days, its order at `rate`."""
	customer = make_customer(cs_owner=owner).name
	frappe.db.set_value("Customer", customer, "cs_health_status", health)
	order = make_sales_order(customer, rate=rate)
	contract = make_contract(customer, add_days(today(), end_in - 364), add_days(today(), end_in), order.name)
	service.create_renewals(today(), contracts=[contract.name])
	return renewal_of(contract.name)


def rows_of(report, **filters):
	_columns, data, *_rest = report.execute(frappe._dict(filters))
	return data


class TestRevenueRetention(RenewalTestCase):
	def setUp(self):
		make_user(BOOK, ["Customer Success Manager"])
		self.point = getdate(get_last_day(add_months(nowdate(), -1)))  # last month's end
		(p_first, _p_last), (c_first, _c_last) = engine.retention_windows(self.point)
		self.before = add_days(p_first, 40)  # inside the cohort window
		self.after = add_days(c_first, 40)  # inside the measured window
		self.p_first, self.c_first = p_first, c_first

	def invoice(self, customer, rate, day, **fields):
		return make_sales_invoice(customer, rate=rate, posting_date=day, due_date=day, **fields)

	def make_book(self):
		frappe.db.set_single_value(
			"Accounts Settings", "allow_multi_currency_invoices_against_single_party_account", 1
		)
		c = {
			key: make_customer(cs_owner=BOOK, cs_tier="Mid-Market").name
			for key in ("grow", "shrink", "gone", "foreign", "new")
		}
		# grow: 1,200 less a 200 credit note before (1,000), 1,500 after: expansion 500
		first = self.invoice(c["grow"], 1200, self.before)
		make_credit_note(first, 200)
		self.invoice(c["grow"], 1500, self.after)
		# shrink: 2,000 before; 1,500 less a 300 credit note after (1,200): contraction 800
		self.invoice(c["shrink"], 2000, self.before)
		later = self.invoice(c["shrink"], 1500, self.after)
		make_credit_note(later, 300)
		# gone: 1,000 before, nothing after: churn 1,000
		self.invoice(c["gone"], 1000, self.before)
		# foreign: EUR 1,000 at 1.1 before and after: 1,100 each side, flat
		import erpnext

		foreign = "EUR" if erpnext.get_company_currency(erpnext.get_default_company()) != "EUR" else "USD"
		for day in (self.before, self.after):
			self.invoice(
				c["foreign"], 1000, day, currency=foreign, conversion_rate=1.1, plc_conversion_rate=1.1
			)
		# new: only after: in neither
		self.invoice(c["new"], 700, self.after)
		# an invoice older than the cohort window counts nowhere
		self.invoice(c["gone"], 5000, add_days(self.p_first, -5))
		return c

	def test_grr_and_nrr_by_hand(self):
		self.make_book()
		(row,) = rows_of(
			revenue_retention, from_date=self.point, to_date=self.point, periodicity="Monthly", csm=BOOK
		)
		self.assertEqual(getdate(row["period_end"]), self.point)
		self.assertEqual(row["customers"], 4)
		self.assertAlmostEqual(row["starting_revenue"], 5100.0)  # 1,000 + 2,000 + 1,000 + 1,100
		self.assertAlmostEqual(row["expansion"], 500.0)
		self.assertAlmostEqual(row["contraction"], 800.0)
		self.assertAlmostEqual(row["churn"], 1000.0)
		self.assertAlmostEqual(row["grr"], 64.71)  # (5,100 - 800 - 1,000) / 5,100
		self.assertAlmostEqual(row["nrr"], 74.51)  # (5,100 + 500 - 800 - 1,000) / 5,100
		self.assertEqual(row["churned_customers"], 1)

	def test_tier_and_stage_filters_and_periods(self):
		c = self.make_book()
		frappe.db.set_value("Customer", c["gone"], "cs_tier", "SMB")
		(row,) = rows_of(
			revenue_retention, from_date=self.point, to_date=self.point, csm=BOOK, tier="Mid-Market"
		)
		self.assertEqual((row["customers"], row["churn"]), (3, 0))
		self.assertAlmostEqual(row["grr"], round(100 * (4100 - 800) / 4100, 2))
		frappe.db.set_value("Customer", c["gone"], "cs_lifecycle_stage", "Churned")
		(row,) = rows_of(
			revenue_retention, from_date=self.point, to_date=self.point, csm=BOOK, lifecycle_stage="Churned"
		)
		self.assertEqual((row["customers"], row["churn"], row["grr"]), (1, 1000.0, 0.0))
		rows = rows_of(
			revenue_retention,
			from_date=get_first_day(add_months(self.point, -5)),
			to_date=self.point,
			periodicity="Quarterly",
			csm=BOOK,
		)
		self.assertTrue(all(getdate(r["period_end"]).month in (3, 6, 9, 12) for r in rows[:-1]))
		self.assertEqual(getdate(rows[-1]["period_end"]), self.point)

	def test_a_csm_reads_only_her_book(self):
		self.make_book()
		frappe.set_user(OTHER_CSM)
		(row,) = rows_of(revenue_retention, from_date=self.point, to_date=self.point)
		self.assertEqual((row["customers"], row["starting_revenue"]), (0, 0))
		frappe.set_user(BOOK)
		(row,) = rows_of(revenue_retention, from_date=self.point, to_date=self.point)
		self.assertEqual(row["customers"], 4)
		# another CSM's name: an empty report, not her own book under that name
		self.assertEqual(
			rows_of(revenue_retention, from_date=self.point, to_date=self.point, csm=OTHER_CSM), []
		)
		frappe.set_user(OTHER_CSM)
		self.assertEqual(rows_of(revenue_retention, from_date=self.point, to_date=self.point, csm=BOOK), [])

	def test_bad_dates_are_refused(self):
		with self.assertRaises(frappe.ValidationError):
			rows_of(revenue_retention, from_date=today(), to_date=add_days(today(), -1))
		# a period wholly after today: said, not an empty report
		with self.assertRaisesRegex(frappe.ValidationError, "after today"):
			rows_of(revenue_retention, from_date=add_days(today(), 30), to_date=add_days(today(), 300))

	def test_bad_filters_are_refused_with_what_to_fix(self):
		for filters, named in (
			({"periodicity": "Weekly"}, "Periodicity"),
			({"tier": "Platinum Plus"}, "CS Tier"),
			({"lifecycle_stage": "Dormant"}, "Lifecycle Stage"),
			({"company": "No Such Company CS-RR"}, "Company"),
			({"csm": "nobody-cs-rr@example.com"}, "CSM"),
			({"customer": "No Such Customer CS-RR"}, "Customer"),
		):
			with self.subTest(filters=filters), self.assertRaises(frappe.ValidationError) as refused:
				rows_of(revenue_retention, from_date=self.point, to_date=self.point, **filters)
			self.assertIn(named, str(refused.exception))

	def test_a_period_not_finished_is_read_to_today_never_beyond(self):
		customer = make_customer(cs_owner=BOOK, cs_tier="Mid-Market").name
		for months in range(24):  # the same bill every month, this month's included
			self.invoice(customer, 1000, add_months(today(), -months))
		rows = rows_of(
			revenue_retention,
			from_date=add_months(today(), -1),
			to_date=add_months(today(), 5),
			customer=customer,
		)
		self.assertEqual(getdate(rows[-1]["period_end"]), today(), "the last period is read up to today")
		self.assertTrue(all(getdate(r["period_end"]) <= today() for r in rows))
		last = rows[-1]
		self.assertEqual((last["customers"], last["starting_revenue"]), (1, 12000.0))
		self.assertEqual((last["contraction"], last["churn"], last["grr"]), (0, 0, 100.0))


class TestRenewalForecast(RenewalTestCase):
	def setUp(self):
		make_user(BOOK, ["Customer Success Manager"])

	def renewal(self, health, rate, end_in):
		return make_renewal(BOOK, health, rate, end_in)

	def test_weighted_revenue_and_disagreements_first(self):
		calm = self.renewal("Green", 10000, 30)
		red = self.renewal("Red", 20000, 120)
		churned = self.renewal("Yellow", 5000, 60)
		frappe.set_user(BOOK)
		from customer_success.renewals import api

		api.record_checkpoint(red.name, "6 Months", "Will Renew", 20000)
		api.mark_churned(churned.name, "Price")
		frappe.set_user("Administrator")

		_columns, data, message, chart, summary = renewal_forecast.execute(
			frappe._dict(from_date=today(), to_date=add_days(today(), 180), csm=BOOK)
		)
		self.assertEqual([r.renewal for r in data], [red.name, calm.name, churned.name])
		self.assertIn("Red 30%", message)
		by_name = {r.renewal: r for r in data}
		self.assertEqual(by_name[red.name].disagreement, 1)
		self.assertEqual(
			(by_name[red.name].latest_call, by_name[red.name].signal_status), ("Will Renew", "Red")
		)
		self.assertAlmostEqual(by_name[red.name].expected_revenue, 20000 * 0.3)
		self.assertAlmostEqual(by_name[calm.name].expected_revenue, 10000 * 0.9)
		self.assertEqual(by_name[churned.name].expected_revenue, 0)
		self.assertEqual(by_name[churned.name].churn_reason, "Price")
		self.assertAlmostEqual(summary[1]["value"], 35000.0)
		self.assertAlmostEqual(summary[2]["value"], 15000.0)
		self.assertEqual(summary[3]["value"], 1)
		months = chart["data"]["labels"]
		self.assertEqual(months, sorted({str(getdate(r.end_date))[:7] for r in data}))
		self.assertAlmostEqual(sum(chart["data"]["datasets"][0]["values"]), 35000.0)
		# status filter
		open_rows = rows_of(
			renewal_forecast, from_date=today(), to_date=add_days(today(), 180), csm=BOOK, status="Open"
		)
		self.assertEqual({r.renewal for r in open_rows}, {red.name, calm.name})

	def test_a_csm_sees_only_her_renewals_whatever_the_filter(self):
		self.renewal("Green", 10000, 30)
		frappe.set_user(OTHER_CSM)
		self.assertEqual(rows_of(renewal_forecast, csm=BOOK), [])
		frappe.set_user(BOOK)  # her own renewal is not listed under another CSM's name
		self.assertEqual(len(rows_of(renewal_forecast)), 1)
		self.assertEqual(rows_of(renewal_forecast, csm=OTHER_CSM), [])
		self.assertEqual(rows_of(revenue_leakage, csm=OTHER_CSM), [])
		frappe.set_user(MANAGER)
		self.assertEqual(len(rows_of(renewal_forecast, csm=BOOK)), 1)


class TestTheTeamsForecastCountsEveryRenewal(RenewalTestCase):
	"""The team's forecast lists the first LISTED renewals in the forecast's order (patched small here)
	and counts every renewal of the period in its totals and chart."""

	def setUp(self):
		make_user(BOOK, ["Customer Success Manager"])
		self.period = {"from_date": today(), "to_date": add_days(today(), 180)}

	def run_report(self, user=MANAGER, listed=None, **filters):
		from unittest.mock import patch

		frappe.set_user(user)
		with patch.object(renewal_forecast, "LISTED", listed or renewal_forecast.LISTED):
			_columns, data, message, chart, summary = renewal_forecast.execute(
				frappe._dict(self.period, **filters)
			)
		frappe.set_user("Administrator")
		return data, message, chart, {row["label"]: row["value"] for row in summary}

	def renewed_by_order(self, health, stake, end_in, rate):
		renewal = make_renewal(BOOK, health, stake, end_in)
		order = make_sales_order(renewal.customer, rate=rate)
		service.mark_renewed(frappe.get_doc("Renewal", renewal.name), order=order.name)
		return renewal

	def make_period(self):
		"""Ten renewals of BOOK's (open, renewed three ways, churned; Green, Yellow, Red, no colour; two
		disagreements; a tie on end date and revenue at stake) and what each one is expected to bring."""
		from customer_success.renewals import api

		r = {
			"calm": make_renewal(BOOK, "Green", 10000, 30),  # 10,000 x 90%
			"red": make_renewal(BOOK, "Red", 20000, 40),  # 20,000 x 30%, Will Renew: disagrees
			"red_too": make_renewal(BOOK, "Red", 8000, 40),  # 8,000 x 30%, Will Renew: disagrees
			"tie_a": make_renewal(BOOK, "Yellow", 5000, 70),  # 5,000 x 60%
			"tie_b": make_renewal(BOOK, "Yellow", 5000, 70),  # the same end date and stake
			"grey": make_renewal(BOOK, "Insufficient Data", 4000, 100),  # 4,000 x 50%
			"grown": self.renewed_by_order("Yellow", 10000, 50, 13000),  # renewed: 13,000
			"shrunk": self.renewed_by_order("Red", 10000, 50, 8000),  # renewed: 8,000
			"unknown": make_renewal(BOOK, "Red", 6000, 60),  # renewed, worth unknown: 6,000
			"gone": make_renewal(BOOK, "Red", 7000, 80),  # churned: 0
		}
		new_term = make_contract(
			r["unknown"].customer, add_days(today(), 61), add_days(today(), 425)
		)  # no order, no invoice: its worth is not known yet
		service.mark_renewed(frappe.get_doc("Renewal", r["unknown"].name), contract=new_term.name)
		frappe.set_user(BOOK)
		api.record_checkpoint(r["red"].name, "6 Months", "Will Renew", 20000)
		api.record_checkpoint(r["red_too"].name, "6 Months", "Will Renew", 8000)
		api.record_checkpoint(r["gone"].name, "6 Months", "Will Churn", 0)
		api.mark_churned(r["gone"].name, "Price")
		frappe.set_user("Administrator")
		r = {key: frappe.get_doc("Renewal", renewal.name) for key, renewal in r.items()}
		self.assertEqual(
			[r[key].change_type for key in ("grown", "shrunk", "unknown")],
			["Expansion", "Contraction", "Unknown"],
		)
		brings = {
			"calm": 9000,
			"red": 6000,
			"red_too": 2400,
			"tie_a": 3000,
			"tie_b": 3000,
			"grey": 2000,
			"grown": 13000,
			"shrunk": 8000,
			"unknown": 6000,
			"gone": 0,
		}
		return r, brings

	def old_computation(self, filters: dict, csm=None):
		"""Every renewal read and weighed row by row (the report before it was bounded)."""
		from customer_success.renewals import queries

		rows = queries.forecast_rows(frappe._dict(self.period, **filters), csm)
		renewal_forecast.weigh(rows, None)
		months = {}
		for row in rows:
			month = months.setdefault(str(row.end_date)[:7], [0.0, 0.0])
			month[0] += float(row.revenue_at_stake or 0)
			month[1] += row.expected_revenue
		return engine.forecast_order(rows), months

	def test_totals_and_chart_count_every_renewal_while_the_listing_is_bounded(self):
		_data, _message, chart_before, before = self.run_report(listed=3)
		months_before = (
			dict(
				zip(
					chart_before["data"]["labels"],
					zip(*(d["values"] for d in chart_before["data"]["datasets"]), strict=True),
					strict=True,
				)
			)
			if chart_before["data"]["labels"]
			else {}
		)
		r, brings = self.make_period()
		data, message, chart, after = self.run_report(listed=3)

		# by hand: what the ten renewals added
		self.assertEqual(after["Renewals"] - before["Renewals"], 10)
		stake = sum(doc.revenue_at_stake for doc in r.values())
		self.assertAlmostEqual(stake, 85000.0, places=2)
		self.assertAlmostEqual(
			after["Revenue at Stake (Annual)"] - before["Revenue at Stake (Annual)"], stake, places=2
		)
		self.assertAlmostEqual(
			after["Health-Weighted Expected Revenue"] - before["Health-Weighted Expected Revenue"],
			52400.0,
			places=2,
		)
		self.assertEqual(after["CSM and Signal Disagree"] - before["CSM and Signal Disagree"], 2)
		added = {}
		for key, doc in r.items():
			month = added.setdefault(str(doc.end_date)[:7], [0.0, 0.0])
			month[0] += doc.revenue_at_stake
			month[1] += brings[key]
		now = dict(
			zip(
				chart["data"]["labels"],
				zip(*(d["values"] for d in chart["data"]["datasets"]), strict=True),
				strict=True,
			)
		)
		for month, (at_stake, expected) in added.items():
			was = months_before.get(month, (0.0, 0.0))
			self.assertAlmostEqual(now[month][0] - was[0], at_stake, places=2)
			self.assertAlmostEqual(now[month][1] - was[1], expected, places=2)

		# the same as every row read and weighed one by one
		rows, months = self.old_computation({})
		self.assertEqual(after["Renewals"], len(rows))
		self.assertAlmostEqual(
			after["Revenue at Stake (Annual)"], sum(float(x.revenue_at_stake or 0) for x in rows), places=2
		)
		self.assertAlmostEqual(
			after["Health-Weighted Expected Revenue"], sum(x.expected_revenue for x in rows), places=2
		)
		self.assertEqual(after["CSM and Signal Disagree"], sum(x.disagreement for x in rows))
		self.assertEqual(sorted(now), sorted(months))
		for month, (at_stake, expected) in months.items():
			self.assertAlmostEqual(now[month][0], at_stake, places=2)
			self.assertAlmostEqual(now[month][1], expected, places=2)

		# the database's groups are the engine's groups of the rows
		from customer_success.renewals import queries

		def keyed(groups):
			return sorted(
				(
					*(str(g[k]) for k in engine.FORECAST_GROUP_KEYS),
					g["renewals"],
					round(g["revenue_at_stake"], 2),
					round(g["renewed_amount"], 2),
				)
				for g in groups
			)

		filters = frappe._dict(self.period)
		self.assertEqual(
			keyed(queries.forecast_groups(filters, None)),
			keyed(engine.forecast_groups(queries.forecast_rows(filters, None))),
		)

		# the listing: the first three of the engine's order, the message says so
		self.assertEqual([x.renewal for x in data], [x.renewal for x in rows[:3]])
		self.assertIn(f"Showing the first 3 of {len(rows)} renewals", message)

	def test_the_listing_is_the_engines_order_cut_anywhere(self):
		r, _brings = self.make_period()
		rows, _months = self.old_computation({})
		disagreements = sum(x.disagreement for x in rows)
		self.assertGreaterEqual(disagreements, 2)
		self.assertLess(rows.index(next(x for x in rows if x.renewal == r["tie_a"].name)), len(rows) - 1)
		for listed in sorted({1, disagreements, disagreements + 1, len(rows) - 1, len(rows), len(rows) + 5}):
			data, message, _chart, _summary = self.run_report(listed=listed)
			self.assertEqual([x.renewal for x in data], [x.renewal for x in rows[:listed]], listed)
			self.assertTrue(all(x.disagreement for x in data[: min(listed, disagreements)]), listed)
			self.assertEqual("Showing the first" in message, listed < len(rows), listed)
		# the tie on end date and revenue at stake: by the renewal's name, as the engine orders it
		names = [x.renewal for x in rows]
		tie = sorted([r["tie_a"].name, r["tie_b"].name])
		self.assertEqual(names.index(tie[1]), names.index(tie[0]) + 1)
		# a tier is read through the customers: the same order
		for doc in r.values():
			frappe.db.set_value("Customer", doc.customer, "cs_tier", "Strategic")
		tiered, _months = self.old_computation({"tier": "Strategic"})
		data, _message, _chart, summary = self.run_report(listed=4, tier="Strategic")
		self.assertEqual([x.renewal for x in data], [x.renewal for x in tiered[:4]])
		self.assertEqual(summary["Renewals"], len(tiered))

	def test_a_customer_or_a_csms_book_lists_all_of_theirs(self):
		r, brings = self.make_period()
		customer = r["calm"].customer
		order = make_sales_order(customer, rate=3000)
		contract = make_contract(customer, add_days(today(), 120 - 364), add_days(today(), 120), order.name)
		service.create_renewals(today(), contracts=[contract.name])
		data, message, _chart, summary = self.run_report(listed=1, customer=customer)
		self.assertEqual({x.renewal for x in data}, {r["calm"].name, renewal_of(contract.name).name})
		self.assertNotIn("Showing the first", message)
		self.assertEqual(summary["Renewals"], 2)
		self.assertAlmostEqual(summary["Health-Weighted Expected Revenue"], 9000 + 3000 * 0.9, places=2)
		# a CSM: all of her book (and only hers), its totals and chart too
		mine = {doc.name for doc in r.values()} | {renewal_of(contract.name).name}
		frappe.set_user(BOOK)  # another CSM's name: nothing (not her own book under that name)
		self.assertEqual(renewal_forecast.execute(frappe._dict(self.period, csm=OTHER_CSM))[1], [])
		for user, filters in ((BOOK, {}), (MANAGER, {"csm": BOOK})):
			data, message, chart, summary = self.run_report(user=user, listed=1, **filters)
			self.assertEqual({x.renewal for x in data}, mine, (user, filters))
			self.assertNotIn("Showing the first", message)
			self.assertEqual(summary["Renewals"], 11)
			self.assertAlmostEqual(summary["Revenue at Stake (Annual)"], 88000.0, places=2)
			self.assertAlmostEqual(
				summary["Health-Weighted Expected Revenue"], sum(brings.values()) + 2700, places=2
			)
			self.assertEqual(summary["CSM and Signal Disagree"], 2)
			self.assertAlmostEqual(sum(chart["data"]["datasets"][0]["values"]), 88000.0, places=2)
		data, _message, _chart, summary = self.run_report(user=OTHER_CSM, listed=1)
		self.assertFalse({x.renewal for x in data} & mine)

	def test_bad_filters_are_refused_with_what_to_fix(self):
		for filters in (
			{"status": "Maybe"},
			{"customer": "No Such Customer CS-RN"},
			{"csm": "nobody-cs-rn@example.com"},
			{"tier": "Platinum Plus"},
			{"lifecycle_stage": "Dormant"},
		):
			with self.assertRaises(frappe.ValidationError, msg=str(filters)):
				self.run_report(**filters)
		with self.assertRaises(frappe.ValidationError):
			self.run_report(from_date=add_days(today(), 10), to_date=today())
		# what was typed is shown as text, never as markup
		with self.assertRaises(frappe.ValidationError) as refused:
			self.run_report(customer="<img src=x onerror=alert(1)>")
		self.assertIn("&lt;img", str(refused.exception))
		self.assertNotIn("<img", str(refused.exception))


class TestABookReadsTheTeamsRows(RenewalTestCase):
	"""A book's reads start from its customers (`queries.renewals_with_customers`), the team's from
	the renewals: the same rows and figures either way."""

	def setUp(self):
		make_user(BOOK, ["Customer Success Manager"])

	def renewal(self, owner, health, rate, end_in):
		return make_renewal(owner, health, rate, end_in)

	def make_books(self):
		from customer_success.renewals import queries

		mine = [
			self.renewal(BOOK, "Green", 10000, 20),
			self.renewal(BOOK, "Red", 20000, 50),
			self.renewal(BOOK, "Yellow", 5000, 50),
			self.renewal(BOOK, "Green", 7000, 150),
		]
		theirs = [self.renewal(OTHER_CSM, "Red", 9000, 50), self.renewal(OTHER_CSM, "Green", 3000, 90)]
		queries.refresh_open_renewals([r.name for r in mine + theirs])
		frappe.set_user(BOOK)
		from customer_success.renewals import api

		api.record_checkpoint(mine[1].name, "6 Months", "Will Renew", 20000)  # a disagreement
		api.record_checkpoint(mine[3].name, "6 Months", "At Risk", 6000)
		frappe.set_user("Administrator")
		return mine, theirs

	def test_a_csms_forecast_is_the_teams_rows_of_her_book(self):
		mine, theirs = self.make_books()
		period = {"from_date": today(), "to_date": add_days(today(), 180)}
		frappe.set_user(MANAGER)
		from unittest.mock import patch

		with patch.object(renewal_forecast, "LISTED", 10**6):  # every renewal, on a site with many too
			team = rows_of(renewal_forecast, **period)
		by_filter = rows_of(renewal_forecast, csm=BOOK, **period)
		frappe.set_user(BOOK)
		hers = rows_of(renewal_forecast, **period)
		self.assertEqual(hers, [row for row in team if row.csm == BOOK])
		self.assertEqual(by_filter, hers)
		self.assertEqual([r.renewal for r in hers], [mine[1].name, mine[0].name, mine[2].name, mine[3].name])
		self.assertTrue({r.name for r in theirs} <= {r.renewal for r in team})
		expected = [
			(mine[1], "Red", 0.3),
			(mine[0], "Green", 0.9),
			(mine[2], "Yellow", 0.6),
			(mine[3], "Green", 0.9),
		]
		for row, (renewal, signal, weight) in zip(hers, expected, strict=True):
			self.assertEqual(
				(row.signal_status, row.weight, row.disagreement),
				(signal, 100 * weight, int(signal == "Red")),
			)
			self.assertAlmostEqual(row.expected_revenue, renewal.revenue_at_stake * weight, places=2)

	def test_either_side_leading_reads_the_same_rows(self):
		from unittest.mock import patch

		from customer_success.renewals import queries

		self.make_books()
		until = add_days(today(), 180)
		period = {"from_date": today(), "to_date": until}
		frappe.set_user(BOOK)
		read = {}
		for book_leads in (True, False):
			with patch.object(queries, "book_is_smaller", return_value=book_leads):
				read[book_leads] = (
					rows_of(renewal_forecast, **period),
					queries.window_figures(today(), until, BOOK),
					sorted(queries.at_risk_names(today(), until, BOOK)),
					sorted(
						(r.month, r.signal_status, r["count"])
						for r in queries.renewals_by_month(today(), until, BOOK)
					),
				)
		self.assertEqual(len(read[True][0]), 4)
		self.assertEqual(read[True], read[False])

	def test_a_tier_or_stage_read_from_its_customers_lists_the_same_rows(self):
		"""The team's forecast with a tier or stage: its customers leading (a rare one) or the
		renewals leading, the same rows and figures."""
		from unittest.mock import patch

		from customer_success.renewals import queries

		mine, theirs = self.make_books()
		for renewal in (mine[0], mine[1], theirs[0]):
			frappe.db.set_value(
				"Customer", renewal.customer, {"cs_tier": "Strategic", "cs_lifecycle_stage": "Expansion"}
			)
		period = {"from_date": today(), "to_date": add_days(today(), 180)}
		frappe.set_user(MANAGER)
		for filters in ({"tier": "Strategic"}, {"lifecycle_stage": "Expansion"}):
			read = {}
			for customers_lead in (True, False):
				with (
					patch.object(queries, "segment_is_smaller", return_value=customers_lead),
					patch.object(renewal_forecast, "LISTED", 10**6),
				):
					_columns, data, _message, _chart, summary = renewal_forecast.execute(
						frappe._dict(period, **filters)
					)
				read[customers_lead] = (data, summary)
			self.assertEqual(read[True], read[False], filters)
			self.assertTrue(
				{mine[0].name, mine[1].name, theirs[0].name} <= {row.renewal for row in read[True][0]}
			)

	def test_the_smaller_side_leads(self):
		from customer_success.renewals import queries

		self.make_books()
		until = add_days(today(), 180)
		self.assertTrue(queries.book_is_smaller(BOOK, today(), until))  # 4 customers, 6+ renewals
		renewals = frappe.db.count("Renewal", {"end_date": ["between", [today(), until]]})
		for _ in range(renewals - 4):  # as many customers as renewals: the renewals lead
			make_customer(cs_owner=BOOK)
		self.assertFalse(queries.book_is_smaller(BOOK, today(), until))

	def test_a_books_cards_and_charts_count_her_renewals_only(self):
		from customer_success.renewals import queries

		until = add_days(today(), 180)
		team_before = queries.window_figures(today(), until, None)
		months_before = queries.renewals_by_month(today(), until, None)
		mine, theirs = self.make_books()
		stake = {r.name: r.revenue_at_stake for r in mine + theirs}
		# at risk: Red, Yellow, and the At Risk call
		at_risk = {mine[1].name, mine[2].name, mine[3].name}
		figures = queries.window_figures(today(), until, BOOK)
		self.assertEqual((figures["count"], figures["at_risk"]), (4, 3))
		self.assertAlmostEqual(figures["revenue_at_risk"], sum(stake[name] for name in at_risk))
		self.assertEqual(figures["by_call"], {"": 2, "Will Renew": 1, "At Risk": 1})
		self.assertEqual(set(queries.at_risk_names(today(), until, BOOK)), at_risk)
		team = queries.window_figures(today(), until, None)
		self.assertEqual(team["count"] - team_before["count"], 6)
		self.assertEqual(team["at_risk"] - team_before["at_risk"], 4)  # and their Red one

		def by_key(rows):
			return {(row.month, row.signal_status): int(row["count"]) for row in rows}

		month = str(add_days(today(), 50))[:7]
		hers = by_key(queries.renewals_by_month(today(), until, BOOK))
		self.assertEqual((hers[(month, "Red")], hers[(month, "Yellow")]), (1, 1))
		self.assertEqual(sum(hers.values()), 4)
		team_months, before = by_key(queries.renewals_by_month(today(), until, None)), by_key(months_before)
		added = {key: n - before.get(key, 0) for key, n in team_months.items() if n != before.get(key, 0)}
		self.assertEqual(sum(added.values()), 6)
		self.assertEqual(added[(month, "Red")], 2, "hers and theirs ending in the same month")


class TestRevenueLeakage(RenewalTestCase):
	def setUp(self):
		make_user(BOOK, ["Customer Success Manager"])

	def test_each_kind_of_leak(self):
		expired = make_customer(cs_owner=BOOK).name
		make_contract(expired, add_days(today(), -465), add_days(today(), -100))
		late = make_sales_invoice(expired, rate=900, posting_date=add_days(today(), -50))
		make_sales_invoice(expired, rate=800, posting_date=add_days(today(), -200))  # covered: no leak

		unsigned = make_customer(cs_owner=BOOK).name
		paper = make_contract(unsigned, add_days(today(), -100), add_days(today(), 265), signed=False)
		bare = make_sales_invoice(unsigned, rate=700, posting_date=add_days(today(), -20))

		ending = make_customer(cs_owner=BOOK).name
		order = make_sales_order(ending, rate=3650)
		soon = make_contract(ending, add_days(today(), -300), add_days(today(), 64), order.name)

		auto = make_customer(cs_owner=BOOK).name
		renewing = make_contract(
			auto, add_days(today(), -200), add_days(today(), 200), cs_auto_renew=1, cs_notice_days=190
		)

		data = rows_of(
			revenue_leakage, from_date=add_days(today(), -365), to_date=add_days(today(), 180), csm=BOOK
		)
		found = {(r["kind"], r["reference_name"]) for r in data}
		self.assertEqual(
			found,
			{
				(revenue_leakage.EXPIRED, late.name),
				(revenue_leakage.UNSIGNED, bare.name),
				(revenue_leakage.NO_RENEWAL, soon.name),  # the auto-renewal ends after To Date
				(revenue_leakage.NOTICE, renewing.name),
			},
		)
		rows = {(r["kind"], r["reference_name"]): r for r in data}
		self.assertAlmostEqual(rows[(revenue_leakage.EXPIRED, late.name)]["amount"], 900.0)
		self.assertEqual(rows[(revenue_leakage.UNSIGNED, bare.name)]["contract"], paper.name)
		self.assertAlmostEqual(rows[(revenue_leakage.NO_RENEWAL, soon.name)]["amount"], 3650.0)
		self.assertEqual(
			getdate(rows[(revenue_leakage.NOTICE, renewing.name)]["date"]), getdate(add_days(today(), 10))
		)

		# once the renewals exist, their contracts no longer leak
		service.create_renewals(today(), contracts=[soon.name, renewing.name])
		data = rows_of(
			revenue_leakage,
			from_date=add_days(today(), -365),
			to_date=add_days(today(), 180),
			csm=BOOK,
			kind=revenue_leakage.NO_RENEWAL,
		)
		self.assertEqual(data, [])

		frappe.set_user(OTHER_CSM)
		self.assertEqual(rows_of(revenue_leakage, csm=BOOK), [])
		frappe.set_user(CSM)
		self.assertEqual(rows_of(revenue_leakage, csm=BOOK), [])

	def test_the_forecast_runs_through_the_desk_with_a_subscriptions_renewal(self):
		from frappe.desk.query_report import run

		from customer_success.tests.utils import make_subscription, make_subscription_plan

		customer = make_customer(cs_owner=BOOK).name
		plan = make_subscription_plan(cost=1000)
		subscription = make_subscription(
			customer, add_days(today(), -300), add_days(today(), 60), [(plan, 1)]
		)
		(renewal,) = service.create_subscription_renewals(today(), subscriptions=[subscription.name])
		for user in (BOOK, MANAGER):  # neither CS role reads ERPNext's Subscriptions
			frappe.set_user(user)
			# the customer's (the team's period lists its first 500 only, on a site with many renewals)
			result = run("Renewal Forecast", filters={"customer": customer}, ignore_prepared_report=True)
			found = {row["renewal"]: row["subscription"] for row in result["result"] if row.get("renewal")}
			self.assertEqual(found.get(renewal), subscription.name, user)
		frappe.set_user("Administrator")

	def test_a_csm_runs_it_through_the_desk_with_rows_of_her_book(self):
		from frappe.desk.query_report import run

		mine = make_customer(cs_owner=BOOK).name
		bare = make_sales_invoice(mine, rate=700, posting_date=add_days(today(), -20))
		frappe.set_user(BOOK)
		result = run("Revenue Leakage", filters={}, ignore_prepared_report=True)
		found = {(row["reference_doctype"], row["reference_name"]) for row in result["result"]}
		self.assertIn(("Sales Invoice", bare.name), found)

	def test_subscription_terms_ending_with_no_renewal_leak_too(self):
		from customer_success.tests.utils import make_subscription, make_subscription_plan

		customer = make_customer(cs_owner=BOOK).name
		plan = make_subscription_plan(cost=1000)  # monthly: 12,000 a year by its plan
		ending = make_subscription(customer, add_days(today(), -300), add_days(today(), 60), [(plan, 1)])
		later = make_subscription(customer, add_days(today(), -10), add_days(today(), 400), [(plan, 1)])
		monthly_evergreen = make_subscription(customer, add_days(today(), -100), None, [(plan, 1)])
		yearly = make_subscription_plan(cost=6000, interval="Year")
		evergreen_yearly = make_subscription(customer, add_days(today(), -200), None, [(yearly, 1)])
		theirs = make_subscription(
			make_customer(cs_owner=OTHER_CSM).name, add_days(today(), -300), add_days(today(), 30)
		)
		term_end = getdate(frappe.db.get_value("Subscription", evergreen_yearly.name, "current_invoice_end"))

		def leaking():
			return {
				r["reference_name"]: r
				for r in rows_of(
					revenue_leakage,
					from_date=add_days(today(), -30),
					to_date=add_days(today(), 180),
					csm=BOOK,
					kind=revenue_leakage.NO_RENEWAL,
				)
				if r["reference_doctype"] == "Subscription"
			}

		rows = leaking()
		self.assertEqual(set(rows), {ending.name, evergreen_yearly.name})  # not later, not the monthly one
		self.assertNotIn(later.name, rows)
		self.assertNotIn(monthly_evergreen.name, rows)
		self.assertNotIn(theirs.name, rows, "another book's")
		self.assertEqual(getdate(rows[ending.name]["date"]), getdate(add_days(today(), 60)))
		self.assertAlmostEqual(rows[ending.name]["amount"], 12000.0)
		self.assertEqual(getdate(rows[evergreen_yearly.name]["date"]), term_end)
		self.assertAlmostEqual(rows[evergreen_yearly.name]["amount"], 6000.0)
		self.assertEqual(rows[ending.name]["customer"], customer)
		self.assertEqual(rows[ending.name]["csm"], BOOK)

		# its renewal made, the term no longer leaks; a cancelled subscription is not live
		service.create_subscription_renewals(today(), subscriptions=[ending.name])
		self.assertEqual(set(leaking()), {evergreen_yearly.name})
		frappe.db.set_value("Subscription", evergreen_yearly.name, "status", "Cancelled")
		self.assertEqual(leaking(), {})


class TestReportsOpenForTheirRoles(RenewalTestCase):
	def test_each_report_runs_through_the_desk_for_a_csm_and_not_for_others(self):
		from frappe.desk.query_report import run

		filters = {"from_date": str(add_days(today(), -30)), "to_date": str(today())}
		frappe.set_user(CSM)
		for report in ("Renewal Forecast", "Revenue Retention", "Revenue Leakage"):
			result = run(report, filters=filters)
			self.assertTrue(result["columns"], report)
			self.assertIn("chart", result, report)
		nobody = make_user("cs-rn-nobody@example.com", ["Blogger"]).name
		frappe.set_user(nobody)
		with self.assertRaises(frappe.PermissionError):
			run("Revenue Retention", filters=filters)


class TestCustomersNamedByASeries(RenewalTestCase):
	"""A site naming its customers by a series (Selling Settings) lists "CUST-2026-00043" in a report's
	Customer column: the reports that list customers without their names add a Customer Name column
	there, as ERPNext's own reports do; a site naming them by their names sees no second column."""

	def test_the_reports_name_each_customer_beside_its_series_name(self):
		from customer_success.success_plans.report.success_plan_progress import success_plan_progress
		from customer_success.tests.utils import make_success_plan

		make_user(BOOK, ["Customer Success Manager"])
		settings = frappe.get_doc("Selling Settings")
		naming = settings.cust_master_name
		try:
			settings.cust_master_name = "Naming Series"
			settings.save()
			renewal = make_renewal(BOOK, "Green", 1000, 30)
			customer = renewal.customer
			name = frappe.db.get_value("Customer", customer, "customer_name")
			self.assertNotEqual(customer, name, "named by the series")
			make_success_plan(customer)
			for report, filters in (
				(renewal_forecast, {"csm": BOOK}),
				(success_plan_progress, {"csm": BOOK}),
			):
				columns, data, *_rest = report.execute(frappe._dict(filters))
				fields = [column["fieldname"] for column in columns]
				self.assertEqual(fields[fields.index("customer") + 1], "customer_name", report.__name__)
				self.assertEqual(
					{(row["customer"], row["customer_name"]) for row in data},
					{(customer, name)},
					report.__name__,
				)
		finally:
			settings.reload()
			settings.cust_master_name = naming
			settings.save()
		if naming != "Naming Series":
			columns, data, *_rest = renewal_forecast.execute(frappe._dict(csm=BOOK))
			self.assertNotIn("customer_name", [column["fieldname"] for column in columns])
			self.assertTrue(data)
			self.assertNotIn("customer_name", data[0])
