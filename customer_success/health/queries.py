"""Set-based reads for health scoring: one aggregate query per source, over a range of customers.

Every function takes the chunk's customer range (`lo`..`hi`, by name) and returns a dict keyed
by customer. A chunk of thousands of customers costs the same handful of queries as one.
"""

import heapq
import json
import math
import re
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from operator import itemgetter
from typing import NamedTuple

import frappe
from frappe import _
from frappe.query_builder import Case, Order
from frappe.query_builder.functions import Avg, Coalesce, Count, Max, Min, Sum
from frappe.query_builder.terms import NamedParameterWrapper
from frappe.utils import add_days, getdate, now_datetime

from customer_success.health import engine
from customer_success.health.engine import INSUFFICIENT_DATA
from customer_success.setup.sequences import SCORE_SEQUENCE

OPEN_ISSUE_STATUSES = ("Open", "Replied", "On Hold")


# What a chunk reads of its customers (`active_customers`), in this order.
ACTIVE_FIELDS = (
	"name",
	"customer_name",
	"cs_owner",
	"account_manager",  # not scored: the alert rules a chunk runs read it (`alerts.service.chunk_customers`)
	"cs_lifecycle_stage",  # as above
	"cs_tier",
	"cs_csm_sentiment",
	"cs_sentiment_on",
	"cs_health_override",
	"cs_override_reason",
	"cs_override_until",
)


def range_customers(fields: tuple[str, ...], lo: str, hi: str) -> list[dict]:
	"""The range's enabled customers in name order, each a dict of `fields` (`name` among them), from
	one JSON document (`select_as_json`): values as JSON gives them (text, numbers, dates as ISO
	text)."""
	rows = select_as_json(
		", ".join(f"`{field}`" for field in fields),
		"from `tabCustomer` where `disabled` = 0 and `name` between %(lo)s and %(hi)s",
		{"lo": lo, "hi": hi},
		order="`name`",
	)
	return [frappe._dict(zip(fields, values, strict=True)) for values in rows]


def active_customers(lo: str, hi: str) -> list[dict]:
	"""The range's enabled customers in name order, with what scoring reads of them (`ACTIVE_FIELDS`,
	`range_customers`); the dates as dates, as the locking read gives them."""
	customers = range_customers(ACTIVE_FIELDS, lo, hi)
	for customer in customers:
		for field in INPUT_DATES:
			customer[field] = iso_date(customer[field])
	return customers


# The Customer fields a CSM sets that a score reads: a chunk never writes over a newer change of them.
HEALTH_INPUTS = (
	"cs_csm_sentiment",
	"cs_sentiment_on",
	"cs_health_override",
	"cs_override_reason",
	"cs_override_until",
)


# The Customer fields the book roll-up keys and sums on (`book_counts`): the write phase's locking
# read takes them with the health inputs, so the roll-up's difference needs no read of its own.
BOOK_FIELDS = (
	"disabled",
	"cs_owner",
	"cs_health_status",
	"cs_tier",
	"cs_lifecycle_stage",
	"cs_segment",
	"cs_live",
	"cs_health_score",
)


def _names_table(names: list[str]) -> str:
	"""The names as one JSON parameter for `json_table`, sorted (each statement locks in one order).
	An IN list of more than `in_predicate_conversion_threshold` (1,000) values is turned into a
	derived table by MariaDB, and the score table was then scanned whole: a JSON table driving a
	join reaches each row by its key, whatever the number of names."""
	return json.dumps(sorted(names), separators=(",", ":"))


# JSON_ARRAYAGG is cut at group_concat_max_len (1 MB by default), which `json_rows` lifts for its
# one statement, and at the server's max_allowed_packet (16 MB by default), which it cannot: a cut
# document is found by its row count (it may still parse, closed after the last whole row), and
# the rows are then read one by one instead.
JSON_ROWS_MAX_LENGTH = 1 << 30
# What a query's own group_concat may build, when its rows are read one by one.
GROUP_CONCAT_MAX_LENGTH = 1 << 30


def json_rows(query, columns: tuple[str, ...]) -> list[list]:
	"""The rows of a select as lists of `columns` (its column names), fetched as one JSON document
	the server builds (`json_arrayagg`) and `json.loads` reads in C.

	pymysql decodes each row and each value of a result in Python (~2-5 µs a row, more for dates):
	for the chunk's aggregate reads (a row per customer, ~10,000 rows a chunk) that was a good part
	of a night's work. In the document numbers are JSON numbers (a decimal's exact digits, so
	`float()` of them is `float()` of the Decimal pymysql gave), dates and datetimes ISO strings, and
	NULL is None; read dates with `iso_date` (which takes them as pymysql gives them too: a document
	too large for the server is read row by row). `query`: a query builder query, or (SQL,
	parameters)."""
	if isinstance(query, tuple):
		sql, params = query
	else:
		wrapper = NamedParameterWrapper()
		sql = query.get_sql(param_wrapper=wrapper)
		params = wrapper.get_parameters()
	values = ", ".join(f"t.`{column}`" for column in columns)
	return select_as_json(values, f"from ({sql}) t", params)


def select_as_json(
	values: str, rest: str, params, order: str = "", lock_wait: int | None = None
) -> list[list]:
	"""`select {values} {rest}` (values: a select list) as lists, from one JSON document, in
	`order` when given; row by row when the document was cut (see `JSON_ROWS_MAX_LENGTH`).
	`lock_wait`: the seconds a locking read waits for a row another transaction holds (the
	server's `innodb_lock_wait_timeout`, 50 by default), for this statement alone."""
	wait = f", innodb_lock_wait_timeout = {int(lock_wait)}" if lock_wait else ""
	document, count = frappe.db.sql(
		f"""set statement group_concat_max_len = {JSON_ROWS_MAX_LENGTH}{wait} for
		select json_arrayagg(json_array({values}){f" order by {order}" if order else ""}), count(*) {rest}""",
		params,
	)[0]
	try:
		rows = json.loads(document) if document else []
	except ValueError:  # cut inside a row
		rows = None
	if rows is None or len(rows) != count:
		ordered = f" order by {order}" if order else ""
		# the limit lifted here too: a query may build text of its own with group_concat
		# (`SINGLE_TERM_OVERDUE_SQL` names the invoices paid in instalments)
		return [
			list(row)
			for row in frappe.db.sql(
				f"""set statement group_concat_max_len = {GROUP_CONCAT_MAX_LENGTH}{wait} for
				select {values} {rest}{ordered}""",
				params,
			)
		]
	return rows


def iso_date(value) -> date | None:
	"""A date or datetime of `json_rows` (an ISO string, or a date as pymysql gives it) as a date."""
	if not value:
		return None
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	try:
		return date.fromisoformat(value[:10])
	except ValueError:  # a zero date ("0000-00-00", stored by a lax import): no date
		return None


def iso_datetime(value) -> datetime | None:
	"""A datetime of `json_rows` (an ISO string, or as pymysql gives it) as a datetime."""
	if not value:
		return None
	if isinstance(value, datetime):
		return value
	try:
		return datetime.fromisoformat(value)
	except ValueError:  # a zero datetime: none
		return None


def lock_customers(names: list[str]) -> dict[str, dict]:
	"""{customer: its HEALTH_INPUTS and BOOK_FIELDS} of these customers, as committed now: a locking
	read, held until the caller commits. Every writer of scores locks its Customers first (this read,
	or a CSM's own update of the Customer), then score rows: one lock order, so no cycle.

	Each Customer is reached on its primary key from a JSON table of the names (never by a range of
	names: a range scan would also lock the first customer past its end, which belongs to the
	neighbouring chunk)."""
	if not names:
		return {}
	columns = ", ".join(f"c.`{f}`" for f in (*HEALTH_INPUTS, *BOOK_FIELDS))
	rows = frappe.db.sql(
		f"""select c.`name`, {columns}
		from json_table(%s, '$[*]' columns (`name` varchar(140) path '$')) v
		straight_join `tabCustomer` c force index (primary) on c.`name` = v.`name`
		for update""",
		_names_table(names),
		as_dict=True,
	)
	return {row.name: row for row in rows}


def lock_customers_and_day_scores(
	names: list[str], day: date, lock_wait: int | None = None
) -> tuple[dict[str, dict], dict[tuple[str, str], tuple]]:
	"""`lock_customers` and the customers' score rows for `day` in one locking read: ({customer: its
	HEALTH_INPUTS and BOOK_FIELDS}, {(customer, model): (name, computed_on)} of its day's rows), as
	committed now and held until the caller commits. The rows are found in the history index by
	(day, customer): neither a scan of the day's rows (which would wait on the rows other chunks are
	writing) nor of each customer's whole history.

	Each Customer is reached on its primary key from a JSON table of the names, then its day's rows
	on (day, customer) of the history index: every customer is locked before its own score rows
	(the one lock order of every score writer), and nothing of another range is read or locked.
	One statement where the two reads were two: one JSON table and one round trip fewer a chunk.
	`lock_wait`: how long it waits for a customer another transaction holds (`select_as_json`)."""
	if not names:
		return {}, {}
	fields = (*HEALTH_INPUTS, *BOOK_FIELDS)
	columns = ", ".join(f"c.`{f}`" for f in fields)
	# The rows come back as one JSON document (see `json_rows`; the aggregate is the locking read
	# itself: a derived table could not lock), the values as the columns hold them (below).
	rows = select_as_json(
		f"c.`name`, {columns}, s.`model`, s.`name`, s.`computed_on`",
		"""from json_table(%(names)s, '$[*]' columns (`name` varchar(140) path '$')) v
		straight_join `tabCustomer` c force index (primary) on c.`name` = v.`name`
		left join `tabCustomer Health Score` s force index (cs_score_history_index)
			on s.`score_date` = %(day)s and s.`customer` = c.`name`
		for update""",
		{"names": _names_table(names), "day": day},
		lock_wait=lock_wait,
	)
	locked: dict[str, dict] = {}
	existing: dict[tuple[str, str], tuple] = {}
	keys = ("name", *fields)
	width = len(keys)
	_dict = frappe._dict
	for values in rows:
		if len(values) != width + 3:
			raise ValueError(f"a locked row of {len(values)} values, not {width + 3}")
		row = _dict(zip(keys, values[:width], strict=True))
		for field in INPUT_DATES:
			if row[field] is not None:  # most customers have neither date
				row[field] = iso_date(row[field])
		name = values[0]
		locked[name] = row
		model, score_name, computed_on = values[width:]
		if score_name is not None:
			existing[(name, model)] = (score_name, iso_datetime(computed_on))
	return locked, existing


