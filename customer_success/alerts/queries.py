"""Set-based reads and bulk writes for alerts: the facts each rule kind needs, for a whole range of
customers at once (a handful of queries per rule, never one per customer), and the alerts' own state.

The health room's reads (contract ends, last touches, invoices, scores) are reused, not rewritten.
"""

from datetime import date

import frappe
from frappe.query_builder import Case
from frappe.query_builder.functions import Count, Max, Min, Sum
from frappe.utils import getdate

from customer_success.alerts import engine

ALERT = "CS Alert"
RUNNING_PLAN_STATUSES = ("Agreed with Customer", "Active", "At Risk")
OPEN_MILESTONE_STATES = ("Not Started", "In Progress", "Overdue")


CUSTOMER_FIELDS = (
	"name",
	"customer_name",
	"cs_owner",
	"account_manager",
	"cs_health_status",
	"cs_health_score",
	"cs_lifecycle_stage",
)


def customers(lo: str, hi: str) -> list[dict]:
	"""The active customers of the range with what the rules read off the Customer itself, in name
	order: one JSON document decoded in C (`health.queries.range_customers`), where the driver
	decoded each value of ~2,000 rows a chunk in Python. The score is a float, as frappe gives a
	decimal."""
	from customer_success.health.queries import range_customers

	found = range_customers(CUSTOMER_FIELDS, lo, hi)
	for row in found:
		if row.cs_health_score is not None:
			row.cs_health_score = float(row.cs_health_score)
	return found


def overdue_milestones(lo: str, hi: str, today: date) -> dict[str, list[dict]]:
	"""{customer: [{name, due_date}]} of open milestones of running plans past their due date."""
	milestone = frappe.qb.DocType("Success Plan Milestone")
	plan = frappe.qb.DocType("Success Plan")
	rows = (
		frappe.qb.from_(milestone)
		.join(plan)
		.on(plan.name == milestone.success_plan)
		.select(milestone.customer, milestone.name, milestone.due_date)
		.where(
			milestone.customer[lo:hi]
			& milestone.status.isin(OPEN_MILESTONE_STATES)
			& (milestone.due_date < today)
			& plan.status.isin(RUNNING_PLAN_STATUSES)
		)
		.orderby(milestone.due_date)
		.run(as_dict=True)
	)
	found: dict[str, list[dict]] = {}
	for row in rows:
		found.setdefault(row.customer, []).append({"name": row.name, "due_date": row.due_date})
	return found


def plan_checkins(lo: str, hi: str) -> dict[str, list[dict]]:
	"""{customer: [{name, start_date, last_checkin}]} of running plans, with their last completed
	check-in."""
	plan = frappe.qb.DocType("Success Plan")
	checkin = frappe.qb.DocType("Success Plan Check-in")
	rows = (
		frappe.qb.from_(plan)
		.left_join(checkin)
		.on((checkin.success_plan == plan.name) & (checkin.docstatus == 1))
		.select(plan.customer, plan.name, plan.start_date, Max(checkin.checkin_date).as_("last_checkin"))
		.where(plan.customer[lo:hi] & plan.status.isin(RUNNING_PLAN_STATUSES))
		.groupby(plan.customer, plan.name, plan.start_date)
		.run(as_dict=True)
	)
	found: dict[str, list[dict]] = {}
	for row in rows:
		found.setdefault(row.customer, []).append(
			{"name": row.name, "start_date": row.start_date, "last_checkin": row.last_checkin}
		)
	return found


def plan_objectives(lo: str, hi: str) -> dict[str, list[dict]]:
	"""{customer: [{name, objectives, achieved}]} of running plans."""
	plan = frappe.qb.DocType("Success Plan")
	objective = frappe.qb.DocType("Success Plan Objective")
	achieved = Case().when(objective.status == "Achieved", 1).else_(0)
	rows = (
		frappe.qb.from_(plan)
		.join(objective)
		.on((objective.parent == plan.name) & (objective.parenttype == "Success Plan"))
		.select(
			plan.customer, plan.name, Count(objective.name).as_("objectives"), Sum(achieved).as_("achieved")
		)
		.where(plan.customer[lo:hi] & plan.status.isin(RUNNING_PLAN_STATUSES))
		.groupby(plan.customer, plan.name)
		.run(as_dict=True)
	)
	found: dict[str, list[dict]] = {}
	for row in rows:
		found.setdefault(row.customer, []).append(
			{"name": row.name, "objectives": int(row.objectives or 0), "achieved": int(row.achieved or 0)}
		)
	return found


