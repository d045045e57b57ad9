"""Alerts: the rules pass (ERPNext tables -> queries -> engine -> alerts), playbooks, actions.

One function, `evaluate`, runs the enabled rules over a range of customers; the nightly pass, run
inside each chunk of the health recompute with the facts the chunk read (`after_health_chunk`),
a range whose chunk failed (`jobs.evaluate_range`) and the Customer form's "Check Alerts"
(`evaluate_customer`) all use it. Per range: a handful of queries per rule (fewer when the
recompute's facts are handed over), the engine's decisions, then the writes.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, cint, flt, fmt_money, getdate, now_datetime, nowdate

from customer_success.alerts import engine, queries
from customer_success.constants import CHURNED, CS_MANAGER_ROLE
from customer_success.health import queries as health_queries
from customer_success.numbers import is_number
from customer_success.usage import service as usage
from customer_success.utils import date_argument, in_language, site_language, term_in

ALERT = "CS Alert"
RULE = "CS Alert Rule"
PLAYBOOK = "CS Playbook"
CHUNK_SIZE = 10000
JOB_TIMEOUT = 3600


# --- rules and settings ----------------------------------------------------------------------


def load_rules() -> list[dict]:
	"""The enabled rules, in order. A query of its own, not `frappe.get_all`: the rules run in every
	job of the night, each a fork of its RQ worker, where a first `get_all` with filters sets up
	frappe's SQL sanitiser (see `health.service.enabled_model_names`)."""
	rule = frappe.qb.DocType(RULE)
	rules = (
		frappe.qb.from_(rule)
		.select(*(rule[field] for field in RULE_FIELDS))
		.where(rule.enabled == 1)
		.orderby(rule.name)
		.run(as_dict=True)
	)
	for row in rules:  # a Days stored before it was bounded: within the dates that exist
		row.days = min(max(cint(row.days), 0), engine.MAX_RULE_DAYS)
	return rules


# What the pass reads of a rule.
RULE_FIELDS = ("name", "rule_type", "kind", "severity", "playbook", "auto_resolve", "threshold", "days")


def alert_settings() -> dict:
	settings = frappe.get_cached_doc("Customer Success Settings")
	return {
		"cap": cint(settings.get("max_new_alerts_per_week")),
		"cooldown_days": cint(settings.get("alert_dismiss_cooldown_days")),
		"checkin_cadence_days": cint(settings.get("checkin_cadence_days")) or 90,
		"due_days": {
			engine.CRITICAL: cint(settings.get("alert_due_days_critical")),
			engine.HIGH: cint(settings.get("alert_due_days_high")),
			engine.MEDIUM: cint(settings.get("alert_due_days_medium")),
			engine.LOW: cint(settings.get("alert_due_days_low")),
		},
	}


# --- facts and decisions -----------------------------------------------------------------------


# The health recompute's facts (`health.service.gather_facts`) the rules read as they are: a chunk
# of the recompute hands them over (`after_health_chunk`), so the rules do not read them again.
HEALTH_FACTS = ("contracts", "invoices", "touches", "live")


def gather_facts(lo: str, hi: str, rules: list[dict], today: date, known: dict | None = None) -> dict:
	"""The aggregates the enabled rules need for every customer of the range (only those rules').

	`known`: facts already read for the range by the health recompute (`HEALTH_FACTS`, and its
	`previous_scores` as of `previous_scores_days` ago): those are reused, not read again."""
	known = known or {}
	types = {rule.rule_type for rule in rules}
	facts: dict = {}

	def health_fact(key: str, read):
		return known[key] if key in known else read()

	if types & {engine.RENEWAL_AT_RISK, engine.GREEN_BEFORE_RENEWAL}:
		facts["contracts"] = health_fact("contracts", lambda: health_queries.latest_contract_end(lo, hi))
	if engine.HEALTH_DROP in types:
		facts["scores_then"] = {
			days: scores_then(lo, hi, today, days, known)
			for days in {int(rule.days or 0) for rule in rules if rule.rule_type == engine.HEALTH_DROP}
		}
	if engine.OVERDUE_RECEIVABLE in types:
		# only its overdue part is read, which does not depend on the windows of the revenue figures
		facts["invoices"] = health_fact(
			"invoices", lambda: health_queries.invoice_facts(lo, hi, today, add_days(today, -365), 90)
		)
	if engine.MILESTONES_OVERDUE in types:
		facts["milestones"] = queries.overdue_milestones(lo, hi, today)
	if engine.CHECKIN_OVERDUE in types:
		facts["checkins"] = queries.plan_checkins(lo, hi)
	if engine.NO_TOUCH in types:
		facts["touches"] = health_fact("touches", lambda: health_queries.last_touch_dates(lo, hi))
		facts["live"] = health_fact("live", lambda: health_queries.live_customers(lo, hi))
	if engine.STAKEHOLDER_LEFT in types:
		facts["stakeholders"] = queries.key_stakeholders(lo, hi)
	if engine.OBJECTIVES_ACHIEVED in types:
		facts["objectives"] = queries.plan_objectives(lo, hi)
	if engine.ONBOARDING_LATE in types:
		facts["onboarding"] = queries.onboarding_facts(lo, hi)
	if engine.NPS_PROMOTER_GREEN in types:
		facts["nps_latest"] = health_queries.latest_nps(
			lo, hi, add_days(today, -widest_days(rules, engine.NPS_PROMOTER_GREEN))
		)
	if engine.NPS_DETRACTOR in types:
		facts["nps_answers"] = queries.nps_answers(
			lo, hi, add_days(today, -widest_days(rules, engine.NPS_DETRACTOR))
		)
	if engine.USAGE_NEAR_ENTITLEMENT in types:
		facts["usage"] = {
			usage_window(rule): usage.usage_by_customer(lo, hi, today, usage_window(rule))
			for rule in rules
			if rule.rule_type == engine.USAGE_NEAR_ENTITLEMENT
		}
	return facts


def scores_then(lo: str, hi: str, today: date, days: int, known: dict) -> dict:
	"""Each customer's score `days` ago: the recompute's `previous_scores` when it read them as of
	the same day, else read."""
	if "previous_scores" in known and known.get("previous_scores_days") == days:
		return known["previous_scores"]
	return health_queries.scores_around(lo, hi, add_days(today, -days))


# The rule kinds that fire only for a customer found in one of the range's facts (keyed by
# customer): the pass asks them about those customers only.
FACTS_READ = {
	engine.RENEWAL_AT_RISK: "contracts",
	engine.GREEN_BEFORE_RENEWAL: "contracts",
	engine.OVERDUE_RECEIVABLE: "invoices",
	engine.MILESTONES_OVERDUE: "milestones",
	engine.CHECKIN_OVERDUE: "checkins",
	engine.NO_TOUCH: "live",
	engine.STAKEHOLDER_LEFT: "stakeholders",
	engine.OBJECTIVES_ACHIEVED: "objectives",
	engine.ONBOARDING_LATE: "onboarding",
	engine.NPS_PROMOTER_GREEN: "nps_latest",
	engine.NPS_DETRACTOR: "nps_answers",
}

# The colours a rule kind can fire on (the first thing its engine function checks).
COLOURS_FIRED_ON = {
	engine.HEALTH_RED: (engine.RED,),
	engine.HEALTH_DROP: (engine.GREEN, engine.YELLOW, engine.RED),
	engine.RENEWAL_AT_RISK: (engine.YELLOW, engine.RED),
	engine.GREEN_BEFORE_RENEWAL: (engine.GREEN,),
	engine.NPS_PROMOTER_GREEN: (engine.GREEN,),
}


# How far rounding the drop to two places (`engine.health_drop`) can move it: the prefilter of
# `customers_with_facts` keeps every customer within this of firing.
DROP_SLACK = 0.01


def can_drop(then, now, least: float) -> bool:
	"""Whether a score of `then` and one of `now` may make a drop `engine.health_drop` fires on (of
	at least `least`, less the rounding's slack): both numbers, fallen."""
	if not (is_number(then) and is_number(now)):
		return False
	drop = float(then) - float(now)
	return drop > -DROP_SLACK and drop >= least - DROP_SLACK


def customers_with_facts(
	rule: dict,
	facts: dict,
	colours: dict[str, set[str]] | None = None,
	today=None,
	scores: dict | None = None,
):
	"""The customers `rule` can fire for (None: any customer may): those its facts hold, of a colour
	it fires on (`colours`: {status: customers}), and for the kinds most customers of a book have
	facts for, with the fact that makes it fire (a positive overdue amount; no touch within its
	days; a contract ending within its days; a score fallen by the rule's threshold since its days
	ago, with `scores`: {customer: score now}). A necessary condition only: the engine decides."""
	kind = rule.rule_type
	if kind == engine.HEALTH_DROP:
		found = facts["scores_then"][int(rule.days or 0)]
	elif kind == engine.USAGE_NEAR_ENTITLEMENT:
		found = facts["usage"][usage_window(rule)]
	elif kind in FACTS_READ:
		found = facts.get(FACTS_READ[kind])
	else:
		found = None
	if kind == engine.OVERDUE_RECEIVABLE and found:
		found = {name for name, invoice in found.items() if not is_nothing_overdue(invoice.get("overdue"))}
	elif kind == engine.HEALTH_DROP and found and scores is not None:
		least = float(rule.threshold or 0)
		found = {name for name, then in found.items() if can_drop(then, scores.get(name), least)}
	elif kind in (engine.RENEWAL_AT_RISK, engine.GREEN_BEFORE_RENEWAL) and found and today:
		last = add_days(today, int(rule.days or 0))  # a contract ending within its days
		found = {
			name for name, end in found.items() if not (isinstance(end, date) and not today <= end <= last)
		}
	elif kind == engine.NO_TOUCH and found and today:
		recent = add_days(today, -int(rule.days or 0) + 1)  # touched fewer than `days` days ago
		touches = facts["touches"]
		found = {name for name in found if not (touches.get(name) and touches[name] >= recent)}
	if colours is not None and kind in COLOURS_FIRED_ON:
		coloured = set().union(*(colours.get(colour, ()) for colour in COLOURS_FIRED_ON[kind]))
		found = coloured if found is None else coloured.intersection(found)
	return found


