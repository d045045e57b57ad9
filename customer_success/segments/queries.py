"""Segments: set-based reads and bulk writes (revenue per customer, tiers, touchpoints, touches)."""

from datetime import date

import frappe
from frappe.query_builder import Case
from frappe.query_builder.functions import Count, Max, Min, Sum
from frappe.utils import add_days, getdate

from customer_success.customer_success.book_counts import live_criterion
from customer_success.health import queries as health_queries

UPDATE_BATCH = 1000
RUNNING_PLAN_STATUSES = ("Active", "At Risk")


def active_customers() -> list[dict]:
	"""Customers in business with us: enabled, not churned, with a submitted Sales Order, Sales
	Invoice or Contract (the same "live" the health score uses), with their CS fields."""
	customer = frappe.qb.DocType("Customer")
	rows = (
		frappe.qb.from_(customer)
		.select(
			customer.name,
			customer.cs_owner,
			customer.account_manager,
			customer.cs_tier,
			customer.cs_tier_source,
			customer.cs_segment,
			customer.cs_health_status,
			customer.cs_health_score,
			customer.cs_health_computed_on,
		)
		.where(
			(customer.disabled == 0)
			& (customer.cs_lifecycle_stage.isnull() | (customer.cs_lifecycle_stage != "Churned"))
		)
		.orderby(customer.name)
		.run(as_dict=True)
	)
	if not rows:
		return []
	live = health_queries.live_customers(rows[0].name, rows[-1].name)
	return [row for row in rows if row.name in live]


def annual_revenue(
	day: date, company: str | None = None, customers: list[str] | None = None
) -> dict[str, float]:
	"""{customer: net revenue of the twelve months up to `day`}: submitted Sales Invoices in company
	currency by posting date, credit notes (negative totals) netted."""
	invoice = frappe.qb.DocType("Sales Invoice")
	day = getdate(day)
	query = (
		frappe.qb.from_(invoice)
		.select(invoice.customer, Sum(invoice.base_net_total))
		.where(
			(invoice.docstatus == 1)
			& (invoice.posting_date > add_days(day, -365))
			& (invoice.posting_date <= day)
		)
		.groupby(invoice.customer)
	)
	if company:
		query = query.where(invoice.company == company)
	if customers is not None:
		if not customers:
			return {}
		query = query.where(invoice.customer.isin(customers))
	return {name: float(total or 0) for name, total in query.run()}


def customers_for_tiering() -> list[dict]:
	customer = frappe.qb.DocType("Customer")
	return (
		frappe.qb.from_(customer)
		.select(customer.name, customer.cs_tier, customer.cs_tier_source)
		.where(customer.disabled == 0)
		.run(as_dict=True)
	)


def write_tiers(changes: dict[str, list[str]], source: str, commit: bool = False):
	"""One UPDATE per tier and batch. A tier set by hand meanwhile (source Manual) is never written
	over: the condition is in the statement itself. Customer.modified is left alone, so a form
	opened before still saves. With `commit` each batch is committed once it and the roll-ups that
	follow it are written: a batch stands on its own (the next run writes what a failure left), and
	the shared sums its batch moved (leak day sums, retention point sums) are not held locked until
	the whole book is done, so invoices and Customer saves meanwhile wait for one batch at most."""
	from customer_success.customer_success.book_counts import recording
	from customer_success.renewals.service import leaks_follow_customers, move_retention_parts

	customer = frappe.qb.DocType("Customer")
	written = 0
	for tier, names in changes.items():
		for i in range(0, len(names), UPDATE_BATCH):
			batch = names[i : i + UPDATE_BATCH]
			with recording(batch):  # the book roll-up (team cards) takes the difference
				(
					frappe.qb.update(customer)
					.set(customer.cs_tier, tier or None)
					.set(customer.cs_tier_source, source if tier else None)
					.where(
						customer.name.isin(batch)
						& (customer.cs_tier_source.isnull() | (customer.cs_tier_source != "Manual"))
					)
					.run()
				)
			leaks_follow_customers(batch)  # Revenue Leakage's leak table follows the tier
			move_retention_parts(batch)  # the retention roll-up's parts follow the tier
			written += len(batch)
			if commit:
				frappe.db.commit()  # nosemgrep: one batch of customers and its roll-ups at a time
	return written


