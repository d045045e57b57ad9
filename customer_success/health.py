"""Health recompute: ERPNext tables -> queries (aggregates) -> engine (scores) -> bulk writes.

One function, `score_range`, scores a range of customers; the nightly job, the model's
"Recompute All Customers" button and the Customer's "Recompute Health" button all use it.
"""

import json
from contextlib import contextmanager
from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, get_first_day, getdate, now_datetime, nowdate

from customer_success.engine import health as engine
from customer_success.queries import health as queries

CHUNK_SIZE = 2000
STALE_RUN_HOURS = 6
LOCK_NAME = "customer_success_health_recompute"
WRITE_LOCK_NAME = "customer_success_health_write"


# --- models --------------------------------------------------------------------------------


def load_models() -> dict:
	"""{"default": model, "by_tier": {tier: model}} of enabled models, each with its factor specs."""
	models = {"default": None, "by_tier": {}}
	for name in frappe.get_all("Health Score Model", filters={"enabled": 1}, pluck="name", order_by="name"):
		doc = frappe.get_cached_doc("Health Score Model", name)
		entry = {"name": doc.name, "specs": doc.factor_specs(), "green": doc.green_min, "red": doc.red_below}
		if doc.applies_to_tier:
			models["by_tier"].setdefault(doc.applies_to_tier, entry)
		if doc.is_default:
			models["default"] = entry
	return models


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


# --- scoring -------------------------------------------------------------------------------


def raw_values(customer: dict, facts: dict, today: date, sentiment_validity_days: int) -> dict:
	"""The raw value of every factor for one customer, from the chunk's aggregated facts."""
	name = customer["name"]

	sla = facts["sla"].get(name)
	invoice = facts["invoices"].get(name)
	last_touch = facts["touches"].get(name)
	contract_end = facts["contracts"].get(name)

	payment = None
	change = None
	if invoice:
		oldest = invoice["oldest_overdue_due"]
		days_overdue = (today - getdate(oldest)).days if oldest else 0
		payment = engine.payment_raw(invoice["overdue"], invoice["revenue"], days_overdue)
		change = engine.revenue_change(invoice["recent"], invoice["previous"])

	return {
		engine.SUPPORT_LOAD: facts["open_issue_load"].get(name, 0.0),
		engine.SLA_BREACHES: (sla["failed"] / sla["with_sla"]) if sla and sla["with_sla"] else None,
		engine.PAYMENT_BEHAVIOUR: payment,
		engine.REVENUE_TREND: change,
		engine.ENGAGEMENT_RECENCY: (today - last_touch).days if last_touch else None,
		engine.RENEWAL_PROXIMITY: (contract_end - today).days if contract_end else None,
		engine.OBJECTIVE_PROGRESS: facts["plan_progress"].get(name),
		engine.MILESTONE_PUNCTUALITY: facts["milestone_punctuality"].get(name),
		engine.CSM_SENTIMENT: engine.sentiment_raw(
			customer.get("cs_csm_sentiment"),
			getdate(customer["cs_sentiment_on"]) if customer.get("cs_sentiment_on") else None,
			today,
			sentiment_validity_days,
		),
	}


def gather_facts(lo: str, hi: str, models: dict, today: date, trend_days: int) -> dict:
	"""Every aggregate the factors need, for all customers in the range: a handful of queries."""
	return {
		"open_issue_load": queries.open_issue_load(
			lo, hi, engine.PRIORITY_WEIGHTS, engine.DEFAULT_PRIORITY_WEIGHT
		),
		"sla": queries.sla_counts(lo, hi, add_days(today, -lookback(models, engine.SLA_BREACHES))),
		"invoices": queries.invoice_facts(
			lo,
			hi,
			today,
			add_days(today, -lookback(models, engine.PAYMENT_BEHAVIOUR)),
			lookback(models, engine.REVENUE_TREND),
		),
		"touches": queries.last_touch_dates(lo, hi),
		"contracts": queries.latest_contract_end(lo, hi),
		"previous_scores": queries.scores_around(lo, hi, add_days(today, -trend_days)),
		"plan_progress": queries.plan_progress(lo, hi),
		"milestone_punctuality": queries.milestone_punctuality(lo, hi, today),
	}