def key_stakeholders(lo: str, hi: str) -> dict[str, list[dict]]:
	"""{customer: [stakeholder]} of the champions and economic buyers recorded on accepted handoffs,
	each with whether its contact is still linked to the customer, disabled (its user is) or marked
	as having left (`cs_left_company`)."""
	handoff = frappe.qb.DocType("Sales Handoff")
	row = frappe.qb.DocType("Sales Handoff Stakeholder")
	contact = frappe.qb.DocType("Contact")
	user = frappe.qb.DocType("User")
	link = frappe.qb.DocType("Dynamic Link")
	has_left = frappe.db.has_column("Contact", "cs_left_company")
	linked = (
		frappe.qb.from_(link)
		.select(link.parent)
		.where(
			(link.parenttype == "Contact")
			& (link.link_doctype == "Customer")
			& (link.link_name == handoff.customer)
		)
	)
	query = (
		frappe.qb.from_(row)
		.join(handoff)
		.on((handoff.name == row.parent) & (row.parenttype == "Sales Handoff"))
		.left_join(contact)
		.on(contact.name == row.contact)
		.left_join(user)
		.on(user.name == contact.user)
		.select(
			handoff.customer,
			handoff.name.as_("handoff"),
			row.contact,
			row.stakeholder_name,
			row.is_champion,
			row.is_economic_buyer,
			Case().when(row.contact.isin(linked), 1).else_(0).as_("linked"),
			Case().when(contact.user.isnotnull() & (user.enabled == 0), 1).else_(0).as_("disabled"),
		)
		.where(
			handoff.customer[lo:hi]
			& (handoff.status == "Accepted")
			& ((row.is_champion == 1) | (row.is_economic_buyer == 1))
			& row.contact.isnotnull()
			& (row.contact != "")
		)
	)
	if has_left:
		query = query.select(contact.cs_left_company.as_("left"))
	found: dict[str, list[dict]] = {}
	for r in query.run(as_dict=True):
		found.setdefault(r.customer, []).append(dict(r))
	return found


def onboarding_facts(lo: str, hi: str) -> dict[str, dict]:
	"""{customer: {go_live, open_milestones}} for customers in Onboarding: the latest go-live planned
	on their accepted handoffs and their milestones still open on running plans."""
	customer = frappe.qb.DocType("Customer")
	handoff = frappe.qb.DocType("Sales Handoff")
	milestone = frappe.qb.DocType("Success Plan Milestone")
	plan = frappe.qb.DocType("Success Plan")
	onboarding = (
		frappe.qb.from_(customer)
		.select(customer.name)
		.where(customer.name[lo:hi] & (customer.cs_lifecycle_stage == "Onboarding"))
	)
	go_lives = (
		frappe.qb.from_(handoff)
		.select(handoff.customer, Max(handoff.target_go_live))
		.where(
			handoff.customer.isin(onboarding)
			& (handoff.status == "Accepted")
			& handoff.target_go_live.isnotnull()
		)
		.groupby(handoff.customer)
		.run()
	)
	if not go_lives:
		return {}
	open_counts = dict(
		frappe.qb.from_(milestone)
		.join(plan)
		.on(plan.name == milestone.success_plan)
		.select(milestone.customer, Count(milestone.name))
		.where(
			milestone.customer.isin(onboarding)
			& milestone.status.isin(OPEN_MILESTONE_STATES)
			& plan.status.isin(RUNNING_PLAN_STATUSES)
		)
		.groupby(milestone.customer)
		.run()
	)
	return {
		name: {"go_live": go_live, "open_milestones": int(open_counts.get(name) or 0)}
		for name, go_live in go_lives
	}


def nps_answers(lo: str, hi: str, since: date) -> dict[str, list[dict]]:
	"""{customer: [{name, score, answered_on, contact}]} of the NPS answers since `since`, oldest
	first: one range scan of the responses (the detractor rule reads them)."""
	response = frappe.qb.DocType("NPS Response")
	rows = (
		frappe.qb.from_(response)
		.select(response.customer, response.name, response.score, response.answered_on, response.contact)
		.where(response.customer[lo:hi] & (response.answered_on >= since))
		.orderby(response.answered_on)
		.orderby(response.creation)
		.run(as_dict=True)
	)
	found: dict[str, list[dict]] = {}
	for row in rows:
		found.setdefault(row.customer, []).append({**row, "answered_on": getdate(row.answered_on)})
	return found


