"""Alerts: the pure decisions. Each rule kind's condition, the noise control (dedupe, snooze, caps,
cool-down, auto-resolve), due dates by severity, who does a playbook task and its progress.

Plain data in, plain data out; never imports frappe. Each rule function gets one customer's facts
(as the queries aggregate them for the whole book) and returns a `Finding` when the rule fires,
else None. A finding's facts hold dates, never day counts ("last touched on", not "days since"):
they stay the same from one day to the next while nothing changes, so the nightly pass rewrites
an open alert only when its facts really moved.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import customer_success.voice.engine as voice
from customer_success.numbers import is_number, round2

RISK, EXPANSION, ADVOCACY, LIFECYCLE = "Risk", "Expansion", "Advocacy", "Lifecycle"
KINDS = (RISK, EXPANSION, ADVOCACY, LIFECYCLE)

LOW, MEDIUM, HIGH, CRITICAL = "Low", "Medium", "High", "Critical"
SEVERITIES = (LOW, MEDIUM, HIGH, CRITICAL)

OPEN, IN_PROGRESS, RESOLVED, DISMISSED = "Open", "In Progress", "Resolved", "Dismissed"
STATUSES = (OPEN, IN_PROGRESS, RESOLVED, DISMISSED)
OPEN_STATUSES = (OPEN, IN_PROGRESS)
CLOSED_STATUSES = (RESOLVED, DISMISSED)

GREEN, YELLOW, RED = "Green", "Yellow", "Red"

# The rule kinds (a fixed set): each is one function below.
HEALTH_RED = "Health Turned Red"
HEALTH_DROP = "Health Dropped"
RENEWAL_AT_RISK = "Renewal Near, Health Not Green"
OVERDUE_RECEIVABLE = "Overdue Receivable"
MILESTONES_OVERDUE = "Milestones Overdue"
CHECKIN_OVERDUE = "Check-in Overdue"
NO_TOUCH = "No Touch"
STAKEHOLDER_LEFT = "Key Stakeholder Left"
OBJECTIVES_ACHIEVED = "Objectives Achieved"
GREEN_BEFORE_RENEWAL = "Green Before Renewal"
ONBOARDING_LATE = "Onboarding Past Go-Live"
# The customer's voice (NPS Response): a promoter on a green account, a detractor's answer.
NPS_PROMOTER_GREEN = "NPS Promoter, Health Green"
NPS_DETRACTOR = "NPS Detractor Answer"
USAGE_NEAR_ENTITLEMENT = "Usage Near Entitlement"

RULE_KINDS = {
	HEALTH_RED: RISK,
	HEALTH_DROP: RISK,
	RENEWAL_AT_RISK: RISK,
	OVERDUE_RECEIVABLE: RISK,
	MILESTONES_OVERDUE: RISK,
	CHECKIN_OVERDUE: RISK,
	NO_TOUCH: RISK,
	STAKEHOLDER_LEFT: RISK,
	OBJECTIVES_ACHIEVED: EXPANSION,
	GREEN_BEFORE_RENEWAL: EXPANSION,
	ONBOARDING_LATE: LIFECYCLE,
	NPS_PROMOTER_GREEN: ADVOCACY,
	NPS_DETRACTOR: RISK,
	USAGE_NEAR_ENTITLEMENT: EXPANSION,
}
RULE_TYPES = tuple(RULE_KINDS)

# The parameters each rule kind reads ("threshold": points, an amount or a count; "days").
RULE_PARAMS = {
	HEALTH_RED: (),
	HEALTH_DROP: ("threshold", "days"),
	RENEWAL_AT_RISK: ("days",),
	OVERDUE_RECEIVABLE: ("threshold", "days"),
	MILESTONES_OVERDUE: ("threshold",),
	CHECKIN_OVERDUE: ("days",),
	NO_TOUCH: ("days",),
	STAKEHOLDER_LEFT: (),
	OBJECTIVES_ACHIEVED: (),
	GREEN_BEFORE_RENEWAL: ("days",),
	ONBOARDING_LATE: ("days",),
	NPS_PROMOTER_GREEN: ("days",),
	NPS_DETRACTOR: ("days",),
	USAGE_NEAR_ENTITLEMENT: ("threshold", "days"),
}

# Who a playbook task goes to.
CSM, CS_MANAGER, SALES_OWNER, ACCOUNT_MANAGER = "CSM", "CS Manager", "Sales Owner", "Account Manager"
TASK_ROLES = (CSM, CS_MANAGER, SALES_OWNER, ACCOUNT_MANAGER)


@dataclass
class Finding:
	"""A rule that fired for one customer: its severity, the facts behind it and the records."""

	severity: str
	facts: dict = field(default_factory=dict)
	records: list = field(default_factory=list)  # [(doctype, name), ...]


# --- severities ------------------------------------------------------------------------------


_SEVERITY_RANKS = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def severity_rank(severity: str | None) -> int:
	"""The severity's place in SEVERITIES (-1 for anything else): a dict look-up, asked twice for
	every finding of a nightly pass."""
	try:
		return _SEVERITY_RANKS.get(severity, -1)
	except TypeError:  # not hashable: no severity
		return -1


def escalate(severity: str) -> str:
	"""One level up (Critical stays Critical)."""
	rank = severity_rank(severity)
	return SEVERITIES[min(rank + 1, len(SEVERITIES) - 1)] if rank >= 0 else severity


# The health rules' alerts keep the figures they fired with. Their evidence holds the score, and
# the score moves a little most nights as its date windows move (days since the last touch, to the
# contract's end): followed night after night, a quarter of a book's open alerts would be rewritten
# for a figure the customer's own form already shows as it is today. So such an alert is written
# again only when its severity moves (a deeper drop, the rule's severity edited), with that day's
# figures; the other rules' evidence holds dates and amounts, which stay put while nothing changes.
FIGURES_KEPT = (HEALTH_RED, HEALTH_DROP)


def rewrites_evidence(kind: str, stored_severity: str | None, finding: Finding) -> bool:
	"""Whether a re-fired open alert of rule kind `kind`, stored with `stored_severity`, is written
	again with `finding` (when its evidence also differs: the pass compares digests after this)."""
	return kind not in FIGURES_KEPT or finding.severity != stored_severity


def due_date(severity: str, today: date, due_days: dict) -> date:
	"""An alert is due `due_days[severity]` days after it is raised (0 means the same day)."""
	days = due_days.get(severity)
	return today + timedelta(days=int(days) if is_number(days) and float(days) > 0 else 0)


# --- parameters ------------------------------------------------------------------------------


def param_problems(rule_type: str, threshold, days) -> list[str]:
	"""The parameters of a rule that cannot work: "rule_type", "threshold" or "days"."""
	if rule_type not in RULE_KINDS:
		return ["rule_type"]
	problems = []
	needed = RULE_PARAMS[rule_type]
	if "threshold" in needed and (not is_number(threshold) or float(threshold) < 0):
		problems.append("threshold")
	if "days" in needed and (
		not is_number(days) or not 0 <= float(days) <= MAX_RULE_DAYS or float(days) != int(float(days))
	):
		problems.append("days")
	return problems


# A rule looks back (or ahead) at most ten years: a larger Days is a typo, and dates that far
# from today do not exist (a rule with one failed every customer of every night).
MAX_RULE_DAYS = 3650


def _days(value, default: int = 0) -> int:
	return int(value) if is_number(value) and float(value) >= 0 else default


# --- the rule kinds ----------------------------------------------------------------------------


def health_red(status: str | None, score, severity: str) -> Finding | None:
	"""Fires while the customer's health is Red (an unknown colour never fires)."""
	if status != RED:
		return None
	return Finding(severity, {"status": status, "score": score})


