"""Benchmark: server time of every number card, dashboard chart and script report of the app, as the
desk calls them. Prints a table; asserts nothing.

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/customer_success/benchmarks/desk_timings.py --site SITE [--runs 5] [--make-csm 5000]

Everything is found on the site (every Number Card, Dashboard Chart and Report of the app's modules),
so what other rooms add is timed too. Each is called the way the desk calls it:
- a Custom number card: its method; a Document Type card: frappe's `number_card.get_result`;
- a chart: frappe's `dashboard_chart.get` (refresh, so frappe's chart cache is bypassed), or for a
  Custom chart its source's `get`;
- a script report: frappe's `query_report.run` with the report's default filters (its Python
  defaults: the JS defaults are the same dates).
Each runs as a CS Manager (the whole team: the worst case) and as the CSM with the largest book, once
to warm up and then `--runs` times; the median is printed against the 300 ms target, with the rows
and index entries one call reads (MariaDB's session Handler_read_* counters: the work a call does
whatever the machine's load, and what it must bring from disk when its pages are cold). On a book whose
owners are not CSMs (a synthetic book), `--make-csm N` makes one for the run: the user
desk-timings-csm@example.com with the CSM role, given N customers of the largest book; at the end
(or with `--undo` after an interrupted run) those customers go back to their owner, the user is
deleted if the run made it, and the revenue roll-up (and the retention roll-up and the leak table, for
those customers) is reconciled; nothing else is changed. Without
it, the reports run as a CS Manager filtering by the largest book. On a book whose customers have no
lifecycle stage, `--make-stage STAGE:N` gives one customer in every four with none (by name, up to N)
that stage for the run, through the app's own set-based writer (the book roll-up and the leak table
follow), so a filter on a common stage can be timed; at the end (or with `--undo`) they have none
again, by the same writer.
"""

import argparse
import json
import statistics
import time

import frappe

TARGET_MS = 300.0


def log(*args):
	print(*args, flush=True)


def app_modules() -> list[str]:
	return frappe.get_all("Module Def", filters={"app_name": "customer_success"}, pluck="name")


def people() -> dict[str, str]:
	"""{label: user}: a CS Manager (else Administrator) and the CSM with the largest book."""
	from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE

	has_role = frappe.qb.DocType("Has Role")
	user = frappe.qb.DocType("User")
	manager = (
		frappe.qb.from_(has_role)
		.join(user)
		.on(user.name == has_role.parent)
		.select(has_role.parent)
		.where((has_role.role == CS_MANAGER_ROLE) & (has_role.parenttype == "User") & (user.enabled == 1))
		.limit(1)
		.run(pluck=True)
	)
	customer = frappe.qb.DocType("Customer")
	csms = set(
		frappe.qb.from_(has_role)
		.select(has_role.parent)
		.where((has_role.role == CSM_ROLE) & (has_role.parenttype == "User"))
		.run(pluck=True)
	)
	from frappe.query_builder.functions import Count

	books = (
		frappe.qb.from_(customer)
		.select(customer.cs_owner, Count("*").as_("n"))
		.where(customer.cs_owner.isnotnull())
		.groupby(customer.cs_owner)
		.orderby(Count("*"), order=frappe.qb.desc)
		.run()
	)
	csm = next((owner for owner, _n in books if owner in csms), None)
	found = {"CS Manager": manager[0] if manager else "Administrator"}
	if csm:
		found["CSM"] = csm
	elif books:
		# no owner is a CSM (a synthetic book): the reports are timed as a CS Manager filtering by
		# the largest book, which is the query a CSM's report runs
		found["largest book"] = books[0][0]
	return found


BENCH_CSM = "desk-timings-csm@example.com"


def change_file(site: str) -> str:
	return frappe.get_site_path("private", "desk_timings_csm.json")


