"""Set-based reads and bulk writes for usage: the batch's lookups (one query per kind, never one per
row), the multi-row upsert, and the window aggregates health and alerts read for a whole range of
customers at once."""

from datetime import date

import frappe
from frappe.query_builder.functions import Count
from frappe.utils import add_days, now_datetime

USAGE = "Customer Usage Metric"
DEFINITION = "Usage Metric Definition"
ENTITLEMENT = "Usage Metric Entitlement"
UPSERT_BATCH = 5000


def existing_customers(names: set[str]) -> set[str]:
	"""Which of `names` are customers: one query for the whole batch."""
	if not names:
		return set()
	customer = frappe.qb.DocType("Customer")
	return set(
		frappe.qb.from_(customer).select(customer.name).where(customer.name.isin(list(names))).run(pluck=True)
	)


def enabled_metrics(names: set[str] | None = None) -> set[str]:
	"""Which of `names` (all when None) are enabled metric definitions: one query."""
	definition = frappe.qb.DocType(DEFINITION)
	query = frappe.qb.from_(definition).select(definition.name).where(definition.enabled == 1)
	if names is not None:
		if not names:
			return set()
		query = query.where(definition.name.isin(list(names)))
	return set(query.run(pluck=True))


def metric_definitions() -> list[dict]:
	"""The enabled metrics with what scoring needs: aggregation and entitlement item."""
	definition = frappe.qb.DocType(DEFINITION)
	return (
		frappe.qb.from_(definition)
		.select(definition.name, definition.aggregation, definition.entitlement_item, definition.unit)
		.where(definition.enabled == 1)
		.orderby(definition.name)
		.run(as_dict=True)
	)


UPSERT_COLUMNS = ("customer", "metric", "usage_date", "value", "source")


def upsert_usage(rows: list[dict], batch: int = UPSERT_BATCH) -> int:
	"""Multi-row INSERT ... ON DUPLICATE KEY UPDATE on the (customer, metric, day) unique key: a
	re-sent day updates its value and source, never adds a second row. Returns the rows sent.

	frappe.db.bulk_insert cannot upsert, and autoincrement doctypes have no column default for
	`name`: ids come from the doctype's sequence inside the statement itself. Only column names
	(constants) are formatted into the statement; every value is a parameter.
	"""
	if not rows:
		return 0
	now = now_datetime()
	user = frappe.session.user
	columns = (*UPSERT_COLUMNS, "creation", "modified", "owner", "modified_by", "docstatus", "idx")
	column_sql = ", ".join(f"`{c}`" for c in ("name", *columns))
	row_sql = "(nextval(`customer_usage_metric_id_seq`), " + ", ".join(["%s"] * len(columns)) + ")"
	update_sql = ", ".join(f"`{c}` = values(`{c}`)" for c in ("value", "source", "modified", "modified_by"))
	for start in range(0, len(rows), batch):
		part = rows[start : start + batch]
		values = []
		for row in part:
			values.extend((*(row[c] for c in UPSERT_COLUMNS), now, now, user, user, 0, 0))
		frappe.db.sql(
			f"insert into `tabCustomer Usage Metric` ({column_sql}) values {', '.join([row_sql] * len(part))} "
			f"on duplicate key update {update_sql}",
			values,
		)
	return len(rows)


def window_facts(lo: str, hi: str, today: date, window_days: int) -> dict[str, dict[str, dict]]:
	"""{customer: {metric: {"recent": facts, "previous": facts}}} for the customers from `lo` to `hi`.

	The recent window is the `window_days` days up to today, the previous one the same length
	before it; facts are {sum, avg, max, last, days} of the days with a value. One grouped scan of
	the (customer, metric, day) unique index; `last` is the latest day's value, picked in SQL.
	"""
	recent_from = add_days(today, -window_days)
	previous_from = add_days(today, -2 * window_days)
	# qb has no GROUP_CONCAT ... ORDER BY, which picks each window's latest value in the same scan.
	rows = frappe.db.sql(
		"""
		select customer, metric,
			sum(case when usage_date > %(recent_from)s then value end) as recent_sum,
			avg(case when usage_date > %(recent_from)s then value end) as recent_avg,
			max(case when usage_date > %(recent_from)s then value end) as recent_max,
			count(case when usage_date > %(recent_from)s then 1 end) as recent_days,
			substring_index(group_concat(case when usage_date > %(recent_from)s then value end
				order by usage_date desc separator ','), ',', 1) as recent_last,
			sum(case when usage_date <= %(recent_from)s then value end) as previous_sum,
			avg(case when usage_date <= %(recent_from)s then value end) as previous_avg,
			max(case when usage_date <= %(recent_from)s then value end) as previous_max,
			count(case when usage_date <= %(recent_from)s then 1 end) as previous_days,
			substring_index(group_concat(case when usage_date <= %(recent_from)s then value end
				order by usage_date desc separator ','), ',', 1) as previous_last
		from `tabCustomer Usage Metric`
		where customer between %(lo)s and %(hi)s
			and usage_date > %(previous_from)s and usage_date <= %(today)s
		group by customer, metric
		""",
		{"lo": lo, "hi": hi, "today": today, "recent_from": recent_from, "previous_from": previous_from},
		as_dict=True,
	)
	facts: dict[str, dict[str, dict]] = {}
	for row in rows:
		facts.setdefault(row.customer, {})[row.metric] = {
			window: {
				"sum": row[f"{window}_sum"],
				"avg": row[f"{window}_avg"],
				"max": row[f"{window}_max"],
				"last": float(row[f"{window}_last"]) if row[f"{window}_last"] not in (None, "") else None,
				"days": int(row[f"{window}_days"] or 0),
			}
			for window in ("recent", "previous")
		}
	return facts


