"""Health recompute: ERPNext tables -> queries (aggregates) -> engine (scores) -> bulk writes.

One function, `score_range`, scores a range of customers; the nightly job, the model's
"Recompute All Customers" button and the Customer's "Recompute Health" button all use it.
"""

import time
from contextlib import contextmanager
from datetime import date
from operator import itemgetter

import frappe
from frappe import _
from frappe.query_builder.functions import Coalesce, Concat
from frappe.utils import add_days, get_first_day, getdate, now_datetime, nowdate

from customer_success.health import engine, queries
from customer_success.renewals import queries as renewal_queries
from customer_success.setup import sequences
from customer_success.usage import service as usage
from customer_success.utils import date_argument

# Customers a chunk. Each chunk pays a fixed cost whatever its size: the claim and close of its row
# and its fixed queries and commits (~73 ms of CPU); each job of the night pays ~73 ms more (the
# fork of its RQ worker, frappe's start and end of a job). When each chunk was a job, 2,000 made 50
# jobs of a 100k book: ~7.5 CPU-seconds, ~3.7 s of a 2-worker night on 2 cores, of which 4,000 saved
# half; back to back the night measured 12-15 s at 4,000 against 14-17 s at 2,000, with a job's peak
# memory ~12 MB higher (~86 MB in the fork), and 5,000 was no faster. Since a job takes the chunks
# still waiting once its own is done (`take_queued_chunk`), the forks are a few a worker whatever
# the size; 4,000 was not measured again against smaller chunks.
CHUNK_SIZE = 4000
STALE_RUN_HOURS = 6
LOCK_NAME = "customer_success_health_recompute"
WRITE_ATTEMPTS = 3  # a chunk's write phase chosen as a deadlock victim is written again


# --- models --------------------------------------------------------------------------------


# The factor specs of the models this process loaded last, by what they are made of (`spec_key`).
_SPECS: dict[tuple, list] = {}


def load_models() -> dict:
	"""{"default": model, "by_tier": {tier: model}} of enabled models, each with its factor specs.

	A model whose factor rows are as they were at the previous load in this process keeps the very
	same spec objects: the engine's plan for them (`engine._plan_for`, kept while its specs live)
	and the sub-scores it remembered carry on from one chunk to the next, where a chunk's fresh
	specs re-worked them (~13 ms of a chunk's ~55 ms of scoring). That holds in a process that scores
	chunk after chunk (an inline run, a pool of workers, an RQ job taking the chunks still waiting);
	each RQ job starts afresh, in a fork of its worker. A model edited since (any row, weight or parameter) gets new
	specs; the specs of models no longer loaded are let go."""
	models = {"default": None, "by_tier": {}}
	specs_now: dict[tuple, list] = {}
	for name in enabled_model_names():
		doc = frappe.get_cached_doc("Health Score Model", name)
		key = spec_key(doc)
		specs = specs_now.get(key) or _SPECS.get(key)
		if specs is None:
			specs = doc.factor_specs()
		specs_now[key] = specs
		entry = {"name": doc.name, "specs": specs, "green": doc.green_min, "red": doc.red_below}
		if doc.applies_to_tier:
			models["by_tier"].setdefault(doc.applies_to_tier, entry)
		if doc.is_default:
			models["default"] = entry
	_SPECS.clear()
	_SPECS.update(specs_now)
	return models


def enabled_model_names() -> list[str]:
	"""The enabled models' names, in order. A query of its own, not `frappe.get_all`: each job of
	the night runs in a fork of its RQ worker, and a process's first `get_all` with filters sets up
	frappe's SQL sanitiser (sqlparse's lexer, ~15 ms), in every job."""
	model = frappe.qb.DocType("Health Score Model")
	return (
		frappe.qb.from_(model)
		.select(model.name)
		.where(model.enabled == 1)
		.orderby(model.name)
		.run(pluck=True)
	)


def spec_key(doc) -> tuple:
	"""What a model's factor specs are made of (`HealthScoreModel.factor_specs`): its factor rows'
	type, weight, parameters and whether enabled, in order."""
	return (
		doc.name,
		tuple((row.factor_type, row.weight, row.parameters, row.enabled) for row in doc.factors),
	)


def model_for(models: dict, tier: str | None) -> dict | None:
	return models["by_tier"].get(tier or "") or models["default"]


def lookback(models: dict, factor_type: str, param: str = "lookback_days") -> int:
	"""The widest look-back any enabled model asks of a factor, so one query serves them all."""
	values = [
		engine.params_for(spec.factor_type, spec.params).get(param)
		for entry in [models["default"], *models["by_tier"].values()]
		if entry
		for spec in entry["specs"]
		if spec.factor_type == factor_type
	]
	values = [int(v) for v in values if v]
	return max(values) if values else int(engine.DEFAULT_PARAMS[factor_type].get(param, 90))


def uses_factor(models: dict, factor_type: str) -> bool:
	"""Whether any enabled model scores `factor_type` (else its facts need not be read)."""
	return any(
		spec.factor_type == factor_type
		for entry in [models["default"], *models["by_tier"].values()]
		if entry
		for spec in entry["specs"]
	)


# --- scoring -------------------------------------------------------------------------------


def raw_values(customer: dict, facts: dict, today: date, sentiment_validity_days: int) -> dict:
	"""The raw value of every factor for one customer, from the chunk's aggregated facts."""
	name = customer["name"]
	is_live = name in facts["live"]

	sla = facts["sla"].get(name)
	invoice = facts["invoices"].get(name)
	last_touch = facts["touches"].get(name)
	contract_end = facts["contracts"].get(name)

	payment = None
	change = None
	if invoice:
		oldest = invoice["oldest_overdue_due"]
		days_overdue = (today - getdate(oldest)).days if oldest else 0
		# how a customer pays is known once an invoice was paid or came due (or something is
		# overdue): a first bill not due yet shows nothing, good or bad
		if invoice.get("shown", 1) or invoice["overdue"] > 0:
			payment = engine.payment_raw(invoice["overdue"], invoice["revenue"], days_overdue)
		change = engine.revenue_change(invoice["recent"], invoice["previous"])

	return {
		engine.SUPPORT_LOAD: engine.support_load_raw(
			facts["open_issue_load"].get(name), is_live, name in facts["open_issue_load"]
		),
		engine.SLA_BREACHES: (sla["failed"] / sla["with_sla"]) if sla and sla["with_sla"] else None,
		engine.PAYMENT_BEHAVIOUR: payment,
		engine.REVENUE_TREND: change,
		engine.ENGAGEMENT_RECENCY: engine.engagement_raw(last_touch, today, is_live),
		engine.RENEWAL_PROXIMITY: (contract_end - today).days if contract_end else None,
		engine.OBJECTIVE_PROGRESS: facts["plan_progress"].get(name),
		engine.MILESTONE_PUNCTUALITY: facts["milestone_punctuality"].get(name),
		engine.NPS: (facts.get("nps", {}).get(name) or {}).get("score"),
		# no usage data: absent, so the factor is left out (never read as zero usage)
		engine.PRODUCT_USAGE: facts.get("usage", {}).get(name),
		engine.CSM_SENTIMENT: engine.sentiment_raw(
			customer.get("cs_csm_sentiment"),
			getdate(customer["cs_sentiment_on"]) if customer.get("cs_sentiment_on") else None,
			today,
			sentiment_validity_days,
		),
	}


def gather_facts(
	lo: str, hi: str, models: dict, today: date, trend_days: int, names: list[str] | None = None
) -> dict:
	"""Every aggregate the factors need, for all customers in the range: a handful of queries.
	`names`: the range's customers to be scored, when the caller has read them (the trend's read
	then looks back past its day for those without a score that day only: `queries.scores_around`)."""
	invoices = queries.invoice_facts(
		lo,
		hi,
		today,
		add_days(today, -lookback(models, engine.PAYMENT_BEHAVIOUR)),
		lookback(models, engine.REVENUE_TREND),
	)
	# every customer that has ever had an issue, with its open load (0 when none is open); and the
	# SLA counts of the look-back: one scan of the range's issues
	open_issue_load, sla = queries.issue_facts(
		lo,
		hi,
		engine.PRIORITY_WEIGHTS,
		engine.DEFAULT_PRIORITY_WEIGHT,
		add_days(today, -lookback(models, engine.SLA_BREACHES)),
	)
	# every customer with a submitted contract, with its latest end date (None without one)
	contract_ends = queries.contract_ends(lo, hi)
	return {
		# the invoiced and contracted customers are the billing and contract facts' own: the
		# invoices and the contracts are scanned once
		"live": queries.live_customers(lo, hi, invoiced=set(invoices), contracted=set(contract_ends)),
		"open_issue_load": open_issue_load,
		"sla": sla,
		"invoices": invoices,
		"touches": queries.last_touch_dates(lo, hi),
		"contracts": {name: end for name, end in contract_ends.items() if end is not None},
		"previous_scores": queries.scores_around(lo, hi, add_days(today, -trend_days), names=names),
		"plan_progress": queries.plan_progress(lo, hi),
		"milestone_punctuality": queries.milestone_punctuality(lo, hi, today),
		"nps": queries.latest_nps(lo, hi, add_days(today, -lookback(models, engine.NPS)))
		if uses_factor(models, engine.NPS)
		else {},
		"usage": usage.product_usage_raw(lo, hi, today, lookback(models, engine.PRODUCT_USAGE))
		if uses_factor(models, engine.PRODUCT_USAGE)
		else {},
	}