# How long a chunk's locking read waits for a customer another transaction holds (a user's long
# transaction, an import), where it waited the server's 50 seconds, holding every customer it had
# locked, and failed whole: first a second (the server's least), the customers it locked before
# waiting too; then the chunk writes without the customers held (`held_by_others`) and waits for
# those alone, holding nothing else, NIGHT_LOCK_WAIT_SECONDS (`service.write_scores_committed`).
FIRST_LOCK_WAIT_SECONDS = 1
NIGHT_LOCK_WAIT_SECONDS = 5


def held_by_others(names: list[str]) -> set[str]:
	"""Of these customers, those whose row another transaction holds now (or that are gone): a
	locking read that skips what it would wait for, each Customer on its primary key. Its locks
	are the caller's until it ends its transaction."""
	if not names:
		return set()
	free = {
		name
		for (name,) in frappe.db.sql(
			"""select c.`name` from json_table(%(names)s, '$[*]' columns (`name` varchar(140) path '$')) v
			straight_join `tabCustomer` c force index (primary) on c.`name` = v.`name`
			for update skip locked""",
			{"names": _names_table(names)},
		)
	}
	return set(names) - free


# The health inputs that are dates: a JSON document holds them as ISO strings, and both the chunk's
# read (`active_customers`) and its locking read turn them into dates, so the two compare. Numbers
# are floats in both, as frappe gives decimal columns.
INPUT_DATES = ("cs_sentiment_on", "cs_override_until")


def health_inputs(names: list[str]) -> dict[str, tuple]:
	"""{customer: its HEALTH_INPUTS values} of these customers, as committed now (`lock_customers`)."""
	return {name: tuple(row[f] for f in HEALTH_INPUTS) for name, row in lock_customers(names).items()}


def customer_ranges(chunk_size: int) -> list[tuple[str, str]]:
	"""Split the active customers into consecutive name ranges of about `chunk_size` each."""
	return [(chunk["lo"], chunk["hi"]) for chunk in customer_chunks(chunk_size)]


# A chunk's first and last names after the previous chunk's last (`customer_chunks`): each read in
# primary-key order from where the previous one stopped, the last `chunk_size - 1` names on. The
# names are compared by the database's collation, as the ranges' `between` compares them.
_CHUNK_BOUNDS_SQL = """select
	(select `name` from `tabCustomer` force index (primary)
		where `disabled` = 0 {after} order by `name` limit 1),
	(select `name` from `tabCustomer` force index (primary)
		where `disabled` = 0 {after} order by `name` limit 1 offset %(last)s)"""


def customer_chunks(chunk_size: int, sizes: list[int] | None = None) -> list[dict]:
	"""The ranges of `customer_ranges`, each with how many active customers it holds: `chunk_size`
	each, or the sizes given in turn (`sizes`, when a run splits its customers among its workers:
	`service.balanced_chunks`), the last holding what is left.

	One statement a chunk reads its first and last names on the primary key (no name is sent back
	but those two): a run's start no longer sorts every name, nor decodes them (100,000 names read
	and sorted took ~0.3 s of a run's start, before any chunk could begin)."""
	chunks: list[dict] = []
	after = None
	while True:
		condition = "" if after is None else "and `name` > %(after)s"
		size = chunk_size
		if sizes is not None:
			size = sizes[len(chunks)] if len(chunks) < len(sizes) - 1 else None
		lo, hi = frappe.db.sql(
			_CHUNK_BOUNDS_SQL.format(after=condition), {"after": after, "last": max((size or 1) - 1, 0)}
		)[0]
		if lo is None:
			return chunks
		if hi is None or size is None:  # fewer than a chunk left, or the last size: the rest
			hi, count = frappe.db.sql(
				f"""select max(`name`), count(*) from `tabCustomer` force index (primary)
				where `disabled` = 0 {condition}""",
				{"after": after},
			)[0]
			chunks.append({"lo": lo, "hi": hi, "customers": count})
			return chunks
		chunks.append({"lo": lo, "hi": hi, "customers": size})
		after = hi


def live_customers(
	lo: str, hi: str, invoiced: set[str] | None = None, contracted: set[str] | None = None
) -> set[str]:
	"""The customers of the range with a submitted Sales Order, Sales Invoice or Contract.

	One statement: the union of three grouped range scans (each on an indexed party column).
	`invoiced` / `contracted`: the range's customers with a submitted invoice / contract, when the
	caller has read them already (`invoice_facts`' keys, `contract_ends`' keys): those documents
	are then not scanned a second time.
	"""
	order = frappe.qb.DocType("Sales Order")
	invoice = frappe.qb.DocType("Sales Invoice")
	contract = frappe.qb.DocType("Contract")
	query = (
		frappe.qb.from_(order)
		.select(order.customer)
		.where(order.customer[lo:hi] & (order.docstatus == 1))
		.groupby(order.customer)
	)
	if invoiced is None:
		query = query.union(
			frappe.qb.from_(invoice)
			.select(invoice.customer)
			.where(invoice.customer[lo:hi] & (invoice.docstatus == 1))
			.groupby(invoice.customer)
		)
	if contracted is None:
		query = query.union(
			frappe.qb.from_(contract)
			.select(contract.party_name)
			.where(
				(contract.party_type == "Customer") & contract.party_name[lo:hi] & (contract.docstatus == 1)
			)
			.groupby(contract.party_name)
		)
	known = {name for name in (*(invoiced or ()), *(contracted or ())) if name}
	return {name for (name,) in query.run() if name} | known


# An issue's SLA outcome once ERPNext has judged it (`agreement_status`).
SLA_OUTCOMES = ("Fulfilled", "Failed")


def issue_facts(
	lo: str, hi: str, priority_weights: dict[str, float], default_weight: float, sla_since: date
) -> tuple[dict[str, float], dict[str, dict]]:
	"""The range's support facts from one scan of its issues (the support index alone): {customer:
	open issues weighted by priority} for every customer that has ever had an issue (a customer with
	issues, none open, maps to 0.0; one that never had an issue is absent: its support load is then
	known only if it is live), and {customer: {"with_sla": n, "failed": n}} of the issues opened
	since `sla_since` (`with_sla`: those whose SLA outcome is recorded), for the customers with at
	least one. Weighed in SQL: one row per customer.
	"""
	issue = frappe.qb.DocType("Issue")
	weight = Case()
	for priority, value in priority_weights.items():
		weight = weight.when(issue.priority == priority, value)
	weight = weight.else_(default_weight)
	open_weight = Case().when(issue.status.isin(OPEN_ISSUE_STATUSES), weight).else_(0)
	recent = issue.opening_date >= sla_since
	# an issue's SLA outcome, as ERPNext records it: Fulfilled or Failed. An issue without an SLA
	# keeps the field's default ("First Response Due") for good, as does one whose SLA still runs:
	# counted, every ticket of a site without SLAs scored 0 % breached (100 points, tester A1)
	has_sla = issue.agreement_status.isin(SLA_OUTCOMES)
	rows = json_rows(
		frappe.qb.from_(issue)
		.select(
			issue.customer.as_("customer"),
			Sum(open_weight).as_("weighted"),
			Sum(Case().when(recent, 1).else_(0)).as_("opened"),
			Sum(Case().when(recent & has_sla, 1).else_(0)).as_("with_sla"),
			Sum(Case().when(recent & (issue.agreement_status == "Failed"), 1).else_(0)).as_("failed"),
		)
		.where(issue.customer[lo:hi])
		.groupby(issue.customer),
		("customer", "weighted", "opened", "with_sla", "failed"),
	)
	load = {customer: float(weighted or 0) for customer, weighted, *_sla in rows}
	sla = {
		customer: {"with_sla": int(with_sla or 0), "failed": int(failed or 0)}
		for customer, _weighted, opened, with_sla, failed in rows
		if opened
	}
	return load, sla


def company_currency_rate(invoice):
	"""What turns an invoice's outstanding (kept in the receivable account's currency) into its
	company's currency, as the arrears do: its conversion rate when the account is kept in the
	invoice's own currency, else 1."""
	return Case().when(invoice.party_account_currency == invoice.currency, invoice.conversion_rate).else_(1)


