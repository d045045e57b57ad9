"""The nightly rules pass inside the health recompute: each chunk runs the rules over its customers
with the facts it read (`cs_after_health_chunk`), a retried chunk raises nothing twice, a failing
chunk's range is queued on its own, and the run's end evaluates only what the chunks left."""

import threading
from contextlib import contextmanager
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.alerts import engine, jobs, service
from customer_success.constants import CSM_ROLE
from customer_success.health import queries as health_queries
from customer_success.health import service as health
from customer_success.setup import defaults
from customer_success.tests.utils import (
	change_settings,
	delete_customers,
	make_customer,
	make_shared_users,
	set_customer_fields,
)

CSM = "alerts.nightly.csm@example.com"
ALERT = service.ALERT
RUN = "Health Recompute Run"
CHUNK = "Health Recompute Run Chunk"
RED = "Health Turned Red"


def today():
	return getdate(nowdate())


def only_rules(*names):
	"""Switch every rule off but `names` (committed runs see it: restored by the caller)."""
	rule = frappe.qb.DocType("CS Alert Rule")
	frappe.qb.update(rule).set(rule.enabled, 0).where(rule.name.notin(names)).run()
	frappe.qb.update(rule).set(rule.enabled, 1).where(rule.name.isin(names)).run()


@contextmanager
def chunk_alerts_on():
	"""Tests keep the chunk hook off (a chunk of the whole book would touch others' customers); these
	tests' runs cover their own customers only."""
	frappe.flags.cs_alerts_after_chunk = True
	try:
		yield
	finally:
		frappe.flags.cs_alerts_after_chunk = False


