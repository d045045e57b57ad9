"""The book roll-up (`book_counts`, table cs_book_count) equals a fresh count of the customers after
every kind of write, and the cards, charts and CSM Workload read the same figures from it as they
count live."""

from decimal import Decimal
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE
from customer_success.customer_success import book_counts
from customer_success.tests.utils import make_customer, make_user

CSM_A = "book-counts-csm-a@example.com"
CSM_B = "book-counts-csm-b@example.com"
MANAGER = "book-counts-manager@example.com"


class TestBookCounts(FrappeTestCase):
	def setUp(self):
		make_user(CSM_A, [CSM_ROLE])
		make_user(CSM_B, [CSM_ROLE])
		make_user(MANAGER, [CS_MANAGER_ROLE])
		# whatever the site holds, the roll-up starts equal to it (inside this test's transaction)
		book_counts.reconcile()
		self.assert_exact()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def assert_exact(self):
		self.assertEqual(book_counts.rolled_up(), book_counts.customer_figures())

	def customer(self, **fields):
		return make_customer(
			**{"cs_owner": CSM_A, "cs_tier": "SMB", "cs_lifecycle_stage": "Onboarding", **fields}
		)

	def test_insert_save_and_delete(self):
		before = book_counts.segment_counts("cs_tier", CSM_A).get("SMB", 0)
		doc = self.customer()
		self.assert_exact()
		self.assertEqual(book_counts.segment_counts("cs_tier", CSM_A).get("SMB", 0), before + 1)
		doc.reload()
		doc.cs_tier = "Enterprise"
		doc.cs_lifecycle_stage = "Adoption"
		doc.cs_owner = CSM_B
		doc.save(ignore_permissions=True)
		self.assert_exact()
		self.assertEqual(book_counts.segment_counts("cs_tier", CSM_A).get("SMB", 0), before)
		doc.disabled = 1
		doc.save(ignore_permissions=True)
		self.assert_exact()
		doc.disabled = 0
		doc.save(ignore_permissions=True)
		self.assert_exact()
		frappe.delete_doc("Customer", doc.name, ignore_permissions=True, force=True)
		self.assert_exact()

	def test_a_customer_made_with_an_email_by_quick_entry_is_counted(self):
		"""ERPNext makes its primary contact in its on_update and writes it with db_set, which read
		the new row in as the one "before" the save: the new customer was never counted."""
		frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": f"CS Quick Entry {frappe.generate_hash(length=6)}",
				"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
				"territory": frappe.db.get_value("Territory", {"is_group": 0}),
				"email_id": "quick.entry@example.invalid",
				"first_name": "Quick",
				"last_name": "Entry",
			}
		).insert(ignore_permissions=True)
		self.assert_exact()

	def test_merge(self):
		old, new = self.customer(), self.customer(cs_tier="Strategic")
		frappe.rename_doc("Customer", old.name, new.name, merge=True, force=True)
		self.assertFalse(frappe.db.exists("Customer", old.name))
		self.assert_exact()

	def test_a_renamed_csm_is_counted_under_the_new_address(self):
		"""frappe's Rename on User moves the CS Owner of her customers past the hooks; the roll-ups
		keyed by the CSM are reconciled by the jobs it queues, not the next night."""
		renamed = "book-counts-csm-renamed@example.com"
		self.customer()
		with patch("frappe.enqueue") as enqueue:
			frappe.rename_doc("User", CSM_A, renamed, force=True)
			frappe.db.after_commit.run()  # queued once the rename commits (a test never commits)
		queued = {call.args[0] for call in enqueue.call_args_list}
		self.assertLessEqual(
			{
				book_counts.UPKEEP_JOB,
				"customer_success.renewals.jobs.revenue_rollup",
				"customer_success.renewals.jobs.retention_rollup",
				"customer_success.renewals.jobs.leak_rollup",
			},
			queued,
		)
		self.assertFalse(book_counts.rolled_up(renamed))  # until the upkeep runs
		book_counts.reconcile()  # what the queued upkeep does (it commits, the test may not)
		self.assert_exact()
		self.assertTrue(book_counts.rolled_up(renamed))
		self.assertFalse(book_counts.rolled_up(CSM_A))

	def test_health_recompute_writes(self):
		from customer_success.health import service as health

		doc = self.customer()
		health.score_range(doc.name, doc.name)
		status, score = frappe.db.get_value("Customer", doc.name, ["cs_health_status", "cs_health_score"])
		self.assertTrue(status)
		self.assert_exact()
		# a second run of the day changes the score: the sum follows it
		frappe.db.set_value("Customer", doc.name, "cs_health_score", (score or 0) + 7, update_modified=False)
		book_counts.reconcile()
		health.score_range(doc.name, doc.name)
		self.assert_exact()

	def test_a_chunk_records_its_difference_from_the_rows_it_locked(self):
		"""A run's chunk reads no Customer again for the roll-up: it counts the rows its locking read
		returned (`rows_figures`) exactly as the roll-up's query counts them (disabled customers out,
		no colour, scores as the decimal column holds them), and records the copy's difference."""
		from customer_success.health import queries
		from customer_success.health import service as health

		docs = [self.customer(), self.customer(cs_tier="Strategic"), self.customer(cs_owner=CSM_B)]
		names = [doc.name for doc in docs]
		frappe.db.set_value(
			"Customer",
			names[0],
			{"cs_health_status": "Green", "cs_health_score": 81.123456789},
			update_modified=False,
		)
		frappe.db.set_value(
			"Customer", names[1], "cs_health_status", "Insufficient Data", update_modified=False
		)
		frappe.db.set_value("Customer", names[2], "disabled", 1, update_modified=False)
		book_counts.reconcile()
		locked = queries.lock_customers(names)
		self.assertEqual(book_counts.rows_figures(list(locked.values())), book_counts.customer_figures(names))
		self.assertEqual(book_counts.stored_decimal(73.1234567895), Decimal("73.123456790"))
		self.assertEqual(book_counts.stored_decimal(None), Decimal(0))

		frappe.db.set_value("Customer", names[2], "disabled", 0, update_modified=False)
		book_counts.reconcile()
		# an override with more decimals than a score has, on a customer that had a colour
		frappe.db.set_value(
			"Customer",
			names[0],
			{"cs_health_override": 64.987654321, "cs_override_until": frappe.utils.add_days(None, 5)},
			update_modified=False,
		)
		with patch.object(book_counts, "customer_figures", side_effect=AssertionError("read again")):
			health.score_range(min(names), max(names), commit_writes=False)
		self.assertEqual(frappe.db.get_value("Customer", names[0], "cs_health_score"), 64.987654321)
		self.assert_exact()

	def test_handoff_acceptance_tiers_and_churn(self):
		from customer_success.handoff.service import move_customer
		from customer_success.segments.queries import write_tiers

		doc = self.customer(cs_tier=None)  # a tier set by hand is never computed over
		move_customer(doc.name, {"cs_owner": CSM_B, "cs_lifecycle_stage": "Adoption"})
		self.assertEqual(frappe.db.get_value("Customer", doc.name, "cs_owner"), CSM_B)
		self.assert_exact()
		other = self.customer()
		frappe.db.set_value("Customer", other.name, "cs_tier_source", None, update_modified=False)
		write_tiers({"Strategic": [doc.name], "": [other.name]}, "Computed")
		self.assertIsNone(frappe.db.get_value("Customer", other.name, "cs_tier"))
		self.assertEqual(frappe.db.get_value("Customer", doc.name, "cs_tier"), "Strategic")
		self.assert_exact()
		with book_counts.recording([doc.name]):
			frappe.db.set_value("Customer", doc.name, "cs_lifecycle_stage", "Churned", update_modified=False)
		self.assert_exact()

	def test_live_follows_invoices_orders_and_contracts(self):
		from frappe.utils import add_days, nowdate

		from customer_success.customer_success.book_counts import customer_is_live, wrong_live_flags
		from customer_success.renewals.test_renewals import make_contract
		from customer_success.tests.utils import make_sales_invoice, make_sales_order

		def live(name):
			flag = frappe.db.get_value("Customer", name, "cs_live")
			self.assertEqual(bool(flag), customer_is_live(name))
			return flag

		doc = self.customer(cs_segment=None)
		self.assertEqual(live(doc.name), 0)
		invoice = make_sales_invoice(doc.name, rate=100)
		self.assertEqual(live(doc.name), 1)
		self.assert_exact()
		order = make_sales_order(doc.name, rate=100)
		invoice.reload()
		invoice.cancel()
		self.assertEqual(live(doc.name), 1)  # its order keeps it live
		order.reload()
		order.cancel()
		self.assertEqual(live(doc.name), 0)
		self.assert_exact()
		contract = make_contract(doc.name, add_days(nowdate(), -10), add_days(nowdate(), 300))
		self.assertEqual(live(doc.name), 1)
		self.assert_exact()
		# a form save keeps the flag, whatever the form sent
		form = frappe.get_doc("Customer", doc.name)
		form.cs_live = 0
		form.save(ignore_permissions=True)
		self.assertEqual(live(doc.name), 1)
		self.assert_exact()
		contract.reload()
		contract.cancel()
		self.assertEqual(live(doc.name), 0)
		self.assert_exact()
		# a flag written past the writers: the reconciliation sets it, and the roll-up follows
		frappe.db.set_value("Customer", doc.name, "cs_live", 1, update_modified=False)
		self.assertIn(doc.name, dict(wrong_live_flags()))
		self.assertGreaterEqual(book_counts.reconcile()["live_corrected"], 1)
		self.assertEqual(live(doc.name), 0)
		self.assertNotIn(doc.name, dict(wrong_live_flags()))
		self.assert_exact()
		self.assertEqual(book_counts.reconcile()["corrected"], 0)

	def test_reconcile_repairs_a_write_past_the_writers_and_is_idempotent(self):
		doc = self.customer()
		frappe.db.sql("update `tabCustomer` set `cs_owner` = %s where `name` = %s", (CSM_B, doc.name))
		self.assertNotEqual(book_counts.rolled_up(), book_counts.customer_figures())
		result = book_counts.reconcile()
		self.assertGreater(result["corrected"], 0)
		self.assert_exact()
		self.assertEqual(book_counts.reconcile()["corrected"], 0)

	def test_compact_folds_to_one_row_per_key_and_keeps_the_figures(self):
		for _ in range(3):
			self.customer()
		figures = book_counts.rolled_up()
		book_counts.compact()
		self.assertEqual(book_counts.rolled_up(), figures)
		rows, keys = frappe.db.sql(
			"select count(*), count(distinct csm, health_status, tier, stage, segment, live) from cs_book_count"
		)[0]
		self.assertEqual(rows, keys)

	def test_differences(self):
		key_a, key_b = ("a", "Red", "", "", "", 1), ("b", "Red", "", "", "", 1)
		before = {key_a: (2, 2, Decimal("70.5"), 2)}
		after = {key_a: (1, 1, Decimal("30"), 1), key_b: (1, 1, Decimal("40.5"), 1)}
		self.assertEqual(
			sorted(book_counts.differences(after, before)),
			[(*key_a, -1, -1, Decimal("-40.5"), -1), (*key_b, 1, 1, Decimal("40.5"), 1)],
		)
		self.assertEqual(book_counts.differences(before, before), [])