def is_nothing_overdue(amount) -> bool:
	"""A number not above zero (anything else is left for the engine to judge)."""
	return isinstance(amount, int | float) and not isinstance(amount, bool) and amount <= 0


def decide_all(
	rules: list[dict], customers: list[dict], facts: dict, today: date, settings: dict, skip: bool = True
) -> tuple[dict, set, list]:
	"""Every rule for every customer of the range: ({(customer, rule): Finding}, the customers
	evaluated, the customers whose facts broke a rule). Rule by rule, each asked only about the
	customers it can fire for (`customers_with_facts`; `skip=False` asks every customer: the
	reference the tests compare with)."""
	by_name = {customer["name"]: customer for customer in customers}
	colours: dict[str, set[str]] = {}
	for customer in customers:
		colours.setdefault(customer.get("cs_health_status"), set()).add(customer["name"])
	findings: dict[tuple[str, str], engine.Finding] = {}
	failed: dict[str, None] = {}
	# the scores now, which the drop rules compare with the scores of their days ago
	scores = (
		{customer["name"]: customer.get("cs_health_score") for customer in customers}
		if any(rule.rule_type == engine.HEALTH_DROP for rule in rules)
		else None
	)
	for rule in rules:
		rule_name = rule.name
		asked = customers_with_facts(rule, facts, colours, today, scores) if skip else None
		names = by_name if asked is None else [name for name in asked if name in by_name]
		decide = None
		for name in names:
			try:
				if decide is None:  # made in here: facts that break the rule fail each customer, logged
					decide = decider(rule, facts, today, settings)
				finding = decide(by_name[name])
			except Exception:
				if name not in failed:
					failed[name] = None
					frappe.log_error(
						title=_("Alert rules failed for customer {0}").format(name),
						reference_doctype="Customer",
						reference_name=name,
					)
				continue
			if finding:
				findings[(name, rule_name)] = finding
	for name in failed:
		for rule in rules:
			findings.pop((name, rule.name), None)
	return findings, set(by_name) - set(failed), list(failed)


def widest_days(rules: list[dict], rule_type: str) -> int:
	"""The longest look-back any enabled rule of a kind asks for: one query serves them all."""
	return max(int(rule.days or 0) for rule in rules if rule.rule_type == rule_type)


def usage_window(rule: dict) -> int:
	"""The days of usage a usage rule reads (its Days; 0 or unset: the last 30)."""
	return int(rule.days or 0) or 30


def decider(rule: dict, facts: dict, today: date, settings: dict) -> Callable[[dict], engine.Finding | None]:
	"""One rule's decision for one customer of the range at a time: the engine's function on the
	range's facts. What does not depend on the customer (the rule's fields, its facts' table) is
	looked up once for the rule, not for each of the ~8,600 decisions of a chunk (half their time)."""
	kind, severity = rule.rule_type, rule.severity
	days, threshold = rule.days, rule.threshold
	if kind == engine.HEALTH_RED:
		return lambda customer: engine.health_red(
			customer.get("cs_health_status"), customer.get("cs_health_score"), severity
		)
	if kind == engine.HEALTH_DROP:
		then = facts["scores_then"][int(days or 0)]
		return lambda customer: engine.health_drop(
			customer.get("cs_health_score"),
			then.get(customer["name"]),
			customer.get("cs_health_status"),
			threshold,
			days,
			severity,
		)
	if kind in (engine.RENEWAL_AT_RISK, engine.GREEN_BEFORE_RENEWAL):
		contracts = facts["contracts"]
		if kind == engine.RENEWAL_AT_RISK:
			return lambda customer: engine.renewal_at_risk(
				contracts.get(customer["name"]), customer.get("cs_health_status"), today, days, severity
			)
		return lambda customer: engine.green_before_renewal(
			customer.get("cs_health_status"), contracts.get(customer["name"]), today, days, severity
		)
	if kind == engine.OVERDUE_RECEIVABLE:
		invoices = facts["invoices"]

		def overdue_receivable(customer: dict) -> engine.Finding | None:
			invoice = invoices.get(customer["name"]) or {}
			oldest = invoice.get("oldest_overdue_due")
			return engine.overdue_receivable(
				invoice.get("overdue"),
				oldest if type(oldest) is date else (getdate(oldest) if oldest else None),
				today,
				threshold,
				days,
				severity,
			)

		return overdue_receivable
	if kind == engine.MILESTONES_OVERDUE:
		milestones = facts["milestones"]
		return lambda customer: engine.milestones_overdue(
			milestones.get(customer["name"], []), today, threshold, severity
		)
	if kind == engine.CHECKIN_OVERDUE:
		checkins, cadence = facts["checkins"], settings["checkin_cadence_days"]
		return lambda customer: engine.checkin_overdue(
			checkins.get(customer["name"], []), today, cadence, days, severity
		)
	if kind == engine.NO_TOUCH:
		touches, live = facts["touches"], facts["live"]
		return lambda customer: engine.no_touch(
			touches.get(customer["name"]), customer["name"] in live, today, days, severity
		)
	if kind == engine.STAKEHOLDER_LEFT:
		stakeholders = facts["stakeholders"]
		return lambda customer: engine.stakeholder_left(stakeholders.get(customer["name"], []), severity)
	if kind == engine.OBJECTIVES_ACHIEVED:
		objectives = facts["objectives"]
		return lambda customer: engine.objectives_achieved(objectives.get(customer["name"], []), severity)
	if kind == engine.USAGE_NEAR_ENTITLEMENT:
		usage_of = facts["usage"][usage_window(rule)]
		return lambda customer: engine.usage_near_entitlement(
			usage_of.get(customer["name"], []), threshold, severity
		)
	if kind == engine.ONBOARDING_LATE:
		onboarding_of = facts["onboarding"]

		def onboarding_late(customer: dict) -> engine.Finding | None:
			onboarding = onboarding_of.get(customer["name"])
			if not onboarding:
				return None
			return engine.onboarding_late(
				customer.get("cs_lifecycle_stage"),
				getdate(onboarding["go_live"]),
				onboarding["open_milestones"],
				today,
				days,
				severity,
			)

		return onboarding_late
	if kind == engine.NPS_PROMOTER_GREEN:
		latest = facts["nps_latest"]
		return lambda customer: engine.nps_promoter_green(
			latest.get(customer["name"]), customer.get("cs_health_status"), today, days, severity
		)
	if kind == engine.NPS_DETRACTOR:
		answers = facts["nps_answers"]
		return lambda customer: engine.nps_detractor(answers.get(customer["name"], []), today, days, severity)
	return lambda customer: None


# --- the pass ----------------------------------------------------------------------------------


def evaluate(
	lo: str,
	hi: str,
	names: set[str] | None = None,
	today: date | None = None,
	rule_types: set[str] | None = None,
	known: dict | None = None,
	commit_writes: bool = False,
	customers: list[dict] | None = None,
) -> dict:
	"""Run every enabled rule over the customers from `lo` to `hi` (only `names` when given; only
	the rules of `rule_types` when given: the others' alerts are left as they are). `known`: the
	range's facts the health recompute already read (see `gather_facts`); `customers`: the range's
	customers as `queries.customers` reads them, when the recompute has them (`chunk_customers`).
	With `commit_writes`
	(the nightly ranges, which run side by side on several workers) the writes are a READ COMMITTED
	transaction of their own, committed (`write_committed`): no lock is shared between ranges.

	One customer whose facts break a rule is logged to the Error Log and skipped; the rest go on.
	Idempotent: a second run the same day raises nothing new, it finds the open alerts.

	What it writes (titles, summaries, tasks' ToDos, comments) is in the site's language, whoever or
	whatever runs it: a night's job runs in English, a Chinese-speaking CSM's check in Chinese, and
	one customer's alerts came out in both.
	"""
	with in_language(site_language()):
		return _evaluate(lo, hi, names, today, rule_types, known, commit_writes, customers)


def _evaluate(lo, hi, names, today, rule_types, known, commit_writes, customers) -> dict:
	today = getdate(today or nowdate())
	_FORMATTED.clear()  # the site's formats as they are now
	rules = [rule for rule in load_rules() if rule_types is None or rule.rule_type in rule_types]
	result = {"raised": 0, "updated": 0, "resolved": 0, "held": 0, "failed": []}
	if not rules:
		return result
	settings = alert_settings()
	by_name = {rule.name: rule for rule in rules}
	if customers is None:
		customers = queries.customers(lo, hi)
	customers = [c for c in customers if names is None or c.name in names]
	facts = gather_facts(lo, hi, rules, today, known)
	findings, evaluated, result["failed"] = decide_all(rules, customers, facts, today, settings)
	churned = {c.name for c in customers if c.cs_lifecycle_stage == CHURNED}
	if churned:  # a customer recorded as lost calls for no action: no finding (its alerts resolve)
		findings = {key: finding for key, finding in findings.items() if key[0] not in churned}
	open_alerts = {k: v for k, v in queries.open_alerts(lo, hi).items() if k[0] in evaluated}
	# only customers with a finding that has no open alert may get a new one: the cool-downs and
	# the weekly counts are read for them alone
	new = sorted({customer for customer, rule in findings if (customer, rule) not in open_alerts})
	actions = engine.plan_actions(
		findings,
		open_alerts,
		queries.recently_dismissed(lo, hi, add_days(today, -settings["cooldown_days"]), new),
		queries.raised_since(lo, hi, add_days(today, -6), new),
		settings["cap"],
		{rule.name for rule in rules if rule.auto_resolve},
		evaluated,
		today,
		kept=health_unknown(customers, open_alerts, rules),
	)
	add_health_links(findings, by_name)
	by_customer = {c.name: c for c in customers}
	stored = {alert["name"]: (key, alert) for key, alert in open_alerts.items()}
	writes = {
		"update": changed_alerts(actions.update, stored, by_name, today, settings["due_days"]),
		"resolve": actions.resolve,
		"raise": [(by_customer[customer], by_name[rule], f) for customer, rule, f in actions.raise_],
	}
	if commit_writes:
		written = write_committed(writes, today, settings)
	else:
		written = write(writes, today, settings)
	result.update({**written, "failed": result["failed"] + written["failed"]})
	result["held"] = len(actions.held)
	return result


