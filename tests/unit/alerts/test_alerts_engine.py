"""The alert rules' decisions and the noise control, as plain data."""

from datetime import date, timedelta

import pytest

from customer_success.alerts import engine as e

TODAY = date(2026, 12, 1)


def days_ago(n):
	return TODAY - timedelta(days=n)


def days_ahead(n):
	return TODAY + timedelta(days=n)


# --- rule kinds ----------------------------------------------------------------------------------


def test_every_rule_kind_has_a_kind_and_params():
	assert set(e.RULE_KINDS) == set(e.RULE_PARAMS)
	assert set(e.RULE_KINDS.values()) <= set(e.KINDS)


@pytest.mark.parametrize(
	"status,fires",
	[("Red", True), ("Yellow", False), ("Green", False), ("Insufficient Data", False), (None, False)],
)
def test_health_red(status, fires):
	assert bool(e.health_red(status, 30, e.HIGH)) is fires


def test_health_drop_fires_at_threshold_and_escalates_at_twice():
	assert e.health_drop(70, 84, "Yellow", 15, 30, e.MEDIUM) is None
	assert e.health_drop(70, 85, "Yellow", 15, 30, e.MEDIUM).severity == e.MEDIUM
	assert e.health_drop(50, 80, "Red", 15, 30, e.MEDIUM).severity == e.HIGH
	assert e.health_drop(50, 80, "Red", 15, 30, e.MEDIUM).facts["drop"] == 30


def test_health_drop_needs_both_scores_and_a_colour():
	assert e.health_drop(50, None, "Red", 15, 30, e.MEDIUM) is None
	assert e.health_drop(50, 90, "Insufficient Data", 15, 30, e.MEDIUM) is None
	assert e.health_drop(90, 50, "Green", 15, 30, e.MEDIUM) is None  # a rise is no drop


def test_a_health_alert_keeps_its_figures_until_its_severity_moves():
	# the score moved a little overnight: the alert keeps the figures it fired with
	assert not e.rewrites_evidence(e.HEALTH_RED, e.HIGH, e.health_red("Red", 24.1, e.HIGH))
	assert not e.rewrites_evidence(e.HEALTH_DROP, e.MEDIUM, e.health_drop(69, 85, "Yellow", 15, 30, e.MEDIUM))
	# a deeper drop raises the severity: written again, with that day's figures (and back again)
	assert e.rewrites_evidence(e.HEALTH_DROP, e.MEDIUM, e.health_drop(50, 85, "Red", 15, 30, e.MEDIUM))
	assert e.rewrites_evidence(e.HEALTH_DROP, e.HIGH, e.health_drop(69, 85, "Yellow", 15, 30, e.MEDIUM))
	# the rule's severity edited
	assert e.rewrites_evidence(e.HEALTH_RED, e.HIGH, e.health_red("Red", 24.1, e.CRITICAL))
	# the other rules follow their facts (dates and amounts): the digest decides
	for kind in set(e.RULE_KINDS) - set(e.FIGURES_KEPT):
		assert e.rewrites_evidence(kind, e.MEDIUM, e.Finding(e.MEDIUM, {"overdue": 1.0}))


def test_renewal_at_risk_window_and_colour():
	assert e.renewal_at_risk(days_ahead(30), "Yellow", TODAY, 90, e.HIGH).severity == e.HIGH
	assert e.renewal_at_risk(days_ahead(30), "Red", TODAY, 90, e.HIGH).severity == e.CRITICAL
	assert e.renewal_at_risk(days_ahead(30), "Green", TODAY, 90, e.HIGH) is None
	assert e.renewal_at_risk(days_ahead(30), "Insufficient Data", TODAY, 90, e.HIGH) is None
	assert e.renewal_at_risk(days_ahead(91), "Red", TODAY, 90, e.HIGH) is None
	assert e.renewal_at_risk(days_ago(1), "Red", TODAY, 90, e.HIGH) is None
	assert e.renewal_at_risk(None, "Red", TODAY, 90, e.HIGH) is None


