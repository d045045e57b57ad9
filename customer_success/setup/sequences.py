"""The score history's names come from its doctype's own sequence (autoincrement), a block at a time:
each `nextval` hands out the first of SCORE_NAME_BLOCK names, and the nightly INSERT names its rows
from that block (`health.queries.reserve_score_names`). One `nextval` a row cost the server ~15 µs
each, ~30 ms of a chunk's 2,000 rows: a third of the INSERT. Every other taker of a name (frappe's
own naming of a document inserted from code) gets a block start too, so no name is given twice
without any lock; the names left unused in a block are gaps, which an autoincrement name may have.
Made on install and migrate (idempotent); the sequence goes with its doctype on uninstall.

A row given its name by hand (an import with the ID column, a copy of rows from another site) can
sit above the sequence: a block handed out later would then hold a name taken, and the night's
INSERT of its chunk would fail on the primary key, chunk after chunk. `catch_up` moves the sequence
past the largest name (never back); each run and each migrate call it."""

import frappe

SCORE_SEQUENCE = "customer_health_score_id_seq"
# names a block holds: at least a chunk's batch of score rows (`health.queries.upsert_scores`)
SCORE_NAME_BLOCK = 4096


def make_sequences():
	"""Make the score history's sequence hand out blocks of SCORE_NAME_BLOCK names."""
	if sequence_increment(SCORE_SEQUENCE) not in (None, SCORE_NAME_BLOCK):
		# DDL: commits what the caller had open (install and migrate commit as they go)
		frappe.db.sql_ddl(f"alter sequence `{SCORE_SEQUENCE}` increment by {SCORE_NAME_BLOCK}")
	catch_up()


def catch_up(sequence: str = SCORE_SEQUENCE, table: str = "tabCustomer Health Score") -> bool:
	"""Move the sequence past the largest name of its table, when that name is beyond it; else
	nothing. Two cheap reads (the largest name is the primary key's last: no scan). SETVAL never moves
	a sequence back, so a block handed out meanwhile stays below what the next `nextval` gives.
	Returns whether the sequence was moved."""
	if sequence_increment(sequence) is None:
		return False
	largest = frappe.db.sql(f"select max(`name`) from `{table}`")[0][0]
	if largest is None:
		return False
	following = frappe.db.sql(f"select `next_not_cached_value` from `{sequence}`")[0][0]
	if int(largest) < int(following):
		return False
	# SETVAL takes literals only; an int, written as its digits
	# NULL when the sequence moved past it meanwhile (SETVAL never moves one back)
	return frappe.db.sql(f"select setval(`{sequence}`, {int(largest)}, 1)")[0][0] is not None


def sequence_increment(sequence: str) -> int | None:
	"""The increment of a sequence of this site's database; None without it."""
	exists = frappe.db.sql(
		"""select 1 from information_schema.tables
		where table_schema = database() and table_name = %s and table_type = 'SEQUENCE'""",
		sequence,
	)
	if not exists:
		return None
	return int(frappe.db.sql(f"select `increment` from `{sequence}`")[0][0])