def make_csm_with_book(size: int) -> dict:
	"""On a book whose owners are not CSMs (a synthetic book), make one: the user BENCH_CSM with the
	CSM role (made if missing), given the first `size` active customers (by name) of the largest book.
	What it changed is written to a file before anything is committed, and `undo` puts back exactly
	that: those customers' CS Owner, the user if it was made here, and the revenue roll-up reconciled
	both ways. Committed, since every timing rolls back."""
	from frappe.query_builder.functions import Count

	from customer_success.constants import CSM_ROLE
	from customer_success.renewals.service import (
		reconcile_leak_customers,
		reconcile_retention_customers,
		reconcile_revenue_rollup,
	)

	customer = frappe.qb.DocType("Customer")
	largest = (
		frappe.qb.from_(customer)
		.select(customer.cs_owner, Count("*"))
		.where(customer.cs_owner.isnotnull() & (customer.cs_owner != "") & (customer.disabled == 0))
		.groupby(customer.cs_owner)
		.orderby(Count("*"), order=frappe.qb.desc)
		.limit(1)
		.run()
	)
	if not largest:
		return {}
	owner = largest[0][0]
	names = (
		frappe.qb.from_(customer)
		.select(customer.name)
		.where((customer.cs_owner == owner) & (customer.disabled == 0))
		.orderby(customer.name)
		.limit(size)
		.run(pluck=True)
	)
	change = {
		"user": BENCH_CSM,
		"made_user": not frappe.db.exists("User", BENCH_CSM),
		"owner": owner,
		"customers": names,
	}
	with open(change_file(frappe.local.site), "w") as f:
		json.dump(change, f)
	if change["made_user"]:
		user = frappe.get_doc(
			{"doctype": "User", "email": BENCH_CSM, "first_name": "Desk Timings CSM", "send_welcome_email": 0}
		)
		user.flags.no_welcome_mail = True
		user.insert(ignore_permissions=True)
		user.add_roles(CSM_ROLE)
	set_owner(names, owner, BENCH_CSM)
	frappe.db.commit()  # nosemgrep: each timing rolls back; the book must outlive them
	reconcile_revenue_rollup(commit=True)
	reconcile_retention_customers(names, commit=True)
	reconcile_leak_customers(names, commit=True)
	frappe.clear_cache(user=BENCH_CSM)
	return change


def set_owner(names: list[str], old: str, new: str, batch: int = 2000):
	"""The CS Owner written as the app's jobs write it (set-based, `modified` untouched), the book
	roll-up taking the difference (`book_counts.recording`) as the app's writers do."""
	from customer_success.customer_success.book_counts import recording

	customer = frappe.qb.DocType("Customer")
	for start in range(0, len(names), batch):
		part = names[start : start + batch]
		with recording(part):
			(
				frappe.qb.update(customer)
				.set(customer.cs_owner, new)
				.where(customer.name.isin(part) & (customer.cs_owner == old))
				.run()
			)


def stage_file(site: str) -> str:
	return frappe.get_site_path("private", "desk_timings_stage.json")


def set_stage(names: list[str], stage: str | None, only_if: str | None, batch: int = 2000):
	"""The lifecycle stage written as the app's set-based writers write it (`modified` untouched), the
	book roll-up and the leak table taking the difference as they do from those writers."""
	from customer_success.customer_success.book_counts import recording
	from customer_success.renewals.service import leaks_follow_customers

	customer = frappe.qb.DocType("Customer")
	for start in range(0, len(names), batch):
		part = names[start : start + batch]
		with recording(part):
			(
				frappe.qb.update(customer)
				.set(customer.cs_lifecycle_stage, stage)
				.where(
					customer.name.isin(part)
					& (
						customer.cs_lifecycle_stage.isnull()
						if only_if is None
						else customer.cs_lifecycle_stage == only_if
					)
				)
				.run()
			)
		leaks_follow_customers(part)
		frappe.db.commit()  # nosemgrep: each timing rolls back; the stage must outlive them


def make_stage(spec: str) -> dict:
	"""Give one active customer in four without a stage (by name, up to N) the stage STAGE."""
	stage, _sep, size = spec.rpartition(":")
	customer = frappe.qb.DocType("Customer")
	names = (
		frappe.qb.from_(customer)
		.select(customer.name)
		.where(customer.cs_lifecycle_stage.isnull() & (customer.disabled == 0))
		.orderby(customer.name)
		.run(pluck=True)
	)[::4][: int(size)]
	change = {"stage": stage, "customers": names}
	with open(stage_file(frappe.local.site), "w") as f:
		json.dump(change, f)
	set_stage(names, stage, None)
	return change


def undo_stage(change: dict | None):
	import os

	if not change:
		return
	frappe.set_user("Administrator")
	frappe.db.rollback()
	set_stage(change["customers"], None, change["stage"])
	path = stage_file(frappe.local.site)
	if os.path.exists(path):
		os.remove(path)
	log(f"undone: {len(change['customers']):,} customers without a stage again")