def entitlements(lo: str, hi: str, definitions: list[dict]) -> dict[tuple[str, str], float]:
	"""{(customer, metric): entitlement} for the customers from `lo` to `hi`: a row set by hand on
	the metric wins; else the quantity of the metric's item on the customer's latest submitted
	Sales Order holding that item (by order date, then creation). Two queries for every metric."""
	found: dict[tuple[str, str], float] = {}
	items = {d["entitlement_item"]: [] for d in definitions if d.get("entitlement_item")}
	for d in definitions:
		if d.get("entitlement_item"):
			items[d["entitlement_item"]].append(d["name"])
	if items:
		# qb has no window functions: ROW_NUMBER picks each (customer, item)'s latest order.
		rows = frappe.db.sql(
			"""
			select customer, item_code, qty from (
				select so.customer, soi.item_code, sum(soi.qty) as qty,
					row_number() over (partition by so.customer, soi.item_code
						order by so.transaction_date desc, so.creation desc) as position
				from `tabSales Order` so
				join `tabSales Order Item` soi on soi.parent = so.name and soi.parenttype = 'Sales Order'
				where so.docstatus = 1 and so.customer between %(lo)s and %(hi)s
					and soi.item_code in %(items)s
				group by so.name, so.customer, soi.item_code, so.transaction_date, so.creation
			) latest
			where position = 1
			""",
			{"lo": lo, "hi": hi, "items": tuple(items)},
			as_dict=True,
		)
		for row in rows:
			for metric in items[row.item_code]:
				found[(row.customer, metric)] = float(row.qty or 0)
	names = [d["name"] for d in definitions]
	if names:
		entitlement = frappe.qb.DocType(ENTITLEMENT)
		manual = (
			frappe.qb.from_(entitlement)
			.select(entitlement.customer, entitlement.parent, entitlement.entitlement)
			.where(
				(entitlement.parenttype == DEFINITION)
				& entitlement.parent.isin(names)
				& entitlement.customer[lo:hi]
			)
			.run()
		)
		for customer, metric, value in manual:
			found[(customer, metric)] = float(value or 0)
	return found


def series(customer: str, since: date) -> list[dict]:
	"""One customer's daily values since `since`, by metric and day (the form's chart), through
	frappe.get_list: the reader's own row rules apply."""
	return frappe.get_list(
		USAGE,
		filters={"customer": customer, "usage_date": (">=", since)},
		fields=["metric", "usage_date", "value"],
		order_by="usage_date asc",
		limit_page_length=0,
	)


def count_rows(customers: list[str]) -> int:
	usage = frappe.qb.DocType(USAGE)
	return (
		frappe.qb.from_(usage).select(Count("*")).where(usage.customer.isin(customers)).run()[0][0]
		if customers
		else 0
	)


def delete_usage_of(customers: list[str]):
	"""Every usage row of these customers, set-based (the demo's teardown)."""
	if not customers:
		return
	usage = frappe.qb.DocType(USAGE)
	frappe.qb.from_(usage).delete().where(usage.customer.isin(customers)).run()


def merge_entitlements(old: str, new: str):
	"""Before customer `old` is merged into `new`: a metric's entitlement set for both keeps `new`'s
	row (the kept customer's own; one row a customer a metric, as the metric's form requires), and
	`old`'s row of that metric goes; `old`'s others move with the merge."""
	row = frappe.qb.DocType(ENTITLEMENT)
	kept = frappe.qb.from_(row).select(row.parent).where(row.customer == new).run(pluck=True)
	if kept:
		frappe.qb.from_(row).delete().where((row.customer == old) & row.parent.isin(kept)).run()


def merge_usage_days(old: str, new: str):
	"""Before customer `old` is merged into `new`: each day of a metric both have a row of (which
	frappe's move of `old`'s rows would collide with on the unique key (customer, metric, usage_date))
	becomes `new`'s one row, its value the two combined as the metric aggregates (Sum: added; Maximum:
	the larger; Average: their mean; Last: `new`'s), and `old`'s row of that day goes."""
	frappe.db.sql(
		"""update `tabCustomer Usage Metric` k
		join `tabCustomer Usage Metric` o
			on o.customer = %(old)s and o.metric = k.metric and o.usage_date = k.usage_date
		left join `tabUsage Metric Definition` d on d.name = k.metric
		set k.value = case d.aggregation
			when 'Sum' then ifnull(k.value, 0) + ifnull(o.value, 0)
			when 'Maximum' then greatest(ifnull(k.value, 0), ifnull(o.value, 0))
			when 'Average' then (ifnull(k.value, 0) + ifnull(o.value, 0)) / 2
			else k.value end,
			k.modified = %(now)s
		where k.customer = %(new)s""",
		{"old": old, "new": new, "now": now_datetime()},
	)
	frappe.db.sql(
		"""delete o from `tabCustomer Usage Metric` o
		join `tabCustomer Usage Metric` k
			on k.customer = %(new)s and k.metric = o.metric and k.usage_date = o.usage_date
		where o.customer = %(old)s""",
		{"old": old, "new": new},
	)
