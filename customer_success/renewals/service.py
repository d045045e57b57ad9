"""Renewals: the nightly pass (ERPNext contracts -> queries -> engine -> renewal records), the
checkpoints' ToDos and signals, and the outcomes (renewed, churned) the form, the job and the API
share.

Nightly, under one lock:
0. open renewals whose contract was cancelled close as Cancelled (the Contract hook does it at
   once; the pass catches any it missed);
1. a Renewal for every submitted customer contract ending within the window (settings) that has
   none for that term (contract + end date, a unique key), with its two checkpoints;
2. open renewals whose contract was already renewed (a newer contract of the customer starting
   on or after the end date) close themselves as Renewed;
1b. a Renewal for every live customer Subscription whose term (its End Date, or a yearly
   subscription's current billing period) ends within the window, keyed by subscription + term end;
2b. open subscription renewals close as Renewed (rolled over, extended, or replaced by a newer
   subscription) or Churned (cancelled) (the Subscription hook does it at once);
2c. renewals closed as Renewed at an Unknown worth take it once the new term's invoices show it
   (a Sales Invoice's hook does it at once);
3. each checkpoint that falls due gets its signal (health on that date) and a ToDo for the CSM;
4. every open renewal takes its customer's CSM and current health (one UPDATE).
A contract or checkpoint whose data breaks goes to the Error Log; the rest go on.
"""

from collections import defaultdict
from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, cint, escape_html, flt, getdate, nowdate

from customer_success.renewals import engine, queries
from customer_success.utils import (
	date_argument,
	in_language,
	language_of,
	refresh_assignments,
	term_in,
	todo_references,
)

RENEWAL = "Renewal"
LOCK = "customer_success:renewals"
DEFAULT_WINDOW_DAYS = 180
DEFAULT_NOTICE_DAYS = 30


def window_days() -> int:
	return cint(frappe.db.get_single_value("Customer Success Settings", "renewal_record_days")) or (
		DEFAULT_WINDOW_DAYS
	)


def notice_warning_days() -> int:
	return cint(frappe.db.get_single_value("Customer Success Settings", "auto_renewal_notice_days")) or (
		DEFAULT_NOTICE_DAYS
	)


def todos_enabled() -> bool:
	return bool(cint(frappe.db.get_single_value("Customer Success Settings", "create_todos")))


def company_currency() -> str | None:
	"""The currency renewals are worth in (`health.queries.reporting_currency`)."""
	from customer_success.health.queries import reporting_currency

	return reporting_currency()


# --- the nightly pass ---------------------------------------------------------------------------


def run_nightly(today: date | None = None, commit: bool = True) -> dict:
	"""The whole pass; a second start while one runs does nothing (a MariaDB user lock). Each item
	is committed on its own in the job (`commit`); tests run it inside their transaction."""
	from customer_success.health.service import release_lock, take_lock

	today = getdate(today or nowdate())
	if not take_lock(LOCK, 0):
		return {"skipped": True}
	try:
		result = {
			"cancelled": close_cancelled(commit=commit),
			"created": create_renewals(today, commit=commit)
			+ create_subscription_renewals(today, commit=commit),
			"renewed": close_renewed(commit=commit),
		}
		result["subscriptions"] = close_subscription_renewals(today, commit=commit)
		result["promoted"] = promote_unknown(today, commit=commit)
		result["checkpoints"] = raise_due_checkpoints(today, commit=commit)
		queries.refresh_open_renewals()
		if commit:
			frappe.db.commit()  # nosemgrep: the signals refreshed
		return result
	finally:
		release_lock(LOCK)


def isolated(work, error_title: str, reference_doctype: str, commit: bool, reference_name=None) -> bool:
	"""Run one item's work; a failure is logged (Error Log, naming the record it is about, so it opens
	from the log) and undone, and the batch goes on."""
	frappe.db.savepoint("cs_renewal_item")
	try:
		work()
	except Exception:
		frappe.db.rollback(save_point="cs_renewal_item")
		frappe.log_error(
			title=error_title, reference_doctype=reference_doctype, reference_name=reference_name
		)
		return False
	if commit:
		frappe.db.commit()  # nosemgrep: each item stands on its own in the nightly job
	return True


def create_renewals(today: date, contracts: list[str] | None = None, commit: bool = False) -> list[str]:
	"""A renewal for each contract ending within the window that has none for its term yet."""
	ending = queries.contracts_ending(today, add_days(today, window_days()), contracts)
	if not ending:
		return []
	worth = contract_worth(ending, today)
	facts = queries.customer_facts(sorted({c.customer for c in ending}))
	currency = company_currency()
	created = []
	for contract in ending:
		isolated(
			lambda c=contract: created.append(
				insert_renewal(c, worth[c.name], facts.get(c.customer), currency)
			),
			_("Renewal for contract {0} failed").format(contract.name),
			"Contract",
			commit,
			contract.name,
		)
	return created


def contract_worth(contracts: list[dict], today: date) -> dict[str, tuple[float, str]]:
	"""{contract: (annualised revenue at stake, basis described)} for many contracts, set-based."""
	return {c.name: (amount, describe_basis(basis, c)) for c, (amount, basis) in _worth(contracts, today)}


def _worth(contracts: list[dict], today: date):
	"""(contract, (annualised amount, the engine's basis code)) for each contract."""
	documents = queries.document_totals(contracts)
	invoiced = queries.invoiced_in_windows(contracts, today)
	for c in contracts:
		yield (
			c,
			engine.revenue_at_stake(
				documents.get(c.name), c.start_date, c.end_date, invoiced.get(c.name), today
			),
		)


def describe_basis(basis: str, contract: dict) -> str:
	if basis == "document":
		said = _("{0} {1}, annualised over the contract's term")
		document_type = term_in(said, "{0} {1}, annualised over the contract's term", contract.document_type)
		return said.format(document_type, contract.document_name)
	if basis == "invoices":
		return _("The contract's own invoices of its last twelve months (to date)")
	return _("No order or invoice found")


def open_without_outcome(doc):
	"""Open, with no outcome: a renewal being made, or opening again."""
	for fieldname in engine.OUTCOME_FIELDS:
		doc.set(fieldname, 0 if fieldname == "auto_closed" else None)
	doc.status = engine.OPEN


def prepare_new_renewal(doc):
	"""A new renewal (the nightly pass's or one made by hand): Open with no outcome, the standard
	checkpoints (a call given for one of them is kept, recorded by whoever saves it), and, unless the
	nightly pass worked it out for many at once (`flags.worth_given`), its worth from its source as
	the nightly pass works it out, in the company's currency."""
	open_without_outcome(doc)
	given = {}
	for row in doc.get("checkpoints") or []:
		if row.get("call") and row.get("checkpoint") not in given:
			given[row.get("checkpoint")] = {f: row.get(f) for f in ("call", "expected_amount", "note")}
	doc.set("checkpoints", [])
	for label, due in engine.checkpoint_dates(getdate(doc.end_date)):
		doc.append("checkpoints", {"checkpoint": label, "due_date": due, **given.get(label, {})})
	if doc.flags.worth_given:
		return
	today = getdate(nowdate())
	if doc.source_type == engine.SUBSCRIPTION:
		amount, basis = queries.subscription_worth([subscription_term(doc.subscription)], today)[
			doc.subscription
		]
		basis = describe_subscription_basis(basis, doc.subscription)
	else:
		amount, basis = contract_worth(queries.contract_rows([doc.contract]), today)[doc.contract]
	doc.revenue_at_stake, doc.revenue_basis, doc.currency = amount, basis, company_currency()


