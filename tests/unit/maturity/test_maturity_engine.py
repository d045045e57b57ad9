"""Each area's level rules, at every level boundary, as plain data."""

import pytest

from customer_success.maturity import engine as e

# --- segmentation ----------------------------------------------------------------------------

SEG_TOP = {
	"active_customers": 10,
	"with_tier": 10,
	"with_segment": 10,
	"with_tier_and_segment": 8,
	"segments_with_needs": 2,
	"tiers_computed": 1,
	"templates_for_segments": 1,
	"segments_in_use": 2,
	"segments_measured": 2,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"segments_measured": 1}, 4),
		({"segments_in_use": 0, "segments_measured": 0}, 4),
		({"with_tier_and_segment": 7}, 3),  # 70% < 80%
		({"tiers_computed": 0}, 3),
		({"templates_for_segments": 0}, 3),
		({"with_segment": 4}, 2),  # 40% < 50%
		({"segments_with_needs": 0}, 2),
		({"with_tier": 4}, 1),
		({"with_tier": 5, "with_segment": 5, "with_tier_and_segment": 5}, 3),  # exactly 50% reaches 2 and 3
		({"active_customers": 0}, 1),
	],
)
def test_segmentation_levels(change, level):
	assert e.segmentation({**SEG_TOP, **change}).level == level


def test_a_proposal_says_what_the_next_level_needs():
	top = e.segmentation(SEG_TOP)
	assert top.next_needs is None
	assert top.evidence[0] == ("Active customers: {0}.", (10,))
	lower = e.segmentation({**SEG_TOP, "segments_measured": 1})
	assert lower.next_needs[0].startswith("Measure every segment in use")
	assert len(lower.evidence) == 1 + 3  # the facts line, then one line per step climbed


# --- lifecycle -------------------------------------------------------------------------------

LIFE_TOP = {
	"touchpoints": 5,
	"touchpoints_with_procedure": 5,
	"reminders_on": 1,
	"touchpoints_planned_90d": 12,
	"touchpoints_closed_90d": 10,
	"touchpoints_done_90d": 8,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"touchpoints_done_90d": 7}, 4),
		({"touchpoints_closed_90d": 0, "touchpoints_done_90d": 0}, 4),
		({"reminders_on": 0}, 3),
		({"touchpoints_planned_90d": 0}, 3),
		({"touchpoints_with_procedure": 4}, 2),
		({"touchpoints": 0, "touchpoints_with_procedure": 0}, 1),
	],
)
def test_lifecycle_levels(change, level):
	assert e.lifecycle({**LIFE_TOP, **change}).level == level


# --- risk ------------------------------------------------------------------------------------

RISK_TOP = {
	"risks_identified_365d": 3,
	"risk_playbooks": 1,
	"risk_rules": 2,
	"auto_risk_alerts_90d": 10,
	"auto_risk_alerts_with_playbook_90d": 8,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"auto_risk_alerts_with_playbook_90d": 7}, 4),
		({"auto_risk_alerts_90d": 0, "auto_risk_alerts_with_playbook_90d": 0}, 3),
		({"risk_rules": 0}, 3),
		({"risk_playbooks": 0}, 2),
		({"risks_identified_365d": 0}, 1),
	],
)
def test_risk_levels(change, level):
	assert e.risk({**RISK_TOP, **change}).level == level


# --- value proof -----------------------------------------------------------------------------

VALUE_TOP = {
	"active_customers": 10,
	"plans_with_objectives": 6,
	"running_plans": 5,
	"running_plans_measurable": 5,
	"running_plans_checked_in": 4,
	"customers_reviewed_365d": 6,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"customers_reviewed_365d": 5}, 4),  # exactly half is not "most"
		({"running_plans_checked_in": 3}, 3),
		({"running_plans_measurable": 4}, 2),
		({"running_plans": 0, "running_plans_measurable": 0}, 2),
		({"plans_with_objectives": 0}, 1),
	],
)
def test_value_proof_levels(change, level):
	assert e.value_proof({**VALUE_TOP, **change}).level == level


# --- data ------------------------------------------------------------------------------------