# --- touchpoints ---------------------------------------------------------------------------------


def enabled_touchpoints() -> list[dict]:
	return frappe.get_all(
		"Lifecycle Touchpoint",
		filters={"enabled": 1},
		fields=["name", "tier", "segment", "offset_days", "repeat_days", "window_days", "owner_role"],
		order_by="offset_days asc, name asc",
	)


def customer_starts(names: list[str]) -> dict[str, date]:
	"""{customer: date of its first submitted Sales Order}: where its lifecycle starts."""
	if not names:
		return {}
	order = frappe.qb.DocType("Sales Order")
	rows = (
		frappe.qb.from_(order)
		.select(order.customer, Min(order.transaction_date))
		.where((order.docstatus == 1) & order.customer.isin(names))
		.groupby(order.customer)
		.run()
	)
	return {name: getdate(start) for name, start in rows if start}


def existing_occurrences(customers: list[str]) -> set[tuple[str, str, int]]:
	"""{(customer, touchpoint, occurrence)} of these customers' touchpoint records, by the records'
	fields: a record's name is made of its customer's name when it was planned, which a rename of the
	customer does not change (looked up by name, a renamed customer's touchpoints were planned again)."""
	record = frappe.qb.DocType("Customer Touchpoint")
	found = set()
	for i in range(0, len(customers), UPDATE_BATCH):
		found.update(
			(customer, touchpoint, int(occurrence))
			for customer, touchpoint, occurrence in frappe.qb.from_(record)
			.select(record.customer, record.touchpoint, record.occurrence)
			.where(record.customer.isin(customers[i : i + UPDATE_BATCH]))
			.run()
		)
	return found


def open_touchpoints(today: date, customers: list[str] | None = None) -> list[dict]:
	"""Planned touchpoints whose window has opened (of the given customers, else of the book)."""
	if customers is not None and not customers:
		return []
	record = frappe.qb.DocType("Customer Touchpoint")
	query = (
		frappe.qb.from_(record)
		.select(
			record.name, record.customer, record.due_date, record.window_start, record.window_end, record.todo
		)
		.where((record.status == "Planned") & (record.window_start <= today))
		.orderby(record.customer)
	)
	if customers is not None:
		query = query.where(record.customer.isin(customers))
	rows = query.run(as_dict=True)
	for row in rows:
		row.due_date, row.window_start, row.window_end = (
			getdate(row.due_date),
			getdate(row.window_start),
			getdate(row.window_end),
		)
	return rows


def name_range(customers: list[str]) -> tuple[str, str]:
	"""The first and last of these customers in the database's own order (its collation, which
	Python's string order does not follow), for the range scans of `touch_sources`."""
	customer = frappe.qb.DocType("Customer")
	lo, hi = (
		frappe.qb.from_(customer)
		.select(Min(customer.name), Max(customer.name))
		.where(customer.name.isin(customers))
		.run()[0]
	)
	return lo or "", hi or ""


def touches_since(customers: list[str], since: date, today: date) -> dict[str, list[tuple]]:
	"""{customer: [(doctype, name, day)]}: the touches (Communications and Events, as the health
	score counts them, and submitted Success Plan Check-ins) from `since` to `today`, one
	aggregate read per source over the customers' name range."""
	if not customers:
		return {}
	wanted = set(customers)
	lo, hi = name_range(customers)
	found: dict[str, set] = {}
	for source in health_queries.touch_sources(lo, hi):
		rows = (
			source.query.select(source.customer, source.record, source.when)
			.where((source.when >= since) & (source.when < add_days(today, 1)))
			.run()
		)
		for customer, record, when in rows:
			if customer in wanted and when:
				found.setdefault(customer, set()).add((source.doctype, record, getdate(when)))
	checkin = frappe.qb.DocType("Success Plan Check-in")
	rows = (
		frappe.qb.from_(checkin)
		.select(checkin.customer, checkin.name, checkin.checkin_date)
		.where(
			(checkin.docstatus == 1)
			& checkin.customer.isin(customers)
			& (checkin.checkin_date >= since)
			& (checkin.checkin_date <= today)
		)
		.run()
	)
	for customer, name, when in rows:
		found.setdefault(customer, set()).add(("Success Plan Check-in", name, getdate(when)))
	return {
		customer: sorted(touches, key=lambda t: (t[2], t[0], t[1])) for customer, touches in found.items()
	}