def score_range(
	lo: str, hi: str, today: date | None = None, models: dict | None = None, serialize_writes: bool = False
) -> dict:
	"""Score every active customer from `lo` to `hi` (by name) and write the results.

	One customer's bad data is logged to the Error Log and skipped; the rest are written.
	Re-running the same day replaces that day's rows. With `serialize_writes` (the chunk jobs,
	which run side by side on several workers) the write phase is taken one chunk at a time and
	committed: reads and scoring, most of the work, stay parallel, and the upserts of
	neighbouring ranges cannot deadlock on each other's index gaps.
	"""
	today = getdate(today or nowdate())
	models = models or load_models()
	settings = frappe.get_cached_doc("Customer Success Settings")
	customers = queries.active_customers(lo, hi)
	facts = gather_facts(lo, hi, models, today, int(settings.health_trend_days or 30))
	computed_on = now_datetime()
	rows, failed = [], []
	for customer in customers:
		try:
			row = score_customer(customer, facts, models, today, int(settings.sentiment_validity_days or 30))
		except Exception:
			failed.append(customer["name"])
			frappe.log_error(
				title=_("Health score failed for customer {0}").format(customer["name"]),
				reference_doctype="Customer",
				reference_name=customer["name"],
			)
			continue
		if row:
			rows.append({**row, "computed_on": computed_on})
	if serialize_writes:
		with named_lock(WRITE_LOCK_NAME, timeout=600):
			write_scores(lo, hi, today, rows)
			frappe.db.commit()  # nosemgrep: release the rows before the next chunk writes
	else:
		write_scores(lo, hi, today, rows)
	return {"scored": len(rows), "failed": failed}


@contextmanager
def named_lock(name: str, timeout: int):
	"""A MariaDB user lock: shared by every worker on every machine that uses this database."""
	if not frappe.db.sql("select get_lock(%s, %s)", (name, timeout))[0][0]:
		frappe.throw(_("Could not take the lock {0} within {1} seconds.").format(name, timeout))
	try:
		yield
	finally:
		frappe.db.sql("select release_lock(%s)", name)


def score_customer(
	customer: dict, facts: dict, models: dict, today: date, sentiment_validity_days: int
) -> dict | None:
	model = model_for(models, customer.get("cs_tier"))
	if not model:
		return None
	raw = raw_values(customer, facts, today, sentiment_validity_days)
	result = engine.compute_health(raw, model["specs"], model["green"], model["red"])
	# An override is active while it has an expiry date (the score itself may legitimately be 0).
	override_until = getdate(customer["cs_override_until"]) if customer.get("cs_override_until") else None
	score, is_override = engine.effective_score(
		result.score, customer.get("cs_health_override"), override_until, today
	)
	if score is None:
		return None  # no data and no override: nothing to say about this customer yet
	status = engine.status_for(score, model["green"], model["red"])
	return {
		"customer": customer["name"],
		"customer_name": customer.get("customer_name"),
		"csm": customer.get("cs_owner"),
		"model": model["name"],
		"score_date": today,
		"granularity": "Daily",
		"score": score,
		"status": status,
		"computed_score": result.score,
		"computed_status": result.status,
		# Float columns are NOT NULL in frappe: an unknown trend is stored as no change.
		"trend": engine.trend(score, facts["previous_scores"].get(customer["name"])) or 0.0,
		"is_override": int(is_override),
		"override_reason": customer.get("cs_override_reason") if is_override else None,
		"override_until": override_until if is_override else None,
		"explanation": json.dumps(result.explanation(), default=str, separators=(",", ":")),
	}


# Defaults for NOT NULL columns a caller may leave out.
SCORE_DEFAULTS = {"score": 0.0, "computed_score": 0.0, "trend": 0.0, "is_override": 0, "granularity": "Daily"}

SCORE_FIELDS = (
	"customer",
	"customer_name",  # written here: raw inserts do not run fetch_from
	"csm",
	"model",
	"score_date",
	"granularity",
	"score",
	"status",
	"computed_score",
	"computed_status",
	"trend",
	"is_override",
	"override_reason",
	"override_until",
	"explanation",
	"computed_on",
)


