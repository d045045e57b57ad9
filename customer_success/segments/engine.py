"""Segments: the pure rules. Value tiers from revenue bands, which lifecycle touchpoints apply to a
customer and when each occurrence is due, which touch completes which touchpoint, and the figures
of a segment's performance.

Plain data in, plain data out; never imports frappe.
"""

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from customer_success.numbers import is_number, round2, round_half_up2

COMPUTED, MANUAL = "Computed", "Manual"
TIER_SOURCES = (COMPUTED, MANUAL)

# Customer Touchpoint statuses: planned (a ToDo is out), done (a touch in its window), missed.
PLANNED, DONE, MISSED, CANCELLED = "Planned", "Done", "Missed", "Cancelled"
TOUCHPOINT_STATUSES = (PLANNED, DONE, MISSED, CANCELLED)

# Who does a touchpoint.
OWNER_CSM, OWNER_CS_MANAGER, OWNER_ACCOUNT_MANAGER = "CSM", "CS Manager", "Account Manager"
OWNER_ROLES = (OWNER_CSM, OWNER_CS_MANAGER, OWNER_ACCOUNT_MANAGER)

MAX_OFFSET_DAYS = 3650


# --- value tiers ---------------------------------------------------------------------------------


def sorted_bands(bands: list[dict]) -> list[dict]:
	"""Bands highest threshold first: [{"min_revenue": x, "tier": t}]."""
	return sorted(
		(b for b in bands if b.get("tier") and is_number(b.get("min_revenue"))),
		key=lambda b: float(b["min_revenue"]),
		reverse=True,
	)


def tier_for_revenue(revenue, bands: list[dict]) -> str | None:
	"""The tier of the highest band whose minimum the annual revenue reaches; None below every band.

	A band's minimum is inclusive: revenue exactly at a threshold belongs to that band."""
	value = float(revenue) if is_number(revenue) else 0.0
	for band in sorted_bands(bands):
		if value >= float(band["min_revenue"]):
			return band["tier"]
	return None


def band_problems(bands: list[dict], tiers: tuple[str, ...]) -> list[tuple[str, tuple]]:
	"""What is wrong with a band table, as (message, args) for the caller to translate."""
	problems = []
	seen_tiers, seen_mins = set(), set()
	for index, band in enumerate(bands, start=1):
		tier, minimum = band.get("tier"), band.get("min_revenue")
		if tier not in tiers:
			problems.append(("Row {0}: choose a Tier.", (index,)))
		if not is_number(minimum) or float(minimum) < 0:
			problems.append(("Row {0}: Minimum Annual Revenue must be 0 or more.", (index,)))
			continue
		if tier in seen_tiers:
			problems.append(("Row {0}: tier {1} has a band already.", (index, tier)))
		if float(minimum) in seen_mins:
			problems.append(("Row {0}: another band starts at the same revenue.", (index,)))
		seen_tiers.add(tier)
		seen_mins.add(float(minimum))
	# a higher tier starts at a higher revenue (TIERS run from the highest down)
	ranked = sorted(
		(tiers.index(band["tier"]), float(band["min_revenue"]), band["tier"])
		for band in bands
		if band.get("tier") in tiers
		and is_number(band.get("min_revenue"))
		and float(band["min_revenue"]) >= 0
	)
	for (_rank, higher_min, higher), (_lower_rank, lower_min, lower) in itertools.pairwise(ranked):
		if higher != lower and higher_min < lower_min:
			problems.append(
				(
					"Tier {0} starts below tier {1}: a higher tier needs a higher Minimum Annual Revenue.",
					(higher, lower),
				)
			)
	return problems


def tier_changes(customers: list[dict], revenue: dict[str, float], bands: list[dict]) -> dict[str, list[str]]:
	"""{new tier ("" for none): [customers]} for the customers whose computed tier differs from the
	stored one. A tier set by hand (source Manual) is kept."""
	changes: dict[str, list[str]] = {}
	for row in customers:
		if row.get("cs_tier_source") == MANUAL:
			continue
		tier = tier_for_revenue(revenue.get(row["name"], 0), bands) or ""
		if tier != (row.get("cs_tier") or "") or (tier and row.get("cs_tier_source") != COMPUTED):
			changes.setdefault(tier, []).append(row["name"])
	return changes


