"""Recompute runs that survive a crash, and app writes that never block a person's save."""

import itertools
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, add_to_date, getdate, now_datetime, nowdate

from customer_success.health import api
from customer_success.health import service as health
from customer_success.integrations.erpnext.customer import APP_FIELDS
from customer_success.tests.utils import (
	OtherConnection,
	delete_customers,
	make_customer,
	make_issue,
	make_shared_users,
)

SALES_MANAGER = "cs-runs-sales-manager@example.com"
CSM = "cs-runs-csm@example.com"
RUN = "Health Recompute Run"
CHUNK = "Health Recompute Run Chunk"


def app_values(customer: str) -> dict:
	return frappe.db.get_value("Customer", customer, list(APP_FIELDS), as_dict=True)


class RunsTestCase(OtherConnection, FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# ERPNext's Sales Manager reads Customers; the Sales User role beside it writes them.
		make_shared_users({SALES_MANAGER: ["Sales Manager", "Sales User"], CSM: ["Customer Success Manager"]})

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()


class TestSavesAreNeverBlocked(RunsTestCase):
	"""A Customer form opened before an app write still saves, and keeps the newest values."""

	def open_form(self, customer: str):
		frappe.set_user(SALES_MANAGER)
		doc = frappe.get_doc("Customer", customer)
		frappe.set_user("Administrator")
		return doc

	def save_unrelated_edit(self, doc, note: str):
		frappe.set_user(SALES_MANAGER)
		try:
			doc.customer_details = note
			doc.save()
		finally:
			frappe.set_user("Administrator")

	def assert_open_form_survives(self, customer: str, write, label: str):
		doc = self.open_form(customer)
		held = {f: doc.get(f) for f in APP_FIELDS}
		modified = frappe.db.get_value("Customer", customer, "modified")
		write()
		written = app_values(customer)
		self.assertNotEqual(held, dict(written), f"{label} changed nothing: the test proves nothing")
		self.assertEqual(
			frappe.db.get_value("Customer", customer, "modified"), modified, f"{label} bumped modified"
		)
		self.save_unrelated_edit(doc, f"after {label}")
		self.assertEqual(frappe.db.get_value("Customer", customer, "customer_details"), f"after {label}")
		self.assertEqual(app_values(customer), written, f"the save after {label} lost its values")

	def as_csm(self, fn, *args):
		def write():
			frappe.set_user(CSM)
			try:
				fn(*args)
			finally:
				frappe.set_user("Administrator")

		return write

	def test_nightly_run_then_save(self):
		customer = make_customer(cs_owner=CSM).name
		make_issue(customer, "High")
		# what the nightly chunk writes for its range (the chunk job's scoring and SQL write)
		self.assert_open_form_survives(customer, lambda: health.score_range(customer, customer), "nightly")

	def test_csm_actions_then_save(self):
		customer = make_customer(cs_owner=CSM).name
		make_issue(customer, "High")
		until = add_days(nowdate(), 10)
		self.assert_open_form_survives(customer, self.as_csm(api.recompute_customer, customer), "recompute")
		self.assert_open_form_survives(
			customer, self.as_csm(api.set_sentiment, customer, "Concerned"), "sentiment"
		)
		self.assert_open_form_survives(
			customer, self.as_csm(api.set_override, customer, 90, "Sponsor signed", until), "override"
		)
		self.assert_open_form_survives(customer, self.as_csm(api.clear_override, customer), "clear")

	def test_override_lapse_then_save(self):
		customer = make_customer(cs_owner=CSM).name
		frappe.db.set_value(
			"Customer",
			customer,
			{
				"cs_health_override": 80,
				"cs_override_reason": "old",
				"cs_override_until": add_days(nowdate(), -1),
			},
			update_modified=False,
		)
		self.assert_open_form_survives(customer, health.lapse_expired_overrides, "lapse")
		self.assertIsNone(frappe.db.get_value("Customer", customer, "cs_override_until"))

	def test_a_save_never_sets_app_fields(self):
		customer = make_customer(cs_owner=CSM).name
		make_issue(customer, "High")
		health.recompute_customer(customer)
		stored = app_values(customer)
		for user in (SALES_MANAGER, CSM, "Administrator"):
			frappe.set_user(user)
			doc = frappe.get_doc("Customer", customer)
			doc.update(
				{
					"cs_health_score": 99,
					"cs_health_status": "Green",
					"cs_health_override": 99,
					"cs_override_reason": "by hand",
					"cs_override_until": add_days(nowdate(), 9),
					"cs_csm_sentiment": "Very Positive",
				}
			)
			doc.save()  # silently: no error, the stored values stay
			frappe.set_user("Administrator")
			self.assertEqual(app_values(customer), stored, user)

	def test_an_insert_starts_without_app_fields(self):
		frappe.set_user(SALES_MANAGER)
		customer = make_customer(
			cs_health_score=99,
			cs_health_status="Green",
			cs_health_trend=5,
			cs_health_override=99,
			cs_override_reason="by hand",
			cs_override_until=add_days(nowdate(), 9),
			cs_csm_sentiment="Very Positive",
			cs_sentiment_on=nowdate(),
		).name
		frappe.set_user("Administrator")
		values = app_values(customer)
		self.assertEqual(
			(values.cs_health_score, values.cs_health_override, values.cs_health_trend), (0, 0, 0)
		)
		for fieldname in (
			"cs_health_status",
			"cs_override_reason",
			"cs_override_until",
			"cs_csm_sentiment",
			"cs_sentiment_on",
			"cs_health_computed_on",
		):
			self.assertFalse(values[fieldname], fieldname)

	def test_owner_rules_stay(self):
		customer = make_customer(cs_owner=CSM).name
		doc = self.open_form(customer)
		frappe.set_user(SALES_MANAGER)
		doc.cs_owner = SALES_MANAGER
		with self.assertRaises(frappe.PermissionError):
			doc.save()


class TestOverrideInput(RunsTestCase):
	def test_reason_is_kept_as_plain_text(self):
		customer = make_customer(cs_owner=CSM).name
		row = api.set_override(
			customer,
			70,
			'<b>Sponsor</b> <img src=x onerror="alert(1)">confirmed <script>x</script>',
			nowdate(),
		)
		reason = frappe.db.get_value("Customer", customer, "cs_override_reason")
		self.assertEqual(reason, "Sponsor confirmed x")
		self.assertEqual(row["score"], 70)
		# the Customer's timeline says who overrode it, and why, escaped
		note = frappe.get_all(
			"Comment",
			filters={"reference_doctype": "Customer", "reference_name": customer, "comment_type": "Info"},
			fields=["content", "owner"],
			order_by="creation desc",
			limit=1,
		)[0]
		self.assertIn("Sponsor confirmed x", note.content)
		self.assertNotIn("<img", note.content)
		# a bracket that opens no tag is the CSM's text: kept as typed (shown escaped)
		api.set_override(customer, 0, "ARR < 10k > churn risk; <i>see</i> 3<4", add_days(nowdate(), 365))
		self.assertEqual(
			frappe.db.get_value("Customer", customer, "cs_override_reason"), "ARR < 10k > churn risk; see 3<4"
		)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_health_override"), 0)

	def test_first_override_is_checked_and_changes_nothing(self):
		customer = make_customer(cs_owner=CSM).name
		bad = (
			(-1, "reason", nowdate()),
			(100.5, "reason", nowdate()),
			(50, "<p> </p>", nowdate()),
			(50, "x" * 1001, nowdate()),
			(50, "reason", add_days(nowdate(), -1)),
			(50, "reason", add_days(nowdate(), 366)),
			(50, "reason", ""),
		)
		for args in bad:
			with self.assertRaises(frappe.ValidationError, msg=str(args)[:60]):
				api.set_override(customer, *args)
		values = app_values(customer)
		self.assertEqual(values.cs_health_override, 0)
		self.assertIsNone(values.cs_override_until)
		self.assertFalse(values.cs_override_reason)
		self.assertIsNone(frappe.db.get_value("Customer Health Score", {"customer": customer}))


class RunTestCase(RunsTestCase):
	"""Runs commit (they are the lock the jobs see), so each test keeps to data of its own:

	- its runs cover only its own customers (names under a prefix of its own: no other customer
	falls inside a chunk's name range);
	- the whole-table tidying after a run (prune_history, lapse_expired_overrides) is mocked;
	- the lock and the watchdog see only the runs it started, whatever else runs on the site;
	- tearDown removes exactly the runs, customers and scores it made.
	"""

	def setUp(self):
		self.prefix = f"_CS Test Run {frappe.generate_hash(length=8)}"
		self.customers: list[str] = []
		self.runs: list = []
		self.other_runs: list = []
		real_new_run = health.new_run

		def new_run(*args, **kwargs):
			run = real_new_run(*args, **kwargs)
			self.runs.append(run.name)
			return run

		self.prune = self.start_patch("customer_success.health.service.prune_history")
		self.lapse = self.start_patch("customer_success.health.service.lapse_expired_overrides")
		self.start_patch("customer_success.health.service.new_run", side_effect=new_run)
		self.start_patch("customer_success.health.service.is_active_run", side_effect=self.is_my_active_run)
		self.start_patch("customer_success.health.queries.customer_chunks", side_effect=self.my_chunks)

	def start_patch(self, target: str, **kwargs):
		patcher = patch(target, **kwargs)
		self.addCleanup(patcher.stop)
		return patcher.start()

	def is_my_active_run(self, table):
		return table.status.isin(health.ACTIVE_RUN_STATUSES) & table.name.isin(
			[str(name) for name in self.runs] or ["0"]
		)

	def my_chunks(self, chunk_size: int, sizes: list[int] | None = None) -> list[dict]:
		"""queries.customer_chunks over this test's own customers only."""
		names = frappe.get_all(
			"Customer",
			filters={"name": ("in", self.customers or [""]), "disabled": 0},
			pluck="name",
			order_by="name asc",
		)
		if sizes is None:
			parts = [names[i : i + chunk_size] for i in range(0, len(names), chunk_size)]
		else:  # the sizes in turn, the last holding what is left
			parts, start = [], 0
			for index, size in enumerate(sizes):
				end = len(names) if index == len(sizes) - 1 else start + size
				if names[start:end]:
					parts.append(names[start:end])
				start = end
		return [{"lo": part[0], "hi": part[-1], "customers": len(part)} for part in parts]

	def new_customer(self, **fields) -> str:
		name = make_customer(f"{self.prefix} {len(self.customers):02d}", **fields).name
		self.customers.append(name)
		return name

	def tearDown(self):
		frappe.flags.in_test = True
		frappe.set_user("Administrator")
		frappe.db.rollback()
		runs = [str(name) for name in self.runs + self.other_runs]
		if runs:
			frappe.db.delete(CHUNK, {"parent": ("in", runs)})
			frappe.db.delete("Error Log", {"reference_doctype": RUN, "reference_name": ("in", runs)})
			frappe.db.delete(RUN, {"name": ("in", runs)})
		if self.customers:
			frappe.db.delete("Customer Health Score", {"customer": ("in", self.customers)})
			delete_customers(self.customers)
		frappe.db.commit()  # nosemgrep: undo what the committed runs left

	def customers_for_two_chunks(self):
		"""Four customers of our own, and a chunk size that splits them (and ours made before) in two."""
		for _ in range(4):
			self.new_customer()
		return max(len(self.customers) - 1, 1)

	def queued_run(self, chunks: int = 2):
		"""A run started as the scheduler starts it, its jobs handed to a queue that never ran them
		(`chunks` of them: 2, or 3 of 2 customers each)."""
		if chunks == 2:
			chunk_size = self.customers_for_two_chunks()
		else:
			self.assertEqual(chunks, 3)
			while len(self.customers) < 6:
				self.new_customer()
			chunk_size = 2
		frappe.flags.in_test = False
		try:
			with (
				patch("customer_success.health.service.CHUNK_SIZE", chunk_size),
				patch("customer_success.health.service.long_queue_worker_count", return_value=1),
				patch("frappe.enqueue") as enqueue,
			):
				run = health.start_recompute(trigger="Nightly")
		finally:
			frappe.flags.in_test = True
		self.assertEqual(run.status, "Running", run.message)
		self.assertEqual(run.chunks_total, chunks)
		self.assertEqual(enqueue.call_count, chunks)
		self.assertEqual(
			[c.kwargs["job_id"] for c in enqueue.call_args_list],
			[health.chunk_job_id(run.name, index, 1) for index in range(chunks)],
		)
		return run

	def chunk(self, run, index: int):
		return frappe.get_all(
			CHUNK,
			filters={"parent": str(run), "chunk_index": index},
			fields=[
				"name",
				"status",
				"attempts",
				"range_from",
				"range_to",
				"customers",
				"customers_scored",
				"customers_failed",
				"job_id",
			],
		)[0]

	def set_chunk(self, run, index: int, **values):
		frappe.db.set_value(CHUNK, self.chunk(run, index).name, values)
		frappe.db.commit()  # nosemgrep: as the dead job left it


class TestRunsSurviveACrash(RunTestCase):
	def test_a_dead_chunk_is_retried_once(self):
		run = self.queued_run()
		# chunk 0 was started, then its worker died: RQ has no job running it
		self.set_chunk(run.name, 0, status="Running")
		self.assertEqual(health.live_jobs([self.chunk(run.name, 0).job_id]), set())
		with patch("customer_success.health.service.enqueue_chunk", wraps=health.enqueue_chunk) as enqueue:
			health.watch_recompute_runs()
		retried = {(c.args[1], c.args[4]) for c in enqueue.call_args_list}  # (chunk, attempt)
		self.assertEqual(retried, {(0, 2), (1, 2)})
		chunk = self.chunk(run.name, 0)
		self.assertEqual((chunk.status, chunk.attempts), ("Done", 2))
		self.assertEqual(chunk.customers_scored + chunk.customers_failed, chunk.customers)
		run.reload()
		self.assertEqual(run.status, "Completed")
		self.assertEqual((run.chunks_done, run.chunks_failed), (2, 0))
		self.assertIsNotNone(frappe.db.get_value("Customer Health Score", {"customer": self.customers[0]}))

	def test_a_second_failure_fails_the_run_and_the_night_still_ends(self):
		self.new_customer()
		run = self.queued_run()
		# chunk 0 was retried already and its second job died too
		self.set_chunk(run.name, 0, status="Running", attempts=2)
		failed = self.chunk(run.name, 0)
		health.watch_recompute_runs()
		# the history is still tidied (inline in tests; a job on the long queue otherwise)
		self.prune.assert_called_once_with(getdate(run.score_date))
		self.lapse.assert_called_once_with(getdate(run.score_date))
		self.assertEqual(self.chunk(run.name, 0).status, "Failed")
		self.assertEqual(self.chunk(run.name, 1).status, "Done")
		run.reload()
		self.assertEqual(run.status, "Failed")
		self.assertEqual((run.chunks_done, run.chunks_failed), (2, 1))
		self.assertGreaterEqual(failed.customers, 3)
		self.assertEqual(run.customers_failed, failed.customers)
		self.assertIn(str(failed.customers), run.message)
		# the run's message points to the Error Log: it says which job stopped, and that it was not
		# an error of the scoring
		self.assertIn("Error Log", run.message)
		logged = frappe.get_all(
			"Error Log",
			filters={"reference_doctype": RUN, "reference_name": str(run.name)},
			fields=["method", "error"],
		)
		self.assertEqual(len(logged), 1)
		self.assertIn(failed.job_id, logged[0].error)
		# the lock is free again
		self.assertNotEqual(health.start_recompute(trigger="Manual", now=True).status, "Skipped")

	def test_a_chunk_that_raises_twice_counts_all_its_customers(self):
		run = self.queued_run()
		first, second = self.chunk(run.name, 0), self.chunk(run.name, 1)
		real = health.score_range

		def out_of_memory(lo, hi, *args, **kwargs):
			if lo == first.range_from:
				raise MemoryError("out of memory")
			return real(lo, hi, *args, **kwargs)

		with patch("customer_success.health.service.score_range", side_effect=out_of_memory):
			# the first chunk's job: it raises, is retried (inline in tests) and raises again
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
			self.assertEqual(
				(self.chunk(run.name, 0).status, self.chunk(run.name, 0).attempts), ("Failed", 2)
			)
			self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Running")
			health.run_chunk(run.name, second.range_from, second.range_to, chunk=1, attempt=1)
		run.reload()
		self.assertEqual(run.status, "Failed")
		self.assertGreaterEqual(first.customers, 3)
		self.assertEqual(run.customers_failed, first.customers)  # not 2, the two ends of its range
		self.assertEqual(run.customers_scored + run.customers_failed, first.customers + second.customers)

	def test_a_stale_attempt_does_nothing(self):
		run = self.queued_run()
		self.set_chunk(run.name, 0, status="Queued", attempts=2)
		chunk = self.chunk(run.name, 0)
		health.run_chunk(run.name, chunk.range_from, chunk.range_to, chunk=0, attempt=1)  # woken late
		self.assertEqual(self.chunk(run.name, 0).status, "Queued")

	def test_a_run_scores_the_day_it_is_given(self):
		"""The benchmark's next-day nights: a run started for a later day scores that day (its rows,
		the copies on the Customers) and writes no row of today. (tearDown removes the rows.)"""
		customer = self.new_customer()
		tomorrow = getdate(add_days(nowdate(), 1))
		# only when asked for: a later (or earlier) day by mistake changes nothing
		runs = frappe.db.count(RUN)
		for day, later_day in (
			(tomorrow, False),
			(add_days(nowdate(), -1), False),
			(add_days(nowdate(), -1), True),
		):
			with self.assertRaisesRegex(frappe.ValidationError, "A recompute scores today"):
				health.start_recompute(trigger="Manual", now=True, score_date=day, later_day=later_day)
		self.assertEqual(frappe.db.count(RUN), runs)
		run = health.start_recompute(trigger="Manual", now=True, score_date=tomorrow, later_day=True)
		self.assertEqual((getdate(run.score_date), run.status), (tomorrow, "Completed"))
		rows = frappe.get_all("Customer Health Score", {"customer": customer}, pluck="score_date")
		self.assertEqual(rows, [tomorrow])
		self.assertIsNotNone(frappe.db.get_value("Customer", customer, "cs_health_computed_on"))

	def test_a_later_days_tidy_up_goes_no_further_than_today(self):
		"""An override running to next week stays when a benchmark's night scores a day after it."""
		customer = self.new_customer()
		until = getdate(add_days(nowdate(), 7))
		frappe.db.set_value(
			"Customer",
			customer,
			{"cs_health_override": 20, "cs_override_reason": "Champion left", "cs_override_until": until},
		)
		health.tidy_history(str(add_days(nowdate(), 30)))
		self.assertEqual(getdate(frappe.db.get_value("Customer", customer, "cs_override_until")), until)

	def test_a_start_while_the_jobs_live_is_skipped(self):
		run = self.queued_run()
		with patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)):
			second = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual(second.status, "Skipped")
		self.assertIn(str(run.name), second.message)
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Running")
		# a skipped start is over as it is recorded
		self.assertIsNotNone(frappe.db.get_value(RUN, second.name, "finished_at"))

	def test_the_lock_is_per_site(self):
		# MariaDB user locks are server-wide: another site's recompute must not hold ours
		other_site = f"{health.LOCK_NAME}:_another_site_db"
		self.assertEqual(health.site_lock_name(health.LOCK_NAME), f"{health.LOCK_NAME}:{frappe.conf.db_name}")
		with self.secondary_connection():
			self.assertTrue(frappe.db.sql("select get_lock(%s, 0)", other_site)[0][0])
		try:
			self.assertTrue(health.take_lock(health.LOCK_NAME, 0))
			health.release_lock(health.LOCK_NAME)
		finally:
			with self.secondary_connection():
				frappe.db.sql("select release_lock(%s)", other_site)

	def test_the_watchdog_is_scheduled(self):
		hooks = frappe.get_hooks("scheduler_events")
		scheduled = {m: cron for cron, methods in hooks["cron"].items() for m in methods}
		self.assertIn("customer_success.health.jobs.watch_recompute_runs", scheduled)