def call_changed(row, old) -> bool:
	"""A checkpoint's call, expected amount or note is not what was recorded."""
	return bool(row.call) and (
		row.call != old.get("call")
		or flt(row.expected_amount) != flt(old.get("expected_amount"))
		or (row.note or "") != (old.get("note") or "")
	)


def insert_renewal(contract: dict, worth: tuple[float, str], customer: dict | None, currency) -> str:
	amount, basis = worth
	doc = frappe.get_doc(
		{
			"doctype": RENEWAL,
			"contract": contract.name,
			"customer": contract.customer,
			"end_date": contract.end_date,
			"contract_start": contract.start_date,
			"revenue_at_stake": amount,
			"revenue_basis": basis,
			"currency": currency,
			"csm": (customer or {}).get("cs_owner"),
			"checkpoints": [
				{"checkpoint": label, "due_date": due, "currency": currency}
				for label, due in engine.checkpoint_dates(getdate(contract.end_date))
			],
		}
	)
	doc.flags.ignore_permissions = True
	doc.flags.worth_given = True
	doc.insert()
	return doc.name


def close_renewed(renewals: list[str] | None = None, commit: bool = False) -> list[str]:
	"""Open renewals whose contract was renewed by a newer contract close themselves as Renewed."""
	closed = []

	def close_one(name, newer):
		mark_renewed(frappe.get_doc(RENEWAL, name), contract=newer["name"], auto=True)
		closed.append(name)

	for name, newer in queries.newer_contracts(renewals).items():
		isolated(
			lambda n=name, c=newer: close_one(n, c),
			_("Closing renewal {0} failed").format(name),
			RENEWAL,
			commit,
			name,
		)
	return closed


def close_cancelled(contracts: list[str] | None = None, commit: bool = False) -> list[str]:
	"""Open renewals whose contract was cancelled close as Cancelled (their ToDos too): a cancelled
	term has nothing to renew, and its amendment gets a renewal of its own from the nightly pass."""
	closed = []

	def close_one(name):
		close(frappe.get_doc(RENEWAL, name), engine.CANCELLED, auto=True)
		closed.append(name)

	for name in queries.open_renewals_of_cancelled_contracts(contracts):
		isolated(
			lambda n=name: close_one(n), _("Closing renewal {0} failed").format(name), RENEWAL, commit, name
		)
	return closed


# --- subscriptions ----------------------------------------------------------------------------


def create_subscription_renewals(
	today: date, subscriptions: list[str] | None = None, commit: bool = False
) -> list[str]:
	"""A renewal for each live customer subscription whose term ends within the window and has none
	for that term yet (`engine.subscription_term_end`: its End Date, or the current yearly billing
	period's end for one with no End Date)."""
	ending = queries.subscriptions_ending(today, add_days(today, window_days()), subscriptions)
	if not ending:
		return []
	worth = queries.subscription_worth(ending, today)
	facts = queries.customer_facts(sorted({s.customer for s in ending}))
	currency = company_currency()
	created = []
	for sub in ending:
		isolated(
			lambda s=sub: created.append(
				insert_subscription_renewal(s, worth[s.name], facts.get(s.customer), currency)
			),
			_("Renewal for subscription {0} failed").format(sub.name),
			"Subscription",
			commit,
			sub.name,
		)
	return created


def describe_subscription_basis(basis: str, subscription: str) -> str:
	if basis == "invoices":
		return _("Subscription {0}'s invoices of its last twelve months, over the days they bill").format(
			subscription
		)
	if basis == "plans":
		return _("Subscription {0}'s plans, a year's worth").format(subscription)
	return _("No invoice or plan price found")


def insert_subscription_renewal(sub: dict, worth: tuple[float, str], customer: dict | None, currency) -> str:
	amount, basis = worth
	doc = frappe.get_doc(
		{
			"doctype": RENEWAL,
			"source_type": engine.SUBSCRIPTION,
			"subscription": sub.name,
			"customer": sub.customer,
			"end_date": sub.term_end,
			"contract_start": sub.term_start,
			"revenue_at_stake": amount,
			"revenue_basis": describe_subscription_basis(basis, sub.name),
			"currency": currency,
			"csm": (customer or {}).get("cs_owner"),
			"checkpoints": [
				{"checkpoint": label, "due_date": due, "currency": currency}
				for label, due in engine.checkpoint_dates(getdate(sub.term_end))
			],
		}
	)
	doc.flags.ignore_permissions = True
	doc.flags.worth_given = True
	doc.insert()
	return doc.name


def subscription_term(subscription: str) -> dict | None:
	"""The subscription's customer, status and current renewal term (the Renewal form's source)."""
	rows = queries.subscription_rows([subscription])
	return rows[0] if rows else None


def close_subscription_renewals(
	today: date | None = None,
	renewals: list[str] | None = None,
	subscriptions: list[str] | None = None,
	commit: bool = False,
	customers: list[str] | None = None,
) -> dict[str, list[str]]:
	"""Open subscription renewals close from what became of their subscription
	(`engine.subscription_outcome`): Renewed when it runs on past the term (End Date extended, or its
	yearly period rolled over) or a newer subscription of the customer took over; Churned when it was
	cancelled."""
	today = getdate(today or nowdate())
	closed = {"renewed": [], "churned": []}

	def close_one(row, outcome):
		doc = frappe.get_doc(RENEWAL, row.renewal)
		if outcome == engine.RENEWED:
			mark_renewed(doc, subscription=row.newer or row.subscription, auto=True)
			closed["renewed"].append(row.renewal)
		else:
			churn_cancelled_subscription(doc, row, today)
			closed["churned"].append(row.renewal)

	for row in queries.open_subscription_renewals(renewals, subscriptions, customers):
		outcome = engine.subscription_outcome(
			getdate(row.renewal_end),
			row.status,
			row.end_date and getdate(row.end_date),
			row.current_invoice_end and getdate(row.current_invoice_end),
			bool(row.newer),
		)
		if outcome:
			isolated(
				lambda r=row, o=outcome: close_one(r, o),
				_("Closing renewal {0} failed").format(row.renewal),
				RENEWAL,
				commit,
				row.renewal,
			)
	return closed


def churn_cancelled_subscription(doc, row, today: date):
	"""A cancelled subscription's open renewal: Churned on its cancellation date (reason Other, the
	CSM's note can tell more); the customer's lifecycle stage becomes Churned only when nothing else
	of theirs runs (another live subscription, a contract running on)."""
	cancelled_on = min(getdate(row.cancelation_date or today), today)
	mark_churned(
		doc,
		"Other",
		_("Subscription {0} was cancelled on {1}.").format(
			row.subscription, frappe.format(cancelled_on, "Date")
		),
		cancelled_on,
		auto=True,
		churn_customer=not queries.customer_has_running_terms(doc.customer, today, row.subscription),
	)


def on_subscription_update(customer: str):
	"""A customer's subscription saved (the Subscription hook): the customer's open subscription
	renewals close at once when theirs was cancelled or rolled over, or this one is the new
	subscription that renews one. One indexed read when the customer has none open."""
	if frappe.db.exists(
		RENEWAL, {"customer": customer, "status": engine.OPEN, "source_type": engine.SUBSCRIPTION}
	):
		close_subscription_renewals(customers=[customer])


# --- renewed, worth not known yet (Unknown) --------------------------------------------------------


