"""Benchmark: the nightly health recompute over a large synthetic book. Prints figures; asserts nothing.

Run on a throw-away site (it writes a lot of rows, all named with the CSBENCH prefix, and
removes them at the end unless --keep):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/customer_success/benchmarks/health_recompute.py --site SITE \
        [--customers 100000] [--workers 1,2,4] [--naive-sample 300] [--keep] [--reuse] [--alerts]

It builds N customers with ~10 issues, ~10 submitted invoices, ~3 communications and a
contract each, by multi-row INSERTs (no controllers), then times:
  1. the full recompute (reads + scoring + all writes), as the nightly job runs it, chunk by chunk,
     with 1, 2 and 4 worker processes sharing the chunks (each run from no scores of today), and
     checks that every run wrote one row per customer and the very same scores as the first;
  2. the same phases separately (aggregate reads, pure scoring, bulk writes);
  3. a naive per-customer loop (frappe.get_doc + per-customer queries) on a sample;
  4. the bare aggregate scans of the same source tables with the same indexes (the floor);
and prints customers/s for each, the ratios, and the peak memory of this process.

With --alerts it also times the alert rules, which run inside each chunk of the recompute with the
facts the chunk read (`cs_after_health_chunk`): the same recompute with the rules and without, in
the same run, on the same workers. On a book without alerts (or with --alerts-fresh, which removes
them first) it times the recompute with the rules deciding and writing nothing, then the first
night that raises the book's alerts (up to --alerts-raise-limit customers); then, always, a
steady-state night (the alerts open, found, compared). Each worker also times its share of the
rules (the hook's own seconds, summed). --alerts-standalone adds the whole-book pass on its own in
one process (the path of a range whose chunk failed, and of "Check Alerts"), nothing written.
--alerts-moved adds a night where every open alert's evidence changed and is rewritten (the upper
bound: the evidence holds dates, not day counts, so on a real book only the alerts whose facts
changed are rewritten). The rules are timed on the 2-worker run's
processes (or the last of --workers).

The worker processes above are warmed once and run chunk after chunk, with no alert rules unless
--alerts. With --rq N the night is also timed as a bench runs it: N real RQ workers (`bench worker
--queue long`, started and stopped by the benchmark; none may listen already), each chunk job in a
fork of its worker on a connection of its own, the site's alert rules in the chunks, timed from the
start to the run record's Completed, against a read floor measured just before it.
"""

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time

import frappe

PREFIX = "CSBENCH"
BATCH = 5000


def log(*args):
	print(*args, flush=True)


def peak_rss_mb() -> float:
	"""This process's peak resident memory in MB: the high-water mark of its own address space
	(VmHWM). Not `ru_maxrss`: Linux carries that over an exec from the address space exec
	replaced, so a worker the pool spawns (a fork, then an exec) reported the benchmark process's
	size at that moment (~276 MB right after building a book) as its own peak."""
	try:
		with open("/proc/self/status") as status:
			for line in status:
				if line.startswith("VmHWM:"):
					return int(line.split()[1]) / 1024.0
	except OSError:
		pass
	return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def insert_rows(table: str, columns: list[str], rows: list[tuple]):
	if not rows:
		return
	column_sql = ", ".join(f"`{c}`" for c in columns)
	row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
	for start in range(0, len(rows), BATCH):
		part = rows[start : start + BATCH]
		flat = [value for row in part for value in row]
		frappe.db.sql(f"insert into `{table}` ({column_sql}) values {', '.join([row_sql] * len(part))}", flat)


def build_book(n: int, seed: int = 7):
	"""Synthetic customers and their ERPNext history, written straight into the tables."""
	from erpnext import get_default_company
	from frappe.utils import add_days, getdate, now_datetime, nowdate

	rng = random.Random(seed)
	company = get_default_company() or frappe.db.get_value("Company", {}, "name")
	today = getdate(nowdate())
	now = now_datetime()
	common = {"creation": now, "modified": now, "owner": "Administrator", "modified_by": "Administrator"}
	csms = [u for u in frappe.get_all("User", filters={"user_type": "System User"}, pluck="name")][:5] or [
		"Administrator"
	]
	tiers = ["Strategic", "Enterprise", "Mid-Market", "SMB"]
	group = frappe.db.get_value("Customer Group", {"is_group": 0}, "name")
	territory = frappe.db.get_value("Territory", {"is_group": 0}, "name") or "All Territories"
	priorities = ["Low", "Medium", "High", "Urgent"]

	t0 = time.perf_counter()
	width = len(str(n))
	customers = [f"{PREFIX}-{i:0{width}d}" for i in range(n)]
	for start in range(0, n, 20000):
		chunk = customers[start : start + 20000]
		insert_rows(
			"tabCustomer",
			[
				"name",
				"customer_name",
				"customer_type",
				"customer_group",
				"territory",
				"cs_owner",
				"cs_tier",
				"disabled",
				*common,
			],
			[
				(c, c, "Company", group, territory, rng.choice(csms), rng.choice(tiers), 0, *common.values())
				for c in chunk
			],
		)
		issues, invoices, comms, links, contracts = [], [], [], [], []
		for c in chunk:
			for k in range(rng.randint(5, 15)):
				opened = add_days(today, -rng.randint(0, 180))
				issues.append(
					(
						f"{c}-I{k}",
						f"Synthetic issue {k}",
						c,
						rng.choice(["Open", "Closed", "Closed", "Replied"]),
						rng.choice(priorities),
						opened,
						rng.choice(["Fulfilled", "Fulfilled", "Failed", None]),
						0,
						*common.values(),
					)
				)
			for k in range(rng.randint(5, 15)):
				posted = add_days(today, -rng.randint(0, 360))
				total = float(rng.randint(500, 20000))
				paid = rng.random() < 0.85
				invoices.append(
					(
						f"{c}-S{k}",
						c,
						company,
						posted,
						add_days(posted, 30),
						total,
						total,
						total * 0.9,
						total * 0.9,
						0.0 if paid else total,
						1.0,
						1,
						0,
						"Paid" if paid else "Unpaid",
						*common.values(),
					)
				)
			for k in range(rng.randint(1, 5)):
				when = add_days(today, -rng.randint(0, 200))
				# odd ones are emails on the customer's timeline (a Communication Link, no reference),
				# as frappe links a contact's email to the contact's customer
				on_timeline = k % 2 == 1
				comms.append(
					(
						f"{c}-C{k}",
						"Synthetic email" if on_timeline else "Synthetic call",
						"Communication",
						"Email" if on_timeline else "Phone",
						"Received" if on_timeline else "Sent",
						None if on_timeline else "Customer",
						None if on_timeline else c,
						when,
						"Linked",
						*common.values(),
					)
				)
				if on_timeline:
					links.append(
						(
							f"{c}-C{k}-L",
							f"{c}-C{k}",
							"Communication",
							"timeline_links",
							1,
							"Customer",
							c,
							*common.values(),
						)
					)
			start_date = add_days(today, -rng.randint(0, 700))
			contracts.append(
				(
					f"{c}-K",
					"Customer",
					c,
					start_date,
					add_days(start_date, 365),
					"terms",
					1,
					"Active",
					*common.values(),
				)
			)
		insert_rows(
			"tabIssue",
			[
				"name",
				"subject",
				"customer",
				"status",
				"priority",
				"opening_date",
				"agreement_status",
				"docstatus",
				*common,
			],
			issues,
		)
		insert_rows(
			"tabSales Invoice",
			[
				"name",
				"customer",
				"company",
				"posting_date",
				"due_date",
				"grand_total",
				"base_grand_total",
				"net_total",
				"base_net_total",
				"outstanding_amount",
				"conversion_rate",
				"docstatus",
				"is_return",
				"status",
				*common,
			],
			invoices,
		)
		insert_rows(
			"tabCommunication",
			[
				"name",
				"subject",
				"communication_type",
				"communication_medium",
				"sent_or_received",
				"reference_doctype",
				"reference_name",
				"communication_date",
				"status",
				*common,
			],
			comms,
		)
		insert_rows("tabCommunication Link", TIMELINE_LINK_COLUMNS, links)
		insert_rows(
			"tabContract",
			[
				"name",
				"party_type",
				"party_name",
				"start_date",
				"end_date",
				"contract_terms",
				"docstatus",
				"status",
				*common,
			],
			contracts,
		)
		frappe.db.commit()  # nosemgrep
		log(f"  built {min(start + 20000, n)} / {n} customers ({time.perf_counter() - t0:.0f}s)")
	return customers, time.perf_counter() - t0


TIMELINE_LINK_COLUMNS = [
	"name",
	"parent",
	"parenttype",
	"parentfield",
	"idx",
	"link_doctype",
	"link_name",
	"creation",
	"modified",
	"owner",
	"modified_by",
]