class TestFiguresFromTheRollUp(FrappeTestCase):
	"""Each card, chart and CSM Workload shows the same figures from the roll-up as counted live."""

	def setUp(self):
		make_user(CSM_A, [CSM_ROLE])
		make_user(MANAGER, [CS_MANAGER_ROLE])
		for status, score, tier, stage in (
			("Red", 20, "SMB", "Adoption"),
			("Yellow", 55.5, "Enterprise", "Adoption"),
			("Green", 90, "SMB", "Adoption"),
			("Red", 5, "SMB", "Churned"),  # gone: in no health card, nor the average
		):
			doc = make_customer(cs_owner=CSM_A, cs_tier=tier, cs_lifecycle_stage=stage)
			frappe.db.set_value(
				"Customer",
				doc.name,
				{"cs_health_status": status, "cs_health_score": score},
				update_modified=False,
			)
		book_counts.reconcile()
		# read as on a large book (a small one counts live)
		self.large = patch.object(book_counts, "LIVE_BELOW", 0)
		self.large.start()

	def tearDown(self):
		self.large.stop()
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def figures(self):
		from customer_success.customer_success import api
		from customer_success.customer_success.dashboard_chart_source.customers_by_segment import (
			customers_by_segment,
		)
		from customer_success.customer_success.dashboard_chart_source.health_by_csm import health_by_csm

		figures = {
			"red": api.red_customers()["value"],
			"at_risk": api.customers_at_risk()["value"],
			"green": api.green_customers()["value"],
			"average": api.average_health()["value"],
			"tiers": customers_by_segment.get("Customers by Tier"),
			"stages": customers_by_segment.get("Customers by Lifecycle Stage"),
		}
		report = frappe.get_attr("customer_success.health.report.customer_health.customer_health.execute")
		for filters in ({}, {"tier": "SMB"}, {"status": "Red"}, {"lifecycle_stage": "Adoption"}):
			_columns, _data, message, chart, summary = report(filters)
			figures[f"customer_health {filters}"] = (message, chart, summary)
		if "CS Manager" in frappe.get_roles():
			figures["by_csm"] = health_by_csm.get()
			figures["workload"] = {
				row["csm"]: (row["customers"], row["red_customers"])
				for row in frappe.get_attr(
					"customer_success.customer_success.report.csm_workload.csm_workload.execute"
				)({})[1]
			}
		return figures

	def assert_same_both_ways(self, user):
		frappe.set_user(user)
		self.assertTrue(book_counts.usable())
		rolled = self.figures()
		with (
			patch.object(book_counts, "usable", return_value=False),
			patch.object(book_counts, "readable", return_value=False),
			patch.object(book_counts, "available", return_value=False),
		):
			live = self.figures()
		self.assertEqual(rolled, live)
		return rolled

	def test_team_and_book(self):
		team = self.assert_same_both_ways(MANAGER)
		mine = self.assert_same_both_ways(CSM_A)
		self.assertEqual(mine["red"], 1)
		self.assertEqual(mine["at_risk"], 2)
		self.assertEqual(mine["average"], round((20 + 55.5 + 90) / 3, 1))
		self.assertGreaterEqual(team["red"], 1)

	def test_a_small_book_counts_live_whatever_wrote_its_fields(self):
		"""Below LIVE_BELOW customers the cards count live, so a write past the app's writers (a
		db.set_value, which the roll-up learns of only at its reconciliation) shows at once."""
		self.large.stop()
		try:
			frappe.cache.delete_value("cs_customer_rows_estimate")
			with patch.object(book_counts, "LIVE_BELOW", 10**9):
				from customer_success.customer_success import api

				frappe.set_user(MANAGER)
				before = api.red_customers()["value"]
				frappe.set_user("Administrator")
				doc = make_customer(cs_owner=CSM_A)
				frappe.db.set_value("Customer", doc.name, "cs_health_status", "Red", update_modified=False)
				frappe.set_user(MANAGER)
				self.assertFalse(book_counts.usable())
				self.assertEqual(api.red_customers()["value"], before + 1)
		finally:
			self.large.start()

	def test_a_user_permission_reads_live(self):
		doc = make_customer(cs_owner=CSM_A)
		frappe.get_doc(
			{"doctype": "User Permission", "user": CSM_A, "allow": "Customer", "for_value": doc.name}
		).insert(ignore_permissions=True)
		frappe.set_user(CSM_A)
		self.assertFalse(book_counts.usable())
		from customer_success.customer_success import api

		self.assertEqual(api.red_customers()["value"], 0)  # only the permitted customer, not red