def write(writes: dict, today: date, settings: dict, names: list[str] | None = None) -> dict:
	"""A range's writes in the current transaction: re-fired alerts updated, cleared ones resolved,
	new ones raised (with `names` reserved for them, else reserved now)."""
	updated = update_alerts(writes["update"])
	resolved = resolve_alerts(writes["resolve"])
	raised, failed = raise_alerts(writes["raise"], today, settings, names)
	return {"updated": updated, "resolved": resolved, "raised": raised, "failed": failed}


WRITE_ATTEMPTS = 3


def write_committed(writes: dict, today: date, settings: dict) -> dict:
	"""A range's writes (`write`) as one READ COMMITTED transaction, committed, as the recompute's
	chunks write their scores (`health.service.write_scores_committed`).

	Ranges write side by side without a lock between them. Each writes only its own customers'
	alerts: updates and resolutions by primary key, new alerts under their own unique open key,
	their tasks, ToDos, comments and bells under new names; under READ COMMITTED none of that takes
	a gap lock. The one row every range shares, the CS Alert naming series, is read and moved in a
	short transaction of its own, committed at once (`reserve_names_committed`), so it is never
	held while a range writes (a range that fails afterwards leaves a gap in the series). Should the
	server still pick this transaction as a deadlock victim, it is written again.
	"""
	from customer_success.health import service as health

	if not any(writes.values()):
		return write(writes, today, settings)  # nothing to write: no transaction to open
	names = reserve_names_committed(len(writes["raise"])) if writes["raise"] else None
	for attempt in range(1, WRITE_ATTEMPTS + 1):
		health.begin_read_committed()
		try:
			written = write(writes, today, settings, names)
			frappe.db.commit()  # nosemgrep: the range's alerts are durable on their own
			return written
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == WRITE_ATTEMPTS:
				raise
	raise AssertionError("unreachable")


def reserve_names_committed(count: int) -> list[str]:
	"""`count` names from the CS Alert naming series, in a transaction of their own, committed: the
	series row is locked for one UPDATE, not for a range's whole write."""
	from customer_success.health import service as health

	health.begin_read_committed()
	names = queries.reserve_alert_names(count)
	frappe.db.commit()  # nosemgrep: release the series at once
	return names


def row_name() -> str:
	"""The name of a row the pass writes in bulk (a task, ToDo, comment, bell, version). Frappe's
	hash names are 10 characters and it retries an insert that meets a taken one; a bulk insert
	cannot, so these are 20: at a night's hundreds of thousands of rows, 10 would collide."""
	return frappe.generate_hash(length=20)


class savepoint:
	"""A failed alert rolls back only its own writes, not the range's."""

	def __enter__(self):
		self.name = "cs_alert_" + frappe.generate_hash(length=8)
		frappe.db.savepoint(self.name)

	def __exit__(self, exc_type, exc, tb):
		if exc_type and not issubclass(exc_type, frappe.QueryDeadlockError):
			# (a deadlock rolled the whole transaction back: no savepoint is left to return to)
			frappe.db.rollback(save_point=self.name)
		return False


def sync_book_alert_csms():
	"""`queries.sync_alert_csms` over the whole book as a short transaction of its own, under READ
	COMMITTED, committed at once (what came before is committed first): it compares every open
	alert with its Customer and every task with its alert, and at REPEATABLE READ it would hold
	those rows locked until the caller's next commit, so a Customer's save would wait on the
	nightly pass. Under READ COMMITTED it locks only the rows it changes, for one statement each."""
	from customer_success.health.service import begin_read_committed

	begin_read_committed()
	queries.sync_alert_csms()
	frappe.db.commit()  # nosemgrep: the alerts' CSMs stand on their own


def evaluate_book(today: str | None = None) -> dict:
	"""The whole book, range by range, each committed on its own (the nightly pass)."""
	totals = {"raised": 0, "updated": 0, "resolved": 0, "held": 0, "failed": []}
	queries.sync_opportunity_outcomes()
	sync_book_alert_csms()
	for lo, hi in health_queries.customer_ranges(CHUNK_SIZE):
		result = evaluate(lo, hi, today=getdate(today) if today else None, commit_writes=True)
		frappe.db.commit()  # nosemgrep: each range's alerts are durable on their own
		for key in ("raised", "updated", "resolved", "held"):
			totals[key] += result[key]
		totals["failed"] += result["failed"]
	# a customer moved while its range was evaluated: the alerts raised for it show its new CSM
	sync_book_alert_csms()
	return totals


def enqueue_ranges(today: str | None = None, ranges: list[tuple[str, str]] | None = None) -> int:
	"""The pass fanned out: one job per range on the long queue (the whole book's ranges unless
	`ranges` are given), so the workers listening there share it (as the recompute's chunks do).
	Each range job is idempotent on its own."""
	day = str(getdate(today or nowdate()))
	ranges = health_queries.customer_ranges(CHUNK_SIZE) if ranges is None else ranges
	for index, (lo, hi) in enumerate(ranges):
		frappe.enqueue(
			"customer_success.alerts.jobs.evaluate_range",
			queue="long",
			timeout=JOB_TIMEOUT,
			job_id=f"{job_id(day)}-{index}",
			deduplicate=True,
			lo=lo,
			hi=hi,
			today=day,
		)
	return len(ranges)


def range_job_id(day, lo: str, hi: str) -> str:
	"""One job id per day and range (customer names may hold any character: hashed)."""
	key = hashlib.sha1(f"{lo}\n{hi}".encode(), usedforsecurity=False).hexdigest()[:16]
	return f"{job_id(day)}-range-{key}"


def enqueue_range(lo: str, hi: str, today: str | None = None):
	"""One range's pass as a job of its own on the long queue (inline in tests)."""
	day = str(getdate(today or nowdate()))
	frappe.enqueue(
		"customer_success.alerts.jobs.evaluate_range",
		queue="long",
		timeout=JOB_TIMEOUT,
		job_id=range_job_id(day, lo, hi),
		deduplicate=True,
		enqueue_after_commit=not frappe.flags.in_test,
		now=bool(frappe.flags.in_test),
		lo=lo,
		hi=hi,
		today=day,
	)


def after_health_chunk(
	lo: str,
	hi: str,
	today=None,
	facts: dict | None = None,
	rows=None,
	customers=None,
	skipped=None,
	**kwargs,
):
	"""`cs_after_health_chunk` hook: the nightly pass, a chunk at a time. Each chunk of the recompute,
	once its scores are committed, runs the rules over its customers with the facts it read (the
	invoices, touches, live customers, contract ends and earlier scores are not read again) and the
	colours it just wrote, and commits its alerts.

	Should that fail, its alerts are rolled back and the range is queued as a job of its own, which
	reads its facts itself. A chunk retried (its job died after this) runs the rules again: they
	find the alerts raised the first time, so nothing is raised twice.
	"""
	if frappe.flags.in_test and not frappe.flags.cs_alerts_after_chunk:
		return  # tests run the pass on their own customers; a chunk of the whole book would touch others'
	day = getdate(today or nowdate())
	try:
		evaluate(
			lo,
			hi,
			today=day,
			known=health_facts(facts or {}),
			commit_writes=True,
			customers=chunk_customers(customers, rows, skipped),
		)
		frappe.db.commit()  # nosemgrep: the chunk's alerts are durable on their own
	except Exception:
		frappe.db.rollback()
		frappe.log_error(
			title=_("Alert rules failed for the customers from {0} to {1}: queued again").format(lo, hi)
		)
		enqueue_range(lo, hi, str(day))


def chunk_customers(customers: list[dict] | None, rows: list[dict] | None, skipped=None) -> list[dict] | None:
	"""The range's customers as `queries.customers` would read them now, from what the chunk read
	(`customers`, which carry the Customer fields the rules read) and the colours and scores it just
	wrote onto them (`rows`): the rules need not read the range's Customers again. None (read them)
	unless every customer the chunk read had its row written: one without a model, whose scoring
	failed or whose row was skipped (`skipped`: newer news) keeps what the Customer holds."""
	from customer_success.health.queries import copied_score

	if customers is None or rows is None:
		return None
	written = {row["customer"]: row for row in rows}
	for name in skipped or ():
		written.pop(name, None)
	found = []
	for customer in customers:
		row = written.get(customer["name"])
		if row is None:
			return None
		score = copied_score(row)
		found.append(
			frappe._dict(
				{
					**{field: customer.get(field) for field in queries.CUSTOMER_FIELDS},
					"cs_health_status": row.get("status"),
					"cs_health_score": None if score is None else float(score),
				}
			)
		)
	return found


def health_facts(facts: dict) -> dict:
	"""What of a recompute chunk's facts the rules reuse (see `gather_facts`)."""
	from customer_success.health import service as health

	known = {key: facts[key] for key in HEALTH_FACTS if key in facts}
	if "previous_scores" in facts:
		known["previous_scores"] = facts["previous_scores"]
		known["previous_scores_days"] = health.trend_days()
	return known


def evaluate_customer(customer: str, rule_types: set[str] | None = None) -> dict:
	return evaluate(customer, customer, {customer}, rule_types=rule_types)


def on_nps_answer(response) -> dict:
	"""`cs_on_nps_answer` hook: a new NPS answer runs its customer's NPS rules now, not at night
	(a detractor must not wait). An answer comes from the customer's contact (Guest on the survey
	link, or a website user): the alerts, tasks, ToDos and bells are then the system's, as at night,
	not "Guest assigned ..."."""
	rules = {engine.NPS_DETRACTOR, engine.NPS_PROMOTER_GREEN}
	if (
		frappe.session.user != "Administrator"
		and frappe.get_cached_value("User", frappe.session.user, "user_type") != "System User"
	):
		from customer_success.utils import acting_as

		with acting_as("Administrator"):
			return evaluate_customer(response.customer, rules)
	return evaluate_customer(response.customer, rules)


def job_id(score_date) -> str:
	return f"cs-alerts-{getdate(score_date or nowdate())}"


