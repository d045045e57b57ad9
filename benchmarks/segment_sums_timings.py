"""Benchmark: what keeping Segment Performance's and Revenue Retention's sums per tier and segment
costs the writers and the nightly reconciliations. Prints figures; asserts nothing.

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/customer_success/benchmarks/segment_sums_timings.py --site SITE [--runs 3] [--retention]

Timed (each write rolled back, so the book is left as it was):
- a Customer saved through the form with a new tier (its retention part moves: `change_customer_retention`)
  and with a change of no key (a territory);
- the set-based tier job (`segments.service.compute_tiers`, with the setting on) with and without
  `move_retention_parts` (the retention parts following the tiers: the part this change adds), and
  `move_retention_parts` alone over 1,000 customers whose tier was changed set-based;
- the book roll-up's nightly reconciliation (`book_counts.reconcile`, committed: it is idempotent) and,
  within it, the scan that sets `cs_live` afresh (`correct_live_flags`);
- with `--retention`, the retention roll-up's nightly reconciliation (committed; minutes on a 100k book).
"""

import argparse
import statistics
import time
from unittest.mock import patch

import frappe


def log(*args):
	print(*args, flush=True)


def timed(work, runs: int, rollback: bool = True) -> float:
	times = []
	for _ in range(runs):
		start = time.perf_counter()
		work()
		times.append(time.perf_counter() - start)
		if rollback:
			frappe.db.rollback()
	return statistics.median(times) * 1000


def a_customer_with_parts() -> str:
	from customer_success.renewals import queries

	return frappe.db.sql(
		f"select `customer` from `{queries.RETENTION_CUSTOMERS}` order by `customer` limit 1"
	)[0][0]


def save_with(name: str, **values):
	doc = frappe.get_doc("Customer", name)
	doc.update(values)
	doc.save(ignore_permissions=True)


def main():
	parser = argparse.ArgumentParser()
	parser.add_argument("--site", required=True)
	parser.add_argument("--runs", type=int, default=3)
	parser.add_argument("--retention", action="store_true")
	args = parser.parse_args()
	frappe.init(site=args.site)
	frappe.connect()
	frappe.set_user("Administrator")
	try:
		run(args)
	finally:
		frappe.db.rollback()
		frappe.destroy()


def run(args):
	from customer_success.customer_success import book_counts
	from customer_success.renewals import service as renewals
	from customer_success.segments import service as segments
	from customer_success.segments.queries import write_tiers

	name = a_customer_with_parts()
	tier = frappe.db.get_value("Customer", name, "cs_tier")
	other = next(t for t in ("SMB", "Mid-Market", "Strategic", "Enterprise") if t != tier)
	territory = frappe.db.get_value("Territory", {"is_group": 0}, "name")
	log(f"customer {name}: tier {tier!r} -> {other!r}")
	log(
		f"Customer save, tier changed:        {timed(lambda: save_with(name, cs_tier=other), args.runs):8.1f} ms"
	)
	log(
		f"Customer save, no key changed:      {timed(lambda: save_with(name, territory=territory), args.runs):8.1f} ms"
	)

	# the tier job runs only with its setting on: on for this run, in the cached settings only
	frappe.get_cached_doc("Customer Success Settings").compute_tiers = 1
	result = {}

	def tiers():
		result.update(segments.compute_tiers())

	log(f"compute_tiers (with the parts moved): {timed(tiers, 1):8.1f} ms  {result}")
	with patch.object(renewals, "move_retention_parts"):
		log(f"compute_tiers (parts not moved):      {timed(tiers, 1):8.1f} ms  {result}")

	names = frappe.db.sql_list(
		"select `name` from `tabCustomer` where `cs_tier` = %s and `cs_tier_source` != 'Manual' order by `name` limit 1000",
		tier or "SMB",
	) or frappe.db.sql_list("select `name` from `tabCustomer` order by `name` limit 1000")

	def move():
		write_tiers({other: names}, "Computed")

	with patch.object(renewals, "move_retention_parts"):
		log(f"write_tiers 1,000 customers, parts not moved: {timed(move, args.runs):8.1f} ms")
	log(f"write_tiers 1,000 customers, parts moved:     {timed(move, args.runs):8.1f} ms")

	log(f"correct_live_flags (nothing to set):  {timed(book_counts.correct_live_flags, args.runs):8.1f} ms")
	log(
		f"book_counts.reconcile (committed):    {timed(lambda: book_counts.reconcile(commit=True), 1, False):8.1f} ms"
	)
	if args.retention:
		out = {}
		log(
			f"reconcile_retention_rollup (committed): {timed(lambda: out.update(renewals.reconcile_retention_rollup(commit=True)), 1, False) / 1000:8.1f} s  {out}"
		)


if __name__ == "__main__":
	main()