class TestCopiesSummedCustomerByCustomer(FrappeTestCase):
	"""`record_copies` records the difference of the two roll-ups of the rows (`rows_figures`), every
	score a decimal as its column holds it (`stored_decimal`, which makes a score of two places from
	its hundredths), for any mix of scores."""

	def test_the_same_difference_as_the_two_roll_ups(self):
		import random

		rng = random.Random(15)
		statuses = ("Green", "Yellow", "Red", "Insufficient Data", None, "")

		def score():
			return rng.choice(
				(
					None,
					round(rng.uniform(0, 100), 2),
					round(rng.uniform(0, 100), 2),
					rng.randint(0, 100),
					rng.uniform(0, 100),  # more places than a score has (an override)
					round(rng.uniform(0, 100), 9) + 5e-10,  # rounded half up by the column
					81.250000000001,  # stored as 81.25
					-0.0,
					Decimal("73.123456789"),
				)
			)

		for round_ in range(20):
			locked, copies = {}, []
			for i in range(300):
				name = f"c{round_}-{i}"
				locked[name] = frappe._dict(
					name=name,
					disabled=int(rng.random() < 0.1),
					cs_owner=rng.choice((CSM_A, CSM_B, None)),
					cs_health_status=rng.choice(statuses),
					cs_tier=rng.choice(("SMB", "Strategic", None)),
					cs_lifecycle_stage=rng.choice(("Onboarding", "Adoption")),
					cs_segment=None,
					cs_live=rng.choice((0, 1, None)),
					cs_health_score=score(),
				)
				if rng.random() < 0.9:
					copy = {
						"customer": name,
						"cs_health_status": rng.choice(statuses),
						"cs_health_score": score(),
					}
					if rng.random() < 0.3:  # copied as it stood
						copy.update(
							cs_health_status=locked[name].cs_health_status,
							cs_health_score=locked[name].cs_health_score,
						)
					copies.append(copy)
			copies.append({"customer": "gone since", "cs_health_status": "Green", "cs_health_score": 1.0})
			before, after = [], []
			for copy in copies:
				row = locked.get(copy["customer"])
				if row is None or book_counts._copy_changes_nothing(row, copy):
					continue
				before.append(row)
				after.append({**row, **{f: v for f, v in copy.items() if f != "customer"}})
			expected = book_counts.differences(
				book_counts.rows_figures(after), book_counts.rows_figures(before)
			)
			with (
				patch.object(book_counts, "add_rows") as add_rows,
				patch.object(book_counts, "available", return_value=True),
			):
				book_counts.record_copies(locked, copies)
			got = add_rows.call_args.args[0]
			self.assertTrue(expected)
			for row in before + after:  # the key field by field is the key of KEY_FIELDS
				self.assertEqual(
					book_counts.key_of(row),
					tuple(
						int(row.get(f) or 0) if f == "cs_live" else (row.get(f) or "")
						for f in book_counts.KEY_FIELDS
					),
				)
			self.assertEqual(sorted(got, key=repr), sorted(expected, key=repr))
			for row in before + after:  # a score of two places, from its hundredths, as its column holds it
				value = row.get("cs_health_score")
				if value is not None:
					self.assertEqual(
						book_counts.stored_decimal(value),
						Decimal(str(value)).quantize(Decimal("1e-9"), rounding="ROUND_HALF_UP"),
						value,
					)