def invoice_facts(lo: str, hi: str, today: date, payment_since: date, trend_days: int) -> dict[str, dict]:
	"""Billing facts per customer in one scan of submitted Sales Invoices, in company currency,
	and what of them is overdue per payment term, weighed in the database (`SINGLE_TERM_OVERDUE_SQL`,
	then `INVOICE_ARREARS_SQL` for the invoices it names as paid in instalments, when there are any).

	Returns and credit notes are netted (their totals are negative). A credit note that keeps its
	own outstanding (ERPNext v15's default, "Update Outstanding for Self": its outstanding negative,
	the invoice it returns left unpaid) is a credit the customer holds with that company: it settles
	what is overdue there (the customer owes the net), and when it settles all of it nothing is
	overdue; the oldest overdue due date stays while anything is left. Amounts of companies whose
	currency differs from the default company's are converted at today's rate, so customers
	billed by several companies score on one scale.
	"""
	invoice = frappe.qb.DocType("Sales Invoice")
	recent_from = add_days(today, -trend_days)
	previous_from = add_days(today, -2 * trend_days)
	to_company = company_currency_rate(invoice)
	rows = json_rows(
		frappe.qb.from_(invoice)
		.select(
			invoice.customer.as_("customer"),
			invoice.company.as_("company"),
			Sum(Case().when(invoice.posting_date >= payment_since, invoice.base_grand_total).else_(0)).as_(
				"revenue"
			),
			Sum(Case().when(invoice.posting_date > recent_from, invoice.base_net_total).else_(0)).as_(
				"recent"
			),
			Sum(
				Case()
				.when(
					(invoice.posting_date > previous_from) & (invoice.posting_date <= recent_from),
					invoice.base_net_total,
				)
				.else_(0)
			).as_("previous"),
			# the window's invoices that have shown how the customer pays: paid, or come due
			Sum(
				Case()
				.when(
					(invoice.posting_date >= payment_since)
					& ((invoice.due_date <= today) | (invoice.outstanding_amount <= 0)),
					1,
				)
				.else_(0)
			).as_("shown"),
			# what credit notes keeping their own outstanding still hold (negative)
			Sum(
				Case().when(invoice.outstanding_amount < 0, invoice.outstanding_amount * to_company).else_(0)
			).as_("credit"),
		)
		.where(invoice.customer[lo:hi] & (invoice.docstatus == 1))
		.groupby(invoice.customer, invoice.company),
		("customer", "company", "revenue", "recent", "previous", "shown", "credit"),
	)
	# (customer, company, overdue, oldest_due, several_terms): the invoices with at most one dated
	# term weighed, and the names of those with several (a JSON array, or None), weighed next by name
	params = {"lo": lo, "hi": hi, "today": today}
	single = json_rows(
		(SINGLE_TERM_OVERDUE_SQL, params), ("customer", "company", "overdue", "oldest_due", "several_terms")
	)
	arrears = [
		(customer, company, overdue, iso_date(oldest)) for customer, company, overdue, oldest, _n in single
	]
	several = [name for *_row, names in single if names for name in json.loads(names)]
	if several:
		# (customer, company, overdue, oldest_due) of those, one row an invoice that owes something
		arrears += [
			(customer, company, overdue, iso_date(oldest))
			for customer, company, overdue, oldest in json_rows(
				(
					INVOICE_ARREARS_SQL.format(invoices=NAMED_INVOICES),
					{**params, "names": json.dumps(several, separators=(",", ":"))},
				),
				("customer", "company", "overdue", "oldest_due"),
			)
		]
	rates = company_rates({row[1] for row in rows} | {row[1] for row in arrears}, today)
	facts: dict[str, dict] = {}

	def fact_of(customer: str) -> dict:
		return facts.setdefault(
			customer,
			{
				"revenue": 0.0,
				"overdue": 0.0,
				"recent": 0.0,
				"previous": 0.0,
				"oldest_overdue_due": None,
				"shown": 0,
			},
		)

	credits: dict[tuple[str, str], float] = {}  # (customer, company): credit held, company currency
	for customer, company, revenue, recent, previous, shown, credit in rows:
		fact = fact_of(customer)
		for key, amount in (("revenue", revenue), ("recent", recent), ("previous", previous)):
			fact[key] += float(amount or 0) * rates.get(company, 1.0)
		fact["shown"] += int(shown or 0)
		if credit and float(credit) < 0:
			credits[(customer, company)] = -float(credit)
	for customer, company, overdue, oldest_due in arrears:
		if oldest_due is None:  # nothing overdue
			continue
		overdue = float(overdue)
		held = credits.get((customer, company))
		if held:
			settled = min(held, overdue)
			credits[(customer, company)] = held - settled
			overdue -= settled
			if overdue <= 0.005:  # the credit notes settle it
				continue
		fact = fact_of(customer)
		fact["overdue"] += overdue * rates.get(company, 1.0)
		if fact["oldest_overdue_due"] is None or oldest_due < fact["oldest_overdue_due"]:
			fact["oldest_overdue_due"] = oldest_due
	return facts


# The overdue part of each unpaid submitted invoice of a range that owes something overdue, weighed
# in the database by the rules of `engine.invoice_arrears` (ERPNext's Accounts Receivable): one row
# per payment term with a due date (an invoice without one is a single term: its outstanding, due on
# its due date); a term keeps what was recorded paid against it; what was paid without naming a term
# (the schedule's total less the outstanding and the recorded payments) settles the other terms
# oldest due first; the terms past due with more than 0.005 left are overdue, at most the
# outstanding, late from the oldest of them. `to_company` converts to the company's currency:
# outstanding_amount and the terms are in the receivable account's currency, the company's unless
# the account is kept in the invoice's own (foreign) currency. One window pass over the unpaid
# terms of the invoices it weighs (`{invoices}`: a range's customers', or those named), then one row
# per invoice: no term decoded or weighed in Python.
INVOICE_ARREARS_SQL = """
select invoice, customer, company, to_company, oldest_due,
	least(overdue, outstanding) * to_company as overdue
from (
	select invoice, customer, company, to_company, outstanding,
		sum(if(left_due > 0.005 and due_date < %(today)s, left_due, 0)) as overdue,
		min(if(left_due > 0.005 and due_date < %(today)s, due_date, null)) as oldest_due
	from (
		select invoice, customer, company, to_company, outstanding, due_date,
			greatest(amount - greatest(recorded, 0), 0) - if(recorded = 0, least(greatest(amount, 0), greatest(
				-- what was paid without naming a term, less what the earlier such terms took
				greatest(
					sum(amount) over (partition by invoice) - outstanding
					- sum(greatest(recorded, 0)) over (partition by invoice),
					0
				) - coalesce(sum(greatest(amount, 0)) over (
					partition by invoice, recorded = 0 order by due_date, idx
					rows between unbounded preceding and 1 preceding
				), 0),
				0
			)), 0) as left_due
		from (
			select i.`name` as invoice, i.`customer`, i.`company`, i.`outstanding_amount` as outstanding,
				if(i.`party_account_currency` = i.`currency`, i.`conversion_rate`, 1) as to_company,
				coalesce(t.`due_date`, i.`due_date`) as due_date, coalesce(t.`idx`, 0) as idx,
				if(t.`name` is null, i.`outstanding_amount`, coalesce(
					if(i.`party_account_currency` = i.`currency`, t.`payment_amount`, t.`base_payment_amount`), 0
				)) as amount,
				if(t.`name` is null, 0, coalesce(
					if(i.`party_account_currency` = i.`currency`, t.`paid_amount`, t.`base_paid_amount`)
					+ coalesce(t.`discounted_amount`, 0), 0
				)) as recorded
			from `tabSales Invoice` i
			left join `tabPayment Schedule` t force index (parent)
				on t.`parent` = i.`name` and t.`parenttype` = 'Sales Invoice' and t.`due_date` is not null
			where {invoices} and i.`docstatus` = 1 and i.`outstanding_amount` > 0
				-- only an invoice with something due before today can be late: its own due date (its
				-- one term when it has no schedule) or a term's; most unpaid invoices are not due yet
				and (i.`due_date` < %(today)s or exists (
					select 1 from `tabPayment Schedule` d
					where d.`parent` = i.`name` and d.`parenttype` = 'Sales Invoice' and d.`due_date` < %(today)s
				))
		) term
	) settled
	group by invoice, customer, company, to_company, outstanding
) arrears
where overdue > 0
"""

# The invoices `INVOICE_ARREARS_SQL` weighs: a range's customers', or those named (a JSON array).
RANGE_INVOICES = "i.`customer` between %(lo)s and %(hi)s"
NAMED_INVOICES = (
	"i.`name` in (select `name` from json_table(%(names)s, '$[*]' columns (`name` varchar(140) path '$')) n)"
)

# `INVOICE_ARREARS_SQL` for the invoices with one dated payment term or none (ERPNext gives every
# invoice one term unless it is paid in instalments), summed per customer and company. Each unpaid
# invoice of the range is joined to its dated terms, once (the `parent` index: one look-up an
# invoice), and grouped into one row an invoice: how many terms it has, and the term's values (for
# one term, its own). One term needs no order, so it is weighed row by row; the invoices with
# several are not weighed here but named (`several_terms`, a JSON array of their names, or None) for
# `INVOICE_ARREARS_SQL` to weigh by name (`NAMED_INVOICES`). The same rules, for one term (amount,
# recorded, due): recorded against it, it owes its amount less that; else what was paid without
# naming it (the amount less the outstanding) settles it. An invoice without a dated term is one
# term: its outstanding, due on its due date. (Telling one term from several by a second look-up
# per term, and then reading the range again for the invoices with several, cost twice the time on
# a book whose invoices all have their schedules, as ERPNext keeps them.)
SINGLE_TERM_OVERDUE_SQL = """
select customer, company,
	sum(if(terms > 1 or left_due <= 0.005 or due_date >= %(today)s, 0, least(left_due, outstanding) * to_company))
		as overdue,
	min(if(terms > 1 or left_due <= 0.005 or due_date >= %(today)s, null, due_date)) as oldest_due,
	concat('[', group_concat(if(terms > 1, json_quote(invoice), null)), ']') as several_terms
from (
	select invoice, customer, company, outstanding, to_company, due_date, terms,
		if(recorded = 0,
			greatest(amount, 0) - least(greatest(amount, 0), greatest(amount - outstanding, 0)),
			greatest(amount - greatest(recorded, 0), 0)
		) as left_due
	from (
		select i.`name` as invoice, i.`customer`, i.`company`, i.`outstanding_amount` as outstanding,
			if(i.`party_account_currency` = i.`currency`, i.`conversion_rate`, 1) as to_company,
			count(t.`name`) as terms,
			coalesce(min(t.`due_date`), i.`due_date`) as due_date,
			if(count(t.`name`) = 0, i.`outstanding_amount`, coalesce(
				if(i.`party_account_currency` = i.`currency`, sum(t.`payment_amount`), sum(t.`base_payment_amount`)), 0
			)) as amount,
			if(count(t.`name`) = 0, 0, coalesce(
				if(i.`party_account_currency` = i.`currency`, sum(t.`paid_amount`), sum(t.`base_paid_amount`))
				+ coalesce(sum(t.`discounted_amount`), 0), 0
			)) as recorded
		from `tabSales Invoice` i
		left join `tabPayment Schedule` t force index (parent)
			on t.`parent` = i.`name` and t.`parenttype` = 'Sales Invoice' and t.`due_date` is not null
		where i.`customer` between %(lo)s and %(hi)s and i.`docstatus` = 1 and i.`outstanding_amount` > 0
		-- one group an invoice, named in the billing index's order (all its columns, then the name it
		-- ends with): the groups come out of the index scan one after the other, with no temporary
		-- table (grouped by the name first, each chunk sorted its unpaid invoices in one: a fifth of the read)
		group by i.`customer`, i.`docstatus`, i.`company`, i.`posting_date`, i.`due_date`,
			i.`outstanding_amount`, i.`conversion_rate`, i.`base_grand_total`, i.`base_net_total`,
			i.`party_account_currency`, i.`currency`, i.`name`
	) term
) weighed
group by customer, company
"""


