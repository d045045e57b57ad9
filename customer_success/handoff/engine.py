"""Handoff completeness: which parts of the sales-to-CS handoff are done, which are missing.

A handoff is plain data here: a dict of its fields, with lists of dicts for ``stakeholders``,
``use_cases`` and ``anticipated_problems``. Each part has a label (the controller translates
it) and a required flag; the score counts every part, the gate only the required ones.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from customer_success.numbers import is_number

MAX_USE_CASES = 3


def _filled(value) -> bool:
	if value is None:
		return False
	if isinstance(value, str):
		# Text Editor fields arrive as HTML: "<div><br></div>" is still empty.
		text = value
		for tag in ("<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<br />", "&nbsp;"):
			text = text.replace(tag, "")
		return bool(text.strip())
	return bool(value)


def _rows(handoff: dict, key: str) -> list[dict]:
	return [row for row in (handoff.get(key) or []) if isinstance(row, dict)]


def has_champion(handoff: dict) -> bool:
	return any(
		_filled(row.get("stakeholder_name") or row.get("contact")) and row.get("is_champion")
		for row in _rows(handoff, "stakeholders")
	)


def has_economic_buyer(handoff: dict) -> bool:
	return any(
		_filled(row.get("stakeholder_name") or row.get("contact"))
		and (row.get("is_economic_buyer") or row.get("is_decision_maker"))
		for row in _rows(handoff, "stakeholders")
	)


def measurable_use_case(row: dict) -> bool:
	"""A use case the first success plan can measure: a metric, and a target that lies from the
	baseline the way the metric should move ("Better When" Up: above it; Down: below it). The
	baseline may well be 0; a number field left empty is 0 too, so an empty target never passes
	(it equals a 0 baseline), which is what the plan's own agreement check would refuse later."""
	if not (_filled(row.get("use_case")) and _filled(row.get("metric"))):
		return False
	baseline, target = row.get("baseline"), row.get("target")
	if not (is_number(baseline) and is_number(target)):
		return False
	baseline, target = float(baseline), float(target)
	if target == baseline:
		return False
	return target < baseline if row.get("direction") == "Down" else target > baseline


def complete_use_cases(handoff: dict) -> list[dict]:
	return [row for row in _rows(handoff, "use_cases") if measurable_use_case(row)]


def incomplete_use_cases(handoff: dict) -> list[int]:
	"""Row numbers (1-based) of use cases the plan could not measure (see `measurable_use_case`)."""
	return [i for i, row in enumerate(_rows(handoff, "use_cases"), start=1) if not measurable_use_case(row)]


def unmitigated_problems(handoff: dict) -> list[int]:
	"""Row numbers (1-based) of anticipated problems without a proposed mitigation."""
	return [
		i
		for i, row in enumerate(_rows(handoff, "anticipated_problems"), start=1)
		if _filled(row.get("problem")) and not _filled(row.get("mitigation"))
	]


@dataclass(frozen=True)
class Part:
	key: str
	label: str
	required: bool
	is_done: Callable[[dict], bool]


def _field(name: str) -> Callable[[dict], bool]:
	return lambda h: _filled(h.get(name))


PARTS: tuple[Part, ...] = (
	Part("customer", "Customer", True, _field("customer")),
	Part("primary_contact", "Primary Contact", True, _field("primary_contact")),
	Part(
		"deal",
		"Sales Order or Contract",
		True,
		lambda h: _filled(h.get("sales_order")) or _filled(h.get("contract")),
	),
	Part("go_live", "Target Go-Live Date", True, _field("target_go_live")),
	Part("needs", "Needs and Expectations", True, _field("needs_and_expectations")),
	Part("success_definition", "Customer's Definition of Success", True, _field("success_definition")),
	Part("implementation_plan", "Implementation Plan and Timeline", True, _field("implementation_plan")),
	Part("support_needs", "Post-Sale Support Needs", True, _field("support_needs")),
	Part("feedback", "Feedback Collected in the Sale", True, _field("sales_feedback")),
	Part("champion", "A Champion among Key Stakeholders", True, has_champion),
	Part(
		"economic_buyer",
		"An Economic Buyer or Decision Maker among Key Stakeholders",
		True,
		has_economic_buyer,
	),
	Part(
		"use_cases",
		"Top Use Cases, each with a Metric, Baseline and Target",
		True,
		lambda h: bool(complete_use_cases(h)) and not incomplete_use_cases(h),
	),
	Part("roi_target", "ROI Target", True, _field("roi_target")),
	Part(
		"problems",
		"Anticipated Problems with Mitigations",
		False,
		lambda h: bool(_rows(h, "anticipated_problems")) and not unmitigated_problems(h),
	),
	Part(
		"deal_history",
		"Deal History (Opportunity or Quotation)",
		False,
		lambda h: _filled(h.get("opportunity")) or _filled(h.get("quotation")),
	),
)


