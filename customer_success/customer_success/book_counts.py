"""The book roll-up: active customers counted per CS Owner, health status, tier, lifecycle stage,
segment and whether they are live (`cs_live`: a submitted Sales Invoice, Sales Order or Contract),
with how many of them have a colour, the sum of those scores and how many have a score. The team's
health cards, the Customers by Health / Tier / Lifecycle Stage charts, Health by CSM, Average Health,
the CSM Workload's customers and Segment Performance's health figures read a few hundred rows of it
instead of every customer.

Table `cs_book_count` (setup/rollups.py). A key's figures are the sum of its rows. Writers only
ever insert rows: every writer of those Customer fields adds the difference it made, in its own
transaction (the health run's bulk copies of the scores, set-based writes of the CS Owner, tier or
stage: `recording`; a Customer saved, inserted or deleted: `customer_saved` / `customer_deleted`;
its first live document submitted or its last cancelled: `live_document_submitted` / `_cancelled`).
No shared row is updated, so the parallel chunks of a health run share no lock, and concurrent
writers commute (each difference is read from the rows it locked and wrote). `compact` folds the
rows into one per key, under a lock; `reconcile` (nightly, under the same lock) adds the difference
between a fresh count and the roll-up, read in one snapshot: idempotent, set-based, and it repairs
anything written past the writers (a SQL update, a restore), after setting `cs_live` afresh where it
is wrong (documents written past the hooks; an invoice of a customer submitted in the same instant
as its last live document is cancelled).

A figure is taken from the roll-up only when the user's own read of Customer is unrestricted
(`reads_every_customer`: no user permission, owner-only rule or query condition narrows it);
otherwise the caller counts live through frappe.get_list, as before.
"""

from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import frappe
from frappe.query_builder import Case
from frappe.query_builder.functions import Coalesce

from customer_success.constants import CHURNED

TABLE = "cs_book_count"
LOCK = "customer_success:book_count"
COLOURS = ("Green", "Yellow", "Red")
# the Customer fields of a key, in the table's column order
KEY_FIELDS = ("cs_owner", "cs_health_status", "cs_tier", "cs_lifecycle_stage", "cs_segment", "cs_live")
KEY_COLUMNS = ("csm", "health_status", "tier", "stage", "segment", "live")
FIGURES = ("customers", "coloured", "score_sum", "scored")
ZERO = (0, 0, Decimal(0), 0)


# --- the keys of customers as they stand ------------------------------------------------------


def _key_sql(field: str) -> str:
	return "coalesce(`cs_live`, 0)" if field == "cs_live" else f"coalesce(`{field}`, '')"


def key_of(row) -> tuple:
	"""A Customer's key (KEY_FIELDS, in their order) as the table holds it ('' for none; live 0 or 1).
	Field by field, not a loop over KEY_FIELDS: a night takes the key of thousands of Customers a
	chunk (`record_copies`)."""
	get = row.get
	return (
		get("cs_owner") or "",
		get("cs_health_status") or "",
		get("cs_tier") or "",
		get("cs_lifecycle_stage") or "",
		get("cs_segment") or "",
		int(get("cs_live") or 0),
	)


def _grouped_customers_sql(where: str = "", lock: bool = False) -> str:
	keys = ", ".join(_key_sql(field) for field in KEY_FIELDS)
	colours = ", ".join(f"'{colour}'" for colour in COLOURS)  # constants
	return f"""
		select {keys}, count(*),
			sum(`cs_health_status` in ({colours})),
			coalesce(sum(case when `cs_health_status` in ({colours}) then `cs_health_score` else 0 end), 0),
			sum(`cs_health_status` in ({colours}) and `cs_health_score` is not null)
		from `tabCustomer` {"force index (primary)" if where else ""}
		where `disabled` = 0 {where}
		group by {keys}
		{"for update" if lock else ""}
	"""


def _figures(rows) -> dict[tuple, tuple[int, int, Decimal, int]]:
	n = len(KEY_FIELDS)
	return {
		tuple(int(v) if i == n - 1 else v for i, v in enumerate(row[:n])): (
			int(row[n] or 0),
			int(row[n + 1] or 0),
			Decimal(str(row[n + 2] or 0)),
			int(row[n + 3] or 0),
		)
		for row in rows
	}