def unpaid_invoice_arrears(lo: str, hi: str, today: date) -> list[dict]:
	"""The overdue part of every unpaid submitted invoice of the customers in the range that owes
	something overdue (`INVOICE_ARREARS_SQL`: per payment term, as ERPNext's Accounts Receivable
	ages it): an invoice paid in instalments owes only its instalments past due, less what has been
	paid, and is late from the oldest of them, whatever its own (last) due date says.

	Each row: invoice, customer, company, overdue (in the company's currency) and oldest_due."""
	rows = frappe.db.sql(
		INVOICE_ARREARS_SQL.format(invoices=RANGE_INVOICES) + " order by invoice",
		{"lo": lo, "hi": hi, "today": today},
		as_dict=True,
	)
	for row in rows:
		row.overdue = float(row.overdue)
	return rows


def unallocated_credit_notes(customer: str) -> dict[str, float]:
	"""{credit note: what it still holds, negative, in its company's currency}: the customer's
	submitted credit notes that keep their own outstanding, which `invoice_facts` sets against what
	is overdue."""
	invoice = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(invoice)
		.select(invoice.name, invoice.outstanding_amount * company_currency_rate(invoice))
		.where((invoice.customer == customer) & (invoice.docstatus == 1) & (invoice.outstanding_amount < 0))
		.run()
	)
	return {name: float(amount) for name, amount in rows}


def company_rates(companies: set[str], today: date) -> dict[str, float]:
	"""Rate from each company's currency to the default company's currency.

	The default company and each company's currency are read as ERPNext's `get_default_company` and
	`get_company_currency` read them, but without importing `erpnext`: its package imports Frappe's
	desk boot and HTML tools. With `default_company`'s own imports, that was ~0.2 s of CPU (and
	~15 MB) every night's job paid in its first chunk. ERPNext's exchange rate is imported only for a
	company whose currency differs."""
	reporting = company_currency(default_company() or next(iter(companies), None) or "")
	rates = {}
	for company in companies:
		currency = company_currency(company)
		if not reporting or currency == reporting:
			rates[company] = 1.0
			continue
		# no rate known: counted 1:1 (a customer's figures keep their own scale), and said once a day
		rates[company] = exchange_rate(currency, reporting, today) or 1.0
	return rates


# How long a missing exchange rate is remembered as missing (seconds): ERPNext keeps a rate it
# fetched for 6 hours; a rate a user adds meanwhile (a Currency Exchange record) is read at once.
MISSING_RATE_TTL = 6 * 3600


def exchange_rate(
	from_currency: str, to_currency: str, day: date, company: str | None = None
) -> float | None:
	"""ERPNext's rate from one currency to the other on `day` (`get_exchange_rate`: a Currency
	Exchange record, else its exchange-rate service), None when there is none.

	A rate is asked once a job or request; a rate found missing is not asked of the service again
	for MISSING_RATE_TTL while no Currency Exchange record holds it (ERPNext's service call has no
	timeout and logs each failure: a night of chunks would ask, wait and log once a chunk). A
	missing rate is logged once a day and pair, saying what is counted instead."""
	from erpnext.setup.utils import get_exchange_rate

	day = getdate(day)
	key = (from_currency, to_currency, day)
	known = frappe.local.cache.setdefault("cs_exchange_rates", {})
	if key in known:
		return known[key]
	missing_key = f"cs_missing_exchange_rate:{from_currency}:{to_currency}:{day}"
	if frappe.cache.get_value(missing_key, expires=True):
		rate = known[key] = _recorded_rate(from_currency, to_currency, day)
		return rate
	rate = float(get_exchange_rate(from_currency, to_currency, day) or 0) or None
	if rate is None:
		logged_key = f"cs_missing_exchange_rate_logged:{from_currency}:{to_currency}:{day}"
		if not frappe.cache.get_value(logged_key, expires=True):
			frappe.cache.set_value(logged_key, 1, expires_in_sec=24 * 3600)
			frappe.log_error(
				title=_("No exchange rate from {0} to {1}").format(from_currency, to_currency),
				message=_(
					"No exchange rate from {0} to {1} on {2} was found (no Currency Exchange record, and the "
					"exchange-rate service gave none). Until a rate is known, Customer Success counts invoiced "
					"amounts in {0} as if 1 {0} were 1 {1} (health scores and reports), and a subscription "
					"plan priced in {0} at an unknown worth: add a Currency Exchange record."
				).format(from_currency, to_currency, frappe.format(day, {"fieldtype": "Date"})),
			)
		frappe.cache.set_value(missing_key, 1, expires_in_sec=MISSING_RATE_TTL)
	known[key] = rate
	return rate


def _recorded_rate(from_currency: str, to_currency: str, day: date) -> float | None:
	"""The rate a Currency Exchange record gives, by ERPNext's rules (the latest on or before `day`,
	not stale unless Accounts Settings allows it): one a user added after the rate was missing."""
	settings = frappe.get_cached_doc("Accounts Settings")
	table = frappe.qb.DocType("Currency Exchange")
	query = (
		frappe.qb.from_(table)
		.select(table.exchange_rate)
		.where(
			(table.from_currency == from_currency) & (table.to_currency == to_currency) & (table.date <= day)
		)
		.orderby(table.date, order=Order.desc)
		.limit(1)
	)
	if not settings.get("allow_stale"):
		query = query.where(table.date > add_days(day, -int(settings.get("stale_days") or 0)))
	found = query.run(pluck=True)
	return float(found[0]) if found and found[0] else None


def default_company() -> str | None:
	"""The session user's default company, else the site's (as `erpnext.get_default_company`).

	For Administrator (the night's jobs) and Guest the user's defaults are read as they are: no User
	Permission applies to them, and checking for one imports Frappe's user permissions, and through
	them its HTML tools (see `company_rates`)."""
	from frappe.defaults import get_defaults, get_user_default_as_list

	user = frappe.session.user
	if user in ("Administrator", "Guest"):
		found = get_defaults(user).get("company")
		companies = [c for c in (found if isinstance(found, list | tuple) else [found]) if c]
	else:
		companies = get_user_default_as_list("company", user)
	return companies[0] if companies else frappe.db.get_single_value("Global Defaults", "default_company")


def company_currency(company: str) -> str | None:
	"""A company's default currency (as `erpnext.get_company_currency`; kept for the request)."""
	return frappe.db.get_value("Company", company, "default_currency", cache=True)


def reporting_currency() -> str | None:
	"""The default company's currency (else the first company's; None without one): the currency the
	reports and renewals add other companies' amounts up in."""
	company = default_company() or frappe.db.get_value("Company", {}, "name")
	return company_currency(company) if company else None


COMMUNICATION, EVENT = "Communication", "Event"


class TouchSource(NamedTuple):
	"""One place a touch is found: its FROM, joins and WHERE, and the columns callers select."""

	doctype: str
	query: object  # a frappe.qb query without SELECT
	customer: object
	record: object
	when: object
	# for communications: (reference_doctype, reference_name), to know one that mirrors an event
	reference: tuple | None = None


def touch_sources(lo: str, hi: str) -> list[TouchSource]:
	"""Where a touch with a customer of the range is found.

	The one definition of a "touch": the score (`last_touch_dates`) and the records dialog
	(`touches_of`) both select from these, so the two can never count different things. Five
	sources: human communications about the customer or on its timeline, about one of its
	contacts or on a contact's timeline (as incoming email is), and events the customer takes
	part in.
	"""
	comm = frappe.qb.DocType("Communication")
	link = frappe.qb.DocType("Communication Link")
	contact = frappe.qb.DocType("Dynamic Link")
	event = frappe.qb.DocType("Event")
	participant = frappe.qb.DocType("Event Participants")
	contacts_of_range = (
		(contact.parenttype == "Contact") & (contact.link_doctype == "Customer") & contact.link_name[lo:hi]
	)
	now = now_datetime()
	# Only real exchanges that happened count: automated messages (invoices mailed,
	# notifications) do not, nor anything dated ahead. An event counts as itself (below), not
	# through the communication frappe writes for each of its participants.
	human = (
		(comm.communication_type == "Communication")
		& (comm.communication_date <= now)
		& (Coalesce(comm.reference_doctype, "") != EVENT)
	)
	reference = (comm.reference_doctype, comm.reference_name)
	return [
		TouchSource(
			COMMUNICATION,
			frappe.qb.from_(comm).where(
				(comm.reference_doctype == "Customer") & comm.reference_name[lo:hi] & human
			),
			comm.reference_name,
			comm.name,
			comm.communication_date,
			reference,
		),
		TouchSource(
			COMMUNICATION,
			frappe.qb.from_(link)
			.join(comm)
			.on(comm.name == link.parent)
			.where((link.link_doctype == "Customer") & link.link_name[lo:hi] & human),
			link.link_name,
			comm.name,
			comm.communication_date,
			reference,
		),
		TouchSource(
			COMMUNICATION,
			frappe.qb.from_(contact)
			.join(comm)
			.on((comm.reference_doctype == "Contact") & (comm.reference_name == contact.parent))
			.where(contacts_of_range & human),
			contact.link_name,
			comm.name,
			comm.communication_date,
			reference,
		),
		TouchSource(
			COMMUNICATION,
			frappe.qb.from_(contact)
			.join(link)
			.on((link.link_doctype == "Contact") & (link.link_name == contact.parent))
			.join(comm)
			.on(comm.name == link.parent)
			.where(contacts_of_range & human),
			contact.link_name,
			comm.name,
			comm.communication_date,
			reference,
		),
		TouchSource(
			EVENT,
			frappe.qb.from_(participant)
			.join(event)
			.on(event.name == participant.parent)
			.where(
				(participant.reference_doctype == "Customer")
				& participant.reference_docname[lo:hi]
				& (event.status != "Cancelled")
				& (event.starts_on <= now)
			),
			participant.reference_docname,
			event.name,
			event.starts_on,
		),
	]


def last_touch_dates(lo: str, hi: str) -> dict[str, date]:
	"""The latest touch (see `touch_sources`) with each customer of the range: one aggregate per source."""
	latest: dict[str, date] = {}
	for source in touch_sources(lo, hi):
		query = source.query.select(source.customer.as_("customer"), Max(source.when).as_("last")).groupby(
			source.customer
		)
		for name, last in json_rows(query, ("customer", "last")):
			if name and last:
				day = iso_date(last)
				if name not in latest or day > latest[name]:
					latest[name] = day
	return latest