def after_health_run(run=None, status=None, score_date=None):
	"""`cs_after_health_run` hook: queue what follows the night's rules on the long queue, once per
	day: the Opportunity outcomes and the alerts' CSMs, and the rules over the ranges the run's
	chunks did not evaluate themselves (`after_health_chunk`): its failed chunks."""
	if frappe.flags.in_test:
		return  # tests run the pass on their own customers; a queued whole-book pass would touch others
	frappe.enqueue(
		"customer_success.alerts.jobs.start_nightly_pass",
		queue="long",
		timeout=JOB_TIMEOUT,
		job_id=job_id(score_date),
		deduplicate=True,
		enqueue_after_commit=True,
		today=str(getdate(score_date or nowdate())),
		run=run,
	)


def ranges_left_by(run) -> list[tuple[str, str]]:
	"""The ranges of a recompute run whose chunk did not finish (Failed, or never run): their
	customers' rules were not evaluated in the chunk. Without a run: the whole book."""
	if not run:
		return health_queries.customer_ranges(CHUNK_SIZE)
	chunk = frappe.qb.DocType("Health Recompute Run Chunk")
	return [
		(lo, hi)
		for lo, hi in frappe.qb.from_(chunk)
		.select(chunk.range_from, chunk.range_to)
		.where(
			(chunk.parent == str(run))
			& (chunk.parenttype == "Health Recompute Run")
			& (chunk.status != "Done")
		)
		.orderby(chunk.chunk_index)
		.run()
	]


# --- evidence ----------------------------------------------------------------------------------


HEALTH_RULES = (
	engine.HEALTH_RED,
	engine.HEALTH_DROP,
	engine.RENEWAL_AT_RISK,
	engine.GREEN_BEFORE_RENEWAL,
	engine.NPS_PROMOTER_GREEN,
)


def health_unknown(customers: list, open_alerts: dict, rules: list) -> set:
	"""The open alerts of health rules whose customer's health has no colour tonight (Insufficient
	Data): not known to have cleared, they stay open (`engine.plan_actions`)."""
	colours = (engine.GREEN, engine.YELLOW, engine.RED)
	unknown = {c.name for c in customers if c.get("cs_health_status") not in colours}
	if not unknown:
		return set()
	health = {rule.name for rule in rules if rule.rule_type in HEALTH_RULES}
	return {key for key in open_alerts if key[0] in unknown and key[1] in health}


def add_health_links(findings: dict, rules: dict):
	"""Health rules' evidence links the customer, whose form shows its score, the factors behind it
	and their history: the link stays the same from day to day (the day's score row would not)."""
	health = {name for name, rule in rules.items() if rule.rule_type in HEALTH_RULES}
	for (customer, rule), finding in findings.items():
		if rule in health:
			finding.records.append(("Customer", customer))


def digest(evidence: str) -> str:
	"""The evidence's MD5 (hex, as MariaDB's MD5() gives it): stored on the alert, compared nightly."""
	return hashlib.md5(evidence.encode(), usedforsecurity=False).hexdigest()


# One encoder for every evidence (json.dumps with options builds one per call).
EVIDENCE_ENCODER = json.JSONEncoder(default=str, sort_keys=True, separators=(",", ":"))
# Its C encoder, made once: `JSONEncoder.encode` makes one per call and checks for cycles (an
# evidence has none), ~1 µs of each of the ~4,000 findings a chunk compares. The same options, so
# the same text (`evidence_json` falls back to the encoder where the C one is not built).
_C_EVIDENCE_ENCODER = (
	json.encoder.c_make_encoder(
		None,
		EVIDENCE_ENCODER.default,
		json.encoder.encode_basestring_ascii,
		None,
		":",
		",",
		True,
		False,
		True,
	)
	if json.encoder.c_make_encoder is not None
	else None
)


def evidence_json(rule: dict, finding: engine.Finding) -> str:
	"""The evidence as stored, in one canonical form (sorted keys, no spaces, dates as ISO days), so
	the same facts always give the same text and digest. Dates are turned into text beforehand
	(the facts hold them at the top level): cheaper than the encoder's fallback for each."""
	evidence = {
		"rule_type": rule.rule_type,
		"facts": {
			key: value.isoformat() if type(value) is date else value for key, value in finding.facts.items()
		},
		"records": [list(r) for r in finding.records],
	}
	if _C_EVIDENCE_ENCODER is None:
		return EVIDENCE_ENCODER.encode(evidence)
	return "".join(_C_EVIDENCE_ENCODER(evidence, 0))


# What the summaries format, per pass: thousands of alerts share their dates and scores, and each
# call to Frappe's formatters reads the site's formats again (`formatted`).
_FORMATTED: dict = {}


def formatted(kind: str, value, format_value) -> str:
	"""`format_value(value)`, remembered for the pass (cleared by `evaluate`)."""
	key = (kind, value, getattr(frappe.local, "lang", None))
	text = _FORMATTED.get(key)
	if text is None:
		text = _FORMATTED[key] = format_value(value)
	return text


def readable(value) -> str:
	"""A figure as a person reads it: whole numbers without decimals, others to one decimal place,
	in the site's number format (a dash when unknown). Remembered for the pass by the value as
	given: rounding it (`flt`) costs more than looking it up."""
	if value is None or value == "":
		return "\u2013"
	return formatted("number", value, _readable)


def _readable(value) -> str:
	# thousands of scores a night, a few hundred figures to one place: each figure formatted once
	return formatted("rounded", flt(value, 1), _format_rounded)


def _format_rounded(number: float) -> str:
	return fmt_money(number, precision=0 if number == int(number) else 1, format=money_settings()["format"])


def money_settings() -> dict:
	"""The site's currency, its precision, its symbol as amounts show it, and the number format: read
	once per pass (cleared by `evaluate`)."""
	from frappe.defaults import get_defaults
	from frappe.model.meta import get_field_precision

	settings = _FORMATTED.get("money")
	if settings is None:
		currency = frappe.db.get_default("currency")
		symbol = on_right = None
		# as `fmt_money` decorates an amount, decided once: it reads the setting through
		# `frappe.defaults.get_global_default` for every amount (the session user's defaults over
		# the site's), which also looks for the user's User Permissions on it (a setting has none)
		# and imports them in a new process
		hide = get_defaults().get("hide_currency_symbol")
		hide = hide[0] if isinstance(hide, list | tuple) and hide else hide
		if currency and hide != "Yes":
			symbol = frappe.db.get_value("Currency", currency, "symbol", cache=True) or currency
			on_right = frappe.db.get_value("Currency", currency, "symbol_on_right", cache=True)
		settings = _FORMATTED["money"] = {
			"currency": currency,
			"precision": get_field_precision(frappe._dict(fieldtype="Currency")),
			"format": frappe.db.get_default("number_format") or "#,###.##",
			"symbol": symbol,
			"symbol_on_right": on_right,
		}
	return settings


def money(value) -> str:
	"""An amount in the default currency, as `frappe.format_value` gives a Currency field, with the
	site's currency, precision, symbol and number format read once per pass (not once per amount)."""
	settings = money_settings()
	precision, number_format = settings["precision"], settings["format"]
	if precision > 2:  # the currency's fraction units may then set the decimals: fmt_money's own way
		return fmt_money(value, precision=precision, currency=settings["currency"], format=number_format)
	amount = fmt_money(value, precision=precision, format=number_format)
	symbol = settings["symbol"]
	if not symbol:
		return amount
	return f"{amount} {_(symbol)}" if settings["symbol_on_right"] else f"{_(symbol)} {amount}"


def day(value) -> str:
	"""A date in the site's date format (a dash when unknown)."""
	if not value:
		return "\u2013"
	return formatted("date", str(value), lambda v: frappe.format_value(getdate(v), {"fieldtype": "Date"}))


def translated(message: str) -> str:
	"""`_(message)`, remembered for the pass: a night writes thousands of summaries from a dozen
	sentences, and each `_` looks the language's translations up again."""
	return formatted("message", message, frappe._)


def summary_of(rule: dict, finding: engine.Finding) -> str:
	"""What fired, in a sentence, in the site's language."""
	_ = translated  # the sentences below stay `_("...")`, as Frappe's extraction of messages finds them
	f = finding.facts
	kind = rule.rule_type
	if kind == engine.HEALTH_RED:
		return _("Health turned Red (score {0}).").format(readable(f.get("score")))
	if kind == engine.HEALTH_DROP:
		return _("Health fell {0} points in {1} days (from {2} to {3}).").format(
			readable(f["drop"]), f["days"], readable(f["score_then"]), readable(f["score"])
		)
	if kind == engine.RENEWAL_AT_RISK:
		said = _("The contract ends on {0} and health is {1}.")
		status = term_in(said, "The contract ends on {0} and health is {1}.", f["status"])
		return said.format(day(f["contract_end"]), status)
	if kind == engine.OVERDUE_RECEIVABLE:
		return _("{0} overdue in receivables, the oldest due on {1}.").format(
			money(f["overdue"]), day(f["oldest_due"])
		)
	if kind == engine.MILESTONES_OVERDUE:
		if f["count"] == 1:
			return _("A milestone is overdue (it was due {0}).").format(day(f["oldest_due"]))
		return _("{0} milestones are overdue (the oldest was due {1}).").format(
			f["count"], day(f["oldest_due"])
		)
	if kind == engine.CHECKIN_OVERDUE:
		if f["plans"] == 1:
			return _("No check-in since {0} on the running plan (cadence {1} days).").format(
				day(f["since"]), f["cadence_days"]
			)
		return _("No check-in since {0} on {1} running plans (cadence {2} days).").format(
			day(f["since"]), f["plans"], f["cadence_days"]
		)
	if kind == engine.NO_TOUCH:
		if f.get("last_touch") is None:
			return _("A live customer never contacted.")
		return _("No touch since {0}.").format(day(f["last_touch"]))
	if kind == engine.STAKEHOLDER_LEFT:
		why = {"left": _("left the company"), "disabled": _("disabled"), "unlinked": _("no longer linked")}
		own = _("left the company") != "left the company"  # the app's sentences in this language
		return "; ".join(
			_("{0} ({1}) {2}").format(s["name"], _(s["role"]) if own else s["role"], why[s["why"]])
			for s in f["stakeholders"]
		)
	if kind == engine.OBJECTIVES_ACHIEVED:
		if f["plans"] == 1:
			if f["objectives"] == 1:
				return _("The objective of the running plan is achieved.")
			return _("All {0} objectives of the running plan are achieved.").format(f["objectives"])
		return _("All {0} objectives of {1} running plans are achieved.").format(f["objectives"], f["plans"])
	if kind == engine.GREEN_BEFORE_RENEWAL:
		return _("Health is Green and the contract ends on {0}.").format(day(f["contract_end"]))
	if kind == engine.NPS_PROMOTER_GREEN:
		return _("A promoter: NPS answer {0} on {1}, and health is Green.").format(
			f["score"], day(f["answered_on"])
		)
	if kind == engine.NPS_DETRACTOR:
		if f["answers"] == 1:
			return _("A detractor NPS answer in the window: {0} (on {1}).").format(
				f["lowest"], day(f["latest_on"])
			)
		return _("{0} detractor NPS answers in the window, the lowest {1} (the latest on {2}).").format(
			f["answers"], f["lowest"], day(f["latest_on"])
		)
	if kind == engine.USAGE_NEAR_ENTITLEMENT:
		return "; ".join(
			_("{0}: {1} of {2} used ({3}%)").format(
				m["metric"], readable(m["used"]), readable(m["entitlement"]), readable(m["percent"])
			)
			for m in f["metrics"]
		)
	if kind == engine.ONBOARDING_LATE:
		return _("Still onboarding after the planned go-live of {0}, {1} milestones open.").format(
			day(f["go_live"]), f["open_milestones"]
		)
	return _(kind)


