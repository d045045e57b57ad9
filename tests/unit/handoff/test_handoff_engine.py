from datetime import datetime, timedelta

from customer_success.handoff import engine as ho


def full_handoff(**changes):
	doc = {
		"customer": "Acme",
		"primary_contact": "Jane Roe-Acme",
		"sales_order": "SAL-ORD-0001",
		"target_go_live": "2026-12-31",
		"needs_and_expectations": "Faster month-end close",
		"success_definition": "Close books in 3 days",
		"implementation_plan": "<p>Phase 1: GL</p>",
		"support_needs": "Business-hours support",
		"sales_feedback": "Liked the reports",
		"roi_target": "Save 2 FTE",
		"opportunity": "CRM-OPP-0001",
		"stakeholders": [
			{"stakeholder_name": "Jane", "is_champion": 1},
			{"stakeholder_name": "Bob", "is_decision_maker": 1},
		],
		"use_cases": [
			{
				"use_case": "Month-end close",
				"metric": "Days to close",
				"baseline": 10,
				"target": 3,
				"direction": "Down",
			}
		],
		"anticipated_problems": [{"problem": "Data migration", "mitigation": "Pilot import"}],
	}
	doc.update(changes)
	return doc


def test_full_handoff_is_complete():
	result = ho.completeness(full_handoff())
	assert result.score == 100
	assert result.can_hand_over
	assert result.missing_required == [] and result.missing_optional == []


def test_empty_handoff_lists_every_required_part():
	result = ho.completeness({})
	assert result.score == 0
	assert not result.can_hand_over
	assert len(result.missing_required) == sum(1 for p in ho.PARTS if p.required)


def test_html_only_text_counts_as_empty():
	result = ho.completeness(full_handoff(implementation_plan="<div><br></div>"))
	assert result.missing_required == ["Implementation Plan and Timeline"]


def test_champion_and_buyer_are_required():
	result = ho.completeness(full_handoff(stakeholders=[{"stakeholder_name": "Jane", "is_champion": 1}]))
	assert result.missing_required == ["An Economic Buyer or Decision Maker among Key Stakeholders"]
	result = ho.completeness(full_handoff(stakeholders=[{"stakeholder_name": "Bob", "is_economic_buyer": 1}]))
	assert result.missing_required == ["A Champion among Key Stakeholders"]
	# a flag on a nameless row does not count
	result = ho.completeness(
		full_handoff(stakeholders=[{"is_champion": 1}, {"stakeholder_name": "B", "is_decision_maker": 1}])
	)
	assert "A Champion among Key Stakeholders" in result.missing_required


def test_contract_can_stand_for_sales_order():
	assert ho.completeness(full_handoff(sales_order=None, contract="CON-1")).can_hand_over
	assert "Sales Order or Contract" in ho.completeness(full_handoff(sales_order=None)).missing_required


def test_use_cases_need_metric_and_baseline_and_at_most_three():
	result = ho.completeness(full_handoff(use_cases=[{"use_case": "X", "metric": "Y"}]))
	assert "Top Use Cases, each with a Metric, Baseline and Target" in result.missing_required
	assert ho.incomplete_use_cases(full_handoff(use_cases=[{"use_case": "X", "metric": "Y"}])) == [1]
	zero_baseline = full_handoff(use_cases=[{"use_case": "X", "metric": "Y", "baseline": 0, "target": 5}])
	assert ho.completeness(zero_baseline).can_hand_over
	four = full_handoff(
		use_cases=[{"use_case": str(i), "metric": "m", "baseline": 1, "target": 2} for i in range(4)]
	)
	result = ho.completeness(four)
	assert result.too_many_use_cases and not result.can_hand_over


def test_a_use_case_left_at_the_number_fields_zeros_is_not_measurable():
	"""Float fields left empty arrive as 0.0: baseline and target both 0 cannot be measured, and
	the plan made from it could never be agreed, so the gate refuses it now."""
	empty = {"use_case": "X", "metric": "Y", "baseline": 0.0, "target": 0.0, "direction": "Up"}
	assert ho.incomplete_use_cases(full_handoff(use_cases=[empty])) == [1]
	assert not ho.completeness(full_handoff(use_cases=[empty])).can_hand_over