def touches_of(customer: str, limit: int = 50) -> list[dict]:
	"""The touches the score counts for one customer, newest first: [{doctype, name, when}].

	A communication found through several sources is one touch, and so is the communication
	frappe writes for each participant of an event: it is that event.
	"""
	found: dict[tuple[str, str], object] = {}
	for source in touch_sources(customer, customer):
		columns = [source.record, source.when, *(source.reference or ())]
		rows = source.query.select(*columns).orderby(source.when, order=Order.desc).limit(limit).run()
		for name, at, *reference in rows:
			if not (name and at):
				continue
			key = (source.doctype, name)
			if reference and reference[0] == EVENT and reference[1]:
				key = (EVENT, reference[1])
			if key not in found or at > found[key]:
				found[key] = at
	ordered = sorted(found.items(), key=lambda item: item[1], reverse=True)[:limit]
	return [{"doctype": doctype, "name": name, "when": at} for (doctype, name), at in ordered]


def latest_contract_end(lo: str, hi: str) -> dict[str, date]:
	"""The furthest end date among each customer's submitted contracts (a renewal signed early counts)."""
	return {name: end for name, end in contract_ends(lo, hi).items() if end is not None}


def contract_ends(lo: str, hi: str) -> dict[str, date | None]:
	"""Every customer of the range with a submitted contract: its furthest end date (`None` when
	none of them has one). One grouped scan of the party index gives both what makes a customer
	live (`live_customers`' contracts) and `latest_contract_end`."""
	contract = frappe.qb.DocType("Contract")
	rows = json_rows(
		frappe.qb.from_(contract)
		.select(contract.party_name.as_("customer"), Max(contract.end_date).as_("end_date"))
		.where((contract.party_type == "Customer") & (contract.docstatus == 1) & contract.party_name[lo:hi])
		.groupby(contract.party_name),
		("customer", "end_date"),
	)
	return {name: iso_date(end) for name, end in rows if name}


def scores_around(
	lo: str, hi: str, day: date, slack_days: int = 7, names: list[str] | None = None
) -> dict[str, float]:
	"""Each customer's latest score on or before `day` (within `slack_days`), for the trend.

	A day with too little known (Insufficient Data) had no score to compare against. With `names`
	(the range's customers the caller scores), the range is read on `day` alone and the days before
	only for those of `names` without a score that day: on a site scored every night that is a few
	customers, where reading the whole week read every customer's entries of every day of it. A
	customer of the range not in `names` then has its score of `day` only, if any: ask for it.
	"""
	days = [add_days(day, -offset) for offset in range(slack_days, -1, -1)]
	in_range = f"""from {SCORE_HISTORY} where s.`score_date` in %(days)s
		and s.`customer` between %(lo)s and %(hi)s"""
	if names is None:
		return _latest_scores(days, in_range, {"lo": lo, "hi": hi})
	found = _latest_scores([day], in_range, {"lo": lo, "hi": hi})
	missing = [name for name in names if name not in found]
	if not missing or slack_days <= 0:
		return found
	earlier_days = days[:-1]
	if len(missing) * 4 > len(names):
		# most of the range has no score that day (a young history, a gap): the days before read
		# over the range cost less than seven look-ups a customer
		earlier = _latest_scores(earlier_days, in_range, {"lo": lo, "hi": hi})
	else:
		# each customer's days reached from its name, a day at a time (a JSON table driving the
		# join on the history index's (day, customer), as `lock_customers_and_day_scores`; an IN
		# list of days there reads the whole index): nothing of the other customers is read
		by_day = " union all ".join(
			f"""select s.`customer`, s.`score`, s.`score_date`, s.`status`
			from json_table(%(names)s, '$[*]' columns (`name` varchar(140) path '$')) v
			straight_join {SCORE_HISTORY} on s.`score_date` = %(day_{i})s and s.`customer` = v.`name`
			where s.`customer` between %(lo)s and %(hi)s"""
			for i in range(len(earlier_days))
		)
		earlier = _latest_scores(
			earlier_days,
			f"from ({by_day}) s where s.`score_date` in %(days)s",
			{
				"names": _names_table(missing),
				"lo": lo,
				"hi": hi,
				**{f"day_{i}": d for i, d in enumerate(earlier_days)},
			},
		)
	# a score of the day itself is the latest; the days before count for the others only
	found.update((customer, score) for customer, score in earlier.items() if customer not in found)
	return found


SCORE_HISTORY = "`tabCustomer Health Score` s force index (cs_score_history_index)"


def _latest_scores(days: list[date], source: str, params: dict) -> dict[str, float]:
	"""{customer: its latest known score of `days`} of the rows `source` reads (the from and where
	of a select of the score history as `s`, by `days`). Each day by name: on the history index
	(score_date, customer, status, score) every day is its own range of the customers, read from
	the index alone (a range of days would read every customer's entries of the days between). Of a
	customer's rows the latest is kept in the database, one row per customer back, as one document
	(`json_rows`)."""
	rows = json_rows(
		(
			f"""select customer, score from (
				select s.`customer` as customer, s.`score` as score,
					-- of two models' rows of one day, the one the history index holds last (as before)
					row_number() over (
						partition by s.`customer` order by s.`score_date` desc, s.`status` desc, s.`score` desc
					) as latest
				{source} and s.`status` != %(insufficient)s
			) scores
			where latest = 1""",
			{**params, "days": days, "insufficient": INSUFFICIENT_DATA},
		),
		("customer", "score"),
	)
	return {customer: float(score) for customer, score in rows}


RUNNING_PLAN_STATUSES = ("Agreed with Customer", "Active", "At Risk")


def plan_progress(lo: str, hi: str) -> dict[str, float]:
	"""{customer: average progress of its running (agreed, active, at-risk) success plans}."""
	plan = frappe.qb.DocType("Success Plan")
	rows = (
		frappe.qb.from_(plan)
		.select(plan.customer, Avg(plan.progress).as_("progress"))
		.where(plan.customer[lo:hi] & plan.status.isin(RUNNING_PLAN_STATUSES) & (plan.docstatus < 2))
		.groupby(plan.customer)
		.run()
	)
	return {customer: float(progress) for customer, progress in rows if progress is not None}


def milestone_punctuality(lo: str, hi: str, today: date) -> dict[str, float]:
	"""{customer: share of its milestones due by today that were done on or before their due date}."""
	milestone = frappe.qb.DocType("Success Plan Milestone")
	on_time = (
		Case()
		.when(
			(milestone.status == "Done")
			& milestone.completed_on.isnotnull()
			& (milestone.completed_on <= milestone.due_date),
			1,
		)
		.else_(0)
	)
	rows = (
		frappe.qb.from_(milestone)
		.select(milestone.customer, Count("*").as_("due"), Sum(on_time).as_("on_time"))
		.where(
			milestone.customer[lo:hi]
			& (milestone.status != "Skipped")
			& milestone.due_date.isnotnull()
			& (milestone.due_date <= today)
		)
		.groupby(milestone.customer)
		.run()
	)
	return {customer: float(done or 0) / due for customer, due, done in rows if due}


def latest_nps(lo: str, hi: str, since: date) -> dict[str, dict]:
	"""{customer: {name, score, answered_on}} of each customer's latest NPS answer since `since`.

	One range scan of the responses, oldest first, so each customer keeps its latest (ties on the
	same instant go to the one recorded last). A customer with no answer in the window is absent:
	no NPS data, the factor is left out.
	"""
	response = frappe.qb.DocType("NPS Response")
	rows = (
		frappe.qb.from_(response)
		.select(response.customer, response.name, response.score, response.answered_on)
		.where(response.customer[lo:hi] & (response.answered_on >= since))
		.orderby(response.answered_on)
		.orderby(response.creation)
		.run(as_dict=True)
	)
	return {
		row.customer: {"name": row.name, "score": int(row.score), "answered_on": getdate(row.answered_on)}
		for row in rows
	}  # later answers overwrite earlier ones


# --- writes: the day's scores, the history, the overrides --------------------------------------

SCORE_DEFAULTS = {"score": 0.0, "computed_score": 0.0, "trend": 0.0, "is_override": 0, "granularity": "Daily"}

SCORE_FIELDS = (
	"customer",
	"customer_name",  # written here: raw inserts do not run fetch_from
	"csm",
	"model",
	"score_date",
	"granularity",
	"score",
	"status",
	"computed_score",
	"computed_status",
	"trend",
	"is_override",
	"override_reason",
	"override_until",
	"explanation",
	"computed_on",
)


def _or_default(value, fieldname: str):
	return SCORE_DEFAULTS.get(fieldname) if value is None else value


def upsert_scores(rows: list[dict], batch: int = 2000, named_existing: bool = False):
	"""Multi-row upserts on the (customer, model, day) unique key: re-running a day updates its rows.

	A row that carries its `name` (the day's row exists) is written on its primary key, which
	locks that record alone. The others get a fresh id from the doctype's sequence
	(frappe.db.bulk_insert cannot: autoincrement doctypes have no column default for `name`).
	With `named_existing` the caller holds these customers locked and named every row that exists
	(`service.write_scores`): the others are new, and are inserted without the upsert clause. An
	upsert of a new key would hold the record after it (next-key), where a neighbouring chunk
	inserts its own first rows: two chunks then wait on each other.
	"""
	existing = [row for row in rows if row.get("name")]
	new = [row for row in rows if not row.get("name")]
	for part_rows, with_name in ((existing, True), (new, False)):
		for start in range(0, len(part_rows), batch):
			_upsert(part_rows[start : start + batch], with_name, upsert=with_name or not named_existing)
	# The Health Trend roll-up's weeks and months of these days are stale from now (same transaction).
	# Last, so parallel chunks of a run hold those two rows' locks only from here to their commit.
	if rows:
		mark_trend_stale(engine.trend_periods_of({getdate(row["score_date"]) for row in rows}))


# The largest literal one statement carries (bytes; MariaDB's max_allowed_packet is 16 MB by default,
# and 2,000 score rows, one INSERT of a chunk, are about 1.2 MB as VALUES).
MAX_LITERAL = 8 * 2**20