# --- the alerts' own state ---------------------------------------------------------------------


def open_alerts(lo: str, hi: str) -> dict[tuple[str, str], dict]:
	"""{(customer, rule): {name, severity, snoozed_until, evidence_digest}} of the range's open rule
	alerts; the evidence as its stored MD5 (`evidence_digest`): the pass only asks whether it changed."""
	from customer_success.health.queries import iso_date, json_rows

	alert = frappe.qb.DocType(ALERT)
	columns = ("name", "customer", "rule", "severity", "snoozed_until", "evidence_digest")
	# thousands of rows a range, read every night: one JSON document decoded in C (`json_rows`),
	# made into plain dicts here (the driver decoded each value in Python: ~25 ms a chunk, now ~7)
	rows = json_rows(
		frappe.qb.from_(alert)
		.select(*(alert[column].as_(column) for column in columns))
		.where(alert.customer[lo:hi] & alert.status.isin(engine.OPEN_STATUSES) & alert.rule.isnotnull()),
		columns,
	)
	return {
		(customer, rule): {
			"name": name,
			"severity": severity,
			"snoozed_until": iso_date(snoozed_until),
			"evidence_digest": evidence_digest,
		}
		for name, customer, rule, severity, snoozed_until, evidence_digest in rows
	}


# Up to this many customers are named in a query; more, and the range is read whole.
NAMED_CUSTOMERS_MAX = 500


def of_customers(lo: str, hi: str, customers: list[str] | None) -> tuple[str, dict]:
	"""The condition on `customer` for the rows of the range's customers, or only of `customers`
	when given and few (an empty list: none), with its parameters. The names go to the driver as
	one tuple: a query builder's IN list renders each of them as a term of its own (~7 µs a name,
	hundreds of names a chunk every night)."""
	if customers is not None and len(customers) <= NAMED_CUSTOMERS_MAX:
		return "`customer` in %(customers)s", {"customers": tuple(customers) or ("",)}
	return "`customer` between %(lo)s and %(hi)s", {"lo": lo, "hi": hi}


def recently_dismissed(lo: str, hi: str, since, customers: list[str] | None = None) -> set[tuple[str, str]]:
	"""(customer, rule) pairs with an alert dismissed, or resolved by hand, since `since`: in their
	cool-down (of the range's customers, or of `customers` only). A hand-resolved alert whose
	condition still holds is the same open condition: it is not raised again the next night (an
	alert that resolved by itself, its condition cleared, is no reason to wait). One JSON document
	(`json_rows`): thousands of pairs a chunk on a book whose CSMs dismiss a lot."""
	from customer_success.health.queries import json_rows

	which, params = of_customers(lo, hi, customers)
	rows = json_rows(
		(
			f"""select distinct `customer`, `rule` from `tabCS Alert`
			where {which} and `closed_on` >= %(since)s and `rule` is not null
				and (`status` = %(dismissed)s or (`status` = %(resolved)s and `auto_resolved` = 0))""",
			{**params, "dismissed": engine.DISMISSED, "resolved": engine.RESOLVED, "since": since},
		),
		("customer", "rule"),
	)
	return {(customer, rule) for customer, rule in rows}


def raised_since(lo: str, hi: str, since, customers: list[str] | None = None) -> dict[str, int]:
	"""{customer: alerts raised since `since`}: what counts against the weekly cap (of the range's
	customers, or of `customers` only). One JSON document (`json_rows`): a row per customer with an
	alert that week, thousands a chunk in a book's first week, which the driver decoded value by
	value (~12 ms a chunk, the server's count 3)."""
	from customer_success.health.queries import json_rows

	which, params = of_customers(lo, hi, customers)
	rows = json_rows(
		(
			f"""select `customer`, count(*) as `raised` from `tabCS Alert`
			where {which} and `creation` >= %(since)s group by `customer`""",
			{**params, "since": since},
		),
		("customer", "raised"),
	)
	return {customer: int(raised) for customer, raised in rows}