def new_term_worth(items: list[dict], today: date) -> dict[str, float | None]:
	"""{key: the new term's annualised worth, or None while not known} for renewals' new terms
	(`items`: key, contract, order, subscription, since = the old term's end). The order's net total;
	else the new contract's order or invoice (annualised over its term), else its own invoices
	(`engine.new_term_revenue`: never a first monthly bill read as a year); else the subscription's
	invoices posted after the old term's end, or its plans. The form's Mark Renewed, the nightly
	pass and an invoice's submission all read it here."""
	worth: dict[str, float | None] = {item["key"]: None for item in items}
	orders = [i for i in items if i.get("order")]
	totals = queries.document_totals(
		[{"name": i["key"], "document_type": "Sales Order", "document_name": i["order"]} for i in orders]
	)
	for item in orders:
		if item["key"] in totals:
			worth[item["key"]] = float(totals[item["key"]] or 0)
	pending = [i for i in items if worth[i["key"]] is None]
	contracts = {i["contract"] for i in pending if i.get("contract")}
	if contracts:
		rows = {c.name: c for c in queries.contract_rows(sorted(contracts))}
		documents = queries.document_totals(list(rows.values()))
		invoices = queries.contract_term_invoices(list(rows.values()))
		for item in pending:
			c = rows.get(item.get("contract"))
			if not c:
				continue
			days = engine.term_days(c.start_date, c.end_date)
			if documents.get(c.name) and days:
				worth[item["key"]] = engine.annualise(documents[c.name], days)
			else:
				worth[item["key"]] = engine.new_term_revenue(
					c.start_date and getdate(c.start_date),
					c.end_date and getdate(c.end_date),
					today,
					invoices.get(c.name, []),
				)
	pending = [
		i for i in items if worth[i["key"]] is None and i.get("subscription") and not i.get("contract")
	]
	if pending:
		subs = queries.subscription_rows(sorted({i["subscription"] for i in pending}))
		since = {i["subscription"]: getdate(i["since"]) for i in pending if i.get("since")}
		found = queries.subscription_worth(subs, today, since)
		for item in pending:
			amount, basis = found.get(item["subscription"], (0.0, "none"))
			worth[item["key"]] = amount if basis != "none" else None
	return worth


def promote_unknown(
	today: date | None = None,
	renewals: list[str] | None = None,
	customers: list[str] | None = None,
	commit: bool = False,
) -> list[str]:
	"""Renewals closed as Renewed while the new term's worth was Unknown take it once the new term's
	invoices (or order) show it: the renewed amount, and the expansion or contraction against the
	revenue at stake. Set-based over all of them; those still unknown stay Unknown (idempotent)."""
	today = getdate(today or nowdate())
	rows = queries.unknown_renewals(renewals, customers)
	if not rows:
		return []
	worth = new_term_worth([renewal_item(row) for row in rows], today)
	promoted = []

	def promote_one(name, amount):
		doc = frappe.get_doc(RENEWAL, name)
		if doc.status != engine.RENEWED or doc.change_type != engine.UNKNOWN:
			return
		doc.renewed_amount = flt(amount)
		doc.change_amount, doc.change_type = engine.renewal_change(doc.revenue_at_stake, doc.renewed_amount)
		doc.flags.outcome_action = True
		doc.save(ignore_permissions=True)
		promoted.append(name)

	for row in rows:
		if worth.get(row.name) is not None:
			isolated(
				lambda n=row.name, a=worth[row.name]: promote_one(n, a),
				_("Updating renewal {0} failed").format(row.name),
				RENEWAL,
				commit,
				row.name,
			)
	return promoted


def renewal_item(row) -> dict:
	"""What renewed a renewal, as `new_term_worth` reads it: the new contract, order or subscription
	(a subscription renewal with none of them was renewed by its own subscription running on)."""
	subscription = row.get("renewed_subscription")
	if not subscription and row.get("source_type") == engine.SUBSCRIPTION and not row.get("renewed_contract"):
		subscription = row.get("subscription")
	return {
		"key": row.get("name") or "renewal",
		"contract": row.get("renewed_contract"),
		"order": row.get("renewed_order"),
		"subscription": subscription,
		"since": row.get("end_date") if subscription == row.get("subscription") else None,
	}


def on_invoice_submit(customer: str):
	"""A Sales Invoice submitted (its hook): the customer's renewals renewed at an Unknown worth take
	it when this invoice shows the new term's. One indexed read when the customer has none."""
	if frappe.db.exists(
		RENEWAL, {"customer": customer, "status": engine.RENEWED, "change_type": engine.UNKNOWN}
	):
		promote_unknown(customers=[customer])


def on_contract_cancel(contract: str):
	"""A contract cancelled (the Contract hook): its open renewal closes as Cancelled at once, and a
	renewal it renewed opens again (`reopen_renewed_by`)."""
	close_cancelled([contract])
	reopen_renewed_by("renewed_contract", contract, _("Contract"))


def on_contract_submit(contract):
	"""A contract submitted (its hook): an amendment takes the renewal its cancelled original had
	(`follow_amendment`); a failure is logged and never stops the submit."""
	if contract.amended_from and contract.party_type == "Customer":
		isolated(
			lambda: follow_amendment(contract),
			_("Moving the renewal of {0} to its amendment failed").format(contract.amended_from),
			"Contract",
			False,
			contract.name,
		)


def follow_amendment(contract) -> str | None:
	"""A contract cancelled and amended (to mend a typo, say): the renewal the cancel closed follows
	the amendment, as a handoff follows an amended Sales Order: Open again, the CSM's calls, amounts
	and notes kept, its term (end, start, key) and worth the amendment's, its checkpoints dated from
	the amendment's end, and the ToDos of those still to call open again. A renewal the CSM closed
	herself stays as it is (the nightly pass makes the amendment one of its own), as does one of
	another customer's, or where the amendment's term has a renewal already."""
	doc_name = frappe.db.get_value(
		RENEWAL,
		{"contract": contract.amended_from, "status": engine.CANCELLED, "auto_closed": 1},
		"name",
		order_by="creation desc",
	)
	if not doc_name or not contract.end_date:
		return None
	doc = frappe.get_doc(RENEWAL, doc_name)
	term_key = f"{contract.name}|{getdate(contract.end_date)}"
	if doc.customer != contract.party_name or frappe.db.exists(RENEWAL, {"term_key": term_key}):
		return None
	amount, basis = contract_worth(queries.contract_rows([contract.name]), getdate(nowdate()))[contract.name]
	# the term moves as the app's own write (a save keeps a renewal's term, and its contract is set
	# once): then the renewal opens again by a save, which keeps the moved term
	frappe.db.set_value(
		RENEWAL,
		doc.name,
		{
			"contract": contract.name,
			"end_date": getdate(contract.end_date),
			"contract_start": contract.start_date,
			"term_key": term_key,
			"revenue_at_stake": amount,
			"revenue_basis": basis,
		},
		update_modified=False,
	)
	due = dict(engine.checkpoint_dates(getdate(contract.end_date)))
	for row in doc.checkpoints:
		if row.checkpoint in due:
			frappe.db.set_value("Renewal Checkpoint", row.name, "due_date", due[row.checkpoint])
	doc = frappe.get_doc(RENEWAL, doc.name)
	open_without_outcome(doc)
	doc.flags.outcome_action = True
	doc.save(ignore_permissions=True)
	todo = frappe.qb.DocType("ToDo")
	for row in doc.checkpoints:
		if row.todo and not row.call:
			frappe.qb.update(todo).set(todo.status, "Open").set(todo.date, row.due_date).where(
				todo.name == row.todo
			).run()
	refresh_assignments([(RENEWAL, doc.name)])
	doc.add_comment(
		"Info",
		_("Contract {0} was amended as {1}: this renewal follows it, with its calls.").format(
			contract.amended_from, contract.name
		),
	)
	return doc.name