# The characters a quoted SQL string cannot carry as they are: the quote, the backslash (an escape
# unless the server runs with NO_BACKSLASH_ESCAPES) and NUL. A string with none of them is sent
# between quotes as it is; one with any is sent as hex (`sql_literal`).
_UNQUOTABLE = re.compile(r"['\\\x00]")


def sql_literal(value) -> str:
	"""`value` as a SQL literal that needs no escaping by the driver and is safe in any sql_mode.

	A string is quoted as it is when it holds no quote, backslash or NUL (utf8mb4 has no multi-byte
	sequence holding those bytes), else sent as its utf8mb4 bytes in hex; a number is its shortest
	exact decimal text (a non-finite float raises: no column holds it); a date or datetime its ISO
	text; None NULL. One check a string in C: the driver's escaping goes character by character in
	Python (~100 ms for a chunk's score rows)."""
	kind = type(value)
	if kind is str:
		if _UNQUOTABLE.search(value) is None:
			return "'" + value + "'"
		return "_utf8mb4 x'" + value.encode().hex() + "'"
	if value is None:
		return "NULL"
	if kind is float:
		if not math.isfinite(value):
			raise ValueError(f"{value!r} cannot be stored")
		return repr(value)
	if kind is int or kind is bool:
		return str(int(value))
	if kind is date or kind is datetime:
		return "'" + str(value) + "'"
	if isinstance(value, Decimal):
		if not value.is_finite():
			raise ValueError(f"{value!r} cannot be stored")
		return str(value)
	if isinstance(value, str):  # a str subclass (frappe's markup): its own text, whatever its __str__
		return sql_literal(str.__str__(value))
	if isinstance(value, int):  # an int subclass (an IntEnum)
		return str(int.__index__(value))
	if isinstance(value, float):  # a float subclass (numpy's)
		return sql_literal(float(value))
	if isinstance(value, datetime):
		return "'" + value.isoformat(" ") + "'"
	if isinstance(value, date):
		return "'" + value.isoformat() + "'"
	raise TypeError(f"no SQL literal for {kind.__name__}")


# The score columns whose values repeat from row to row: a chunk has a few models, statuses, CSMs,
# days and one `computed_on`. A statement lists them last (`SCORE_COLUMN_ORDER`), and each distinct
# combination of their values is made a literal once (`score_values`).
REPEATING_SCORE_FIELDS = frozenset(
	{
		"csm",
		"model",
		"score_date",
		"granularity",
		"status",
		"computed_status",
		"is_override",
		"override_reason",
		"override_until",
		"computed_on",
	}
)
VARYING_SCORE_FIELDS = tuple(f for f in SCORE_FIELDS if f not in REPEATING_SCORE_FIELDS)
SCORE_COLUMN_ORDER = (*VARYING_SCORE_FIELDS, *(f for f in SCORE_FIELDS if f in REPEATING_SCORE_FIELDS))


def score_values(part: list[dict], tail: str) -> list[str]:
	"""Each row's values as SQL literals (`sql_literal`, a field's default for None), in
	SCORE_COLUMN_ORDER, joined by commas and ended by `tail`. The repeating fields' text is made once
	for each combination of their values and types (1, 1.0 and True are one key to a dict: with
	their types they are three)."""
	varying_defaults = [SCORE_DEFAULTS.get(f) for f in VARYING_SCORE_FIELDS]
	repeating = SCORE_COLUMN_ORDER[len(VARYING_SCORE_FIELDS) :]
	repeating_defaults = [SCORE_DEFAULTS.get(f) for f in repeating]
	# each row's values as tuples, taken in C (a row without some field: by `get`, as None)
	varying_of, repeating_of = itemgetter(*VARYING_SCORE_FIELDS), itemgetter(*repeating)
	literal = sql_literal
	made: dict[tuple, str] = {}
	values = []
	for row in part:
		try:
			key, own = repeating_of(row), varying_of(row)
		except KeyError:
			key = tuple([row.get(f) for f in repeating])
			own = tuple([row.get(f) for f in VARYING_SCORE_FIELDS])
		kinds = tuple(map(type, key))
		rest = made.get((key, kinds))
		if rest is None:
			rest = made[(key, kinds)] = (
				",".join(
					[
						literal(default if value is None else value)
						for value, default in zip(key, repeating_defaults, strict=True)
					]
				)
				+ tail
			)
		values.append(
			",".join(
				[
					literal(default if value is None else value)
					for value, default in zip(own, varying_defaults, strict=True)
				]
			)
			+ ","
			+ rest
		)
	return values


def json_literal(value) -> str:
	"""`value` as JSON in a SQL string literal that needs no escaping: its utf8mb4 bytes in hex. A
	parameter is escaped by the driver character by character in Python (~100 ms for a chunk's 1 MB
	of score rows, ~3.5 s a night); hex digits need no escaping, so the literal is safe in the
	statement as it is, and it is made in C."""
	return "_utf8mb4 x'" + json.dumps(value, default=str, separators=(",", ":")).encode().hex() + "'"


def execute_literal(query: str):
	"""Run a statement that carries its rows as one large `json_literal` and no parameter.

	`frappe.db.sql` runs a case-insensitive regex over the whole text of every statement (`ifnull(`
	→ `coalesce(`) before it sends it: ~20 ms for 2 MB of score rows (a statement of 2,000), ~1 s of a night's
	work. Such a statement has no `ifnull`, no parameter to format and no result, so it is sent on
	frappe's own connection and transaction as it is, with what `frappe.db.sql` does around it
	otherwise: the write counted against frappe's per-transaction limit (by its first words), and a
	deadlock, a lock wait timeout or the site's read-only mode raised as frappe raises them
	(`write_scores_committed` retries a deadlock victim). What it does not do is log the statement
	(frappe's query log and Recorder): a 2 MB literal is nothing to read there."""
	db = frappe.db
	if not db._conn:
		db.connect()
	db.check_transaction_status(query[:100])
	try:
		db._cursor.execute(query)
	except Exception as e:
		if db.is_deadlocked(e):
			raise frappe.QueryDeadlockError(e) from e
		if db.is_timedout(e):
			raise frappe.QueryTimeoutError(e) from e
		if db.is_read_only_mode_error(e):
			frappe.throw(
				_(
					"Site is running in read only mode for maintenance or site update, this action can not be performed right now. Please try again later."
				),
				title=_("In Read Only Mode"),
				exc=frappe.InReadOnlyMode,
			)
		raise


def _upsert(part: list[dict], with_name: bool, upsert: bool = True):
	"""One multi-row INSERT of the rows, in their order, every value a literal (`sql_literal`:
	nothing for the driver to escape, nothing for the server to decode but the statement itself;
	a JSON table of the same rows cost the server a third more)."""
	if not part:
		return
	fields = (*(("name",) if with_name else ()), *SCORE_COLUMN_ORDER)
	updated = [
		c for c in (*SCORE_FIELDS, "modified", "modified_by") if c not in ("customer", "model", "score_date")
	]
	# escaped as literals: no parameter is formatted into this statement (`execute_literal`)
	now = sql_literal(str(now_datetime()))
	user = sql_literal(frappe.session.user)
	tail = f",{now},{now},{user},{user},0)"  # every row's standard columns
	values = score_values(part, tail)
	# well within max_allowed_packet, counted as bytes (a character is at most 4 of utf8mb4)
	if 4 * sum(map(len, values)) > MAX_LITERAL and len(part) > 1:
		half = len(part) // 2
		_upsert(part[:half], with_name, upsert)
		_upsert(part[half:], with_name, upsert)
		return
	if with_name:
		names = [sql_literal(row["name"]) for row in part]
	elif (first := reserve_score_names(len(part))) is not None:
		names = [str(first + i) for i in range(len(part))]
	else:  # a sequence not yet handing out blocks (a site not migrated since): a name a row
		names = [f"nextval(`{SCORE_SEQUENCE}`)"] * len(part)
	rows = ",".join([f"({name},{row}" for name, row in zip(names, values, strict=True)])
	execute_literal(
		f"""insert into `tabCustomer Health Score`
			(`name`, {", ".join(f"`{f}`" for f in fields if f != "name")}, `creation`, `modified`, `owner`, `modified_by`, `docstatus`)
		values {rows}"""
		+ (
			" on duplicate key update "
			+ ", ".join(f"`tabCustomer Health Score`.`{c}` = values(`{c}`)" for c in updated)
			if upsert
			else ""
		)
	)


def reserve_score_names(count: int) -> int | None:
	"""The first of `count` consecutive names for new score rows that no other row has or will be
	given: one `nextval` of the doctype's sequence, which hands out blocks of SCORE_NAME_BLOCK names
	(`setup.sequences`); None when it hands out fewer than `count` (a site not migrated since: the
	rows then take a `nextval` each)."""
	first, block = frappe.db.sql(f"select nextval(`{SCORE_SEQUENCE}`), `increment` from `{SCORE_SEQUENCE}`")[
		0
	]
	return int(first) if int(block) >= count else None


def copied_score(row: dict):
	"""The score `copy_scores_to_customers` writes onto the row's Customer."""
	return _or_default(row.get("score"), "score")


def copy_scores_to_customers(rows: list[dict], batch: int = 2000):
	"""Copy the day's rows just written (`upsert_scores`) onto their Customers: one joined UPDATE per
	batch, driven by the rows' own values (a JSON table, read first: `straight_join`) and reaching
	each Customer on its primary key. It never reads the score table, and it reads and locks no
	Customer but the rows' own (which the write phase holds already): it never waits for another
	chunk. The primary key is forced, as in the locking read: on a table of a handful of rows the
	optimizer may scan it instead (it did for the alerts' same UPDATE on a test site of four
	alerts), and wait on a chunk writing beside this one. (A single-table UPDATE setting each column by a CASE over the names compared every
	Customer with every name of the batch: most of the write phase's time.)"""
	for start in range(0, len(rows), batch):
		part = rows[start : start + batch]
		values = [
			[
				row["customer"],
				copied_score(row),
				row.get("status"),
				_or_default(row.get("trend"), "trend"),
				str(row["computed_on"]) if row.get("computed_on") else None,
			]
			for row in part
		]
		execute_literal(
			f"""update json_table({json_literal(values)}, '$[*]' columns (
				`name` varchar(140) path '$[0]', `score` decimal(21,9) path '$[1]',
				`status` varchar(140) path '$[2]', `trend` decimal(21,9) path '$[3]',
				`computed_on` datetime(6) path '$[4]')) v
			straight_join `tabCustomer` c force index (primary) on c.`name` = v.`name`
			set c.`cs_health_score` = v.`score`, c.`cs_health_status` = v.`status`,
				c.`cs_health_trend` = v.`trend`, c.`cs_health_computed_on` = v.`computed_on`"""
		)