def touches_used(customers: list[str], since: date) -> dict[str, set[tuple]]:
	"""{customer: {(doctype, name)}}: the touches that already completed a touchpoint of these
	customers (done since `since`, the earliest open window: a touch before it matches none)."""
	if not customers:
		return {}
	wanted = set(customers)
	lo, hi = name_range(customers)
	record = frappe.qb.DocType("Customer Touchpoint")
	rows = (
		frappe.qb.from_(record)
		.select(record.customer, record.done_by_doctype, record.done_by_name)
		.where(
			(record.status == "Done")
			& (record.done_on >= since)
			& record.customer[lo:hi]
			& record.done_by_name.isnotnull()
		)
		.run()
	)
	used: dict[str, set[tuple]] = {}
	for customer, doctype, name in rows:
		if customer in wanted:
			used.setdefault(customer, set()).add((doctype, name))
	return used


def mark_done(done: dict[str, tuple]):
	"""Record each touchpoint done with the touch that did it (one UPDATE per touchpoint: few a day)."""
	record = frappe.qb.DocType("Customer Touchpoint")
	for name, (doctype, docname, day) in done.items():
		(
			frappe.qb.update(record)
			.set(record.status, "Done")
			.set(record.done_on, day)
			.set(record.done_by_doctype, doctype)
			.set(record.done_by_name, docname)
			.where((record.name == name) & (record.status == "Planned"))
			.run()
		)


def mark_missed(names: list[str]):
	record = frappe.qb.DocType("Customer Touchpoint")
	for i in range(0, len(names), UPDATE_BATCH):
		(
			frappe.qb.update(record)
			.set(record.status, "Missed")
			.where(record.name.isin(names[i : i + UPDATE_BATCH]) & (record.status == "Planned"))
			.run()
		)


def close_todos(todos: list[str], status: str = "Closed"):
	if not todos:
		return
	from customer_success.utils import refresh_assignments, todo_references

	todo = frappe.qb.DocType("ToDo")
	frappe.qb.update(todo).set(todo.status, status).where(
		todo.name.isin(todos) & (todo.status == "Open")
	).run()
	refresh_assignments(todo_references(todos))  # the touchpoints' assignment lists follow


# --- segment performance -------------------------------------------------------------------------
# Set-based over the book: the CSM's book is a condition on the Customer table joined in, never a
# list of its names sent back to the database (100k names in an IN list took minutes).


def book_condition(customer, csm: str | None):
	return customer.name.isnotnull() if not csm else customer.cs_owner == csm


def in_business(customer):
	"""Enabled and not churned: the customers Segment Performance counts (when also live)."""
	return (customer.disabled == 0) & (
		customer.cs_lifecycle_stage.isnull() | (customer.cs_lifecycle_stage != "Churned")
	)