def test_the_target_must_lie_the_way_the_metric_should_move():
	def ok(baseline, target, direction):
		row = {"use_case": "X", "metric": "Y", "baseline": baseline, "target": target, "direction": direction}
		return ho.measurable_use_case(row)

	assert ok(10, 3, "Down") and ok(0, 50, "Up") and ok(5, 6, None)  # no direction: Up
	assert not ok(3, 10, "Down") and not ok(10, 3, "Up") and not ok(4, 4, "Up")
	assert not ok(None, 5, "Up") and not ok(1, "many", "Up")


def test_optional_parts_lower_the_score_but_not_the_gate():
	result = ho.completeness(
		full_handoff(anticipated_problems=[{"problem": "Risk", "mitigation": ""}], opportunity=None)
	)
	assert result.can_hand_over
	assert result.score < 100
	assert set(result.missing_optional) == {
		"Anticipated Problems with Mitigations",
		"Deal History (Opportunity or Quotation)",
	}
	assert ho.unmitigated_problems(full_handoff(anticipated_problems=[{"problem": "Risk"}])) == [1]


def test_sla_lateness():
	start = datetime(2026, 11, 1, 9, 0)
	assert ho.hours_between(start, start + timedelta(hours=30)) == 30
	assert ho.is_late(start, start + timedelta(hours=25), 24, None)
	assert not ho.is_late(start, start + timedelta(hours=23), 24, None)
	assert ho.is_late(start, None, 24, start + timedelta(hours=48))
	assert not ho.is_late(start, None, 24, start + timedelta(hours=2))
	assert not ho.is_late(None, None, 24, start)
	assert not ho.is_late(start, None, 0, start + timedelta(days=9))


def test_sla_state_follows_the_step():
	order = datetime(2026, 11, 1, 9, 0)
	now = order + timedelta(hours=30)
	draft = ho.sla_state("Draft", order, None, None, 24, 48, now)
	assert draft.step == ho.HAND_OVER_STEP
	assert draft.due_by == order + timedelta(hours=24)
	assert draft.is_late

	handed = order + timedelta(hours=20)
	pending = ho.sla_state("Handed Over", order, handed, None, 24, 48, now)
	assert pending.step == ho.ACCEPTANCE_STEP
	assert pending.due_by == handed + timedelta(hours=48)
	assert not pending.is_late
	assert ho.sla_state("Handed Over", order, handed, None, 24, 48, handed + timedelta(hours=49)).is_late


def test_returned_restarts_the_sales_clock():
	order = datetime(2026, 11, 1, 9, 0)
	returned = order + timedelta(hours=60)
	state = ho.sla_state("Returned", order, order + timedelta(hours=10), returned, 24, 24, returned)
	assert state.due_by == returned + timedelta(hours=24)
	assert not state.is_late
	assert ho.sla_state("Returned", order, None, returned, 24, 24, returned + timedelta(hours=25)).is_late


def test_accepted_or_no_sla_is_never_late():
	order = datetime(2026, 11, 1, 9, 0)
	late_now = order + timedelta(days=30)
	accepted = ho.sla_state("Accepted", order, order, None, 24, 24, late_now)
	assert accepted.due_by is None and accepted.step is None and not accepted.is_late
	no_sla = ho.sla_state("Draft", order, None, None, 0, 24, late_now)
	assert no_sla.due_by is None and not no_sla.is_late
	no_start = ho.sla_state("Draft", None, None, None, 24, 24, late_now)
	assert no_start.due_by is None and not no_start.is_late


def test_missing_parts_are_listed_in_order_with_their_labels():
	result = ho.completeness(full_handoff(roi_target="", needs_and_expectations=None))
	assert result.missing_required == ["Needs and Expectations", "ROI Target"]
	assert not result.can_hand_over
