"""The night's reads and writes as a chunk runs them: rows fetched as one JSON document give the
values frappe gives, the write phase's one locking read gives and holds what the two reads did, a
statement sent with its literal as it is fails as frappe.db.sql fails, the trend takes each
customer's latest score of its week, and a contract without an end date still makes a customer live.

The locking tests commit their customers (a second connection must see them) and remove them at
the end, with their scores.
"""

from datetime import datetime
from itertools import pairwise
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, now_datetime, nowdate

from customer_success.customer_success import book_counts
from customer_success.health import queries
from customer_success.health import service as health
from customer_success.health.engine import INSUFFICIENT_DATA
from customer_success.tests.utils import (
	OtherConnection,
	delete_customers,
	make_contract,
	make_customer,
	score_row,
)

ODD_TEXT = 'It\'s "odd" \\ ü 漢字 💡\nline two %s'


class TestCustomerChunks(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_the_ranges_cover_every_active_customer_once_in_the_database_order(self):
		# names Python orders otherwise than the database's collation (case, accents)
		tag = frappe.generate_hash(length=5)
		for name in ("b", "A", "ä", "Z", "é", "_"):
			make_customer(f"_CS Chunk {tag} {name}")
		make_customer(f"_CS Chunk {tag} off", disabled=1)
		chunks = queries.customer_chunks(3)
		active = frappe.db.count("Customer", {"disabled": 0})
		self.assertEqual(sum(chunk["customers"] for chunk in chunks), active)
		for before, after in pairwise(chunks):
			self.assertLess(
				frappe.db.sql("select strcmp(%s, %s)", (before["hi"], after["lo"]))[0][0], 0, (before, after)
			)
		for chunk in chunks:
			in_range = frappe.db.count(
				"Customer", {"disabled": 0, "name": ("between", (chunk["lo"], chunk["hi"]))}
			)
			self.assertEqual(in_range, chunk["customers"], chunk)
		self.assertEqual(queries.customer_ranges(3), [(chunk["lo"], chunk["hi"]) for chunk in chunks])

	def test_chunks_of_given_sizes_in_turn_the_last_holding_the_rest(self):
		"""A run splitting its customers among its workers reads its ranges by the sizes it worked out
		(`service.balanced_chunks`); the last takes what is left, should customers have come or gone
		since it counted them."""
		for _ in range(4):  # at least four, whatever the site holds
			make_customer(f"_CS Chunk {frappe.generate_hash(length=5)}")
		active = frappe.db.count("Customer", {"disabled": 0})
		first, last = frappe.db.sql("select min(name), max(name) from `tabCustomer` where disabled = 0")[0]
		sizes = [1, 2, active - 3]
		chunks = queries.customer_chunks(2, sizes=sizes)
		self.assertEqual([chunk["customers"] for chunk in chunks], sizes)
		self.assertEqual((chunks[0]["lo"], chunks[-1]["hi"]), (first, last))
		for before, after in pairwise(chunks):
			self.assertLess(frappe.db.sql("select strcmp(%s, %s)", (before["hi"], after["lo"]))[0][0], 0)
		for chunk in chunks:
			in_range = frappe.db.count(
				"Customer", {"disabled": 0, "name": ("between", (chunk["lo"], chunk["hi"]))}
			)
			self.assertEqual(in_range, chunk["customers"], chunk)
		# counted short (customers came since): the last takes them; counted long: fewer chunks
		self.assertEqual([c["customers"] for c in queries.customer_chunks(2, sizes=[1, 1])], [1, active - 1])
		self.assertEqual(
			[c["customers"] for c in queries.customer_chunks(2, sizes=[active - 1, 5, 5])], [active - 1, 1]
		)

	def test_the_last_chunk_holds_what_is_left(self):
		for _ in range(2):  # at least two, whatever the site holds
			make_customer(f"_CS Chunk {frappe.generate_hash(length=5)}")
		active = frappe.db.count("Customer", {"disabled": 0})
		first, last = frappe.db.sql("select min(name), max(name) from `tabCustomer` where disabled = 0")[0]
		# exactly one chunk's worth, more than one, and one name over a chunk
		self.assertEqual(queries.customer_chunks(active), [{"lo": first, "hi": last, "customers": active}])
		self.assertEqual(
			queries.customer_chunks(active + 5), [{"lo": first, "hi": last, "customers": active}]
		)
		two = queries.customer_chunks(active - 1)
		self.assertEqual([chunk["customers"] for chunk in two], [active - 1, 1])
		self.assertEqual((two[0]["lo"], two[1]["hi"]), (first, last))
		self.assertEqual(two[1]["lo"], two[1]["hi"])
		# one customer a chunk: every name once, in the database's order
		names = [chunk["lo"] for chunk in queries.customer_chunks(1)]
		self.assertEqual(
			names,
			[
				row[0]
				for row in frappe.db.sql("select name from `tabCustomer` where disabled = 0 order by name")
			],
		)


class TestJsonRows(FrappeTestCase):
	def test_the_rows_are_the_values_frappe_gives(self):
		sql = """select 'a' as name, cast(12.345678901 as decimal(21,9)) as amount, cast(null as date) as day,
				cast('2026-03-04 05:06:07.123456' as datetime(6)) as at, 0 as n, %(text)s as text
			union all
			select 'b', cast(-0.000000001 as decimal(21,9)), cast('2026-12-31' as date), null, 7, ''"""
		params = {"text": ODD_TEXT}
		expected = frappe.db.sql(sql, params)
		got = queries.json_rows((sql, params), ("name", "amount", "day", "at", "n", "text"))
		self.assertEqual(len(got), 2)
		for want, row in zip(expected, got, strict=True):
			name, amount, day, at, n, text = row
			self.assertEqual(name, want[0])
			self.assertEqual(float(amount), float(want[1]))
			self.assertEqual(queries.iso_date(day), want[2])
			self.assertEqual(datetime.fromisoformat(at) if at else None, want[3])
			self.assertEqual(n, want[4])
			self.assertEqual(text, want[5])
		self.assertEqual(got[0][5], ODD_TEXT)

	def test_a_query_builder_query_and_no_rows(self):
		customer = frappe.qb.DocType("Customer")
		query = (
			frappe.qb.from_(customer)
			.select(customer.name.as_("name"))
			.where(customer.name == "_CS no such customer ' \\")
		)
		self.assertEqual(queries.json_rows(query, ("name",)), [])

	def test_a_document_past_group_concat_max_len_comes_back_whole(self):
		"""JSON_ARRAYAGG is cut at group_concat_max_len (1 MB by default): 60,000 rows of ~40 bytes
		are ~2.4 MB, and every one of them comes back."""
		rows = queries.json_rows(
			("select seq, repeat('é', 30) as pad from seq_1_to_60000", {}),
			("seq", "pad"),
		)
		self.assertEqual(len(rows), 60000)
		self.assertEqual(rows[-1], [60000, "é" * 30])

	def test_a_cut_document_is_read_row_by_row(self):
		"""A document past max_allowed_packet is cut by the server, inside a row (it does not parse)
		or right after one (it parses, short of rows): either way its row count finds it, and the
		rows are read one by one. Here the cut is made small on purpose, at every offset of a row."""
		sql = ("select seq, repeat('x', 50) as pad from seq_1_to_40", {})
		whole = [[n, "x" * 50] for n in range(1, 41)]
		self.assertEqual(queries.json_rows(sql, ("seq", "pad")), whole)
		for cut in range(900, 1000):  # more than a row's length (~60 characters) of offsets
			with patch.object(queries, "JSON_ROWS_MAX_LENGTH", cut):
				self.assertEqual(queries.json_rows(sql, ("seq", "pad")), whole, cut)


class TestChunkLocks(OtherConnection, FrappeTestCase):
	def setUp(self):
		self.prefix = f"_CS Test Chunk Locks {frappe.generate_hash(length=8)}"
		self.names = [make_customer(f"{self.prefix} {i}").name for i in range(3)]
		frappe.db.commit()  # nosemgrep: the second connection must see them

	def tearDown(self):
		if self._secondary_connection is not None:
			self._secondary_connection.rollback()  # it lets go of anything it holds before the cleanup
		frappe.db.rollback()
		frappe.db.sql("set session innodb_lock_wait_timeout = default")
		frappe.db.delete("Customer Health Score", {"customer": ("like", f"{self.prefix}%")})
		delete_customers(self.names)
		frappe.db.commit()  # nosemgrep: remove what setUp committed

	def test_one_locking_read_gives_and_holds_what_the_two_did(self):
		first, second, third = self.names
		today = getdate(nowdate())
		frappe.db.set_value(
			"Customer",
			first,
			{
				"cs_csm_sentiment": "Positive",
				"cs_sentiment_on": add_days(today, -2),
				"cs_health_override": 72.5,
				"cs_override_reason": ODD_TEXT,
				"cs_override_until": add_days(today, 10),
			},
			update_modified=False,
		)
		computed_on = now_datetime()
		queries.upsert_scores([score_row(first, today, 64.25, computed_on=computed_on)])
		queries.upsert_scores([score_row(third, add_days(today, -1), 50.0)])  # another day: not today's
		frappe.db.commit()  # nosemgrep: the rows the second connection tries to lock

		locked, existing = queries.lock_customers_and_day_scores(self.names, today)
		as_before = queries.lock_customers(self.names)
		self.assertEqual(set(locked), set(self.names))
		for name in self.names:
			for field in (*queries.HEALTH_INPUTS, *queries.BOOK_FIELDS):
				self.assertEqual(locked[name][field], as_before[name][field], field)
				self.assertIs(type(locked[name][field]), type(as_before[name][field]), field)
		self.assertEqual(locked[first].cs_override_reason, ODD_TEXT)
		self.assertEqual(locked[first].name, first)
		row_name = frappe.db.get_value("Customer Health Score", {"customer": first, "score_date": today})
		model = health.load_models()["default"]["name"]
		self.assertEqual(existing, {(first, model): (int(row_name), computed_on)})

		# the same when the document is cut (read row by row)
		with patch.object(queries, "JSON_ROWS_MAX_LENGTH", 300):
			self.assertEqual(queries.lock_customers_and_day_scores(self.names, today), (locked, existing))

		# and what it read stays locked until this transaction ends
		frappe.db.sql("select 1")  # this connection's transaction stays open meanwhile
		with self.other_connection():
			frappe.db.sql("set session innodb_lock_wait_timeout = 1")
			for sql, value in (
				("select name from tabCustomer where name = %s for update", second),
				("select name from `tabCustomer Health Score` where name = %s for update", row_name),
			):
				with self.assertRaises(frappe.QueryTimeoutError):
					frappe.db.sql(sql, value)
			frappe.db.rollback()
		frappe.db.rollback()  # released
		with self.other_connection():
			self.assertTrue(frappe.db.sql("select name from tabCustomer where name = %s for update", second))
			frappe.db.rollback()

	def test_a_literal_statement_fails_as_frappe_fails_and_counts_its_write(self):
		name = self.names[0]
		with self.other_connection():  # another transaction holds the Customer (left open)
			frappe.db.sql("select name from tabCustomer where name = %s for update", name)
		frappe.db.sql("set session innodb_lock_wait_timeout = 1")
		statement = f"update tabCustomer set cs_health_trend = 1 where name = {frappe.db.escape(name)}"
		with self.assertRaises(frappe.QueryTimeoutError):
			queries.execute_literal(statement)
		with self.other_connection():
			frappe.db.rollback()  # the other one lets go
		writes = frappe.db.transaction_writes
		queries.execute_literal(statement)
		self.assertEqual(frappe.db.transaction_writes, writes + 1)
		self.assertEqual(frappe.db.get_value("Customer", name, "cs_health_trend"), 1.0)


class TestTrendAndLiveReads(FrappeTestCase):
	def setUp(self):
		self.prefix = f"_CS Test Chunk Reads {frappe.generate_hash(length=8)}"

	def tearDown(self):
		frappe.db.rollback()

	def a_week_of_scores(self, day) -> tuple[str, str, str, str]:
		"""Four customers and their scores around `day`: a's latest known of the week is 55.5, b's is
		the day's own 48.25; c has scores only outside the week, d only an Insufficient Data one."""
		a, b, c, d = (make_customer(f"{self.prefix} {x}").name for x in "abcd")
		queries.upsert_scores(
			[
				score_row(a, add_days(day, -7), 60.0),
				score_row(a, add_days(day, -3), 55.5),
				score_row(a, add_days(day, -1), 10.0, status=INSUFFICIENT_DATA),
				score_row(b, add_days(day, -6), 42.0),
				score_row(b, day, 48.25),
				score_row(c, add_days(day, -8), 99.0),  # before the week: not counted
				score_row(c, add_days(day, 1), 98.0),  # after the day: not counted
				score_row(d, add_days(day, -2), 5.0, status=INSUFFICIENT_DATA),
			]
		)
		return a, b, c, d

	def test_the_trend_takes_each_customers_latest_score_of_its_week(self):
		day = add_days(getdate(nowdate()), -30)
		a, b, _c, d = self.a_week_of_scores(day)
		found = queries.scores_around(min(a, d), max(a, d), day)
		self.assertEqual(found, {a: 55.5, b: 48.25})
		self.assertIs(type(found[a]), float)

	def test_the_trend_read_by_names_gives_what_the_range_read_gives(self):
		"""With the range's names, the day is read over the range and the days before only for the
		customers without a score that day: by name when they are few, over the range when many."""
		day = add_days(getdate(nowdate()), -30)
		a, b, c, d = self.a_week_of_scores(day)
		scored = [make_customer(f"{self.prefix} e{i}").name for i in range(12)]
		queries.upsert_scores(
			[
				*(score_row(name, day, 20.0 + i) for i, name in enumerate(scored)),
				# a score before the day never wins over the day's own
				*(score_row(name, add_days(day, -2), 90.0) for name in scored),
			]
		)
		lo, hi = min(a, *scored), max(d, *scored)
		expected = {a: 55.5, b: 48.25, **{name: 20.0 + i for i, name in enumerate(scored)}}
		self.assertEqual(queries.scores_around(lo, hi, day), expected)
		statements = []
		real = queries.json_rows

		def spy(query, columns):
			statements.append(query[0])
			return real(query, columns)

		for names, by_name in (([a, b, c, *scored], True), ([a, b, c, d, *scored[:3]], False)):
			with self.subTest(by_name=by_name), patch.object(queries, "json_rows", side_effect=spy):
				statements.clear()
				found = queries.scores_around(lo, hi, day, names=names)
				self.assertEqual(found, expected)
				self.assertEqual(len(statements), 2)  # the day, then the days before
				self.assertEqual("union all" in statements[1], by_name)
		# a name outside the range is not read, by name as over the range
		outside = make_customer(f"{self.prefix} zz outside").name  # sorts after the range
		self.assertGreater(frappe.db.sql("select strcmp(%s, %s)", (outside, hi))[0][0], 0)
		queries.upsert_scores([score_row(outside, add_days(day, -2), 77.0)])
		found = queries.scores_around(lo, hi, day, names=[a, b, *scored, outside])
		self.assertEqual(found, expected)
		# every name scored that day: one read (a customer not asked for is not looked for before it)
		with patch.object(queries, "json_rows", side_effect=spy):
			statements.clear()
			found = queries.scores_around(lo, hi, day, names=[b, *scored])
			self.assertEqual(found, {name: score for name, score in expected.items() if name != a})
			self.assertEqual(len(statements), 1)

	def test_a_contract_without_an_end_date_makes_a_customer_live_and_dates_nothing(self):
		open_ended, dated, neither = (make_customer(f"{self.prefix} {x}").name for x in "abc")
		today = getdate(nowdate())
		make_contract(open_ended, add_days(today, -100), None)
		make_contract(dated, add_days(today, -100), add_days(today, 40))
		make_contract(dated, add_days(today, -50), add_days(today, 20))  # the furthest end counts
		make_contract(neither, add_days(today, -10), add_days(today, 90), submit=False)  # a draft
		lo, hi = min(open_ended, neither), max(open_ended, neither)
		ends = queries.contract_ends(lo, hi)
		self.assertEqual(ends, {open_ended: None, dated: add_days(today, 40)})
		self.assertEqual(queries.latest_contract_end(lo, hi), {dated: add_days(today, 40)})
		models = health.load_models()
		facts = health.gather_facts(lo, hi, models, today, 30)
		self.assertEqual(facts["contracts"], {dated: add_days(today, 40)})
		self.assertEqual(facts["live"], {open_ended, dated})
		self.assertEqual(facts["live"], queries.live_customers(lo, hi))  # as the union reads it

	def test_of_two_models_rows_of_one_day_the_trend_takes_the_one_the_index_holds_last(self):
		"""A tier changed during the day leaves a row of each model: the one the history index holds
		last (status, then score), as the former read (in the index's order, the last kept) took."""
		customer = make_customer(f"{self.prefix} tiers").name
		day = add_days(getdate(nowdate()), -30)
		queries.upsert_scores(
			[
				score_row(customer, day, 80.0, status="Green"),
				score_row(customer, day, 30.0, status="Yellow", model="_CS Test Other Model"),
			]
		)
		self.assertEqual(queries.scores_around(customer, customer, day), {customer: 30.0})

	def test_a_user_with_a_percent_sign_is_written_as_it_is(self):
		customer = make_customer(f"{self.prefix} percent").name
		user = frappe.session.user
		try:
			frappe.session.user = "a%b_c'd@example.com"
			queries.upsert_scores([score_row(customer, getdate(nowdate()), 50.0)])
		finally:
			frappe.session.user = user
		self.assertEqual(
			frappe.db.get_value("Customer Health Score", {"customer": customer}, ["owner", "modified_by"]),
			("a%b_c'd@example.com", "a%b_c'd@example.com"),
		)


class TestCopiesThatChangeNothing(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def roll_up_rows(self) -> int:
		return frappe.db.sql(f"select count(*) from `{book_counts.TABLE}`")[0][0]

	def test_a_copy_of_what_the_customer_holds_records_no_difference(self):
		if not book_counts.available():
			self.skipTest("no book roll-up table")
		name = make_customer(f"_CS Test Copies {frappe.generate_hash(length=8)}").name
		frappe.db.set_value(
			"Customer", name, {"cs_health_status": "Green", "cs_health_score": 81.25}, update_modified=False
		)
		locked = queries.lock_customers([name])
		rows_before = self.roll_up_rows()
		book_counts.record_copies(
			locked, [{"customer": name, "cs_health_status": "Green", "cs_health_score": 81.250000000001}]
		)
		self.assertEqual(self.roll_up_rows(), rows_before)  # stored alike: nothing moved
		book_counts.record_copies(
			locked, [{"customer": name, "cs_health_status": "Green", "cs_health_score": 81.26}]
		)
		self.assertGreater(self.roll_up_rows(), rows_before)  # a score moved: counted
		for copy in (
			{"cs_health_status": "Yellow", "cs_health_score": 81.25},
			{"cs_health_status": "Green", "cs_health_score": None},
		):
			self.assertFalse(book_counts._copy_changes_nothing(locked[name], {"customer": name, **copy}))
		self.assertTrue(
			book_counts._copy_changes_nothing(
				locked[name], {"customer": name, "cs_health_status": "Green", "cs_health_score": 81.25}
			)
		)