class TestRulesWithTheChunksFacts(FrappeTestCase):
	"""`evaluate` with the facts a recompute chunk read: reused, never read again (rolled back)."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		defaults.make_default_alert_rules()
		frappe.db.commit()  # nosemgrep: shared fixtures of the class

	def tearDown(self):
		frappe.db.rollback()

	def test_the_health_facts_are_used_and_not_read_again(self):
		customer = make_customer().name
		frappe.db.set_value(
			"Customer", customer, {"cs_health_status": "Red", "cs_health_score": 30}, update_modified=False
		)
		only_rules(
			RED,
			"Health Dropped Sharply",
			"Renewal at Risk",
			"Overdue Receivable",
			"No Touch",
			"Check-in Overdue",
		)
		# facts the database does not hold (the customer has no invoice, contract, touch or score):
		# an alert from them can only come from the facts handed over
		known = {
			"invoices": {customer: {"overdue": 12000.0, "oldest_overdue_due": add_days(today(), -100)}},
			"touches": {},
			"live": {customer},
			"contracts": {customer: add_days(today(), 30)},
			"previous_scores": {customer: 90.0},
			"previous_scores_days": 30,
		}
		reads = (
			"invoice_facts",
			"last_touch_dates",
			"live_customers",
			"latest_contract_end",
			"scores_around",
		)
		patches = [patch.object(health_queries, name, side_effect=AssertionError(name)) for name in reads]
		for p in patches:
			p.start()
		try:
			with change_settings(max_new_alerts_per_week=0):  # no weekly cap: all five are raised
				result = service.evaluate(customer, customer, today=today(), known=known)
		finally:
			for p in patches:
				p.stop()
		fired = set(frappe.get_all(ALERT, filters={"customer": customer}, pluck="rule"))
		self.assertEqual(
			fired, {RED, "Health Dropped Sharply", "Renewal at Risk", "Overdue Receivable", "No Touch"}
		)
		self.assertEqual(result["raised"], 5)
		evidence = frappe.db.get_value(
			ALERT, {"customer": customer, "rule": "Overdue Receivable"}, "evidence"
		)
		self.assertIn(f'"oldest_due":"{add_days(today(), -100)}"', evidence)

	def test_earlier_scores_of_another_day_are_read(self):
		customer = make_customer().name
		frappe.db.set_value(
			"Customer", customer, {"cs_health_status": "Red", "cs_health_score": 30}, update_modified=False
		)
		only_rules("Health Dropped Sharply")  # 30 days back
		known = {"previous_scores": {customer: 90.0}, "previous_scores_days": 7}
		with patch.object(health_queries, "scores_around", return_value={}) as read:
			service.evaluate(customer, customer, today=today(), known=known)
		read.assert_called_once_with(customer, customer, add_days(today(), -30))
		self.assertFalse(frappe.get_all(ALERT, filters={"customer": customer}))

	def test_the_chunks_customers_are_those_it_read_with_the_colours_it_wrote(self):
		customers = [
			frappe._dict(name="A", customer_name="a", cs_owner="x", account_manager="y", cs_tier="Gold"),
			frappe._dict(name="B", customer_name="b", cs_owner=None, cs_lifecycle_stage="Adoption"),
		]
		rows = [
			{"customer": "A", "status": "Red", "score": 12.5},
			{"customer": "B", "status": "Insufficient Data", "score": None},
		]
		self.assertEqual(
			service.chunk_customers(customers, rows),
			[
				{
					"name": "A",
					"customer_name": "a",
					"cs_owner": "x",
					"account_manager": "y",
					"cs_health_status": "Red",
					"cs_health_score": 12.5,
					"cs_lifecycle_stage": None,
				},
				{
					"name": "B",
					"customer_name": "b",
					"cs_owner": None,
					"account_manager": None,
					"cs_health_status": "Insufficient Data",
					# what the Customer holds of no score (`copy_scores_to_customers`)
					"cs_health_score": 0.0,
					"cs_lifecycle_stage": "Adoption",
				},
			],
		)
		# a customer whose row was not written (skipped: newer news; no model; failed) keeps what
		# its Customer holds: the range is read
		self.assertIsNone(service.chunk_customers(customers, rows, skipped=["B"]))
		self.assertIsNone(service.chunk_customers(customers, rows[:1]))
		self.assertIsNone(service.chunk_customers(None, rows))
		self.assertIsNone(service.chunk_customers(customers, None))

	def test_the_chunk_facts_kept_are_those_the_rules_read(self):
		facts = {
			"invoices": {"A": {}},
			"touches": {},
			"live": set(),
			"contracts": {},
			"previous_scores": {"A": 1.0},
			"sla": {"A": {}},
			"open_issue_load": {},
		}
		known = service.health_facts(facts)
		self.assertEqual(
			set(known),
			{"invoices", "touches", "live", "contracts", "previous_scores", "previous_scores_days"},
		)
		self.assertEqual(known["previous_scores_days"], health.trend_days())


def random_book(rng, size: int, day):
	"""Customers of every colour and stage, and facts of every shape the rules read, at random."""

	def some_day(spread: int = 400):
		return add_days(day, rng.randint(-spread, spread // 2)) if rng.random() < 0.9 else None

	names = [f"C{i:04d}" for i in range(size)]
	customers = [
		frappe._dict(
			name=name,
			customer_name=name,
			cs_health_status=rng.choice(["Green", "Yellow", "Red", "Insufficient Data", None]),
			cs_health_score=rng.choice([None, rng.uniform(0, 100)]),
			cs_lifecycle_stage=rng.choice(["Onboarding", "Adoption", None]),
		)
		for name in names
	]

	def some(share: float):
		return [name for name in names if rng.random() < share]

	def plain(value):
		return getdate(value) if value else None

	return customers, {
		"contracts": {n: plain(add_days(day, rng.randint(-60, 200))) for n in some(0.6)},
		"scores_then": {30: {n: rng.uniform(0, 100) for n in some(0.7)}},
		"invoices": {
			n: {
				"overdue": rng.choice([0.0, -10.0, rng.uniform(0, 20000)]),
				"oldest_overdue_due": plain(some_day(120)),
			}
			for n in some(0.8)
		},
		"milestones": {n: [{"name": f"M{n}", "due_date": plain(some_day(60))}] for n in some(0.2)},
		"checkins": {
			n: [{"name": f"P{n}", "start_date": plain(some_day()), "last_checkin": plain(some_day(200))}]
			for n in some(0.2)
		},
		"touches": {n: plain(some_day(150)) for n in some(0.7)},
		"live": set(some(0.8)),
		"stakeholders": {
			n: [{"contact": f"K{n}", "handoff": f"H{n}", "is_champion": 1, "linked": rng.randint(0, 1)}]
			for n in some(0.1)
		},
		"objectives": {
			n: [{"name": f"P{n}", "objectives": 2, "achieved": rng.randint(0, 2)}] for n in some(0.2)
		},
		"onboarding": {
			n: {"go_live": plain(some_day(60)) or day, "open_milestones": rng.randint(0, 3)}
			for n in some(0.2)
		},
		"nps_latest": {
			n: {"name": f"R{n}", "score": rng.randint(0, 10), "answered_on": plain(some_day(300)) or day}
			for n in some(0.3)
		},
		"nps_answers": {
			n: [{"name": f"R{n}", "score": rng.randint(0, 10), "answered_on": plain(some_day(60)) or day}]
			for n in some(0.3)
		},
		"usage": {
			30: {
				n: [{"metric": "Seats", "used": 90, "entitlement": 100, "utilisation": rng.uniform(0, 1.2)}]
				for n in some(0.3)
			}
		},
	}


class TestOnlyCustomersThatCanFireAreAsked(FrappeTestCase):
	"""The pass asks each rule about the customers it can fire for only: the findings are exactly
	those of asking every rule about every customer (no database: the facts are made up)."""

	def test_skipping_changes_no_finding(self):
		import random

		rules = [
			frappe._dict(
				name=kind,
				rule_type=kind,
				severity="Medium",
				threshold={
					"Health Dropped": 15,
					"Overdue Receivable": 5000,
					"Usage Near Entitlement": 90,
				}.get(kind, 1),
				days={"Health Dropped": 30, "Usage Near Entitlement": 30}.get(kind, 45),
			)
			for kind in engine.RULE_TYPES
		]
		settings = {"checkin_cadence_days": 90}
		real = service.decider

		def counted(calls: list):
			def make(*args):
				decide = real(*args)

				def one(customer):
					calls.append(customer["name"])
					return decide(customer)

				return one

			return make

		for seed in range(5):
			rng = random.Random(seed)
			customers, facts = random_book(rng, 400, today())
			# drops at the threshold (15) and a hair either side, and no drop or a rise: what rounding
			# the drop to two places may turn either way
			for customer, drop in zip(
				customers[:12],
				(15, 14.995, 14.994, 15.004, 14.99, 0, 0.004, 0.005, -0.004, -1, 30, 29.996),
				strict=True,
			):
				customer.cs_health_status = "Yellow"
				customer.cs_health_score = (
					50.123 if customer.cs_health_score is None else customer.cs_health_score
				)
				facts["scores_then"][30][customer.name] = customer.cs_health_score + drop
			asked_all, asked_some = [], []
			with patch.object(service, "decider", side_effect=counted(asked_all)):
				every, evaluated_all, _failed = service.decide_all(
					rules, customers, facts, today(), settings, skip=False
				)
			with patch.object(service, "decider", side_effect=counted(asked_some)):
				some, evaluated, failed = service.decide_all(rules, customers, facts, today(), settings)
			self.assertEqual(
				{k: (f.severity, f.facts, f.records) for k, f in some.items()},
				{k: (f.severity, f.facts, f.records) for k, f in every.items()},
				f"seed {seed}",
			)
			self.assertEqual((evaluated, failed), (evaluated_all, []))
			dropped = {c.name for c in customers[:12] if (c.name, engine.HEALTH_DROP) in every}
			self.assertTrue(3 <= len(dropped) <= 9, dropped)  # the edge cases fall on both sides
			self.assertEqual({rule for _customer, rule in every}, set(engine.RULE_TYPES), f"seed {seed}")
			self.assertLess(len(asked_some), len(asked_all) / 2)


class TestABrokenDecisionFailsItsCustomers(FrappeTestCase):
	def test_facts_that_break_a_rules_decision_fail_and_log_each_customer_it_asks(self):
		"""A rule's decision is made once per rule (`decider`), inside each customer's isolation: facts
		that break it fail, and log, each customer it asks, as a customer's own bad data does; the
		customers' other findings are dropped with them (`skip=False`: every customer is asked)."""
		rules = [
			frappe._dict(name="Red", rule_type=engine.HEALTH_RED, severity="Medium"),
			frappe._dict(
				name="Dropped", rule_type=engine.HEALTH_DROP, severity="Medium", threshold=10, days=30
			),
		]
		customers = [
			frappe._dict(name="A", cs_health_status="Red", cs_health_score=20),
			frappe._dict(name="B", cs_health_status="Green", cs_health_score=90),
		]
		# no scores of 30 days ago were read: the drop rule cannot decide for anyone
		with patch("frappe.log_error") as logged:
			findings, evaluated, failed = service.decide_all(
				rules, customers, {"scores_then": {}}, today(), {}, skip=False
			)
		self.assertEqual((findings, evaluated, failed), ({}, set(), ["A", "B"]))
		self.assertEqual(logged.call_count, 2)
		# the same facts with the scores read: A is red, nobody dropped
		findings, evaluated, failed = service.decide_all(
			rules, customers, {"scores_then": {30: {}}}, today(), {}, skip=False
		)
		self.assertEqual((set(findings), evaluated, failed), ({("A", "Red")}, {"A", "B"}, []))
		# as the night asks (`skip`): a check-in rule asks only the customers with running plans (A),
		# and settings without the check-in cadence break its decision for A alone; B is evaluated
		checkins = frappe._dict(name="Check-ins", rule_type=engine.CHECKIN_OVERDUE, severity="Low", days=7)
		with patch("frappe.log_error") as logged:
			findings, evaluated, failed = service.decide_all(
				[checkins], customers, {"checkins": {"A": []}}, today(), {}
			)
		self.assertEqual((findings, evaluated, failed), ({}, {"B"}, ["A"]))
		self.assertEqual(logged.call_count, 1)