def test_overdue_receivable_by_amount_or_age():
	assert e.overdue_receivable(0, None, TODAY, 5000, 45, e.MEDIUM) is None
	assert e.overdue_receivable(4000, days_ago(10), TODAY, 5000, 45, e.MEDIUM) is None
	assert e.overdue_receivable(6000, days_ago(10), TODAY, 5000, 45, e.MEDIUM).severity == e.MEDIUM
	assert e.overdue_receivable(100, days_ago(46), TODAY, 5000, 45, e.MEDIUM).severity == e.MEDIUM
	assert e.overdue_receivable(100, days_ago(91), TODAY, 5000, 45, e.MEDIUM).severity == e.HIGH
	assert e.overdue_receivable(11000, days_ago(1), TODAY, 5000, 45, e.MEDIUM).severity == e.HIGH
	# days 0: the age alone never fires
	assert e.overdue_receivable(100, days_ago(400), TODAY, 5000, 0, e.MEDIUM) is None


def test_milestones_overdue_counts_only_past_due():
	rows = [
		{"name": "M1", "due_date": days_ago(3)},
		{"name": "M2", "due_date": days_ago(1)},
		{"name": "M3", "due_date": TODAY},
	]
	found = e.milestones_overdue(rows, TODAY, 2, e.MEDIUM)
	assert found.facts == {"count": 2, "oldest_due": days_ago(3)}
	assert found.records == [("Success Plan Milestone", "M1"), ("Success Plan Milestone", "M2")]
	assert e.milestones_overdue(rows, TODAY, 3, e.MEDIUM) is None
	assert e.milestones_overdue([], TODAY, 0, e.MEDIUM) is None


def test_checkin_overdue_from_last_checkin_or_start():
	plans = [{"name": "P1", "start_date": days_ago(200), "last_checkin": days_ago(100)}]
	assert e.checkin_overdue(plans, TODAY, 90, 14, e.LOW) is None
	assert e.checkin_overdue(plans, TODAY, 90, 5, e.LOW).records == [("Success Plan", "P1")]
	fresh = [{"name": "P2", "start_date": days_ago(50), "last_checkin": None}]
	assert e.checkin_overdue(fresh, TODAY, 30, 10, e.LOW).facts["since"] == days_ago(50)


def test_no_touch_only_for_live_customers():
	assert e.no_touch(None, False, TODAY, 60, e.MEDIUM) is None
	assert e.no_touch(None, True, TODAY, 60, e.MEDIUM).facts == {"last_touch": None}
	assert e.no_touch(days_ago(59), True, TODAY, 60, e.MEDIUM) is None
	assert e.no_touch(days_ago(60), True, TODAY, 60, e.MEDIUM).facts == {"last_touch": days_ago(60)}


@pytest.mark.parametrize(
	"row,fires",
	[
		({"is_champion": 1, "linked": 1}, False),
		({"is_champion": 1, "linked": 0}, True),
		({"is_economic_buyer": 1, "linked": 1, "disabled": 1}, True),
		({"is_champion": 1, "linked": 1, "left": 1}, True),
		({"is_decision_maker": 1, "linked": 0}, False),  # only champions and economic buyers
	],
)
def test_stakeholder_left(row, fires):
	found = e.stakeholder_left([{"contact": "C1", "handoff": "H1", **row}], e.HIGH)
	assert bool(found) is fires
	if found:
		assert ("Contact", "C1") in found.records and ("Sales Handoff", "H1") in found.records


def test_objectives_achieved_needs_all_and_some():
	assert e.objectives_achieved([{"name": "P", "objectives": 3, "achieved": 2}], e.MEDIUM) is None
	assert e.objectives_achieved([{"name": "P", "objectives": 0, "achieved": 0}], e.MEDIUM) is None
	assert e.objectives_achieved([{"name": "P", "objectives": 2, "achieved": 2}], e.MEDIUM).records == [
		("Success Plan", "P")
	]


def test_green_before_renewal():
	assert e.green_before_renewal("Green", days_ahead(100), TODAY, 120, e.MEDIUM)
	assert e.green_before_renewal("Yellow", days_ahead(100), TODAY, 120, e.MEDIUM) is None
	assert e.green_before_renewal("Green", days_ahead(121), TODAY, 120, e.MEDIUM) is None


