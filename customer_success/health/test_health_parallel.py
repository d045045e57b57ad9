"""Chunks of neighbouring ranges write their scores side by side, each on its own connection, with
no lock shared between them: no deadlock, no lost or doubled row, the scores one worker gives.

The chunks run on their own connections, so they see only committed data: this test commits the
customers it makes, and removes them (with their issues, communications and scores) at the end.
"""

import threading
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate, nowdate

from customer_success.health import queries
from customer_success.health import service as health
from customer_success.tests.utils import (
	OtherConnection,
	delete_customers,
	make_communication,
	make_customer,
	make_issue,
)

CUSTOMERS = 8
SCORE_FIELDS = ("customer", "model", "score", "status", "trend", "explanation")


class TestParallelChunkWrites(OtherConnection, FrappeTestCase):
	def setUp(self):
		self.prefix = f"_CS Test Parallel {frappe.generate_hash(length=8)}"
		self.names = []
		for i in range(CUSTOMERS):
			name = make_customer(f"{self.prefix} {i:02d}").name
			make_issue(name, ("Low", "Medium", "High", "Urgent")[i % 4])
			make_communication(name, days_ago=3 + 11 * i)
			self.names.append(name)
		frappe.db.commit()  # nosemgrep: the chunks read on their own connections

	def tearDown(self):
		frappe.db.rollback()
		like = ("like", f"{self.prefix}%")
		frappe.db.delete("Customer Health Score", {"customer": like})
		frappe.db.delete("Communication", {"reference_name": like})
		frappe.db.delete("Issue", {"customer": like})
		delete_customers(frappe.get_all("Customer", filters={"name": like}, pluck="name"))
		frappe.db.commit()  # nosemgrep: remove what setUp committed

	def scores(self) -> list[tuple]:
		return frappe.get_all(
			"Customer Health Score",
			filters={"customer": ("like", f"{self.prefix}%"), "score_date": getdate(nowdate())},
			fields=list(SCORE_FIELDS),
			order_by="customer, model",
			as_list=True,
		)

	def run_side_by_side(self, ranges: list[tuple[str, str]]) -> list[dict]:
		"""Score each range in a thread with its own site connection; every write phase waits at a
		barrier after its upserts, uncommitted, until the others have written theirs too."""
		site, sites_path = frappe.local.site, frappe.local.sites_path
		barrier = threading.Barrier(len(ranges), timeout=30)
		real_upsert = queries.upsert_scores
		results, errors = [None] * len(ranges), []

		def upsert_then_wait(rows, *args, **kwargs):
			real_upsert(rows, *args, **kwargs)
			barrier.wait()  # every range has upserted its rows and none has committed yet

		def chunk(index: int, lo: str, hi: str):
			frappe.init(site=site, sites_path=sites_path)
			try:
				frappe.connect()
				frappe.set_user("Administrator")
				results[index] = health.score_range(lo, hi, commit_writes=True)
			except Exception as e:
				errors.append(e)
				barrier.abort()
			finally:
				frappe.destroy()

		with patch.object(queries, "upsert_scores", side_effect=upsert_then_wait):
			threads = [threading.Thread(target=chunk, args=(i, lo, hi)) for i, (lo, hi) in enumerate(ranges)]
			for thread in threads:
				thread.start()
			for thread in threads:
				thread.join(60)
		self.assertEqual(errors, [])
		return results

	def test_two_ranges_write_side_by_side_as_one_worker_would(self):
		half = CUSTOMERS // 2
		ranges = [(self.names[0], self.names[half - 1]), (self.names[half], self.names[-1])]

		# The night's first run: every row is new (inserted).
		first = self.run_side_by_side(ranges)
		self.assertEqual([r["scored"] for r in first], [half, half])
		self.assertEqual([r["write_retries"] for r in first], [0, 0])
		frappe.db.rollback()  # a fresh snapshot: the chunks committed on their own connections
		side_by_side = self.scores()
		self.assertEqual([row[0] for row in side_by_side], self.names)  # one row each: none lost or doubled

		# Again the same day, side by side: every row exists and is updated in place.
		again = self.run_side_by_side(ranges)
		self.assertEqual([r["scored"] for r in again], [half, half])
		frappe.db.rollback()
		self.assertEqual(self.scores(), side_by_side)

		# One worker over the whole range writes the very same scores.
		health.score_range(self.names[0], self.names[-1], commit_writes=True)
		self.assertEqual(self.scores(), side_by_side)
		# and every Customer holds its day's score
		copied = frappe.get_all(
			"Customer",
			filters={"name": ("like", f"{self.prefix}%")},
			fields=["name", "cs_health_score", "cs_health_status"],
			order_by="name",
			as_list=True,
		)
		self.assertEqual([tuple(c) for c in copied], [(row[0], row[2], row[3]) for row in side_by_side])

	def test_the_write_phase_runs_read_committed(self):
		"""The write transaction is READ COMMITTED (it sees what others commit meanwhile, and takes no
		gap locks); the transaction after it is back at the session's REPEATABLE READ."""
		other = self.names[-1]  # outside the range written below
		seen = []
		real_upsert = queries.upsert_scores

		def read_around_a_commit() -> tuple:
			before = frappe.db.sql("select customer_details from tabCustomer where name = %s", other)[0][0]
			own = frappe.local.db
			try:
				with self.secondary_connection():  # someone else commits meanwhile
					frappe.db.sql(
						"update tabCustomer set customer_details = %s where name = %s",
						(f"seen {len(seen)}", other),
					)
					frappe.db.commit()  # nosemgrep
			finally:
				frappe.local.db = own  # on its first use, secondary_connection leaves the new one current
			after = frappe.db.sql("select customer_details from tabCustomer where name = %s", other)[0][0]
			return before, after

		def upsert_and_look(rows, *args, **kwargs):
			real_upsert(rows, *args, **kwargs)
			seen.append(read_around_a_commit())

		with patch.object(queries, "upsert_scores", side_effect=upsert_and_look):
			result = health.score_range(self.names[0], self.names[1], commit_writes=True)
		self.assertEqual(result["scored"], 2)
		self.assertEqual(seen, [(None, "seen 0")])  # the write's transaction saw the commit at once
		self.assertEqual(read_around_a_commit(), ("seen 0", "seen 0"))  # the next one keeps its snapshot

	def test_a_customer_let_go_while_the_chunk_waits_for_it_alone_is_written(self):
		"""Tester U2: while a chunk waited for one held customer, every customer it had locked before
		waited as long (~5 s for a CSM's save on any customer of the range), and a customer a CSM's
		own action held at that moment was named held. Now the chunk waits a second, writes the rest
		and commits, then waits for the held ones alone: one let go meanwhile is written."""
		import time

		import pymysql

		brief, first = self.names[2], self.names[0]
		with self.other_connection():  # a user's transaction holds the row for a few seconds
			frappe.db.sql("update tabCustomer set customer_details = 'brief' where name = %s", brief)
			other = frappe.local.db
		let_go = threading.Timer(4, other._conn.rollback)  # (the driver's: no frappe.local in a thread)
		locking, waited = threading.Event(), []
		real_lock = queries.lock_customers_and_day_scores

		def lock(*args, **kwargs):
			locking.set()
			return real_lock(*args, **kwargs)

		login = {  # (read here: a thread has no frappe.local)
			"host": frappe.conf.db_host or "127.0.0.1",
			"port": int(frappe.conf.db_port or 3306),
			"user": frappe.conf.db_name,
			"password": frappe.conf.db_password,
			"database": frappe.conf.db_name,
		}

		def csm_saves_the_first_customer():  # another user, on a customer the chunk locks first
			locking.wait(10)
			time.sleep(0.2)
			db = pymysql.connect(**login, autocommit=False)
			try:
				started = time.monotonic()
				with db.cursor() as cursor:
					cursor.execute("update tabCustomer set modified = modified where name = %s", (first,))
				waited.append(time.monotonic() - started)
				db.rollback()
			finally:
				db.close()

		csm = threading.Thread(target=csm_saves_the_first_customer)
		let_go.start()
		csm.start()
		try:
			with patch.object(queries, "lock_customers_and_day_scores", side_effect=lock):
				result = health.score_range(self.names[0], self.names[-1], commit_writes=True)
		finally:
			let_go.join()
			csm.join()
		self.assertEqual((result["failed"], result["scored"]), ([], CUSTOMERS))
		self.assertGreaterEqual(result["write_retries"], 1)
		# she waited for the chunk's first second at most, not for the held customer (~4 s before)
		self.assertEqual(len(waited), 1)
		self.assertLess(waited[0], 1.8)
		frappe.db.rollback()
		self.assertEqual([row[0] for row in self.scores()], self.names)

	def test_a_customer_another_transaction_holds_is_left_and_the_range_written(self):
		"""A user's long transaction (an import, a script) holds one Customer of a chunk's range: the
		chunk waits a few seconds for it, then writes the rest and counts it as not scored, said in
		one Error Log (tester U: it waited the server's 50 seconds, holding the customers it had
		locked, and failed its 4,000). The held customer keeps what it had."""
		held = self.names[3]
		try:
			with self.other_connection():  # someone's transaction holds the row, uncommitted
				frappe.db.sql("update tabCustomer set customer_details = 'held' where name = %s", held)
			errors = frappe.db.count("Error Log")
			with patch.object(queries, "NIGHT_LOCK_WAIT_SECONDS", 1):
				result = health.score_range(self.names[0], self.names[-1], commit_writes=True)
			self.assertEqual(result["failed"], [held])
			self.assertEqual(result["scored"], CUSTOMERS - 1)
			# the range without it (1), then it alone, waited for (1) and left out (1)
			self.assertEqual(result["write_retries"], 3)
			frappe.db.rollback()
			self.assertEqual([row[0] for row in self.scores()], [n for n in self.names if n != held])
			self.assertIsNone(frappe.db.get_value("Customer", held, "cs_health_status"))
			log = frappe.get_all(
				"Error Log",
				filters={"reference_doctype": "Customer", "reference_name": held},
				fields=["method", "error"],
			)
			self.assertEqual(frappe.db.count("Error Log"), errors + 1)
			self.assertIn("another transaction held them", log[0].method)
			self.assertIn(held, log[0].error)
		finally:
			with self.other_connection():
				frappe.db.rollback()
			frappe.db.delete("Error Log", {"reference_doctype": "Customer", "reference_name": held})
			frappe.db.commit()  # nosemgrep: the log this test made
		# once let go, the next recompute scores it
		health.score_range(self.names[0], self.names[-1], commit_writes=True)
		frappe.db.rollback()
		self.assertEqual([row[0] for row in self.scores()], self.names)
