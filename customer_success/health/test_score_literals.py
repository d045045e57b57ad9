"""The score rows travel to the database as one VALUES list of literals per batch
(`queries.sql_literal`), the Customer copy as one hex JSON literal (`queries.json_literal`), not
as parameters the driver escapes: every character must arrive as it was, in any sql_mode, and a
batch too large for one statement is split."""

from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.health import queries
from customer_success.setup import sequences
from customer_success.tests.utils import make_customer, score_row

AWKWARD = 'O\'Brien "quoted" back\\slash %s %(x)s 100% -- ; 健康 \u2028 \n\t end'


class TestScoreLiterals(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_every_character_of_the_rows_arrives_as_it_was(self):
		customer = make_customer().name
		explanation = frappe.as_json([["CS", AWKWARD]])
		today = getdate(nowdate())
		written = score_row(
			customer,
			today,
			55.123456789,
			is_override=1,
			override_reason=AWKWARD,
			override_until=add_days(today, 3),
			explanation=explanation,
		)
		queries.upsert_scores([written])
		queries.copy_scores_to_customers([written])
		stored = frappe.db.get_value(
			"Customer Health Score",
			{"customer": customer, "score_date": today},
			["override_reason", "explanation", "score", "override_until", "computed_on"],
			as_dict=True,
		)
		self.assertEqual(stored.override_reason, AWKWARD)
		self.assertEqual(stored.explanation, explanation)
		self.assertEqual(float(stored.score), 55.123456789)
		self.assertEqual(getdate(stored.override_until), add_days(today, 3))
		self.assertEqual(stored.computed_on, written["computed_on"])
		copied = frappe.db.get_value(
			"Customer",
			customer,
			["cs_health_score", "cs_health_status", "cs_health_computed_on"],
			as_dict=True,
		)
		self.assertEqual(
			(float(copied.cs_health_score), copied.cs_health_status, copied.cs_health_computed_on),
			(55.123456789, "Yellow", written["computed_on"]),
		)

	def test_each_literal_reads_back_as_the_value(self):
		values = [
			"plain",
			"",
			AWKWARD,
			"nul\x00byte",
			"trailing backslash\\",
			"健康 😀",
			"%s %(x)s",
			0,
			-7,
			10**20,
			True,
			1.5,
			1e-05,
			-0.1,
			Decimal("1.10"),
			None,
			date(2026, 2, 28),
			datetime(2026, 2, 28, 23, 59, 58, 123456),
		]
		for sql_mode in ("", "NO_BACKSLASH_ESCAPES,ANSI_QUOTES"):
			with self.subTest(sql_mode=sql_mode):
				previous = frappe.db.sql("select @@session.sql_mode")[0][0]
				frappe.db.sql("set session sql_mode = %s", sql_mode)
				try:
					row = frappe.db.sql(
						"select " + ", ".join(queries.sql_literal(v) for v in values), as_list=True
					)[0]
				finally:
					frappe.db.sql("set session sql_mode = %s", previous)
				for value, back in zip(values, row, strict=True):
					if isinstance(value, str) and isinstance(back, bytes):
						back = back.decode()  # a hex literal reads back as bytes; stored, it is text
					if isinstance(value, Decimal):  # frappe gives decimals as floats
						back, value = float(back), float(value)
					if isinstance(value, date):  # a bare literal reads back as its text; stored, a date
						value = str(value)
					expected = int(value) if isinstance(value, bool) else value
					self.assertEqual(back, expected, repr(value))

	def test_repeating_values_are_made_once_for_their_values_and_types(self):
		base = {"customer": "c", "explanation": "[]", "computed_on": None}
		rows = [{**base, "is_override": value} for value in (True, 1, 1.0, 1, None)]
		made = []

		def counted(value):
			made.append(value)
			return queries_sql_literal(value)

		queries_sql_literal = queries.sql_literal
		with patch.object(queries, "sql_literal", side_effect=counted):
			texts = queries.score_values(rows, ")")
		# four combinations of the repeating values (1 as an int twice): each made once
		self.assertEqual(made.count("Daily"), 4)  # the granularity's default, one of them
		at = queries.SCORE_COLUMN_ORDER.index("is_override")
		self.assertEqual([text.split(",")[at] for text in texts], ["1", "1", "1.0", "1", "0"])
		# the varying fields first, each row's own; every field once
		self.assertEqual(sorted(queries.SCORE_COLUMN_ORDER), sorted(queries.SCORE_FIELDS))
		self.assertEqual(queries.SCORE_COLUMN_ORDER[0], "customer")
		self.assertTrue(all(text.startswith("'c',") and text.endswith(")") for text in texts))

	def test_subclasses_are_written_as_their_values(self):
		class Shown(str):
			def __str__(self):
				return "something else"

		class Level(IntEnum):
			HIGH = 3

		class Amount(float):
			pass

		self.assertEqual(queries.sql_literal(Shown("it's")), queries.sql_literal("it's"))
		self.assertEqual(queries.sql_literal(Level.HIGH), "3")
		self.assertEqual(queries.sql_literal(Amount(2.5)), "2.5")
		with self.assertRaises(ValueError):
			queries.sql_literal(Amount("nan"))

	def test_what_no_column_holds_is_refused(self):
		for value in (float("nan"), float("inf"), Decimal("NaN")):
			with self.assertRaises(ValueError):
				queries.sql_literal(value)
		with self.assertRaises(TypeError):
			queries.sql_literal(object())

	def test_new_rows_are_named_from_one_block_no_other_name_falls_in(self):
		customers = [make_customer().name for _ in range(3)]
		today = getdate(nowdate())
		queries.upsert_scores([score_row(c, today, 50.0 + i) for i, c in enumerate(customers)])
		names = [
			frappe.db.get_value("Customer Health Score", {"customer": c, "score_date": today}, "name")
			for c in customers
		]
		self.assertEqual(names, list(range(names[0], names[0] + 3)))  # consecutive, in the rows' order
		# whoever takes a name next (frappe naming a document, another chunk) starts past the block
		taken = frappe.db.get_next_sequence_val("Customer Health Score")
		self.assertGreaterEqual(taken, names[0] + sequences.SCORE_NAME_BLOCK)
		following = make_customer().name
		queries.upsert_scores([score_row(following, today, 40.0)])
		self.assertGreater(
			frappe.db.get_value("Customer Health Score", {"customer": following}, "name"), taken
		)

	def test_without_blocks_each_new_row_takes_a_name_of_its_own(self):
		"""A site whose sequence does not hand out blocks yet (not migrated since) names a row at a time."""
		customers = [make_customer().name for _ in range(3)]
		today = getdate(nowdate())
		with patch.object(queries, "reserve_score_names", return_value=None):
			queries.upsert_scores([score_row(c, today, 50.0) for c in customers])
		names = frappe.get_all(
			"Customer Health Score", filters={"customer": ("in", customers)}, pluck="name", order_by="name"
		)
		self.assertEqual(len(set(names)), 3)
		self.assertEqual(names, sorted(names))

	def test_a_batch_too_large_for_one_literal_is_split(self):
		customers = [make_customer().name for _ in range(5)]
		today = getdate(nowdate())
		statements = []
		real_execute = queries.execute_literal

		def counting(query, *args, **kwargs):
			if str(query).lstrip().startswith("insert into `tabCustomer Health Score`"):
				statements.append(query)
			return real_execute(query, *args, **kwargs)

		with (
			patch.object(queries, "MAX_LITERAL", 600),
			patch.object(queries, "execute_literal", side_effect=counting),
		):
			queries.upsert_scores(
				[
					score_row(c, today, 60.0 + i, explanation=frappe.as_json(["x" * 200]))
					for i, c in enumerate(customers)
				]
			)
		# each row's literal alone is over the (patched) bound: halved down to one row a statement
		self.assertEqual(len(statements), 5)
		self.assertEqual(
			frappe.get_all(
				"Customer Health Score",
				filters={"customer": ("in", customers), "score_date": today},
				pluck="score",
				order_by="score",
			),
			[60.0, 61.0, 62.0, 63.0, 64.0],
		)