def on_order_cancel(order: str):
	"""A Sales Order cancelled (its hook): a renewal it renewed opens again."""
	reopen_renewed_by("renewed_order", order, _("Sales Order"))


def reopen_renewed_by(field: str, name: str, label: str) -> list[str]:
	"""Renewals closed as Renewed by a contract or order now cancelled are open again, without their
	outcome: the deal that renewed them is gone, and the forecast, the cards and the expansion figures
	counted it. The nightly pass closes one again when a newer contract renews it (the amendment)."""
	reopened = []

	def reopen_one(renewal: str):
		doc = frappe.get_doc(RENEWAL, renewal)
		open_without_outcome(doc)
		doc.flags.outcome_action = True
		doc.save(ignore_permissions=True)
		doc.add_comment(
			"Info",
			_("{0} {1}, which renewed it, was cancelled: this renewal is open again.").format(label, name),
		)
		reopened.append(renewal)

	for renewal in frappe.get_all(RENEWAL, filters={field: name, "status": engine.RENEWED}, pluck="name"):
		isolated(
			lambda r=renewal: reopen_one(r),
			_("Reopening renewal {0} failed").format(renewal),
			RENEWAL,
			False,
			renewal,
		)
	return reopened


def raise_due_checkpoints(today: date, commit: bool = False) -> int:
	"""Each checkpoint that fell due: its health signal on its date, and a dated ToDo for the CSM (one
	raised while the renewal had no CSM gets it once it has: `give_checkpoints_to_new_csms`)."""
	due = queries.due_checkpoints(today)
	raised = 0
	if due:
		history = queries.health_history(
			sorted({row.customer for row in due}), add_days(min(row.due_date for row in due), -400), today
		)
		with_todos = todos_enabled()

		def raise_one(row):
			values = signal_values(history.get(row.customer, []), row.due_date, today)
			if with_todos and row.csm:
				values["todo"] = make_checkpoint_todo(row)
			frappe.db.set_value("Renewal Checkpoint", row.name, values, update_modified=False)

		raised = each_checkpoint(due, raise_one, commit)
	give_checkpoints_to_new_csms(today, commit)
	return raised


def give_checkpoints_to_new_csms(today: date, commit: bool = False) -> int:
	"""Checkpoints raised while their renewal had no CSM (their signal taken, no ToDo for anyone)
	and not answered: once the customer has a CSM, each becomes her ToDo, as it would have been."""
	if not todos_enabled():
		return 0
	waiting = queries.due_checkpoints(today, without_csm_then=True)

	def give(row):
		frappe.db.set_value(
			"Renewal Checkpoint", row.name, "todo", make_checkpoint_todo(row), update_modified=False
		)

	return each_checkpoint(waiting, give, commit)


def take_up_unowned_renewals(customer: str, csm: str) -> dict[str, int]:
	"""A customer given its first CSM: its open renewals made while it had none become hers at once
	(not at the next night's refresh), and their checkpoints raised meanwhile (a signal taken, no
	ToDo for anyone, no call) become her ToDos, as `give_checkpoints_to_new_csms` would make them."""
	renewal = frappe.qb.DocType(RENEWAL)
	names = (
		frappe.qb.from_(renewal)
		.select(renewal.name)
		.where(
			(renewal.customer == customer)
			& (renewal.status == engine.OPEN)
			& (renewal.csm.isnull() | (renewal.csm == ""))
		)
		.run(pluck=True)
	)
	if not names:
		return {}
	frappe.qb.update(renewal).set(renewal.csm, csm).where(renewal.name.isin(names)).run()
	given = 0
	if todos_enabled():
		for row in queries.due_checkpoints(getdate(nowdate()), without_csm_then=True, customer_name=customer):
			frappe.db.set_value(
				"Renewal Checkpoint", row.name, "todo", make_checkpoint_todo(row), update_modified=False
			)
			given += 1
	return {"renewals": len(names), "renewal checkpoints": given}


def each_checkpoint(rows, work, commit: bool) -> int:
	"""`work(row)` for each checkpoint row, each isolated (a failure logged against its renewal, the
	rest go on); how many succeeded."""
	return sum(
		isolated(
			lambda r=row: work(r),
			_("Renewal checkpoint of {0} failed").format(row.parent),
			RENEWAL,
			commit,
			row.parent,
		)
		for row in rows
	)


def signal_values(history: list[dict], day, today: date | None = None) -> dict:
	"""The checkpoint's signal: health on its date; for a checkpoint raised after its date with no
	score that old (a renewal made late), the latest score known when it is raised. `signal_on` is
	the score's own date, so the reader sees which."""
	signal = engine.signal_at(history, getdate(day)) or engine.signal_at(history, getdate(today or nowdate()))
	if not signal:
		return {"signal_on": getdate(day)}
	return {
		"signal_status": signal.get("status"),
		"signal_score": signal.get("score"),
		"signal_trend": signal.get("trend"),
		"signal_on": signal.get("score_date"),
	}


def make_checkpoint_todo(row) -> str:
	"""The CSM's ToDo for a checkpoint, in her language (else the site's): the nightly job that makes
	most of them runs in English."""
	with in_language(language_of(row.csm)):
		if row.contract:
			description = _(
				"Renewal checkpoint ({0} before the end): {1}'s contract {2} ends on {3}. Record your call (Will Renew, At Risk or Will Churn) on renewal {4}."
			).format(
				_(row.checkpoint),
				row.customer_name or row.customer,
				row.contract,
				frappe.format(row.end_date, "Date"),
				row.parent,
			)
		else:  # a subscription's renewal: no contract to name
			description = _(
				"Renewal checkpoint ({0} before the end): {1}'s term ends on {2}. Record your call (Will Renew, At Risk or Will Churn) on renewal {3}."
			).format(
				_(row.checkpoint),
				row.customer_name or row.customer,
				frappe.format(row.end_date, "Date"),
				row.parent,
			)
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			"allocated_to": row.csm,
			"reference_type": RENEWAL,
			"reference_name": row.parent,
			"date": row.due_date,
			"priority": "High",
			"status": "Open",
			"description": description,
		}
	).insert(ignore_permissions=True)
	return todo.name


def close_todos(names: list[str]):
	names = [name for name in names if name]
	if not names:
		return
	todo = frappe.qb.DocType("ToDo")
	frappe.qb.update(todo).set(todo.status, "Closed").where(
		todo.name.isin(names) & (todo.status == "Open")
	).run()
	refresh_assignments(todo_references(names))


def close_all_todos(renewal: str):
	todo = frappe.qb.DocType("ToDo")
	frappe.qb.update(todo).set(todo.status, "Cancelled").where(
		(todo.reference_type == RENEWAL) & (todo.reference_name == renewal) & (todo.status == "Open")
	).run()
	refresh_assignments([(RENEWAL, renewal)])


# --- the CSM's calls and the outcomes ------------------------------------------------------------


def record_checkpoint(doc, checkpoint: str, call: str, expected_amount=None, note: str | None = None):
	"""Record the CSM's call on one checkpoint row (the form's grid does the same on save)."""
	if call not in engine.CALLS:
		frappe.throw(
			_("CSM's Call must be one of {0}.").format(", ".join(_(c) for c in engine.CALLS)),
			title=_("Invalid Call"),
		)
	row = next((r for r in doc.checkpoints if r.name == checkpoint or r.checkpoint == checkpoint), None)
	if not row:
		frappe.throw(_("Renewal {0} has no checkpoint {1}.").format(doc.name, escape_html(str(checkpoint))))
	row.call = call
	# as sent: the save's number check refuses text that is no number (flt would store it as 0)
	row.expected_amount = expected_amount if expected_amount not in (None, "") else row.expected_amount
	row.note = note if note is not None else row.note
	doc.save()
	return doc