def book_performance_rows(csm: str | None = None) -> list[dict]:
	"""The active customers of `csm`'s book (None: everyone), as `active_customers` finds them (enabled,
	not churned, with a submitted Sales Order, Sales Invoice or Contract), with their tier, segment,
	health and whether a plan runs for them: one statement."""
	from pypika.terms import ExistsCriterion

	customer = frappe.qb.DocType("Customer")
	plan = frappe.qb.DocType("Success Plan")
	has_plan = ExistsCriterion(
		frappe.qb.from_(plan)
		.select(plan.name)
		.where((plan.customer == customer.name) & plan.status.isin(RUNNING_PLAN_STATUSES))
	)
	return (
		frappe.qb.from_(customer)
		.select(
			customer.name,
			customer.cs_tier,
			customer.cs_segment,
			customer.cs_health_status,
			customer.cs_health_score,
			Case().when(has_plan, 1).else_(0).as_("has_plan"),  # an EXISTS takes no alias
		)
		.where(in_business(customer) & book_condition(customer, csm) & live_criterion(customer))
		.run(as_dict=True)
	)


def book_revenue_windows(
	windows: list[tuple[date, date]], csm: str | None = None, company: str | None = None
) -> list[dict[str, float]]:
	"""[{customer: net revenue posted in [first, last]}] for each window, of `csm`'s book (None: every
	customer, disabled and churned ones included): submitted Sales Invoices in company currency,
	credit notes netted; a customer is in a window's map when it has an invoice there. One grouped scan."""
	invoice = frappe.qb.DocType("Sales Invoice")
	condition = (
		(invoice.docstatus == 1)
		& (invoice.posting_date >= min(w[0] for w in windows))
		& (invoice.posting_date <= max(w[1] for w in windows))
	)
	if company:
		condition &= invoice.company == company
	columns = []
	for i, (first, last) in enumerate(windows):
		inside = (invoice.posting_date >= first) & (invoice.posting_date <= last)
		columns.append(Sum(Case().when(inside, invoice.base_net_total).else_(0)).as_(f"r{i}"))
		columns.append(Sum(Case().when(inside, 1).else_(0)).as_(f"n{i}"))
	query = frappe.qb.from_(invoice).select(invoice.customer, *columns)
	if csm:
		customer = frappe.qb.DocType("Customer")
		query = query.join(customer).on(customer.name == invoice.customer)
		condition &= book_condition(customer, csm)
	found: list[dict[str, float]] = [{} for _window in windows]
	for row in query.where(condition).groupby(invoice.customer).run(as_dict=True):
		for i, target in enumerate(found):
			if row[f"n{i}"]:
				target[row.customer] = float(row[f"r{i}"] or 0)
	return found


def book_groups(csm: str | None = None) -> dict[str, dict]:
	"""{customer: its tier and segment today} of `csm`'s book (None: every customer), disabled and
	churned customers included."""
	customer = frappe.qb.DocType("Customer")
	rows = (
		frappe.qb.from_(customer)
		.select(customer.name, customer.cs_tier, customer.cs_segment)
		.where(book_condition(customer, csm))
		.run(as_dict=True)
	)
	return {row.name: row for row in rows}


def segment_customer_counts() -> dict[str, int]:
	customer = frappe.qb.DocType("Customer")
	rows = (
		frappe.qb.from_(customer)
		.select(customer.cs_segment, Count("*"))
		.where(customer.cs_segment.isnotnull())
		.groupby(customer.cs_segment)
		.run()
	)
	return dict(rows)


# --- segment performance from the retention roll-up ----------------------------------------------
# At a point T the retention roll-up holds (renewals: `cs_retention_customer`, every customer's
# revenue in T's two twelve-month windows, every company, credit notes netted), the report's groups
# are summed in the database: one pass over the book's customers (a covering index) with each one's
# row at T, instead of every customer and a year of the ledger carried into Python.


RETENTION_PREFIX = "retention_"