def reserve_alert_names(count: int) -> list[str]:
	"""`count` new names from the CS Alert naming series at once: one locked read and one write of
	its counter, as Frappe's `getseries` does for one."""
	from frappe.model.naming import NamingSeries

	if count <= 0:
		return []
	autoname = frappe.get_meta(ALERT).autoname
	prefix = NamingSeries(autoname).get_prefix()
	digits = autoname.split(".")[-1].count("#")
	series = frappe.qb.DocType("Series")
	current = frappe.qb.from_(series).select(series.current).where(series.name == prefix).for_update().run()
	if current and current[0][0] is not None:
		first = int(current[0][0]) + 1
		frappe.qb.update(series).set(series.current, series.current + count).where(
			series.name == prefix
		).run()
	else:
		first = 1
		frappe.qb.into(series).columns(series.name, series.current).insert(prefix, count).run()
	return [f"{prefix}{number:0{digits}d}" for number in range(first, first + count)]


def insert_rows(doctype: str, rows: list[dict], batch: int = 1000):
	"""Bulk-insert plain rows of one doctype (every row with the same keys, which name columns).

	Not `frappe.db.bulk_insert`: qb renders every value through pypika, which at tens of thousands
	of rows costs several times the driver's own escaping. Nor parameters: the driver escapes each
	value in Python (~2.5 µs; a night raising a thousand alerts writes ~60,000 values). Every value
	is a literal (`health.queries.sql_literal`: a string quoted as it is, or as hex when it holds a
	quote, a backslash or NUL), the statement sent as it is (`execute_literal`). Column names come
	from our code, never from input."""
	if not rows:
		return
	fields = list(rows[0])
	columns = ", ".join(f"`{field}`" for field in fields)
	for start in range(0, len(rows), batch):
		_insert_literal_rows(doctype, columns, fields, rows[start : start + batch])


def _insert_literal_rows(doctype: str, columns: str, fields: list[str], part: list[dict]):
	"""One multi-row INSERT of `part`, or two of its halves when its text would pass `MAX_LITERAL`
	(well within the server's max_allowed_packet, counted as bytes: a character is at most 4)."""
	from customer_success.health.queries import MAX_LITERAL, execute_literal, sql_literal

	values = ["(" + ", ".join([sql_literal(row[field]) for field in fields]) + ")" for row in part]
	if 4 * sum(map(len, values)) > MAX_LITERAL and len(part) > 1:
		half = len(part) // 2
		_insert_literal_rows(doctype, columns, fields, part[:half])
		_insert_literal_rows(doctype, columns, fields, part[half:])
		return
	execute_literal(f"insert into `tab{doctype}` ({columns}) values {', '.join(values)}")


def update_alerts(rows: list[dict], now, user: str, batch: int = 2000):
	"""Write re-fired rules' news onto their open alerts, many per statement (no controller: nothing
	else changes): {name, severity, summary, evidence, evidence_digest, wake, due_date} each; a woken
	alert's snooze ends, and one given a due date is due no later than it (its severity rose). An
	alert no longer open (closed since the pass read it) is left as it is.

	One joined UPDATE per batch, driven by the rows' own values (a JSON table, read first:
	`straight_join`) and reaching each alert on its primary key (forced: on a table of a few alerts
	the optimizer scanned it, and locked the alerts of a range writing beside this one), sent as it is
	(`health.queries.execute_literal`: the values are one hex literal, made in C). A night after the
	scores moved rewrites thousands of alerts a chunk: a single-table UPDATE setting each column by a
	CASE over the batch's names compared every alert with every name, and the driver escaped ~5
	parameters an alert in Python (~214 ms a chunk of ~2,240 rewrites under a profiler; this UPDATE
	takes 55-90 ms of the server)."""
	for start in range(0, len(rows), batch):
		values = [
			[
				row["name"],
				row["severity"],
				row["summary"],
				row["evidence"],
				row["evidence_digest"],
				1 if row.get("wake") else 0,
				str(row["due_date"]) if row.get("due_date") else None,
			]
			for row in rows[start : start + batch]
		]
		_update_alert_values(values, now, user)
	pull_due_dates(rows)