def health_drop(score_now, score_then, status: str | None, threshold, days, severity: str) -> Finding | None:
	"""Fires when the score fell by at least `threshold` points since `days` ago. Twice the
	threshold raises the severity one level. A customer with no colour today has no score to compare."""
	if status not in (GREEN, YELLOW, RED) or not (is_number(score_now) and is_number(score_then)):
		return None
	drop = round2(float(score_then) - float(score_now))
	threshold = float(threshold or 0)
	if drop <= 0 or drop < threshold:
		return None
	if threshold > 0 and drop >= 2 * threshold:
		severity = escalate(severity)
	return Finding(severity, {"score": score_now, "score_then": score_then, "drop": drop, "days": days})


def renewal_at_risk(contract_end: date | None, status: str | None, today: date, days, severity: str):
	"""Fires when the latest contract ends within `days` and health is Yellow or Red (Red: one
	level higher). A customer with no colour is not called at risk: the score does not know."""
	if not contract_end or status not in (YELLOW, RED):
		return None
	left = (contract_end - today).days
	if left < 0 or left > _days(days):
		return None
	if status == RED:
		severity = escalate(severity)
	return Finding(severity, {"contract_end": contract_end, "status": status})


def overdue_receivable(overdue, oldest_due: date | None, today: date, amount, days, severity: str):
	"""Fires when overdue receivables exceed `amount`, or the oldest is more than `days` overdue
	(`days` 0: the age alone never fires). Twice either limit raises the severity one level."""
	overdue = float(overdue) if is_number(overdue) else 0.0
	if overdue <= 0:
		return None
	amount = float(amount or 0)
	days = _days(days)
	age = (today - oldest_due).days if oldest_due else 0
	over_amount = overdue > amount
	too_old = days > 0 and age > days
	if not (over_amount or too_old):
		return None
	if (amount > 0 and overdue > 2 * amount) or (days > 0 and age > 2 * days):
		severity = escalate(severity)
	return Finding(severity, {"overdue": round2(overdue), "oldest_due": oldest_due})