def customer_figures(names: list[str] | None = None, lock: bool = False) -> dict:
	"""{(csm, status, tier, stage, segment, live): (customers, coloured, score sum, scored)} of the
	active customers (of
	`names`, by exact key; `lock`: a locking read, held until the caller commits)."""
	if names is None:
		return _figures(frappe.db.sql(_grouped_customers_sql()))
	if not names:
		return {}
	return _figures(frappe.db.sql(_grouped_customers_sql("and `name` in %(names)s", lock), {"names": names}))


def differences(after: dict, before: dict) -> list[tuple]:
	"""[(*key, customers, coloured, score sum, scored)] that turn `before` into `after` (zeros left out)."""
	rows = []
	for key in after.keys() | before.keys():
		now, then = after.get(key, ZERO), before.get(key, ZERO)
		change = tuple(a - b for a, b in zip(now, then, strict=True))
		if any(change):
			rows.append((*key, *change))
	return rows


def add_rows(rows: list[tuple]):
	"""Insert differences (never an update of a shared row)."""
	if not rows:
		return
	columns = ", ".join(f"`{c}`" for c in (*KEY_COLUMNS, *FIGURES))
	row_sql = "(" + ", ".join(["%s"] * (len(KEY_COLUMNS) + len(FIGURES))) + ")"
	for start in range(0, len(rows), 1000):
		part = rows[start : start + 1000]
		frappe.db.sql(
			f"insert into `{TABLE}` ({columns}) values " + ", ".join([row_sql] * len(part)),
			[value for row in part for value in row],
		)


def available() -> bool:
	from customer_success.setup.rollups import existing_tables

	cached = getattr(frappe.local, "cs_book_count_table", None)
	if cached is None:
		cached = frappe.local.cs_book_count_table = TABLE in existing_tables()
	return cached


# --- the writers ------------------------------------------------------------------------------


@contextmanager
def recording(names: list[str]):
	"""Around a set-based write of these customers' CS Owner, disabled flag, health status or score,
	tier or stage: lock them, read their keys, let the write happen, read them again and insert the
	difference, all in the caller's transaction."""
	names = sorted(set(names or []))
	if not names or not available():
		yield
		return
	before = customer_figures(names, lock=True)
	yield
	add_rows(differences(customer_figures(names), before))


def record_copies(locked: dict[str, dict], copies: list[dict]):
	"""After a set-based copy of health fields onto Customers the caller's transaction holds locked:
	insert the difference it made, from the rows as the locking read returned them (`locked`: each
	with KEY_FIELDS, `disabled` and `cs_health_score`) and the values copied (`copies`: dicts of
	`customer` and the fields written). What `recording` finds by reading them twice, without the
	reads: nothing else can change them while they are locked."""
	if not available():
		return
	before, after = [], []
	for copy in copies:
		row = locked.get(copy["customer"])
		if row is None or _copy_changes_nothing(row, copy):
			# gone since it was read, or copied as it stood (most customers, most nights): no difference
			continue
		before.append(row)
		after.append({**row, **{field: value for field, value in copy.items() if field != "customer"}})
	add_rows(differences(rows_figures(after), rows_figures(before)))


def _copy_changes_nothing(row: dict, copy: dict) -> bool:
	"""The copied health fields are what the Customer held (the score as its decimal(21,9) column
	holds it): the copy moves no figure of the roll-up. Exactly: when in doubt, it is counted."""
	for field, value in copy.items():
		if field == "customer":
			continue
		held = row.get(field)
		if held == value:
			# the same text, or the same number (an int and a float equal as numbers are stored
			# alike): most customers, most nights; nothing to round
			continue
		if field == "cs_health_score":
			if (held is None) != (value is None) or (
				value is not None and stored_decimal(held) != stored_decimal(value)
			):
				return False
		elif held != value:
			return False
	return True


def rows_figures(rows: list[dict]) -> dict[tuple, tuple[int, int, Decimal, int]]:
	"""`customer_figures` of Customer rows in hand, counted as its query counts them (the score as
	the table's decimal(21,9) column holds it)."""
	figures: dict[tuple, tuple[int, int, Decimal, int]] = {}
	for row in rows:
		if row.get("disabled"):
			continue
		key = key_of(row)
		coloured = row.get("cs_health_status") in COLOURS
		score = stored_decimal(row.get("cs_health_score")) if coloured else Decimal(0)
		scored = coloured and row.get("cs_health_score") is not None
		customers, with_colour, total, with_score = figures.get(key, ZERO)
		figures[key] = (customers + 1, with_colour + int(coloured), total + score, with_score + int(scored))
	return figures