def pull_due_dates(rows: list[dict]):
	"""An alert whose severity rose is due sooner (`row["due_date"]`): its open tasks and open ToDos
	due later are pulled in to that date. One UPDATE each per new due date (a few severities' worth),
	for the risen alerts alone."""
	by_date: dict[str, list[str]] = {}
	for row in rows:
		if row.get("due_date"):
			by_date.setdefault(str(row["due_date"]), []).append(row["name"])
	task, todo = frappe.qb.DocType("CS Alert Task"), frappe.qb.DocType("ToDo")
	for due, names in by_date.items():
		for table, when, of_alerts in (
			(task, task.due_date, (task.parenttype == ALERT) & task.parent.isin(names)),
			(todo, todo.date, (todo.reference_type == ALERT) & todo.reference_name.isin(names)),
		):
			(
				frappe.qb.update(table)
				.set(when, due)
				.where(of_alerts & (table.status == "Open") & (when.isnull() | (when > due)))
				.run()
			)


def _update_alert_values(values: list[list], now, user: str):
	"""One joined UPDATE of the alerts in `values`, or two of its halves when its literal would pass
	`MAX_LITERAL` (the hex of the JSON is ASCII: its length is its bytes)."""
	from customer_success.health.queries import MAX_LITERAL, execute_literal, json_literal, sql_literal

	document = json_literal(values)
	if len(document) > MAX_LITERAL and len(values) > 1:
		half = len(values) // 2
		_update_alert_values(values[:half], now, user)
		_update_alert_values(values[half:], now, user)
		return
	when, who = sql_literal(now), sql_literal(user)
	open_statuses = ", ".join(sql_literal(status) for status in engine.OPEN_STATUSES)
	execute_literal(
		f"""update json_table({document}, '$[*]' columns (
			`name` varchar(140) path '$[0]', `severity` varchar(140) path '$[1]',
			`summary` text path '$[2]', `evidence` longtext path '$[3]',
			`evidence_digest` varchar(140) path '$[4]', `wake` int path '$[5]',
			`due_date` date path '$[6]')) v
		straight_join `tab{ALERT}` a force index (primary) on a.`name` = v.`name`
		set a.`severity` = v.`severity`, a.`summary` = v.`summary`, a.`evidence` = v.`evidence`,
			a.`evidence_digest` = v.`evidence_digest`,
			a.`snoozed_until` = if(v.`wake` = 1, null, a.`snoozed_until`),
			a.`due_date` = if(v.`due_date` is null, a.`due_date`, least(ifnull(a.`due_date`, v.`due_date`), v.`due_date`)),
			a.`evidence_updated_on` = {when}, a.`modified` = {when}, a.`modified_by` = {who}
		where a.`status` in ({open_statuses})"""
	)


def alert_statuses(names: list[str]) -> list[dict]:
	"""{name, status} of the named alerts."""
	alert = frappe.qb.DocType(ALERT)
	return (
		frappe.qb.from_(alert)
		.select(alert.name, alert.status)
		.where(alert.name.isin(names))
		.run(as_dict=True)
	)


def resolve_alerts(names: list[str], note: str, now, user: str) -> list[str]:
	"""Resolve open alerts by themselves, in one statement per batch; their open ToDos close and
	they keep no assignees. Returns the names actually resolved (still open when read)."""
	if not names:
		return []
	alert = frappe.qb.DocType(ALERT)
	todo = frappe.qb.DocType("ToDo")
	still_open = (
		frappe.qb.from_(alert)
		.select(alert.name)
		.where(alert.name.isin(names) & alert.status.isin(engine.OPEN_STATUSES))
		.for_update()
		.run(pluck=True)
	)
	if not still_open:
		return []
	(
		frappe.qb.update(alert)
		.set(alert.status, engine.RESOLVED)
		.set(alert.resolution, note)
		.set(alert.auto_resolved, 1)
		.set(alert.closed_on, now)
		.set(alert.closed_by, user)
		.set(alert.open_key, None)
		.set(alert._assign, None)
		.set(alert.modified, now)
		.set(alert.modified_by, user)
		.where(alert.name.isin(still_open))
		.run()
	)
	task = frappe.qb.DocType("CS Alert Task")
	(
		frappe.qb.update(task)
		.set(task.alert_open, 0)
		.where((task.parenttype == ALERT) & task.parent.isin(still_open))
		.run()
	)
	cancel_open_tasks(still_open)
	(
		frappe.qb.update(todo)
		.set(todo.status, "Closed")
		.set(todo.modified, now)
		.set(todo.modified_by, user)
		.where(
			(todo.reference_type == ALERT) & todo.reference_name.isin(still_open) & (todo.status == "Open")
		)
		.run()
	)
	return still_open