# --- raising, playbooks, people -------------------------------------------------------------


def any_cs_manager() -> str | None:
	"""An enabled CS Manager (the first by name): who gets what has no CSM."""
	if "cs_manager" not in frappe.local.flags.get("cs_alert_cache", {}):
		from customer_success.permissions import enabled_role_holders

		rows = enabled_role_holders(CS_MANAGER_ROLE, limit=1)
		frappe.local.flags.setdefault("cs_alert_cache", {})["cs_manager"] = rows[0] if rows else None
	return frappe.local.flags["cs_alert_cache"]["cs_manager"]


def works_alerts(user: str | None) -> bool:
	"""Whether `user` can be given a customer's alert: enabled, with the CSM, CS Manager or System
	Manager role. A CS Owner who lost the role, or was disabled, is not: the alert and the CSM's
	tasks then go to a CS Manager (the brief's fallback for a customer with no CSM)."""
	return bool(user) and user in queries.alert_workers({user})


def people_of(customer: dict | str) -> dict:
	"""Who does what for one customer: {CSM, CS Manager, Sales Owner, Account Manager} (users)."""
	if isinstance(customer, str):
		customer = frappe.db.get_value(
			"Customer", customer, ["name", "cs_owner", "account_manager"], as_dict=True
		)
	csm = customer.get("cs_owner")
	people = {
		engine.CSM: csm if works_alerts(csm) else None,
		engine.CS_MANAGER: any_cs_manager(),
		engine.ACCOUNT_MANAGER: customer.get("account_manager"),
		**queries.people_for([customer["name"]]).get(customer["name"], {}),
	}
	return {role: user for role, user in people.items() if user and is_enabled_user(user)}


def is_enabled_user(user: str) -> bool:
	"""An enabled desk user: an alert or its task goes to no one else (an Account Manager may be any
	User in ERPNext: a website user given a task would have the alert shared with them)."""
	values = frappe.db.get_value("User", user, ["enabled", "user_type"], as_dict=True)
	return bool(values and values.enabled and values.user_type == "System User")


def raise_alert(customer: dict, rule: dict, finding: engine.Finding, today: date, settings: dict):
	alert = frappe.get_doc(
		{
			"doctype": ALERT,
			"customer": customer["name"],
			"kind": rule.kind or engine.RULE_KINDS.get(rule.rule_type),
			"rule": rule.name,
			"severity": finding.severity,
			"status": engine.OPEN,
			"due_date": engine.due_date(finding.severity, today, settings["due_days"]),
			"playbook": rule.playbook,
			"summary": summary_of(rule, finding),
			"evidence": evidence_json(rule, finding),
			"evidence_updated_on": now_datetime(),
		}
	)
	alert.flags.ignore_permissions = True
	alert.flags.set_by_rules = True  # its evidence and summary are the rule's (`keep_rule_fields`)
	alert.insert()
	return alert


# What a rule writes of its alert (its findings): never taken from a save, whoever sends it.
RULE_WRITTEN_FIELDS = ("evidence", "evidence_updated_on")
# What a rule writes and a manual alert (no rule) may be given once, when it is raised.
RULE_SUMMARY = "summary"


def keep_rule_fields(alert):
	"""An alert's evidence (the records and figures its rule found, which the form turns into links)
	and its summary are the rule's: a save from the form, REST or an import keeps the stored
	values, silently (a new alert starts without evidence, and a rule's alert without a summary,
	unless the rules raise it). A manual alert may be given its summary when it is raised."""
	if alert.flags.set_by_rules:
		return
	before = None if alert.is_new() else alert.get_doc_before_save()
	for fieldname in RULE_WRITTEN_FIELDS:
		alert.set(fieldname, before.get(fieldname) if before else None)
	if before is not None:
		alert.set(RULE_SUMMARY, before.get(RULE_SUMMARY))
	elif alert.rule:
		alert.set(RULE_SUMMARY, None)


# --- the pass's writes, set-based --------------------------------------------------------------
#
# A range's new alerts, their playbook tasks, ToDos, assignments, timeline comments and bell
# notifications are written with a few multi-row INSERTs; re-fired alerts are updated and cleared
# ones resolved with a few UPDATEs. Should a bulk write fail (a row another process wrote first,
# one customer's odd data), it is rolled back and the same alerts are written one by one through
# their documents, so one customer's failure is logged and the rest go on.


def changed_alerts(updates: list, stored: dict, rules: dict, today: date, due_days: dict) -> list[dict]:
	"""The re-fired open alerts whose evidence or severity changed (the rest are left untouched; a
	health rule's alert keeps the figures it fired with until its severity moves:
	`engine.rewrites_evidence`). An alert whose severity rose is due as its new severity would be
	from today, when that is sooner (`due_date`; None when it did not rise)."""
	rows = []
	for name, finding, wake in updates:
		key, alert = stored[name]
		rule = rules[key[1]]
		if not engine.rewrites_evidence(rule.rule_type, alert.get("severity"), finding):
			continue
		evidence = evidence_json(rule, finding)
		evidence_digest = digest(evidence)
		if evidence_digest == alert.get("evidence_digest") and finding.severity == alert.get("severity"):
			continue
		rows.append(
			{
				"name": name,
				"severity": finding.severity,
				"summary": summary_of(rule, finding),
				"evidence": evidence,
				"evidence_digest": evidence_digest,
				"wake": wake,
				"due_date": (
					engine.due_date(finding.severity, today, due_days)
					if engine.severity_rank(finding.severity) > engine.severity_rank(alert.get("severity"))
					else None
				),
			}
		)
	return rows


def update_alerts(rows: list[dict]) -> int:
	"""Write re-fired rules' news onto their open alerts; a woken alert tells its assignee."""
	if not rows:
		return 0
	now, user = now_datetime(), frappe.session.user
	try:
		with savepoint():
			queries.update_alerts(rows, now, user)
		updated = len(rows)
	except frappe.QueryDeadlockError:
		raise  # the server rolled the whole transaction back: the caller writes it again
	except Exception:
		updated = 0
		for row in rows:
			try:
				with savepoint():
					queries.update_alerts([row], now, user)
				updated += 1
			except frappe.QueryDeadlockError:
				raise
			except Exception:
				row["wake"] = False
				frappe.log_error(
					title=_("Updating alert {0} failed").format(row["name"]),
					reference_doctype=ALERT,
					reference_name=row["name"],
				)
	for row in rows:
		if row["wake"]:
			notify(
				row["name"],
				_("Alert {0} woke from its snooze: its severity rose to {1}.").format(
					row["name"], _(row["severity"])
				),
			)
	return updated


def resolve_alerts(names: list[str], note: str | None = None) -> int:
	"""Resolve by themselves the open alerts whose condition cleared (or `note`'s reason), all at
	once."""
	if not names:
		return 0
	note = note or _("The condition cleared: resolved by itself.")
	now, user = now_datetime(), frappe.session.user
	try:
		with savepoint():
			before = {row.name: row for row in queries.alert_statuses(names)}
			resolved = queries.resolve_alerts(names, note, now, user)
			queries.insert_rows("Version", [version_row(before[n], note, now, user) for n in resolved])
	except frappe.QueryDeadlockError:
		raise  # the server rolled the whole transaction back: the caller writes it again
	except Exception:
		resolved = []
		for name in names:
			try:
				with savepoint():
					auto_resolve(name)
				resolved.append(name)
			except frappe.QueryDeadlockError:
				raise
			except Exception:
				frappe.log_error(
					title=_("Resolving alert {0} failed").format(name),
					reference_doctype=ALERT,
					reference_name=name,
				)
		return len(resolved)
	if document_events_configured():
		for name in resolved:
			doc = frappe.get_doc(ALERT, name)
			doc._doc_before_save = frappe.get_doc({**doc.as_dict(), "status": before[name].status})
			run_document_events(doc, ("on_update", "on_change"))
	return len(resolved)


def version_row(alert: dict, note: str, now, user: str) -> dict:
	"""The alert's history keeps its auto-resolution, as a saved document's would."""
	changed = [
		["status", alert.status, engine.RESOLVED],
		["resolution", None, note],
		["auto_resolved", 0, 1],
		["closed_by", None, user],
	]
	return {
		**row_stamp(row_name(), now, user),
		"ref_doctype": ALERT,
		"docname": alert.name,
		"data": frappe.as_json(
			{"added": [], "changed": changed, "removed": [], "row_changed": []}, indent=None
		),
	}