def milestones_overdue(milestones: list[dict], today: date, threshold, severity: str):
	"""Fires when at least `threshold` (at least 1) open milestones are past their due date."""
	late = [m for m in milestones if m.get("due_date") and m["due_date"] < today]
	if not late or len(late) < max(1, int(float(threshold or 0))):
		return None
	oldest = min(m["due_date"] for m in late)
	return Finding(
		severity,
		{"count": len(late), "oldest_due": oldest},
		[("Success Plan Milestone", m["name"]) for m in late],
	)


def checkin_overdue(plans: list[dict], today: date, cadence_days, grace_days, severity: str):
	"""Fires when a running plan has had no completed check-in (since its start) for longer than
	the cadence plus `grace_days`."""
	cadence = _days(cadence_days, 90)
	late = []
	for plan in plans:
		since = plan.get("last_checkin") or plan.get("start_date")
		if since and (today - since).days > cadence + _days(grace_days):
			late.append((plan, since))
	if not late:
		return None
	return Finding(
		severity,
		{"plans": len(late), "since": min(since for _, since in late), "cadence_days": cadence},
		[("Success Plan", plan["name"]) for plan, _ in late],
	)


def no_touch(last_touch: date | None, is_live: bool, today: date, days, severity: str):
	"""Fires for a live customer (an order, invoice or contract) not touched for `days` days, or
	never touched at all."""
	if not is_live:
		return None
	since = (today - last_touch).days if last_touch else None
	if since is not None and since < _days(days):
		return None
	return Finding(severity, {"last_touch": last_touch})