def cancel_open_tasks(alerts: list[str]):
	"""Closed alerts' playbook tasks still open are cancelled (no longer to do), and each alert's
	progress counted again without them (`engine.progress`: cancelled tasks do not count)."""
	task = frappe.qb.DocType("CS Alert Task")
	cancelled = (
		frappe.qb.from_(task)
		.select(task.parent)
		.distinct()
		.where((task.parenttype == ALERT) & task.parent.isin(alerts) & (task.status == "Open"))
		.run(pluck=True)
	)
	if not cancelled:
		return
	frappe.qb.update(task).set(task.status, "Cancelled").where(
		(task.parenttype == ALERT) & task.parent.isin(cancelled) & (task.status == "Open")
	).run()
	# qb cannot express UPDATE ... JOIN; only bound values reach the statement
	frappe.db.sql(
		"""update `tabCS Alert` a join (
			select `parent`, sum(`status` = 'Done') as done, sum(`status` <> 'Cancelled') as counted
			from `tabCS Alert Task` where `parenttype` = 'CS Alert' and `parent` in %(alerts)s group by `parent`
		) t on t.`parent` = a.`name`
		set a.`tasks_done` = t.done, a.`tasks_total` = t.counted,
			a.`progress` = if(t.counted > 0, round(100 * t.done / t.counted, 2), 0)""",
		{"alerts": cancelled},
	)


def enabled_users(users) -> set[str]:
	"""The enabled desk users among `users`, in one query (an alert or its task goes to no website
	user: an Account Manager may be any User in ERPNext)."""
	users = {u for u in users if u}
	if not users:
		return set()
	user = frappe.qb.DocType("User")
	return set(
		frappe.qb.from_(user)
		.select(user.name)
		.where(user.name.isin(users) & (user.enabled == 1) & (user.user_type == "System User"))
		.run(pluck=True)
	)


def alert_workers(users) -> set[str]:
	"""Of `users`, the enabled ones who can work a customer's alerts: a CSM, a CS Manager or a
	System Manager (Administrator too), in one query."""
	from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE

	users = {u for u in users if u}
	if not users:
		return set()
	user = frappe.qb.DocType("User")
	role = frappe.qb.DocType("Has Role")
	holders = set(
		frappe.qb.from_(user)
		.join(role)
		.on((role.parent == user.name) & (role.parenttype == "User"))
		.select(user.name)
		.distinct()
		.where(
			user.name.isin(users)
			& (user.enabled == 1)
			& role.role.isin((CSM_ROLE, CS_MANAGER_ROLE, "System Manager"))
		)
		.run(pluck=True)
	)
	return holders | ({"Administrator"} & users)


def users_with_notifications_off(users) -> set[str]:
	"""Of `users`, those who switched their notifications off (Notification Settings)."""
	users = {u for u in users if u}
	if not users:
		return set()
	settings = frappe.qb.DocType("Notification Settings")
	return set(
		frappe.qb.from_(settings)
		.select(settings.name)
		.where(settings.name.isin(users) & (settings.enabled == 0))
		.run(pluck=True)
	)


def people_for(customer_names: list[str]) -> dict[str, dict]:
	"""{customer: {"Sales Owner": user}}: the sales owner of each customer's latest accepted handoff."""
	if not customer_names:
		return {}
	handoff = frappe.qb.DocType("Sales Handoff")
	rows = (
		frappe.qb.from_(handoff)
		.select(handoff.customer, handoff.sales_owner)
		.where(
			handoff.customer.isin(customer_names)
			& (handoff.status == "Accepted")
			& handoff.sales_owner.isnotnull()
		)
		.orderby(handoff.accepted_on)
		.run()
	)
	return {customer: {engine.SALES_OWNER: owner} for customer, owner in rows}


def sync_opportunity_outcomes():
	"""Each alert's Opportunity outcome as the Opportunity stands now, in one statement: ERPNext
	moves an Opportunity to Converted with db_set (quotation or order), which runs no hook."""
	# qb cannot express UPDATE ... JOIN; no input reaches the statement.
	frappe.db.sql(
		"""
		update `tabCS Alert` a
		join `tabOpportunity` o on o.name = a.opportunity
		set a.opportunity_status = case o.status when 'Converted' then 'Won' else o.status end
		where a.opportunity is not null
			and coalesce(a.opportunity_status, '') != case o.status when 'Converted' then 'Won' else o.status end
		"""
	)