def check_open(doc):
	if doc.status != engine.OPEN:
		frappe.throw(
			_("Renewal {0} is already {1}.").format(doc.name, _(doc.status)), title=_("Already Closed")
		)


def mark_renewed(
	doc,
	contract: str | None = None,
	order: str | None = None,
	amount=None,
	auto=False,
	subscription: str | None = None,
):
	"""Close as Renewed, linked to the new contract, order or subscription (a subscription renewal: its
	own subscription when it ran on); the renewed amount (annualised, the new term's worth unless
	given) against the revenue at stake gives the change, Unknown while the new term shows none."""
	check_open(doc)
	if not contract and not order and not subscription:
		frappe.throw(
			_("Link the new Contract, Sales Order or Subscription that renewed {0}.").format(doc.name)
		)
	if contract:
		contract_row = frappe.db.get_value(
			"Contract",
			contract,
			["party_type", "party_name", "docstatus", "start_date", "end_date"],
			as_dict=True,
		)
		if (
			not contract_row
			or contract_row.docstatus != 1
			or contract_row.party_type != "Customer"  # a supplier may bear the customer's name
			or contract_row.party_name != doc.customer
		):
			frappe.throw(
				_("Renewed by Contract must be a submitted contract of {0}.").format(doc.customer),
				title=_("Invalid Contract"),
			)
		if contract == doc.contract:
			frappe.throw(_("A contract cannot renew itself: link the new contract."))
		check_later_term(doc, contract_row.start_date, contract_row.end_date, _("Contract"), contract)
	if order:
		order_row = frappe.db.get_value(
			"Sales Order", order, ["customer", "docstatus", "transaction_date"], as_dict=True
		)
		if not order_row or order_row.docstatus != 1 or order_row.customer != doc.customer:
			frappe.throw(
				_("Renewed by Sales Order must be a submitted order of {0}.").format(doc.customer),
				title=_("Invalid Sales Order"),
			)
		check_later_term(doc, order_row.transaction_date, None, _("Sales Order"), order)
	if subscription:
		sub_row = frappe.db.get_value(
			"Subscription", subscription, ["party_type", "party", "status", "start_date"], as_dict=True
		)
		if (
			not sub_row
			or sub_row.party_type != "Customer"
			or sub_row.party != doc.customer
			or sub_row.status == engine.SUBSCRIPTION_CANCELLED
		):
			frappe.throw(
				_("Renewed by Subscription must be a subscription of {0} that is not cancelled.").format(
					doc.customer
				),
				title=_("Invalid Subscription"),
			)
		if subscription != doc.subscription:  # a subscription renewal's own runs on: no new term to check
			check_later_term(doc, sub_row.start_date, None, _("Subscription"), subscription)
	if amount in (None, ""):
		amount = renewed_worth(contract, order, subscription, doc)
	elif flt(amount) < 0:
		frappe.throw(_("Renewed Amount cannot be negative."))
	doc.renewed_contract = contract
	doc.renewed_order = order
	doc.renewed_subscription = subscription
	# a new term with no revenue yet: no change is computed from 0 (change type Unknown)
	doc.renewed_amount = None if amount is None else flt(amount)
	doc.change_amount, doc.change_type = engine.renewal_change(doc.revenue_at_stake, doc.renewed_amount)
	close(doc, engine.RENEWED, auto=auto)


def check_later_term(doc, start, end, label: str, name: str):
	"""What renews a term comes after it began, and a contract runs past the term's end: an earlier
	term's contract or order (the pickers offer every one of the customer's) would count an old
	deal as this renewal, and its worth as expansion or contraction."""
	term_start = getdate(doc.contract_start) if doc.contract_start else None
	term_end = getdate(doc.end_date) if doc.end_date else None
	too_early = bool(term_start and start and getdate(start) <= term_start)
	ends_too_soon = bool(term_end and end and getdate(end) <= term_end)
	if too_early or ends_too_soon:
		frappe.throw(
			_(
				"{0} {1} belongs to an earlier term: what renews {2} starts after its term began ({3}) and, for a contract, ends after its term ends ({4})."
			).format(
				label,
				name,
				doc.name,
				frappe.format(term_start, {"fieldtype": "Date"}) if term_start else "-",
				frappe.format(term_end, {"fieldtype": "Date"}) if term_end else "-",
			),
			title=_("Not a Later Term"),
		)


def renewed_worth(
	contract: str | None, order: str | None, subscription: str | None = None, doc=None
) -> float | None:
	"""The new term's annualised worth (`new_term_worth`); None when it shows no revenue yet (a new
	term with no order or invoice of its own): unknown, not zero."""
	item = renewal_item(
		{
			"renewed_contract": contract,
			"renewed_order": order,
			"renewed_subscription": subscription,
			"subscription": doc.get("subscription") if doc else None,
			"source_type": doc.get("source_type") if doc else None,
			"end_date": doc.get("end_date") if doc else None,
		}
	)
	return new_term_worth([item], getdate(nowdate()))["renewal"]


def mark_churned(doc, reason: str, note: str | None = None, churned_on=None, auto=False, churn_customer=None):
	"""Close as Churned with a reason from the list, a note and a date; the customer's lifecycle
	stage becomes Churned (the app's own write: no `modified` change, so open forms still save)
	unless something else of theirs still runs: another submitted contract or a live subscription
	(one product dropped is a lost renewal, not a lost customer). `churn_customer` decides it when
	the caller already knows."""
	check_open(doc)
	if reason not in engine.CHURN_REASONS:
		frappe.throw(
			_("Churn Reason must be one of {0}.").format(", ".join(_(r) for r in engine.CHURN_REASONS)),
			title=_("Invalid Churn Reason"),
		)
	churned_on = date_argument(churned_on, _("Churned On")) or getdate(nowdate())
	if churned_on > getdate(nowdate()):
		frappe.throw(_("Churned On cannot be in the future."))
	if doc.contract_start and churned_on < getdate(doc.contract_start):
		frappe.throw(
			_("Churned On cannot be before the term began ({0}).").format(
				frappe.format(getdate(doc.contract_start), {"fieldtype": "Date"})
			)
		)
	doc.churn_reason = reason
	doc.churn_note = (note or "").strip() or None
	close(doc, engine.CHURNED, closed_on=churned_on, auto=auto)
	if churn_customer is None:
		churn_customer = not queries.customer_has_running_terms(
			doc.customer, getdate(nowdate()), doc.subscription, doc.contract
		)
	if not churn_customer:
		frappe.get_doc("Customer", doc.customer).add_comment(
			"Info",
			_(
				"Renewal {0} churned ({1}); the customer stays a customer: another contract or subscription of theirs still runs."
			).format(doc.name, _(reason)),
		)
		return
	from customer_success.customer_success.book_counts import recording

	with recording([doc.customer]):  # the book roll-up (team cards) counts it Churned
		frappe.db.set_value("Customer", doc.customer, "cs_lifecycle_stage", "Churned", update_modified=False)
	leaks_follow_customers([doc.customer])  # Revenue Leakage's leak table: its leaks are Churned's
	move_retention_parts([doc.customer])  # and so does the retention roll-up
	from customer_success.utils import customer_gone

	customer_gone(doc.customer, _("The customer churned: nothing more to act on."), churned=True)
	frappe.get_doc("Customer", doc.customer).add_comment(
		"Info", _("Churned ({0}), recorded on renewal {1}.").format(_(reason), doc.name)
	)