OTHER_QUEUES = health.other_queues  # as it is, before a test patches it


class TestAJobTakesTheWaitingChunks(RunTestCase):
	"""A chunk job, once its own chunk is done, takes the run's chunks still waiting for their first
	job: a night forks a job per worker, not per chunk, and the watchdog follows each chunk's job."""

	def setUp(self):
		super().setUp()
		# the test site's queues hold what other tests queued, and no worker runs them
		self.queues = self.start_patch("customer_success.health.service.other_queues", return_value=[])

	def as_job(self, job_id: str):
		"""Run as the RQ job `job_id` (and as no other)."""
		return patch(
			"customer_success.health.service.running_job_id",
			side_effect=lambda asked: asked if asked == job_id else None,
		)

	def test_a_job_takes_every_waiting_chunk_in_turn(self):
		run = self.queued_run(chunks=3)
		mine = health.chunk_job_id(run.name, 0, 1)
		first = self.chunk(run.name, 0)
		frappe.local.flags.cs_alert_cache = {"cs_manager": "someone@example.com"}
		self.addCleanup(frappe.local.flags.pop, "cs_alert_cache", None)
		frappe.db.value_cache[("CS Test", "cached", "value")] = "stale"
		self.addCleanup(frappe.db.value_cache.pop, ("CS Test", "cached", "value"), None)
		with (
			self.as_job(mine),
			patch("customer_success.health.service.drop_queued_job", return_value=True) as drop,
		):
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		self.assertEqual(
			[c.args[0] for c in drop.call_args_list],
			[health.chunk_job_id(run.name, 1, 1), health.chunk_job_id(run.name, 2, 1)],
		)
		self.assertNotIn("cs_alert_cache", frappe.local.flags)  # forgotten before a taken chunk
		self.assertNotIn(("CS Test", "cached", "value"), frappe.db.value_cache)
		chunks = [self.chunk(run.name, index) for index in range(3)]
		self.assertEqual([(c.status, c.attempts, c.job_id) for c in chunks], [("Done", 1, mine)] * 3)
		run.reload()
		self.assertEqual((run.status, run.chunks_done, run.chunks_failed), ("Completed", 3, 0))
		self.assertEqual(run.customers_scored + run.customers_failed, 6)
		self.assertEqual(sum(c.customers_scored + c.customers_failed for c in chunks), 6)

	def test_a_taken_chunk_that_fails_is_retried_and_the_job_takes_no_more(self):
		run = self.queued_run(chunks=3)
		mine = health.chunk_job_id(run.name, 0, 1)
		first, second = self.chunk(run.name, 0), self.chunk(run.name, 1)
		real_score_range, failed = health.score_range, []

		def fails_once(lo, hi, **kwargs):
			if lo == second.range_from and not failed:
				failed.append(lo)
				raise MemoryError("the taken chunk's first attempt")
			return real_score_range(lo, hi, **kwargs)

		with (
			self.as_job(mine),
			patch("customer_success.health.service.drop_queued_job") as drop,
			patch("customer_success.health.service.score_range", side_effect=fails_once),
		):
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		drop.assert_called_once_with(health.chunk_job_id(run.name, 1, 1))
		retried = self.chunk(run.name, 1)  # its retry is a job of its own (inline in a test)
		self.assertEqual((retried.status, retried.attempts), ("Done", 2))
		self.assertEqual(retried.job_id, health.chunk_job_id(run.name, 1, 2))
		self.assertEqual((self.chunk(run.name, 2).status, self.chunk(run.name, 2).attempts), ("Queued", 1))
		self.assertTrue(
			frappe.db.exists("Error Log", {"reference_doctype": RUN, "reference_name": str(run.name)})
		)

	def test_a_job_takes_no_chunk_while_other_queues_wait(self):
		run = self.queued_run()
		mine = health.chunk_job_id(run.name, 0, 1)
		first = self.chunk(run.name, 0)
		self.queues.return_value = [frappe._dict(count=0), frappe._dict(count=1)]  # a job waits on one
		with self.as_job(mine), patch("customer_success.health.service.drop_queued_job") as drop:
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		drop.assert_not_called()
		self.assertEqual((self.chunk(run.name, 0).status, self.chunk(run.name, 1).status), ("Done", "Queued"))

	def test_other_queues_waiting(self):
		idle, busy = frappe._dict(count=0), frappe._dict(count=2)
		self.assertFalse(health.other_jobs_waiting([]))  # a worker on the long queue alone
		self.assertFalse(health.other_jobs_waiting([idle, idle]))
		self.assertTrue(health.other_jobs_waiting([idle, busy]))
		self.assertTrue(health.other_jobs_waiting(None))  # cannot tell: take no more

	def test_the_other_queues_are_those_the_worker_takes_from_before_the_long_one(self):
		from frappe.utils.background_jobs import get_queue
		from rq.worker import Worker

		short_queue, default_queue, long_queue = get_queue("short"), get_queue("default"), get_queue("long")

		def registered(*queues) -> str:
			worker = Worker(
				list(queues),
				connection=long_queue.connection,
				name=f"cs-health-test-{frappe.generate_hash(length=10)}",
			)
			worker.register_birth()
			self.addCleanup(worker.register_death)
			return worker.name

		def other_queues_of(worker_name: str) -> list[str]:
			with patch("rq.get_current_job", return_value=frappe._dict(worker_name=worker_name)):
				return [queue.name for queue in OTHER_QUEUES()]

		# production's long worker takes the next chunk job before any other anyway
		self.assertEqual(other_queues_of(registered(long_queue, default_queue, short_queue)), [])
		# `bench worker` with no --queue: short and default first
		self.assertEqual(
			other_queues_of(registered(short_queue, default_queue, long_queue)),
			[short_queue.name, default_queue.name],
		)
		self.assertEqual(other_queues_of("cs-health-no-such-worker"), [short_queue.name, default_queue.name])
		with patch("frappe.utils.background_jobs.get_queue", side_effect=ConnectionError):
			self.assertIsNone(OTHER_QUEUES())

	def test_the_watchdog_leaves_a_chunk_another_job_took_meanwhile(self):
		run = self.queued_run()
		taker = health.chunk_job_id(run.name, 0, 1)
		own = health.chunk_job_id(run.name, 1, 1)
		self.set_chunk(run.name, 0, status="Running")

		def live_jobs(ids):
			# between the watchdog's read of the chunks and its question to RQ, job 0 takes chunk 1
			# and drops chunk 1's own job
			self.set_chunk(run.name, 1, status="Running", job_id=taker)
			return {job_id for job_id in ids if job_id != own}

		with (
			patch("customer_success.health.service.live_jobs", side_effect=live_jobs),
			patch("customer_success.health.service.enqueue_chunk") as enqueue,
		):
			health.watch_recompute_runs()
		enqueue.assert_not_called()
		chunk = self.chunk(run.name, 1)
		self.assertEqual((chunk.status, chunk.attempts, chunk.job_id), ("Running", 1, taker))
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Running")

	def test_a_job_takes_the_waiting_chunks_and_drops_their_jobs(self):
		run = self.queued_run()
		mine = health.chunk_job_id(run.name, 0, 1)
		first = self.chunk(run.name, 0)
		with (
			self.as_job(mine),
			patch("customer_success.health.service.drop_queued_job", return_value=True) as drop,
		):
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		drop.assert_called_once_with(health.chunk_job_id(run.name, 1, 1))
		chunks = [self.chunk(run.name, 0), self.chunk(run.name, 1)]
		self.assertEqual([(c.status, c.attempts, c.job_id) for c in chunks], [("Done", 1, mine)] * 2)
		run.reload()
		self.assertEqual((run.status, run.chunks_done, run.chunks_failed), ("Completed", 2, 0))
		self.assertEqual(run.customers_scored + run.customers_failed, sum(c.customers for c in chunks))
		self.assertEqual(
			frappe.db.count(
				"Customer Health Score",
				{"customer": ("in", self.customers), "score_date": getdate(nowdate())},
			),
			run.customers_scored,
		)
		# the taken chunk's own job, dequeued by a worker before it was dropped, does nothing
		second = chunks[1]
		with self.as_job(health.chunk_job_id(run.name, 1, 1)):
			health.run_chunk(run.name, second.range_from, second.range_to, chunk=1, attempt=1)
		again = frappe.get_doc(RUN, run.name)
		self.assertEqual(
			(again.chunks_done, again.customers_scored, again.customers_failed),
			(run.chunks_done, run.customers_scored, run.customers_failed),
		)
		self.assertEqual(self.chunk(run.name, 1).job_id, mine)

	def test_a_job_whose_chunk_was_taken_takes_the_rest(self):
		run = self.queued_run()
		self.set_chunk(run.name, 0, status="Running", job_id="cs-health-another-job")
		late = health.chunk_job_id(run.name, 0, 1)
		first = self.chunk(run.name, 0)
		with self.as_job(late), patch("customer_success.health.service.drop_queued_job"):
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		self.assertEqual(self.chunk(run.name, 0).status, "Running")  # the other job's
		self.assertEqual((self.chunk(run.name, 1).status, self.chunk(run.name, 1).job_id), ("Done", late))

	def test_inline_a_chunk_takes_nothing_else(self):
		run = self.queued_run()
		first = self.chunk(run.name, 0)
		health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		self.assertEqual((self.chunk(run.name, 0).status, self.chunk(run.name, 1).status), ("Done", "Queued"))

	def test_retries_and_runs_that_are_over_are_not_taken(self):
		run = self.queued_run()
		self.set_chunk(run.name, 0, status="Queued", attempts=2)
		self.set_chunk(run.name, 1, status="Running")
		with patch("customer_success.health.service.drop_queued_job") as drop:
			self.assertIsNone(health.take_queued_chunk(run.name, "cs-health-some-job"))
			self.set_chunk(run.name, 0, attempts=1)
			frappe.db.set_value(RUN, run.name, "status", "Failed")
			frappe.db.commit()  # nosemgrep: as a finished run stands
			self.assertIsNone(health.take_queued_chunk(run.name, "cs-health-some-job"))
		drop.assert_not_called()
		self.assertEqual((self.chunk(run.name, 0).status, self.chunk(run.name, 0).attempts), ("Queued", 1))

	def test_a_chunk_another_job_takes_first_is_passed_over(self):
		run = self.queued_run()
		real_lock_chunk, raced = health.lock_chunk, []

		def another_job_first(run_name, chunk):
			if not raced:  # between this job's read and its lock, another job takes the chunk
				raced.append(chunk)
				self.set_chunk(run_name, chunk, status="Running", job_id="cs-health-another-job")
			return real_lock_chunk(run_name, chunk)

		with (
			patch("customer_success.health.service.TAKE_CANDIDATES", 1),
			patch("customer_success.health.service.lock_chunk", side_effect=another_job_first),
			patch("customer_success.health.service.drop_queued_job") as drop,
		):
			taken = health.take_queued_chunk(run.name, "cs-health-this-job")
		self.assertEqual(raced, [0])
		self.assertEqual(taken.chunk_index, 1)
		drop.assert_called_once_with(health.chunk_job_id(run.name, 1, 1))
		self.assertEqual(self.chunk(run.name, 0).job_id, "cs-health-another-job")
		self.assertEqual(
			(self.chunk(run.name, 1).status, self.chunk(run.name, 1).job_id),
			("Running", "cs-health-this-job"),
		)

	def test_a_job_stops_taking_chunks_after_its_time(self):
		run = self.queued_run()
		mine = health.chunk_job_id(run.name, 0, 1)
		first = self.chunk(run.name, 0)
		with (
			self.as_job(mine),
			patch("customer_success.health.service.TAKE_CHUNKS_FOR", 0),
			patch("customer_success.health.service.drop_queued_job") as drop,
		):
			health.run_chunk(run.name, first.range_from, first.range_to, chunk=0, attempt=1)
		drop.assert_not_called()
		self.assertEqual((self.chunk(run.name, 0).status, self.chunk(run.name, 1).status), ("Done", "Queued"))

	def test_a_chunk_taken_by_a_job_that_died_is_retried(self):
		run = self.queued_run()
		dead = health.chunk_job_id(run.name, 0, 1)
		# chunk 0's job took chunk 1, then died; chunk 1's own job was still queued (not dropped)
		self.set_chunk(run.name, 0, status="Running")
		self.set_chunk(run.name, 1, status="Running", job_id=dead)
		asked = []

		def live_jobs(ids):
			asked.extend(ids)
			return {job_id for job_id in ids if job_id != dead}

		with (
			patch("customer_success.health.service.live_jobs", side_effect=live_jobs),
			patch("customer_success.health.service.enqueue_chunk", wraps=health.enqueue_chunk) as enqueue,
		):
			health.watch_recompute_runs()
		self.assertEqual(asked, [dead, dead])
		self.assertEqual({(c.args[1], c.args[4]) for c in enqueue.call_args_list}, {(0, 2), (1, 2)})
		for index in (0, 1):
			chunk = self.chunk(run.name, index)
			self.assertEqual((chunk.status, chunk.attempts), ("Done", 2))
			self.assertEqual(chunk.job_id, health.chunk_job_id(run.name, index, 2))
		run.reload()
		self.assertEqual(run.status, "Completed")

	def test_a_taken_chunks_job_leaves_the_long_queue(self):
		from frappe.utils.background_jobs import create_job_id, get_queue, get_workers
		from rq.job import Job

		queue = get_queue("long")
		if get_workers(queue):
			self.skipTest("a worker listens on the long queue: it could run the job before it is dropped")
		job_id = f"cs-health-test-{frappe.generate_hash(length=10)}"
		rq_id = create_job_id(job_id)
		self.addCleanup(lambda: queue.remove(rq_id) and Job(rq_id, connection=queue.connection).delete())
		frappe.enqueue("frappe.ping", queue="long", job_id=job_id, deduplicate=True)
		self.assertIn(rq_id, queue.get_job_ids())
		self.assertTrue(health.drop_queued_job(job_id))
		self.assertNotIn(rq_id, queue.get_job_ids())
		self.assertFalse(Job.exists(rq_id, connection=queue.connection))
		self.assertFalse(health.drop_queued_job(job_id))  # gone already: nothing to drop

	def test_the_job_it_runs_as(self):
		from frappe.utils.background_jobs import create_job_id

		self.assertIsNone(health.running_job_id("cs-health-1-0-1"))  # not in a job
		job = frappe._dict(id=create_job_id("cs-health-1-0-1"))
		with patch("rq.get_current_job", return_value=job):
			self.assertEqual(health.running_job_id("cs-health-1-0-1"), "cs-health-1-0-1")
			self.assertIsNone(health.running_job_id("cs-health-1-1-1"))