def trend_days(settings=None) -> int:
	"""The days back a score's trend (its `previous_scores`) compares with."""
	settings = settings or frappe.get_cached_doc("Customer Success Settings")
	return int(settings.health_trend_days or 30)


def score_range(
	lo: str,
	hi: str,
	today: date | None = None,
	models: dict | None = None,
	commit_writes: bool = False,
	chunk_hooks: bool = False,
) -> dict:
	"""Score every active customer from `lo` to `hi` (by name) and write the results.

	One customer's bad data is logged to the Error Log and skipped; the rest are written.
	Re-running the same day replaces that day's rows, but never with older news: a customer whose
	inputs a CSM changed, or who was scored again, after this range read its customers keeps the
	newer result (see `write_scores`). With `commit_writes` (the chunk jobs, which run side by
	side on several workers) the write phase is a READ COMMITTED transaction of its own, committed
	(`write_scores_committed`): the chunks write in parallel, with no lock shared between ranges.
	With `chunk_hooks` (a run's chunks, which also commit their writes), the rooms registered in
	`cs_after_health_chunk` then act on the range with the facts it read (the alert rules), once
	its scores are committed.
	"""
	today = getdate(today or nowdate())
	models = models or load_models()
	settings = frappe.get_cached_doc("Customer Success Settings")
	# Taken before the customers are read: the scores are as of this instant.
	computed_on = now_datetime()
	customers = queries.active_customers(lo, hi)
	facts = gather_facts(
		lo, hi, models, today, trend_days(settings), names=[customer["name"] for customer in customers]
	)
	rows, failed = [], []
	min_share = min_known_share(settings)
	for customer in customers:
		try:
			row = score_customer(
				customer,
				facts,
				models,
				today,
				int(settings.sentiment_validity_days or 30),
				min_known_share=min_share,
			)
		except Exception:
			failed.append(customer["name"])
			frappe.log_error(
				title=_("Health score failed for customer {0}").format(customer["name"]),
				reference_doctype="Customer",
				reference_name=customer["name"],
			)
			continue
		if row:
			row["computed_on"] = computed_on  # a dict of its own, made for this customer
			rows.append(row)
	write_retries = 0
	if commit_writes:
		skipped, write_retries, held = write_scores_committed(lo, hi, today, rows, customers, computed_on)
		if held:
			# not written: kept as they were, counted as not scored, and said once for the range
			held_names = sorted(held)
			rows = [row for row in rows if row["customer"] not in held]
			failed += held_names
			frappe.log_error(
				title=_("Health scores of {0} customers not written: another transaction held them").format(
					len(held_names)
				),
				message=_(
					"The recompute of {0} to {1} waited {2} seconds for these customers, which another transaction (a user's, an import) held, and wrote the rest: {3}. Their scores are written by the next recompute."
				).format(lo, hi, queries.NIGHT_LOCK_WAIT_SECONDS, ", ".join(held_names[:50])),
				reference_doctype="Customer",
				reference_name=held_names[0],
			)
	else:
		skipped = write_scores(lo, hi, today, rows, customers, computed_on)
	if chunk_hooks and commit_writes:
		call_after_chunk_hooks(
			lo=lo, hi=hi, today=today, facts=facts, rows=rows, customers=customers, skipped=skipped
		)
	return {"scored": len(rows), "failed": failed, "skipped": skipped, "write_retries": write_retries}


def write_scores_committed(
	lo: str, hi: str, today: date, rows: list[dict], customers: list[dict], computed_on
) -> tuple[list[str], int, set[str]]:
	"""A chunk's write phase (`write_scores`) as READ COMMITTED transactions, committed.

	Chunks of neighbouring ranges write side by side without any lock between them: under READ
	COMMITTED the locking reads and the Customer update lock the range's own records and no gap,
	and `upsert_scores` writes existing rows on their primary key and inserts the others (no
	next-key lock on the unique key). What each chunk locks is its own customers and their rows.
	Should the server still pick a transaction as a deadlock victim, it is written again, from
	the locking reads on (the scores in hand are still the range's as of `computed_on`).
	A customer another transaction holds (a user's long transaction, an import) is waited for a
	second (`queries.FIRST_LOCK_WAIT_SECONDS`), while the customers locked before it wait too; then
	the range is written without the customers held then, and those alone are waited for again,
	`queries.NIGHT_LOCK_WAIT_SECONDS`, the chunk holding nothing else (tester U: one row held by a
	script failed the chunk's 4,000 after the server's 50 seconds, and kept its CSMs waiting as long
	on the customers it had locked; tester U2: still ~5 s, on any customer of the range, and a
	customer a CSM had just scored herself was named held).
	Returns the skipped customers, how many times the write was retried, and the customers held.
	"""
	skipped, retries, held = write_attempts(
		lo, hi, today, rows, customers, computed_on, queries.FIRST_LOCK_WAIT_SECONDS
	)
	if held:
		more_skipped, more_retries, held = write_attempts(
			lo,
			hi,
			today,
			[row for row in rows if row["customer"] in held],
			[customer for customer in customers if customer["name"] in held],
			computed_on,
			queries.NIGHT_LOCK_WAIT_SECONDS,
		)
		skipped, retries = [*skipped, *more_skipped], retries + 1 + more_retries
	return skipped, retries, held


def write_attempts(
	lo: str, hi: str, today: date, rows: list[dict], customers: list[dict], computed_on, lock_wait: int
) -> tuple[list[str], int, set[str]]:
	"""`write_scores` in a READ COMMITTED transaction, committed: written again when chosen as a
	deadlock victim; when a customer another transaction holds was waited for `lock_wait` seconds,
	written again without the customers held then (found by a read that skips what it would wait
	for). Returns the skipped customers, the retries and the customers left out as held."""
	held: set[str] = set()
	for attempt in range(1, WRITE_ATTEMPTS + 1):
		begin_read_committed()
		try:
			skipped = write_scores(
				lo,
				hi,
				today,
				[row for row in rows if row["customer"] not in held] if held else rows,
				[customer for customer in customers if customer["name"] not in held] if held else customers,
				computed_on,
				lock_wait=lock_wait,
			)
			frappe.db.commit()  # nosemgrep: the chunk's scores are durable on their own
			return skipped, attempt - 1, held
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == WRITE_ATTEMPTS:
				raise
		except frappe.QueryTimeoutError:
			frappe.db.rollback()
			if attempt == WRITE_ATTEMPTS:
				raise
			begin_read_committed()
			held |= queries.held_by_others([c["name"] for c in customers if c["name"] not in held])
			frappe.db.rollback()  # nothing written: the skipping read's locks let go
	raise AssertionError("unreachable")


def begin_read_committed():
	"""End the current transaction (the chunk's reads: nothing written) and start one under READ
	COMMITTED. `set transaction` applies to the next transaction only: the one after stays at the
	session's level (REPEATABLE READ)."""
	frappe.db.commit()  # nosemgrep: only reads so far
	frappe.db.sql("commit")  # the empty transaction frappe.db.commit() opened
	frappe.db.sql("set transaction isolation level read committed")
	frappe.db.begin()


def call_after_chunk_hooks(**kwargs):
	"""Rooms that act on a freshly scored chunk (alerts) register in `cs_after_health_chunk` and get
	the facts it read, so they need not read them again. Called once the chunk's scores are
	committed; one failing is logged and never fails the chunk (the room retries its own work).
	They get the range (`lo`, `hi`, `today`), its `facts`, its `customers` as read, the `rows`
	scored and the customers `skipped` (their rows were not written: `write_scores`)."""
	for method in frappe.get_hooks("cs_after_health_chunk"):
		try:
			frappe.get_attr(method)(**kwargs)
		except Exception:
			frappe.db.rollback()  # only the hook's own writes: the scores are committed
			frappe.log_error(title=_("After health chunk hook {0} failed").format(method))


@contextmanager
def named_lock(name: str, timeout: int, message: str | None = None):
	"""A MariaDB user lock: shared by every worker on every machine that uses this database."""
	if not take_lock(name, timeout):
		frappe.throw(message or _("Could not take the lock {0} within {1} seconds.").format(name, timeout))
	try:
		yield
	finally:
		release_lock(name)


def site_lock_name(name: str) -> str:
	"""User locks are server-wide: the database name keeps the sites of one MariaDB server apart."""
	return f"{name}:{frappe.conf.db_name}"