def stored_decimal(value) -> Decimal:
	"""A number as a decimal(21,9) column stores it (rounded half up to 9 places); None is 0. A float
	that is the nearest to a number of two places (a score; its shortest text then has at most two)
	is that number, made from its hundredths: a night makes thousands a chunk (`record_copies`)."""
	if value is None:
		return Decimal(0)
	if type(value) is float and -1e12 < value < 1e12:
		cents = round(value * 100)
		if cents / 100 == value:
			return Decimal(cents).scaleb(-2)
	return Decimal(str(value)).quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP)


def _one(doc) -> dict:
	if not doc or doc.get("disabled"):
		return {}
	status = doc.get("cs_health_status") or ""
	coloured = status in COLOURS
	score = Decimal(str(doc.get("cs_health_score") or 0)) if coloured else Decimal(0)
	return {key_of(doc): (1, int(coloured), score, int(coloured and doc.get("cs_health_score") is not None))}


def customer_saved(doc):
	"""Customer on_update (an insert too: it has no row before). The row before is the one frappe
	read `for update` for this save, so the difference is the one this save made. An insert has none,
	whatever `get_doc_before_save` says then: ERPNext's own on_update of a customer made with an email
	or phone (quick entry) writes its primary contact with `db_set`, which reads the new row in as the
	one "before", and the new customer was never counted."""
	if available():
		before = None if doc.flags.in_insert else doc.get_doc_before_save()
		add_rows(differences(_one(doc), _one(before)))


def customer_deleted(doc):
	"""Customer on_trash (a merge deletes the merged customer this way)."""
	if available():
		add_rows(differences({}, _one(doc)))


# --- live: a submitted Sales Invoice, Sales Order or Contract (`Customer.cs_live`) -------------


def live_criterion(customer):
	"""The customer has a submitted Sales Invoice, Sales Order or Contract (the "live" of the health
	score and of Segment Performance), as a condition on the Customer table."""
	from pypika.terms import ExistsCriterion

	order = frappe.qb.DocType("Sales Order")
	invoice = frappe.qb.DocType("Sales Invoice")
	contract = frappe.qb.DocType("Contract")
	return (
		ExistsCriterion(
			frappe.qb.from_(invoice)
			.select(invoice.name)
			.where((invoice.customer == customer.name) & (invoice.docstatus == 1))
		)
		| ExistsCriterion(
			frappe.qb.from_(order)
			.select(order.name)
			.where((order.customer == customer.name) & (order.docstatus == 1))
		)
		| ExistsCriterion(
			frappe.qb.from_(contract)
			.select(contract.name)
			.where(
				(contract.party_type == "Customer")
				& (contract.party_name == customer.name)
				& (contract.docstatus == 1)
			)
		)
	)


def customer_is_live(name: str) -> bool:
	"""`live_criterion` of one customer, as this transaction reads it."""
	customer = frappe.qb.DocType("Customer")
	return bool(
		frappe.qb.from_(customer)
		.select(customer.name)
		.where((customer.name == name) & live_criterion(customer))
		.run()
	)


def wrong_live_flags() -> list[tuple[str, int]]:
	"""[(customer, live now)] of the customers whose `cs_live` is not `live_criterion`: one scan."""
	customer = frappe.qb.DocType("Customer")
	live = Case().when(live_criterion(customer), 1).else_(0)
	return [
		(name, int(flag))
		for name, flag in frappe.qb.from_(customer)
		.select(customer.name, live)
		.where(Coalesce(customer.cs_live, 0) != live)
		.run()
	]


def live_document_submitted(customer: str | None):
	"""A Sales Invoice, Sales Order or Contract of the customer submitted: it is live. Its row is
	locked and read as committed (so two first documents submitted at once count it once)."""
	if not customer:
		return
	if frappe.db.get_value("Customer", customer, "cs_live", for_update=True) in (None, 1):
		return  # gone, or live already
	with recording([customer]):
		frappe.db.set_value("Customer", customer, "cs_live", 1, update_modified=False)