def test_onboarding_late():
	assert e.onboarding_late("Onboarding", days_ago(20), 2, TODAY, 14, e.HIGH).facts == {
		"go_live": days_ago(20),
		"open_milestones": 2,
	}
	assert e.onboarding_late("Onboarding", days_ago(14), 2, TODAY, 14, e.HIGH) is None
	assert e.onboarding_late("Onboarding", days_ago(20), 0, TODAY, 14, e.HIGH) is None
	assert e.onboarding_late("Adoption", days_ago(20), 2, TODAY, 14, e.HIGH) is None


# --- parameters, severities, status ---------------------------------------------------------------


def test_param_problems():
	assert e.param_problems(e.HEALTH_DROP, -1, 30) == ["threshold"]
	assert e.param_problems(e.HEALTH_DROP, 10, -3) == ["days"]
	assert e.param_problems(e.HEALTH_DROP, None, None) == ["threshold", "days"]
	assert e.param_problems(e.HEALTH_RED, -1, -1) == []  # parameters it does not read
	assert e.param_problems("Nonsense", 1, 1) == ["rule_type"]


def test_escalate_and_due_dates():
	assert e.escalate(e.LOW) == e.MEDIUM and e.escalate(e.CRITICAL) == e.CRITICAL
	due = {e.CRITICAL: 1, e.HIGH: 3, e.MEDIUM: 7, e.LOW: 14}
	assert e.due_date(e.HIGH, TODAY, due) == days_ahead(3)
	assert e.due_date(e.HIGH, TODAY, {}) == TODAY


def test_transitions():
	assert e.transition_allowed(None, e.OPEN)
	assert e.transition_allowed(e.OPEN, e.IN_PROGRESS)
	assert e.transition_allowed(e.IN_PROGRESS, e.RESOLVED)
	assert e.transition_allowed(e.OPEN, e.DISMISSED)
	assert not e.transition_allowed(e.RESOLVED, e.OPEN)
	assert not e.transition_allowed(e.IN_PROGRESS, e.OPEN)


def test_task_assignee_falls_back_to_csm_then_manager():
	people = {e.CSM: "csm@x", e.CS_MANAGER: "boss@x"}
	assert e.task_assignee(e.SALES_OWNER, people) == "csm@x"
	assert e.task_assignee(e.CS_MANAGER, people) == "boss@x"
	assert e.task_assignee(e.SALES_OWNER, {e.CS_MANAGER: "boss@x"}) == "boss@x"


def test_progress_ignores_cancelled():
	assert e.progress([]) == (0, 0, 0.0)
	assert e.progress([{"status": "Done"}, {"status": "Open"}, {"status": "Cancelled"}]) == (1, 2, 50.0)


# --- noise control ---------------------------------------------------------------------------------


def finding(severity=e.MEDIUM):
	return e.Finding(severity, {"x": 1})


def plan(
	findings, open_alerts=None, dismissed=(), raised=None, cap=3, auto=("R1", "R2", "R3"), evaluated=("C",)
):
	return e.plan_actions(
		findings, open_alerts or {}, set(dismissed), raised or {}, cap, set(auto), set(evaluated), TODAY
	)


def test_new_finding_raises():
	actions = plan({("C", "R1"): finding()})
	assert [(c, r) for c, r, _ in actions.raise_] == [("C", "R1")]


def test_open_alert_is_updated_not_duplicated():
	actions = plan({("C", "R1"): finding()}, {("C", "R1"): {"name": "A1", "severity": e.MEDIUM}})
	assert actions.raise_ == [] and [u[0] for u in actions.update] == ["A1"]


def test_snoozed_alert_wakes_only_when_severity_rises():
	snoozed = {("C", "R1"): {"name": "A1", "severity": e.MEDIUM, "snoozed_until": days_ahead(5)}}
	assert plan({("C", "R1"): finding(e.MEDIUM)}, snoozed).update[0][2] is False
	assert plan({("C", "R1"): finding(e.HIGH)}, snoozed).update[0][2] is True