def ensure_timeline_links():
	"""A book kept from before the timeline links: its odd communications become emails on the
	customer's timeline (a Communication Link, no reference), as `build_book` makes them now."""
	like = f"{PREFIX}-%"
	if frappe.db.count("Communication Link", {"link_name": ("like", like)}):
		return
	odd = "name like %(like)s and reference_doctype = 'Customer' and mod(substring_index(name, '-C', -1), 2) = 1"
	frappe.db.sql(
		f"""insert into `tabCommunication Link` ({", ".join(TIMELINE_LINK_COLUMNS)})
		select concat(name, '-L'), name, 'Communication', 'timeline_links', 1, 'Customer', reference_name,
			creation, modified, owner, modified_by
		from `tabCommunication` where {odd}""",
		{"like": like},
	)
	frappe.db.sql(
		f"""update `tabCommunication` set reference_doctype = null, reference_name = null,
			communication_medium = 'Email', sent_or_received = 'Received' where {odd}""",
		{"like": like},
	)
	frappe.db.commit()  # nosemgrep


CONTACT_SUFFIX = "-CT"  # a book customer's contact is named after it


def ensure_contacts() -> int:
	"""A real site keeps its customers' people as Contacts linked to them (a Dynamic Link), and frappe
	links an email from a contact to the contact and to the contact's customers alike (`Communication.
	set_timeline_links`); a call may be logged on the contact itself. The night's engagement read
	(`queries.touch_sources`) looks for touches through the contacts too. Give the book one contact a
	customer, a contact link beside every customer link of its emails, and a call logged on the
	contact for every third customer. Only a book without them gets them. Returns the contacts
	made."""
	like = f"{PREFIX}-%"
	if frappe.db.count("Contact", {"name": ("like", like)}):
		return 0
	frappe.db.sql(
		"""insert into `tabContact` (name, first_name, full_name, status, docstatus,
			creation, modified, owner, modified_by)
		select concat(name, %(suffix)s), name, name, 'Passive', 0, creation, modified, owner, modified_by
		from `tabCustomer` where name like %(like)s""",
		{"like": like, "suffix": CONTACT_SUFFIX},
	)
	made = frappe.db._cursor.rowcount
	frappe.db.sql(
		"""insert into `tabDynamic Link` (name, parent, parenttype, parentfield, idx, link_doctype,
			link_name, creation, modified, owner, modified_by)
		select concat(name, %(suffix)s, '-L'), concat(name, %(suffix)s), 'Contact', 'links', 1, 'Customer',
			name, creation, modified, owner, modified_by
		from `tabCustomer` where name like %(like)s""",
		{"like": like, "suffix": CONTACT_SUFFIX},
	)
	frappe.db.sql(
		f"""insert into `tabCommunication Link` ({", ".join(TIMELINE_LINK_COLUMNS)})
		select concat(name, %(suffix)s), parent, parenttype, parentfield, idx + 1, 'Contact',
			concat(link_name, %(suffix)s), creation, modified, owner, modified_by
		from `tabCommunication Link`
		where link_doctype = 'Customer' and link_name like %(like)s and parenttype = 'Communication'""",
		{"like": like, "suffix": CONTACT_SUFFIX},
	)
	frappe.db.sql(
		"""insert into `tabCommunication` (name, subject, communication_type, communication_medium,
			sent_or_received, reference_doctype, reference_name, communication_date, status,
			creation, modified, owner, modified_by)
		select concat(name, %(suffix)s, '-C'), 'Synthetic call', 'Communication', 'Phone', 'Sent', 'Contact',
			concat(name, %(suffix)s), now() - interval mod(crc32(name), 400) day, 'Linked',
			creation, modified, owner, modified_by
		from `tabCustomer` where name like %(like)s and mod(crc32(name), 3) = 0""",
		{"like": like, "suffix": CONTACT_SUFFIX},
	)
	frappe.db.commit()  # nosemgrep
	return made


# Every tenth invoice of the book is paid in two instalments (`ensure_payment_schedules`).
INSTALMENT_SHARE = 10


def ensure_payment_schedules() -> int:
	"""ERPNext gives every submitted invoice a payment schedule: one term, due on the invoice's due
	date, unless it is paid in instalments. The night's overdue read (`queries.invoice_facts`) joins
	each unpaid invoice to its terms, and weighs the invoices with several terms term by term. Give
	the book's invoices their schedules, so that read costs what it costs on a real site: one term
	each, two (half each, the first due 30 days before the invoice) for every tenth. What was paid
	names no term (paid_amount 0), as ERPNext's payments do unless the terms template allocates by
	term. Only invoices without a schedule get one. Returns how many terms were added."""
	like = f"{PREFIX}-%"
	frappe.db.sql(
		"""insert into `tabPayment Schedule` (name, creation, modified, modified_by, owner, docstatus,
			idx, due_date, invoice_portion, discount, payment_amount, outstanding, paid_amount,
			discounted_amount, base_payment_amount, base_outstanding, base_paid_amount,
			parent, parentfield, parenttype)
		select concat(i.name, '-P', t.idx), i.creation, i.modified, 'Administrator', 'Administrator', 1,
			t.idx, if(t.terms = 2 and t.idx = 1, i.due_date - interval 30 day, i.due_date),
			100 / t.terms, 0, i.grand_total / t.terms, i.outstanding_amount / t.terms, 0, 0,
			i.base_grand_total / t.terms, i.outstanding_amount * i.conversion_rate / t.terms, 0,
			i.name, 'payment_schedule', 'Sales Invoice'
		from `tabSales Invoice` i
		join (select 1 as idx, 1 as terms union all select 1, 2 union all select 2, 2) t
			on t.terms = if(mod(crc32(i.name), %(share)s) = 0, 2, 1)
		where i.name like %(like)s and i.docstatus = 1 and not exists (
			select 1 from `tabPayment Schedule` p where p.parent = i.name and p.parenttype = 'Sales Invoice'
		)""",
		{"like": like, "share": INSTALMENT_SHARE},
	)
	added = frappe.db._cursor.rowcount
	frappe.db.commit()  # nosemgrep
	return added


TREND_DAYS = 30  # the settings' default `health_trend_days`
TREND_SLACK = 7  # `queries.scores_around`: a score up to a week before counts


def history_changed(days):
	"""The weeks and months of `days` marked for the Health Trend roll-up, as the app's own writers of
	the score history mark them (`health.queries.mark_trend_stale`): the book's rows this benchmark
	writes or deletes past them would otherwise stay counted, or uncounted, in the site's Health Trend
	(a site whose book was removed showed a week of 2,000 customers it no longer had)."""
	from frappe.utils import getdate

	from customer_success.health import engine, queries

	queries.mark_trend_stale(engine.trend_periods_of(getdate(day) for day in days))


def book_history_days(where: str = "", values: tuple = ()) -> list:
	return frappe.db.sql(
		f"select distinct score_date from `tabCustomer Health Score` where customer like %s {where}",
		(f"{PREFIX}-%", *values),
		pluck=True,
	)


def ensure_trend_history(days_ahead: int = 0):
	"""A real site keeps a daily score row per customer: the night's trend read (`scores_around`)
	then finds up to eight rows per customer in its week, the trend day's own for every customer.
	Give the book that history (the three latest days of the week for every customer, the five
	before for a third of them), so the trend read costs what it costs on a real site. Only the
	days the book lacks are added: a book built on an earlier day (its week then ends before
	today's trend day) gets the days since, and a book that has its week is left as it is.
	`days_ahead`: the next-day nights that follow today's (`--rq-day next`) look back from their own
	days, so their trend days get a row for every customer too, as a site scored every night has
	(without them each of those nights found no score on its trend day and read its whole week
	again: ~40 ms a chunk that no real night pays).
	Returns how many rows were added."""
	from frappe.utils import add_days, getdate

	from customer_success.health import service as health

	today = getdate(site_today())
	first = add_days(today, -(TREND_DAYS + TREND_SLACK))
	last = add_days(today, days_ahead - TREND_DAYS)
	have = {
		getdate(day)
		for (day,) in frappe.db.sql(
			"""select distinct score_date from `tabCustomer Health Score`
			where score_date between %s and %s and customer like %s""",
			(first, last, f"{PREFIX}-%"),
		)
	}
	# the days before the last trend day, as `seq` (0 = that day itself), that hold no row yet: the
	# trend days of today's night and of the nights after (`days_ahead`) and the three days before
	# them for every customer, the five before those for a third of the customers
	every = days_ahead + 3
	missing = [seq for seq in range(TREND_SLACK + days_ahead + 1) if add_days(last, -seq) not in have]
	if not missing:
		return 0
	model = health.load_models()["default"]["name"]
	frappe.db.sql(
		"""insert into `tabCustomer Health Score` (name, creation, modified, modified_by, owner, docstatus,
			customer, customer_name, csm, model, score_date, granularity, computed_on, score, status, trend,
			computed_score, computed_status, is_override, explanation)
		select nextval(`customer_health_score_id_seq`), now(6), now(6), 'Administrator', 'Administrator', 0,
			c.name, c.customer_name, c.cs_owner, %(model)s, d.day, 'Daily', d.day,
			c.score, if(c.score >= 70, 'Green', if(c.score < 40, 'Red', 'Yellow')), 0,
			c.score, if(c.score >= 70, 'Green', if(c.score < 40, 'Red', 'Yellow')), 0, '[]'
		from (select name, customer_name, cs_owner, 20 + mod(crc32(name), 80) as score
			from `tabCustomer` where name like %(like)s and disabled = 0) c
		join (select %(last)s - interval seq day as day, seq
			from json_table(%(missing)s, '$[*]' columns (seq int path '$')) s) d
			on d.seq < %(every)s or mod(crc32(c.name), 3) = 0""",
		{"model": model, "like": f"{PREFIX}-%", "last": last, "missing": json.dumps(missing), "every": every},
	)
	added = frappe.db._cursor.rowcount
	history_changed(add_days(last, -seq) for seq in missing)
	frappe.db.commit()  # nosemgrep
	return added