def write_scores(lo: str, hi: str, today: date, rows: list[dict]):
	"""Upsert the day's scores of the range in bulk, then copy them onto the Customers."""
	insert_score_rows(rows)
	# One statement copies the day's scores onto the customers of the range.
	frappe.db.sql(
		"""
		update `tabCustomer` c
		join `tabCustomer Health Score` s on s.customer = c.name and s.score_date = %(today)s
		set c.cs_health_score = s.score, c.cs_health_status = s.status,
			c.cs_health_trend = s.trend, c.cs_health_computed_on = s.computed_on
		where c.name between %(lo)s and %(hi)s
		""",
		{"today": today, "lo": lo, "hi": hi},
	)


def _or_default(value, fieldname: str):
	return SCORE_DEFAULTS.get(fieldname) if value is None else value


def insert_score_rows(rows: list[dict], batch: int = 2000):
	"""Multi-row upserts on the (customer, model, day) unique key: re-running a day updates its rows.

	frappe.db.bulk_insert cannot be used: autoincrement doctypes have no column default for
	`name`, so ids come from the doctype's sequence inside the statement itself.
	"""
	if not rows:
		return
	now = now_datetime()
	user = frappe.session.user
	columns = (*SCORE_FIELDS, "creation", "modified", "owner", "modified_by", "docstatus")
	column_sql = ", ".join(f"`{c}`" for c in ("name", *columns))
	row_sql = "(nextval(`customer_health_score_id_seq`), " + ", ".join(["%s"] * len(columns)) + ")"
	updated = [
		c for c in (*SCORE_FIELDS, "modified", "modified_by") if c not in ("customer", "model", "score_date")
	]
	update_sql = ", ".join(f"`{c}` = values(`{c}`)" for c in updated)
	for start in range(0, len(rows), batch):
		part = rows[start : start + batch]
		values = []
		for row in part:
			values.extend((*(_or_default(row.get(f), f) for f in SCORE_FIELDS), now, now, user, user, 0))
		frappe.db.sql(
			f"insert into `tabCustomer Health Score` ({column_sql}) values {', '.join([row_sql] * len(part))} "
			f"on duplicate key update {update_sql}",
			values,
		)


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
	frappe.db.sql(
		"""
		update `tabCustomer Health Score` s
		join (
			select customer, model, max(score_date) as keep_date
			from `tabCustomer Health Score`
			where granularity = 'Daily' and score_date < %(cutoff)s
			group by customer, model, year(score_date), month(score_date)
		) k on k.customer = s.customer and k.model = s.model and k.keep_date = s.score_date
		set s.granularity = 'Monthly'
		where s.granularity = 'Daily'
		""",
		{"cutoff": cutoff},
	)
	score = frappe.qb.DocType("Customer Health Score")
	frappe.qb.from_(score).delete().where((score.granularity == "Daily") & (score.score_date < cutoff)).run()


def lapse_expired_overrides(today: date | None = None):
	customer = frappe.qb.DocType("Customer")
	(
		frappe.qb.update(customer)
		.set(customer.cs_health_override, 0)
		.set(customer.cs_override_reason, None)
		.set(customer.cs_override_until, None)
		.where(customer.cs_override_until < getdate(today or nowdate()))
		.run()
	)


# --- runs: the lock, the chunks, the progress ------------------------------------------------


def start_recompute(trigger: str = "Nightly", now: bool | None = None):
	"""Start a recompute of every active customer, unless one is already running.

	A run record is the lock: while one is Queued or Running (and not stale), a second start is
	recorded as Skipped and logged. The chunks go to the long queue, each as its own job.
	"""
	if now is None:
		# Without a worker on the long queue (a site run by hand, or from `bench execute`) the
		# chunks would wait forever: then they run here, one after another.
		now = bool(frappe.flags.in_test) or not long_queue_has_workers()
	with named_lock(LOCK_NAME, timeout=10):
		fail_stale_runs()
		active = frappe.db.get_value(
			"Health Recompute Run",
			{"status": ("in", ("Queued", "Running"))},
			["name", "started_at"],
			as_dict=True,
		)
		if active:
			run = new_run(
				trigger,
				"Skipped",
				_("Run {0} is still in progress; this start was skipped.").format(active.name),
			)
			frappe.logger("customer_success").info(f"health recompute skipped: run {active.name} in progress")
			frappe.db.commit()  # nosemgrep: the skipped run is the record of the refused start
			return run
		ranges = queries.customer_ranges(CHUNK_SIZE)
		run = new_run(trigger, "Running" if ranges else "Completed", None, chunks_total=len(ranges))
		frappe.db.commit()  # nosemgrep: the run (the lock) must be visible to the chunk jobs
	if not ranges:
		finish_run(run.name)
		return run
	for i, (lo, hi) in enumerate(ranges):
		frappe.enqueue(
			"customer_success.health.run_chunk",
			queue="long",
			timeout=3600,
			job_id=f"cs-health-{run.name}-{i}",
			deduplicate=True,
			now=now,
			run=run.name,
			lo=lo,
			hi=hi,
		)
	return frappe.get_doc("Health Recompute Run", run.name)