def test_dismissed_pair_is_held_in_cooldown():
	actions = plan({("C", "R1"): finding()}, dismissed=[("C", "R1")])
	assert actions.raise_ == [] and actions.held == [("C", "R1", "cooldown")]


def test_weekly_cap_raises_the_most_severe_first():
	findings = {("C", "R1"): finding(e.LOW), ("C", "R2"): finding(e.CRITICAL), ("C", "R3"): finding(e.MEDIUM)}
	actions = plan(findings, raised={"C": 1}, cap=3)
	assert [r for _, r, _ in actions.raise_] == ["R2", "R3"]
	assert actions.held == [("C", "R1", "cap")]
	assert len(plan(findings, cap=0).raise_) == 3  # 0: no limit


def test_a_critical_alert_is_never_held_by_the_weekly_cap():
	findings = {
		("C", "R1"): finding(e.CRITICAL),
		("C", "R2"): finding(e.CRITICAL),
		("C", "R3"): finding(e.HIGH),
	}
	actions = plan(findings, raised={"C": 3}, cap=3)  # the week's room is used up
	assert [r for _, r, _ in actions.raise_] == ["R1", "R2"]
	assert actions.held == [("C", "R3", "cap")]


def test_a_kept_alert_is_not_resolved_though_its_rule_did_not_fire():
	"""A health rule's alert of a customer whose health has no colour tonight: not known to have
	cleared (tester Z2: "Health Turned Red" resolved on a night of Insufficient Data)."""
	open_alerts = {("C", "R1"): {"name": "A1"}, ("C", "R2"): {"name": "A2"}}
	actions = e.plan_actions({}, open_alerts, set(), {}, 3, {"R1", "R2"}, {"C"}, TODAY, kept={("C", "R1")})
	assert actions.resolve == ["A2"]


def test_auto_resolve_only_cleared_evaluated_auto_rules():
	open_alerts = {("C", "R1"): {"name": "A1"}, ("C", "R9"): {"name": "A9"}, ("D", "R1"): {"name": "D1"}}
	actions = plan({}, open_alerts, auto=("R1",), evaluated=("C",))
	assert actions.resolve == ["A1"]


# --- playbook tasks and ToDos of a new alert ----------------------------------------------------


def test_playbook_tasks_keep_the_playbooks_order_roles_and_offsets():
	people = {e.CSM: "csm@x", e.CS_MANAGER: "mgr@x", e.SALES_OWNER: "sales@x"}
	tasks = e.playbook_tasks(
		[
			{"idx": 2, "title": "Review", "assign_to": e.CS_MANAGER, "offset_days": 5},
			{"idx": 1, "title": "Call", "assign_to": e.CSM, "offset_days": 0, "description": "d"},
			{"idx": 3, "title": "Upsell", "assign_to": e.ACCOUNT_MANAGER, "offset_days": -3},
		],
		people,
		TODAY,
	)
	assert [t["title"] for t in tasks] == ["Call", "Review", "Upsell"]
	assert [t["assigned_to"] for t in tasks] == ["csm@x", "mgr@x", "csm@x"]  # no account manager: the CSM
	assert [t["due_date"] for t in tasks] == [TODAY, TODAY + timedelta(days=5), TODAY]
	assert {t["status"] for t in tasks} == {"Open"}
	assert tasks[0]["description"] == "d"


def test_playbook_tasks_of_no_playbook_are_none():
	assert e.playbook_tasks([], {e.CSM: "csm@x"}, TODAY) == []


def test_alert_todos_one_per_task_and_the_assignee_only_when_no_task_is_hers():
	tasks = [{"assigned_to": "csm@x"}, {"assigned_to": None}, {"assigned_to": "mgr@x"}]
	assert e.alert_todos("csm@x", tasks) == [("csm@x", 0), ("mgr@x", 2)]
	assert e.alert_todos("other@x", tasks) == [("csm@x", 0), ("mgr@x", 2), ("other@x", None)]
	assert e.alert_todos(None, tasks) == [("csm@x", 0), ("mgr@x", 2)]
	assert e.alert_todos("csm@x", []) == [("csm@x", None)]