def take_lock(name: str, timeout: int) -> bool:
	return bool(frappe.db.sql("select get_lock(%s, %s)", (site_lock_name(name), timeout))[0][0])


def release_lock(name: str):
	frappe.db.sql("select release_lock(%s)", site_lock_name(name))


def min_known_share(settings) -> float:
	"""The site's "Minimum Known Weight for a Colour" (percent); unset means the default."""
	value = settings.get("min_known_weight_share")
	return engine.DEFAULT_MIN_KNOWN_SHARE if value is None or value == "" else float(value)


def score_customer(
	customer: dict,
	facts: dict,
	models: dict,
	today: date,
	sentiment_validity_days: int,
	min_known_share: float = engine.DEFAULT_MIN_KNOWN_SHARE,
) -> dict | None:
	"""One customer's row. Too little known gives status Insufficient Data (the row is still
	written, so a colour from an earlier day never lingers on the Customer); its score column
	then holds what the known factors add up to, for the explanation only."""
	model = model_for(models, customer.get("cs_tier"))
	if not model:
		return None
	raw = raw_values(customer, facts, today, sentiment_validity_days)
	# compute_health's score and status and its stored explanation, without the FactorResults
	computed_score, computed_status, explanation = engine.score_explained(
		raw, model["specs"], model["green"], model["red"], min_known_share
	)
	# An override is active while it has an expiry date (the score itself may legitimately be 0).
	override_until = getdate(customer["cs_override_until"]) if customer.get("cs_override_until") else None
	score, is_override = engine.effective_score(
		computed_score, customer.get("cs_health_override"), override_until, today
	)
	status = engine.final_status(computed_status, score, is_override, model["green"], model["red"])
	known = status != engine.INSUFFICIENT_DATA
	return {
		"customer": customer["name"],
		"customer_name": customer.get("customer_name"),
		"csm": customer.get("cs_owner"),
		"model": model["name"],
		"score_date": today,
		"granularity": "Daily",
		"score": score,
		"status": status,
		"computed_score": computed_score,
		"computed_status": computed_status,
		# Float columns are NOT NULL in frappe: an unknown trend is stored as no change.
		"trend": (engine.trend(score, facts["previous_scores"].get(customer["name"])) if known else None)
		or 0.0,
		"is_override": int(is_override),
		"override_reason": customer.get("cs_override_reason") if is_override else None,
		"override_until": override_until if is_override else None,
		"explanation": explanation,
	}


def write_scores(
	lo: str,
	hi: str,
	today: date,
	rows: list[dict],
	customers: list[dict] | None = None,
	computed_on=None,
	lock_wait: int | None = None,
) -> list[str]:
	"""Upsert the day's scores of the range in bulk, then copy them onto the Customers.

	`customers` are the inputs as read at `computed_on` (the rows' own `computed_on`). A customer
	scored again since then (its day's row is newer) or whose health inputs changed since then (a
	CSM's override or sentiment) is left alone: an older read never replaces newer news. Returns
	those customers. The locking read of `changed_since` holds the range's Customers and their
	day's rows until the caller commits: a CSM's recompute of one of them (which updates or locks
	its Customer first) waits for this write, or this write sees its newer result and skips it.
	Every statement reaches its rows by exact keys, never by a range of names (`lo`..`hi` only
	label the range), so it locks nothing of a neighbouring range.
	Without `computed_on` (a benchmark timing the bare writes) every row is written.
	"""
	stale, existing, locked = (
		changed_since(today, customers or [], computed_on, lock_wait) if computed_on else (set(), {}, None)
	)
	rows = [
		{**row, "name": existing[(row["customer"], row["model"])][0]}
		if (row["customer"], row["model"]) in existing
		else row
		for row in rows
		if row["customer"] not in stale
	]
	queries.upsert_scores(rows, named_existing=bool(computed_on))
	# the book roll-up (team cards) takes the difference, inserted: no row shared between chunks
	if locked is None:
		with recording_book_counts([row["customer"] for row in rows]):
			queries.copy_scores_to_customers(rows)
	else:
		queries.copy_scores_to_customers(rows)
		record_copied_book_counts(locked, rows)
	return sorted(stale)


def recording_book_counts(names: list[str]):
	from customer_success.customer_success.book_counts import recording

	return recording(names)


def record_copied_book_counts(locked: dict[str, dict], rows: list[dict]):
	"""The book roll-up's difference from the Customers as the write phase locked them (`locked`)
	and the values it copied onto them: the same figures as reading them again, without the reads."""
	from customer_success.customer_success.book_counts import record_copies

	record_copies(
		locked,
		[
			{
				"customer": row["customer"],
				"cs_health_status": row.get("status"),
				"cs_health_score": queries.copied_score(row),
			}
			for row in rows
		],
	)


def changed_since(
	today: date, customers: list[dict], computed_on, lock_wait: int | None = None
) -> tuple[set[str], dict[tuple[str, str], tuple], dict[str, dict]]:
	"""Of `customers` (as read at `computed_on`), those whose health inputs are no longer what they
	were read as, or whose day's score is newer than `computed_on`; their day's rows as they
	stand, so existing ones are written on their primary key; and the Customers as locked (inputs
	and the book roll-up's keys).

	One locking read (`queries.lock_customers_and_day_scores`), each Customer before its own score
	rows (the one lock order of every score writer): it sees what others committed after this
	transaction's first read, and holds those rows until the write is committed."""
	names = [customer["name"] for customer in customers]
	locked, existing = queries.lock_customers_and_day_scores(names, today, lock_wait)
	changed = set()
	inputs_of = itemgetter(*queries.HEALTH_INPUTS)  # the inputs as a tuple, taken in C
	for customer in customers:
		now = locked.get(customer["name"])
		if now is None:
			changed.add(customer["name"])
			continue
		try:
			read = inputs_of(customer)
		except KeyError:  # read without some input (a caller's own dict): it was read as None
			read = tuple(customer.get(f) for f in queries.HEALTH_INPUTS)
		if inputs_of(now) != read:
			changed.add(customer["name"])
	newer = {customer for (customer, _model), (_name, at) in existing.items() if at and at > computed_on}
	return newer | changed, existing, locked


# --- history and overrides -----------------------------------------------------------------


def prune_history(today: date | None = None, retention_days: int | None = None):
	"""Keep daily rows for the retention period, then one row per customer per month.

	Only whole months before the cutoff are compacted, so each month is compacted once.
	"""
	today = getdate(today or nowdate())
	retention_days = int(
		retention_days
		or frappe.db.get_single_value("Customer Success Settings", "health_history_retention_days")
		or 180
	)
	cutoff = get_first_day(add_days(today, -retention_days))
	queries.compact_history(cutoff)


def lapse_expired_overrides(today: date | None = None):
	queries.lapse_overrides_before(getdate(today or nowdate()))


# --- runs: the lock, the chunks, the progress ------------------------------------------------

RUN = "Health Recompute Run"
CHUNK = "Health Recompute Run Chunk"
ACTIVE_RUN_STATUSES = ("Queued", "Running")
OPEN_CHUNK_STATUSES = ("Queued", "Running")
MAX_CHUNK_ATTEMPTS = 2  # the first attempt and one retry
CHUNK_TIMEOUT = 3600
# A chunk job takes further waiting chunks of its run for this long at most (from the job's start),
# then leaves the rest to their own jobs: ~60 chunks of 4,000 a fork. A worker sees its other queues
# between two jobs only: a job also stops taking chunks as soon as a job waits on a queue its worker
# would take from before the long queue (`other_queues`).
TAKE_CHUNKS_FOR = 60
OTHER_QUEUES = ("short", "default")
TAKE_CANDIDATES = 4  # waiting chunks read at a time; another job may take each first