def counts():
	return {
		"customers": frappe.db.count("Customer", {"name": ("like", f"{PREFIX}-%")}),
		"issues": frappe.db.count("Issue", {"customer": ("like", f"{PREFIX}-%")}),
		"invoices": frappe.db.count("Sales Invoice", {"customer": ("like", f"{PREFIX}-%")}),
		"their payment terms": frappe.db.count(
			"Payment Schedule", {"parenttype": "Sales Invoice", "parent": ("like", f"{PREFIX}-%")}
		),
		"communications": frappe.db.count("Communication", {"name": ("like", f"{PREFIX}-%")}),
		"of them on the timeline": frappe.db.count(
			"Communication Link", {"link_doctype": "Customer", "link_name": ("like", f"{PREFIX}-%")}
		),
		"contacts": frappe.db.count("Contact", {"name": ("like", f"{PREFIX}-%")}),
	}


_HOOK_SECONDS = [0.0]
_QUEUED: list[str] = []


def _worker_init(site: str, alerts: str = "off"):
	"""Start like an RQ worker that is already up: site connected, app imported. `alerts`: "off"
	(the chunks run no rules: the recompute alone), "decide" (the rules read and decide in each
	chunk, nothing written) or "on" (the nightly chunks as they run)."""
	frappe.init(site=site, force=True)
	frappe.connect()
	frappe.set_user("Administrator")
	from customer_success.alerts import service as alerts_service
	from customer_success.health import service as health

	health.load_models()
	alerts_service.load_rules()
	hook = alerts_service.after_health_chunk

	def timed_hook(**kwargs):
		t0 = time.perf_counter()
		try:
			return hook(**kwargs)
		finally:
			_HOOK_SECONDS[0] += time.perf_counter() - t0

	# What the chunks queue (the tidy job, the run's end for the alerts, a failed chunk's range) is
	# recorded, not sent to the site's real queue: no job of the benchmark's runs outlives it.
	frappe.enqueue = lambda method, **kwargs: _QUEUED.append(str(method))
	if alerts == "off":
		alerts_service.after_health_chunk = lambda **kwargs: None
	else:
		alerts_service.after_health_chunk = timed_hook
	if alerts == "decide":
		alerts_service.insert_alerts = lambda *args, **kwargs: None
	# End the transaction the warm-up read opened. Left open, its snapshot predates the run the
	# main process creates next, and the first job's non-locking reads would not see it: that job
	# found no chunk and returned without scoring, leaving the run Running for ever ("hung on one
	# chunk"). An RQ worker starts each job on a fresh connection, so production never saw this.
	frappe.db.rollback()


def _worker_ready(_) -> bool:
	time.sleep(0.2)
	return True


def _worker_run(jobs: list[dict]) -> tuple[float, float]:
	"""Run a share of the chunk jobs; return this worker's peak RSS in MB and the seconds its chunks
	spent in the alert rules."""
	from customer_success.health import service as health

	before = _HOOK_SECONDS[0]
	for job in jobs:
		frappe.db.rollback()  # each job starts on a fresh snapshot, as an RQ job does
		health.run_chunk(
			job["run"], job["lo"], job["hi"], chunk=job.get("chunk"), attempt=job.get("attempt", 1)
		)
	frappe.db.commit()  # nosemgrep
	fallbacks = sum(1 for method in _QUEUED if method.endswith("alerts.jobs.evaluate_range"))
	if fallbacks:
		log(f"WARNING: {fallbacks} chunks' rules failed and were queued on their own (see the Error Log)")
	_QUEUED.clear()
	return peak_rss_mb(), _HOOK_SECONDS[0] - before


def time_full_recompute(site: str, workers: int, alerts: str = "off", with_hook_seconds: bool = False):
	"""The nightly job as it runs: start_recompute queues one job per chunk and `workers`
	running processes (like RQ workers on the long queue) share them; `alerts` as `_worker_init`.
	Returns the elapsed time, the run, and the largest peak memory of a worker (and, with
	`with_hook_seconds`, the seconds all chunks spent in the alert rules, summed over the workers).
	"""
	import multiprocessing
	from unittest.mock import patch

	from customer_success.health import service as health

	with multiprocessing.get_context("spawn").Pool(
		workers, initializer=_worker_init, initargs=(site, alerts)
	) as pool:
		pool.map(_worker_ready, range(workers * 2), chunksize=1)  # every worker up before the clock starts
		jobs: list[dict] = []
		t0 = time.perf_counter()

		def queued(method, **kwargs):
			# the chunk jobs; what else a start queues (the trend roll-up's refresh) is not timed here
			if str(method).endswith("health.service.run_chunk"):
				jobs.append(kwargs)

		# the pool stands in for the long queue's workers: the run splits its chunks evenly among them
		with (
			patch("frappe.enqueue", side_effect=queued),
			patch.object(health, "long_queue_worker_count", return_value=workers),
		):
			run = health.start_recompute(trigger="Manual", now=False)
		shares = [[job] for job in jobs]
		results = pool.map(_worker_run, shares, chunksize=1)
		# the last job has finished the run (Completed): the clock stops before the workers are asked
		# for their peaks (each answer waits 0.2 s, 0.4 s in all that were counted in the night)
		elapsed = time.perf_counter() - t0
		worker_peaks = pool.map(_worker_peak, range(workers * 2), chunksize=1)
	frappe.db.rollback()  # a fresh snapshot: the workers committed in their own connections
	run = frappe.get_doc("Health Recompute Run", run.name)
	if run.status != "Completed":
		log(f"WARNING: run {run.name} is {run.status} after its jobs ran: the figure below is not a full run")
	peak = max([*(mb for mb, _seconds in results), *worker_peaks])
	if with_hook_seconds:
		return elapsed, run, peak, sum(seconds for _mb, seconds in results)
	return elapsed, run, peak


def _worker_peak(_) -> float:
	time.sleep(0.2)  # each worker answers once
	return peak_rss_mb()


def server_cpu_seconds() -> float | None:
	"""The CPU-seconds the MariaDB server process has used so far (user and system), from /proc: where
	a night's work goes, the server's or the workers'. None when the server runs elsewhere or its
	process cannot be read."""
	try:
		pid = open(frappe.db.sql("select @@pid_file")[0][0]).read().strip()
		fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
	except (OSError, IndexError):
		return None
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def deadlocks() -> int:
	"""InnoDB's deadlock counter (server-wide: another site on the same server counts too)."""
	return int(frappe.db.sql("show global status like 'Innodb_deadlocks'")[0][1])


def site_today():
	"""Today in the site's time zone, the night's `score_date` (the server's `curdate()` is another day
	for the hours between the server's midnight and the site's)."""
	from frappe.utils import nowdate

	return nowdate()


def clear_todays_scores(day=None):
	"""Remove the book's scores of today (or of `day`), so the next run inserts them as the night does; then give
	InnoDB's purge a moment to remove the deleted index records (a unique key still holding a
	deleted record of the same value is checked with a next-key lock), and wait for the server to
	be quiet: the purge of 100,000 deleted rows goes on for seconds after the history list is short
	(~1.8 s of MariaDB's CPU), and a run started then shared the cores with it. A real night starts
	on a server that deleted nothing a moment before."""
	frappe.db.sql(
		"delete from `tabCustomer Health Score` where score_date = %s and customer like %s",
		(day or site_today(), f"{PREFIX}-%"),
	)
	history_changed([day or site_today()])
	frappe.db.commit()  # nosemgrep
	for _ in range(60):
		if int(frappe.db.sql("show global status like 'Innodb_history_list_length'")[0][1]) < 5000:
			break
		time.sleep(1)
	wait_for_quiet_server()


def wait_for_quiet_server(quiet_share: float = 0.02, interval: float = 0.5, limit: float = 60.0):
	"""Wait until MariaDB uses under `quiet_share` of a core over `interval` (its purge and page
	flushes done), at most `limit` seconds; nothing to wait for when its CPU cannot be read."""
	before = server_cpu_seconds()
	if before is None:
		return
	waited = 0.0
	while waited < limit:
		time.sleep(interval)
		waited += interval
		now = server_cpu_seconds()
		if now - before < quiet_share * interval:
			return
		before = now
	log(f"WARNING: MariaDB still busy {limit:.0f}s after the scores were cleared: the run shares the cores")