def stakeholder_left(stakeholders: list[dict], severity: str):
	"""Fires when a champion or economic buyer recorded on a handoff has gone: their contact is
	disabled (its user is), no longer linked to the customer, or marked as having left."""
	gone = [
		s
		for s in stakeholders
		if (s.get("is_champion") or s.get("is_economic_buyer"))
		and (s.get("disabled") or not s.get("linked") or s.get("left"))
	]
	if not gone:
		return None
	return Finding(
		severity,
		{
			"stakeholders": [
				{
					"name": s.get("stakeholder_name") or s.get("contact"),
					"role": "Champion" if s.get("is_champion") else "Economic Buyer",
					"why": "left" if s.get("left") else ("disabled" if s.get("disabled") else "unlinked"),
				}
				for s in gone
			]
		},
		[("Contact", s["contact"]) for s in gone if s.get("contact")]
		+ sorted({("Sales Handoff", s["handoff"]) for s in gone if s.get("handoff")}),
	)


def objectives_achieved(plans: list[dict], severity: str):
	"""Fires when every objective of a running plan is achieved (a plan with none never fires)."""
	done = [
		p for p in plans if int(p.get("objectives") or 0) > 0 and p.get("achieved") == p.get("objectives")
	]
	if not done:
		return None
	return Finding(
		severity,
		{"plans": len(done), "objectives": sum(int(p["objectives"]) for p in done)},
		[("Success Plan", p["name"]) for p in done],
	)


def green_before_renewal(status: str | None, contract_end: date | None, today: date, days, severity: str):
	"""Fires when health is Green and the latest contract ends within `days`: ask for more."""
	if status != GREEN or not contract_end:
		return None
	left = (contract_end - today).days
	if left < 0 or left > _days(days):
		return None
	return Finding(severity, {"contract_end": contract_end})


def onboarding_late(
	stage: str | None, go_live: date | None, open_milestones: int, today: date, days, severity
):
	"""Fires for a customer still in Onboarding more than `days` past the go-live planned on its
	handoff, with milestones still open."""
	if stage != "Onboarding" or not go_live or not open_milestones:
		return None
	late_by = (today - go_live).days
	if late_by <= _days(days):
		return None
	return Finding(severity, {"go_live": go_live, "open_milestones": int(open_milestones)})


def _within(day: date | None, today: date, days) -> bool:
	"""`day` is no more than `days` days before today (a day in the future counts as today)."""
	return day is not None and (today - day).days <= _days(days)


def nps_promoter_green(latest: dict | None, status: str | None, today: date, days, severity: str):
	"""Fires when the customer's latest NPS answer (within `days` days) is a promoter's (9-10) and
	health is Green: the moment to ask for a reference, a case study or a referral."""
	if status != GREEN or not latest or voice.category(latest.get("score")) != voice.PROMOTER:
		return None
	if not _within(latest.get("answered_on"), today, days):
		return None
	return Finding(
		severity,
		{"score": int(latest["score"]), "answered_on": latest["answered_on"], "status": status},
		[("NPS Response", latest["name"])],
	)


# A detractor this low is angry, not lukewarm: one level more severe.
STRONG_DETRACTOR_SCORE = 3


def nps_detractor(answers: list[dict], today: date, days, severity: str):
	"""Fires when a contact answered as a detractor (0-6) within `days` days. A score of 3 or less
	(an angry customer, not a lukewarm one) raises the severity one level."""
	bad = [
		a
		for a in answers
		if voice.category(a.get("score")) == voice.DETRACTOR and _within(a.get("answered_on"), today, days)
	]
	if not bad:
		return None
	lowest = min(int(a["score"]) for a in bad)
	if lowest <= STRONG_DETRACTOR_SCORE:
		severity = escalate(severity)
	bad.sort(key=lambda a: (a["answered_on"], a["name"]))
	return Finding(
		severity,
		{"answers": len(bad), "lowest": lowest, "latest_on": bad[-1]["answered_on"]},
		[("NPS Response", a["name"]) for a in bad],
	)