def live_document_cancelled(customer: str | None):
	"""One of its documents cancelled: live while any other is submitted."""
	if not customer:
		return
	if frappe.db.get_value("Customer", customer, "cs_live", for_update=True) != 1:
		return
	if customer_is_live(customer):
		return
	with recording([customer]):
		frappe.db.set_value("Customer", customer, "cs_live", 0, update_modified=False)


def correct_live_flags() -> int:
	"""`cs_live` set afresh where it is wrong (found by a plain read; the few found are written under
	`recording`, so the roll-up takes their difference). The reconciliation runs it first."""
	wrong = wrong_live_flags()
	for start in range(0, len(wrong), 1000):
		part = dict(wrong[start : start + 1000])
		for live in (0, 1):
			names = [name for name, flag in part.items() if flag == live]
			if names:
				with recording(names):
					frappe.db.sql(
						"update `tabCustomer` set `cs_live` = %s where `name` in %s", (live, tuple(names))
					)
	return len(wrong)


# --- reading ----------------------------------------------------------------------------------


def reads_every_customer(user: str | None = None) -> bool:
	"""Would frappe.get_list("Customer") add no condition for this user (no user permission, no
	owner-only rule, no permission query condition)? Then the roll-up's figures are hers."""
	return _customer_list_condition(user) == ""


def reads_her_book_only(user: str | None = None) -> bool:
	"""Is the one condition frappe adds to this user's Customer list the book's (a CSM who reads
	customers only through her role, `permissions.erp_book_query`)? Then the roll-up's figures of
	her book (the cards and charts ask for `book_of`'s) are what she may read."""
	from customer_success.permissions import erp_book_query

	condition = _customer_list_condition(user)
	return bool(condition) and condition == erp_book_query(user or frappe.session.user, "Customer")


def _customer_list_condition(user: str | None) -> str | None:
	"""The condition frappe adds to this user's Customer list; None when she may not list it."""
	from frappe.model.db_query import DatabaseQuery

	try:
		return DatabaseQuery("Customer", user=user).build_match_conditions()
	except frappe.PermissionError:
		frappe.clear_last_message()
		return None


def rolled_up(csm: str | None = None) -> dict:
	"""{key: (customers, coloured, score sum, scored)} from the roll-up (of `csm`'s book), keys with no
	customer left out."""
	where, values = ("where `csm` = %(csm)s", {"csm": csm}) if csm else ("", {})
	keys = ", ".join(f"`{c}`" for c in KEY_COLUMNS)
	sums = ", ".join(f"sum(`{c}`)" for c in FIGURES)
	having = " or ".join(f"sum(`{c}`) <> 0" for c in FIGURES)
	rows = frappe.db.sql(
		f"select {keys}, {sums} from `{TABLE}` {where} group by {keys} having {having}",
		values,
	)
	return _figures(rows)


# Below this many customers a live count answers as fast as the roll-up, and is exact whatever wrote
# the fields (a frappe.db.set_value, an SQL update, an import past the app's writers, which the
# roll-up only learns of at its next reconciliation): the roll-up is read for larger books only.
LIVE_BELOW = 20000


def large_book() -> bool:
	"""Does the site hold LIVE_BELOW customers or more (InnoDB's row estimate, kept 10 minutes)?"""
	rows = frappe.cache.get_value("cs_customer_rows_estimate")
	if rows is None:
		found = frappe.db.sql(
			"select `table_rows` from information_schema.tables where `table_schema` = %s and `table_name` = 'tabCustomer'",
			frappe.conf.db_name,
		)
		rows = int(found[0][0] or 0) if found else 0
		frappe.cache.set_value("cs_customer_rows_estimate", rows, expires_in_sec=600)
	return rows >= LIVE_BELOW


def readable() -> bool:
	"""Is the roll-up the one to read (it exists, and the book is large)?"""
	return available() and large_book()


def usable(user: str | None = None) -> bool:
	"""Whether the roll-up answers for this user: every customer, or exactly her book (the cards and
	charts then ask for her book's figures)."""
	return readable() and (reads_every_customer(user) or reads_her_book_only(user))


def totals_by(figures: dict, *positions: int) -> dict[tuple, list]:
	"""[customers, coloured, score sum, scored] summed per the key parts at `positions`."""
	out: dict[tuple, list] = {}
	for key, values in figures.items():
		part = tuple(key[i] for i in positions)
		sums = out.setdefault(part, list(ZERO))
		for i, value in enumerate(values):
			sums[i] += value
	return out