# the CS Alert Task index the CSM Workload's overdue tasks are counted on (setup/indexes.py)
TASK_BOOK_INDEX = "cs_alert_task_book_index"


def sync_alert_csms(customer: str | None = None):
	"""Open alerts show (and filter by, and the CSM Workload counts them under) their customer's
	current CSM, in one statement: a customer moved to another book takes its open alerts' CSM with
	it (access already follows the customer). Then each alert's tasks take their alert's CSM and
	whether it is open (the CSM Workload's overdue tasks). `customer`: that customer's alerts only
	(its save, its handoff, its rename call this); None: every alert (the nightly pass, which repairs
	a CS Owner or an alert's status written past the hooks)."""
	# qb cannot express UPDATE ... JOIN; only bound values reach the statements.
	one = "and a.customer = %(customer)s" if customer else ""
	frappe.db.sql(
		f"""
		update `tabCS Alert` a
		join `tabCustomer` c on c.name = a.customer
		set a.csm = c.cs_owner
		where a.status in ('Open', 'In Progress') and not (a.csm <=> c.cs_owner) {one}
		""",
		{"customer": customer},
	)
	frappe.db.sql(
		f"""
		update `tabCS Alert Task` t
		join `tabCS Alert` a on a.name = t.parent
		set t.csm = a.csm, t.alert_open = (a.status in ('Open', 'In Progress'))
		where t.parenttype = 'CS Alert'
			and (not (t.csm <=> a.csm) or t.alert_open <> (a.status in ('Open', 'In Progress'))) {one}
		""",
		{"customer": customer},
	)


def open_alerts_per_csm(csm: str | None = None) -> dict[str, int]:
	"""{CSM ('' for none): open alerts of enabled customers}, read from the alerts' own `csm` (kept
	equal to the customer's CS Owner by `sync_alert_csms`) on an index of (status, csm), less the
	open alerts of disabled customers (found from the customers' side): no join over every open
	alert. `csm`: that CSM's only."""
	alert = frappe.qb.DocType(ALERT)
	customer = frappe.qb.DocType("Customer")
	counts: dict[str, int] = {}
	for status in engine.OPEN_STATUSES:  # one status at a time: the index's own order groups it
		query = frappe.qb.from_(alert).select(alert.csm, Count("*")).where(alert.status == status)
		if csm:
			query = query.where(alert.csm == csm)
		for owner, n in query.groupby(alert.csm).run():
			counts[owner or ""] = counts.get(owner or "", 0) + int(n)
	disabled = (customer.disabled == 1) & alert.status.isin(engine.OPEN_STATUSES)
	if csm:
		disabled &= alert.csm == csm
	for owner, n in (
		frappe.qb.from_(customer)
		.join(alert)
		.on(alert.customer == customer.name)
		.select(alert.csm, Count("*"))
		.where(disabled)
		.groupby(alert.csm)
		.run()
	):
		counts[owner or ""] = counts.get(owner or "", 0) - int(n)
	return {owner: n for owner, n in counts.items() if n}


def open_task_condition(task):
	return (task.parenttype == ALERT) & (task.alert_open == 1) & (task.status == "Open")


def csms_with_open_tasks() -> list[str | None]:
	"""The CSMs (None for none) with open tasks of open alerts, one seek of the book index each: the
	least CSM after the last one found, until there is none (a skip scan; MariaDB's own loose scan
	is not chosen under the connection's collation, and a plain scan reads every open task)."""
	task = frappe.qb.DocType("CS Alert Task")
	open_task = open_task_condition(task)

	def first(condition):
		query = frappe.qb.from_(task).force_index(TASK_BOOK_INDEX).where(open_task & condition)
		return query.select(Min(task.csm)).run()[0][0]

	owners: list[str | None] = []
	if (
		frappe.qb.from_(task)
		.force_index(TASK_BOOK_INDEX)
		.select(task.name)
		.where(open_task & task.csm.isnull())
		.limit(1)
		.run()
	):
		owners.append(None)
	found = first(task.csm >= "")  # every CSM (a range: IS NOT NULL would read them all)
	while found is not None:
		owners.append(found)
		found = first(task.csm > found)
	return owners