def close(doc, status: str, auto: bool = False, closed_on=None):
	doc.status = status
	doc.auto_closed = int(auto)
	doc.closed_on = getdate(closed_on or nowdate())
	doc.closed_by = frappe.session.user
	doc.flags.outcome_action = True
	doc.save(ignore_permissions=auto or bool(doc.flags.ignore_permissions))
	close_all_todos(doc.name)


# --- reads for the desk ---------------------------------------------------------------------------


def renewals_of(customer: str, limit: int = 5) -> list[dict]:
	"""The customer's renewals the user may read, latest end first, with their checkpoints."""
	renewals = frappe.get_list(
		RENEWAL,
		filters={"customer": customer},
		fields=[
			"name",
			"status",
			"source_type",
			"contract",
			"subscription",
			"end_date",
			"revenue_at_stake",
			"currency",
			"latest_call",
			"expected_amount",
			"signal_status",
			"signal_trend",
			"weighted_revenue",
			"disagreement",
			"renewed_amount",
			"change_type",
			"churn_reason",
		],
		order_by="end_date desc",
		limit_page_length=limit,
	)
	if not renewals:
		return []
	row = frappe.qb.DocType("Renewal Checkpoint")
	checkpoints = (
		frappe.qb.from_(row)
		.select(
			row.parent,
			row.checkpoint,
			row.due_date,
			row.signal_status,
			row.signal_trend,
			row.call,
			row.expected_amount,
			row.note,
			row.recorded_on,
		)
		.where((row.parenttype == RENEWAL) & row.parent.isin([r.name for r in renewals]))
		.orderby(row.due_date)
		.run(as_dict=True)
	)
	for renewal in renewals:
		renewal["checkpoints"] = [c for c in checkpoints if c.parent == renewal.name]
	return renewals


# --- the reports' common ground ------------------------------------------------------------------


def report_scope(filters: dict | None, default_from, default_to) -> tuple[frappe._dict, str | None]:
	"""The report's filters with their defaults, checked, and the book that limits its rows: a CSM
	reads only her own customers (`book_of`)."""
	from customer_success.permissions import book_of
	from customer_success.reports import filter_date

	filters = frappe._dict(filters or {})
	filters.from_date = filter_date(filters, "from_date", _("From Date")) or getdate(default_from)
	filters.to_date = filter_date(filters, "to_date", _("To Date")) or getdate(default_to)
	if filters.from_date > filters.to_date:
		frappe.throw(_("From Date must be on or before To Date."), title=_("Invalid Dates"))
	return filters, book_of()


def shows_nothing(filters: dict, csm: str | None) -> bool:
	"""A CSM who filters a report by another CSM gets an empty report (as every report of the app
	does, `permissions.report_book`), not her own book under that name."""
	return bool(csm and filters.get("csm") and filters.get("csm") != csm)


# --- the revenue roll-up (setup/rollups.py: cs_revenue_by_csm_day) -------------------------------

REVENUE_ROLLUP_LOCK = "customer_success:revenue_rollup"


def invoice_submitted(invoice: str):
	"""Sales Invoice on_submit (a credit note too: its negative total nets), for the revenue, retention
	and leak roll-ups."""
	queries.add_invoice_to_rollup(invoice, 1)
	retention_invoice_changed(invoice, 1)
	invoice_leak_changed(invoice)


def invoice_cancelled(invoice: str):
	"""Sales Invoice on_cancel: what its submit added comes out."""
	queries.add_invoice_to_rollup(invoice, -1)
	retention_invoice_changed(invoice, -1)
	invoice_leak_changed(invoice)


def customer_book_changed(customer: str, old_csm: str | None, old_disabled, new_csm, new_disabled):
	"""A customer moved to another CS Owner's book, or was disabled or enabled: its revenue (and its
	revenue leaks) move with it (the Customer's on_update, and the app's own writes of `cs_owner`,
	call this)."""
	if (old_csm or "") == (new_csm or "") and bool(old_disabled) == bool(new_disabled):
		return
	queries.move_customer_revenue(customer, old_csm, old_disabled, new_csm, new_disabled)
	if (old_csm or "") != (new_csm or ""):
		change_customer_retention(customer)
		refresh_leaks(customers=[customer])  # its leaks are the new CS Owner's


def reconcile_revenue_rollup(commit: bool = False) -> dict:
	"""Make the roll-up equal the ledger, set-based: the sums afresh and the roll-up are read in one
	snapshot, and only their differences are added. Idempotent (a second run adds nothing), and an
	invoice submitted meanwhile is not lost: its own addition is not in the snapshot, and it is
	added to, never overwritten. Under a lock, so two runs never overlap (the second skips)."""
	from customer_success.health.service import release_lock, take_lock

	if not take_lock(REVENUE_ROLLUP_LOCK, 0):
		return {"skipped": True}
	try:
		if commit:
			frappe.db.commit()  # nosemgrep: a fresh snapshot for the two reads below
		truth = queries.revenue_cells_from_ledger()
		differences = engine.cell_differences(truth, queries.revenue_cells_rolled_up())
		queries.add_revenue_cells(differences)
		queries.drop_empty_revenue_cells()
		if commit:
			frappe.db.commit()  # nosemgrep: the roll-up is one unit of work
		return {"cells": len(truth), "corrected": len(differences)}
	finally:
		release_lock(REVENUE_ROLLUP_LOCK)


def rolled_up_revenue_by_csm(from_date, to_date, csm: str | None) -> list[tuple]:
	"""[(csm or '', company, net revenue)] of the active customers, from the roll-up."""
	return queries.rolled_up_revenue_by_csm(from_date, to_date, csm)


# --- the retention roll-up (setup/rollups.py: cs_retention_period, _customer, _point) --------------
# Revenue Retention's components (`engine.COMPONENTS`, and the later window's revenue) per point T
# and the keys a customer is counted under (`queries.RETENTION_KEYS`: CS Owner, tier, segment, in
# business), for the month ends of the last RETENTION_MONTHS months and today. Each customer's part
# is computed from its own revenue in T's two windows, held beside it with the keys it is counted
# under; whoever changes a customer's part (an invoice submitted or cancelled; the customer's CS
# Owner, tier, segment, lifecycle stage or disabled flag written: a save through the Customer's
# on_update, the app's set-based writers through `move_retention_parts`; the nightly reconciliation)
# first locks that customer's row, so it reads its latest part and replaces it exactly, and adds
# only the difference to the point sums (so writers of different customers commute). The report
# reads a point from it when the point is complete (reconciled since it was added) and the filters
# are ones it holds (a CSM, a tier or none; every company, when one company's revenue in its own
# currency is all there is); anything else it computes live, as before.

RETENTION_ROLLUP_LOCK = "customer_success:retention_rollup"
RETENTION_MONTHS = 36
RETENTION_BATCH = 2000


def retention_points_to_hold(today: date) -> list[date]:
	"""The month ends of the last RETENTION_MONTHS months to today, and today (the report's default last
	point), from the month of the first revenue on."""
	first = queries.first_revenue_day()
	if not first:
		return []
	points, month = [], engine.month_end(engine.add_months(today.replace(day=1), -RETENTION_MONTHS))
	while month < today:
		if month >= first:
			points.append(month)
		month = engine.month_end(engine.add_months(month.replace(day=1), 1))
	return [*points, today]


