"""Segments: value tiers from revenue, lifecycle touchpoints (planned, done, missed), the segment
performance figures. The daily job, the report and the Customer form all come through here."""

from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, cint, getdate, nowdate

from customer_success.renewals import engine as renewals
from customer_success.segments import engine, queries

TOUCHPOINT = "Lifecycle Touchpoint"
RECORD = "Customer Touchpoint"
SEGMENT = "Customer Segment"
LOCK_NAME = "customer_success:segments_daily"


def settings():
	return frappe.get_cached_doc("Customer Success Settings")


def bands() -> list[dict]:
	return [{"min_revenue": row.min_revenue, "tier": row.tier} for row in settings().get("tier_bands") or []]


# --- value tiers ---------------------------------------------------------------------------------


def compute_tiers(today: date | None = None, commit: bool = False) -> dict:
	"""Every customer's tier from its annual revenue, when the setting is on. Set-based: one revenue
	aggregate, the engine's banding, one UPDATE per tier and batch; tiers set by hand are kept.
	`commit`: each batch committed on its own (`queries.write_tiers`)."""
	if not cint(settings().get("compute_tiers")) or not bands():
		return {"updated": 0, "skipped": True}
	today = getdate(today or nowdate())
	revenue = queries.annual_revenue(today)
	changes = engine.tier_changes(queries.customers_for_tiering(), revenue, bands())
	return {"updated": queries.write_tiers(changes, engine.COMPUTED, commit=commit), "skipped": False}


def tier_source_on_save(doc):
	"""Customer validate: a tier set through a save (form, import, REST) is kept as set by hand."""
	before = None if doc.is_new() else doc.get_doc_before_save()
	old_tier = before.get("cs_tier") if before else None
	old_source = before.get("cs_tier_source") if before else None
	doc.cs_tier_source = engine.tier_source_after_save(old_tier, doc.get("cs_tier"), old_source) or None


def check_segment_enabled(doc):
	"""Customer validate: a segment put on a customer (form, import, REST) is an enabled one. A
	customer whose segment was disabled later keeps it and still saves (nothing is taken from it)."""
	segment = doc.get("cs_segment")
	if not segment:
		return
	before = None if doc.is_new() else doc.get_doc_before_save()
	if before is not None and before.get("cs_segment") == segment:
		return
	if frappe.db.get_value(SEGMENT, segment, "enabled") == 0:
		frappe.throw(
			_("Customer Segment {0} is disabled: choose an enabled segment, or enable it first.").format(
				frappe.bold(segment)
			),
			title=_("Disabled Segment"),
		)


# --- lifecycle touchpoints -----------------------------------------------------------------------


def plan_touchpoints(today: date | None = None, customers: list[str] | None = None) -> dict:
	"""Make the touchpoints due today (one record per customer, touchpoint and occurrence) and their
	ToDos. Set-based reads; each customer's new records are written on their own, so one that fails
	is logged and the others go on."""
	today = getdate(today or nowdate())
	touchpoints = queries.enabled_touchpoints()
	if not touchpoints:
		return {"planned": 0, "failed": 0}
	book = [c for c in queries.active_customers() if customers is None or c.name in customers]
	starts = queries.customer_starts([c.name for c in book])
	rows = [
		{"name": c.name, "tier": c.cs_tier, "segment": c.cs_segment, "start": starts.get(c.name)}
		for c in book
	]
	lead = cint(settings().get("touchpoint_lead_days"))
	due = engine.plan_touchpoints(rows, touchpoints, today, lead)
	from customer_success.segments.doctype.customer_touchpoint.customer_touchpoint import (
		touchpoint_record_name,
	)

	keyed = {touchpoint_record_name(c, o.touchpoint, o.occurrence): (c, o) for c, o in due}
	existing = queries.existing_occurrences(sorted({c for c, _o in due}))
	new = {k: (c, o) for k, (c, o) in keyed.items() if (c, o.touchpoint, int(o.occurrence)) not in existing}
	by_customer: dict[str, list] = {}
	for customer, occurrence in new.values():
		by_customer.setdefault(customer, []).append(occurrence)
	owners = {tp.name: tp.owner_role for tp in touchpoints}
	people = {c.name: c for c in book}
	planned = failed = 0
	for customer, occurrences in by_customer.items():
		frappe.db.savepoint("cs_touchpoint")
		try:
			for occurrence in occurrences:
				make_touchpoint(people[customer], occurrence, owners[occurrence.touchpoint])
				planned += 1
		except Exception:
			frappe.db.rollback(save_point="cs_touchpoint")
			failed += 1
			frappe.log_error(title=_("Could not plan the touchpoints of customer {0}").format(customer))
	return {"planned": planned, "failed": failed}


def owner_of(customer, owner_role: str) -> str | None:
	from customer_success.alerts.service import any_cs_manager

	if owner_role == engine.OWNER_CS_MANAGER:
		return any_cs_manager() or customer.cs_owner
	if owner_role == engine.OWNER_ACCOUNT_MANAGER:
		return customer.get("account_manager") or customer.cs_owner
	return customer.cs_owner