def start_recompute(
	trigger: str = "Nightly", now: bool | None = None, score_date=None, later_day: bool = False
):
	"""Start a recompute of every active customer, unless one is already running.

	`score_date`: the day scored (today when not given). Another day only with `later_day` and a day
	after today: the benchmark scores the days after today to time the nights that follow one
	another, when the scores move with the date windows. (A later day's rows would be every
	customer's latest score, and its tidy-up would have compacted the history and lapsed overrides
	as of that day: `tidy_history` now never goes past today either.)

	A run record is the lock: while one is Queued or Running, a second start is recorded as
	Skipped and logged. Each chunk is a row of the run and its own job on the long queue; before
	deciding, the watchdog (`check_runs`) retries or fails the chunks of a run whose jobs died.
	Only tests and explicit callers (`now=True`: the demo, a console) score inline. Anything else,
	a web request or the scheduler, queues the chunks even when no worker listens on the long
	queue yet: the run is then Queued until one does.
	"""
	if now is None:
		now = bool(frappe.flags.in_test)
	if score_date not in (None, ""):
		day, today = date_argument(score_date, _("Score Date")), getdate(nowdate())
		if day != today and not (later_day and day > today):
			frappe.throw(
				_("A recompute scores today ({0}), not {1}.").format(
					frappe.format(today, "Date"), frappe.format(day, "Date")
				),
				title=_("Score Date"),
			)
	with named_lock(LOCK_NAME, timeout=10):
		check_runs()
		run_table = frappe.qb.DocType(RUN)
		active_runs = (
			frappe.qb.from_(run_table)
			.select(run_table.name, run_table.status)
			.where(is_active_run(run_table))
			.orderby(run_table.name)
			.limit(1)
			.run()
		)
		active, active_status = active_runs[0] if active_runs else (None, None)
		if active and active_status == "Queued" and now and not long_queue_worker_count():
			# queued (by the desk's button, or the night) and no worker to take it: scored here
			run = take_over_queued_run(active)
			chunks = [row for row in run.chunks if row.status == "Queued"]
		elif active:
			message = (
				_("Run {0} is still queued, waiting for a worker on the long queue; this start was skipped.")
				if active_status == "Queued"
				else _("Run {0} is still in progress; this start was skipped.")
			)
			run = new_run(trigger, "Skipped", message.format(active))
			frappe.logger("customer_success").info(f"health recompute skipped: run {active} in progress")
			frappe.db.commit()  # nosemgrep: the skipped run is the record of the refused start
			return run
		else:
			# a score row named by hand above the sequence would fail the chunks that reach its name
			sequences.catch_up()
			chunks = queries.customer_chunks(CHUNK_SIZE)
			workers = 0 if now or not chunks else long_queue_worker_count()
			if not chunks:
				status = "Completed"
			else:
				status = "Running" if now or workers else "Queued"
			if chunks and not now:
				chunks = balanced_chunks(chunks, workers)
			run = new_run(trigger, status, None, chunks=chunks, inline=now, score_date=score_date)
			frappe.db.commit()  # nosemgrep: the run (the lock) and its chunks must be visible to the jobs
			if chunks and not now:
				# Queued inside the lock: the watchdog never sees a chunk whose job is not queued yet.
				for row in run.chunks:
					enqueue_chunk(run.name, row.chunk_index, row.range_from, row.range_to, attempt=1)
			chunks = run.chunks if chunks else []
	try:
		if not chunks:
			finish_run(run.name)
		elif now:
			for row in chunks:
				run_chunk(
					run.name, row.range_from, row.range_to, chunk=row.chunk_index, attempt=row.attempts or 1
				)
			leave_to_jobs(run.name)
	finally:
		if now:
			release_lock(inline_lock_name(run.name))
	return frappe.get_doc(RUN, run.name)


def leave_to_jobs(run):
	"""An inline start has scored what it could: a chunk still Running is a worker's job's, which
	claimed it before the inline start took the run over (`take_over_queued_run`). The run is then
	the job's to finish, and the watchdog's to watch through it, as any queued run: no longer inline,
	whose lock this process now releases (tester U2: the watchdog then failed a run a worker was
	still scoring, "2050 customers were not scored", and refused the job's record of them)."""
	run_row = lock_run(run)
	table = frappe.qb.DocType(CHUNK)
	running = (
		frappe.qb.from_(table)
		.select(table.chunk_index)
		.where(chunks_of(table, run) & (table.status == "Running"))
		.run(pluck=True)
		if run_row and run_row.runs_inline and run_row.status in ACTIVE_RUN_STATUSES
		else []
	)
	if running:
		frappe.db.set_value(
			RUN,
			run,
			{
				"runs_inline": 0,
				"message": _(
					"Scored inline but for chunks a worker's job took first: the job finishes the run."
				),
			},
		)
	frappe.db.commit()  # nosemgrep: release the run's row lock


def take_over_queued_run(name):
	"""A run queued with no worker on the long queue (the desk's button, or the night, on a site
	whose workers are not running), taken by an inline start (a console, the demo): it runs here,
	held by this process's lock as an inline run is, and its queued jobs are dropped (a worker that
	comes later finds its chunks taken). Without this, every inline start was skipped until the
	watchdog failed the run, hours later."""
	frappe.db.set_value(
		RUN,
		name,
		{
			"status": "Running",
			"runs_inline": 1,
			"message": _("No worker listened on the long queue: taken up and scored by an inline start."),
		},
	)
	take_lock(inline_lock_name(name), 0)
	frappe.db.commit()  # nosemgrep: the run is this process's before its jobs are dropped
	run = frappe.get_doc(RUN, name)
	for row in run.chunks:
		if row.status == "Queued":
			drop_queued_job(chunk_job_id(name, row.chunk_index, row.attempts or 1))
	return run


def inline_lock_name(run) -> str:
	return f"cs_health_inline_run_{run}"


def fail_stopped_inline_runs():
	"""Runs scored inline (a console, the demo) whose process stopped (its connection, and with it
	the run's lock, is gone) are failed with their open chunks, at once: such a run held every later
	start off for STALE_RUN_HOURS."""
	run = frappe.qb.DocType(RUN)
	inline = (
		frappe.qb.from_(run)
		.select(run.name)
		.where(is_active_run(run) & (run.runs_inline == 1))
		.run(pluck=True)
	)
	stopped = [
		name
		for name in inline
		if frappe.db.sql("select is_free_lock(%s)", site_lock_name(inline_lock_name(name)))[0][0]
	]
	if stopped:
		fail_runs(
			stopped,
			_(
				"Marked failed: the process scoring it stopped before it finished (its chunks still open are failed). Start the recompute again."
			),
			is_active_run(run) & (run.runs_inline == 1),
		)


def fail_runs(names: list, message: str, still):
	"""Fail these runs (those of them that `still` holds for) and their chunks still open, each
	UPDATE reaching its rows by name, and end each as a run whose chunks failed ends
	(`finish_run`): its counts say how many customers were not scored, the Error Log says which
	ranges, and what follows a run (its alerts' leftover ranges, the history's tidying) follows it.
	A stopped inline run was recorded Failed with no counts, no Error Log and nothing after it: its
	ranges' alerts waited for the next night (tester U)."""
	run = frappe.qb.DocType(RUN)
	chunk = frappe.qb.DocType(CHUNK)
	now = now_datetime()
	(
		frappe.qb.update(run)
		.set(run.status, "Failed")
		.set(run.finished_at, now)
		.set(run.message, message)
		.where(run.name.isin(names) & still)
		.run()
	)
	failed = (
		frappe.qb.from_(run)
		.select(run.name, run.score_date, run.chunks_total)
		.where(run.name.isin(names) & (run.status == "Failed") & (run.finished_at == now))
		.run(as_dict=True)
	)
	if not failed:
		return
	open_chunks = (
		frappe.qb.from_(chunk)
		.select(chunk.name, chunk.parent, chunk.customers, chunk.range_from, chunk.range_to)
		.where(chunks_of(chunk, *(r.name for r in failed)) & chunk.status.isin(OPEN_CHUNK_STATUSES))
		.run(as_dict=True)
	)
	if open_chunks:  # each one's customers not scored: one UPDATE, by name
		(
			frappe.qb.update(chunk)
			.set(chunk.status, "Failed")
			.set(chunk.finished_at, now)
			.set(chunk.customers_scored, 0)
			.set(chunk.customers_failed, Coalesce(chunk.customers, 0))
			.where(chunk.name.isin([row.name for row in open_chunks]))
			.run()
		)
	for record in failed:
		left = [row for row in open_chunks if str(row.parent) == str(record.name)]
		unscored = sum(row.customers or 0 for row in left)
		if left:
			(
				frappe.qb.update(run)
				.set(run.chunks_done, run.chunks_done + len(left))
				.set(run.chunks_failed, run.chunks_failed + len(left))
				.set(run.customers_failed, run.customers_failed + unscored)
				.where(run.name == record.name)
				.run()
			)
			frappe.log_error(
				title=_("Health recompute: run {0} failed with {1} chunks unfinished").format(
					record.name, len(left)
				),
				message=_(
					"{0} The customers of these ranges were not scored and keep their earlier scores until the next run: {1}"
				).format(
					message,
					"; ".join(_("{0} to {1}").format(row.range_from, row.range_to) for row in left[:20]),
				),
				reference_doctype=RUN,
				reference_name=record.name,
			)
		frappe.db.set_value(
			RUN,
			record.name,
			"message",
			_("{0} {1} of {2} chunks did not finish: {3} customers were not scored.").format(
				message, len(left), record.chunks_total or 0, unscored
			)
			if left
			else message,
			update_modified=False,
		)
	frappe.db.commit()  # nosemgrep: the runs are failed and counted before what follows them
	for record in failed:
		call_after_run_hooks(record.name, "Failed", record.score_date)
		enqueue_tidy_history(record.name, record.score_date, now=bool(frappe.flags.in_test))


def is_active_run(run_table):
	"""The runs the lock and the watchdog look after: every Queued or Running run of the site."""
	return run_table.status.isin(ACTIVE_RUN_STATUSES)


