"""Benchmark: what one chunk of the night costs, in one warmed process, with the alert rules and
without them. Prints figures; asserts nothing; not part of CI.

A whole night on a shared 2-core VM spreads by ±0.5 s from one run to the next, so a change worth
a few per cent of a chunk cannot be seen in it. This times the same chunks of a kept book
(`health_recompute.py --keep`) one after another in one process, as a chunk job runs them
(`score_range` with its committed write and its chunk hooks), from no scores of today: per chunk,
the median wall time and the mean CPU of this process and of MariaDB (read from /proc: the server
must run on this machine). Compare two versions of the code by running it after each, in turn.

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/customer_success/benchmarks/chunk_costs.py --site b100k.localhost \
        [--chunks 12] [--rounds 2] [--next-day]
"""

import argparse
import os
import statistics
import sys
import time

import frappe

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import health_recompute as book  # (the book's helpers: its scores of today, MariaDB's CPU)


def time_chunks(chunks: list[dict], rules: bool, day=None) -> dict:
	"""Score `chunks` one after another as the chunk jobs do, from no scores of today (or of `day`,
	a later day: the book's are removed first); the rules in each chunk when `rules`."""
	from frappe.utils import getdate, nowdate

	from customer_success.health import service

	book.clear_todays_scores(day)
	frappe.flags.in_test = False  # the chunk hook runs the rules only outside tests
	today = getdate(day or nowdate())
	walls = []
	cpu0, server0 = time.process_time(), book.server_cpu_seconds()
	for chunk in chunks:
		t0 = time.perf_counter()
		service.score_range(chunk["lo"], chunk["hi"], today=today, commit_writes=True, chunk_hooks=rules)
		walls.append(time.perf_counter() - t0)
	cpu, server = time.process_time() - cpu0, book.server_cpu_seconds()
	return {
		"wall_ms": statistics.median(walls) * 1000,
		"python_ms": cpu / len(chunks) * 1000,
		"server_ms": None if server is None or server0 is None else (server - server0) / len(chunks) * 1000,
	}


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--chunks", type=int, default=12, help="chunks timed a round (after two warming up)")
	parser.add_argument("--rounds", type=int, default=2, help="rounds, each with and without the rules")
	parser.add_argument(
		"--next-day",
		action="store_true",
		help="each round scores the day after the round before (tomorrow, the day after, ...), as the "
		"nights follow each other: the scores move with the date windows and the alerts' evidence with "
		"them (the rules' rounds only; without the rules each round scores today)",
	)
	args = parser.parse_args()

	frappe.init(site=args.site)
	frappe.connect()
	frappe.set_user("Administrator")
	from customer_success.health import queries, service

	chunks = [c for c in queries.customer_chunks(service.CHUNK_SIZE) if c["lo"].startswith(book.PREFIX)]
	if len(chunks) < args.chunks + 2:
		sys.exit(f"the book has {len(chunks)} chunks: keep one of at least {args.chunks + 2} (--keep)")
	book.log(f"== chunk costs on {args.site}: {book.machine()}")
	time_chunks(chunks[:2], rules=True)  # imports, caches, the buffer pool
	timed = chunks[2 : 2 + args.chunks]
	size = statistics.median(c["customers"] for c in timed)
	results = {True: [], False: []}
	if args.next_day:
		from frappe.utils import add_days, getdate

		book.remove_later_days()
		# each round's day looks back to its own trend day: give it the row a site scored every
		# night has there (as `health_recompute.py`'s next-day nights do), or the trend read reads
		# its week again, a cost no real night pays
		book.ensure_trend_history(args.rounds)
		today = getdate(book.site_today())
		time_chunks(timed, rules=True)  # the chunks' alerts as of today, from which the next days follow
	for round_ in range(args.rounds):
		for rules in (True, False):
			day = add_days(today, round_ + 1) if args.next_day and rules else None
			r = time_chunks(timed, rules, day)
			results[rules].append(r)
			server = "?" if r["server_ms"] is None else f"{r['server_ms']:.0f}"
			book.log(
				f"{'with the rules   ' if rules else 'without the rules'}: {r['wall_ms']:.0f} ms a chunk of "
				f"{size:.0f} customers (this process {r['python_ms']:.0f} ms of CPU, MariaDB {server} ms)"
			)
	book.clear_todays_scores()
	if args.next_day:
		book.remove_later_days()

	def median(rules: bool, key: str):
		values = [r[key] for r in results[rules] if r[key] is not None]
		return statistics.median(values) if values else float("nan")

	book.log("\n| | wall ms a chunk (median) | this process's CPU ms | MariaDB's CPU ms |\n|---|---|---|---|")
	for rules in (True, False):
		book.log(
			f"| {'with the rules' if rules else 'without'} | {median(rules, 'wall_ms'):.0f} | "
			f"{median(rules, 'python_ms'):.0f} | {median(rules, 'server_ms'):.0f} |"
		)
	book.log(
		f"| the rules | {median(True, 'wall_ms') - median(False, 'wall_ms'):.0f} | "
		f"{median(True, 'python_ms') - median(False, 'python_ms'):.0f} | "
		f"{median(True, 'server_ms') - median(False, 'server_ms'):.0f} |"
	)
	frappe.destroy()


if __name__ == "__main__":
	main()