def change_customer_retention(customer: str, changes: dict[date, tuple] | None = None):
	"""Replace the customer's part at each point held: its revenue moved by `changes` ({T: (earlier
	window's change, later window's)}), or (None) only counted under its current keys (CS Owner,
	tier, segment, in business: `queries.RETENTION_KEYS`). Under the customer's row lock."""
	owners = queries.lock_customers([customer])
	if customer not in owners:
		return
	keys = owners[customer]
	held = list(queries.retention_periods())
	points = held if changes is None else [p for p in held if p in changes]
	stored = queries.stored_retention_values([customer], points)
	rows, deltas = [], point_deltas()
	for point in points:
		prev, curr, old_keys = stored.get((customer, point), (0, 0, keys))
		new_prev, new_curr = prev, curr
		if changes is not None:
			new_prev, new_curr = prev + changes[point][0], curr + changes[point][1]
		if (new_prev, new_curr, keys) == (prev, curr, old_keys):
			continue
		add_part(deltas[(point, old_keys)], float(prev), float(curr), -1)
		add_part(deltas[(point, keys)], float(new_prev), float(new_curr), 1)
		rows.append((customer, point, keys, new_prev, new_curr))
	queries.write_retention_values(rows)
	queries.add_retention_components(deltas)


def move_retention_parts(customers: list[str]):
	"""After a set-based write of these customers' CS Owner, tier, segment, lifecycle stage or disabled
	flag (in the caller's transaction): every part of theirs held under keys they no longer have moves
	to the keys they have now, set-based, under their row locks (which the write already holds)."""
	customers = sorted(set(customers or []))
	for start in range(0, len(customers), RETENTION_BATCH):
		batch = customers[start : start + RETENTION_BATCH]
		owners = queries.lock_customers(batch)
		rows, deltas = [], point_deltas()
		for (customer, point), (prev, curr, old_keys) in queries.misfiled_retention_values(batch).items():
			keys = owners[customer]
			add_part(deltas[(point, old_keys)], float(prev), float(curr), -1)
			add_part(deltas[(point, keys)], float(prev), float(curr), 1)
			rows.append((customer, point, keys, prev, curr))
		queries.write_retention_values(rows)
		queries.add_retention_components(deltas)


def retention_keys_changed(before, after) -> bool:
	"""Did a save change what the customer's retention part is counted under?"""
	if before is None:
		return False
	if bool(before.get("disabled")) != bool(after.get("disabled")):
		return True
	fields = ("cs_owner", "cs_tier", "cs_segment", "cs_lifecycle_stage")
	return any((before.get(f) or "") != (after.get(f) or "") for f in fields)


def point_deltas() -> defaultdict:
	return defaultdict(lambda: [0] * len(queries.POINT_SUMS))


def add_part(totals: list, prev: float, curr: float, sign: int):
	"""Add (sign 1) or take away (-1) a customer's part: its `engine.COMPONENTS`, then its later
	window's revenue (`queries.POINT_SUMS`)."""
	for i, value in enumerate((*engine.customer_components(prev, curr), curr)):
		totals[i] += sign * value


def retention_invoice_changed(invoice: str, sign: int):
	"""A Sales Invoice submitted (1) or cancelled (-1): its customer's part at every point whose windows
	hold its posting date."""
	row = frappe.db.get_value(
		"Sales Invoice", invoice, ["customer", "posting_date", "base_net_total"], as_dict=True
	)
	if not row or not row.customer:
		return
	day, amount = getdate(row.posting_date), sign * (row.base_net_total or 0)
	changes = {}
	for point in queries.retention_periods():
		(p_first, p_last), (c_first, c_last) = engine.retention_windows(point)
		if p_first <= day <= p_last:
			changes[point] = (amount, 0)
		elif c_first <= day <= c_last:
			changes[point] = (0, amount)
	if changes and amount:
		change_customer_retention(row.customer, changes)


def reconcile_retention_rollup(today: date | None = None, commit: bool = False) -> dict:
	"""Make the retention roll-up equal the ledger: the points to hold added (and a past day's "today"
	dropped), then every customer's part read afresh, in batches each under its customers' row
	locks, and only the differences written; then the points are complete. Idempotent; under a lock
	(a second run skips); an invoice submitted meanwhile waits for its customer's batch, or finds it
	done."""
	from customer_success.health.service import release_lock, take_lock

	if not take_lock(RETENTION_ROLLUP_LOCK, 0):
		return {"skipped": True}
	try:
		today = getdate(today or nowdate())
		want = retention_points_to_hold(today)
		held = queries.retention_periods()
		queries.drop_retention_periods([day for day in held if day not in want])
		queries.add_retention_periods([day for day in want if day not in held])
		if commit:
			frappe.db.commit()  # nosemgrep: the points held are known to the hooks before the reads
		corrected, last = 0, None
		while True:
			batch = queries.customer_batch(last, RETENTION_BATCH)
			if not batch:
				break
			last = batch[-1]
			corrected += reconcile_retention_batch(batch, want)
			if commit:
				frappe.db.commit()  # nosemgrep: one batch of customers at a time, their locks released
		for orphan in queries.retention_orphans():
			corrected += reconcile_retention_batch([orphan], want, orphan=True)
		queries.mark_retention_periods_complete(want)
		if commit:
			frappe.db.commit()  # nosemgrep: the points are complete
		return {"points": len(want), "corrected": corrected}
	finally:
		release_lock(RETENTION_ROLLUP_LOCK)


def reconcile_retention_customers(customers: list[str], commit: bool = False) -> int:
	"""These customers' parts read afresh at the points held (after a bulk write of their CS Owner
	that called no hook), in batches under their row locks."""
	points = list(queries.retention_periods())
	corrected = 0
	for start in range(0, len(customers), RETENTION_BATCH):
		corrected += reconcile_retention_batch(customers[start : start + RETENTION_BATCH], points)
		if commit:
			frappe.db.commit()  # nosemgrep: one batch of customers at a time, their locks released
	return corrected


def reconcile_retention_batch(customers: list[str], points: list[date], orphan: bool = False) -> int:
	owners = {} if orphan else queries.lock_customers(customers)  # before the reads below
	fresh = {} if orphan else queries.ledger_retention_values(customers, points)
	stored = queries.stored_retention_values(customers)
	rows, deltas = [], point_deltas()
	for key in fresh.keys() | stored.keys():
		customer, point = key
		keys = owners.get(customer, ("", "", "", 1))
		prev, curr = fresh.get(key, (0, 0)) if point in points else (0, 0)
		had_prev, had_curr, old_keys = stored.get(key, (0, 0, keys))
		if (prev, curr, keys) == (had_prev, had_curr, old_keys):
			continue
		add_part(deltas[(point, old_keys)], float(had_prev), float(had_curr), -1)
		add_part(deltas[(point, keys)], float(prev), float(curr), 1)
		rows.append((customer, point, keys, prev, curr))
	queries.write_retention_values(rows)
	queries.add_retention_components(deltas)
	return len(rows)


def retention_rollup_applies(company: str | None = None) -> bool:
	"""Whether the roll-up answers for the site (and `company`, when asked): it keeps the sums of
	one company's invoices in the default company's currency, so a site invoicing in several
	companies, or in one whose currency is not the default's, is computed live by the report."""
	companies = queries.invoiced_companies()
	if len(companies) > 1 or (company and companies and company != companies[0]):
		return False
	return not (companies and queries.rates_for(companies).get(companies[0], 1.0) != 1.0)