def long_queue_worker_count() -> int:
	"""The workers listening on the long queue (0 when its Redis cannot be reached: nothing would
	run the jobs either)."""
	from frappe.utils.background_jobs import get_queue, get_workers

	try:
		return len(get_workers(get_queue("long")))
	except Exception:
		return 0


def balanced_chunks(chunks: list[dict], workers: int) -> list[dict]:
	"""The run's chunks split again among the long queue's `workers` (`engine.balanced_chunk_sizes`):
	as many as a multiple of them, their sizes differing by at most one, so none waits at the end
	of the night while another runs the last one alone. Unchanged when they already share the work
	evenly (one worker, one chunk, or equal chunks whose count the workers divide)."""
	sizes = engine.balanced_chunk_sizes(sum(chunk["customers"] for chunk in chunks), workers, CHUNK_SIZE)
	if sizes is None:
		return chunks
	return queries.customer_chunks(CHUNK_SIZE, sizes=sizes)


def new_run(
	trigger: str,
	status: str,
	message: str | None,
	chunks_total: int = 0,
	chunks: list[dict] | None = None,
	inline: bool = False,
	score_date=None,
):
	"""The run record, with one row per chunk (`chunks`: dicts of lo, hi, customers), scoring
	`score_date` (today when not given)."""
	chunks = chunks or []
	run = frappe.get_doc(
		{
			"doctype": RUN,
			"status": status,
			"trigger": trigger,
			"score_date": getdate(score_date or nowdate()),
			"started_by": frappe.session.user,
			"started_at": now_datetime(),
			# a start that was skipped is over as it is recorded
			"finished_at": now_datetime() if status == "Skipped" else None,
			"chunks_total": len(chunks) or chunks_total,
			"runs_inline": int(bool(inline)),
			"message": message,
			"chunks": [
				{
					"chunk_index": index,
					"range_from": chunk["lo"],
					"range_to": chunk["hi"],
					"customers": chunk["customers"],
					"status": "Queued",
					"attempts": 1,
				}
				for index, chunk in enumerate(chunks)
			],
		}
	)
	run.insert(ignore_permissions=True)
	if inline and status in ACTIVE_RUN_STATUSES:
		# held by this process's connection while it scores the run: the watchdog finds the run
		# dead at once when the process stopped (`fail_stopped_inline_runs`), not 6 hours later
		take_lock(inline_lock_name(run.name), 0)
	if chunks:
		table = frappe.qb.DocType(CHUNK)
		(
			frappe.qb.update(table)
			.set(
				table.job_id, Concat("cs-health-", table.parent, "-", table.chunk_index, "-", table.attempts)
			)
			.where(chunks_of(table, run.name))
			.run()
		)
	return run


def chunks_of(table, *runs):
	"""The criterion of the chunk rows of these runs. `parent` is a text column and a run's name a
	number: the names are compared as text, so the `parent` index finds the runs' rows. Compared as a
	number, every chunk row of every run was converted and read (and, in a locking read, locked): a
	scan that grew with each night's run, in every claim and close of a chunk."""
	names = [str(run) for run in runs]
	parent = table.parent == names[0] if len(names) == 1 else table.parent.isin(names)
	return parent & (table.parenttype == RUN)


def chunk_job_id(run, chunk: int, attempt: int) -> str:
	"""The RQ job id of one attempt at one chunk, the chunk row's `job_id` until another job takes
	the chunk (`take_queued_chunk`): the watchdog asks RQ about the job the row names."""
	return f"cs-health-{run}-{chunk}-{attempt}"


def enqueue_chunk(run, chunk: int, lo: str, hi: str, attempt: int, now: bool = False):
	if now:
		run_chunk(run, lo, hi, chunk=chunk, attempt=attempt)
		return
	frappe.enqueue(
		"customer_success.health.service.run_chunk",
		queue="long",
		timeout=CHUNK_TIMEOUT,
		job_id=chunk_job_id(run, chunk, attempt),
		deduplicate=True,
		now=False,
		run=run,
		lo=lo,
		hi=hi,
		chunk=chunk,
		attempt=attempt,
	)


def run_chunk(run: str, lo: str, hi: str, chunk: int | None = None, attempt: int = 1):
	"""One chunk of a run: score the range, record the chunk, and finish the run if it was the last.
	Run as the RQ job queued for this attempt, the job then takes the run's chunks still waiting for
	their first job, one after another (`take_queued_chunk`), until none is left: a night forks a
	job per worker, not per chunk.

	A chunk that raises is retried once; a second failure fails the chunk with all its customers.
	An attempt that is not the chunk's current one (the watchdog retried it meanwhile, or another
	job took the chunk) does nothing.
	"""
	until = time.monotonic() + TAKE_CHUNKS_FOR
	if chunk is None:
		chunk = chunk_at(run, lo)  # a job queued with the range only (benchmarks, a console)
	job_id = None if chunk is None else running_job_id(chunk_job_id(run, chunk, attempt))
	if chunk is not None and claim_chunk(run, chunk, attempt, by_job=bool(job_id)):
		if not score_claimed_chunk(run, chunk, attempt, lo, hi):
			return  # a failed chunk: the rest are left to their own jobs, in fresh processes
	if not job_id:
		return
	queues = other_queues()
	while time.monotonic() < until and not other_jobs_waiting(queues):
		taken = take_queued_chunk(run, job_id)
		if not taken:
			return
		fresh_process_caches()
		if not score_claimed_chunk(run, taken.chunk_index, taken.attempts, taken.range_from, taken.range_to):
			return


def score_claimed_chunk(run: str, chunk: int, attempt: int, lo: str, hi: str) -> bool:
	"""Score a chunk this job holds (Running for `attempt`), record it, finish the run if it was the
	last. False when the scoring raised (the chunk is then retried or failed)."""
	try:
		result = score_range(
			lo, hi, today=frappe.db.get_value(RUN, run, "score_date"), commit_writes=True, chunk_hooks=True
		)
	except Exception:
		frappe.db.rollback()
		frappe.log_error(
			title=_("Health recompute chunk {0} to {1} failed").format(lo, hi),
			reference_doctype=RUN,
			reference_name=run,
		)
		retry_or_fail_chunk(run, chunk, attempt)
		return False
	if not record_chunk_done(run, chunk, attempt, result):
		return True  # the watchdog gave up on this attempt meanwhile: the retry records the chunk
	publish_run_progress(run)
	finish_run_if_done(run)
	return True


def other_queues() -> list | None:
	"""The queues whose waiting jobs the worker running this job would take before the long queue's
	next job: those it lists before `long` (RQ takes from a worker's queues in their order, between
	two of its jobs only). An empty list for production's long worker (`--queue long,default,short`);
	short and default for `bench worker` with no `--queue` (short, default, long), and when the
	worker is not found; None when Redis cannot be asked. (A worker started with another
	`--strategy` is not told apart.)"""
	from frappe.utils.background_jobs import get_queue
	from rq import get_current_job
	from rq.worker import Worker

	try:
		long_queue = get_queue("long")
		job = get_current_job()
		worker = (
			Worker.find_by_key(
				Worker.redis_worker_namespace_prefix + job.worker_name, connection=long_queue.connection
			)
			if job and job.worker_name
			else None
		)
		if worker:
			names = [queue.name for queue in worker.queues]
			before_long = names.index(long_queue.name) if long_queue.name in names else len(names)
			return worker.queues[:before_long]
		return [get_queue(name) for name in OTHER_QUEUES]
	except Exception:
		return None


def other_jobs_waiting(queues: list | None) -> bool:
	"""Whether a job waits on one of `queues` (`other_queues`); True when that cannot be told."""
	if queues is None:
		return True
	try:
		return any(queue.count for queue in queues)
	except Exception:
		return True


def fresh_process_caches():
	"""Forget what this job remembered of the site, as frappe does between two requests (cached
	documents and values, the alert rules' CS Manager): a chunk taken later sees the models,
	settings and users as edited meanwhile, as a chunk in a job of its own does."""
	frappe.local.cache = {}
	frappe.db.value_cache.clear()  # get_value(cache=True), get_single_value: the settings
	frappe.local.flags.pop("cs_alert_cache", None)


def running_job_id(job_id: str) -> str | None:
	"""`job_id` when this code runs as that RQ job (None inline, in a test, in a console)."""
	from frappe.utils.background_jobs import create_job_id
	from rq import get_current_job

	job = get_current_job()
	return job_id if job and job.id == create_job_id(job_id) else None