def score_check(day=None) -> dict:
	"""What a run wrote for the book on `day` (today when not given): rows, distinct customers, a
	checksum over every row's score, status, trend and explanation, and over the Customers' copies
	(those computed today: a run scoring a later day computes them today too)."""
	day = day or site_today()
	rows, distinct, rows_sum = frappe.db.sql(
		"""select count(*), count(distinct customer), sum(crc32(concat_ws('|', customer, model, score,
			status, computed_score, computed_status, trend, explanation)))
		from `tabCustomer Health Score` where score_date = %s and customer like %s""",
		(day, f"{PREFIX}-%"),
	)[0]
	copies, copies_sum = frappe.db.sql(
		"""select count(*), sum(crc32(concat_ws('|', name, cs_health_score, cs_health_status, cs_health_trend)))
		from `tabCustomer` where name like %s and date(cs_health_computed_on) = %s""",
		(f"{PREFIX}-%", site_today()),
	)[0]
	return {
		"rows": int(rows),
		"customers": int(distinct),
		"rows_checksum": int(rows_sum or 0),
		"copies": int(copies),
		"copies_checksum": int(copies_sum or 0),
	}


def chunk_retries(run) -> tuple[int, int]:
	"""(chunks that needed a second attempt, chunks failed) of a run."""
	retried = frappe.db.count("Health Recompute Run Chunk", {"parent": str(run.name), "attempts": (">", 1)})
	return retried, int(run.chunks_failed or 0)


def time_worker_counts(site: str, counts_: list[int]) -> list[dict]:
	"""The night's run for each number of workers, each from the same start (no scores of today),
	with what it wrote checked."""
	results = []
	for workers in counts_:
		clear_todays_scores()
		before = deadlocks()
		server_before = server_cpu_seconds()
		seconds, run, peak = time_full_recompute(site, workers)
		server_after = server_cpu_seconds()
		retried, failed = chunk_retries(run)
		check = score_check()
		results.append(
			{
				"workers": workers,
				"seconds": seconds,
				"run": run,
				"peak_mb": peak,
				"deadlocks": deadlocks() - before,
				# MariaDB's own CPU over the run (None when the server is not on this machine)
				"server_cpu": None
				if server_before is None or server_after is None
				else server_after - server_before,
				"retried_chunks": retried,
				"failed_chunks": failed,
				"check": check,
			}
		)
		log(
			f"full recompute, {workers} worker(s): {seconds:.1f}s (the run record: started to finished "
			f"{run_record_seconds(run):.1f}s), "
			f"worker peak {peak:.0f} MB; run {run.name}: {run.status}, scored {run.customers_scored}, failed {run.customers_failed}; rows {check['rows']} for "
			f"{check['customers']} customers, copies {check['copies']}; deadlocks (server) {results[-1]['deadlocks']}, "
			f"chunks retried {retried}"
		)
	return results


def customers_outside_the_book() -> int:
	"""The site's active customers that are not this benchmark's."""
	return frappe.db.count("Customer", {"disabled": 0, "name": ("not like", f"{PREFIX}-%")})


def remove_later_days():
	"""Remove the book's score rows of the days after today: the next-day nights' (`time_rq_night`),
	made by this benchmark on its own customers."""
	later = book_history_days("and score_date > %s", (site_today(),))
	frappe.db.sql(
		"delete from `tabCustomer Health Score` where score_date > %s and customer like %s",
		(site_today(), f"{PREFIX}-%"),
	)
	history_changed(later)
	frappe.db.commit()  # nosemgrep