DATA_TOP = {
	"active_customers": 10,
	"customers_owned_and_scored": 8,
	"shared_with_sales_365d": 2,
	"alerts_closed_90d": 4,
	"alerts_resolved_90d": 2,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"alerts_resolved_90d": 1}, 4),
		({"alerts_closed_90d": 0, "alerts_resolved_90d": 0}, 4),
		({"shared_with_sales_365d": 0}, 3),
		({"customers_owned_and_scored": 7}, 2),
		({"active_customers": 0}, 1),
	],
)
def test_data_levels(change, level):
	assert e.data({**DATA_TOP, **change}).level == level


# --- health ----------------------------------------------------------------------------------

HEALTH_TOP = {
	"active_customers": 10,
	"customers_with_colour_or_sentiment": 10,
	"enabled_models_multi_factor": 1,
	"nightly_on": 1,
	"scored_recently": 10,
	"overrides_past_expiry": 0,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"overrides_past_expiry": 1}, 4),
		({"scored_recently": 9}, 4),
		({"scored_recently": 5}, 3),  # half is not over half
		({"scored_recently": 6}, 4),
		({"nightly_on": 0}, 3),
		({"enabled_models_multi_factor": 0}, 2),
		({"customers_with_colour_or_sentiment": 0}, 1),
	],
)
def test_health_levels(change, level):
	# level 4 needs over half scored: 50% is not over half, 60% is
	facts = {**HEALTH_TOP, **change}
	assert e.health(facts).level == level


# --- expansion and advocacy ------------------------------------------------------------------


def follow(prefix, **change):
	base = {
		f"{prefix}_manual_365d": 1,
		f"{prefix}_alerts_365d": 4,
		f"{prefix}_rules": 1,
		f"{prefix}_auto_alerts_365d": 4,
		f"{prefix}_auto_followed_365d": 2,
	}
	return {**base, **{f"{prefix}_{k}": v for k, v in change.items()}}


@pytest.mark.parametrize("rule,prefix", [(e.expansion, "expansion"), (e.advocacy, "advocacy")])
@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"auto_followed_365d": 1}, 4),
		({"auto_alerts_365d": 0, "auto_followed_365d": 0}, 3),
		({"rules": 0}, 3),
		({"alerts_365d": 0, "auto_alerts_365d": 0, "auto_followed_365d": 0}, 2),
		({"manual_365d": 0, "alerts_365d": 0, "auto_alerts_365d": 0, "auto_followed_365d": 0}, 1),
	],
)
def test_follow_through_levels(rule, prefix, change, level):
	assert rule(follow(prefix, **change)).level == level


def test_expansion_and_advocacy_name_their_kind():
	assert e.advocacy(follow("advocacy")).evidence[0][1][1] == "Advocacy"
	assert e.expansion({}).next_needs == (
		"Record {0} opportunities (an alert or an Opportunity of an existing customer).",
		("Expansion",),
	)


# --- enablers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
	"facts,level",
	[
		({}, 1),
		({"cs_managers": 1}, 2),
		({"cs_managers": 1, "earlier_assessments": 1, "earlier_assessments_365d": 1}, 3),
		({"cs_managers": 1, "earlier_assessments": 2, "earlier_assessments_365d": 2}, 4),
		({"cs_managers": 1, "earlier_assessments": 5, "earlier_assessments_365d": 3}, 5),
		({"cs_managers": 0, "earlier_assessments": 5, "earlier_assessments_365d": 3}, 1),
	],
)
def test_leadership_levels(facts, level):
	assert e.leadership(facts).level == level


TEAM_TOP = {
	"active_customers": 10,
	"customers_owned": 10,
	"csms": 2,
	"cs_managers": 1,
	"largest_book": 6,
	"average_book": 5,
}


@pytest.mark.parametrize(
	"change,level",
	[
		({}, 5),
		({"csms": 1, "largest_book": 10, "average_book": 10}, 4),
		({"cs_managers": 0}, 4),
		({"largest_book": 11}, 3),  # over twice the average
		({"largest_book": 10}, 5),  # exactly twice is balanced
		({"customers_owned": 9}, 3),
		({"customers_owned": 7}, 2),
		({"csms": 0}, 1),
	],
)
def test_team_structure_levels(change, level):
	assert e.team_structure({**TEAM_TOP, **change}).level == level