def take_queued_chunk(run, job_id: str) -> dict | None:
	"""Take the run's first chunk still waiting for its first job: mark it Running for this job
	(`job_id`, which the watchdog then asks RQ about), and drop its own job from the queue, so no
	worker forks for it. Retries are left to their own jobs (a fresh process). The chunk's own job,
	should a worker have dequeued it meanwhile, finds the chunk taken (and takes what still waits).
	Returns the chunk taken (index, attempts, range), or None when none is left or the run is over."""
	table = frappe.qb.DocType(CHUNK)
	while True:
		# a fresh read each round (the attempts below commit): the chunks waiting now
		waiting = (
			frappe.qb.from_(table)
			.select(table.chunk_index)
			.where(chunks_of(table, run) & (table.status == "Queued") & (table.attempts == 1))
			.orderby(table.chunk_index)
			.limit(TAKE_CANDIDATES)
			.run(pluck=True)
		)
		if not waiting:
			return None
		for index in waiting:
			run_row = lock_run(run)
			if not run_row or run_row.status not in ACTIVE_RUN_STATUSES or run_row.runs_inline:
				frappe.db.commit()  # nosemgrep: release the row lock (an inline start scores the rest)
				return None
			row = lock_chunk(run, index)
			if not row or row.status != "Queued" or row.attempts != 1:
				frappe.db.commit()  # nosemgrep: release the row locks (another job took it)
				continue
			(
				frappe.qb.update(table)
				.set(table.status, "Running")
				.set(table.started_at, now_datetime())
				.set(table.job_id, job_id)
				.where(table.name == row.name)
				.run()
			)
			run_table = frappe.qb.DocType(RUN)
			frappe.qb.update(run_table).set(run_table.modified, now_datetime()).where(
				run_table.name == run
			).run()
			frappe.db.commit()  # nosemgrep: the chunk is this job's before its own job is dropped
			drop_queued_job(chunk_job_id(run, index, 1))
			return frappe._dict(
				chunk_index=index, attempts=1, range_from=row.range_from, range_to=row.range_to
			)


DROP_QUEUED_JOB_SCRIPT = """
if redis.call('lrem', KEYS[1], 1, ARGV[1]) > 0 then
	redis.call('del', KEYS[2], KEYS[3])
	return 1
end
return 0
"""


def drop_queued_job(job_id: str) -> bool:
	"""Remove a job still waiting on the long queue, and its record (True when it was waiting). A
	job a worker has dequeued already is left to run (it finds its chunk taken); an unreachable
	Redis is logged and changes nothing."""
	from frappe.utils.background_jobs import create_job_id, get_queue
	from rq.job import Job

	try:
		queue = get_queue("long")
		rq_id = create_job_id(job_id)
		# one step in Redis: the job's record goes only with its place in the queue (a job a worker
		# dequeued meanwhile keeps it), and never stays behind it
		return bool(
			queue.connection.eval(
				DROP_QUEUED_JOB_SCRIPT, 3, queue.key, Job.key_for(rq_id), Job.dependents_key_for(rq_id), rq_id
			)
		)
	except Exception:
		frappe.log_error(title=_("Health recompute could not drop the queued job {0}").format(job_id))
		return False


def chunk_at(run, lo: str) -> int | None:
	table = frappe.qb.DocType(CHUNK)
	rows = (
		frappe.qb.from_(table)
		.select(table.chunk_index)
		.where(chunks_of(table, run) & (table.range_from == lo))
		.run(pluck=True)
	)
	return rows[0] if rows else None


# Lock order: the run's row first, then its chunks' rows, in every function that locks both, so
# two chunks closing and a finisher never wait on each other in a circle.


def lock_run(run) -> dict | None:
	"""The run's row, locked until the next commit (always before any of its chunks' rows)."""
	return frappe.db.get_value(RUN, run, ["status", "runs_inline"], as_dict=True, for_update=True)


def lock_chunk(run, chunk: int) -> dict | None:
	"""The chunk's row, locked until the next commit: one writer decides what becomes of it.
	Take the run's row first (`lock_run`)."""
	table = frappe.qb.DocType(CHUNK)
	rows = (
		frappe.qb.from_(table)
		.select(
			table.name,
			table.status,
			table.attempts,
			table.range_from,
			table.range_to,
			table.customers,
			table.job_id,
		)
		.where(chunks_of(table, run) & (table.chunk_index == chunk))
		.for_update()
		.run(as_dict=True)
	)
	return rows[0] if rows else None


def claim_chunk(run, chunk: int, attempt: int, by_job: bool = False) -> bool:
	"""Mark the chunk Running for this attempt, if it is still waiting for exactly this attempt. A
	job (`by_job`) claims no chunk of a run an inline start has taken over: that process scores it."""
	run_row = lock_run(run)
	row = lock_chunk(run, chunk)
	if (
		not run_row
		or run_row.status not in ACTIVE_RUN_STATUSES
		or (by_job and run_row.runs_inline)
		or not row
		or row.status != "Queued"
		or row.attempts != attempt
	):
		frappe.db.commit()  # nosemgrep: release the row lock
		return False
	table = frappe.qb.DocType(CHUNK)
	frappe.qb.update(table).set(table.status, "Running").set(table.started_at, now_datetime()).where(
		table.name == row.name
	).run()
	run_table = frappe.qb.DocType(RUN)
	(
		frappe.qb.update(run_table)
		.set(run_table.status, "Running")
		.set(run_table.modified, now_datetime())
		.where(run_table.name == run)
		.run()
	)
	frappe.db.commit()  # nosemgrep: the claim is what the watchdog and a duplicate job see
	return True


def record_chunk_done(run, chunk: int, attempt: int, result: dict) -> bool:
	"""Close the chunk as Done, if it is still Running for exactly this attempt.

	An attempt the watchdog judged dead may finish after all: its scores stand, but the chunk and
	the run's totals belong to the retry, so nothing is counted twice.
	"""
	lock_run(run)
	row = lock_chunk(run, chunk)
	if not row or row.status != "Running" or row.attempts != attempt:
		frappe.db.commit()  # nosemgrep: release the row locks
		return False
	table = frappe.qb.DocType(CHUNK)
	(
		frappe.qb.update(table)
		.set(table.status, "Done")
		.set(table.finished_at, now_datetime())
		.set(table.customers_scored, result["scored"])
		.set(table.customers_failed, len(result["failed"]))
		.where(table.name == row.name)
		.run()
	)
	add_to_run(run, scored=result["scored"], failed=len(result["failed"]))
	frappe.db.commit()  # nosemgrep: each chunk's scores and progress are durable on their own
	return True


def add_to_run(run, scored: int = 0, failed: int = 0, chunks_failed: int = 0):
	"""Count a closed chunk into the run's totals, atomically (chunks close side by side)."""
	table = frappe.qb.DocType(RUN)
	(
		frappe.qb.update(table)
		.set(table.chunks_done, table.chunks_done + 1)
		.set(table.chunks_failed, table.chunks_failed + chunks_failed)
		.set(table.customers_scored, table.customers_scored + scored)
		.set(table.customers_failed, table.customers_failed + failed)
		.set(table.modified, now_datetime())
		.where(table.name == run)
		.run()
	)


def retry_or_fail_chunk(run, chunk: int, attempt: int | None = None, job_id: str | None = None) -> str | None:
	"""A chunk whose attempt died or raised: queue it once more, or else fail it with its customers.
	`job_id`: the job the caller found dead (the watchdog); a chunk another job took meanwhile
	(`take_queued_chunk`) is that job's, and left alone.

	Returns "Retried", "Failed", or None when the chunk had moved on (done, retried already, taken).
	"""
	run_row = lock_run(run)
	row = lock_chunk(run, chunk)
	if (
		not row
		or row.status not in OPEN_CHUNK_STATUSES
		or (attempt is not None and row.attempts != attempt)
		or (job_id is not None and running_in(frappe._dict(row, parent=run, chunk_index=chunk)) != job_id)
	):
		frappe.db.commit()  # nosemgrep: release the row lock
		return None
	table = frappe.qb.DocType(CHUNK)
	if row.attempts < MAX_CHUNK_ATTEMPTS:
		next_attempt = row.attempts + 1
		(
			frappe.qb.update(table)
			.set(table.status, "Queued")
			.set(table.attempts, next_attempt)
			.set(table.job_id, chunk_job_id(run, chunk, next_attempt))
			.set(table.started_at, None)
			.where(table.name == row.name)
			.run()
		)
		inline = bool(frappe.flags.in_test) or bool(run_row and run_row.runs_inline)
		if inline:
			frappe.db.commit()  # nosemgrep
			enqueue_chunk(run, chunk, row.range_from, row.range_to, next_attempt, now=True)
		else:
			# Queued before the commit: the new job waits on this row's lock, and the watchdog sees
			# the new attempt only once its job exists.
			enqueue_chunk(run, chunk, row.range_from, row.range_to, next_attempt)
			frappe.db.commit()  # nosemgrep
		return "Retried"
	(
		frappe.qb.update(table)
		.set(table.status, "Failed")
		.set(table.finished_at, now_datetime())
		.set(table.customers_scored, 0)
		.set(table.customers_failed, row.customers)
		.where(table.name == row.name)
		.run()
	)
	add_to_run(run, failed=row.customers or 0, chunks_failed=1)
	if job_id is not None:
		# the watchdog found its job gone: nothing raised, so nothing else says why (the run's
		# message points to the Error Log)
		frappe.log_error(
			title=_("Health recompute: chunk {0} of run {1} failed").format(chunk, run),
			message=_(
				"The job scoring customers {0} to {1} ({2}) stopped in each of its {3} attempts without finishing (a timeout, the worker running out of memory, or a worker restart). Those customers keep their earlier scores until the next run."
			).format(row.range_from, row.range_to, job_id, row.attempts),
			reference_doctype=RUN,
			reference_name=run,
		)
	frappe.db.commit()  # nosemgrep: the failed chunk is recorded even if finishing the run fails
	finish_run_if_done(run)
	return "Failed"