def set_explanations(explanations: dict[int, str], batch: int = 5000):
	"""Write each score row's explanation text by its name: one joined UPDATE per batch, driven by
	the values (a JSON table) and reaching each row on its primary key."""
	items = list(explanations.items())
	for start in range(0, len(items), batch):
		frappe.db.sql(
			"""update json_table(%s, '$[*]' columns (
				`name` bigint path '$[0]', `explanation` longtext path '$[1]')) v
			straight_join `tabCustomer Health Score` s on s.`name` = v.`name`
			set s.`explanation` = v.`explanation`""",
			json.dumps(items[start : start + batch], separators=(",", ":")),
		)


def compact_history(cutoff: date):
	"""Before `cutoff`, keep one row per customer, model and month (the month's last), set-based."""
	daily = daily_dates_before(cutoff)
	if not daily:
		return
	first, last = daily
	mark_trend_stale(
		engine.trend_periods_of(add_days(first, n) for n in range((getdate(last) - getdate(first)).days + 1))
	)
	frappe.db.sql(
		"""
		update `tabCustomer Health Score` s
		join (
			select customer, model, max(score_date) as keep_date
			from `tabCustomer Health Score`
			where granularity = 'Daily' and score_date < %(cutoff)s
			group by customer, model, year(score_date), month(score_date)
		) k on k.customer = s.customer and k.model = s.model and k.keep_date = s.score_date
		set s.granularity = 'Monthly'
		where s.granularity = 'Daily'
		""",
		{"cutoff": cutoff},
	)
	score = frappe.qb.DocType("Customer Health Score")
	frappe.qb.from_(score).delete().where((score.granularity == "Daily") & (score.score_date < cutoff)).run()


def lapse_overrides_before(day: date):
	"""Clear every override whose expiry is before `day` (writes leave Customer.modified alone)."""
	customer = frappe.qb.DocType("Customer")
	(
		frappe.qb.update(customer)
		.set(customer.cs_health_override, 0)
		.set(customer.cs_override_reason, None)
		.set(customer.cs_override_until, None)
		.where(customer.cs_override_until < day)
		.run()
	)


# --- reads for the reports ---------------------------------------------------------------------


COLOURS = ("Green", "Yellow", "Red")


def renewing_between(renewal_from: date | None, renewal_to: date | None):
	"""A sub-query of the customers whose latest submitted contract ends in [from, to]."""
	contract = frappe.qb.DocType("Contract")
	latest_end = Max(contract.end_date)
	having = latest_end.isnotnull()
	if renewal_from:
		having &= latest_end >= renewal_from
	if renewal_to:
		having &= latest_end <= renewal_to
	return (
		frappe.qb.from_(contract)
		.select(contract.party_name)
		.where(
			(contract.party_type == "Customer") & (contract.docstatus == 1) & contract.end_date.isnotnull()
		)
		.groupby(contract.party_name)
		.having(having)
	)


def portfolio(criterion, limit: int = 0) -> list[dict]:
	"""The customers matching `criterion` (on the Customer table) with their current health,
	weakest first (those without a colour last, by name); the first `limit` of them when limit > 0.

	With a limit, each colour is read by a query of its own, weakest first, merged here: each walks
	an index in its order (a CSM's `cs_book_health_index`, the team's `cs_status_score_index`) and
	stops at the page's end, with no index on the score alone for the night to keep moving. Then the
	customers without a colour, by name."""
	customer = frappe.qb.DocType("Customer")
	base = (
		frappe.qb.from_(customer)
		.select(
			customer.name.as_("customer"),
			customer.customer_name,
			customer.cs_owner.as_("csm"),
			customer.cs_tier.as_("tier"),
			customer.cs_lifecycle_stage.as_("lifecycle_stage"),
			customer.cs_health_score.as_("score"),
			customer.cs_health_status.as_("status"),
			customer.cs_health_trend.as_("trend"),
			customer.cs_health_computed_on.as_("computed_on"),
		)
		.where(criterion)
	)
	if limit:
		walks = [
			base.where(customer.cs_health_status == colour)
			.orderby(customer.cs_health_score)
			.orderby(customer.name)
			.limit(limit)
			.run(as_dict=True)
			for colour in COLOURS
		]
		rows = list(islice(heapq.merge(*walks, key=weakest_first), limit))
		if len(rows) >= limit:
			return rows
	else:
		rows = (
			base.where(customer.cs_health_status.isin(COLOURS))
			.orderby(customer.cs_health_score)
			.orderby(customer.name)
			.run(as_dict=True)
		)
	rest = base.where(customer.cs_health_status.notin(COLOURS) | customer.cs_health_status.isnull()).orderby(
		customer.name
	)
	return rows + (rest.limit(limit - len(rows)) if limit else rest).run(as_dict=True)


def weakest_first(row: dict) -> tuple:
	"""A portfolio row's place among the coloured ones: by score (none first, as the database sorts
	it), then by name."""
	return (row.score is not None, row.score or 0, row.customer)


def portfolio_counts(criterion) -> dict[str, dict]:
	"""{status: {"customers", "score_sum"}} over every customer matching `criterion`: one GROUP BY."""
	customer = frappe.qb.DocType("Customer")
	rows = (
		frappe.qb.from_(customer)
		.select(customer.cs_health_status, Count("*"), Sum(customer.cs_health_score))
		.where(criterion)
		.groupby(customer.cs_health_status)
		.run()
	)
	return {status or "": {"customers": int(n), "score_sum": float(total or 0)} for status, n, total in rows}


def current_explanations(rows: list[dict]) -> dict[str, list]:
	"""{customer: the explanation of the score its current figures were copied from} for the given
	portfolio rows (the row of that day computed at the Customer's `cs_health_computed_on`)."""
	stamps = {row.customer: row.computed_on for row in rows if row.computed_on}
	if not stamps:
		return {}
	score = frappe.qb.DocType("Customer Health Score")
	found = (
		frappe.qb.from_(score)
		.select(score.customer, score.computed_on, score.explanation)
		.where(
			score.customer.isin(list(stamps))
			& score.score_date.isin(sorted({getdate(at) for at in stamps.values()}))
		)
		.run(as_dict=True)
	)
	explanations = {}
	for row in found:
		if row.computed_on == stamps.get(row.customer) and row.explanation:
			explanations[row.customer] = engine.explanation_from_json(row.explanation)
	return explanations


def latest_contract_ends(customers) -> dict[str, date]:
	"""{customer: the furthest end date of its submitted contracts} for a sub-query of customers."""
	contract = frappe.qb.DocType("Contract")
	rows = (
		frappe.qb.from_(contract)
		.select(contract.party_name, Max(contract.end_date))
		.where(
			(contract.party_type == "Customer")
			& (contract.docstatus == 1)
			& contract.end_date.isnotnull()
			& contract.party_name.isin(customers)
		)
		.groupby(contract.party_name)
		.run()
	)
	return {name: getdate(end) for name, end in rows}


def submitted_contracts(customers, ending_from: date, ending_to: date) -> dict[str, list[tuple[date, date]]]:
	"""{customer: [(start, end)] of all its submitted contracts}, for the customers of the sub-query
	(None: every customer) that have a contract ending in [ending_from, ending_to] and either a later
	term or the lifecycle stage Churned."""
	contract = frappe.qb.DocType("Contract")
	terms = (contract.party_type == "Customer") & (contract.docstatus == 1)
	# Only a customer with a later term (so two contracts or more) or Churned can have an outcome:
	# those are found first, from the app's party/term index alone (a grouped scan, no row read);
	# then only their contracts are read, so a whole book costs no more than its outcomes. (Joined to
	# a CSM's or a tier's customers, the optimizer would read every contract and look its customer up.)
	several_query = (
		frappe.qb.from_(contract)
		# the optimizer prefers the end-date index and sorts 100k names in a temporary table (20x
		# slower); this one is already in party order
		.force_index("cs_party_term_index")
		.select(contract.party_name)
		.groupby(contract.party_name)
		.having(Count("*") > 1)
	)
	# one scan of the whole index (cheaper than probing it for each of a book's thousands), then only
	# the few it finds are checked against the book
	several = set(several_query.where(terms).run(pluck=True))
	if customers is not None and several:
		customer = frappe.qb.DocType("Customer")
		found, ordered = set(), sorted(several)
		for start in range(0, len(ordered), CANDIDATE_BATCH):
			part = ordered[start : start + CANDIDATE_BATCH]
			found.update(customers.where(customer.name.isin(part)).run(pluck=True))
		several = found
	churned = churned_customers(customers)
	candidates = sorted(several | churned)
	contracts: dict[str, list[tuple[date, date]]] = {}
	for start in range(0, len(candidates), CANDIDATE_BATCH):
		rows = (
			frappe.qb.from_(contract)
			.select(contract.party_name, contract.start_date, contract.end_date)
			.where(
				terms
				& contract.end_date.isnotnull()
				& contract.party_name.isin(candidates[start : start + CANDIDATE_BATCH])
			)
			.run()
		)
		for name, begins, ends in rows:
			contracts.setdefault(name, []).append((getdate(begins) if begins else None, getdate(ends)))
	return {
		name: terms_of
		for name, terms_of in contracts.items()
		if any(ending_from <= end <= ending_to for _start, end in terms_of)
		and (name in churned or (name in several and has_later_term(terms_of, ending_from, ending_to)))
	}


CANDIDATE_BATCH = 5000


def has_later_term(terms: list[tuple], ending_from: date, ending_to: date) -> bool:
	"""A term ending in the period is followed by one that starts after it started and ends after it
	ended (the SQL's `later.start_date > ending.start_date`: a term with no start has none later)."""
	return any(
		ending_from <= end <= ending_to
		and start is not None
		and any(s2 is not None and s2 > start and e2 > end for s2, e2 in terms)
		for start, end in terms
	)