def undo(change: dict | None):
	"""Take back exactly what make_csm_with_book did (also after a crash: --undo reads the file)."""
	import os

	if not change:
		return
	from customer_success.renewals.service import (
		reconcile_leak_customers,
		reconcile_retention_customers,
		reconcile_revenue_rollup,
	)

	frappe.set_user("Administrator")
	frappe.db.rollback()
	set_owner(change["customers"], change["user"], change["owner"])
	if change["made_user"] and frappe.db.exists("User", change["user"]):
		frappe.delete_doc("User", change["user"], ignore_permissions=True, force=True)
	frappe.db.commit()  # nosemgrep: the undo must persist
	reconcile_revenue_rollup(commit=True)
	reconcile_retention_customers(change["customers"], commit=True)
	reconcile_leak_customers(change["customers"], commit=True)
	path = change_file(frappe.local.site)
	if os.path.exists(path):
		os.remove(path)
	log(
		f"undone: {len(change['customers']):,} customers back to {change['owner']}"
		+ (f", user {change['user']} deleted" if change["made_user"] else "")
	)


def book_sizes(users: dict[str, str]) -> dict[str, int]:
	sizes = {"CS Manager": frappe.db.count("Customer", {"disabled": 0})}
	for label in ("CSM", "largest book"):
		if label in users:
			sizes[label] = frappe.db.count("Customer", {"disabled": 0, "cs_owner": users[label]})
	return sizes


def callables(
	report_filters: dict | None = None, reports_only: bool = False
) -> list[tuple[str, str, object]]:
	"""[(kind, name, fn)] for every card, chart and report of the app."""
	from frappe.desk.doctype.dashboard_chart.dashboard_chart import get as get_chart
	from frappe.desk.doctype.number_card.number_card import get_result
	from frappe.desk.query_report import run as run_report

	modules = app_modules()
	found = []
	for name in frappe.get_all(
		"Number Card", filters={"module": ("in", modules)}, pluck="name", order_by="name"
	):
		card = frappe.get_doc("Number Card", name)
		if card.type == "Custom":
			try:
				method = frappe.get_attr(card.method)
			except (AttributeError, ImportError):  # a card of other code than this checkout's
				found.append(("card", name, lambda m=card.method: missing(m)))
				continue
			found.append(("card", name, lambda method=method, card=card: method(filters=card.filters_json)))
		else:
			found.append(("card", name, lambda card=card: get_result(card.as_dict(), card.filters_json)))
	for name in frappe.get_all(
		"Dashboard Chart", filters={"module": ("in", modules)}, pluck="name", order_by="name"
	):
		chart = frappe.get_doc("Dashboard Chart", name)
		if chart.chart_type == "Custom":
			# the desk calls the source's own method (its .js names it): the room's `get`
			module = frappe.scrub(frappe.db.get_value("Dashboard Chart Source", chart.source, "module"))
			source = frappe.scrub(chart.source)
			path = f"customer_success.{module}.dashboard_chart_source.{source}.{source}.get"
			try:
				method = frappe.get_attr(path)
			except (AttributeError, ImportError):
				found.append(("chart", name, lambda m=path: missing(m)))
				continue
			found.append(
				("chart", name, lambda m=method, c=chart: m(chart_name=c.name, filters=c.filters_json))
			)
		else:
			found.append(("chart", name, lambda name=name: get_chart(chart_name=name, refresh=1)))
	for name in frappe.get_all(
		"Report",
		filters={"module": ("in", modules), "report_type": "Script Report"},
		pluck="name",
		order_by="name",
	):
		found.append(
			(
				"report",
				name,
				lambda name=name: run_report(
					name, filters=dict(report_filters or {}), ignore_prepared_report=True
				),
			)
		)
	return [item for item in found if item[0] == "report"] if reports_only else found


class MissingMethod(Exception):
	pass


def missing(method: str):
	raise MissingMethod(f"{method} is not in this checkout")


def rows_of(result) -> str:
	if isinstance(result, dict) and "result" in result:
		return str(len(result["result"]))
	if isinstance(result, dict) and "value" in result:
		return str(result["value"])
	if isinstance(result, int | float):
		return str(result)
	return ""


def handler_reads() -> int:
	"""Rows and index entries this connection has read so far (MariaDB's session Handler_read_*
	counters): what a call reads, whatever the machine's load, and so what it costs when those
	pages are not in the buffer pool."""
	return sum(int(value) for _name, value in frappe.db.sql("show session status like 'Handler_read%'"))


