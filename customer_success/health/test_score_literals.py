"""The score rows and the Customer copy travel to the database as one hex literal per batch
(`queries.json_literal`), not as a parameter the driver escapes: every character must arrive as it
was, and a batch too large for one statement is split."""

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from customer_success.health import queries
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