class TestRulesInTheRecompute(FrappeTestCase):
	"""Runs commit (the jobs see them), so each test keeps to customers of its own (its runs' chunks
	cover only them) and tearDown removes exactly what it made: runs, scores, alerts and theirs."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_shared_users({CSM: [CSM_ROLE]})
		defaults.make_default_alert_rules()
		frappe.db.commit()  # nosemgrep: shared fixtures of the class

	def setUp(self):
		frappe.set_user("Administrator")
		self.prefix = f"_CS Test Night {frappe.generate_hash(length=8)}"
		self.customers: list[str] = []
		self.runs: list[str] = []
		self.rules = {
			rule.name: rule
			for rule in frappe.get_all("CS Alert Rule", fields=["name", "enabled", "severity"])
		}
		real_new_run = health.new_run

		def new_run(*args, **kwargs):
			run = real_new_run(*args, **kwargs)
			self.runs.append(str(run.name))
			return run

		self.start_patch("customer_success.health.service.prune_history")
		self.start_patch("customer_success.health.service.lapse_expired_overrides")
		self.start_patch("customer_success.health.service.new_run", side_effect=new_run)
		self.start_patch("customer_success.health.service.is_active_run", side_effect=self.is_my_active_run)
		self.start_patch("customer_success.health.queries.customer_chunks", side_effect=self.my_chunks)
		only_rules(RED)
		frappe.db.commit()  # nosemgrep: the runs' chunks read the rules in their own transactions

	def start_patch(self, target: str, **kwargs):
		patcher = patch(target, **kwargs)
		self.addCleanup(patcher.stop)
		return patcher.start()

	def is_my_active_run(self, table):
		return table.status.isin(health.ACTIVE_RUN_STATUSES) & table.name.isin(self.runs or ["0"])

	def my_chunks(self, chunk_size: int) -> list[dict]:
		names = sorted(self.customers)
		parts = [names[i : i + chunk_size] for i in range(0, len(names), chunk_size)]
		return [{"lo": part[0], "hi": part[-1], "customers": len(part)} for part in parts]

	def red_customer(self) -> str:
		"""A customer whose score comes out Red: an override of 10 until next week."""
		name = make_customer(f"{self.prefix} {len(self.customers):02d}", cs_owner=CSM).name
		frappe.db.set_value(
			"Customer",
			name,
			{
				"cs_health_override": 10,
				"cs_override_until": add_days(nowdate(), 7),
				"cs_override_reason": "test",
			},
			update_modified=False,
		)
		self.customers.append(name)
		return name

	def tearDown(self):
		frappe.flags.in_test = True
		frappe.flags.cs_alerts_after_chunk = False
		frappe.set_user("Administrator")
		frappe.db.rollback()
		alerts = frappe.get_all(ALERT, filters={"customer": ("in", self.customers or [""])}, pluck="name")
		if alerts:
			frappe.db.delete("ToDo", {"reference_type": ALERT, "reference_name": ("in", alerts)})
			frappe.db.delete("Comment", {"reference_doctype": ALERT, "reference_name": ("in", alerts)})
			frappe.db.delete("Notification Log", {"document_type": ALERT, "document_name": ("in", alerts)})
			frappe.db.delete("Version", {"ref_doctype": ALERT, "docname": ("in", alerts)})
			frappe.db.delete("CS Alert Task", {"parent": ("in", alerts)})
			frappe.db.delete(ALERT, {"name": ("in", alerts)})
		if self.runs:
			frappe.db.delete(CHUNK, {"parent": ("in", self.runs)})
			frappe.db.delete("Error Log", {"reference_doctype": RUN, "reference_name": ("in", self.runs)})
			frappe.db.delete(RUN, {"name": ("in", self.runs)})
		frappe.db.delete("Error Log", {"method": ("like", f"%{self.prefix}%")})
		if self.customers:
			frappe.db.delete("Customer Health Score", {"customer": ("in", self.customers)})
			delete_customers(self.customers)
		rule = frappe.qb.DocType("CS Alert Rule")
		for name, was in self.rules.items():
			frappe.qb.update(rule).set(rule.enabled, was.enabled).set(rule.severity, was.severity).where(
				rule.name == name
			).run()
		frappe.db.commit()  # nosemgrep: undo what the committed runs left

	def alerts(self, customer: str) -> list[dict]:
		return frappe.get_all(
			ALERT, filters={"customer": customer}, fields=["name", "rule", "status", "severity"]
		)

	def test_each_chunk_raises_its_customers_alerts_with_the_facts_it_read(self):
		customers = [self.red_customer() for _ in range(3)]
		reads = patch.object(health_queries, "invoice_facts", wraps=health_queries.invoice_facts)
		with (
			chunk_alerts_on(),
			patch("customer_success.health.service.CHUNK_SIZE", 2),
			reads as invoice_reads,
		):
			only_rules(RED, "Overdue Receivable")
			frappe.db.commit()  # nosemgrep: the chunks read the rules after their own commits
			run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual((run.status, run.chunks_total), ("Completed", 2))
		# one read of the invoices per chunk: the recompute's, which the rules reuse
		self.assertEqual(invoice_reads.call_count, 2)
		for customer in customers:
			self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), "Red")
			found = self.alerts(customer)
			self.assertEqual([(a.rule, a.status) for a in found], [(RED, "Open")], customer)
			# the rows written in bulk have names too long to collide over a night's hundreds of thousands
			todos = frappe.get_all(
				"ToDo", {"reference_type": ALERT, "reference_name": found[0].name}, pluck="name"
			)
			self.assertTrue(todos)
			self.assertTrue(all(len(name) == 20 for name in todos), todos)

		# the next night: the same alerts are found and kept, none raised twice
		with chunk_alerts_on():
			health.start_recompute(trigger="Manual", now=True)
		for customer in customers:
			self.assertEqual(len(self.alerts(customer)), 1)

	def test_a_chunks_rules_take_its_customers_from_the_chunk_as_a_read_would_give_them(self):
		customers = [self.red_customer() for _ in range(3)]
		frappe.db.set_value("Customer", customers[0], "account_manager", CSM, update_modified=False)
		frappe.db.commit()  # nosemgrep: the run reads in transactions of its own
		built = []
		real = service.chunk_customers

		def spy(*args, **kwargs):
			found = real(*args, **kwargs)
			built.append(found)
			return found

		with (
			chunk_alerts_on(),
			patch("customer_success.health.service.CHUNK_SIZE", 2),
			patch.object(service, "chunk_customers", side_effect=spy),
			patch.object(service.queries, "customers", wraps=service.queries.customers) as reads,
		):
			run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual((run.status, run.chunks_total), ("Completed", 2))
		self.assertEqual(reads.call_count, 0)  # every customer's row was written: none read again
		self.assertEqual([len(part) for part in built], [2, 1])
		frappe.db.rollback()
		names = sorted(customers)
		self.assertEqual([c for part in built for c in part], service.queries.customers(names[0], names[-1]))
		self.assertEqual(built[0][0].account_manager, CSM)
		for customer in customers:
			self.assertEqual([(a.rule, a.status) for a in self.alerts(customer)], [(RED, "Open")])

		# a customer the chunk scored but did not write (newer news): the range is read, as before
		with (
			chunk_alerts_on(),
			patch("customer_success.health.service.CHUNK_SIZE", 5),
			patch.object(health, "changed_since", side_effect=self.newer_news(customers[1])),
			patch.object(service.queries, "customers", wraps=service.queries.customers) as reads,
		):
			health.start_recompute(trigger="Manual", now=True)
		self.assertEqual(reads.call_count, 1)
		for customer in customers:
			self.assertEqual(len(self.alerts(customer)), 1)

	@staticmethod
	def newer_news(customer: str):
		"""`changed_since` that finds `customer` changed since it was read (its row is skipped)."""
		real = health.changed_since

		def changed(*args, **kwargs):
			stale, existing, locked = real(*args, **kwargs)
			return {*stale, customer}, existing, locked

		return changed

	def test_two_ranges_write_their_alerts_side_by_side_without_a_lock(self):
		"""Each range's writes are a READ COMMITTED transaction of their own: two ranges raise, then
		update, their alerts at the same time (each waits at a barrier inside its write, uncommitted,
		until the other has written too: a lock between them would never let both get there), with
		no deadlock, one alert per customer and rule, and names that never collide."""
		customers = sorted(self.red_customer() for _ in range(4))
		for name in customers:
			set_customer_fields(
				name, {"cs_health_status": "Red", "cs_health_score": 10}, update_modified=False
			)
		frappe.db.commit()  # nosemgrep: the ranges read on their own connections
		ranges = [(customers[0], customers[1]), (customers[2], customers[3])]

		first = self.side_by_side(ranges, "insert_rows", lambda doctype, *args, **kwargs: doctype == ALERT)
		self.assertEqual([(r["raised"], r["failed"]) for r in first], [(2, []), (2, [])])
		frappe.db.rollback()  # a fresh snapshot: the ranges committed on their own connections
		names = set()
		for customer in customers:
			found = self.alerts(customer)
			self.assertEqual([(a.rule, a.status) for a in found], [(RED, "Open")], customer)
			names.add(found[0].name)
		self.assertEqual(len(names), 4)

		# the next night each alert's severity moved (its rule's, edited), and its score with it
		for name in customers:
			set_customer_fields(name, {"cs_health_score": 5}, update_modified=False)
		frappe.db.set_value("CS Alert Rule", RED, "severity", "Critical")  # restored by tearDown
		frappe.db.commit()  # nosemgrep
		again = self.side_by_side(ranges, "update_alerts")
		self.assertEqual([(r["updated"], r["raised"]) for r in again], [(2, 0), (2, 0)])
		frappe.db.rollback()
		for customer in customers:
			alert = frappe.get_all(
				ALERT, {"customer": customer}, ["summary", "evidence", "evidence_digest", "status"]
			)
			self.assertEqual(len(alert), 1)
			self.assertIn("5", alert[0].summary)
			self.assertEqual(alert[0].evidence_digest, service.digest(alert[0].evidence))

	def side_by_side(self, ranges: list[tuple[str, str]], write: str, when=None) -> list[dict]:
		"""`service.evaluate` of each range in a thread with its own connection, `commit_writes` as the
		night runs it; each waits at a barrier after the bulk write `write` (of `alerts.queries`)."""
		from customer_success.alerts import queries

		site, sites_path = frappe.local.site, frappe.local.sites_path
		barrier = threading.Barrier(len(ranges), timeout=30)
		real = getattr(queries, write)
		results, errors = [None] * len(ranges), []

		def write_then_wait(*args, **kwargs):
			real(*args, **kwargs)
			if when is None or when(*args, **kwargs):
				barrier.wait()  # every range has written and none has committed yet

		def evaluate(index: int, lo: str, hi: str):
			frappe.init(site=site, sites_path=sites_path)
			try:
				frappe.connect()
				frappe.set_user("Administrator")
				results[index] = service.evaluate(lo, hi, today=today(), commit_writes=True)
			except Exception as e:
				errors.append(e)
				barrier.abort()
			finally:
				frappe.destroy()

		with patch.object(queries, write, side_effect=write_then_wait):
			threads = [
				threading.Thread(target=evaluate, args=(i, lo, hi)) for i, (lo, hi) in enumerate(ranges)
			]
			for thread in threads:
				thread.start()
			for thread in threads:
				thread.join(60)
		self.assertEqual(errors, [])
		return results

	def test_without_the_chunk_flag_a_recompute_raises_nothing(self):
		customer = self.red_customer()
		health.start_recompute(trigger="Manual", now=True)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_status"), "Red")
		self.assertFalse(self.alerts(customer))
		# and a single customer's recompute (the form's button) runs no chunk hook
		with chunk_alerts_on(), patch.object(service, "after_health_chunk") as hook:
			health.recompute_customer(customer)
		hook.assert_not_called()

	def test_alerts_another_pass_raised_meanwhile_are_not_failures(self):
		"""Two passes over one range at once (a chunk's retry while the attempt judged dead still
		runs): the second finds the alerts raised under its feet (the open key refuses them). They
		are raised, not failures: no Error Log (tester U: ~1,400 of them), nothing twice."""
		customer = self.red_customer()
		health.recompute_customer(customer)
		self.assertEqual(service.evaluate(customer, customer, today=today())["raised"], 1)
		errors = frappe.db.count("Error Log")
		# the second pass read the open alerts before the first had raised them
		with patch.object(service.queries, "open_alerts", return_value={}):
			again = service.evaluate(customer, customer, today=today())
		self.assertEqual((again["raised"], again["failed"]), (0, []))
		self.assertEqual(frappe.db.count("Error Log"), errors)
		self.assertEqual([a.rule for a in self.alerts(customer)], [RED])

	def test_a_chunk_retried_after_its_alerts_were_committed_raises_nothing_twice(self):
		customers = [self.red_customer() for _ in range(2)]
		frappe.flags.in_test = False
		try:
			with (
				patch("customer_success.health.service.long_queue_worker_count", return_value=1),
				patch("frappe.enqueue"),
			):
				run = health.start_recompute(trigger="Nightly")
		finally:
			frappe.flags.in_test = True
		chunk = frappe.get_all(CHUNK, filters={"parent": str(run.name)}, fields=["range_from", "range_to"])[0]
		# the chunk's job scores, commits its scores and its alerts, then dies before recording itself
		with (
			chunk_alerts_on(),
			patch.object(health, "record_chunk_done", side_effect=SystemExit("worker killed")),
			self.assertRaises(SystemExit),
		):
			health.run_chunk(run.name, chunk.range_from, chunk.range_to, chunk=0, attempt=1)
		frappe.db.rollback()
		raised = {c: [a.name for a in self.alerts(c)] for c in customers}
		self.assertTrue(all(len(names) == 1 for names in raised.values()), raised)
		# the watchdog finds its job dead and retries the chunk (inline in tests)
		with chunk_alerts_on(), patch.object(health, "live_jobs", return_value=set()):
			health.watch_recompute_runs()
		chunk = frappe.get_all(CHUNK, filters={"parent": str(run.name)}, fields=["status", "attempts"])[0]
		self.assertEqual((chunk.status, chunk.attempts), ("Done", 2))
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Completed")
		self.assertEqual({c: [a.name for a in self.alerts(c)] for c in customers}, raised)

	def test_a_chunk_whose_rules_fail_is_done_and_its_range_queued_on_its_own(self):
		customers = [self.red_customer() for _ in range(2)]
		real = service.evaluate
		calls = []

		def fails_in_the_chunk(lo, hi, *args, **kwargs):
			calls.append(kwargs.get("known") is not None)
			if kwargs.get("known") is not None:
				raise frappe.QueryDeadlockError("deadlock")
			return real(lo, hi, *args, **kwargs)

		errors = frappe.db.count("Error Log")
		with chunk_alerts_on(), patch.object(service, "evaluate", side_effect=fails_in_the_chunk):
			run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual(run.status, "Completed")
		self.assertEqual(run.customers_scored, 2)
		# in the chunk (with its facts), then the range's own job (reading its own; inline in tests)
		self.assertEqual(calls, [True, False])
		for customer in customers:
			self.assertEqual([a.rule for a in self.alerts(customer)], [RED])
		self.assertGreater(frappe.db.count("Error Log"), errors)

	def test_the_range_job_is_one_per_day_and_range(self):
		with patch("frappe.enqueue") as enqueue:
			frappe.flags.in_test = False
			try:
				service.enqueue_range("A", "B", "2026-12-01")
				service.enqueue_range("A", "B", "2026-12-01")
				service.enqueue_range("C", "D", "2026-12-01")
			finally:
				frappe.flags.in_test = True
		ids = [c.kwargs["job_id"] for c in enqueue.call_args_list]
		self.assertEqual(ids[0], ids[1])
		self.assertNotEqual(ids[0], ids[2])
		self.assertTrue(
			all(c.kwargs["deduplicate"] and c.kwargs["queue"] == "long" for c in enqueue.call_args_list)
		)

	def test_the_run_end_evaluates_only_the_ranges_its_chunks_left(self):
		for _ in range(4):
			self.red_customer()
		real = health.score_range

		def first_chunk_dies(lo, hi, *args, **kwargs):
			if lo == self.customers[0]:
				raise MemoryError("out of memory")
			return real(lo, hi, *args, **kwargs)

		with (
			chunk_alerts_on(),
			patch("customer_success.health.service.CHUNK_SIZE", 2),
			patch.object(health, "score_range", side_effect=first_chunk_dies),
		):
			run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual(run.status, "Failed")
		# the second chunk raised its alerts itself; the first (failed twice) raised none
		self.assertTrue(self.alerts(self.customers[2]))
		self.assertFalse(self.alerts(self.customers[0]))
		self.assertEqual(service.ranges_left_by(run.name), [(self.customers[0], self.customers[1])])
		with patch("frappe.enqueue") as enqueue:
			self.assertEqual(jobs.start_nightly_pass(str(today()), run=run.name), 1)
		self.assertEqual(
			[(c.kwargs["lo"], c.kwargs["hi"]) for c in enqueue.call_args_list],
			[(self.customers[0], self.customers[1])],
		)
		# the queued range job raises the failed chunk's alerts (its customers' colours as they stand)
		set_customer_fields(self.customers[0], {"cs_health_status": "Red"}, update_modified=False)
		jobs.evaluate_range(self.customers[0], self.customers[1], str(today()))
		self.assertEqual([a.rule for a in self.alerts(self.customers[0])], [RED])