def long_queue_has_workers() -> bool:
	from frappe.utils.background_jobs import get_queue, get_workers

	try:
		return bool(get_workers(get_queue("long")))
	except Exception:
		return False  # no Redis queue reachable: nothing would run the jobs either


def new_run(trigger: str, status: str, message: str | None, chunks_total: int = 0):
	run = frappe.get_doc(
		{
			"doctype": "Health Recompute Run",
			"status": status,
			"trigger": trigger,
			"score_date": getdate(nowdate()),
			"started_by": frappe.session.user,
			"started_at": now_datetime(),
			"chunks_total": chunks_total,
			"message": message,
		}
	)
	run.insert(ignore_permissions=True)
	return run


def fail_stale_runs():
	"""A run whose workers died would hold the lock forever: past STALE_RUN_HOURS it is failed."""
	run = frappe.qb.DocType("Health Recompute Run")
	(
		frappe.qb.update(run)
		.set(run.status, "Failed")
		.set(run.finished_at, now_datetime())
		.set(run.message, _("Marked failed: no progress for {0} hours.").format(STALE_RUN_HOURS))
		.where(
			run.status.isin(("Queued", "Running"))
			& (run.modified < add_days(now_datetime(), -STALE_RUN_HOURS / 24))
		)
		.run()
	)


def run_chunk(run: str, lo: str, hi: str):
	"""One chunk of a run: score the range, count progress, and finish the run if it was the last."""
	try:
		result = score_range(
			lo,
			hi,
			today=frappe.db.get_value("Health Recompute Run", run, "score_date"),
			serialize_writes=True,
		)
	except Exception:
		frappe.db.rollback()
		frappe.log_error(title=_("Health recompute chunk {0} to {1} failed").format(lo, hi))
		result = {"scored": 0, "failed": [lo, hi], "chunk_failed": True}
	table = frappe.qb.DocType("Health Recompute Run")
	(
		frappe.qb.update(table)
		.set(table.chunks_done, table.chunks_done + 1)
		.set(table.customers_scored, table.customers_scored + result["scored"])
		.set(table.customers_failed, table.customers_failed + len(result["failed"]))
		.set(table.modified, now_datetime())
		.where(table.name == run)
		.run()
	)
	frappe.db.commit()  # nosemgrep: each chunk's scores and progress are durable on their own
	done, total, started_by = frappe.db.get_value(
		"Health Recompute Run", run, ["chunks_done", "chunks_total", "started_by"]
	)
	if started_by == frappe.session.user:
		frappe.publish_progress(
			100 * done / max(total, 1),
			title=_("Recomputing health scores"),
			doctype="Health Recompute Run",
			docname=run,
			description=_("{0} of {1} chunks done").format(done, total),
		)
	if done >= total:
		finish_run(run)


def finish_run(run: str):
	today = getdate(frappe.db.get_value("Health Recompute Run", run, "score_date") or nowdate())
	prune_history(today)
	lapse_expired_overrides(today)
	frappe.db.set_value(
		"Health Recompute Run",
		run,
		{"status": "Completed", "finished_at": now_datetime()},
		update_modified=True,
	)
	frappe.db.commit()  # nosemgrep


def nightly_recompute():
	"""Scheduler entry point: the whole book, unless switched off in settings."""
	if not frappe.db.get_single_value("Customer Success Settings", "recompute_health_nightly"):
		return None
	return start_recompute(trigger="Nightly")


def recompute_customer(customer: str) -> dict:
	"""Score one customer now (the Customer form's button)."""
	return score_range(customer, customer)