def usage_near_entitlement(metrics: list[dict], threshold, severity: str):
	"""Fires when a metric's usage over the window is at least `threshold` percent of the customer's
	entitlement (0 or unset: 100 %): time to talk about more. A metric already used beyond its whole
	entitlement raises the severity one level. `metrics` are the usage room's figures per metric
	({metric, used, entitlement, utilisation}); a metric without an entitlement never fires."""
	limit = float(threshold) if is_number(threshold) and float(threshold) > 0 else 100.0
	near = sorted(
		(m for m in metrics or [] if is_number(m.get("utilisation")) and 100.0 * m["utilisation"] >= limit),
		key=lambda m: (-m["utilisation"], m["metric"]),
	)
	if not near:
		return None
	if near[0]["utilisation"] > 1.0:
		severity = escalate(severity)
	return Finding(
		severity,
		{
			"threshold": limit,
			"metrics": [
				{
					"metric": m["metric"],
					"used": m.get("used"),
					"entitlement": m.get("entitlement"),
					"percent": round2(100.0 * m["utilisation"]),
				}
				for m in near
			],
		},
		[("Usage Metric Definition", m["metric"]) for m in near],
	)


# --- noise control ---------------------------------------------------------------------------


@dataclass
class Actions:
	"""What one evaluation does: raise new alerts, update open ones, resolve cleared ones, and the
	findings held back (by the weekly cap or a dismissal's cool-down)."""

	raise_: list = field(default_factory=list)  # [(customer, rule, Finding)]
	update: list = field(default_factory=list)  # [(alert name, Finding, wake)]
	resolve: list = field(default_factory=list)  # [alert name]
	held: list = field(default_factory=list)  # [(customer, rule, "cap" | "cooldown")]


def plan_actions(
	findings: dict,
	open_alerts: dict,
	recently_dismissed: set,
	raised_this_week: dict,
	weekly_cap,
	auto_resolve_rules: set,
	evaluated: set,
	today: date,
	kept: set | frozenset = frozenset(),
) -> Actions:
	"""Decide, for every (customer, rule) evaluated, what happens to its alert.

	`findings`: {(customer, rule): Finding} of the rules that fired. `open_alerts`: {(customer,
	rule): {"name", "severity", "snoozed_until"}}. A rule that fires again updates its open alert
	(never a second one); a snoozed alert is updated quietly until its date, unless its severity
	rises (then it wakes). A dismissed (customer, rule) is not raised again during its cool-down;
	at most `weekly_cap` new alerts per customer per week, the most severe first; a Critical one is
	never held back by the cap (it counts towards it). An open alert of
	an auto-resolving rule whose condition cleared (its customer was evaluated and it did not fire)
	is resolved, unless its key is `kept`: a health rule's alert of a customer whose health has no
	colour tonight, whose condition is not known to have cleared (tester Z2: a Red customer's
	"Health Turned Red" resolved on a night of Insufficient Data, and the weekly cap, full, held its
	return back).
	"""
	actions = Actions()
	cap = int(weekly_cap) if is_number(weekly_cap) and float(weekly_cap) > 0 else None
	new_by_customer: dict[str, list] = {}
	for key, finding in findings.items():
		alert = open_alerts.get(key)
		if alert:
			rose = severity_rank(finding.severity) > severity_rank(alert.get("severity"))
			snoozed = alert.get("snoozed_until") and alert["snoozed_until"] > today
			actions.update.append((alert["name"], finding, bool(snoozed and rose)))
		elif key in recently_dismissed:
			actions.held.append((key[0], key[1], "cooldown"))
		else:
			new_by_customer.setdefault(key[0], []).append((key[1], finding))
	for customer, new in sorted(new_by_customer.items()):
		new.sort(key=lambda item: (-severity_rank(item[1].severity), item[0]))
		room = None if cap is None else max(cap - int(raised_this_week.get(customer) or 0), 0)
		for index, (rule, finding) in enumerate(new):
			if room is not None and index >= room and finding.severity != CRITICAL:
				actions.held.append((customer, rule, "cap"))
			else:
				actions.raise_.append((customer, rule, finding))
	for key, alert in open_alerts.items():
		if key[0] in evaluated and key[1] in auto_resolve_rules and key not in findings and key not in kept:
			actions.resolve.append(alert["name"])
	return actions