# --- the customer's voice: promoters on green accounts, detractors' answers ----------------------


def answer(name, score, days_back):
	return {"name": name, "score": score, "answered_on": days_ago(days_back), "contact": f"C-{name}"}


def test_nps_rules_are_advocacy_and_risk():
	assert e.RULE_KINDS[e.NPS_PROMOTER_GREEN] == e.ADVOCACY
	assert e.RULE_KINDS[e.NPS_DETRACTOR] == e.RISK
	assert e.RULE_PARAMS[e.NPS_PROMOTER_GREEN] == ("days",)
	assert e.param_problems(e.NPS_DETRACTOR, None, -1) == ["days"]


@pytest.mark.parametrize(
	"score,status,days_back,fires",
	[
		(10, "Green", 0, True),
		(9, "Green", 180, True),  # the last day of the window still counts
		(9, "Green", 181, False),  # too old to speak for the customer now
		(8, "Green", 0, False),  # a passive is not asked for a reference
		(3, "Green", 0, False),
		(10, "Yellow", 0, False),  # a promoter on a shaky account: fix the account first
		(10, "Red", 0, False),
		(10, "Insufficient Data", 0, False),
		(10, None, 0, False),
	],
)
def test_nps_promoter_green(score, status, days_back, fires):
	finding = e.nps_promoter_green(answer("R1", score, days_back), status, TODAY, 180, e.LOW)
	assert bool(finding) is fires
	if fires:
		assert finding.severity == e.LOW
		assert finding.records == [("NPS Response", "R1")]
		assert finding.facts == {"score": score, "answered_on": days_ago(days_back), "status": "Green"}


def test_no_answer_no_advocacy():
	assert e.nps_promoter_green(None, "Green", TODAY, 180, e.LOW) is None
	assert (
		e.nps_promoter_green({"name": "R", "score": None, "answered_on": TODAY}, "Green", TODAY, 180, e.LOW)
		is None
	)


@pytest.mark.parametrize(
	"answers,fires,severity",
	[
		([], False, None),
		([answer("A", 7, 1), answer("B", 10, 2)], False, None),  # no detractor
		([answer("A", 6, 31)], False, None),  # outside the window
		([answer("A", 6, 30)], True, e.HIGH),
		([answer("A", 5, 0)], True, e.HIGH),
		([answer("A", 3, 0)], True, e.CRITICAL),  # angry, not lukewarm: one level up
		([answer("A", 0, 2), answer("B", 9, 1)], True, e.CRITICAL),
	],
)
def test_nps_detractor(answers, fires, severity):
	finding = e.nps_detractor(answers, TODAY, 30, e.HIGH)
	assert bool(finding) is fires
	if fires:
		assert finding.severity == severity


def test_nps_detractor_lists_each_detractor_answer_oldest_first():
	answers = [answer("B", 4, 1), answer("A", 2, 5), answer("C", 9, 0), answer("D", 6, 40)]
	finding = e.nps_detractor(answers, TODAY, 30, e.MEDIUM)
	assert finding.records == [("NPS Response", "A"), ("NPS Response", "B")]
	assert finding.facts == {"answers": 2, "lowest": 2, "latest_on": days_ago(1)}
	assert finding.severity == e.HIGH


def test_a_second_detractor_updates_the_open_alert_not_a_new_one():
	first = e.nps_detractor([answer("A", 5, 2)], TODAY, 30, e.HIGH)
	second = e.nps_detractor([answer("A", 5, 2), answer("B", 4, 0)], TODAY, 30, e.HIGH)
	key = ("CUST", "NPS Detractor Answer")
	actions = e.plan_actions(
		{key: second},
		{key: {"name": "AL-1", "severity": first.severity, "snoozed_until": None}},
		set(),
		{},
		3,
		set(),
		{"CUST"},
		TODAY,
	)
	assert actions.raise_ == [] and [a[0] for a in actions.update] == ["AL-1"]


# --- expansion: usage near entitlement --------------------------------------------------------------