class TestRecomputeAllQueues(RunTestCase):
	def test_without_a_long_queue_worker_the_button_queues(self):
		from customer_success.health.doctype.health_score_model.health_score_model import (
			recompute_all,
		)

		customer = self.new_customer()
		model = frappe.db.get_value("Health Score Model", {"is_default": 1})
		frappe.flags.in_test = False  # as in a web request
		try:
			with (
				patch("customer_success.health.service.long_queue_worker_count", return_value=0),
				patch("customer_success.health.service.score_range") as score_range,
				patch("frappe.enqueue") as enqueue,
			):
				result = recompute_all(model)
		finally:
			frappe.flags.in_test = True
		score_range.assert_not_called()
		self.assertEqual(result["status"], "Queued")
		self.assertIn("worker on the long queue", result["message"])
		self.assertTrue(enqueue.call_count)
		self.assertTrue(
			all(c.kwargs["queue"] == "long" and not c.kwargs["now"] for c in enqueue.call_args_list)
		)
		self.assertIsNone(frappe.db.get_value("Customer Health Score", {"customer": customer}))

		# pressed again while it waits: skipped, saying why
		with patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)):
			again = recompute_all(model)
		self.assertEqual(again["status"], "Skipped")
		self.assertIn("waiting for a worker on the long queue", again["message"])

		# a worker comes: the run starts with its first chunk and ends with its last
		for c in enqueue.call_args_list:
			health.run_chunk(
				c.kwargs["run"], c.kwargs["lo"], c.kwargs["hi"], c.kwargs["chunk"], c.kwargs["attempt"]
			)
		self.assertEqual(frappe.db.get_value(RUN, result["run"], "status"), "Completed")
		self.assertIsNotNone(frappe.db.get_value("Customer Health Score", {"customer": customer}))

	def test_the_chunks_are_split_evenly_among_the_long_queue_workers(self):
		"""Chunks of 5, 5 and 3 on two workers leave one alone with the last: the run splits its
		customers into four of 4, 3, 3 and 3 instead (a multiple of the workers, sizes differing by
		at most one, none larger than the chunk size). Inline runs and a single worker keep the
		chunk size."""
		while len(self.customers) < 13:
			self.new_customer()

		def start(workers: int):
			frappe.flags.in_test = False  # as the scheduler starts it
			try:
				with (
					patch("customer_success.health.service.CHUNK_SIZE", 5),
					patch("customer_success.health.service.long_queue_worker_count", return_value=workers),
					patch("frappe.enqueue") as enqueue,
				):
					run = health.start_recompute(trigger="Nightly")
			finally:
				frappe.flags.in_test = True
			self.assertEqual(run.status, "Running")
			chunks = sorted(run.chunks, key=lambda row: row.chunk_index)
			self.assertEqual(enqueue.call_count, len(chunks))
			# the ranges follow each other without overlapping and cover every customer
			for before, after in itertools.pairwise(chunks):
				self.assertLess(before.range_to, after.range_from)
			covered = [
				name
				for name in sorted(self.customers)
				if any(c.range_from <= name <= c.range_to for c in chunks)
			]
			self.assertEqual(covered, sorted(self.customers))
			self.assertEqual(sum(c.customers for c in chunks), len(self.customers))
			for c in chunks:  # as if the jobs ran: the lock is free for the next start
				health.run_chunk(run.name, c.range_from, c.range_to, c.chunk_index, 1)
			self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Completed")
			return [c.customers for c in chunks]

		self.assertEqual(start(1), [5, 5, 3])
		self.assertEqual(start(2), [4, 3, 3, 3])
		self.assertEqual(start(3), [5, 4, 4])

	def test_the_button_needs_write_on_the_model(self):
		from customer_success.health.doctype.health_score_model.health_score_model import (
			recompute_all,
		)

		model = frappe.db.get_value("Health Score Model", {"is_default": 1})
		frappe.set_user(SALES_MANAGER)
		with self.assertRaises(frappe.PermissionError):
			recompute_all(model)