def time_one(fn, runs: int) -> tuple[float, str, str | None, int]:
	try:
		result = fn()  # warm-up (caches, the first compile of each query)
		frappe.db.rollback()
		before = handler_reads()
		fn()
		reads = handler_reads() - before  # SHOW STATUS counts no read of its own
		frappe.db.rollback()
		times = []
		for _ in range(runs):
			start = time.perf_counter()
			result = fn()
			times.append((time.perf_counter() - start) * 1000)
			frappe.db.rollback()
		return statistics.median(times), rows_of(result), None, reads
	except frappe.PermissionError:
		frappe.db.rollback()
		return float("nan"), "", "not for this role", 0
	except Exception as e:
		frappe.db.rollback()
		return float("nan"), "", f"{type(e).__name__}: {str(e)[:80]}", 0


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--runs", type=int, default=5)
	parser.add_argument(
		"--only", help="comma-separated: time only the cards, charts or reports whose name contains one"
	)
	parser.add_argument(
		"--report-filters",
		action="append",
		default=[],
		metavar="JSON",
		help='time each report again with these filters too (repeatable), e.g. \'{"tier": "SMB"}\'; '
		"a report ignores the filters it does not have",
	)
	parser.add_argument(
		"--skip",
		default="",
		help="comma-separated: skip the cards, charts or reports whose name contains one",
	)
	parser.add_argument(
		"--make-csm",
		type=int,
		metavar="N",
		help=f"when no customer's owner is a CSM: make a CSM (user {BENCH_CSM}) with a book of N customers moved "
		"from the largest book for the run, and put everything back at the end",
	)
	parser.add_argument(
		"--make-stage",
		metavar="STAGE:N",
		help="on a book whose customers have no lifecycle stage: give one in four (by name, up to N) the "
		"stage STAGE for the run (the leak table and book roll-up follow), and take it back at the end",
	)
	parser.add_argument(
		"--undo",
		action="store_true",
		help="only undo what an interrupted --make-csm or --make-stage run left",
	)
	args = parser.parse_args()
	frappe.init(site=args.site)
	frappe.connect()
	change = staged = None
	try:
		if args.undo:
			import os

			for path, name in ((change_file(args.site), "change"), (stage_file(args.site), "staged")):
				if os.path.exists(path):
					with open(path) as f:
						if name == "change":
							change = json.load(f)
						else:
							staged = json.load(f)
			if not change and not staged:
				log("nothing to undo")
			return
		if args.make_stage:
			staged = make_stage(args.make_stage)
			log(
				f"gave {len(staged['customers']):,} customers the lifecycle stage {staged['stage']} for this run"
			)
		users = people()
		if "CSM" not in users and args.make_csm:
			change = make_csm_with_book(args.make_csm)
			if change:
				log(
					f"made {change['user']} a CSM for this run"
					+ (" (a new user)" if change["made_user"] else "")
					+ f", with {len(change['customers']):,} customers moved from {change['owner']}'s book"
				)
				users = people()
		sizes = book_sizes(users)
		log(f"site {args.site}: {sizes['CS Manager']:,} active customers")
		for label, user in users.items():
			log(f"  as {label}: {user} ({sizes[label]:,} customers in view)")
		log("")
		log("| kind | name | as | median ms | rows read | figure / rows | ≤ 300 ms |")
		log("|---|---|---|---:|---:|---:|:---:|")
		for label, user in users.items():
			largest = label == "largest book"
			frappe.set_user(users["CS Manager"] if largest else user)
			found = callables({"csm": user}, reports_only=True) if largest else callables()
			for kind, name, fn in found:
				if args.only and not any(
					part.strip() and part.strip().lower() in name.lower() for part in args.only.split(",")
				):
					continue
				if any(
					part.strip() and part.strip().lower() in name.lower() for part in args.skip.split(",")
				):
					continue
				variants = [("", fn)]
				if kind == "report":
					variants += [
						(
							f" {extra}",
							report_with(name, {**({"csm": user} if largest else {}), **json.loads(extra)}),
						)
						for extra in args.report_filters
					]
				for suffix, timed in variants:
					timing_row(kind, name + suffix, label, timed, args.runs)
			frappe.set_user("Administrator")
	finally:
		try:
			undo(change)
			undo_stage(staged)
		finally:
			frappe.destroy()


def report_with(name: str, filters: dict):
	from frappe.desk.query_report import run as run_report

	return lambda: run_report(name, filters=dict(filters), ignore_prepared_report=True)


def timing_row(kind: str, name: str, label: str, fn, runs: int):
	ms, rows, error, reads = time_one(fn, runs)
	verdict = "-" if error == "not for this role" else "error" if error else "✔" if ms <= TARGET_MS else "✘"
	shown = "-" if ms != ms else f"{ms:,.0f}"  # nan: not timed
	log(f"| {kind} | {name} | {label} | {shown} | {reads:,} | {error or rows} | {verdict} |")


if __name__ == "__main__":
	main()