def snapshot_dates(customers: list[str], since: date, until: date) -> list[dict]:
	"""Every stored score of these customers from `since` to `until` (slim: no explanation)."""
	if not customers:
		return []
	score = frappe.qb.DocType("Customer Health Score")
	return (
		frappe.qb.from_(score)
		.select(score.name, score.customer, score.score_date, score.computed_on)
		.where(score.customer.isin(customers) & score.score_date[since:until])
		.orderby(score.customer)
		.orderby(score.score_date)
		.orderby(score.computed_on)
		.run(as_dict=True)
	)


def snapshots(names: list) -> dict:
	"""{name: its score, status, date and explanation} of the given Customer Health Score rows."""
	if not names:
		return {}
	score = frappe.qb.DocType("Customer Health Score")
	rows = (
		frappe.qb.from_(score)
		.select(score.name, score.score, score.status, score.score_date, score.explanation)
		.where(score.name.isin(names))
		.run(as_dict=True)
	)
	return {row.name: row for row in rows}


def history_by_period(customers, since: date, until: date, period: str) -> list[dict]:
	"""Per period (week or month) from `since` to `until`: each customer's latest score in it (the
	customers of the sub-query `customers`, or every customer when None), then their average score
	(customers with a colour only) and how many were Green, Yellow, Red or without a colour.

	One pass over the period's rows (the score_date_customer_status index holds all it reads)."""
	bucket = "yearweek(score_date, 3)" if period == "Week" else "date_format(score_date, '%%Y-%%m')"
	params = NamedParameterWrapper()  # the sub-query's values travel as parameters, never inlined
	in_scope = f"and customer in ({customers.get_sql(param_wrapper=params)})" if customers is not None else ""
	return frappe.db.sql(
		f"""
		select period, max(score_date) as period_end, count(*) as customers,
			avg(case when status in ('Green', 'Yellow', 'Red') then score end) as average_score,
			sum(status = 'Green') as green, sum(status = 'Yellow') as yellow,
			sum(status = 'Red') as red, sum(status not in ('Green', 'Yellow', 'Red')) as no_colour
		from (
			select score_date, status, score, {bucket} as period,
				row_number() over (partition by customer, {bucket} order by score_date desc, name desc) as latest
			from `tabCustomer Health Score`
			where score_date between %(since)s and %(until)s {in_scope}
		) scores
		where latest = 1
		group by period
		order by period
		""",
		{**params.get_parameters(), "since": since, "until": until},
		as_dict=True,
	)


def churned_customers(customers) -> set[str]:
	"""The customers of the sub-query (None: every customer) whose lifecycle stage is Churned."""
	customer = frappe.qb.DocType("Customer")
	# `disabled` (0 or 1) first, so the stage index (disabled, stage, owner) is read, not the table
	churned = customer.disabled.isin((0, 1)) & (customer.cs_lifecycle_stage == "Churned")
	if customers is not None:
		churned &= customer.name.isin(customers)
	return set(frappe.qb.from_(customer).select(customer.name).where(churned).run(pluck=True))


# --- the Health Trend roll-up (setup/rollups.py: cs_health_trend) -----------------------------------

TREND_ROLLUP = "cs_health_trend"
TREND_CHANGES = "cs_health_trend_change"


def mark_trend_stale(periods: set[tuple[str, str]]):
	"""Every write to the score history records the weeks and months it touched, in its own
	transaction (inserts only: parallel writers share no lock): the report computes those periods
	live until the refresh has read them again."""
	if not periods:
		return
	ordered = sorted(periods)
	frappe.db.sql(
		f"insert into `{TREND_CHANGES}` (`period_type`, `period`) values "
		+ ", ".join(["(%s, %s)"] * len(ordered)),
		[value for key in ordered for value in key],
	)


def daily_dates_before(cutoff: date) -> tuple[date, date] | None:
	"""The first and last day of daily history before `cutoff` (what compaction may delete)."""
	score = frappe.qb.DocType("Customer Health Score")
	first, last = (
		frappe.qb.from_(score)
		.select(Min(score.score_date), Max(score.score_date))
		.where((score.granularity == "Daily") & (score.score_date < cutoff))
		.run()[0]
	)
	return (getdate(first), getdate(last)) if first else None


def history_dates() -> list[date]:
	"""Every day the score history holds (a loose scan of the score_date index)."""
	score = frappe.qb.DocType("Customer Health Score")
	return [getdate(d) for d in frappe.qb.from_(score).select(score.score_date).distinct().run(pluck=True)]


def trend_rollup_rows(keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
	"""{(period type, period): its roll-up row, with `stale` set when a change came after it}."""
	if not keys:
		return {}
	where = f"(`period_type`, `period`) in ({', '.join(['(%s, %s)'] * len(keys))})"
	params = [value for key in keys for value in key]
	rows = frappe.db.sql(
		f"""select `period_type`, `period`, `period_end`, `customers`, `coloured`, `score_sum`, `green`,
			`yellow`, `red`, `no_colour`, `version`
		from `{TREND_ROLLUP}` where {where}""",
		params,
		as_dict=True,
	)
	latest = dict(
		((period_type, period), int(last))
		for period_type, period, last in frappe.db.sql(
			f"select `period_type`, `period`, max(`id`) from `{TREND_CHANGES}` where {where} "
			"group by `period_type`, `period`",
			params,
		)
	)
	found = {}
	for row in rows:
		key = (row.period_type, row.period)
		row.stale = latest.get(key, 0) > int(row.version)
		found[key] = row
	return found


def trend_version(key: tuple[str, str]) -> int:
	"""The last change recorded for the period (what a refresh reading now folds in)."""
	found = frappe.db.sql(
		f"select ifnull(max(`id`), 0) from `{TREND_CHANGES}` where `period_type` = %s and `period` = %s", key
	)
	return int(found[0][0])


def period_aggregate(start: date, end: date) -> dict:
	"""One period's figures as Health Trend computes them: each customer once, by its latest score
	from `start` to `end`; with the score sum and the count of coloured customers (the average's parts)."""
	return frappe.db.sql(
		"""
		select max(score_date) as period_end, count(*) as customers,
			ifnull(sum(status in ('Green', 'Yellow', 'Red')), 0) as coloured,
			ifnull(sum(case when status in ('Green', 'Yellow', 'Red') then score end), 0) as score_sum,
			ifnull(sum(status = 'Green'), 0) as green, ifnull(sum(status = 'Yellow'), 0) as yellow,
			ifnull(sum(status = 'Red'), 0) as red,
			ifnull(sum(status not in ('Green', 'Yellow', 'Red')), 0) as no_colour
		from (
			select score_date, status, score,
				row_number() over (partition by customer order by score_date desc, name desc) as latest
			from `tabCustomer Health Score`
			where score_date between %(start)s and %(end)s
		) scores
		where latest = 1
		""",
		{"start": start, "end": end},
		as_dict=True,
	)[0]


def write_trend_period(key: tuple[str, str], figures: dict, read_version: int):
	"""Store a period's figures as of the change `read_version` (read in the same snapshot as the
	figures): a change recorded after it leaves the period stale, for the next refresh. Then the
	changes folded in are forgotten."""
	columns = ("period_end", "customers", "coloured", "score_sum", "green", "yellow", "red", "no_colour")
	values = {
		"period_type": key[0],
		"period": key[1],
		**{c: figures.get(c) or 0 for c in columns},
		"version": read_version,
	}
	values["period_end"] = figures.get("period_end")
	frappe.db.sql(
		f"""insert into `{TREND_ROLLUP}` (`period_type`, `period`, {", ".join(f"`{c}`" for c in columns)}, `version`)
		values (%(period_type)s, %(period)s, {", ".join(f"%({c})s" for c in columns)}, %(version)s)
		on duplicate key update {", ".join(f"`{c}` = values(`{c}`)" for c in (*columns, "version"))}""",
		values,
	)
	frappe.db.sql(
		f"delete from `{TREND_CHANGES}` where `period_type` = %s and `period` = %s and `id` <= %s",
		(*key, read_version),
	)


def stale_trend_periods() -> list[tuple[str, str]]:
	"""The periods with a change after their roll-up (or with none yet)."""
	return [
		(period_type, period)
		for period_type, period in frappe.db.sql(
			f"""select c.`period_type`, c.`period` from `{TREND_CHANGES}` c
			left join `{TREND_ROLLUP}` t on t.`period_type` = c.`period_type` and t.`period` = c.`period`
			group by c.`period_type`, c.`period`
			having max(c.`id`) > ifnull(max(t.`version`), 0)"""
		)
	]


def history_exists_between(start: date, end: date) -> bool:
	score = frappe.qb.DocType("Customer Health Score")
	return bool(
		frappe.qb.from_(score).select(score.score_date).where(score.score_date[start:end]).limit(1).run()
	)


def mark_history_stale(customers: list[str]):
	"""Every week and month these customers were scored in, marked for the Health Trend roll-up
	(their history is about to be deleted, or to move to another customer)."""
	score = frappe.qb.DocType("Customer Health Score")
	days = (
		frappe.qb.from_(score)
		.select(score.score_date)
		.distinct()
		.where(score.customer.isin(customers))
		.run(pluck=True)
	)
	mark_trend_stale(engine.trend_periods_of(getdate(day) for day in days))


def delete_history_of(customers: list[str]):
	"""Every score row of these customers (a customer deleted, the demo's teardown), set-based; the
	weeks and months they were in are marked for the Health Trend roll-up, which counted them."""
	if not customers:
		return
	mark_history_stale(customers)
	score = frappe.qb.DocType("Customer Health Score")
	frappe.qb.from_(score).delete().where(score.customer.isin(customers)).run()


def drop_days_merged_away(old: str, new: str):
	"""Before customer `old` is merged into `new`: `old`'s score rows of the days (and models) `new`
	has a row of its own, which frappe's move of `old`'s rows would collide with on the unique key
	(customer, model, score_date). `new`'s history is kept; `old`'s other days move with the merge.
	Every week and month `old` was scored in is marked for the Health Trend roll-up (it counted `old`
	there as a customer of its own)."""
	mark_history_stale([old])
	frappe.db.sql(
		"""delete s from `tabCustomer Health Score` s
		join `tabCustomer Health Score` k
			on k.customer = %(new)s and k.model = s.model and k.score_date = s.score_date
		where s.customer = %(old)s""",
		{"old": old, "new": new},
	)