def time_rq_night(site: str, workers: int, day=None) -> dict:
	"""The night as a bench runs it: `workers` real RQ workers (`bench worker --queue long`, started
	here from the bench's own Python, stopped after) take the chunk jobs start_recompute queues. Each
	job runs in a fork of its worker, on a connection of its own, and takes the chunks still waiting
	once its own is done (the jobs it ran are counted), and the chunks run the site's alert rules, as
	every night does: what the pool of warmed processes above leaves out. Timed from the
	start to the run record's Completed (polled every 50 ms); the rules' state is the book's own (a
	second run on a day is a steady night). With `day` (a day after today) the run scores that day:
	a night after the one before it, when the scores move with the date windows and the alerts'
	evidence with them. Refuses to run while another worker listens on the long queue (the count
	would be wrong); jobs already waiting on it run first, on these workers."""
	import subprocess

	from frappe.utils import now_datetime
	from frappe.utils.background_jobs import get_queue, get_workers

	from customer_success.health import service as health

	queue = get_queue("long")
	if get_workers(queue):
		raise SystemExit("--rq: a worker already listens on the long queue; stop it first")
	env = dict(os.environ)
	# a bench's workers import the app from its bytecode; a session that forbids writing it would
	# compile the app's modules again in every job's fork
	env.pop("PYTHONDONTWRITEBYTECODE", None)
	command = [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "long"]
	started = [
		subprocess.Popen(
			command, cwd=os.getcwd(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
		)
		for _ in range(workers)
	]
	try:
		for _ in range(600):
			if len(get_workers(queue)) >= workers:
				break
			time.sleep(0.1)
		else:
			raise SystemExit("--rq: the workers did not come up within a minute")
		# what waits on the queue already (the previous runs' tidy jobs) runs first, on these workers
		for _ in range(6000):
			if not queue.count and not any(w.get_state() == "busy" for w in get_workers(queue)):
				break
			time.sleep(0.1)
		else:
			raise SystemExit("--rq: the long queue's waiting jobs did not finish within 10 minutes")
		clear_todays_scores(day)
		t0_wall = now_datetime()
		server_before = server_cpu_seconds()
		t0 = time.perf_counter()
		run = health.start_recompute(trigger="Manual", now=False, score_date=day, later_day=day is not None)
		while True:
			frappe.db.rollback()  # a fresh snapshot: the jobs commit on their own connections
			status = frappe.db.get_value("Health Recompute Run", run.name, "status")
			if status not in ("Queued", "Running"):
				break
			time.sleep(0.05)
		elapsed = time.perf_counter() - t0
		server_after = server_cpu_seconds()
		run = frappe.get_doc("Health Recompute Run", run.name)
		inside, jobs = frappe.db.sql(
			"""select sum(timestampdiff(microsecond, started_at, finished_at)) / 1e6, count(distinct job_id)
			from `tabHealth Recompute Run Chunk` where parent = %s""",
			str(run.name),
		)[0]
		return {
			"workers": workers,
			"seconds": elapsed,
			"run": run,
			"chunk_seconds": float(inside or 0),
			"jobs": int(jobs or 0),
			"server_cpu": None if server_before is None else server_after - server_before,
			"check": score_check(day),
			"day": str(day or site_today()),
			"alerts": {
				"updated": alerts_updated_since(t0_wall),
				"raised": alerts_raised_since(t0_wall),
			},
			"rules": frappe.db.count("CS Alert Rule", {"enabled": 1}),
		}
	finally:
		for process in started:
			process.terminate()  # RQ's warm shutdown: the job in hand (none by now) is finished first
		for process in started:
			try:
				process.wait(timeout=30)
			except subprocess.TimeoutExpired:
				process.kill()


def alerts_updated_since(since) -> int:
	"""The book's open alerts whose evidence a night rewrote (since `since`)."""
	return frappe.db.count(
		"CS Alert",
		{"customer": ("like", f"{PREFIX}-%"), "evidence_updated_on": (">=", since), "creation": ("<", since)},
	)


def alerts_raised_since(since) -> int:
	"""The book's alerts a night raised (since `since`)."""
	return frappe.db.count("CS Alert", {"customer": ("like", f"{PREFIX}-%"), "creation": (">=", since)})


def run_record_seconds(run) -> float:
	"""The run's own record of its length: from its start (after the lock and the chunking) to the
	last chunk's finishing it; NaN for a run not finished."""
	from frappe.utils import get_datetime

	if not (run.started_at and run.finished_at):
		return float("nan")
	return (get_datetime(run.finished_at) - get_datetime(run.started_at)).total_seconds()


def merged_runs(runs: list[dict]) -> dict:
	"""One worker count's runs of every round: the median seconds, every figure that must hold
	(deadlocks, retries, failures) summed, the largest memory; the check of the first run, which
	every other must equal (`checks_agree`)."""
	first = runs[0]
	return {
		**first,
		"seconds": statistics.median(r["seconds"] for r in runs),
		"all_seconds": [r["seconds"] for r in runs],
		"peak_mb": max(r["peak_mb"] for r in runs),
		"server_cpu": None
		if any(r["server_cpu"] is None for r in runs)
		else statistics.median(r["server_cpu"] for r in runs),
		"deadlocks": sum(r["deadlocks"] for r in runs),
		"retried_chunks": sum(r["retried_chunks"] for r in runs),
		"failed_chunks": sum(r["failed_chunks"] for r in runs),
		"checks_agree": all(r["check"] == first["check"] for r in runs),
	}


def time_index_build() -> float:
	"""Drop and rebuild the indexes the app adds, as install does on an existing site."""
	from customer_success.setup import indexes

	t0 = time.perf_counter()
	indexes.remove_indexes()
	indexes.make_indexes()
	return time.perf_counter() - t0


READS = (
	"active_customers",
	"live_customers",
	"issue_facts",
	"invoice_facts",
	"last_touch_dates",
	"latest_contract_end",
	"scores_around",
	"plan_progress",
	"milestone_punctuality",
	"latest_nps",
)


def time_phases():
	"""Reads, scoring and writes measured apart, over the same chunks, in one process; the reads
	also per query (`queries.<name>`, summed over the chunks). The writes are the chunk jobs' own
	write phase (`write_scores_committed`: locking reads, inserts, the copy onto the Customers),
	from no scores of today, as the night writes them."""
	from unittest.mock import patch

	from frappe.utils import getdate, now_datetime, nowdate

	from customer_success.health import queries
	from customer_success.health import service as health

	clear_todays_scores()
	today = getdate(nowdate())
	models = health.load_models()
	settings = frappe.get_cached_doc("Customer Success Settings")
	per_read = dict.fromkeys(READS, 0.0)

	def timed(name, real):
		def call(*args, **kwargs):
			t = time.perf_counter()
			try:
				return real(*args, **kwargs)
			finally:
				per_read[name] += time.perf_counter() - t

		return call

	reads = scoring = writes = 0.0
	n = 0
	patches = [patch.object(queries, name, timed(name, getattr(queries, name))) for name in READS]
	for p in patches:
		p.start()
	try:
		for lo, hi in queries.customer_ranges(health.CHUNK_SIZE):
			frappe.db.rollback()  # each chunk on a fresh snapshot, as a job
			t0 = time.perf_counter()
			computed_on = now_datetime()
			customers = queries.active_customers(lo, hi)
			facts = health.gather_facts(
				lo,
				hi,
				models,
				today,
				int(settings.health_trend_days or 30),
				names=[customer["name"] for customer in customers],  # as `score_range` reads them
			)
			t1 = time.perf_counter()
			rows = [
				{**r, "computed_on": computed_on}
				for c in customers
				if (r := health.score_customer(c, facts, models, today, 30))
			]
			t2 = time.perf_counter()
			health.write_scores_committed(lo, hi, today, rows, customers, computed_on)
			t3 = time.perf_counter()
			reads, scoring, writes, n = (
				reads + t1 - t0,
				scoring + t2 - t1,
				writes + t3 - t2,
				n + len(customers),
			)
	finally:
		for p in patches:
			p.stop()
	return {"reads": reads, "scoring": scoring, "writes": writes, "customers": n, "per_read": per_read}


def bytes_per_row() -> dict:
	"""What a score row weighs: its explanation against the rest of its columns (averages, bytes)."""
	explanation, rest = frappe.db.sql(
		"""select avg(length(explanation)), avg(length(customer) + length(customer_name) + length(csm)
			+ length(model) + length(status) + length(computed_status) + 8 * 6 + 3 * 8 + 60)
		from `tabCustomer Health Score` where score_date = %s and customer like %s""",
		(site_today(), f"{PREFIX}-%"),
	)[0]
	return {"explanation": float(explanation or 0), "rest": float(rest or 0)}


def memory_over_chunks(chunks: int = 50) -> tuple[float, float]:
	"""Resident memory of this process before and after scoring `chunks` chunks in a row (the
	same ranges over again): it stays flat when nothing accumulates from one chunk to the next."""
	import gc
	from unittest.mock import patch

	from customer_success.alerts import service as alerts_service
	from customer_success.health import queries
	from customer_success.health import service as health

	def rss_mb() -> float:
		with open("/proc/self/statm") as statm:
			return int(statm.read().split()[1]) * resource.getpagesize() / 1e6

	ranges = queries.customer_ranges(health.CHUNK_SIZE)
	run = health.new_run("Manual", "Running", None, chunks_total=chunks + 1)
	frappe.db.commit()  # nosemgrep
	# the recompute's own memory: its chunks run no alert rules here (--alerts measures those)
	with patch.object(alerts_service, "after_health_chunk", lambda **kwargs: None):
		health.run_chunk(run.name, *ranges[0])  # warm
		gc.collect()
		before = rss_mb()
		for i in range(chunks):
			health.run_chunk(run.name, *ranges[i % len(ranges)])
		gc.collect()
		after = rss_mb()
	frappe.db.set_value("Health Recompute Run", run.name, "status", "Completed")
	frappe.db.commit()  # nosemgrep
	return before, after


def time_naive(sample: list[str]):
	"""What a straightforward implementation does: a document and a handful of queries per customer."""
	from frappe.utils import getdate, nowdate

	from customer_success.health import engine
	from customer_success.health import service as health

	today = getdate(nowdate())
	model = health.load_models()["default"]
	t0 = time.perf_counter()
	for name in sample:
		customer = frappe.get_doc("Customer", name)
		issues = frappe.get_all(
			"Issue",
			filters={"customer": name},
			fields=["status", "priority", "agreement_status", "opening_date"],
		)
		invoices = frappe.get_all(
			"Sales Invoice",
			filters={"customer": name, "docstatus": 1},
			fields=["base_grand_total", "base_net_total", "outstanding_amount", "due_date", "posting_date"],
		)
		comms = frappe.get_all(
			"Communication",
			filters={"reference_doctype": "Customer", "reference_name": name},
			fields=["communication_date"],
			order_by="communication_date desc",
			limit=1,
		)
		contract = frappe.get_all(
			"Contract",
			filters={"party_type": "Customer", "party_name": name},
			fields=["end_date"],
			order_by="end_date desc",
			limit=1,
		)
		load = sum(
			engine.priority_weight(i.priority) for i in issues if i.status in ("Open", "Replied", "On Hold")
		)
		overdue = [i for i in invoices if i.outstanding_amount > 0 and getdate(i.due_date) < today]
		raw = {
			engine.SUPPORT_LOAD: load,
			engine.PAYMENT_BEHAVIOUR: engine.payment_raw(
				sum(i.outstanding_amount for i in overdue),
				sum(i.base_grand_total for i in invoices),
				max(((today - getdate(i.due_date)).days for i in overdue), default=0),
			),
			engine.ENGAGEMENT_RECENCY: (today - getdate(comms[0].communication_date)).days if comms else None,
			engine.RENEWAL_PROXIMITY: (getdate(contract[0].end_date) - today).days if contract else None,
		}
		engine.compute_health(raw, model["specs"], model["green"], model["red"])
		customer.db_set("cs_health_computed_on", frappe.utils.now_datetime(), update_modified=False)
	frappe.db.rollback()
	return time.perf_counter() - t0


TERMS_SCAN = "invoices: terms of the unpaid"
BARE_SCANS = {
	# one row per customer, as the app reads it (`queries.issue_facts`): the support index in its
	# order, no temporary table (grouping by customer and priority needed one: 12 s of a 20 s floor)
	"issues: open load": "select customer, sum(case when status in ('Open','Replied','On Hold') then case priority when 'Urgent' then 4 when 'High' then 3 when 'Medium' then 2 when 'Low' then 1 else 2 end else 0 end) from `tabIssue` group by customer",
	"issues: SLA": "select customer, sum(agreement_status = 'Failed'), sum(agreement_status in ('Fulfilled','Failed')) from `tabIssue` where opening_date >= curdate() - interval 90 day group by customer",
	"invoices": "select customer, company, sum(base_grand_total), sum(outstanding_amount * conversion_rate), min(due_date), sum(base_net_total) from `tabSales Invoice` where docstatus = 1 group by customer, company",
	# the payment terms of the unpaid invoices, which the overdue read weighs (ERPNext gives every
	# invoice a schedule): each unpaid invoice of the billing index joined to its terms by `parent`
	# (left to itself the optimizer scanned the whole schedule table first: 3.9 s against 0.9 s)
	TERMS_SCAN: "select i.customer, sum(t.payment_amount - t.paid_amount), min(t.due_date) from `tabSales Invoice` i straight_join `tabPayment Schedule` t force index (parent) on t.parent = i.name and t.parenttype = 'Sales Invoice' where i.docstatus = 1 and i.outstanding_amount > 0 group by i.customer",
	"communications: reference": "select reference_name, max(communication_date) from `tabCommunication` where reference_doctype = 'Customer' and communication_type = 'Communication' group by reference_name",
	"communications: timeline": "select l.link_name, max(c.communication_date) from `tabCommunication Link` l join `tabCommunication` c on c.name = l.parent where l.link_doctype = 'Customer' and c.communication_type = 'Communication' group by l.link_name",
	# the customers' contacts: calls logged on a contact, emails on a contact's timeline
	"communications: contacts": "select d.link_name, max(c.communication_date) from `tabDynamic Link` d join `tabCommunication` c on c.reference_doctype = 'Contact' and c.reference_name = d.parent where d.link_doctype = 'Customer' and d.parenttype = 'Contact' and c.communication_type = 'Communication' group by d.link_name",
	"communications: contact timelines": "select d.link_name, max(c.communication_date) from `tabDynamic Link` d join `tabCommunication Link` l on l.link_doctype = 'Contact' and l.link_name = d.parent join `tabCommunication` c on c.name = l.parent where d.link_doctype = 'Customer' and d.parenttype = 'Contact' and c.communication_type = 'Communication' group by d.link_name",
	# the party/term index in party order, as the app's per-range read uses it (left to itself the
	# optimizer took the end-date index here, and a temporary table)
	"contracts": "select party_name, max(end_date) from `tabContract` force index (cs_party_term_index) where party_type = 'Customer' and docstatus = 1 group by party_name",
}


def time_bare_scans() -> tuple[float, dict]:
	"""The same aggregates with nothing around them: the floor any implementation pays (each scan
	run twice, the second one counted: a warm buffer pool, as for the recompute)."""
	each = {}
	for label, sql in BARE_SCANS.items():
		frappe.db.sql(sql)
		t0 = time.perf_counter()
		frappe.db.sql(sql)
		each[label] = time.perf_counter() - t0
	return sum(each.values()), each


def machine() -> str:
	pool = int(frappe.db.sql("select @@innodb_buffer_pool_size")[0][0]) / 2**20
	version = frappe.db.sql("select version()")[0][0]
	load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
	note = (
		""
		if pool_size_configured(pool)
		else (
			" (NOT THE SIZE IN THE SERVER'S CONFIGURATION: grown at runtime? Set innodb_buffer_pool_size there and restart)"
		)
	)
	return (
		f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores, load average {load}; "
		f"MariaDB {version}, buffer pool {pool:.0f} MB{note}"
	)


def pool_size_configured(pool_mb: float) -> bool:
	"""Is the buffer pool the size the server's configuration gives it (`my_print_defaults`, when the
	server runs here)? A pool grown at runtime (SET GLOBAL innodb_buffer_pool_size) keeps the page
	hash made for its first size, and every page look-up then walks long hash chains: a chunk of the
	night cost 880 ms against 781-802 ms with the pool sized at start (4 December 2026), and a
	single hash-chain walk took 9 % of MariaDB's CPU in a night (perf). True when it cannot tell."""
	import subprocess

	try:
		options = subprocess.run(
			["my_print_defaults", "--mysqld"], capture_output=True, text=True, timeout=10
		).stdout.split()
	except (OSError, subprocess.SubprocessError):
		return True
	sizes = [
		o.split("=", 1)[1] for o in options if o.replace("-", "_").startswith("__innodb_buffer_pool_size=")
	]
	if not sizes:
		return pool_mb == 128  # the server's default
	value = sizes[-1].strip().upper()
	units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
	try:
		configured = float(value[:-1]) * units[value[-1]] if value[-1] in units else float(value)
	except ValueError:
		return True
	return abs(configured / 2**20 - pool_mb) < 1


def open_alert_count() -> int:
	if not frappe.db.table_exists("CS Alert"):
		return 0
	return frappe.db.count(
		"CS Alert", {"customer": ("like", f"{PREFIX}-%"), "status": ("in", ("Open", "In Progress"))}
	)


def time_alerts_in_chunks(
	site: str, workers: int, fresh: bool, raise_limit: int, customers: int, moved: bool = False
) -> dict:
	"""The alert rules as the night runs them: inside each chunk of the recompute, `workers`
	processes sharing the chunks. Each figure is a whole recompute with the rules; the caller
	compares it with the recompute alone. On a book without alerts (or `fresh`): "decide" (the
	rules read and decide, nothing is written: what every night costs before its writes) and
	"first" (the night that raises the book's alerts, up to `raise_limit` customers); then
	"steady" (the alerts open, found and compared: a night when nothing new fires; the day's scores
	are kept, rewritten in place, so their links in the evidence stay the same); with `moved`,
	then "moved" (every open alert's evidence changed: it is rewritten, as most are each night)."""
	from customer_success.setup import defaults

	defaults.make_default_alert_rules()
	frappe.db.commit()  # nosemgrep
	if fresh:
		cleanup_alerts(f"{PREFIX}-%")
		frappe.db.commit()  # nosemgrep
	figures = {}
	if not open_alert_count():
		elapsed, run, _mb, hook = time_full_recompute(site, workers, alerts="decide", with_hook_seconds=True)
		figures["decide"] = (elapsed, hook, run)
		if customers > raise_limit:
			return figures
		elapsed, run, _mb, hook = time_full_recompute(site, workers, alerts="on", with_hook_seconds=True)
		figures["first"] = (elapsed, hook, run, open_alert_count())
	elapsed, run, _mb, hook = time_full_recompute(site, workers, alerts="on", with_hook_seconds=True)
	figures["steady"] = (elapsed, hook, run, open_alert_count())
	if moved:
		# A night when every open alert's facts moved (an upper bound: the evidence holds dates, not
		# day counts, so on a real book only the alerts whose facts changed are rewritten). Made so
		# here by marking every open alert's stored evidence digest as stale: the pass finds each
		# evidence changed and writes it back (evidence, digest, summary).
		frappe.db.sql(
			"""update `tabCS Alert` set evidence_digest = 'moved'
			where customer like %s and status in ('Open', 'In Progress')""",
			f"{PREFIX}-%",
		)
		frappe.db.commit()  # nosemgrep
		elapsed, run, _mb, hook = time_full_recompute(site, workers, alerts="on", with_hook_seconds=True)
		figures["moved"] = (elapsed, hook, run, open_alert_count())
	return figures


def time_alerts_standalone() -> tuple[float, dict]:
	"""The whole-book pass on its own, in this process, as `jobs.evaluate_book` runs it (the path of
	a range whose chunk failed): every rule's reads, the decisions and the noise control; nothing
	written (new alerts are not inserted, and the rest is rolled back)."""
	from unittest.mock import patch

	from customer_success.alerts import service as alerts

	alerts.load_rules()  # warm the imports the first get_all pulls in
	with (
		patch.object(alerts, "insert_alerts", return_value=None),
		patch.object(frappe.db, "commit"),
	):
		t0 = time.perf_counter()
		result = alerts.evaluate_book()
		elapsed = time.perf_counter() - t0
	frappe.db.rollback()
	return elapsed, result


def log_alert_summary(figures: dict, recompute_seconds: float, workers: int, standalone=None):
	def line(label: str, key: str):
		elapsed, hook, *_rest = figures[key]
		log(
			f"{label}: {elapsed:.1f} s = the recompute alone + {elapsed - recompute_seconds:+.1f} s; the rules "
			f"in the chunks took {hook:.1f} s of worker time (~{hook / workers:.1f} s of wall time on {workers} workers)"
		)

	log(f"recompute alone, {workers} workers: {recompute_seconds:.1f} s")
	if "decide" in figures:
		line(f"recompute + rules deciding, nothing written, {workers} workers", "decide")
	if "first" in figures:
		line(
			f"recompute + rules, first night (raises {figures['first'][3]} alerts), {workers} workers",
			"first",
		)
	if "steady" in figures:
		line(
			f"recompute + rules, steady night ({figures['steady'][3]} alerts open), {workers} workers",
			"steady",
		)
		log("target: the rules add <= 5 s to the recompute on 2 cores")
	if "moved" in figures:
		line(f"recompute + rules, every open alert's evidence rewritten, {workers} workers", "moved")
	if standalone:
		elapsed, result = standalone
		log(
			f"rules pass on its own, whole book, 1 process, nothing written: {elapsed:.1f} s "
			f"({result['raised'] + result['held']} findings would be new, {result['updated']} alerts updated)"
		)


def cleanup_alerts(like: str):
	if not frappe.db.table_exists("CS Alert"):
		return
	frappe.db.sql(
		"""delete t from `tabToDo` t join `tabCS Alert` a on a.name = t.reference_name
		where t.reference_type = 'CS Alert' and a.customer like %s""",
		like,
	)
	frappe.db.sql(
		"""delete n from `tabNotification Log` n join `tabCS Alert` a on a.name = n.document_name
		where n.document_type = 'CS Alert' and a.customer like %s""",
		like,
	)
	for table, field in (("Comment", "reference_name"), ("Version", "docname")):
		frappe.db.sql(
			f"""delete x from `tab{table}` x join `tabCS Alert` a on a.name = x.{field}
			where x.{"reference_doctype" if table == "Comment" else "ref_doctype"} = 'CS Alert'
			and a.customer like %s""",
			like,
		)
	frappe.db.sql(
		"""delete t from `tabCS Alert Task` t join `tabCS Alert` a on a.name = t.parent
		where a.customer like %s""",
		like,
	)
	frappe.db.sql("delete from `tabCS Alert` where customer like %s", like)


def cleanup():
	t0 = time.perf_counter()
	like = f"{PREFIX}-%"
	cleanup_alerts(like)
	history_changed(book_history_days())
	frappe.db.sql("delete from `tabCustomer Health Score` where customer like %s", like)
	frappe.db.sql("delete from `tabIssue` where customer like %s", like)
	frappe.db.sql(
		"delete from `tabPayment Schedule` where parenttype = 'Sales Invoice' and parent like %s", like
	)
	frappe.db.sql("delete from `tabSales Invoice` where customer like %s", like)
	frappe.db.sql("delete from `tabCommunication Link` where link_name like %s", like)
	frappe.db.sql("delete from `tabDynamic Link` where parenttype = 'Contact' and parent like %s", like)
	frappe.db.sql("delete from `tabContact` where name like %s", like)
	frappe.db.sql("delete from `tabCommunication` where name like %s", like)
	frappe.db.sql("delete from `tabContract` where party_name like %s", like)
	frappe.db.sql("delete from `tabCustomer` where name like %s", like)
	frappe.db.commit()  # nosemgrep
	return time.perf_counter() - t0


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--customers", type=int, default=100_000)
	parser.add_argument("--naive-sample", type=int, default=300)
	parser.add_argument(
		"--workers",
		default="1,2,4",
		help="the numbers of processes sharing the chunks (like RQ workers), one run each; the first "
		"is the baseline of the speed-up and of the equivalence check (default 1,2,4)",
	)
	parser.add_argument(
		"--repeat",
		type=int,
		default=1,
		help="rounds of the read floor and every worker count, the medians reported (default 1)",
	)
	parser.add_argument("--keep", action="store_true", help="keep the synthetic book afterwards")
	parser.add_argument("--reuse", action="store_true", help="reuse a book left by --keep")
	parser.add_argument(
		"--no-index-build",
		action="store_true",
		help="with --reuse: keep the book's indexes as they are (do not time dropping and making them)",
	)
	parser.add_argument("--alerts", action="store_true", help="also time the alert rules pass")
	parser.add_argument(
		"--alerts-only",
		action="store_true",
		help="with --alerts: time the recompute and the rules pass only (no phases, naive loop, scans)",
	)
	parser.add_argument(
		"--alerts-fresh", action="store_true", help="with --alerts: remove the book's alerts first"
	)
	parser.add_argument(
		"--alerts-standalone",
		action="store_true",
		help="with --alerts: also time the whole-book rules pass on its own (1 process, nothing written)",
	)
	parser.add_argument(
		"--alerts-moved",
		action="store_true",
		help="with --alerts: then a night where every open alert's evidence changed (as most do daily)",
	)
	parser.add_argument(
		"--alerts-raise-limit",
		type=int,
		default=1_000_000,
		help="time the passes that raise alerts only up to this many customers",
	)
	parser.add_argument(
		"--rq",
		default="",
		help="also time the night with this many real RQ workers (e.g. 2): bench worker processes, a fork "
		"and a connection per job, the site's alert rules in the chunks, as a bench runs it; a list "
		"(2,2,2) times one night each, each against the floor measured just before it, and their medians",
	)
	parser.add_argument(
		"--rq-day",
		choices=("next", "same"),
		default="next",
		help="next (default): a steady night of today first, then each --rq night scores the day after "
		"the night before (tomorrow, the day after, ...), as a site's nights follow each other: the "
		"scores move with the date windows and thousands of alerts' evidence with them (the rows of "
		"those days are removed after); same: every night scores today again (a steady night, nothing "
		"moved: the passes before 3 December 2026 measured only this)",
	)
	args = parser.parse_args()
	worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]

	frappe.init(site=args.site)
	frappe.connect()
	frappe.set_user("Administrator")
	if "customer_success" not in frappe.get_installed_apps():
		sys.exit("customer_success is not installed on this site")

	log(f"== health recompute benchmark on {args.site}: {args.customers} customers")
	log(f"machine: {machine()}")
	if args.reuse and counts()["customers"]:
		build_seconds = 0.0
		ensure_timeline_links()
	else:
		cleanup()
		_, build_seconds = build_book(args.customers)
	t0 = time.perf_counter()
	contacts = ensure_contacts()
	if contacts:
		log(
			f"contacts: {contacts} made, one a customer, on the timelines of their customers' emails, "
			f"and a call logged on a third of them, as a real site keeps them, in {time.perf_counter() - t0:.0f}s"
		)
	t0 = time.perf_counter()
	terms = ensure_payment_schedules()
	if terms:
		log(
			f"payment schedules: {terms} terms made for the book's invoices, as ERPNext keeps them "
			f"(every {INSTALMENT_SHARE}th invoice in two instalments) in {time.perf_counter() - t0:.0f}s"
		)
	rq_counts = [int(w) for w in args.rq.split(",") if w.strip()]
	others = customers_outside_the_book() if rq_counts and args.rq_day == "next" else 0
	if others:
		# a night scores every customer of the site: the next-day nights would leave the days after
		# today's scores, Customer figures and alerts on customers this benchmark did not make
		log(
			f"--rq-day next: this site has {others} active customers of its own, which the next-day nights "
			"would score for the days after today (and leave so): every night scores today instead, as "
			"the site's own nightly run does (use a throw-away site for the next-day nights)"
		)
		args.rq_day = "same"
	# the next-day RQ nights look back from their own days (the steady night's is today's)
	next_nights = len(rq_counts) if args.rq_day == "next" else 0
	history = ensure_trend_history(next_nights)
	if history:
		log(
			f"trend history: {history} daily score rows made {TREND_DAYS - next_nights}-{TREND_DAYS + TREND_SLACK} "
			"days back (as a real site keeps them)"
		)
	book = counts()
	log(f"book: {book} (built in {build_seconds:.0f}s)")
	total_customers = frappe.db.count("Customer", {"disabled": 0})

	if (args.alerts_only or args.no_index_build) and args.reuse:
		index_seconds = 0.0  # the kept book has its indexes
	else:
		index_seconds = time_index_build()
		log(f"app indexes rebuilt on this book in {index_seconds:.1f}s")

	# Each round measures the floor, then every worker count, so a machine whose speed drifts (a
	# shared VM) weighs on all of them alike; the medians are reported.
	floors, floors_without_terms, rounds = [], [], []
	for round_ in range(args.repeat):
		wait_for_quiet_server()  # the floor, as the runs, on a server done with what came before
		bare_seconds, bare_each = time_bare_scans()
		floors.append(bare_seconds)
		floors_without_terms.append(bare_seconds - bare_each[TERMS_SCAN])
		log(
			f"bare aggregate scans of the same tables (the read floor): {bare_seconds:.1f}s = "
			f"{total_customers / bare_seconds:,.0f} customers/s; "
			+ ", ".join(f"{label} {seconds:.2f}s" for label, seconds in bare_each.items())
		)
		rounds.append(time_worker_counts(args.site, worker_counts))
		if args.repeat > 1:
			log(f"round {round_ + 1} of {args.repeat} done")
	bare_seconds = statistics.median(floors)
	runs = [merged_runs([r[i] for r in rounds]) for i in range(len(worker_counts))]
	base = runs[0]
	by_workers = {r["workers"]: r for r in runs}
	two = by_workers.get(2, runs[-1])
	single_seconds, full_seconds = base["seconds"], two["seconds"]

	rq_runs, rq_steady = [], None
	nights = [(count, None) for count in rq_counts]
	if rq_counts and args.rq_day == "next":
		from frappe.utils import add_days, getdate

		# a steady night first (today again: its alerts found, nothing moved), from which each next
		# night scores the day after the one before, as the nights of a real site follow each other
		remove_later_days()
		today = getdate(site_today())
		nights = [(rq_counts[0], None)] + [
			(count, add_days(today, i)) for i, count in enumerate(rq_counts, start=1)
		]
	try:
		while nights:
			count, day = nights.pop(0)
			wait_for_quiet_server()
			rq_floor, rq_each = time_bare_scans()
			r = time_rq_night(args.site, count, day)
			r["floor"] = rq_floor
			r["floor_without_terms"] = rq_floor - rq_each[TERMS_SCAN]
			if args.rq_day == "next" and day is None:
				if (r["alerts"]["updated"] or r["alerts"]["raised"]) and rq_steady is None:
					# the book's alerts were another day's (a run before this one went on to later
					# days): this night brought them back to today's; the next one is steady
					rq_steady = False
					nights.insert(0, (count, None))
				else:
					rq_steady = r
			else:
				rq_runs.append(r)
			log(
				f"the night of {r['day']} with {count} real RQ workers ({r['rules']} alert rules on): "
				f"{r['seconds']:.1f}s (the run record: {run_record_seconds(r['run']):.1f}s; inside the chunks "
				f"{r['chunk_seconds']:.1f}s of worker time), read floor of the moment {rq_floor:.1f}s; run "
				f"{r['run'].name}: {r['run'].status}, scored {r['run'].customers_scored}; alerts rewritten "
				f"{r['alerts']['updated']}, raised {r['alerts']['raised']}"
			)
	finally:
		if rq_counts and args.rq_day == "next":
			remove_later_days()

	alert_figures, standalone = {}, None
	if args.alerts:
		alert_figures = time_alerts_in_chunks(
			args.site,
			two["workers"],
			args.alerts_fresh,
			args.alerts_raise_limit,
			total_customers,
			moved=args.alerts_moved,
		)
		for key, (elapsed, hook, *_rest) in alert_figures.items():
			log(
				f"recompute + rules ({key}), {two['workers']} workers: {elapsed:.1f}s, rules {hook:.1f}s of worker time"
			)
		if args.alerts_standalone:
			standalone = time_alerts_standalone()
			log(f"rules pass on its own, whole book, 1 process, nothing written: {standalone[0]:.1f}s")

	if args.alerts_only:
		log("\n== summary")
		log(f"customers                 {total_customers}")
		log(f"full recompute, {base['workers']} worker  {single_seconds:.1f} s")
		log(f"full recompute, {two['workers']} workers {full_seconds:.1f} s")
		if args.alerts:
			log_alert_summary(alert_figures, full_seconds, two["workers"], standalone)
		if not args.keep:
			log(f"\ncleaned up in {cleanup():.0f}s")
		return

	phases = time_phases()
	weight = bytes_per_row()
	log(
		f"phases (1 process): reads {phases['reads']:.1f}s, scoring {phases['scoring']:.1f}s, "
		f"writes {phases['writes']:.1f}s (peak RSS so far {peak_rss_mb():.0f} MB)"
	)
	log("reads by query: " + ", ".join(f"{k} {v:.2f}s" for k, v in phases["per_read"].items() if v >= 0.005))
	log(
		f"a score row: explanation {weight['explanation']:.0f} bytes, the other columns ~{weight['rest']:.0f} bytes"
	)

	before_mb, after_mb = memory_over_chunks()
	log(
		f"memory of one process scoring 50 chunks in a row: {before_mb:.0f} MB before, {after_mb:.0f} MB after"
	)

	sample = frappe.get_all(
		"Customer",
		filters={"name": ("like", f"{PREFIX}-%")},
		pluck="name",
		limit=args.naive_sample,
		order_by="name",
	)
	naive_seconds = time_naive(sample)
	naive_rate = len(sample) / naive_seconds
	log(
		f"naive per-customer loop: {naive_seconds:.1f}s for a sample of {len(sample)} = {naive_rate:,.0f} customers/s"
	)

	log("\n== summary")
	log(f"machine                   {machine()}")
	log(f"customers                 {total_customers}")
	floor_without_terms = statistics.median(floors_without_terms)
	log(
		f"read floor (bare scans)   {bare_seconds:.1f} s  (1 process; without the unpaid invoices' terms "
		f"{floor_without_terms:.1f} s)"
	)
	log("")
	log(
		"| workers | seconds | customers/s | speed-up over 1 | x the read floor (with the terms) | x without the terms | peak MB per worker | deadlocks | rows / customers scored |"
	)
	log("|---|---|---|---|---|---|---|---|---|")
	for r in runs:
		log(
			f"| {r['workers']} | {r['seconds']:.1f} | {total_customers / r['seconds']:,.0f} | "
			f"{base['seconds'] / r['seconds']:.2f}x | {r['seconds'] / bare_seconds:.2f}x | "
			f"{r['seconds'] / floor_without_terms:.2f}x | {r['peak_mb']:.0f} | "
			f"{r['deadlocks']} | {r['check']['rows']:,} / {r['run'].customers_scored:,} |"
		)
	book_customers = frappe.db.count("Customer", {"disabled": 0, "name": ("like", f"{PREFIX}-%")})
	log("")
	if args.repeat > 1:
		log(
			f"{args.repeat} rounds, medians above; read floor "
			+ ", ".join(f"{f:.1f}" for f in floors)
			+ " s; "
			+ "; ".join(
				f"{r['workers']} worker(s) " + ", ".join(f"{x:.1f}" for x in r["all_seconds"]) + " s"
				for r in runs
			)
		)
		# each round's run against the floor of the same round (measured a moment before it): the VM's
		# speed drifts from minute to minute, so a round's own ratio is the steadier figure
		for r in runs:
			ratios = [seconds / floor for seconds, floor in zip(r["all_seconds"], floors, strict=True)]
			log(
				f"{r['workers']} worker(s) x the read floor of the same round: "
				+ ", ".join(f"{x:.2f}x" for x in ratios)
				+ f" (median {statistics.median(ratios):.2f}x)"
			)
		# the floor as the passes before the book had payment terms measured it, for comparison
		for r in runs:
			ratios = [
				seconds / floor for seconds, floor in zip(r["all_seconds"], floors_without_terms, strict=True)
			]
			log(
				f"{r['workers']} worker(s) x the floor without the terms scan ("
				+ ", ".join(f"{f:.1f}" for f in floors_without_terms)
				+ " s): "
				+ ", ".join(f"{x:.2f}x" for x in ratios)
				+ f" (median {statistics.median(ratios):.2f}x)"
			)
		for r in runs:
			if not r["checks_agree"]:
				log(f"WARNING: the rounds of {r['workers']} worker(s) wrote DIFFERENT scores")
	for r in runs:
		if r["server_cpu"] is not None:
			log(
				f"{r['workers']} worker(s): MariaDB's CPU {r['server_cpu']:.1f} s of the run's "
				f"{r['seconds'] * os.cpu_count():.1f} core-seconds (median)"
			)
	for r in runs[1:]:
		same = r["check"] == base["check"] and r["checks_agree"] and base["checks_agree"]
		exact = (
			# the run scores the site's other customers too (a test site's): the book's must all be there
			r["check"]["rows"] == r["check"]["customers"] == book_customers == r["check"]["copies"]
			and r["run"].customers_scored >= book_customers
		)
		log(
			f"{r['workers']} workers vs {base['workers']}: scores {'IDENTICAL' if same else 'DIFFERENT'} "
			f"(checksums of every row and every Customer copy), rows {'exact' if exact else 'NOT EXACT'} "
			f"(one per customer scored, none lost or doubled), chunks retried {r['retried_chunks']}, "
			f"failed {r['failed_chunks']}"
		)
	log(
		f"phases (1 process)        reads {phases['reads']:.1f} s, scoring {phases['scoring']:.1f} s, "
		f"writes {phases['writes']:.1f} s"
	)
	log(
		f"engagement reads          {phases['per_read']['last_touch_dates']:.1f} s of the reads; bare scans: "
		f"communications {sum(v for k, v in bare_each.items() if k.startswith('communications')):.2f} s, "
		f"issues {bare_each['issues: open load'] + bare_each['issues: SLA']:.2f} s, invoices {bare_each['invoices'] + bare_each[TERMS_SCAN]:.2f} s (of which the terms {bare_each[TERMS_SCAN]:.2f} s)"
	)
	log(
		f"vs naive loop             {total_customers / full_seconds / naive_rate:,.0f}x faster ({two['workers']} workers)"
	)
	log(f"memory over 50 chunks     {before_mb:.0f} -> {after_mb:.0f} MB")
	log(f"app index build           {index_seconds:.1f} s")
	log(
		f"score row                 explanation {weight['explanation']:.0f} B + other columns ~{weight['rest']:.0f} B"
	)
	for r in ([rq_steady] if rq_steady else []) + rq_runs:  # (False: a settling night, not reported)
		if r["day"] == str(site_today()):
			same = r["check"] == base["check"]
			compared = (
				f"scores {'IDENTICAL to' if same else 'DIFFERENT from'} the {base['workers']}-worker run's"
			)
		else:  # a later day's scores are its own; what must hold is a row per customer, a copy each
			exact = r["check"]["rows"] == r["check"]["customers"] == book_customers == r["check"]["copies"]
			compared = f"rows {'exact' if exact else 'NOT EXACT'} (one per customer, each copied)"
		log(
			f"real RQ workers, {r['workers']}   {r['day']}{' (steady)' if r is rq_steady else ''}: "
			f"{r['seconds']:.1f} s = {r['seconds'] / r['floor']:.2f}x the read floor "
			f"measured before it ({r['floor']:.1f} s; {r['seconds'] / r['floor_without_terms']:.2f}x without the "
			f"terms scan), the alert rules in the chunks (alerts rewritten {r['alerts']['updated']}, raised "
			f"{r['alerts']['raised']}); {r['jobs']} jobs, each a fork on a connection of its own; MariaDB's CPU "
			+ (f"{r['server_cpu']:.1f} s" if r["server_cpu"] is not None else "not read")
			+ f"; {compared}"
		)
	for count in sorted({r["workers"] for r in rq_runs}):
		nights = [r for r in rq_runs if r["workers"] == count]
		if len(nights) > 1:
			seconds = [r["seconds"] for r in nights]
			ratios = [r["seconds"] / r["floor"] for r in nights]
			which = (
				"next-day nights (each the day after the one before)" if args.rq_day == "next" else "nights"
			)
			log(
				f"real RQ workers, {count}   {len(nights)} {which}: median {statistics.median(seconds):.1f} s "
				f"({min(seconds):.1f}-{max(seconds):.1f}), median {statistics.median(ratios):.2f}x the floor "
				f"measured before each ({min(ratios):.2f}-{max(ratios):.2f}x; without the terms scan median "
				f"{statistics.median(r['seconds'] / r['floor_without_terms'] for r in nights):.2f}x)"
			)
	if args.alerts:
		log_alert_summary(alert_figures, full_seconds, two["workers"], standalone)

	if not args.keep:
		log(f"\ncleaned up in {cleanup():.0f}s")


if __name__ == "__main__":
	main()