def raise_alerts(
	new: list[tuple], today: date, settings: dict, names: list[str] | None = None
) -> tuple[int, list[str]]:
	"""Raise the range's new alerts (named `names` when reserved already): (how many were raised,
	customers whose alert failed)."""
	if not new:
		return 0, []
	try:
		with savepoint():
			insert_alerts(new, today, settings, names)
		return len(new), []
	except frappe.QueryDeadlockError:
		raise  # the server rolled the whole transaction back: the caller writes it again
	except Exception:
		# Another pass over the same range (a chunk's retry while the attempt judged dead still
		# runs) may have raised some of them since this one read the open alerts: those are
		# raised already, not failures (tester U: ~1,400 Error Logs of "Duplicate entry ... for key
		# 'open_key'"). The bulk failure is logged only when something else is behind it.
		keys = [engine.open_key(customer["name"], rule.name) for customer, rule, _f in new]
		raised_meanwhile = queries.open_keys_among(keys)
		fresh = [item for item, key in zip(new, keys, strict=True) if key not in raised_meanwhile]
		if not fresh:
			return 0, []
		if len(fresh) == len(new):
			frappe.log_error(title=_("Raising alerts in bulk failed: raising them one by one"))
		new = fresh
	raised, failed = 0, []
	for customer, rule, finding in new:
		try:
			with savepoint():
				raise_alert(customer, rule, finding, today, settings)
			raised += 1
		except frappe.QueryDeadlockError:
			raise
		except Exception:
			if queries.open_keys_among([engine.open_key(customer["name"], rule.name)]):
				continue  # raised meanwhile by another pass: open, as it should be
			failed.append(customer["name"])
			frappe.log_error(
				title=_("Raising an alert failed for customer {0}").format(customer["name"]),
				reference_doctype="Customer",
				reference_name=customer["name"],
			)
	return raised, failed


def row_stamp(name: str, now, user: str) -> dict:
	return {
		"name": name,
		"creation": now,
		"modified": now,
		"owner": user,
		"modified_by": user,
		"docstatus": 0,
	}


def insert_alerts(new: list[tuple], today: date, settings: dict, names: list[str] | None = None) -> list[str]:
	"""Write new alerts as their documents would be (title, people, due date, playbook tasks and
	progress, the open key, `_assign`), with their ToDos, the timeline's "assigned" comments and the
	assignees' bell notifications, in a few multi-row INSERTs; then Frappe's Notifications,
	Webhooks and server scripts on CS Alert, when any are set up."""
	from frappe.desk.doctype.notification_log.notification_log import get_title_html
	from frappe.utils import get_fullname

	now, user = now_datetime(), frappe.session.user
	names = names or queries.reserve_alert_names(len(new))
	manager = any_cs_manager()
	customer_names = sorted({customer["name"] for customer, _rule, _f in new})
	sales = queries.people_for(customer_names)
	candidates = {manager} | {o for people in sales.values() for o in people.values()}
	for customer, _rule, _finding in new:
		candidates |= {customer.get("cs_owner"), customer.get("account_manager")}
	enabled = queries.enabled_users(candidates)
	# the CS Owners who can work their alerts (one who lost the role, or was disabled, cannot)
	workers = queries.alert_workers({customer.get("cs_owner") for customer, _rule, _f in new})
	quiet = queries.users_with_notifications_off(enabled)
	todos_on = todos_enabled()
	playbooks = {
		name: playbook_task_rows(frappe.get_cached_doc(PLAYBOOK, name))
		for name in {rule.playbook for _customer, rule, _finding in new if rule.playbook}
	}
	by_name = get_fullname(user)
	alerts, tasks, todos, comments, bells, shares = [], [], [], [], [], []
	for name, (customer, rule, finding) in zip(names, new, strict=True):
		owner = customer.get("cs_owner") if customer.get("cs_owner") in workers else None
		people = {
			engine.CSM: owner,
			engine.CS_MANAGER: manager,
			engine.ACCOUNT_MANAGER: customer.get("account_manager"),
			**sales.get(customer["name"], {}),
		}
		people = {role: who for role, who in people.items() if who in enabled}
		title = alert_title(rule.name, customer.get("customer_name") or customer["name"])
		summary = summary_of(rule, finding)
		evidence = evidence_json(rule, finding)
		assignee = owner or manager
		playbook_tasks = engine.playbook_tasks(playbooks.get(rule.playbook, []), people, today)
		done, total, percent = engine.progress(playbook_tasks)
		todo_users = []
		if todos_on:
			todo_users = engine.alert_todos(assignee if assignee in enabled else None, playbook_tasks)
		for user_to, index in todo_users:
			task = playbook_tasks[index] if index is not None else None
			todo_name = row_name()
			description = _("{0}: {1}").format(title, task["title"]) if task else summary
			if task:
				task["todo"] = todo_name
			high = task and finding.severity in (engine.HIGH, engine.CRITICAL)
			todos.append(
				{
					**row_stamp(todo_name, now, user),
					"status": "Open",
					"priority": "High" if high else "Medium",
					"date": task["due_date"]
					if task
					else engine.due_date(finding.severity, today, settings["due_days"]),
					"allocated_to": user_to,
					"description": description,
					"reference_type": ALERT,
					"reference_name": name,
					"assigned_by": user,
					"assigned_by_full_name": by_name,
				}
			)
			comments.append(
				{
					**row_stamp(row_name(), now, user),
					"comment_type": "Assigned",
					"comment_email": user,
					"reference_doctype": ALERT,
					"reference_name": name,
					"content": _("{0} self assigned this task: {1}").format(by_name, description)
					if user_to == user
					else _("{0} assigned {1}: {2}").format(by_name, get_fullname(user_to), description),
				}
			)
		for user_to in dict.fromkeys(u for u, _index in todo_users):
			if user_to != user and user_to not in quiet:
				bells.append(
					{
						**row_stamp(row_name(), now, user),
						"subject": _("{0} assigned a new task {1} {2} to you").format(
							frappe.bold(by_name), frappe.bold(_(ALERT)), get_title_html(title)
						),
						"for_user": user_to,
						"type": "Assignment",
						"email_content": f"<div>{frappe.utils.escape_html(summary)}</div>",
						"document_type": ALERT,
						"document_name": name,
						"from_user": user,
						"read": 0,
					}
				)
		alert_shares, share_comments = share_rows(
			name,
			[task["assigned_to"] for task in playbook_tasks if task.get("assigned_to")],
			customer.get("cs_owner"),
			now,
			user,
			by_name,
		)
		shares += alert_shares
		comments += share_comments
		for index, task in enumerate(playbook_tasks, start=1):
			tasks.append(
				{
					**row_stamp(row_name(), now, user),
					"parent": name,
					"parenttype": ALERT,
					"parentfield": "tasks",
					"idx": index,
					"todo": task.pop("todo", None),
					**task,
					"csm": customer.get("cs_owner"),  # as the alert's (CSM Workload's overdue tasks)
					"alert_open": 1,
				}
			)
		alerts.append(
			{
				**row_stamp(name, now, user),
				"title": title,
				"customer": customer["name"],
				"customer_name": customer.get("customer_name") or customer["name"],
				"kind": rule.kind or engine.RULE_KINDS.get(rule.rule_type),
				"rule": rule.name,
				"status": engine.OPEN,
				"severity": finding.severity,
				"csm": customer.get("cs_owner"),
				"assigned_to": assignee,
				"due_date": engine.due_date(finding.severity, today, settings["due_days"]),
				"raised_on": now,
				"summary": summary,
				"evidence": evidence,
				"evidence_digest": digest(evidence),
				"evidence_updated_on": now,
				"playbook": rule.playbook,
				"progress": percent,
				"tasks_done": done,
				"tasks_total": total,
				"open_key": engine.open_key(customer["name"], rule.name),
				"auto_resolved": 0,
				"_assign": frappe.as_json(list(dict.fromkeys(u for u, _index in todo_users)), indent=None)
				if todo_users
				else None,
			}
		)
	queries.insert_rows(ALERT, alerts)
	queries.insert_rows("CS Alert Task", tasks)
	queries.insert_rows("ToDo", todos)
	queries.insert_rows("Comment", comments)
	queries.insert_rows("Notification Log", bells)
	queries.insert_rows("DocShare", shares)
	tell_the_bell({bell["for_user"] for bell in bells})
	if document_events_configured():
		for name in names:
			doc = frappe.get_doc(ALERT, name)
			doc.flags.in_insert = True
			run_document_events(doc, ("after_insert", "on_update", "on_change"))
	return names


def tell_the_bell(users: set[str]):
	"""What a Notification Log's insert does for its user, once per user: unseen, and a realtime ping."""
	from frappe.desk.doctype.notification_log.notification_log import set_notifications_as_unseen

	for user in sorted(users):
		set_notifications_as_unseen(user)
		frappe.publish_realtime("notification", after_commit=True, user=user)


def document_events_configured() -> bool:
	"""Whether a site set up anything that listens to CS Alert's document events: an enabled
	Notification, a Webhook or a server script (checked once per pass, not per alert). Read with
	the query builder, not `frappe.get_all`: a first `get_all` with filters in a process imports
	Frappe's desk boot (~0.2 s), and every night's job is a new process."""
	from frappe.integrations.doctype.webhook import get_all_webhooks

	notification = frappe.qb.DocType("Notification")
	script = frappe.qb.DocType("Server Script")
	return bool(
		frappe.qb.from_(notification)
		.select(notification.name)
		.where((notification.enabled == 1) & (notification.document_type == ALERT))
		.limit(1)
		.run()
		or frappe.cache.get_value("webhooks", get_all_webhooks).get(ALERT)
		or frappe.qb.from_(script)
		.select(script.name)
		.where(
			(script.disabled == 0)
			& (script.script_type == "DocType Event")
			& (script.reference_doctype == ALERT)
		)
		.limit(1)
		.run()
	)


def run_document_events(doc, methods: tuple[str, ...]):
	"""Frappe's Notifications, Webhooks and server scripts for a document written in bulk, as
	`Document.run_method` runs them for a saved one."""
	from frappe.core.doctype.server_script.server_script_utils import run_server_script_for_doc_event
	from frappe.integrations.doctype.webhook import run_webhooks

	for method in methods:
		doc.run_notifications(method)
		run_webhooks(doc, method)
		run_server_script_for_doc_event(doc, method)


def start_playbook(alert, people: dict | None = None, today: date | None = None):
	"""Copy the playbook's tasks onto the alert, each assigned by its role, and put them on those
	people's ToDo lists with their due dates (the notification bell tells them)."""
	if not alert.playbook and alert.rule:  # raised by hand for a rule: the rule's playbook
		alert.playbook = frappe.db.get_value(RULE, alert.rule, "playbook")
	if not alert.playbook or alert.tasks:
		return
	today = getdate(today or nowdate())
	people = people if people is not None else people_of(alert.customer)
	playbook = frappe.get_cached_doc(PLAYBOOK, alert.playbook)
	with in_language(site_language()):
		rows = playbook_task_rows(playbook)
	for task in engine.playbook_tasks(rows, people, today):
		alert.append("tasks", task)