def make_touchpoint(customer, occurrence: engine.Occurrence, owner_role: str):
	owner = owner_of(customer, owner_role)
	record = frappe.get_doc(
		{
			"doctype": RECORD,
			"customer": customer.name,
			"touchpoint": occurrence.touchpoint,
			"occurrence": occurrence.occurrence,
			"status": engine.PLANNED,
			"due_date": occurrence.due_date,
			"window_start": occurrence.window_start,
			"window_end": occurrence.window_end,
			"assigned_to": owner,
		}
	)
	record.flags.ignore_permissions = True
	record.insert()
	if owner and cint(settings().get("create_todos")) and frappe.db.get_value("User", owner, "enabled"):
		todo = frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": owner,
				"reference_type": RECORD,
				"reference_name": record.name,
				"date": occurrence.due_date,
				"description": touchpoint_todo_text(owner, occurrence, customer.name),
			}
		)
		todo.flags.ignore_permissions = True
		todo.insert()
		record.db_set("todo", todo.name, update_modified=False)
	return record


def touchpoint_todo_text(owner: str, occurrence, customer: str) -> str:
	"""The owner's ToDo for a touchpoint, in her language (the daily job runs in the site's)."""
	from customer_success.utils import in_language, language_of

	with in_language(language_of(owner)):
		return _("{0} with {1}, due {2}").format(
			_(occurrence.touchpoint), customer, frappe.format(occurrence.due_date, "Date")
		)


def record_touches(today: date | None = None, customers: list[str] | None = None) -> dict:
	"""Touchpoints done (a touch inside the window) and missed (window closed), set-based: the open
	touchpoints, the touches since the earliest window opened, the engine's matching, the updates."""
	today = getdate(today or nowdate())
	rows = queries.open_touchpoints(today, customers)
	if not rows:
		return {"done": 0, "missed": 0}
	customers = sorted({row.customer for row in rows})
	since = min(row.window_start for row in rows)
	touches = queries.touches_since(customers, since, today)
	# a touch that completed a touchpoint on an earlier day completes no other
	done = engine.match_touches(rows, touches, queries.touches_used(customers, since))
	queries.mark_done(done)
	queries.close_todos([row.todo for row in rows if row.name in done and row.todo])
	missed = engine.missed_touchpoints([row for row in rows if row.name not in done], today)
	queries.mark_missed(missed)
	# a window that closed takes its ToDo with it: the record says Missed, the list stays current
	queries.close_todos([row.todo for row in rows if row.name in set(missed) and row.todo], "Cancelled")
	return {"done": len(done), "missed": len(missed)}


def cancel_touchpoints(customer: str, why: str | None = None) -> list[str]:
	"""A customer recorded as churned (the `cs_on_customer_churned` hook): its planned touchpoints
	are not due any more. They are Cancelled (not Missed: nobody missed them), saying why, their
	ToDos cancelled with them. Returns them."""
	record = frappe.qb.DocType(RECORD)
	rows = (
		frappe.qb.from_(record)
		.select(record.name, record.todo)
		.where((record.customer == customer) & (record.status == engine.PLANNED))
		.run(as_dict=True)
	)
	if not rows:
		return []
	names = [row.name for row in rows]
	frappe.qb.update(record).set(record.status, engine.CANCELLED).where(
		record.name.isin(names) & (record.status == engine.PLANNED)
	).run()
	queries.close_todos([row.todo for row in rows if row.todo], "Cancelled")
	if why:
		for name in names:
			frappe.get_doc(RECORD, name).add_comment("Info", why)
	return names


# --- the daily job -------------------------------------------------------------------------------


def run_daily(today: date | None = None) -> dict:
	"""Tiers, then touchpoints planned, then touchpoints done; each step committed on its own, one
	run at a time (a second run waits for nothing: it returns)."""
	from customer_success.health.service import release_lock, take_lock

	if not take_lock(LOCK_NAME, 0):
		return {"skipped": "locked"}
	result = {}
	try:
		steps = (
			("compute_tiers", lambda: compute_tiers(today, commit=True)),
			("plan_and_record", lambda: plan_and_record(today)),
		)
		for name, step in steps:
			try:
				result[name] = step()
				frappe.db.commit()  # nosemgrep: each step stands on its own
			except Exception:
				frappe.db.rollback()
				frappe.log_error(title=_("Segments daily step {0} failed").format(name))
				frappe.db.commit()  # nosemgrep: keep the error log
	finally:
		release_lock(LOCK_NAME)
	return result


def plan_and_record(today: date | None = None) -> dict:
	if not cint(settings().get("plan_touchpoints")):
		return {"skipped": True}
	return {"planned": plan_touchpoints(today), "recorded": record_touches(today)}


# --- segment performance -------------------------------------------------------------------------


def performance(
	day: date, group_by: tuple[str, ...], company: str | None = None, csm: str | None = None
) -> list[dict]:
	"""The Segment Performance rows, for a CSM's book or the whole team: grouped from the retention
	roll-up when it holds the day (and every company's revenue is the company asked for), else
	computed live from the customers and the ledger, with the same figures."""
	if rollup_answers(getdate(day), company):
		return performance_from_rollup(getdate(day), group_by, csm)
	return live_performance(day, group_by, company, csm)