def overdue_tasks_per_csm(today, csm: str | None = None) -> dict[str, int]:
	"""{CSM ('' for none): open tasks of open alerts of enabled customers, due before `today`}, read
	from the tasks alone (each carries its alert's CSM and whether the alert is open: `sync_alert_csms`
	and the alert's own save keep them) on the book index, less those of disabled customers: no join
	of every late task to its alert. `csm`: that CSM's only.

	The index is in CSM order with the due date last: the CSMs with open tasks come from it one seek
	each (`csms_with_open_tasks`), then each CSM's late tasks are one range of it, so what is read is
	the late tasks themselves (none on a day nothing is late), never every open task, and no temporary
	table groups them. The index is forced: counting on the due date's range, the optimizer picks the
	due-date index and reads every late task's row (seconds at 400k late tasks)."""
	task = frappe.qb.DocType("CS Alert Task")
	alert = frappe.qb.DocType(ALERT)
	customer = frappe.qb.DocType("Customer")
	open_task = open_task_condition(task)
	owners = [csm] if csm else csms_with_open_tasks()
	counts: dict[str, int] = {}
	for owner in owners:
		(n,) = (
			frappe.qb.from_(task)
			.force_index(TASK_BOOK_INDEX)
			.select(Count("*"))
			.where(
				open_task
				& (task.csm.isnull() if owner is None else task.csm == owner)
				& (task.due_date < today)
			)
			.run()[0]
		)
		if n:
			counts[owner or ""] = counts.get(owner or "", 0) + int(n)
	late = open_task & (task.due_date < today)
	if csm:
		late &= task.csm == csm
	for owner, n in (
		frappe.qb.from_(customer)
		.join(alert)
		.on(alert.customer == customer.name)
		.join(task)
		.on(task.parent == alert.name)
		.select(task.csm, Count("*"))
		.where((customer.disabled == 1) & late)
		.groupby(task.csm)
		.run()
	):
		counts[owner or ""] = counts.get(owner or "", 0) - int(n)
	return {owner: n for owner, n in counts.items() if n}


# --- reads for the reports ---------------------------------------------------------------------


def open_alert_counts(customers) -> dict[str, int]:
	"""{customer: its Open or In Progress alerts}, for a sub-query of customers."""
	alert = frappe.qb.DocType(ALERT)
	rows = (
		frappe.qb.from_(alert)
		.select(alert.customer, Count("*"))
		.where(alert.status.isin(engine.OPEN_STATUSES) & alert.customer.isin(customers))
		.groupby(alert.customer)
		.run()
	)
	return {customer: int(n) for customer, n in rows}


def open_alerts_merged_away(old: str, new: str) -> list[str]:
	"""`old`'s open rule alerts of the rules `new` has an open alert of: merged into `new`, each would
	be a second open alert of one rule for one customer."""
	alert = frappe.qb.DocType(ALERT)
	kept = frappe.qb.DocType(ALERT).as_("kept")
	return (
		frappe.qb.from_(alert)
		.join(kept)
		.on((kept.rule == alert.rule) & (kept.customer == new) & kept.status.isin(engine.OPEN_STATUSES))
		.select(alert.name)
		.distinct()
		.where((alert.customer == old) & alert.status.isin(engine.OPEN_STATUSES) & alert.rule.isnotnull())
		.run(pluck=True)
	)


def rekey_open_alerts(customer: str):
	"""The customer's open rule alerts keyed by its name (`open_key`, which refuses a second open
	alert of a rule for a customer): after a rename or merge their key still named the old one."""
	key = "if(char_length(concat(customer, '::', rule)) <= %(length)s, concat(customer, '::', rule), concat('md5:', md5(concat(customer, '::', rule))))"
	frappe.db.sql(
		f"""update `tabCS Alert` set open_key = {key}
		where customer = %(customer)s and status in %(open)s and rule is not null
			and not (open_key <=> {key})""",
		{"customer": customer, "open": tuple(engine.OPEN_STATUSES), "length": engine.OPEN_KEY_LENGTH},
	)


def open_keys_among(keys: list[str]) -> set[str]:
	"""Which of these open keys an open rule alert holds now (`CS Alert.open_key`, unique): a
	locking read, which sees what others committed since this transaction's snapshot (only when a
	write failed)."""
	if not keys:
		return set()
	alert = frappe.qb.DocType("CS Alert")
	found = set()
	for start in range(0, len(keys), 1000):
		found |= {
			key
			for (key,) in frappe.qb.from_(alert)
			.select(alert.open_key)
			.where(alert.open_key.isin(keys[start : start + 1000]))
			.for_update()
			.run()
		}
	return found