def not_churned(figures: dict) -> dict:
	"""The roll-up's keys of customers still in the book: a churned customer's health (the colour it
	left with) is no figure of the book's health (the health cards, the donut, the average)."""
	return {key: values for key, values in figures.items() if key[3] != CHURNED}


def status_counts(csm: str | None = None) -> dict[str, int]:
	"""{status: active customers not churned} (of `csm`'s book), statuses that are set."""
	return {
		status: sums[0]
		for (status,), sums in totals_by(not_churned(rolled_up(csm)), 1).items()
		if status and sums[0]
	}


def owner_status_counts() -> dict[str, dict[str, int]]:
	"""{csm (or ''): {status: active customers not churned}}, statuses that are set."""
	counts: dict[str, dict[str, int]] = {}
	for (csm, status), sums in totals_by(not_churned(rolled_up()), 0, 1).items():
		if status and sums[0]:
			counts.setdefault(csm, {})[status] = sums[0]
	return counts


def segment_counts(field: str, csm: str | None = None) -> dict[str, int]:
	"""{tier or stage: active customers} (of `csm`'s book), values that are set."""
	position = {"cs_tier": 2, "cs_lifecycle_stage": 3}[field]
	return {
		value: sums[0] for (value,), sums in totals_by(rolled_up(csm), position).items() if value and sums[0]
	}


def average_score(csm: str | None = None) -> tuple[float | None, int]:
	"""(average score, customers) of the active customers not churned with a colour (of `csm`'s book)."""
	coloured, total = 0, Decimal(0)
	for (_status,), sums in totals_by(not_churned(rolled_up(csm)), 1).items():
		coloured += sums[1]
		total += sums[2]
	return (float(total / coloured) if coloured else None), coloured


def status_figures(csm=None, tier=None, stage=None, status=None) -> dict[str, dict]:
	"""{status ('' for none): {"customers", "score_sum"}} of the active customers (enabled, not
	churned, unless the stage asked for is Churned) of a book, tier, lifecycle stage and status
	(each when given), as Customer Health's summary and chart count
	them (the score sum of the coloured statuses; none for the others, which it does not use)."""
	out: dict[str, dict] = {}
	for (_csm, key_status, key_tier, key_stage, *_rest), (customers, _c, score, _s) in rolled_up(csm).items():
		if (tier and key_tier != tier) or (stage and key_stage != stage) or (status and key_status != status):
			continue
		if key_stage == CHURNED and stage != CHURNED:  # no longer the book's (unless asked for)
			continue
		figures = out.setdefault(key_status, {"customers": 0, "score_sum": Decimal(0)})
		figures["customers"] += customers
		if key_status in COLOURS:
			figures["score_sum"] += score
	return {
		key: {"customers": figures["customers"], "score_sum": float(figures["score_sum"])}
		for key, figures in out.items()
		if figures["customers"]
	}


def group_figures(csm: str | None = None) -> list[dict]:
	"""Per tier and segment of `csm`'s book (None: everyone), Segment Performance's health figures
	(`segments.engine.GROUP_FIGURES`: customers, coloured, green, scored, score sum) of the customers
	it counts: enabled, not churned and live."""
	out: dict[tuple, dict] = {}
	for (_csm, status, tier, stage, segment, live), (customers, coloured, score, scored) in rolled_up(
		csm
	).items():
		if not live or stage == "Churned":
			continue
		group = out.setdefault(
			(tier, segment),
			{"customers": 0, "coloured": 0, "green": 0, "scored": 0, "score_sum": Decimal(0)},
		)
		group["customers"] += customers
		group["coloured"] += coloured
		group["green"] += coloured if status == "Green" else 0
		group["scored"] += scored
		group["score_sum"] += score
	return [
		{"tier": tier or None, "segment": segment or None, **{k: float(v) for k, v in figures.items()}}
		for (tier, segment), figures in out.items()
	]


def customers_per_owner() -> dict[str, tuple[int, int]]:
	"""{csm (or ''): (active customers, red ones)}: enabled, not churned."""
	counts: dict[str, list[int]] = {}
	for (csm, status), sums in totals_by(not_churned(rolled_up()), 0, 1).items():
		pair = counts.setdefault(csm, [0, 0])
		pair[0] += sums[0]
		if status == "Red":
			pair[1] += sums[0]
	return {csm: (n, red) for csm, (n, red) in counts.items() if n}