@dataclass
class Completeness:
	score: int
	missing_required: list[str]
	missing_optional: list[str]
	too_many_use_cases: bool

	@property
	def can_hand_over(self) -> bool:
		return not self.missing_required and not self.too_many_use_cases


def completeness(handoff: dict) -> Completeness:
	done = [part for part in PARTS if part.is_done(handoff)]
	missing = [part for part in PARTS if part not in done]
	score = round(100 * len(done) / len(PARTS))
	return Completeness(
		score=score,
		missing_required=[p.label for p in missing if p.required],
		missing_optional=[p.label for p in missing if not p.required],
		too_many_use_cases=len(_rows(handoff, "use_cases")) > MAX_USE_CASES,
	)


def hours_between(start, end) -> float | None:
	"""Elapsed hours between two datetimes (`None` if either is missing)."""
	if start is None or end is None:
		return None
	return (end - start).total_seconds() / 3600.0


def is_late(start, end, sla_hours, now) -> bool:
	"""Late when the step finished after the SLA, or is still open past it."""
	if start is None or not sla_hours or sla_hours <= 0:
		return False
	elapsed = hours_between(start, end if end is not None else now)
	return elapsed is not None and elapsed > sla_hours


# --- the handoff SLA ------------------------------------------------------------------------

OPEN_STATUSES = ("Draft", "Handed Over", "Returned")
HAND_OVER_STEP = "Hand Over"
ACCEPTANCE_STEP = "Acceptance"


@dataclass
class SlaState:
	due_by: object  # a datetime, or None when nothing is due (accepted, or no SLA)
	step: str | None  # the step the clock runs for: HAND_OVER_STEP or ACCEPTANCE_STEP
	is_late: bool  # open and past due now


def add_hours(start, hours):
	return start + timedelta(hours=hours)


def sla_state(
	status: str,
	order_received_on,
	handed_over_on,
	returned_on,
	handoff_sla_hours: float,
	acceptance_sla_hours: float,
	now,
) -> SlaState:
	"""Which step of the handoff is due, by when, and whether it is overdue now.

	Sales has `handoff_sla_hours` from the order (or from the CSM returning it) to hand over;
	the CSM has `acceptance_sla_hours` from the hand-over to accept or return. An accepted
	handoff has nothing due. A non-positive SLA means "no SLA" for that step.
	"""
	if status not in OPEN_STATUSES:
		return SlaState(None, None, False)
	if status == "Handed Over":
		start, hours, step = handed_over_on, acceptance_sla_hours, ACCEPTANCE_STEP
	else:
		# A returned handoff restarts sales' clock from the return.
		start = returned_on if status == "Returned" and returned_on else order_received_on
		hours, step = handoff_sla_hours, HAND_OVER_STEP
	if start is None or not hours or hours <= 0:
		return SlaState(None, step, False)
	return SlaState(add_hours(start, hours), step, is_late(start, None, hours, now))


# The handoff's SLA and history: written by the actions (Hand Over, Accept, Return) and the SLA
# computation only. A plain save (form, REST, import; any role) keeps the stored values.
ACTION_FIELDS = (
	"order_received_on",
	"due_by",
	"sla_step",
	"is_late",
	"sla_missed",
	"handed_over_on",
	"handed_over_by",
	"hours_to_hand_over",
	"accepted_on",
	"accepted_by",
	"hours_to_decide",
	"returned_on",
	"returned_by",
	"return_count",
	"return_reason",
	"cancelled_on",
	"status_before_cancel",
	"success_plan",
	"completeness",
	"missing_parts",
)

# Set by the actions and the SLA, never by hand: changing them is not "editing the handoff".
SYSTEM_FIELDS = {
	"status",
	*ACTION_FIELDS,
	"customer_name",
	"contact_display",
	"contact_designation",
	"contact_email",
	"contact_phone",
}