@pytest.mark.parametrize("count,level", [(0, 1), (1, 2), (2, 2), (3, 3), (4, 3), (5, 4), (6, 5)])
def test_tooling_levels(count, level):
	facts = {key: 1 for key, _label in e.TOOLS[:count]}
	proposal = e.tooling(facts)
	assert proposal.level == level
	assert (proposal.next_needs is None) == (count == len(e.TOOLS))


# --- all areas, adjustments ----------------------------------------------------------------------


def test_propose_all_covers_eight_capabilities_and_three_enablers():
	rows = e.propose_all({})
	assert [r["area"] for r in rows] == list(e.AREAS)
	assert sum(r["kind"] == e.CAPABILITY for r in rows) == 8
	assert sum(r["kind"] == e.ENABLER for r in rows) == 3
	assert all(r["level"] == 1 and r["next_needs"] for r in rows)  # an empty company starts at 1


def test_every_level_is_between_one_and_five():
	facts = {**SEG_TOP, **LIFE_TOP, **RISK_TOP, **VALUE_TOP, **DATA_TOP, **HEALTH_TOP, **TEAM_TOP}
	facts.update(follow("expansion"))
	facts.update(follow("advocacy"))
	facts.update({"cs_managers": 1, "earlier_assessments": 4, "earlier_assessments_365d": 4})
	facts.update({key: 1 for key, _ in e.TOOLS})
	assert {r["level"] for r in e.propose_all(facts)} == {5}


@pytest.mark.parametrize(
	"proposed,adjusted,note,problem",
	[
		(3, 0, "", None),
		(3, None, None, None),
		(3, 4, "Leadership reviews monthly", None),
		(3, 4, "  ", "Say why in the Note when you adjust a level."),
		(3, 6, "x", "Adjusted Level must be between {0} and {1}, or empty to keep the proposed level."),
		(3, -1, "x", "Adjusted Level must be between {0} and {1}, or empty to keep the proposed level."),
	],
)
def test_adjustment_problem(proposed, adjusted, note, problem):
	result = e.adjustment_problem(proposed, adjusted, note)
	assert (result[0] if result else None) == problem


def test_effective_level_and_overall():
	assert e.effective_level(3, 0) == 3
	assert e.effective_level(3, 5) == 5
	assert e.overall([1, 2, 3, 4]) == 2.5
	assert e.overall([]) == 0.0
	assert e.overall([4, 4, 4, 5]) == 4.3  # 4.25: a half is rounded up, not to the even 4.2
	assert e.overall([1, 1, 2, 2]) == 1.5 and e.overall([3, 3, 3]) == 3.0
	assert e.overall([2, 2, 2, 2, 2, 2, 2, 3]) == 2.1  # 2.125


# --- shares: compared as they are, shown rounded down ----------------------------------------------


def test_every_customer_means_every_one_on_a_large_book():
	# 2,000 of 2,001 rounded to one decimal was 100.0 %: "every active customer" with one left out
	team = {
		**TEAM_TOP,
		"active_customers": 2001,
		"customers_owned": 2000,
		"largest_book": 700,
		"average_book": 667,
	}
	proposal = e.team_structure(team)
	assert proposal.level == 3
	text, args = proposal.next_needs
	assert "every active customer" in text
	assert [f"{a}" for a in args] == ["700", "667.0"]
	assert "99.9% of active customers have a CSM." in [t.format(*a) for t, a in proposal.evidence]
	assert e.team_structure({**team, "customers_owned": 2001}).level == 5
	health = {**HEALTH_TOP, "active_customers": 2001, "scored_recently": 2000}
	assert e.health(health).level == 4
	assert e.health({**health, "scored_recently": 2001}).level == 5


def test_a_share_just_under_a_threshold_does_not_reach_it():
	# 7,997 of 10,000 is 79.97 %: not "at least 80 %" (rounded first, it was 80.0 %)
	team = {**TEAM_TOP, "active_customers": 10000, "customers_owned": 7997}
	assert e.team_structure(team).level == 2
	assert f"{e.share(7997, 10000)}" == "79.9"
	assert f"{e.share(8000, 10000)}" == "80.0"
	assert e.share(1, 3) == 100 / 3