def publish_run_progress(run):
	done, total, started_by = frappe.db.get_value(RUN, run, ["chunks_done", "chunks_total", "started_by"])
	if started_by == frappe.session.user:
		frappe.publish_progress(
			100 * done / max(total, 1),
			title=_("Recomputing health scores"),
			doctype=RUN,
			docname=run,
			description=_("{0} of {1} chunks done").format(done, total),
		)


def finish_run_if_done(run) -> bool:
	"""Finish the run once none of its chunks is queued or running; exactly one caller does it,
	under the run's row lock, however many chunks close at the same moment (run row, then chunks:
	the one lock order)."""
	values = frappe.db.get_value(
		RUN, run, ["status", "chunks_done", "chunks_total"], as_dict=True, for_update=True
	)
	if not values or values.status not in ACTIVE_RUN_STATUSES or values.chunks_done < values.chunks_total:
		frappe.db.commit()  # nosemgrep: release the row lock (a chunk still to count: not done)
		return False
	table = frappe.qb.DocType(CHUNK)
	still_open = (
		frappe.qb.from_(table)
		.select(table.name)
		.where(chunks_of(table, run) & table.status.isin(OPEN_CHUNK_STATUSES))
		.for_update()
		.run()
	)
	if still_open:
		frappe.db.commit()  # nosemgrep: release the row locks
		return False
	finish_run(run)
	return True


def finish_run(run):
	"""Close the run: Completed, or Failed saying how many customers were not scored. Whatever
	became of the chunks, the history is pruned and expired overrides lapse, in a job of their own
	on the long queue: this is reached from the watchdog (default queue) and from the button's
	request, which do no whole-table work."""
	values = frappe.db.get_value(
		RUN,
		run,
		["score_date", "chunks_total", "chunks_failed", "customers_failed", "runs_inline"],
		as_dict=True,
	)
	update = {"status": "Completed", "finished_at": now_datetime()}
	if values.chunks_failed:
		update["status"] = "Failed"
		update["message"] = _(
			"{0} of {1} chunks failed twice: {2} customers were not scored. The Error Log has the details."
		).format(values.chunks_failed, values.chunks_total, values.customers_failed)
	frappe.db.set_value(RUN, run, update, update_modified=True)
	frappe.db.commit()  # nosemgrep
	call_after_run_hooks(run, update["status"], values.score_date)
	enqueue_tidy_history(run, values.score_date, now=bool(frappe.flags.in_test) or bool(values.runs_inline))


def call_after_run_hooks(run, status: str, score_date):
	"""Rooms that follow a run (alerts) register in `cs_after_health_run`; one failing never fails the run."""
	for method in frappe.get_hooks("cs_after_health_run"):
		try:
			frappe.get_attr(method)(run=run, status=status, score_date=score_date)
		except Exception:
			frappe.log_error(title=_("After health run hook {0} failed").format(method))


def tidy_job_id(run) -> str:
	return f"cs-health-tidy-{run}"


def enqueue_tidy_history(run, score_date, now: bool = False):
	"""One tidy job per run on the long queue (deduplicated: a second finisher queues nothing)."""
	if now:
		tidy_history(score_date)
		return
	frappe.enqueue(
		"customer_success.health.service.tidy_history",
		queue="long",
		timeout=CHUNK_TIMEOUT,
		job_id=tidy_job_id(run),
		deduplicate=True,
		now=False,
		score_date=str(score_date) if score_date else None,
	)


def tidy_history(score_date: str | None = None):
	"""After a run: prune the score history and lapse expired overrides (whole-table work), as of the
	run's day and never past today."""
	today = min(getdate(score_date or nowdate()), getdate(nowdate()))
	prune_history(today)
	lapse_expired_overrides(today)
	if not frappe.flags.in_test:
		queue_trend_refresh()  # the run's day, and what pruning removed


# --- the watchdog ----------------------------------------------------------------------------


def watch_recompute_runs():
	"""Scheduler entry (every few minutes): find the chunks of a running run whose job died."""
	if not take_lock(LOCK_NAME, 0):
		return  # a start holds the lock, and checks the runs itself
	try:
		check_runs()
	finally:
		release_lock(LOCK_NAME)


def check_runs():
	"""A chunk of a running run whose job (its own, or the job that took it) is neither queued nor
	running in RQ, and that is not done, died (timeout, out of memory, a worker restart): it is
	retried once, then failed, unless it was taken by another job meanwhile. A run whose chunks are
	all done or failed is finished. Runs scored inline have no jobs to ask about: only the staleness
	rule applies to them."""
	run_table = frappe.qb.DocType(RUN)
	chunk_table = frappe.qb.DocType(CHUNK)
	watched = (
		frappe.qb.from_(run_table)
		.select(run_table.name)
		.where(is_active_run(run_table) & (run_table.runs_inline == 0))
		.run(pluck=True)
	)
	if watched:
		chunks = (
			frappe.qb.from_(chunk_table)
			.select(chunk_table.parent, chunk_table.chunk_index, chunk_table.attempts, chunk_table.job_id)
			.where(chunks_of(chunk_table, *watched) & chunk_table.status.isin(OPEN_CHUNK_STATUSES))
			.run(as_dict=True)
		)
		alive = live_jobs([running_in(c) for c in chunks])
		if alive is None:
			return  # RQ cannot be asked: nothing can be said about the jobs
		for c in chunks:
			if running_in(c) not in alive:
				retry_or_fail_chunk(c.parent, c.chunk_index, c.attempts, job_id=running_in(c))
		for name in watched:
			finish_run_if_done(name)
	fail_stopped_inline_runs()
	fail_stale_runs()


def running_in(chunk: dict) -> str:
	"""The job a chunk row waits for or runs in: its own attempt's, or the job that took it
	(`take_queued_chunk`)."""
	return chunk.job_id or chunk_job_id(chunk.parent, chunk.chunk_index, chunk.attempts)


def live_jobs(job_ids: list[str]) -> set[str] | None:
	"""Of these job ids, the ones RQ has queued or running; None when RQ cannot be reached.

	A job RQ still calls started whose worker is gone (killed, restarted) is not alive: RQ itself
	notices that only once the job's timeout has passed.
	"""
	if not job_ids:
		return set()
	from frappe.utils.background_jobs import create_job_id, get_redis_conn
	from rq.job import Job, JobStatus
	from rq.worker import Worker

	try:
		connection = get_redis_conn()
		jobs = Job.fetch_many([create_job_id(job_id) for job_id in job_ids], connection=connection)
		workers = {worker.name for worker in Worker.all(connection=connection)}
	except Exception:
		frappe.log_error(title=_("Health recompute watchdog could not reach the job queue"))
		return None
	waiting = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)
	alive = set()
	for job_id, job in zip(job_ids, jobs, strict=True):
		if not job:
			continue
		status = job.get_status(refresh=False)
		if status in waiting or (
			status == JobStatus.STARTED and (not job.worker_name or job.worker_name in workers)
		):
			alive.add(job_id)
	return alive


def fail_stale_runs():
	"""The last resort, past STALE_RUN_HOURS without progress, so no run holds the lock for ever:
	a run still Queued (its jobs wait in RQ, alive, but no worker on the long queue took one), and
	a run the watchdog cannot ask RQ about (scored inline, or recorded without chunks), are failed.

	The stale runs and their chunks are found by plain reads first; each UPDATE then reaches its
	runs by name (and checks again that they are stale), so it locks those run rows alone. Within
	one UPDATE, a subquery over the chunks took a shared lock on every chunk row of every run
	(compared as numbers, a run's name matched no `parent` by index), where a running night's
	claims take the run's row, then its chunk's row: the two could wait on each other.
	"""
	run = frappe.qb.DocType(RUN)
	chunk = frappe.qb.DocType(CHUNK)
	stale = is_active_run(run) & (run.modified < add_days(now_datetime(), -STALE_RUN_HOURS / 24))
	candidates = (
		frappe.qb.from_(run).select(run.name, run.status, run.runs_inline).where(stale).run(as_dict=True)
	)
	never_taken = [c.name for c in candidates if c.status == "Queued" and not c.runs_inline]
	if never_taken:
		fail_runs(
			never_taken,
			_(
				"Marked failed: no worker on the long queue picked this run up within {0} hours. "
				"Start a worker for the long queue (bench worker --queue long), then start the recompute again."
			).format(STALE_RUN_HOURS),
			stale & (run.status == "Queued") & (run.runs_inline == 0),
		)
	others = [c for c in candidates if c.name not in never_taken]
	with_chunks = (
		set(
			frappe.qb.from_(chunk)
			.select(chunk.parent)
			.distinct()
			.where(chunks_of(chunk, *(c.name for c in others)))
			.run(pluck=True)
		)
		if others
		else set()
	)
	unwatched = [c.name for c in others if c.runs_inline or str(c.name) not in with_chunks]
	if unwatched:
		fail_runs(unwatched, _("Marked failed: no progress for {0} hours.").format(STALE_RUN_HOURS), stale)
	frappe.db.commit()  # nosemgrep: release the run rows before any chunk locks its run


