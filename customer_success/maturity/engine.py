"""Maturity: the pure level rules of the CS maturity model (PRODUCT.md §9).

Eight capabilities and three enablers, each on five levels. Each rule is a function of a facts
dict (what maturity/queries.py gathers from the company's own records) and returns a `Proposal`:
the level, the evidence that placed it there and what the next level needs. Messages are English
source strings with `{0}` placeholders and their arguments; the caller translates them.

A level is reached only when every level below it is: the rules climb one step at a time and stop
at the first step the facts do not support.

Plain data in, plain data out; never imports frappe.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CAPABILITY, ENABLER = "Capability", "Enabler"

SEGMENTATION = "Segmentation"
LIFECYCLE = "Lifecycle"
RISK = "Risk"
VALUE_PROOF = "Value Proof"
DATA = "Data"
HEALTH = "Health"
EXPANSION = "Expansion"
ADVOCACY = "Advocacy"
LEADERSHIP = "Leadership Buy-in"
TEAM = "Team Structure"
TOOLING = "Tooling"

CAPABILITIES = (SEGMENTATION, LIFECYCLE, RISK, VALUE_PROOF, DATA, HEALTH, EXPANSION, ADVOCACY)
ENABLERS = (LEADERSHIP, TEAM, TOOLING)
AREAS = CAPABILITIES + ENABLERS

MIN_LEVEL, MAX_LEVEL = 1, 5

# Shares the rules read ("most" customers, "every" customer allowing for none).
MOST = 50.0
NEARLY_ALL = 80.0
ALL = 100.0

Message = tuple[str, tuple]


@dataclass
class Proposal:
	level: int
	evidence: list[Message] = field(default_factory=list)
	next_needs: Message | None = None


class Share(float):
	"""A percentage, compared as it is and shown to one decimal, rounded down: 2,000 customers of
	2,001 are 99.9 %, neither "every" customer nor shown as 100.0 % (rounded first, 99.95 % passed
	the checks for all of them, and 79.96 % those for 80 %)."""

	def __format__(self, spec: str) -> str:
		return format(math.floor(float(self) * 10 + 1e-9) / 10, spec)

	def __str__(self) -> str:
		return self.__format__("")


def share(part, whole) -> Share:
	"""part of whole in %, 0 when there is no whole."""
	return Share(100.0 * (part or 0) / whole if whole else 0.0)


def _num(facts: dict, key: str) -> float:
	value = facts.get(key)
	return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def climb(steps: list[tuple[bool, Message, Message]]) -> Proposal:
	"""Level 1 plus one for each step met in order; a step's first message is its evidence when met,
	its second what the next level needs when it is not."""
	proposal = Proposal(MIN_LEVEL)
	for met, evidence, needs in steps:
		if not met:
			proposal.next_needs = needs
			break
		proposal.level += 1
		proposal.evidence.append(evidence)
	return proposal


def with_facts(proposal: Proposal, lines: list[Message]) -> Proposal:
	"""Add the facts a reader needs to check the level."""
	proposal.evidence = lines + proposal.evidence
	return proposal


# --- the eight capabilities ----------------------------------------------------------------------


def segmentation(f: dict) -> Proposal:
	"""none → a-priori (tiers) → needs-based (segments) → needs + value → each segment validated."""
	active = _num(f, "active_customers")
	tiered = share(_num(f, "with_tier"), active)
	segmented = share(_num(f, "with_segment"), active)
	both = share(_num(f, "with_tier_and_segment"), active)
	in_use, measured = _num(f, "segments_in_use"), _num(f, "segments_measured")
	return with_facts(
		climb(
			[
				(
					tiered >= MOST,
					("{0}% of active customers have a tier.", (tiered,)),
					("Most active customers (at least {0}%) need a tier.", (MOST,)),
				),
				(
					segmented >= MOST and _num(f, "segments_with_needs") > 0,
					("{0}% of active customers have a segment that names their needs.", (segmented,)),
					(
						"Define Customer Segments with the needs they stand for and set one on most active customers (at least {0}%).",
						(MOST,),
					),
				),
				(
					both >= NEARLY_ALL
					and bool(f.get("tiers_computed"))
					and _num(f, "templates_for_segments") > 0,
					(
						"Tiers are computed from revenue bands, {0}% of active customers have a tier and a segment, and plan templates fit segments.",
						(both,),
					),
					(
						"Compute tiers from revenue bands, give {0}% of active customers a tier and a segment, and fit a plan template to a segment.",
						(NEARLY_ALL,),
					),
				),
				(
					in_use > 0 and measured >= in_use,
					("Every segment in use ({0}) has its performance measured.", (int(in_use),)),
					(
						"Measure every segment in use: at least {0}% of each segment's customers with a health colour and revenue in the last 12 months (Segment Performance report).",
						(NEARLY_ALL,),
					),
				),
			]
		),
		[("Active customers: {0}.", (int(active),))],
	)


def lifecycle(f: dict) -> Proposal:
	"""none → touchpoints per segment → procedures per touchpoint → automated milestone reminders
	→ automated touches."""
	touchpoints = _num(f, "touchpoints")
	with_procedure = _num(f, "touchpoints_with_procedure")
	closed, done = _num(f, "touchpoints_closed_90d"), _num(f, "touchpoints_done_90d")
	done_share = share(done, closed)
	return climb(
		[
			(
				touchpoints > 0,
				("{0} lifecycle touchpoints are planned per tier or segment.", (int(touchpoints),)),
				("Plan lifecycle touchpoints per tier or segment (Lifecycle Touchpoint).", ()),
			),
			(
				with_procedure >= touchpoints,
				("Every touchpoint has its procedure written down.", ()),
				(
					"Write the procedure of every touchpoint ({0} of {1} have one).",
					(int(with_procedure), int(touchpoints)),
				),
			),
			(
				bool(f.get("reminders_on")) and _num(f, "touchpoints_planned_90d") > 0,
				(
					"Milestone reminders are on and {0} touchpoints became ToDos in the last 90 days.",
					(int(_num(f, "touchpoints_planned_90d")),),
				),
				(
					"Turn on ToDos and milestone reminders in Customer Success Settings and let the daily job plan touchpoints.",
					(),
				),
			),
			(
				closed > 0 and done_share >= NEARLY_ALL,
				(
					"{0}% of the touchpoints whose window closed in the last 90 days were done and recorded automatically.",
					(done_share,),
				),
				(
					"At least {0}% of touchpoints done in their window, recorded from Communications, Events and check-ins (now {1}%).",
					(NEARLY_ALL, done_share),
				),
			),
		]
	)


def risk(f: dict) -> Proposal:
	"""none → risks identified → handling procedure → proactive alerts → automated handling."""
	auto = _num(f, "auto_risk_alerts_90d")
	handled = share(_num(f, "auto_risk_alerts_with_playbook_90d"), auto)
	return climb(
		[
			(
				_num(f, "risks_identified_365d") > 0,
				(
					"{0} risks were identified in the last 12 months (risk alerts, plans at risk).",
					(int(_num(f, "risks_identified_365d")),),
				),
				("Record risks: raise Risk alerts or mark plans At Risk.", ()),
			),
			(
				_num(f, "risk_playbooks") > 0,
				("{0} risk playbooks describe how a risk is handled.", (int(_num(f, "risk_playbooks")),)),
				("Write a Risk playbook with its tasks (CS Playbook).", ()),
			),
			(
				_num(f, "risk_rules") > 0 and auto > 0,
				("{0} risk alerts were raised automatically in the last 90 days.", (int(auto),)),
				("Enable Risk alert rules so risk alerts are raised automatically.", ()),
			),
			(
				handled >= NEARLY_ALL,
				("{0}% of automatic risk alerts ran a playbook.", (handled,)),
				(
					"Attach playbooks to the risk rules: at least {0}% of automatic risk alerts should run one (now {1}%).",
					(NEARLY_ALL, handled),
				),
			),
		]
	)


def value_proof(f: dict) -> Proposal:
	"""none → goals tracked in one place → progress tracked uniformly → value proven uniformly
	→ value proven automatically."""
	plans = _num(f, "running_plans")
	measurable = _num(f, "running_plans_measurable")
	checked = share(_num(f, "running_plans_checked_in"), plans)
	reviewed = share(_num(f, "customers_reviewed_365d"), _num(f, "active_customers"))
	return with_facts(
		climb(
			[
				(
					_num(f, "plans_with_objectives") > 0,
					(
						"{0} success plans hold the customers' objectives in one place.",
						(int(_num(f, "plans_with_objectives")),),
					),
					("Track the customers' goals as objectives on success plans.", ()),
				),
				(
					plans > 0 and measurable >= plans,
					("Every running plan has objectives with a baseline and a target.", ()),
					(
						"Give every running plan objectives with a baseline and a target ({0} of {1} have them).",
						(int(measurable), int(plans)),
					),
				),
				(
					checked >= NEARLY_ALL,
					("{0}% of running plans had a check-in within the cadence.", (checked,)),
					(
						"Check in on at least {0}% of running plans within the cadence (now {1}%).",
						(NEARLY_ALL, checked),
					),
				),
				(
					reviewed > MOST,
					(
						"Business reviews were produced for {0}% of active customers in the last 12 months.",
						(reviewed,),
					),
					(
						"Produce business reviews for most active customers (over {0}%; now {1}%).",
						(MOST, reviewed),
					),
				),
			]
		),
		[("Running plans: {0}.", (int(plans),))],
	)


def data(f: dict) -> Proposal:
	"""none → data in several systems → one customer view → shared with other teams → insight drives
	decisions."""
	active = _num(f, "active_customers")
	one_view = share(_num(f, "customers_owned_and_scored"), active)
	closed = _num(f, "alerts_closed_90d")
	acted = share(_num(f, "alerts_resolved_90d"), closed)
	return climb(
		[
			(
				active > 0,
				("{0} active customers have orders, invoices or contracts in ERPNext.", (int(active),)),
				("Record the customers' orders, invoices or contracts in ERPNext.", ()),
			),
			(
				one_view >= NEARLY_ALL,
				("{0}% of active customers have a CSM and a health score on one record.", (one_view,)),
				(
					"Give at least {0}% of active customers a CS Owner and a health score (now {1}%).",
					(NEARLY_ALL, one_view),
				),
			),
			(
				_num(f, "shared_with_sales_365d") > 0,
				(
					"Sales and CS share the customer record: {0} handoffs and opportunities in the last 12 months.",
					(int(_num(f, "shared_with_sales_365d")),),
				),
				(
					"Share the customer record with sales: hand over deals and turn expansion alerts into Opportunities.",
					(),
				),
			),
			(
				closed > 0 and acted >= MOST,
				("{0}% of the alerts closed in the last 90 days were acted on (resolved).", (acted,)),
				(
					"Act on the insight: at least {0}% of closed alerts resolved rather than dismissed (now {1}%).",
					(MOST, acted),
				),
			),
		]
	)


def health(f: dict) -> Proposal:
	"""none → manual red/yellow/green → manual multi-factor → automatic + manual → fully automatic."""
	active = _num(f, "active_customers")
	scored = share(_num(f, "scored_recently"), active)
	stale = _num(f, "overrides_past_expiry")
	return climb(
		[
			(
				_num(f, "customers_with_colour_or_sentiment") > 0,
				("Customers carry a red/yellow/green colour or a CSM sentiment.", ()),
				("Rate customers red, yellow or green, or record the CSM's sentiment.", ()),
			),
			(
				_num(f, "enabled_models_multi_factor") > 0,
				("An enabled health model weighs several factors.", ()),
				("Enable a health score model with at least three weighted factors.", ()),
			),
			(
				bool(f.get("nightly_on")) and scored > MOST,
				(
					"The model scores automatically each night: {0}% of active customers scored in the last 2 days.",
					(scored,),
				),
				(
					"Turn on the nightly recompute so most active customers (over {0}%) are scored automatically (now {1}%).",
					(MOST, scored),
				),
			),
			(
				scored >= ALL and stale == 0,
				("Every active customer is scored nightly and no manual override outlived its expiry.", ()),
				(
					"Score every active customer nightly ({0}% now) with no manual override older than its expiry ({1} are).",
					(scored, int(stale)),
				),
			),
		]
	)


def _follow_through(kind: str, f: dict, prefix: str) -> Proposal:
	"""Expansion and advocacy share their ladder: manual → proactive identification → automatic
	alerts → automated follow-up."""
	manual = _num(f, f"{prefix}_manual_365d")
	alerts = _num(f, f"{prefix}_alerts_365d")
	auto = _num(f, f"{prefix}_auto_alerts_365d")
	followed = share(_num(f, f"{prefix}_auto_followed_365d"), auto)
	return climb(
		[
			(
				manual > 0 or alerts > 0,
				("{0} {1} opportunities were pursued in the last 12 months.", (int(manual + alerts), kind)),
				("Record {0} opportunities (an alert or an Opportunity of an existing customer).", (kind,)),
			),
			(
				alerts > 0,
				("{0} {1} alerts identified customers proactively.", (int(alerts), kind)),
				("Identify {0} candidates proactively with {0} alerts.", (kind,)),
			),
			(
				_num(f, f"{prefix}_rules") > 0 and auto > 0,
				("{0} {1} alerts were raised automatically by rules.", (int(auto), kind)),
				("Enable {0} alert rules so candidates are raised automatically.", (kind,)),
			),
			(
				followed >= MOST,
				(
					"{0}% of automatic {1} alerts were followed up by a playbook or an Opportunity.",
					(followed, kind),
				),
				(
					"Follow up automatic {0} alerts with a playbook or an Opportunity (at least {1}%; now {2}%).",
					(kind, MOST, followed),
				),
			),
		]
	)


def expansion(f: dict) -> Proposal:
	return _follow_through(EXPANSION, f, "expansion")


def advocacy(f: dict) -> Proposal:
	return _follow_through(ADVOCACY, f, "advocacy")


# --- the three enablers: proposals from what the records show, meant to be adjusted ---------------


def leadership(f: dict) -> Proposal:
	"""Buy-in cannot be read from records. Proposed from what leadership visibly does: a CS Manager
	exists (2), looked at maturity before (3), at least twice in the last 12 months (4), quarterly
	(5)."""
	earlier = _num(f, "earlier_assessments_365d")
	return climb(
		[
			(
				_num(f, "cs_managers") > 0,
				("{0} people hold the CS Manager role.", (int(_num(f, "cs_managers")),)),
				("Name a CS Manager (the CS Manager role).", ()),
			),
			(
				_num(f, "earlier_assessments") > 0,
				("Leadership has assessed CS maturity before.", ()),
				("Assess CS maturity again later to show it is followed.", ()),
			),
			(
				earlier >= 2,
				("{0} earlier assessments in the last 12 months.", (int(earlier),)),
				("Assess CS maturity at least twice a year.", ()),
			),
			(
				earlier >= 3,
				("Maturity is reviewed every quarter.", ()),
				("Review CS maturity every quarter.", ()),
			),
		]
	)


def team_structure(f: dict) -> Proposal:
	"""Proposed from CSMs against customers: CSMs exist (2), most customers have one (3), every active
	customer has one and books are balanced (4), a CS Manager leads two or more CSMs (5)."""
	active = _num(f, "active_customers")
	owned = share(_num(f, "customers_owned"), active)
	csms = _num(f, "csms")
	largest, average = _num(f, "largest_book"), _num(f, "average_book")
	balanced = average > 0 and largest <= 2 * average
	return with_facts(
		climb(
			[
				(
					csms > 0,
					("{0} CSMs.", (int(csms),)),
					("Give someone the Customer Success Manager role.", ()),
				),
				(
					owned >= NEARLY_ALL,
					("{0}% of active customers have a CSM.", (owned,)),
					("Give at least {0}% of active customers a CS Owner (now {1}%).", (NEARLY_ALL, owned)),
				),
				(
					owned >= ALL and balanced,
					("Every active customer has a CSM and no book is over twice the average.", ()),
					(
						"Give every active customer a CSM and balance the books (largest {0}, average {1}).",
						(int(largest), round(average, 1)),
					),
				),
				(
					_num(f, "cs_managers") > 0 and csms >= 2,
					("A CS Manager leads a team of {0} CSMs.", (int(csms),)),
					("A CS Manager leading at least two CSMs.", ()),
				),
			]
		),
		[("Active customers: {0}.", (int(active),))],
	)


TOOLS = (
	("health_tool", "nightly health scoring"),
	("alerts_tool", "alert rules"),
	("templates_tool", "success plan templates"),
	("handoff_tool", "automatic handoffs"),
	("touchpoints_tool", "lifecycle touchpoints"),
	("tiers_tool", "computed tiers"),
)


def tooling(f: dict) -> Proposal:
	"""Proposed from the tools switched on: none (1), one or two (2), three or four (3), five (4),
	all six (5)."""
	on = [label for key, label in TOOLS if f.get(key)]
	off = [label for key, label in TOOLS if not f.get(key)]
	count = len(on)
	level = 1 if count == 0 else 2 if count <= 2 else 3 if count <= 4 else 4 if count == 5 else 5
	proposal = Proposal(level, [("Tools in use: {0} of {1}.", (count, len(TOOLS)))])
	if on:
		proposal.evidence.append(("In use: {0}.", (tuple(on),)))
	if off:
		proposal.next_needs = ("Switch on: {0}.", (tuple(off),))
	return proposal


RULES: dict[str, Callable[[dict], Proposal]] = {
	SEGMENTATION: segmentation,
	LIFECYCLE: lifecycle,
	RISK: risk,
	VALUE_PROOF: value_proof,
	DATA: data,
	HEALTH: health,
	EXPANSION: expansion,
	ADVOCACY: advocacy,
	LEADERSHIP: leadership,
	TEAM: team_structure,
	TOOLING: tooling,
}


def propose_all(facts: dict) -> list[dict]:
	"""Every area's proposal, in the model's order: [{area, kind, level, evidence, next_needs}]."""
	rows = []
	for area in AREAS:
		proposal = RULES[area](facts)
		rows.append(
			{
				"area": area,
				"kind": CAPABILITY if area in CAPABILITIES else ENABLER,
				"level": proposal.level,
				"evidence": proposal.evidence,
				"next_needs": proposal.next_needs,
			}
		)
	return rows


# --- adjustments ---------------------------------------------------------------------------------


def effective_level(proposed, adjusted) -> int:
	"""The level that counts: the adjusted one when a person set one, else the proposed one."""
	return int(adjusted) if adjusted else int(proposed or MIN_LEVEL)


def adjustment_problem(proposed, adjusted, note) -> Message | None:
	"""An adjustment is a level 1-5 and says why; clearing it (0) returns to the proposal."""
	if not adjusted:
		return None
	if not isinstance(adjusted, int) or not MIN_LEVEL <= adjusted <= MAX_LEVEL:
		return (
			"Adjusted Level must be between {0} and {1}, or empty to keep the proposed level.",
			(MIN_LEVEL, MAX_LEVEL),
		)
	if not (note or "").strip():
		return ("Say why in the Note when you adjust a level.", ())
	return None


def overall(levels: list[int]) -> float:
	"""The mean level to one decimal, a half rounded up as people round it (17 / 4 = 4.25 → 4.3;
	Python's round() gives 4.2): computed in decimals, so no binary fraction tips it."""
	if not levels:
		return 0.0
	mean = Decimal(sum(int(level) for level in levels)) / Decimal(len(levels))
	return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