# --- upkeep -----------------------------------------------------------------------------------


def _lock_name() -> str:
	# user locks are server-wide: the database name keeps the sites of one server apart
	return f"{LOCK}:{frappe.conf.db_name}"


def take_lock() -> bool:
	return bool(frappe.db.sql("select get_lock(%s, 0)", _lock_name())[0][0])


def release_lock():
	frappe.db.sql("select release_lock(%s)", _lock_name())


def begin_read_committed():
	"""End the current transaction and start one under READ COMMITTED (the next one only)."""
	frappe.db.commit()  # nosemgrep: nothing of ours written yet
	frappe.db.sql("commit")
	frappe.db.sql("set transaction isolation level read committed")
	frappe.db.begin()


def compact(commit: bool = False) -> dict:
	"""Fold the rows into one per key (under the lock; a second run skips). Under READ COMMITTED
	the locking read holds only the rows folded (a writer's row not yet committed is waited for),
	so writers inserting meanwhile are never blocked."""
	if not available() or not take_lock():
		return {"skipped": True}
	try:
		if commit:
			begin_read_committed()
		last = frappe.db.sql(f"select max(`id`) from `{TABLE}`")[0][0]
		if not last:
			return {"rows": 0}
		keys = ", ".join(f"`{c}`" for c in KEY_COLUMNS)
		figures = ", ".join(f"`{c}`" for c in FIGURES)
		rows = frappe.db.sql(
			f"""select {keys}, {figures} from `{TABLE}`
			where `id` <= %s for update""",
			last,
		)
		folded = _fold(rows)
		frappe.db.sql(f"delete from `{TABLE}` where `id` <= %s", last)
		kept = [(*key, *sums) for key, sums in folded.items() if any(sums)]
		add_rows(kept)
		if commit:
			frappe.db.commit()  # nosemgrep: the fold is one unit of work
		return {"rows": len(rows), "keys": len(kept)}
	finally:
		release_lock()


def _fold(rows) -> dict[tuple, tuple]:
	out: dict[tuple, list] = {}
	n = len(KEY_COLUMNS)
	for row in rows:
		sums = out.setdefault(tuple(row[:n]), list(ZERO))
		sums[0] += int(row[n])
		sums[1] += int(row[n + 1])
		sums[2] += Decimal(str(row[n + 2]))
		sums[3] += int(row[n + 3])
	return {key: tuple(sums) for key, sums in out.items()}


def reconcile(commit: bool = False) -> dict:
	"""Make the roll-up equal a fresh count: both read in one snapshot, only their differences
	inserted, then folded. Idempotent (a second run adds nothing); a write committed meanwhile is
	not in the snapshot, and its own difference is added, never overwritten. Under the lock."""
	if not available() or not take_lock():
		return {"skipped": True}
	try:
		live_corrected = correct_live_flags()
		if commit:
			frappe.db.commit()  # nosemgrep: a fresh snapshot for the two reads below
		truth = customer_figures()
		rows = differences(truth, rolled_up())
		add_rows(rows)
		if commit:
			frappe.db.commit()  # nosemgrep: the correction is one unit of work
	finally:
		release_lock()
	return {
		"keys": len(truth),
		"corrected": len(rows),
		"live_corrected": live_corrected,
		"compacted": compact(commit=commit),
	}


# --- jobs (thin) ------------------------------------------------------------------------------

UPKEEP_JOB = "customer_success.customer_success.book_counts.upkeep"


def queue_upkeep(**kwargs):
	"""After a health run, at 02:30 and after migrate: `upkeep` on the long queue, one at a time."""
	frappe.enqueue(
		UPKEEP_JOB, queue="long", job_id=UPKEEP_JOB, deduplicate=True, enqueue_after_commit=True, timeout=3600
	)


def upkeep():
	"""Reconcile with a fresh count, then fold (the nightly job, and after a health run)."""
	return reconcile(commit=True)


def queue_compact():
	"""Hourly: fold the rows the day's writers added."""
	frappe.enqueue(
		"customer_success.customer_success.book_counts.compact",
		queue="long",
		job_id="customer_success.customer_success.book_counts.compact",
		deduplicate=True,
		commit=True,
	)