class TestFinishingARun(RunTestCase):
	def finished_chunks(self):
		"""A run whose chunks are all done: the next look at it finishes it."""
		run = self.queued_run()
		for index in (0, 1):
			self.set_chunk(run.name, index, status="Done")
		frappe.db.set_value(RUN, run.name, "chunks_done", 2)
		frappe.db.commit()  # nosemgrep: as the chunk jobs left it
		return run

	def assert_tidy_job_queued(self, run, enqueue):
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Completed")
		self.prune.assert_not_called()
		self.lapse.assert_not_called()
		tidy = [
			c for c in enqueue.call_args_list if c.args[0] == "customer_success.health.service.tidy_history"
		]
		self.assertEqual(len(tidy), 1)
		kwargs = tidy[0].kwargs
		self.assertEqual(
			(kwargs["queue"], kwargs["job_id"], kwargs["deduplicate"], kwargs["now"]),
			("long", health.tidy_job_id(run.name), True, False),
		)
		self.assertEqual(getdate(kwargs["score_date"]), getdate(run.score_date))

	def test_the_button_does_no_whole_table_work_in_its_request(self):
		from customer_success.health.doctype.health_score_model.health_score_model import (
			recompute_all,
		)

		run = self.finished_chunks()
		model = frappe.db.get_value("Health Score Model", {"is_default": 1})
		frappe.flags.in_test = False  # as in a web request
		try:
			with (
				patch("customer_success.health.service.long_queue_worker_count", return_value=1),
				patch("frappe.enqueue") as enqueue,
			):
				result = recompute_all(model)
		finally:
			frappe.flags.in_test = True
		self.assert_tidy_job_queued(run, enqueue)
		self.assertEqual(result["status"], "Running")  # the new run started after the old one closed

	def test_the_watchdog_queues_the_tidy_job(self):
		run = self.finished_chunks()
		frappe.flags.in_test = False  # as in the scheduler's job
		try:
			with patch("frappe.enqueue") as enqueue:
				health.watch_recompute_runs()
		finally:
			frappe.flags.in_test = True
		self.assert_tidy_job_queued(run, enqueue)

	def queued_with_no_worker(self, trigger: str):
		"""A run started as the scheduler or the desk's button starts it (not inline), with no worker
		on the long queue: Queued, its jobs (patched away) never taken."""
		frappe.flags.in_test = False
		try:
			with (
				patch("customer_success.health.service.long_queue_worker_count", return_value=0),
				patch("frappe.enqueue"),
			):
				return health.start_recompute(trigger=trigger)
		finally:
			frappe.flags.in_test = True

	def test_an_inline_start_takes_up_a_run_queued_with_no_worker(self):
		"""The desk's button on a site with no worker running queues a run nobody takes: the console's
		inline start (the README's) scores that run, where it was skipped for 6 hours."""
		customer = self.new_customer()
		queued = self.queued_with_no_worker("Manual")
		self.assertEqual(queued.status, "Queued")
		with (
			patch("customer_success.health.service.long_queue_worker_count", return_value=0),
			# its jobs wait in RQ (alive to the watchdog), with no worker on the long queue
			patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)),
		):
			run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual((run.name, run.status, run.runs_inline), (queued.name, "Completed", 1))
		self.assertTrue(frappe.db.exists("Customer Health Score", {"customer": customer}))
		self.assertTrue(all(chunk.status == "Done" for chunk in run.chunks))
		# with a worker listening, the queued run is left to it
		queued = self.queued_with_no_worker("Manual")
		with (
			patch("customer_success.health.service.long_queue_worker_count", return_value=1),
			patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)),
		):
			self.assertEqual(health.start_recompute(trigger="Manual", now=True).status, "Skipped")

	def test_a_chunk_a_job_claimed_before_an_inline_take_over_is_left_to_the_job(self):
		"""Tester U2: a worker's job claimed a chunk of a queued run just before an inline start took
		the run over; the inline start scored the other chunk and released its lock, and the watchdog
		failed the run the job was still scoring ("not scored"), then refused the job's record."""
		chunk_size = self.customers_for_two_chunks()
		frappe.flags.in_test = False
		try:
			with (
				patch("customer_success.health.service.CHUNK_SIZE", chunk_size),
				patch("customer_success.health.service.long_queue_worker_count", return_value=0),
				patch("frappe.enqueue"),
			):
				queued = health.start_recompute(trigger="Manual")
		finally:
			frappe.flags.in_test = True
		self.assertEqual((queued.status, queued.chunks_total), ("Queued", 2))
		real_take_over = health.take_over_queued_run

		def job_claims_first(name):  # the job's claim lands between the start's read and its take-over
			self.assertTrue(health.claim_chunk(name, 1, 1, by_job=True))
			return real_take_over(name)

		alive = patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids))
		with (
			patch("customer_success.health.service.long_queue_worker_count", return_value=0),
			patch.object(health, "take_over_queued_run", side_effect=job_claims_first),
			alive,
		):
			run = health.start_recompute(trigger="Manual", now=True)
		self.assertEqual((run.name, run.status, run.runs_inline), (queued.name, "Running", 0))
		self.assertEqual(
			[c.status for c in sorted(run.chunks, key=lambda c: c.chunk_index)], ["Done", "Running"]
		)
		with alive:
			health.watch_recompute_runs()
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Running")
		left = next(c for c in run.chunks if c.chunk_index == 1)
		self.assertTrue(health.score_claimed_chunk(run.name, 1, 1, left.range_from, left.range_to))
		run.reload()
		self.assertEqual((run.status, run.customers_failed), ("Completed", 0))
		self.assertEqual(run.customers_scored, sum(c.customers for c in run.chunks))

	def test_a_job_claims_no_chunk_of_a_run_an_inline_start_holds(self):
		chunks = [{"lo": "A", "hi": "M", "customers": 1}, {"lo": "N", "hi": "Z", "customers": 1}]
		inline = health.new_run("Manual", "Running", None, chunks=chunks, inline=True)
		frappe.db.commit()  # nosemgrep: as an inline start leaves it for the jobs to see
		self.assertFalse(health.claim_chunk(inline.name, 0, 1, by_job=True))
		self.assertIsNone(health.take_queued_chunk(inline.name, "a-job"))
		self.assertTrue(health.claim_chunk(inline.name, 0, 1))  # the inline start's own claim

	def test_a_run_no_worker_takes_up_is_failed(self):
		self.new_customer()
		run = self.queued_with_no_worker("Nightly")
		self.assertEqual(run.status, "Queued")
		frappe.db.set_value(
			RUN,
			run.name,
			"modified",
			add_to_date(now_datetime(), hours=-(health.STALE_RUN_HOURS + 1)),
			update_modified=False,
		)
		frappe.db.commit()  # nosemgrep: as the night left it
		# its jobs still wait in RQ: alive, but no worker on the long queue takes them
		with patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)):
			health.watch_recompute_runs()
		run.reload()
		self.assertEqual(run.status, "Failed")
		self.assertIn("no worker on the long queue", run.message)
		# a worker that comes later finds nothing to do, and the next night starts
		self.assertFalse(health.claim_chunk(run.name, 0, 1))
		self.assertNotEqual(health.start_recompute(trigger="Nightly", now=True).status, "Skipped")

	def test_stale_runs_nobody_can_watch_are_failed_and_watched_ones_left_to_the_watchdog(self):
		"""Past STALE_RUN_HOURS without progress: a run scored inline and a run recorded without
		chunks are failed (nothing in RQ to ask about them); a run whose chunks RQ still holds is
		the watchdog's, and is left as it is."""
		self.new_customer()
		long_ago = add_to_date(now_datetime(), hours=-(health.STALE_RUN_HOURS + 1))
		watched = self.queued_run()
		inline = health.new_run("Manual", "Running", None, chunks_total=1, inline=True)
		no_chunks = health.new_run("Nightly", "Running", None, chunks_total=1)
		recent = health.new_run("Manual", "Running", None, chunks_total=1, inline=True)
		for run in (inline, no_chunks, watched):
			frappe.db.set_value(RUN, run.name, "modified", long_ago, update_modified=False)
		frappe.db.commit()  # nosemgrep: as the night left them
		with patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)):
			health.watch_recompute_runs()
		status = {
			run.name: frappe.db.get_value(RUN, run.name, ["status", "message"])
			for run in (inline, no_chunks, watched, recent)
		}
		self.assertEqual(status[inline.name][0], "Failed")
		self.assertIn("no progress", status[inline.name][1])
		self.assertEqual(status[no_chunks.name][0], "Failed")
		self.assertEqual(status[watched.name][0], "Running")
		self.assertEqual(status[recent.name][0], "Running")

	def test_an_inline_run_whose_process_stopped_is_failed_at_once(self):
		"""A console's or the demo's run (scored inline) holds a lock on its connection while it
		scores: once the process is gone, the watchdog fails it and its open chunks at once, and the
		next start is not held off for STALE_RUN_HOURS."""
		self.new_customer()
		chunks = [{"lo": "A", "hi": "M", "customers": 1}, {"lo": "N", "hi": "Z", "customers": 1}]
		stopped = health.new_run("Manual", "Running", None, chunks=chunks, inline=True)
		alive = health.new_run("Manual", "Running", None, chunks=chunks, inline=True)
		frappe.db.set_value(CHUNK, {"parent": str(stopped.name), "chunk_index": 0}, "status", "Done")
		frappe.db.set_value(
			RUN, stopped.name, {"chunks_done": 1, "customers_scored": 1}, update_modified=False
		)
		frappe.db.commit()  # nosemgrep: as the process left them
		health.release_lock(health.inline_lock_name(stopped.name))  # its connection is gone
		with patch.object(health, "call_after_run_hooks") as after_run:
			health.watch_recompute_runs()
		run = frappe.db.get_value(
			RUN,
			stopped.name,
			["status", "message", "chunks_done", "chunks_failed", "customers_scored", "customers_failed"],
			as_dict=True,
		)
		self.assertEqual(run.status, "Failed")
		self.assertIn("stopped", run.message)
		# counted as the worker path counts a failed chunk, said in the Error Log, and what follows a
		# run follows it (tester U: no counts, no Error Log, its alerts left for the next night)
		self.assertIn("1 customers were not scored", run.message)
		self.assertEqual(
			(run.chunks_done, run.chunks_failed, run.customers_scored, run.customers_failed), (2, 1, 1, 1)
		)
		self.assertTrue(
			frappe.db.exists("Error Log", {"reference_doctype": RUN, "reference_name": str(stopped.name)})
		)
		after_run.assert_called_once_with(
			stopped.name, "Failed", frappe.db.get_value(RUN, stopped.name, "score_date")
		)
		chunk_rows = frappe.get_all(
			CHUNK,
			{"parent": str(stopped.name)},
			["status", "customers_failed"],
			order_by="chunk_index",
			as_list=True,
		)
		self.assertEqual([tuple(row) for row in chunk_rows], [("Done", 0), ("Failed", 1)])
		self.assertEqual(frappe.db.get_value(RUN, alive.name, "status"), "Running")  # its process lives
		health.release_lock(health.inline_lock_name(alive.name))
		health.watch_recompute_runs()
		self.assertNotEqual(health.start_recompute(trigger="Manual", now=True).status, "Skipped")