def playbook_task_rows(playbook) -> list[dict]:
	"""A playbook's tasks as an alert copies them, each title in the current language (a shipped
	playbook's translated; one an administrator wrote is as written)."""
	return [
		{**task.as_dict(), "title": _(task.title) if task.title else task.title} for task in playbook.tasks
	]


def todos_enabled() -> bool:
	return bool(cint(frappe.db.get_single_value("Customer Success Settings", "create_todos")))


def check_ask(alert):
	"""An ask (reference, case study, referral, review) is made of an advocate: only an Advocacy
	alert records one. Its outcome answers an ask: it needs the ask's type. Checked when set: one
	stored earlier holds no save up."""
	from customer_success.utils import changed_fields

	if not (alert.ask_type or alert.ask_outcome):
		return
	if not (alert.is_new() or changed_fields(alert, ("ask_type", "ask_outcome"))):
		return
	if alert.kind != engine.ADVOCACY:
		frappe.throw(
			_("An Ask and its Outcome belong to an Advocacy alert; this alert is {0}.").format(_(alert.kind)),
			title=_("Not an Advocacy Alert"),
		)
	if alert.ask_outcome and not alert.ask_type:
		frappe.throw(
			_("Choose the Ask (reference, case study, referral or review) before its Outcome."),
			title=_("Ask Required"),
		)


def check_task_assignees(alert):
	"""Whoever a save names on a task works it: the customer's CSM or one of its people (the roles a
	playbook assigns), or someone else who can open the alert; enabled. The tasks a playbook makes
	as the alert is raised (after this check) are assigned by role and need none."""
	before = None if alert.is_new() else alert.get_doc_before_save()
	stored = {row.name: row.assigned_to for row in (before.tasks if before else [])}
	people = None
	for task in alert.tasks:
		user = task.assigned_to
		if not user or (task.name in stored and stored[task.name] == user):
			continue
		if user == alert.csm and works_alerts(user):
			continue
		if people is None:
			people = set(people_of(alert.customer).values())
		if is_enabled_user(user) and (
			user in people or frappe.has_permission(ALERT, "read", doc=alert, user=user)
		):
			continue
		frappe.throw(
			_(
				"Tasks row {0}: {1} cannot open alert {2}: assign the task to the customer's CSM or a CS Manager."
			).format(task.idx, frappe.bold(frappe.utils.escape_html(user)), alert.name or _("New")),
			title=_("Invalid Assignee"),
		)


def move_task_todos(alert):
	"""A task given to someone else: the open ToDo of whoever had it is cancelled (it is no longer
	theirs), and `create_task_todos` gives the new assignee one."""
	before = alert.get_doc_before_save()
	if not before:
		return
	stored = {row.name: row.assigned_to for row in before.tasks}
	for task in alert.tasks:
		if not task.todo or task.name not in stored or stored[task.name] == task.assigned_to:
			continue
		old = task.todo
		# unlinked first: the old ToDo's cancelling (`on_todo_update`) must not cancel the task itself,
		# which goes on, open, with its new person (and the next save would cancel their ToDo)
		task.db_set("todo", None, update_modified=False)
		if frappe.db.get_value("ToDo", old, "status") == "Open":
			todo = frappe.get_doc("ToDo", old)
			todo.status = "Cancelled"
			todo.save(ignore_permissions=True)


def cannot_open_alert(user: str, csm: str | None) -> bool:
	"""Whether a task's person could not open the alert by their roles: a Sales Owner or Account
	Manager without the CS roles, or a CSM of another book (the alert is then shared with them,
	read-only, as frappe's own assignment shares a document with an assignee who cannot open it)."""
	from customer_success.permissions import sees_all

	return bool(user) and user != csm and not sees_all(user)


def share_with_task_people(alert):
	"""The alert shared, read-only, with each person an open task names who could not open it
	otherwise: their ToDo and bell lead to the alert, its evidence and its other tasks."""
	for user in dict.fromkeys(t.assigned_to for t in alert.tasks if t.status == "Open" and t.assigned_to):
		if cannot_open_alert(user, alert.csm) and not frappe.db.exists(
			"DocShare", {"share_doctype": ALERT, "share_name": alert.name, "user": user, "read": 1}
		):
			frappe.share.add_docshare(
				ALERT, alert.name, user, read=1, flags={"ignore_share_permission": True}, notify=0
			)


def share_rows(name: str, users, csm: str | None, now, by: str, by_name: str) -> tuple[list, list]:
	"""`share_with_task_people` for an alert written in bulk: its DocShare rows and their timeline
	comments, as frappe's DocShare writes them."""
	from frappe.utils import get_fullname

	shares, comments = [], []
	for user in dict.fromkeys(users):
		if not cannot_open_alert(user, csm):
			continue
		shares.append(
			{
				**row_stamp(row_name(), now, by),
				"user": user,
				"share_doctype": ALERT,
				"share_name": name,
				"read": 1,
				"write": 0,
				"share": 0,
				"submit": 0,
				"everyone": 0,
				"notify_by_email": 1,
			}
		)
		comments.append(
			{
				**row_stamp(row_name(), now, by),
				"comment_type": "Shared",
				"comment_email": by,
				"reference_doctype": ALERT,
				"reference_name": name,
				"content": _("{0} shared this document with {1}").format(by_name, get_fullname(user)),
			}
		)
	return shares, comments


def create_task_todos(alert):
	"""A ToDo per open task without one, referencing the alert (closing it moves the progress)."""
	share_with_task_people(alert)
	if not todos_enabled():
		return
	from customer_success.utils import notify_assignment

	told = {}  # one bell a person, however many of the alert's tasks are hers
	for task in alert.tasks:
		if task.todo or task.status != "Open" or not task.assigned_to:
			continue
		with in_language(site_language()):  # as the pass writes them, whoever saves
			description = _("{0}: {1}").format(alert.title or alert.name, task.title)
		todo = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": task.assigned_to,
				"reference_type": ALERT,
				"reference_name": alert.name,
				"description": description,
				"date": task.due_date,
				"priority": "High" if alert.severity in (engine.HIGH, engine.CRITICAL) else "Medium",
				"status": "Open",
				"assigned_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)
		task.db_set("todo", todo.name, update_modified=False)
		told.setdefault(todo.allocated_to, todo)
	for todo in told.values():
		notify_assignment(
			todo.assigned_by,
			todo.allocated_to,
			ALERT,
			alert.name,
			action="ASSIGN",
			description=todo.description,
		)


def assign_alert(alert):
	"""The alert on its assignee's ToDo list (and bell), when ToDos are on."""
	if not alert.assigned_to or not todos_enabled() or not is_enabled_user(alert.assigned_to):
		return
	from customer_success.utils import assign

	# not frappe's Assign To: it rewrites (and on closing empties) the alert's own `assigned_to`
	assign(ALERT, alert.name, alert.assigned_to, alert.summary or alert.title, date=alert.due_date)


def name_alerts_after_customer(customer: str):
	"""The alerts of `customer` show the name it has now (their Customer Name and title): after a
	rename, a merge into it, or a new Customer Name. One UPDATE per rule (a title names its rule)."""
	from frappe.query_builder.functions import Coalesce

	customer_name = frappe.db.get_value("Customer", customer, "customer_name") or ""
	alert = frappe.qb.DocType(ALERT)
	stale = (alert.customer == customer) & (Coalesce(alert.customer_name, "") != customer_name)
	for rule, kind in frappe.qb.from_(alert).select(alert.rule, alert.kind).distinct().where(stale).run():
		with in_language(site_language()):
			title = alert_title(rule or kind, customer_name or customer)
		same_rule = alert.rule.isnull() & (alert.kind == kind) if rule is None else alert.rule == rule
		frappe.qb.update(alert).set(alert.customer_name, customer_name).set(alert.title, title).where(
			stale & same_rule
		).run()


def alert_title(rule: str, customer_name: str) -> str:
	"""An alert's title: its rule and its customer, in the current language (a shipped rule's name
	translated; one an administrator named is as named)."""
	return engine.fitted(_("{0}: {1}").format(_(rule), customer_name))


def assign_once(name: str):
	"""The alert's assignees (`_assign`, which frappe makes of its open ToDos after each ToDo's save)
	each named once: a playbook gives one person several tasks of one alert, a ToDo each, and the
	form's sidebar showed their avatar once a task."""
	value = frappe.db.get_value(ALERT, name, "_assign")
	users = frappe.parse_json(value) if value else []
	once = list(dict.fromkeys(users)) if isinstance(users, list) else users
	if once != users:
		frappe.db.set_value(ALERT, name, "_assign", frappe.as_json(once, indent=None), update_modified=False)


def move_assignment(alert, previous: str | None):
	"""The alert's own ToDo (not its tasks') moves from its `previous` assignee to the one it names now."""
	task_todos = {task.todo for task in alert.tasks if task.todo}
	open_todos = frappe.get_all(
		"ToDo",
		filters={"reference_type": ALERT, "reference_name": alert.name, "status": "Open"},
		fields=["name", "allocated_to"],
	)
	for todo in open_todos:
		if previous and todo.allocated_to == previous and todo.name not in task_todos:
			doc = frappe.get_doc("ToDo", todo.name)
			doc.status = "Cancelled"
			doc.save(ignore_permissions=True)
	if not any(todo.allocated_to == alert.assigned_to for todo in open_todos):
		assign_alert(alert)


def on_todo_update(todo, method=None):
	"""doc_events ToDo.on_update: a task's ToDo closed (or cancelled) moves its alert's progress."""
	if todo.reference_type != ALERT or not todo.reference_name:
		return
	assign_once(todo.reference_name)
	status = {"Closed": "Done", "Cancelled": "Cancelled", "Open": "Open"}.get(todo.status)
	task = frappe.qb.DocType("CS Alert Task")
	rows = (
		frappe.qb.from_(task)
		.select(task.name, task.status)
		.where((task.parent == todo.reference_name) & (task.todo == todo.name))
		.run(as_dict=True)
	)
	if not rows or not status or rows[0].status == status:
		return
	frappe.qb.update(task).set(task.status, status).where(task.name == rows[0].name).run()
	refresh_progress(todo.reference_name)