def usage(metric, utilisation, used=None, entitlement=None):
	return {"metric": metric, "utilisation": utilisation, "used": used, "entitlement": entitlement}


def test_usage_near_entitlement_fires_at_the_threshold():
	finding = e.usage_near_entitlement([usage("Seats", 0.9, 9, 10), usage("API", 0.2)], 90, e.MEDIUM)
	assert finding.severity == e.MEDIUM
	assert finding.facts["metrics"] == [{"metric": "Seats", "used": 9, "entitlement": 10, "percent": 90.0}]
	assert finding.records == [("Usage Metric Definition", "Seats")]
	assert e.usage_near_entitlement([usage("Seats", 0.89)], 90, e.MEDIUM) is None


def test_usage_beyond_the_whole_entitlement_is_one_level_more_severe():
	finding = e.usage_near_entitlement([usage("Seats", 0.95), usage("Storage", 1.25)], 90, e.MEDIUM)
	assert finding.severity == e.HIGH
	assert [m["metric"] for m in finding.facts["metrics"]] == ["Storage", "Seats"]


def test_usage_without_entitlement_or_data_never_fires():
	assert e.usage_near_entitlement([usage("Seats", None)], 90, e.MEDIUM) is None
	assert e.usage_near_entitlement([], 90, e.MEDIUM) is None
	assert e.usage_near_entitlement(None, 90, e.MEDIUM) is None


def test_usage_rule_without_a_threshold_means_all_of_the_entitlement():
	assert e.usage_near_entitlement([usage("Seats", 0.99)], 0, e.LOW) is None
	assert e.usage_near_entitlement([usage("Seats", 1.0)], None, e.LOW).severity == e.LOW


def test_usage_rule_kind_is_expansion_with_threshold_and_days():
	assert e.RULE_KINDS[e.USAGE_NEAR_ENTITLEMENT] == e.EXPANSION
	assert e.param_problems(e.USAGE_NEAR_ENTITLEMENT, 90, 30) == []
	assert e.param_problems(e.USAGE_NEAR_ENTITLEMENT, -1, 30) == ["threshold"]


def test_the_facts_of_a_finding_do_not_move_from_day_to_day():
	"""Dates, never day counts: the same facts a day later give the same finding, so the nightly pass
	rewrites nothing while nothing changed."""
	tomorrow = TODAY + timedelta(days=1)
	plans = [{"name": "P1", "start_date": days_ago(200), "last_checkin": days_ago(100)}]
	pairs = [
		lambda day: e.renewal_at_risk(days_ahead(30), "Red", day, 90, e.HIGH),
		lambda day: e.green_before_renewal("Green", days_ahead(30), day, 120, e.MEDIUM),
		lambda day: e.overdue_receivable(6000, days_ago(10), day, 5000, 45, e.MEDIUM),
		lambda day: e.checkin_overdue(plans, day, 90, 5, e.LOW),
		lambda day: e.no_touch(days_ago(70), True, day, 60, e.MEDIUM),
		lambda day: e.onboarding_late("Onboarding", days_ago(20), 2, day, 14, e.HIGH),
	]
	for finding_on in pairs:
		assert finding_on(TODAY) == finding_on(tomorrow)


def test_an_open_key_fits_its_field_however_long_the_names():
	assert e.open_key("Aurora Analytics", "No Touch") == "Aurora Analytics::No Touch"
	long_name = "A" * 140
	key = e.open_key(long_name, "Renewal at Risk")
	assert len(key) <= e.OPEN_KEY_LENGTH
	assert key.startswith("md5:")
	assert key == e.open_key(long_name, "Renewal at Risk")
	assert key != e.open_key(long_name, "No Touch")
	# the longest pair kept as itself
	fits = "B" * (e.OPEN_KEY_LENGTH - len("::R"))
	assert e.open_key(fits, "R") == f"{fits}::R"


def test_a_title_is_cut_to_its_field():
	assert e.fitted("No Touch: Aurora Analytics") == "No Touch: Aurora Analytics"
	cut = e.fitted("Renewal at Risk: " + "X" * 140)
	assert len(cut) == 140 and cut.endswith("…")