def rolled_up_retention(points: list[date], filters: dict, csm: str | None) -> dict[date, dict]:
	"""{T: the report's figures} of the points the roll-up answers for these filters (complete, and
	filters it holds); the report computes the others live. A lifecycle stage or customer filter
	groups the customers' own rows (those of that stage or name now, as the live computation takes
	them); otherwise the point sums of the CS Owner and tier asked for are read (kept under the keys
	each customer has now, as the live computation takes them)."""
	if not retention_rollup_applies(filters.get("company")):
		return {}
	held = queries.retention_periods()
	first = queries.first_revenue_day()
	# a point before the first revenue has empty windows: nothing to read, held or not
	ready = [point for point in points if held.get(point) or not first or point < first]
	if filters.get("lifecycle_stage") or filters.get("customer"):
		sums = queries.rolled_up_retention_of_customers(ready, filters, csm)
	else:
		sums = queries.rolled_up_retention(
			ready, csm or filters.get("csm") or None, filters.get("tier") or None
		)
	return {point: engine.retention_figures(sums[point]) for point in ready}


# --- the leak table (setup/rollups.py: cs_revenue_leak, cs_revenue_leak_day) ------------------------
# Revenue Leakage's invoices, kept exact: whoever changes what a customer's invoices leak (an invoice
# or credit note submitted or cancelled, a contract submitted, signed or cancelled, the customer moved
# to another CS Owner's book, the nightly reconciliation) first locks that Customer row, reads the rows
# it replaces locked, computes them afresh (`queries.LEAK_ROWS`) and writes only the differences, adding
# them to the day sums (`engine.leak_changes`): writers of one customer wait for each other, writers of
# different customers commute. A contract change and an invoice of the same customer committed in the
# same instant can leave that invoice mis-kept (each read the other's data as it was before); the
# nightly reconciliation, which takes the locks before it reads, repairs it, and anything written past
# the hooks (a SQL update of `cs_owner` or of an invoice, a customer merged by rename).

LEAK_LOCK = "customer_success:revenue_leak"
LEAK_BATCH = 2000


def refresh_leaks(customers: list[str] | None = None, invoices: list[str] | None = None) -> int:
	"""These customers' (or these invoices') leak rows made equal to a fresh computation, under their
	customers' row locks; the number of rows changed."""
	owners = customers if customers is not None else queries.customers_of_invoices(invoices or [])
	queries.lock_customers(sorted(set(owners)))  # before the reads below
	stored = queries.stored_leaks(customers, invoices)
	fresh = queries.fresh_leaks(customers, invoices)
	deleted, written, cells = engine.leak_changes(stored, fresh)
	queries.write_leaks(deleted, written, cells)
	return len(deleted) + len(written)


def leaks_follow_customers(customers: list[str]):
	"""After a write of these customers' tier or lifecycle stage (or CS Owner) that did not recompute
	their leaks (the Customer form, the tier job, churn, a handoff's acceptance): their leak rows take
	the customers' current values and the day sums the difference, set-based, in batches, each under
	its customers' row locks (taken before the rows are read, as every writer of the leak table does).
	What the rows leak does not change, so the ledger is not read."""
	names = sorted(set(customers or []))
	for start in range(0, len(names), LEAK_BATCH):
		batch = names[start : start + LEAK_BATCH]
		queries.lock_customers(batch)
		before = queries.leak_cells_from_table(batch)
		if not before:
			continue  # nothing of theirs leaks
		queries.stamp_leak_customer_keys(batch)
		queries.add_leak_cells(engine.cell_differences(queries.leak_cells_from_table(batch), before))


def customer_segment_changed(doc):
	"""Customer on_update: a tier or lifecycle stage changed by a save moves the customer's leaks (a
	CS Owner change has already moved them: `customer_book_changed`)."""
	before = doc.get_doc_before_save()
	if before is None:
		return  # a new customer has no submitted invoice yet
	if any((before.get(f) or "") != (doc.get(f) or "") for f in ("cs_tier", "cs_lifecycle_stage")):
		leaks_follow_customers([doc.name])


def invoice_leak_changed(invoice: str):
	"""A Sales Invoice submitted or cancelled (its hooks): its own leak row, or for a credit note the
	row of the invoice it returns (its amount nets)."""
	row = frappe.db.get_value("Sales Invoice", invoice, ["is_return", "return_against"], as_dict=True)
	if not row:
		return
	target = row.return_against if row.is_return else invoice
	if target:
		refresh_leaks(invoices=[target])


def contract_changed(party_type: str | None, party_name: str | None):
	"""A customer's contract submitted, signed or unsigned, or cancelled (the Contract hooks): every
	invoice of the customer is classed again."""
	if party_type == "Customer" and party_name:
		refresh_leaks(customers=[party_name])


def reconcile_leaks(commit: bool = False) -> dict:
	"""Make the leak table and its day sums equal a fresh computation. One grouped anti-join of every
	submitted invoice against the contracts gives each customer's leaks' count and checksum, compared
	with the table's in the same snapshot; the customers that differ are computed again in batches,
	each under its customers' row locks taken before it reads, and only differences are written. Then
	the day sums are made equal to the table's (read in one snapshot, differences added). Idempotent (a
	second run corrects nothing); under a lock, so two runs never overlap (the second skips)."""
	from customer_success.health.service import release_lock, take_lock

	if not take_lock(LEAK_LOCK, 0):
		return {"skipped": True}
	try:
		if commit:
			frappe.db.commit()  # nosemgrep: a fresh snapshot for the two reads below
		fresh = queries.leak_checksums_from_ledger()
		stored = queries.leak_checksums_stored()
		customers = sorted(c for c in fresh.keys() | stored.keys() if fresh.get(c) != stored.get(c))
		corrected = reconcile_leak_customers(customers, commit=commit)
		if commit:
			frappe.db.commit()  # nosemgrep: a fresh snapshot of the table for the day sums
		differences = engine.cell_differences(queries.leak_cells_from_table(), queries.leak_cells_rolled_up())
		queries.add_leak_cells(differences)
		queries.drop_empty_leak_cells()
		if commit:
			frappe.db.commit()  # nosemgrep: the day sums are one unit of work
		return {
			"customers": len(fresh),
			"leaks": sum(n for n, _sum in fresh.values()),
			"customers_corrected": len(customers),
			"corrected": corrected,
			"cells_corrected": len(differences),
		}
	finally:
		release_lock(LEAK_LOCK)


def reconcile_leak_customers(customers: list[str], commit: bool = False) -> int:
	"""These customers' leaks computed again (after a bulk write of their CS Owner that called no
	hook), in batches under their row locks; the rows changed."""
	corrected = 0
	for start in range(0, len(customers), LEAK_BATCH):
		if commit:
			frappe.db.commit()  # nosemgrep: the batch reads after its locks, in a snapshot of its own
		corrected += refresh_leaks(customers=customers[start : start + LEAK_BATCH])
		if commit:
			frappe.db.commit()  # nosemgrep: one batch of customers at a time, their locks released
	return corrected


def leak_totals(filters: dict, csm: str | None) -> dict[str, tuple[int, float]]:
	"""{invoice leak kind: (invoices, amount in the default company's currency)} of every leak posted in
	the report's period: from the day sums for the team, a book, a tier, a stage and a company; summed
	from the leak table for a customer (which the day sums do not hold)."""
	if filters.get("customer"):
		rows = queries.leak_totals_live(filters, csm)
	else:
		rows = queries.leak_totals_rolled_up(filters, csm)
	rates = queries.rates_for(company for _kind, company, _amount, _n in rows)
	totals = {kind: [0, 0.0] for kind in engine.INVOICE_LEAKS}
	for kind, company, amount, count in rows:
		if kind in totals:
			totals[kind][0] += int(count or 0)
			totals[kind][1] += float(amount or 0) * rates.get(company, 1.0)
	return {kind: (count, amount) for kind, (count, amount) in totals.items()}
