"""Score rows stored before the compact explanation (`engine.compact_explanation`) are rewritten in
it: the same explanation, every factor, value, weight and points, in about a quarter of the bytes.
In batches by primary key, each committed: a long history converts without one huge transaction,
and a patch run again (or interrupted) only reads what is left."""

import frappe

from customer_success.health import engine, queries

BATCH = 5000


def execute():
	score = frappe.qb.DocType("Customer Health Score")
	after = 0
	while True:
		rows = (
			frappe.qb.from_(score)
			.select(score.name, score.explanation)
			.where((score.name > after) & score.explanation.like("[{%"))
			.orderby(score.name)
			.limit(BATCH)
			.run()
		)
		if not rows:
			return
		after = rows[-1][0]
		changed = {}
		for name, text in rows:
			compact = engine.explanation_to_json(engine.explanation_from_json(text))
			if compact != text:
				changed[name] = compact
		queries.set_explanations(changed)
		frappe.db.commit()  # nosemgrep: each batch on its own