def is_snoozed(snoozed_until: date | None, today: date) -> bool:
	return bool(snoozed_until) and snoozed_until > today


# --- status and playbook -----------------------------------------------------------------------

TRANSITIONS = {
	None: (OPEN, IN_PROGRESS),
	OPEN: (OPEN, IN_PROGRESS, RESOLVED, DISMISSED),
	IN_PROGRESS: (IN_PROGRESS, RESOLVED, DISMISSED),
	RESOLVED: (RESOLVED,),
	DISMISSED: (DISMISSED,),
}


def transition_allowed(old: str | None, new: str) -> bool:
	"""Open -> In Progress -> Resolved / Dismissed; a closed alert stays closed."""
	return new in TRANSITIONS.get(old, ())


def task_assignee(role: str | None, people: dict) -> str | None:
	"""The user a task goes to: the one holding `role` for this customer, else the CSM, else a CS
	Manager."""
	return people.get(role or CSM) or people.get(CSM) or people.get(CS_MANAGER)


def task_due(today: date, offset_days) -> date:
	return today + timedelta(days=_days(offset_days))


def progress(tasks: list[dict]) -> tuple[int, int, float]:
	"""(done, counted, percent) of a playbook's tasks; cancelled tasks do not count."""
	counted = [t for t in tasks if t.get("status") != "Cancelled"]
	done = sum(1 for t in counted if t.get("status") == "Done")
	return done, len(counted), round2(100.0 * done / len(counted)) if counted else 0.0


def playbook_tasks(tasks: list[dict], people: dict, today: date) -> list[dict]:
	"""The alert's tasks from its playbook's (in their order): each assigned by its role, due its
	offset after today, open."""
	return [
		{
			"title": task.get("title"),
			"description": task.get("description"),
			"assign_role": task.get("assign_to"),
			"assigned_to": task_assignee(task.get("assign_to"), people),
			"due_date": task_due(today, task.get("offset_days")),
			"status": "Open",
		}
		for task in sorted(tasks, key=lambda t: t.get("idx") or 0)
	]


def alert_todos(assignee: str | None, tasks: list[dict]) -> list[tuple[str, int | None]]:
	"""Who gets a ToDo for a new alert, in the order they are created: (user, index of the task)
	for each assigned task, then (assignee, None) for the alert itself unless a task already put it
	on the assignee's list (Frappe's assign_to keeps one open assignment per user)."""
	todos = [(task["assigned_to"], index) for index, task in enumerate(tasks) if task.get("assigned_to")]
	if assignee and assignee not in {user for user, _ in todos}:
		todos.append((assignee, None))
	return todos


# A Data field's length (a customer's name, an alert's title and its open key).
DATA_LENGTH = 140
# An open rule alert's key, unique (`CS Alert.open_key`): the customer and the rule; a longer pair (a
# customer's name may be 140 characters itself) is kept as its MD5, as `queries.rekey_open_alerts`
# computes it in SQL.
OPEN_KEY_LENGTH = DATA_LENGTH


def open_key(customer: str, rule: str) -> str:
	key = f"{customer}::{rule}"
	if len(key) <= OPEN_KEY_LENGTH:
		return key
	return "md5:" + hashlib.md5(key.encode()).hexdigest()


def fitted(text: str, length: int = DATA_LENGTH) -> str:
	"""`text` cut to a Data field's 140 characters, an ellipsis marking the cut (an alert's title,
	"{rule}: {customer name}", outgrows it with a long customer name, and a longer value fails the
	write: the whole night's alerts of the chunk, written set-based)."""
	return text if len(text) <= length else text[: length - 1] + "…"