def refresh_progress(name: str):
	"""Recount the alert's tasks; when all are done, ask its assignee to resolve it."""
	alert = frappe.get_doc(ALERT, name)
	done, total, percent = engine.progress([t.as_dict() for t in alert.tasks])
	alert.db_set({"tasks_done": done, "tasks_total": total, "progress": percent}, update_modified=False)
	if total and done == total and alert.status in engine.OPEN_STATUSES:
		notify(name, _("All tasks of alert {0} are done: resolve it with a note.").format(name))


def notify(name: str, subject: str):
	assignee = frappe.db.get_value(ALERT, name, "assigned_to")
	if not assignee or assignee == frappe.session.user:
		return
	from customer_success.utils import bell

	bell(
		assignee,
		{
			"type": "Alert",
			"document_type": ALERT,
			"document_name": name,
			"subject": frappe.utils.escape_html(subject),
			"from_user": frappe.session.user,
		},
	)


def close_todos(alert, status: str = "Closed"):
	"""The alert is closed: its open ToDos (tasks and assignment) go with it."""
	todo = frappe.qb.DocType("ToDo")
	(
		frappe.qb.update(todo)
		.set(todo.status, "Cancelled" if status == "Cancelled" else "Closed")
		.where((todo.reference_type == ALERT) & (todo.reference_name == alert.name) & (todo.status == "Open"))
		.run()
	)
	# frappe keeps the open assignees on the document; a closed alert has none
	frappe.db.set_value(ALERT, alert.name, "_assign", None, update_modified=False)


# --- actions -----------------------------------------------------------------------------------


def close(alert, status: str, note: str | None, auto: bool = False):
	"""Resolve (a note is required) or dismiss (a reason is required) an open alert. A closed one is
	closed already: its resolution or reason is its history, not rewritten."""
	check_open(alert)
	note = (note or "").strip()
	if status == engine.RESOLVED:
		alert.resolution = note or alert.resolution
	else:
		alert.dismiss_reason = note or alert.dismiss_reason
	alert.status = status
	alert.auto_resolved = int(auto)
	alert.save(ignore_permissions=auto or bool(alert.flags.ignore_permissions))


def resolve_merged_away(old: str, new: str) -> list[str]:
	"""Before customer `old` is merged into `new`: `old`'s open alerts of a rule `new` has an open alert
	of are resolved, saying so (one open alert a rule a customer; `new`'s carries on), with their
	ToDos. Returns their names."""
	names = queries.open_alerts_merged_away(old, new)
	note = _("{0} was merged into {1}, whose open alert of this rule carries on.").format(old, new)
	for name in names:
		close(frappe.get_doc(ALERT, name), engine.RESOLVED, note, auto=True)
	return names


def rule_disabled(rule: str):
	"""A rule that resolves its alerts by itself was disabled: nothing will ever resolve its open
	alerts (the nightly pass reads enabled rules only), so they are resolved now, saying why, with
	their ToDos, in batches (a job on the long queue: a rule may have thousands open). A rule whose
	alerts the CSM closes leaves them to her."""
	if frappe.db.get_value(RULE, rule, ["enabled", "auto_resolve"]) != (0, 1):
		return
	alert = frappe.qb.DocType(ALERT)
	names = (
		frappe.qb.from_(alert)
		.select(alert.name)
		.where((alert.rule == rule) & alert.status.isin(engine.OPEN_STATUSES))
		.run(pluck=True)
	)
	note = _("Rule {0} was disabled: nothing more will resolve this alert.").format(rule)
	for start in range(0, len(names), 1000):
		resolve_alerts(names[start : start + 1000], note)
		if not frappe.flags.in_test:
			frappe.db.commit()  # nosemgrep: each batch stands on its own


def close_for_customer_gone(customer: str, why: str) -> list[str]:
	"""A customer disabled, or recorded as churned: its open alerts (risk, expansion, advocacy)
	call for nothing more, so they are resolved, saying why, with their tasks and ToDos. The rules
	raise none for a churned customer (`evaluate`) nor for a disabled one (not active); enabled or
	won back, the next night raises what still holds. Returns the alerts resolved."""
	names = frappe.get_all(
		ALERT, filters={"customer": customer, "status": ("in", engine.OPEN_STATUSES)}, pluck="name"
	)
	for name in names:
		close(frappe.get_doc(ALERT, name), engine.RESOLVED, why, auto=True)
	return names


def auto_resolve(name: str):
	alert = frappe.get_doc(ALERT, name)
	if alert.status in engine.CLOSED_STATUSES:
		return  # closed meanwhile
	close(alert, engine.RESOLVED, _("The condition cleared: resolved by itself."), auto=True)


def check_open(alert):
	"""An action that only an open alert takes (snooze, start work) on a closed one is refused."""
	if alert.status in engine.CLOSED_STATUSES:
		frappe.throw(
			_("Alert {0} is {1} already.").format(alert.name, _(alert.status)),
			title=_("Alert Closed"),
		)


def snooze(alert, until):
	check_open(alert)
	until = date_argument(until, _("Snooze Until"))
	if not until or until <= getdate(nowdate()):
		frappe.throw(_("Snoozed Until must be a date after today."), title=_("Invalid Date"))
	alert.snoozed_until = until
	alert.save()


def create_opportunity(alert) -> str:
	"""An ERPNext Opportunity for the alert's customer: the CSM as owner, the evidence in its notes,
	linked both ways (the alert's `opportunity`; the Opportunity's connections list the alert)."""
	from erpnext.selling.doctype.customer.customer import make_opportunity

	if alert.kind != engine.EXPANSION:
		frappe.throw(
			_("Only an Expansion alert creates an Opportunity; {0} is a {1} alert.").format(
				alert.name, _(alert.kind)
			)
		)
	if alert.opportunity:
		frappe.throw(_("Alert {0} already has Opportunity {1}.").format(alert.name, alert.opportunity))
	opportunity = make_opportunity(alert.customer)
	# ERPNext's setup names the types and stages in the site's language ("销售" on a site set up in
	# Chinese) while the Opportunity's defaults stay "Sales" and "Prospecting": the names this site has
	opportunity.opportunity_type = named_as_on_this_site(
		"Opportunity Type", opportunity.opportunity_type, "Sales"
	)
	opportunity.sales_stage = named_as_on_this_site("Sales Stage", opportunity.sales_stage, "Prospecting")
	opportunity.opportunity_owner = alert.csm or alert.assigned_to or frappe.session.user
	opportunity.title = alert.title
	opportunity.append(
		"notes",
		{
			"note": frappe.utils.escape_html(
				_("From alert {0}: {1}").format(alert.name, alert.summary or alert.title or "")
			),
			"added_by": frappe.session.user,
			"added_on": now_datetime(),
		},
	)
	opportunity.insert()
	alert.db_set({"opportunity": opportunity.name, "opportunity_status": opportunity.status})
	if alert.status == engine.OPEN:
		alert.db_set("status", engine.IN_PROGRESS)
	return opportunity.name


def named_as_on_this_site(doctype: str, default: str | None, english: str) -> str | None:
	"""`default` when a `doctype` record has that name, else `english` in the user's or the site's
	language when one has that, else None (the link left empty rather than failing the insert)."""
	site_language = frappe.db.get_default("lang")
	for name in (default, _(english), _(english, lang=site_language) if site_language else None):
		if name and frappe.db.exists(doctype, name):
			return name
	return None


OPPORTUNITY_OUTCOMES = {"Converted": "Won", "Lost": "Lost", "Closed": "Closed"}


def opportunity_outcome(opportunity: str | None) -> str | None:
	status = frappe.db.get_value("Opportunity", opportunity, "status") if opportunity else None
	return OPPORTUNITY_OUTCOMES.get(status, status)


def on_opportunity_update(opportunity):
	"""The Opportunity's outcome (won / lost) shows on the alerts it came from."""
	outcome = OPPORTUNITY_OUTCOMES.get(opportunity.status, opportunity.status)
	alert = frappe.qb.DocType(ALERT)
	(
		frappe.qb.update(alert)
		.set(alert.opportunity_status, outcome)
		.where((alert.opportunity == opportunity.name) & (alert.opportunity_status != outcome))
		.run()
	)


def on_opportunity_trash(opportunity):
	"""An Opportunity deleted (ERPNext lets one go): a closed alert it came from, whose link no save
	may change, keeps its history without the link that would hold the delete up, and says so on
	its timeline. An open alert keeps it: frappe refuses the delete, as for any record it links,
	and the CSM may unlink it on the alert."""
	alert = frappe.qb.DocType(ALERT)
	closed = (
		frappe.qb.from_(alert)
		.select(alert.name)
		.where((alert.opportunity == opportunity.name) & alert.status.isin(engine.CLOSED_STATUSES))
		.run(pluck=True)
	)
	if not closed:
		return
	frappe.qb.update(alert).set(alert.opportunity, None).where(alert.name.isin(closed)).run()
	for name in closed:
		frappe.get_doc(ALERT, name).add_comment(
			"Info",
			_("Opportunity {0} was deleted; its last status was {1}.").format(
				frappe.utils.escape_html(opportunity.name), _(opportunity.status or "")
			),
		)


def open_alerts_of(customer: str) -> list[dict]:
	"""The customer's open alerts, as the user may see them (most severe first); none for a user
	who may not read alerts at all (sales, accounts: the Customer form is theirs too)."""
	if not frappe.has_permission(ALERT, "read"):
		return []
	rows = frappe.get_list(
		ALERT,
		filters={"customer": customer, "status": ("in", engine.OPEN_STATUSES)},
		fields=[
			"name",
			"title",
			"kind",
			"severity",
			"status",
			"due_date",
			"snoozed_until",
			"assigned_to",
			"progress",
		],
		limit=50,
	)
	today = getdate(nowdate())
	for row in rows:
		row["snoozed"] = engine.is_snoozed(getdate(row.snoozed_until) if row.snoozed_until else None, today)
	return sorted(rows, key=lambda r: (-engine.severity_rank(r.severity), str(r.due_date or "")))