def nightly_recompute():
	"""Scheduler entry point: the whole book, unless switched off in settings."""
	if not frappe.db.get_single_value("Customer Success Settings", "recompute_health_nightly"):
		return None
	return start_recompute(trigger="Nightly")


def recompute_customer(customer: str, inputs: dict | None = None) -> dict:
	"""Score one customer now (the Customer form's button), after setting the CSM's `inputs`
	(override, sentiment) on the Customer, when given.

	The Customer's row is locked first (by the update, or by `write_scores`' locking read), as
	every score writer does: while a chunk is writing this customer's range, this waits for it
	(row locks, a second or so), then writes the newer score; a chunk that read the customer
	earlier sees this newer score and leaves it alone. A wait past the server's lock wait timeout
	changes nothing and says so. A deadlock (the server rolls the whole transaction back: the
	callers, the Customer form's actions, write nothing before this) is tried again, twice, before
	it says so: a CSM's sentiment was refused at once when two single-customer recomputes met on
	the score history's index (tester U).
	"""
	save_point = "cs_recompute_customer"
	for attempt in range(1, WRITE_ATTEMPTS + 1):
		frappe.db.savepoint(save_point)
		try:
			if inputs:
				# update_modified=False: the Customer's own `modified` stays, so a form open elsewhere saves.
				frappe.db.set_value("Customer", customer, inputs, update_modified=False)
			result = score_range(customer, customer)
			# its week and month of the Health Trend roll-up are stale now: refreshed in the background
			# (one job at a time), so the team's trend is read live only until then, not until the night
			refresh_trend_soon()
			return result
		except frappe.QueryDeadlockError:
			if attempt < WRITE_ATTEMPTS:
				continue  # rolled back whole by the server: done again from the start
		except frappe.QueryTimeoutError:
			frappe.db.rollback(save_point=save_point)
		frappe.throw(_("The health scores are being written by a recompute; try again in a minute."))


# --- the backtest: what the history said before each renewal and churn ------------------------


def backtest_readings(customers, start: date, end: date, lookbacks=engine.BACKTEST_LOOKBACKS) -> list[dict]:
	"""The renewals and churns of [start, end] among the customers of the sub-query `customers`
	(recorded on Renewals where there are any, else read off contracts: `engine.merge_outcomes`,
	`engine.outcome_events`), each with what its score history said `lookbacks` days before:
	the latest stored score on or before that day, at most `engine.SNAPSHOT_MAX_AGE_DAYS` older
	(monthly history is enough). A handful of queries, whatever the number of events.

	Each event: {"customer", "outcome", "date", "readings": {lookback: {"score_date", "score",
	"status"} or None}, "signals": {lookback: {signal: value}}}.
	"""
	contracts = queries.submitted_contracts(customers, start, end)
	churned = queries.churned_customers(customers)
	events = engine.merge_outcomes(
		engine.outcome_events(contracts, churned, start, end),
		renewal_queries.closed_outcomes(customers, start, end),
	)
	if not events:
		return []
	targets = [add_days(ev["date"], -lb) for ev in events for lb in lookbacks]
	since = add_days(min(targets), -engine.SNAPSHOT_MAX_AGE_DAYS)
	history: dict[str, tuple[list, list]] = {}
	for row in queries.snapshot_dates(sorted({ev["customer"] for ev in events}), since, max(targets)):
		dates, names = history.setdefault(row.customer, ([], []))
		day = getdate(row.score_date)
		if dates and dates[-1] == day:  # two models scored that day: the later one counts
			names[-1] = row.name
		else:
			dates.append(day)
			names.append(row.name)
	chosen: dict[tuple[int, int], object] = {}
	for i, ev in enumerate(events):
		dates, names = history.get(ev["customer"], ([], []))
		for lb in lookbacks:
			index = engine.nearest_on_or_before(dates, getdate(add_days(ev["date"], -lb)))
			if index is not None:
				chosen[(i, lb)] = names[index]
	stored = queries.snapshots(list(set(chosen.values())))
	for i, ev in enumerate(events):
		ev["readings"], ev["signals"] = {}, {}
		for lb in lookbacks:
			snap = stored.get(chosen.get((i, lb)))
			if not snap:
				ev["readings"][lb], ev["signals"][lb] = None, {}
				continue
			explanation = engine.explanation_from_json(snap.explanation)
			ev["signals"][lb] = engine.snapshot_signals(snap.score, snap.status, explanation)
			ev["readings"][lb] = {
				"score_date": getdate(snap.score_date),
				"score": ev["signals"][lb].get(engine.HEALTH_SCORE_SIGNAL),
				"status": snap.status,
			}
	return events


# --- the Health Trend roll-up: the whole book's health per week and month -------------------------

TREND_ROLLUP_LOCK = "customer_success:health_trend_rollup"


def refresh_trend_soon():
	"""A score written outside a health run (which queues the refresh when it ends): the Health Trend
	roll-up's refresh queued once this transaction commits (tests refresh what they need themselves)."""
	if not frappe.flags.in_test:
		queue_trend_refresh()


def queue_trend_refresh():
	frappe.enqueue(
		"customer_success.health.jobs.trend_rollup",
		queue="long",
		job_id="customer_success.health.jobs.trend_rollup",
		deduplicate=True,
		enqueue_after_commit=True,
		timeout=3600,
	)


def refresh_trend_rollup(commit: bool = False) -> dict:
	"""Compute afresh every period whose history changed since it was rolled up (stale), and every
	period of the history not rolled up yet; set-based, one query per period. Idempotent; under a
	lock, so two refreshes never overlap (the second skips). Each period is read and written in one
	snapshot, and written only if no score was written to it meanwhile (its version)."""
	if not take_lock(TREND_ROLLUP_LOCK, 0):
		return {"skipped": True}
	try:
		in_history = engine.trend_periods_of(queries.history_dates())
		present = set(queries.trend_rollup_rows(sorted(in_history)))
		wanted = {key for key in in_history if key not in present}
		wanted |= set(queries.stale_trend_periods())
		for key in sorted(wanted):
			refresh_trend_period(key, commit)
		return {"refreshed": len(wanted)}
	finally:
		release_lock(TREND_ROLLUP_LOCK)


def refresh_trend_period(key: tuple[str, str], commit: bool = False):
	period_type, period = key
	if commit:
		frappe.db.commit()  # nosemgrep: the version and the figures are read in one fresh snapshot
	version = queries.trend_version(key)
	start, end = trend_key_bounds(period_type, period)
	figures = queries.period_aggregate(start, end)
	queries.write_trend_period(key, figures, version)
	if commit:
		frappe.db.commit()  # nosemgrep: one period, one unit of work


def trend_key_bounds(period_type: str, period: str) -> tuple[date, date]:
	if period_type == "Week":  # the Thursday of ISO week `period` lies in its ISO year
		thursday = date.fromisocalendar(int(period[:4]), int(period[4:]), 4)
		return engine.trend_period_bounds(thursday, "Week")
	return engine.trend_period_bounds(getdate(f"{period}-01"), "Month")


def book_history_by_period(since: date, until: date, period: str) -> list[dict]:
	"""Health Trend over the whole book: each period from the roll-up when it is current and lies
	within [since, until] (or nothing of its history lies outside), else computed live, so the rows
	are always exactly `queries.history_by_period(None, since, until, period)`."""
	periods = engine.trend_periods_between(since, until, period)
	stored = queries.trend_rollup_rows([(period, key) for key, _start, _end in periods])
	rows = []
	for key, start, end in periods:
		row = stored.get((period, key))
		cut = (start < since and queries.history_exists_between(start, add_days(since, -1))) or (
			end > until and queries.history_exists_between(add_days(until, 1), end)
		)
		if row is None or row.stale or cut:
			rows.extend(queries.history_by_period(None, max(start, since), min(end, until), period))
			continue
		if not row.customers:
			continue
		rows.append(
			frappe._dict(
				period=int(key) if period == "Week" else key,
				period_end=row.period_end,
				customers=row.customers,
				average_score=row.score_sum / row.coloured if row.coloured else None,
				green=row.green,
				yellow=row.yellow,
				red=row.red,
				no_colour=row.no_colour,
			)
		)
	return rows