class TestChunkBookkeeping(RunTestCase):
	def test_a_run_starts_with_the_score_sequence_past_every_name(self):
		with patch("customer_success.setup.sequences.catch_up") as catch_up:
			self.queued_run()
		catch_up.assert_called_once_with()

	def test_a_chunk_is_found_by_its_run_alone(self):
		"""A run's name is a number and a chunk's `parent` text: compared as text, the `parent` index
		finds the run's own chunks. Compared as a number every chunk row of every run was read, and a
		claim locked them all: another run's chunks waited on it."""
		earlier = self.queued_run()
		frappe.db.set_value(RUN, earlier.name, "status", "Completed")
		frappe.db.commit()  # nosemgrep: an earlier night's run, done
		run = self.queued_run()
		self.assertIsInstance(run.name, int)
		table = frappe.qb.DocType(CHUNK)
		self.assertIn(
			f"`parent`='{run.name}'",
			frappe.qb.from_(table).select(table.name).where(health.chunks_of(table, run.name)).get_sql(),
		)
		self.assertEqual(health.lock_chunk(run.name, 1).name, self.chunk(run.name, 1).name)
		self.assertEqual(health.chunk_at(run.name, self.chunk(run.name, 1).range_from), 1)
		earlier_chunk = self.chunk(earlier.name, 0).name
		with self.other_connection():
			# the earlier run's chunk is free while this run's chunk is held (a wait would time out)
			frappe.db.sql("set session innodb_lock_wait_timeout = 1")
			self.assertEqual(
				frappe.db.sql(f"select name from `tab{CHUNK}` where name = %s for update", earlier_chunk)[0][
					0
				],
				earlier_chunk,
			)
			frappe.db.rollback()
		frappe.db.rollback()

	def test_a_late_attempt_does_not_close_the_retried_chunk(self):
		run = self.queued_run()
		chunk = self.chunk(run.name, 0)
		real = health.score_range

		def watchdog_retries_meanwhile(lo, hi, *args, **kwargs):
			result = real(lo, hi, *args, **kwargs)
			# the watchdog judged this attempt dead and queued attempt 2
			self.set_chunk(run.name, 0, status="Queued", attempts=2)
			return result

		with patch("customer_success.health.service.score_range", side_effect=watchdog_retries_meanwhile):
			health.run_chunk(run.name, chunk.range_from, chunk.range_to, chunk=0, attempt=1)
		after = self.chunk(run.name, 0)
		self.assertEqual((after.status, after.attempts, after.customers_scored), ("Queued", 2, 0))
		run.reload()
		self.assertEqual((run.status, run.chunks_done, run.customers_scored), ("Running", 0, 0))

		# attempt 2 runs and is the one counted
		health.run_chunk(run.name, chunk.range_from, chunk.range_to, chunk=0, attempt=2)
		run.reload()
		self.assertEqual((run.chunks_done, run.customers_scored), (1, chunk.customers))

	def test_a_retry_is_queued_before_its_commit(self):
		"""The production branch (not inline): the new job exists before the retry is committed."""
		run = self.queued_run()
		self.set_chunk(run.name, 0, status="Running")  # its worker died
		committed = []

		def enqueue(method, **kwargs):
			with self.other_connection():
				committed.append(
					tuple(
						frappe.db.get_value(
							CHUNK, {"parent": str(run.name), "chunk_index": 0}, ["status", "attempts"]
						)
					)
				)

		frappe.flags.in_test = False
		try:
			with patch("frappe.enqueue", side_effect=enqueue) as enqueued:
				self.assertEqual(health.retry_or_fail_chunk(run.name, 0, 1), "Retried")
		finally:
			frappe.flags.in_test = True
		enqueued.assert_called_once()
		kwargs = enqueued.call_args.kwargs
		self.assertEqual(enqueued.call_args.args[0], "customer_success.health.service.run_chunk")
		self.assertEqual(
			(kwargs["queue"], kwargs["job_id"], kwargs["deduplicate"], kwargs["now"], kwargs["attempt"]),
			("long", health.chunk_job_id(run.name, 0, 2), True, False, 2),
		)
		self.assertEqual(committed, [("Running", 1)])  # queued while the retry was not yet committed
		chunk = self.chunk(run.name, 0)
		self.assertEqual((chunk.status, chunk.attempts, chunk.job_id), ("Queued", 2, kwargs["job_id"]))

	def locks_taken(self, call) -> list[str]:
		"""The tables `call` first locks rows of (locking reads and updates), in order."""
		taken = []
		real = frappe.local.db.sql

		def spy(query, *args, **kwargs):
			text = str(query).lower()
			if text.lstrip().startswith("update") or "for update" in text:
				for label, table in (("chunk", f"`tab{CHUNK.lower()}`"), ("run", f"`tab{RUN.lower()}`")):
					if table in text and label not in taken:
						taken.append(label)
			return real(query, *args, **kwargs)

		with patch.object(frappe.local.db, "sql", side_effect=spy):
			call()
		return taken

	def test_the_run_row_is_locked_before_its_chunks(self):
		run = self.queued_run()
		steps = (
			("claim", lambda: health.claim_chunk(run.name, 0, 1), ["run", "chunk"]),
			(
				"record",
				lambda: health.record_chunk_done(run.name, 0, 1, {"scored": 0, "failed": []}),
				["run", "chunk"],
			),
			# a chunk still to count: the run is not done, and no chunk row is read
			("finish", lambda: health.finish_run_if_done(run.name), ["run"]),
			# the last chunk fails: it is recorded, and the run finishes (run row, then chunks)
			("retry", lambda: health.retry_or_fail_chunk(run.name, 1, 1), ["run", "chunk"]),
		)
		for label, step, order in steps:
			self.assertEqual(self.locks_taken(step)[:2], order, label)
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Completed")

	def test_another_run_on_the_site_is_left_alone(self):
		other = frappe.get_doc(
			{
				"doctype": RUN,
				"status": "Running",
				"trigger": "Nightly",
				"score_date": nowdate(),
				"started_at": now_datetime(),
				"chunks_total": 3,
			}
		).insert(ignore_permissions=True)
		self.other_runs.append(other.name)
		frappe.db.set_value(
			RUN, other.name, "modified", add_to_date(now_datetime(), hours=-7), update_modified=False
		)
		frappe.db.commit()  # nosemgrep: as another run would be
		run = self.queued_run()  # not Skipped: the other run is not this test's
		with patch("customer_success.health.service.live_jobs", side_effect=lambda ids: set(ids)):
			health.watch_recompute_runs()
		self.assertEqual(frappe.db.get_value(RUN, other.name, "status"), "Running")
		self.assertEqual(frappe.db.get_value(RUN, run.name, "status"), "Running")