def year_window(day: date) -> tuple[date, date]:
	"""The report's "last twelve months" of revenue: the 365 days to `day`."""
	return add_days(day, -364), day


def rollup_answers(day: date, company: str | None) -> bool:
	"""The retention roll-up answers for this day and company: `day` is a point it holds complete, the
	company (if any) is the only one with revenue (it holds every company's), and its later window
	begins no later than the report's year (it holds a day more when the twelve months hold a 29
	February: that day is taken off)."""
	from customer_success.renewals import queries as renewals_queries

	if not renewals_queries.retention_periods().get(day):
		return False
	if company and any(other != company for other in renewals_queries.invoiced_companies()):
		return False
	return renewals.retention_windows(day)[1][0] <= year_window(day)[0]


def performance_from_rollup(day: date, group_by: tuple[str, ...], csm: str | None) -> list[dict]:
	"""`live_performance`'s rows, grouped in the database from the retention roll-up at `day`: on a
	large book, its point sums (kept per tier and segment) and the book roll-up's health figures (kept
	per tier, segment, stage and live flag), a few hundred rows; else one grouped pass over the book's
	customers with each one's row at `day`."""
	from customer_success.customer_success import book_counts
	from customer_success.renewals import queries as renewals_queries

	if book_counts.readable():
		rows = [
			*book_counts.group_figures(csm),
			*renewals_queries.retention_by_group(day, csm, queries.RETENTION_PREFIX),
		]
	else:
		rows = queries.rolled_up_group_figures(day, csm)
	plans = queries.plan_customers_by_group(day, csm)
	later_first, year_first = renewals.retention_windows(day)[1][0], year_window(day)[0]
	extra = (
		queries.revenue_by_group(later_first, add_days(year_first, -1), csm)
		if later_first < year_first
		else []
	)
	groups = engine.fold_groups(
		[*rows, *plans, *({**row, "revenue": -row["revenue"]} for row in extra)], group_by
	)
	result = engine.performance_rows({k: g for k, g in groups.items() if g["customers"]}, group_by)
	named = [queries.RETENTION_PREFIX + c for c in renewals.COMPONENTS]
	components = engine.fold_groups(rows, group_by, named)
	by_group = {
		key: renewals.retention_figures({c: sums[n] for c, n in zip(renewals.COMPONENTS, named, strict=True)})
		for key, sums in components.items()
	}
	attach_retention(result, group_by, by_group)
	return result


def live_performance(
	day: date, group_by: tuple[str, ...], company: str | None = None, csm: str | None = None
) -> list[dict]:
	"""The rows computed from every customer of the book and the ledger."""
	book = queries.book_performance_rows(csm)
	# the year's revenue and both retention windows from one scan of the ledger
	windows = [year_window(day), *renewals.retention_windows(getdate(day))]
	revenue, prev, curr = queries.book_revenue_windows(windows, csm, company)
	rows = [
		{
			"tier": c.cs_tier,
			"segment": c.cs_segment,
			"revenue": revenue.get(c.name, 0),
			"score": c.cs_health_score,
			"status": c.cs_health_status,
			"has_plan": bool(c.has_plan),
		}
		for c in book
	]
	result = engine.segment_performance(rows, group_by)
	attach_retention(result, group_by, retention_by_group(group_by, prev, curr, csm))
	return result


def retention_by_group(group_by: tuple[str, ...], prev: dict, curr: dict, csm) -> dict[tuple, dict]:
	"""GRR and NRR per group (the renewals room's retention maths over the two twelve-month windows
	before the report's day: `prev` and `curr`, {customer: revenue}), each customer in the group it
	is in today, churned and disabled customers included."""
	people = queries.book_groups(csm) if prev or curr else {}
	group_of = {
		name: tuple(c.get(f"cs_{field}") or "" for field in group_by)
		for name, c in people.items()
		if name in prev or name in curr
	}
	return {
		key: renewals.retention(before, after)
		for key, (before, after) in engine.split_by_group(prev, curr, group_of).items()
	}


def attach_retention(rows: list[dict], group_by: tuple[str, ...], by_group: dict[tuple, dict]):
	"""Each row's GRR and NRR; a group whose customers all churned gets a row of its own, so a
	segment that lost everyone is seen."""
	seen = set()
	for row in rows:
		key = tuple(row.get(field) or "" for field in group_by)
		seen.add(key)
		figures = by_group.get(key) or {}
		row["grr"], row["nrr"] = figures.get("grr"), figures.get("nrr")
	for key, figures in sorted(by_group.items()):
		if key not in seen and figures.get("customers"):
			rows.append(
				{
					**dict(zip(group_by, key, strict=True)),
					"customers": 0,
					"revenue": 0.0,
					"average_health": None,
					"share_green": None,
					"plan_coverage": None,
					"grr": figures.get("grr"),
					"nrr": figures.get("nrr"),
				}
			)