def rolled_up_group_figures(day: date, csm: str | None = None) -> list[dict]:
	"""Per tier and segment (as the customers have them now) of `csm`'s book (None: everyone):
	`engine.GROUP_FIGURES` over the active customers (`in_business` and live; revenue = their later
	window at `day`), and the retention components (`renewals.engine.COMPONENTS`, each named with
	`RETENTION_PREFIX`) over all of them, churned and disabled ones included. One statement."""
	from customer_success.renewals import queries as renewals_queries
	from customer_success.segments import engine

	customer = frappe.qb.DocType("Customer")
	held = frappe.qb.Table(renewals_queries.RETENTION_CUSTOMERS)
	# a row at T means submitted invoices: live without looking further
	counted = in_business(customer) & (held.customer.isnotnull() | live_criterion(customer))
	coloured = counted & customer.cs_health_status.isin(engine.COLOURS)
	scored = coloured & customer.cs_health_score.isnotnull()
	query = (
		frappe.qb.from_(customer)
		.force_index("cs_book_health_index")  # every field read is in it: no row is visited
		.left_join(held)
		.on((held.customer == customer.name) & (held.period_end == day))
		.select(
			customer.cs_tier.as_("tier"),
			customer.cs_segment.as_("segment"),
			Sum(Case().when(counted, 1).else_(0)).as_("customers"),
			Sum(Case().when(counted, held.curr).else_(0)).as_("revenue"),
			Sum(Case().when(coloured, 1).else_(0)).as_("coloured"),
			Sum(Case().when(coloured & (customer.cs_health_status == "Green"), 1).else_(0)).as_("green"),
			Sum(Case().when(scored, 1).else_(0)).as_("scored"),
			Sum(Case().when(scored, customer.cs_health_score).else_(0)).as_("score_sum"),
			*renewals_queries.retention_component_terms(held.prev, held.curr, RETENTION_PREFIX),
		)
		.groupby(customer.cs_tier, customer.cs_segment)
	)
	if csm:
		query = query.where(customer.cs_owner == csm)
	return [numbers(row) for row in query.run(as_dict=True)]


def plan_customers_by_group(day: date, csm: str | None = None) -> list[dict]:
	"""Per tier and segment of `csm`'s book: how many active customers (as `rolled_up_group_figures`
	counts them) have an Active or At Risk plan, read from the running plans' side."""
	from customer_success.renewals import queries as renewals_queries

	customer = frappe.qb.DocType("Customer")
	plan = frappe.qb.DocType("Success Plan")
	held = frappe.qb.Table(renewals_queries.RETENTION_CUSTOMERS)
	query = (
		frappe.qb.from_(plan)
		.join(customer)
		.on(customer.name == plan.customer)
		.left_join(held)
		.on((held.customer == customer.name) & (held.period_end == day))
		.select(
			customer.cs_tier.as_("tier"),
			customer.cs_segment.as_("segment"),
			Count(customer.name).distinct().as_("with_plan"),
		)
		.where(
			plan.status.isin(RUNNING_PLAN_STATUSES)
			& in_business(customer)
			& (held.customer.isnotnull() | live_criterion(customer))
		)
		.groupby(customer.cs_tier, customer.cs_segment)
	)
	if csm:
		query = query.where(customer.cs_owner == csm)
	return [numbers(row) for row in query.run(as_dict=True)]


def revenue_by_group(first: date, last: date, csm: str | None = None) -> list[dict]:
	"""Per tier and segment of `csm`'s book: the active customers' net revenue posted from `first` to
	`last` (submitted Sales Invoices, every company, credit notes netted): a few days of the ledger."""
	customer = frappe.qb.DocType("Customer")
	invoice = frappe.qb.DocType("Sales Invoice")
	query = (
		frappe.qb.from_(invoice)
		.join(customer)
		.on(customer.name == invoice.customer)
		.select(
			customer.cs_tier.as_("tier"),
			customer.cs_segment.as_("segment"),
			Sum(invoice.base_net_total).as_("revenue"),
		)
		.where((invoice.docstatus == 1) & invoice.posting_date[first:last] & in_business(customer))
		.groupby(customer.cs_tier, customer.cs_segment)
	)
	if csm:
		query = query.where(customer.cs_owner == csm)
	return [numbers(row) for row in query.run(as_dict=True)]


def numbers(row: dict) -> dict:
	"""A grouped row's sums as Python numbers (the database returns decimals)."""
	return {
		key: value if key in ("tier", "segment") or value is None else float(value)
		for key, value in row.items()
	}