class TestNoStaleWrites(RunsTestCase):
	"""A chunk reads its customers, scores them for a while, then writes: what a CSM changed in
	between is newer, and stays."""

	def test_a_csm_change_during_a_chunk_survives(self):
		prefix = f"_CS Test Stale {frappe.generate_hash(length=8)}"
		overridden, touched, plain = (make_customer(f"{prefix} {c}", cs_owner=CSM).name for c in "ABC")
		for customer in (overridden, touched, plain):
			make_issue(customer, "High")
		until = add_days(nowdate(), 7)
		real = health.gather_facts
		acted = []

		def csm_acts_meanwhile(*args, **kwargs):
			facts = real(*args, **kwargs)
			if not acted:  # the CSM's own recompute reads its facts too
				acted.append(True)
				frappe.set_user(CSM)
				try:
					api.set_override(overridden, 42, "Sponsor left", until)
				finally:
					frappe.set_user("Administrator")
				# a change not (yet) scored: the chunk's older read must not be written either
				frappe.db.set_value(
					"Customer",
					touched,
					{"cs_csm_sentiment": "Concerned", "cs_sentiment_on": nowdate()},
					update_modified=False,
				)
			return facts

		with patch("customer_success.health.service.gather_facts", side_effect=csm_acts_meanwhile):
			result = health.score_range(f"{prefix} A", f"{prefix} C")

		today = getdate(nowdate())
		row = frappe.db.get_value(
			"Customer Health Score",
			{"customer": overridden, "score_date": today},
			["score", "is_override", "override_until"],
			as_dict=True,
		)
		self.assertEqual((row.score, row.is_override, row.override_until), (42, 1, getdate(until)))
		values = frappe.db.get_value(
			"Customer", overridden, ["cs_health_score", "cs_override_until"], as_dict=True
		)
		self.assertEqual((values.cs_health_score, values.cs_override_until), (42, getdate(until)))
		self.assertIsNone(frappe.db.get_value("Customer Health Score", {"customer": touched}))
		self.assertIsNotNone(frappe.db.get_value("Customer Health Score", {"customer": plain}))
		self.assertEqual(result["skipped"], sorted([overridden, touched]))

	def test_a_csm_action_chosen_as_a_deadlock_victim_is_done_again(self):
		"""The server rolls a deadlock victim back whole; the action is done again (twice at most)
		rather than refused at once (tester U: a sentiment refused after 0.05 s)."""
		customer = make_customer(cs_owner=CSM).name
		real = health.score_range
		calls = []

		def deadlocked_once(*args, **kwargs):
			calls.append(1)
			if len(calls) == 1:
				raise frappe.QueryDeadlockError("Deadlock found when trying to get lock")
			return real(*args, **kwargs)

		with patch.object(health, "score_range", side_effect=deadlocked_once):
			api.set_sentiment(customer, "Positive")
		self.assertEqual(len(calls), 2)
		self.assertEqual(frappe.db.get_value("Customer", customer, "cs_csm_sentiment"), "Positive")
		self.assertIsNotNone(frappe.db.get_value("Customer Health Score", {"customer": customer}))
		calls.clear()
		with (
			patch.object(health, "score_range", side_effect=frappe.QueryDeadlockError("again")) as scoring,
			self.assertRaisesRegex(frappe.ValidationError, "try again in a minute"),
		):
			api.set_sentiment(customer, "Concerned")
		self.assertEqual(scoring.call_count, health.WRITE_ATTEMPTS)

	def test_a_csm_action_waits_for_a_chunk_writing_its_customer_and_changes_nothing_meanwhile(self):
		"""A chunk in its write phase holds its customers' rows (no global lock): a CSM's action on one
		of them waits for it; past the lock wait timeout it is refused and changes nothing."""
		customer = make_customer(cs_owner=CSM).name
		frappe.db.commit()  # nosemgrep: the chunk, on its own connection, must see the customer
		try:
			with self.other_connection():  # a chunk in its write phase: its customers locked first
				health.begin_read_committed()
				self.assertIn(customer, health.queries.health_inputs([customer]))
			timeout = frappe.db.sql("select @@innodb_lock_wait_timeout")[0][0]
			frappe.db.sql("set session innodb_lock_wait_timeout = 1")
			try:
				with self.assertRaises(frappe.ValidationError):
					health.recompute_customer(customer)
				with self.assertRaises(frappe.ValidationError):
					api.set_override(customer, 42, "Sponsor left", add_days(nowdate(), 7))
			finally:
				frappe.db.sql("set session innodb_lock_wait_timeout = %s", timeout)
			self.assertIsNone(frappe.db.get_value("Customer Health Score", {"customer": customer}))
			self.assertIsNone(frappe.db.get_value("Customer", customer, "cs_override_until"))
			with self.other_connection():  # the chunk commits
				frappe.db.commit()  # nosemgrep
			# once the chunk is done, the action goes through
			self.assertEqual(
				api.set_override(customer, 42, "Sponsor left", add_days(nowdate(), 7))["score"], 42
			)
		finally:
			frappe.db.rollback()
			frappe.db.delete("Customer Health Score", {"customer": customer})
			frappe.delete_doc("Customer", customer, force=True, ignore_permissions=True)
			frappe.db.commit()  # nosemgrep: the test made this customer, and removes it