def tier_source_after_save(old_tier, new_tier, old_source) -> str:
	"""A person who sets a tier makes it Manual; clearing it hands it back to the nightly job."""
	if (new_tier or "") == (old_tier or ""):
		return old_source or ""
	return MANUAL if new_tier else ""


# --- lifecycle touchpoints -----------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
	touchpoint: str
	occurrence: int  # 0 for the first (or only) time, then 1, 2, ... for repeating touchpoints
	due_date: date
	window_start: date
	window_end: date


def touchpoint_applies(touchpoint: dict, tier: str | None, segment: str | None) -> bool:
	"""A touchpoint with no tier (segment) applies to every tier (segment)."""
	return (not touchpoint.get("tier") or touchpoint["tier"] == tier) and (
		not touchpoint.get("segment") or touchpoint["segment"] == segment
	)


def occurrence_due(start: date, offset_days: int, repeat_days: int, occurrence: int) -> date:
	return start + timedelta(days=int(offset_days or 0) + int(occurrence) * int(repeat_days or 0))


def due_occurrences(touchpoint: dict, start: date, today: date, lead_days: int) -> list[Occurrence]:
	"""The occurrences of a touchpoint to plan today for a customer that started on `start`.

	An occurrence is planned from `lead_days` before its due date until its window closes
	(`window_days` after the due date): a touchpoint is a moment, and one whose window passed
	before the customer was planned is history, not a task. A one-off touchpoint has occurrence 0
	only; a repeating one (every `repeat_days`) the occurrences in that span.
	"""
	if not start:
		return []
	offset = int(touchpoint.get("offset_days") or 0)
	repeat = int(touchpoint.get("repeat_days") or 0)
	window = max(int(touchpoint.get("window_days") or 0), 0)
	lead = max(int(lead_days or 0), 0)
	first = occurrence_due(start, offset, repeat, 0)
	if repeat <= 0:
		candidates = [0]
	else:
		# the occurrences whose due date lies in [today - window, today + lead]
		low = max(0, -(-((today - timedelta(days=window)) - first).days // repeat))
		high = ((today + timedelta(days=lead)) - first).days // repeat
		candidates = range(low, high + 1) if high >= low else []
	found = []
	for k in candidates:
		due = occurrence_due(start, offset, repeat, k)
		if due - timedelta(days=lead) <= today <= due + timedelta(days=window):
			found.append(
				Occurrence(
					touchpoint["name"], k, due, due - timedelta(days=window), due + timedelta(days=window)
				)
			)
	return found


def plan_touchpoints(
	customers: list[dict], touchpoints: list[dict], today: date, lead_days: int
) -> list[tuple[str, Occurrence]]:
	"""[(customer, occurrence)] due for planning today over the book (customers carry name, tier,
	segment and start)."""
	planned = []
	for customer in customers:
		start = customer.get("start")
		if not start:
			continue
		for touchpoint in touchpoints:
			if touchpoint_applies(touchpoint, customer.get("tier"), customer.get("segment")):
				planned.extend(
					(customer["name"], occ) for occ in due_occurrences(touchpoint, start, today, lead_days)
				)
	return planned


def occurrence_key(customer: str, touchpoint: str, occurrence: int) -> str:
	"""One record per customer, touchpoint and occurrence: the key the job dedupes on."""
	return f"{customer}\x1f{touchpoint}\x1f{int(occurrence)}"


def match_touches(
	open_touchpoints: list[dict],
	touches: dict[str, list[tuple]],
	used_before: dict[str, set[tuple]] | None = None,
) -> dict[str, tuple]:
	"""{touchpoint record: (doctype, name, day)}: the earliest touch with its customer inside each
	open touchpoint's window. One touch completes at most one touchpoint of a customer (the one due
	first), so a single call does not tick off a kick-off and a training at once; nor does a touch
	that completed one on an earlier run (`used_before`: {customer: {(doctype, name)}})."""
	done: dict[str, tuple] = {}
	by_customer: dict[str, list[dict]] = {}
	used_before = used_before or {}
	for row in open_touchpoints:
		by_customer.setdefault(row["customer"], []).append(row)
	for customer, rows in by_customer.items():
		available = sorted(touches.get(customer, []), key=lambda t: (t[2], t[0], t[1]))
		used = set(used_before.get(customer, ()))
		for row in sorted(rows, key=lambda r: (r["due_date"], r["name"])):
			for touch in available:
				key = (touch[0], touch[1])
				if key in used:
					continue
				if row["window_start"] <= touch[2] <= row["window_end"]:
					done[row["name"]] = touch
					used.add(key)
					break
	return done


def missed_touchpoints(open_touchpoints: list[dict], today: date) -> list[str]:
	"""Open touchpoints whose window closed before today without a touch."""
	return [row["name"] for row in open_touchpoints if row["window_end"] < today]


# --- segment performance -------------------------------------------------------------------------


def ratio(part, whole) -> float | None:
	return round2(100.0 * part / whole) if whole else None


# a group's figures, summed over its customers (or over grouped rows that carry them)
GROUP_FIGURES = ("customers", "revenue", "score_sum", "scored", "coloured", "green", "with_plan")
COLOURS = ("Green", "Yellow", "Red")


def group_key(row: dict, group_by: tuple[str, ...]) -> tuple:
	return tuple(row.get(field) or "" for field in group_by)


def group_figures(customers: list[dict], group_by: tuple[str, ...]) -> dict[tuple, dict]:
	"""{group: `GROUP_FIGURES`} of customers, each {"tier", "segment", "revenue", "score", "status",
	"has_plan"}: a status of "Insufficient Data" (or none) has no colour and no score counted."""
	groups: dict[tuple, dict] = {}
	for row in customers:
		g = groups.setdefault(group_key(row, group_by), dict.fromkeys(GROUP_FIGURES, 0))
		g["customers"] += 1
		g["revenue"] += float(row.get("revenue") or 0)
		if row.get("status") in COLOURS:
			g["coloured"] += 1
			g["green"] += row.get("status") == "Green"
			if is_number(row.get("score")):
				g["scored"] += 1
				g["score_sum"] += float(row["score"])
		g["with_plan"] += bool(row.get("has_plan"))
	return groups


def fold_groups(rows: list[dict], group_by: tuple[str, ...], figures=GROUP_FIGURES) -> dict[tuple, dict]:
	"""{group: summed `figures`} of rows already grouped finer (per tier and segment, say), each with
	its tier and segment and those figures: the same groups `group_figures` makes of their customers."""
	groups: dict[tuple, dict] = {}
	for row in rows:
		g = groups.setdefault(group_key(row, group_by), dict.fromkeys(figures, 0))
		for field in figures:
			g[field] += row.get(field) or 0
	return groups


def performance_rows(groups: dict[tuple, dict], group_by: tuple[str, ...]) -> list[dict]:
	"""One row per group, in the groups' order: customers, revenue, average health (over scored
	customers), share green (of the customers with a colour) and plan coverage (share with a
	running plan)."""
	result = []
	for key in sorted(groups):
		g = groups[key]
		scored = int(g["scored"] or 0)
		result.append(
			{
				**dict(zip(group_by, key, strict=True)),
				"customers": int(g["customers"] or 0),
				"revenue": round2(float(g["revenue"] or 0)),
				"average_health": round_half_up2(float(g["score_sum"]) / scored) if scored else None,
				"share_green": ratio(g["green"], g["coloured"]),
				"plan_coverage": ratio(g["with_plan"], g["customers"]),
			}
		)
	return result


def segment_performance(customers: list[dict], group_by: tuple[str, ...] = ("tier", "segment")) -> list[dict]:
	"""One row per group of these customers (`group_figures`, `performance_rows`)."""
	return performance_rows(group_figures(customers, group_by), group_by)


def split_by_group(
	prev: dict[str, float], curr: dict[str, float], group_of: dict[str, tuple]
) -> dict[tuple, tuple[dict, dict]]:
	"""Each group's (earlier, later) revenue per customer, for retention per segment: a customer
	counts in the group it is in now (its tier and segment today), churned customers included."""
	groups: dict[tuple, tuple[dict, dict]] = {}
	for customer, key in group_of.items():
		before, after = groups.setdefault(key, ({}, {}))
		if customer in prev:
			before[customer] = prev[customer]
		if customer in curr:
			after[customer] = curr[customer]
	return groups
