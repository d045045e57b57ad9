"""Set-based reads and bulk writes for renewals and the ledger reports: a few aggregate queries
over all contracts, renewals or invoices at once, never one per customer.

Money is in company currency (`base_net_total`: net of taxes, credit notes negative so netted);
a company whose currency differs from the default company's is converted at today's rate
(`health.queries.company_rates`), so several companies add up on one scale.
"""

from collections import defaultdict
from datetime import date, timedelta

import frappe
from frappe.query_builder import Case, Order
from frappe.query_builder.functions import Avg, Count, IfNull, Sum
from frappe.utils import getdate

from customer_success.constants import CHURNED as CHURNED_STAGE
from customer_success.health import queries as health_queries
from customer_success.renewals import engine

RENEWAL = "Renewal"
CHECKPOINT = "Renewal Checkpoint"


def rates_for(companies) -> dict[str, float]:
	return health_queries.company_rates(set(companies), getdate())


# --- contracts and what they are worth ---------------------------------------------------------


def contracts_ending(start: date, end: date, contracts: list[str] | None = None) -> list[dict]:
	"""Submitted customer contracts ending between `start` and `end` that have no renewal record
	for that term yet (a renewal is keyed by contract and end date)."""
	contract = frappe.qb.DocType("Contract")
	renewal = frappe.qb.DocType(RENEWAL)
	query = (
		frappe.qb.from_(contract)
		.left_join(renewal)
		.on((renewal.contract == contract.name) & (renewal.end_date == contract.end_date))
		.select(
			contract.name,
			contract.party_name.as_("customer"),
			contract.start_date,
			contract.end_date,
			contract.document_type,
			contract.document_name,
		)
		.where(
			(contract.party_type == "Customer")
			& (contract.docstatus == 1)
			& contract.end_date[start:end]
			& renewal.name.isnull()
		)
		.orderby(contract.end_date)
		.orderby(contract.name)
	)
	if contracts is not None:
		query = query.where(contract.name.isin(contracts or [""]))
	return query.run(as_dict=True)


def contract_rows(names: list[str]) -> list[dict]:
	contract = frappe.qb.DocType("Contract")
	return (
		frappe.qb.from_(contract)
		.select(
			contract.name,
			contract.party_name.as_("customer"),
			contract.start_date,
			contract.end_date,
			contract.document_type,
			contract.document_name,
		)
		.where(contract.name.isin(names or [""]))
		.run(as_dict=True)
	)


def document_totals(contracts: list[dict]) -> dict[str, float]:
	"""{contract: net total of its submitted Sales Order / Sales Invoice} in the default company's
	currency, for contracts that point to one."""
	totals: dict[str, float] = {}
	for doctype in ("Sales Order", "Sales Invoice"):
		by_document = defaultdict(list)
		for c in contracts:
			if c.get("document_type") == doctype and c.get("document_name"):
				by_document[c["document_name"]].append(c["name"])
		if not by_document:
			continue
		table = frappe.qb.DocType(doctype)
		rows = (
			frappe.qb.from_(table)
			.select(table.name, table.company, table.base_net_total)
			.where(table.name.isin(list(by_document)) & (table.docstatus == 1))
			.run(as_dict=True)
		)
		rates = rates_for(row.company for row in rows)
		for row in rows:
			for contract in by_document[row.name]:
				totals[contract] = float(row.base_net_total or 0) * rates.get(row.company, 1.0)
	return totals


def invoiced_in_windows(contracts: list[dict], today: date) -> dict[str, float]:
	"""{contract: its own net invoiced revenue over its `engine.invoice_window`} in the default
	company's currency. Each invoice of a customer belongs to one of the customer's submitted
	contracts (`engine.contract_for_invoice`), so two contracts never count the same invoice. Two
	queries for all the contracts: their customers' contracts, and their invoices by day."""
	windows = {c["name"]: engine.invoice_window(c.get("start_date"), c["end_date"], today) for c in contracts}
	spans = [w for w in windows.values() if w]
	if not spans:
		return {}
	customers = sorted({c["customer"] for c in contracts if windows.get(c["name"])})
	terms = submitted_terms(customers)
	known = {t["name"] for rows in terms.values() for t in rows}
	for c in contracts:  # a contract asked about counts among its customer's, whatever its state
		if c["name"] not in known:
			terms[c["customer"]].append(c)
	invoice = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(invoice)
		.select(
			invoice.customer, invoice.company, invoice.posting_date, Sum(invoice.base_net_total).as_("net")
		)
		.where(
			invoice.customer.isin(customers)
			& (invoice.docstatus == 1)
			& invoice.posting_date[min(w[0] for w in spans) : max(w[1] for w in spans)]
		)
		.groupby(invoice.customer, invoice.company, invoice.posting_date)
		.run(as_dict=True)
	)
	rates = rates_for(row.company for row in rows)
	by_customer = defaultdict(list)
	for row in rows:
		by_customer[row.customer].append(
			(row.posting_date, float(row.net or 0) * rates.get(row.company, 1.0))
		)
	asked = defaultdict(dict)
	for c in contracts:
		asked[c["customer"]][c["name"]] = windows[c["name"]]
	totals = {}
	for customer in customers:
		totals.update(
			engine.invoiced_by_contract(by_customer.get(customer, []), terms[customer], asked[customer])
		)
	return totals


def customer_facts(customers: list[str]) -> dict[str, dict]:
	customer = frappe.qb.DocType("Customer")
	rows = (
		frappe.qb.from_(customer)
		.select(
			customer.name,
			customer.cs_owner,
			customer.cs_health_status,
			customer.cs_health_score,
			customer.cs_health_trend,
		)
		.where(customer.name.isin(customers or [""]))
		.run(as_dict=True)
	)
	return {row.name: row for row in rows}


# --- renewals ---------------------------------------------------------------------------------


def newer_contracts(renewals: list[str] | None = None) -> dict[str, dict]:
	"""{open renewal: the contract that renewed it}: another submitted contract of the same customer
	starting on or after the renewal's end date (the earliest such)."""
	renewal = frappe.qb.DocType(RENEWAL)
	contract = frappe.qb.DocType("Contract")
	query = (
		frappe.qb.from_(renewal)
		.join(contract)
		.on(
			(contract.party_type == "Customer")
			& (contract.party_name == renewal.customer)
			& (contract.docstatus == 1)
			& (contract.name != renewal.contract)
			& (contract.start_date >= renewal.end_date)
		)
		.select(
			renewal.name.as_("renewal"),
			renewal.contract,
			renewal.end_date,
			contract.name,
			contract.start_date,
		)
		.where(renewal.status == engine.OPEN)
	)
	if renewals is not None:
		query = query.where(renewal.name.isin(renewals or [""]))
	candidates = defaultdict(list)
	heads = {}
	for row in query.run(as_dict=True):
		heads[row.renewal] = {"name": row.contract, "end_date": row.end_date}
		candidates[row.renewal].append({"name": row.name, "start_date": row.start_date})
	found = {}
	for name, head in heads.items():
		newer = engine.superseded_by(head, candidates[name])
		if newer:
			found[name] = newer
	return found


def open_renewals_of_cancelled_contracts(contracts: list[str] | None = None) -> list[str]:
	"""Open renewals whose contract is no longer submitted (cancelled, or amended)."""
	renewal = frappe.qb.DocType(RENEWAL)
	contract = frappe.qb.DocType("Contract")
	query = (
		frappe.qb.from_(renewal)
		.join(contract)
		.on(contract.name == renewal.contract)
		.select(renewal.name)
		.where((renewal.status == engine.OPEN) & (contract.docstatus != 1))
	)
	if contracts is not None:
		query = query.where(contract.name.isin(contracts or [""]))
	return query.run(pluck=True)


def due_checkpoints(
	today: date, without_csm_then: bool = False, customer_name: str | None = None
) -> list[dict]:
	"""Checkpoints of open renewals that are due (on or before today) and not yet raised (no ToDo,
	no signal taken) nor recorded. With `without_csm_then`: those raised while the renewal had no
	CSM (a signal taken, no ToDo, no call) whose customer has one now (`csm`: the customer's).
	`customer_name`: that customer's renewals only."""
	renewal = frappe.qb.DocType(RENEWAL)
	row = frappe.qb.DocType(CHECKPOINT)
	customer = frappe.qb.DocType("Customer")
	query = (
		frappe.qb.from_(row)
		.join(renewal)
		.on((row.parent == renewal.name) & (row.parenttype == RENEWAL))
		.select(
			row.name,
			row.parent,
			row.checkpoint,
			row.due_date,
			renewal.customer,
			renewal.customer_name,
			renewal.end_date,
			renewal.contract,
		)
		.where(
			(renewal.status == engine.OPEN)
			& (row.due_date <= today)
			& ((row.todo.isnull()) | (row.todo == ""))
			& ((row.call.isnull()) | (row.call == ""))
		)
		.orderby(row.due_date)
	)
	if customer_name:
		query = query.where(renewal.customer == customer_name)
	if without_csm_then:
		query = (
			query.join(customer)
			.on(customer.name == renewal.customer)
			.select(customer.cs_owner.as_("csm"))
			.where(row.signal_on.isnotnull() & customer.cs_owner.isnotnull() & (customer.cs_owner != ""))
		)
	else:
		query = query.select(renewal.csm).where(row.signal_on.isnull())
	return query.run(as_dict=True)


def health_history(customers: list[str], first: date, last: date) -> dict[str, list[dict]]:
	"""{customer: its Customer Health Score rows from `first` to `last`, oldest first}."""
	score = frappe.qb.DocType("Customer Health Score")
	rows = (
		frappe.qb.from_(score)
		.select(score.customer, score.score_date, score.status, score.score, score.trend)
		.where(score.customer.isin(customers or [""]) & score.score_date[first:last])
		.orderby(score.score_date)
		.run(as_dict=True)
	)
	history = defaultdict(list)
	for row in rows:
		history[row.customer].append(row)
	return history


def refresh_open_renewals(names: list[str] | None = None):
	"""One UPDATE: every open renewal takes its customer's CSM and current health, and from them its
	health-weighted expected revenue and the CSM-versus-signal disagreement (engine's weights)."""
	weights = " ".join(["when %s then %s"] * len(engine.HEALTH_WEIGHTS))
	params: list = []
	for status, weight in engine.HEALTH_WEIGHTS.items():
		params += [status, weight]
	params += [engine.UNKNOWN_WEIGHT, engine.WILL_RENEW, engine.RED, engine.OPEN]
	where = ""
	if names is not None:
		where = " and r.name in %s"
		params.append(tuple(names or [""]))
	# a multi-table UPDATE with a CASE over the engine's weights: qb cannot write it
	frappe.db.sql(
		f"""
		update `tabRenewal` r join `tabCustomer` c on c.name = r.customer
		set r.csm = c.cs_owner,
			r.signal_status = c.cs_health_status,
			r.signal_score = c.cs_health_score,
			r.signal_trend = c.cs_health_trend,
			r.weighted_revenue = round(r.revenue_at_stake * (case c.cs_health_status {weights} else %s end), 2),
			r.disagreement = coalesce(r.latest_call = %s and c.cs_health_status = %s, 0)
		where r.status = %s{where}
		""",  # the placeholders are the engine's constants, passed as parameters
		params,
	)


# --- subscriptions ---------------------------------------------------------------------------


def subscription_rows(names: list[str] | None = None, live_only: bool = False) -> list[dict]:
	"""Customer subscriptions with their billing period in months (all plans of a subscription share
	one billing cycle: ERPNext enforces it) and their renewal term (`engine.subscription_term_end`):
	`term_start`, `term_end` (None when the subscription has no renewal term)."""
	sub = frappe.qb.DocType("Subscription")
	detail = frappe.qb.DocType("Subscription Plan Detail")
	plan = frappe.qb.DocType("Subscription Plan")
	query = (
		frappe.qb.from_(sub)
		.left_join(detail)
		.on((detail.parent == sub.name) & (detail.parenttype == "Subscription") & (detail.idx == 1))
		.left_join(plan)
		.on(plan.name == detail.plan)
		.select(
			sub.name,
			sub.party.as_("customer"),
			sub.status,
			sub.company,
			sub.start_date,
			sub.end_date,
			sub.current_invoice_start,
			sub.current_invoice_end,
			sub.cancelation_date,
			sub.additional_discount_percentage,
			sub.additional_discount_amount,
			plan.billing_interval,
			plan.billing_interval_count,
		)
		.where(sub.party_type == "Customer")
	)
	if names is not None:
		query = query.where(sub.name.isin(names or [""]))
	if live_only:
		query = query.where(sub.status.isin(engine.LIVE_SUBSCRIPTION_STATUSES))
	rows = query.run(as_dict=True)
	for row in rows:
		row.months = engine.billing_months(row.billing_interval, row.billing_interval_count)
		row.term_end = engine.subscription_term_end(
			row.end_date and getdate(row.end_date),
			row.current_invoice_end and getdate(row.current_invoice_end),
			row.months,
		)
		row.term_start = row.start_date if row.end_date else row.current_invoice_start
	return rows


def subscriptions_ending(start: date, end: date, subscriptions: list[str] | None = None) -> list[dict]:
	"""Live customer subscriptions whose term (`subscription_rows`) ends between `start` and `end`
	with no renewal for that term yet (keyed by subscription and term end)."""
	sub = frappe.qb.DocType("Subscription")
	query = (
		frappe.qb.from_(sub)
		.select(sub.name)
		.where(
			(sub.party_type == "Customer")
			& sub.status.isin(engine.LIVE_SUBSCRIPTION_STATUSES)
			& (sub.end_date[start:end] | (sub.end_date.isnull() & sub.current_invoice_end[start:end]))
		)
	)
	if subscriptions is not None:
		query = query.where(sub.name.isin(subscriptions or [""]))
	names = query.run(pluck=True)
	if not names:
		return []
	rows = [
		row
		for row in subscription_rows(names, live_only=True)
		if row.term_end and start <= getdate(row.term_end) <= end
	]
	renewal = frappe.qb.DocType(RENEWAL)
	taken = set(
		frappe.qb.from_(renewal)
		.select(renewal.term_key)
		.where(renewal.subscription.isin([row.name for row in rows] or [""]))
		.run(pluck=True)
	)
	return sorted(
		(row for row in rows if subscription_term_key(row.name, row.term_end) not in taken),
		key=lambda row: (getdate(row.term_end), row.name),
	)


def subscription_term_key(subscription: str, end) -> str:
	return f"Subscription|{subscription}|{getdate(end)}"


def subscription_invoices(names: list[str], first: date, last: date) -> dict[str, list[dict]]:
	"""{subscription: its submitted Sales Invoices (credit notes too) posted from `first` to `last`:
	posting_date, amount (net, default company's currency), from_date, to_date, is_return}."""
	if not names:
		return {}
	invoice = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(invoice)
		.select(
			invoice.subscription,
			invoice.company,
			invoice.posting_date,
			invoice.from_date,
			invoice.to_date,
			invoice.is_return,
			invoice.base_net_total,
		)
		.where(invoice.subscription.isin(names) & (invoice.docstatus == 1) & invoice.posting_date[first:last])
		.run(as_dict=True)
	)
	rates = rates_for(row.company for row in rows)
	found = defaultdict(list)
	for row in rows:
		found[row.subscription].append(invoice_entry(row, rates))
	return found


def invoice_entry(row, rates: dict[str, float]) -> dict:
	"""A submitted Sales Invoice row as the renewals engine reads it: posting date, net amount in the
	default company's currency, billed period, and whether it is a credit note."""
	return {
		"posting_date": getdate(row.posting_date),
		"amount": float(row.base_net_total or 0) * rates.get(row.company, 1.0),
		"from_date": row.from_date and getdate(row.from_date),
		"to_date": row.to_date and getdate(row.to_date),
		"is_return": row.is_return,
	}


def plans_annual(subscriptions: list[dict], today: date) -> dict[str, float | None]:
	"""{subscription: its plans' price per year after its discount, in the default company's currency}
	(`engine.plan_annual`); a price-list plan takes the item's selling price in its price list (the
	customer's own price first). None when a plan's price cannot be told, or is in a currency with
	no exchange rate (`health.queries.exchange_rate`)."""
	import erpnext

	by_name = {row["name"]: row for row in subscriptions}
	if not by_name:
		return {}
	detail = frappe.qb.DocType("Subscription Plan Detail")
	plan = frappe.qb.DocType("Subscription Plan")
	rows = (
		frappe.qb.from_(detail)
		.join(plan)
		.on(plan.name == detail.plan)
		.select(
			detail.parent,
			detail.qty,
			plan.price_determination,
			plan.cost,
			plan.currency,
			plan.item,
			plan.price_list,
			plan.billing_interval,
			plan.billing_interval_count,
		)
		.where((detail.parenttype == "Subscription") & detail.parent.isin(list(by_name)))
		.run(as_dict=True)
	)
	prices = price_list_rates(
		[(r.item, r.price_list) for r in rows if r.price_determination == "Based On Price List"],
		{by_name[r.parent]["customer"] for r in rows},
		today,
	)
	company = erpnext.get_default_company() or frappe.db.get_value("Company", {}, "name")
	to_currency = erpnext.get_company_currency(company) if company else None
	totals: dict[str, float | None] = {}
	for row in rows:
		if row.parent in totals and totals[row.parent] is None:
			continue
		months = engine.billing_months(row.billing_interval, row.billing_interval_count)
		cost = row.cost
		if row.price_determination == "Based On Price List":
			customer = by_name[row.parent]["customer"]
			cost = prices.get(
				(row.item, row.price_list, customer), prices.get((row.item, row.price_list, ""))
			)
		annual = engine.plan_annual(row.price_determination, cost, row.qty, months)
		if annual is None:
			totals[row.parent] = None
			continue
		if row.currency and to_currency and row.currency != to_currency:
			rate = health_queries.exchange_rate(row.currency, to_currency, today)
			if rate is None:  # a price in a currency with no rate: the plan's worth cannot be told
				totals[row.parent] = None
				continue
			annual *= rate
		totals[row.parent] = (totals.get(row.parent) or 0.0) + annual
	for name, total in totals.items():
		if total is not None:
			sub = by_name[name]
			totals[name] = engine.discounted(
				total,
				sub.get("additional_discount_percentage"),
				sub.get("additional_discount_amount"),
				sub.get("months"),
			)
	return totals


def price_list_rates(pairs, customers, today: date) -> dict[tuple, float]:
	"""{(item, price list, customer or ""): selling rate valid today} for the (item, price list) pairs."""
	pairs = {(item, price_list) for item, price_list in pairs if item and price_list}
	if not pairs:
		return {}
	price = frappe.qb.DocType("Item Price")
	rows = (
		frappe.qb.from_(price)
		.select(price.item_code, price.price_list, price.customer, price.price_list_rate, price.valid_from)
		.where(
			price.item_code.isin(sorted({item for item, _list in pairs}))
			& price.price_list.isin(sorted({price_list for _item, price_list in pairs}))
			& (price.selling == 1)
			& (price.valid_from.isnull() | (price.valid_from <= today))
			& (price.valid_upto.isnull() | (price.valid_upto >= today))
			& (
				price.customer.isnull()
				| (price.customer == "")
				| price.customer.isin(sorted(customers) or [""])
			)
		)
		.orderby(price.valid_from)
		.run(as_dict=True)
	)
	# the latest valid_from wins (ordered ascending, so later rows overwrite)
	return {(r.item_code, r.price_list, r.customer or ""): float(r.price_list_rate or 0) for r in rows}


def subscription_worth(
	subscriptions: list[dict], today: date, since: dict[str, date] | None = None
) -> dict[str, tuple[float, str]]:
	"""{subscription: (annualised revenue, basis)} (`engine.subscription_revenue`): its own invoices of
	the twelve months to its term end (or today), else its plans. With `since` ({subscription: date}),
	only the invoices posted after that date count (a renewed term's own)."""
	if not subscriptions:
		return {}
	since = since or {}
	windows = {}
	for row in subscriptions:
		last = min(getdate(row.get("term_end") or today), today)
		first = getdate(last) - timedelta(days=engine.DAYS_PER_YEAR - 1)
		if row["name"] in since:
			first, last = since[row["name"]] + timedelta(days=1), today
		windows[row["name"]] = (first, last)
	invoices = subscription_invoices(
		list(windows), min(w[0] for w in windows.values()), max(w[1] for w in windows.values())
	)
	plans = plans_annual(subscriptions, today)
	worth = {}
	for row in subscriptions:
		first, last = windows[row["name"]]
		own = [i for i in invoices.get(row["name"], []) if first <= i["posting_date"] <= last]
		billed = [i for i in own if not i["is_return"]]
		days = (
			sum(engine.term_days(i["from_date"], i["to_date"]) for i in billed)
			if billed and all(i["from_date"] and i["to_date"] for i in billed)
			else 0
		)
		worth[row["name"]] = engine.subscription_revenue(
			sum(i["amount"] for i in own), days, plans.get(row["name"])
		)
	return worth


def open_subscription_renewals(
	renewals: list[str] | None = None,
	subscriptions: list[str] | None = None,
	customers: list[str] | None = None,
) -> list[dict]:
	"""Open renewals of subscriptions, with their subscription's state now and whether a newer
	subscription of the customer took over (`newer`: the earliest one, not cancelled, starting on or
	after the term's end, or on or after the day the old one was cancelled)."""
	renewal = frappe.qb.DocType(RENEWAL)
	sub = frappe.qb.DocType("Subscription")
	query = (
		frappe.qb.from_(renewal)
		.join(sub)
		.on(sub.name == renewal.subscription)
		.select(
			renewal.name.as_("renewal"),
			renewal.customer,
			renewal.end_date.as_("renewal_end"),
			sub.name.as_("subscription"),
			sub.status,
			sub.end_date,
			sub.current_invoice_end,
			sub.cancelation_date,
		)
		.where((renewal.status == engine.OPEN) & (renewal.source_type == engine.SUBSCRIPTION))
	)
	if renewals is not None:
		query = query.where(renewal.name.isin(renewals or [""]))
	if subscriptions is not None:
		query = query.where(renewal.subscription.isin(subscriptions or [""]))
	if customers is not None:
		query = query.where(renewal.customer.isin(customers or [""]))
	rows = query.run(as_dict=True)
	if not rows:
		return []
	other = frappe.qb.DocType("Subscription")
	candidates = defaultdict(list)
	for row in (
		frappe.qb.from_(other)
		.select(other.name, other.party, other.start_date)
		.where(
			(other.party_type == "Customer")
			& other.party.isin(sorted({r.customer for r in rows}))
			& (other.status != engine.SUBSCRIPTION_CANCELLED)
		)
		.run(as_dict=True)
	):
		candidates[row.party].append(row)
	for row in rows:
		since = getdate(row.renewal_end)
		if row.status == engine.SUBSCRIPTION_CANCELLED and row.cancelation_date:
			since = min(since, getdate(row.cancelation_date))
		later = [
			c
			for c in candidates[row.customer]
			if c.name != row.subscription and c.start_date and getdate(c.start_date) >= since
		]
		row.newer = min(later, key=lambda c: (getdate(c.start_date), c.name)).name if later else None
	return rows


def customer_has_running_terms(
	customer: str, today: date, other_than: str | None = None, other_than_contract: str | None = None
) -> bool:
	"""Whether the customer still has a live subscription (other than `other_than`) or a submitted
	contract (other than `other_than_contract`) running past today; one whose renewal was already
	closed as Churned is lost, however long its term still runs."""
	renewal = frappe.qb.DocType(RENEWAL)
	churned = frappe.qb.from_(renewal).where(
		(renewal.customer == customer) & (renewal.status == engine.CHURNED)
	)
	sub = frappe.qb.DocType("Subscription")
	live = (
		frappe.qb.from_(sub)
		.select(sub.name)
		.where(
			(sub.party_type == "Customer")
			& (sub.party == customer)
			& sub.status.isin(engine.LIVE_SUBSCRIPTION_STATUSES)
			& (sub.name != (other_than or ""))
			& sub.name.notin(churned.select(IfNull(renewal.subscription, "")))
		)
		.limit(1)
		.run()
	)
	if live:
		return True
	contract = frappe.qb.DocType("Contract")
	return bool(
		frappe.qb.from_(contract)
		.select(contract.name)
		.where(
			(contract.party_type == "Customer")
			& (contract.party_name == customer)
			& (contract.docstatus == 1)
			& (contract.name != (other_than_contract or ""))
			& contract.name.notin(churned.select(IfNull(renewal.contract, "")))
			& (contract.end_date.isnull() | (contract.end_date > today))
		)
		.limit(1)
		.run()
	)


# --- renewed with no worth known yet (Unknown) --------------------------------------------------


def unknown_renewals(renewals: list[str] | None = None, customers: list[str] | None = None) -> list[dict]:
	"""Renewals closed as Renewed whose new term's worth is not known yet (change type Unknown)."""
	renewal = frappe.qb.DocType(RENEWAL)
	query = (
		frappe.qb.from_(renewal)
		.select(
			renewal.name,
			renewal.customer,
			renewal.source_type,
			renewal.subscription,
			renewal.end_date,
			renewal.renewed_contract,
			renewal.renewed_order,
			renewal.renewed_subscription,
		)
		.where((renewal.status == engine.RENEWED) & (renewal.change_type == engine.UNKNOWN))
	)
	if renewals is not None:
		query = query.where(renewal.name.isin(renewals or [""]))
	if customers is not None:
		query = query.where(renewal.customer.isin(customers or [""]))
	return query.run(as_dict=True)


def submitted_terms(customers: list[str]) -> defaultdict:
	"""{customer: [its submitted contracts (name, party_name, start_date, end_date)]}, one query."""
	contract = frappe.qb.DocType("Contract")
	terms = defaultdict(list)
	for row in (
		frappe.qb.from_(contract)
		.select(contract.name, contract.party_name, contract.start_date, contract.end_date)
		.where(
			(contract.party_type == "Customer")
			& (contract.docstatus == 1)
			& contract.party_name.isin(customers)
		)
		.run(as_dict=True)
	):
		terms[row.party_name].append(row)
	return terms


def contract_term_invoices(contracts: list[dict]) -> dict[str, list[dict]]:
	"""{contract: its own submitted invoices from its start (credit notes too)}: each invoice of the
	customer belongs to one contract (`engine.contract_for_invoice`), so an old term's invoices never
	count for the new one. Three queries for all the contracts."""
	contracts = [c for c in contracts if c.get("start_date")]
	if not contracts:
		return {}
	customers = sorted({c["customer"] for c in contracts})
	terms = submitted_terms(customers)
	invoice = frappe.qb.DocType("Sales Invoice")
	rows = (
		frappe.qb.from_(invoice)
		.select(
			invoice.customer,
			invoice.company,
			invoice.posting_date,
			invoice.from_date,
			invoice.to_date,
			invoice.is_return,
			invoice.base_net_total,
		)
		.where(
			invoice.customer.isin(customers)
			& (invoice.docstatus == 1)
			& (invoice.posting_date >= min(getdate(c["start_date"]) for c in contracts))
		)
		.run(as_dict=True)
	)
	rates = rates_for(row.company for row in rows)
	wanted = {c["name"] for c in contracts}
	found = defaultdict(list)
	for row in rows:
		day = getdate(row.posting_date)
		owner = engine.contract_for_invoice(day, terms[row.customer])
		if owner and owner["name"] in wanted:
			found[owner["name"]].append(invoice_entry(row, rates))
	return found


# --- the desk ---------------------------------------------------------------------------------


# the app's index of the customers by CS Owner (setup/indexes.py): a book's reads start from it
BOOK_INDEX = "cs_book_health_index"


def renewals_with_customers(renewal, customer, owner: str | None, first: date, last: date):
	"""Renewals joined to their customers, for renewals ending from `first` to `last`. A book (the
	customers of CS Owner `owner`) smaller than the period's renewals leads, through the book index,
	each customer's renewals found by customer: left to itself the optimizer reads every renewal of
	the period and then keeps the book's, even for a book of 5,000 customers among 100,000. Each way
	costs about one lookup per row it starts from, so a larger book lets the renewals lead."""
	if owner and book_is_smaller(owner, first, last):
		return (
			frappe.qb.from_(customer)
			.force_index(BOOK_INDEX)
			.join(renewal)
			.on(renewal.customer == customer.name)
		)
	return frappe.qb.from_(renewal).join(customer).on(customer.name == renewal.customer)


# The Customer indexes that find a tier's or a lifecycle stage's customers (setup/indexes.py); both
# lead with `disabled`, which is 0 or 1, so a filter on either reads them as two ranges.
SEGMENT_INDEXES = {
	"tier": ("cs_tier_index", "cs_tier"),
	"lifecycle_stage": ("cs_stage_index", "cs_lifecycle_stage"),
}


def renewals_of_segment(renewal, customer, filters: dict, first: date, last: date):
	"""For the team with a tier or lifecycle stage: when that segment has fewer customers than the
	period has renewals, its customers lead (found on their index), each one's renewals found by
	customer; else None (the renewals lead, as `renewals_with_customers`). Left to itself the
	optimizer reads every renewal of the period to keep a rare tier's few."""
	key = "tier" if filters.get("tier") else "lifecycle_stage"
	index, fieldname = SEGMENT_INDEXES[key]
	in_segment = customer.disabled.isin([0, 1]) & (customer[fieldname] == filters[key])
	if not segment_is_smaller(index, in_segment, first, last):
		return None
	return (
		frappe.qb.from_(customer)
		.force_index(index)
		.join(renewal)
		.on(renewal.customer == customer.name)
		.where(in_segment)
	)


def segment_is_smaller(index: str, in_segment, first: date, last: date) -> bool:
	"""Whether the customers `in_segment` (counted on `index`) are fewer than the renewals ending from
	`first` to `last` (read from the end-date index, stopping past that many)."""
	customer = frappe.qb.DocType("Customer")
	renewal = frappe.qb.DocType(RENEWAL)
	count = frappe.qb.from_(customer).force_index(index).select(Count("*")).where(in_segment).run()[0][0]
	period = frappe.qb.from_(renewal).select(renewal.name).where(renewal.end_date[first:last])
	return bool(period.limit(1).offset(count).run())


def book_is_smaller(owner: str, first: date, last: date) -> bool:
	"""Whether `owner` has fewer customers than there are renewals ending from `first` to `last`: the
	book counted from its index, then whether the period has a renewal past that many (read from the
	end-date index, stopping there)."""
	renewal = frappe.qb.DocType(RENEWAL)
	customer = frappe.qb.DocType("Customer")
	book = frappe.qb.from_(customer).select(Count("*")).where(customer.cs_owner == owner).run()[0][0]
	return bool(
		frappe.qb.from_(renewal)
		.select(renewal.name)
		.where(renewal.end_date[first:last])
		.limit(1)
		.offset(book)
		.run()
	)


def _open_in_window(renewal, customer, today: date, until: date, csm: str | None):
	condition = (renewal.status == engine.OPEN) & renewal.end_date[today:until]
	if csm:
		condition &= customer.cs_owner == csm
	return condition


def _at_risk(renewal, customer):
	"""The CSM's call says so, or the customer's health does (read live, not as last refreshed)."""
	return renewal.latest_call.isin(engine.AT_RISK_CALLS) | customer.cs_health_status.isin(
		engine.AT_RISK_SIGNALS
	)


def window_figures(today: date, until: date, csm: str | None) -> dict:
	"""Open renewals ending from today to `until` (of `csm`'s book when given): how many, how many
	and how much at risk, by the CSM's latest call."""
	renewal = frappe.qb.DocType(RENEWAL)
	customer = frappe.qb.DocType("Customer")
	at_risk = _at_risk(renewal, customer)
	rows = (
		renewals_with_customers(renewal, customer, csm, today, until)
		.select(
			renewal.latest_call,
			Count(renewal.name).as_("count"),
			Sum(Case().when(at_risk, 1).else_(0)).as_("at_risk"),
			Sum(Case().when(at_risk, renewal.revenue_at_stake).else_(0)).as_("revenue_at_risk"),
			Sum(renewal.revenue_at_stake).as_("revenue"),
		)
		.where(_open_in_window(renewal, customer, today, until, csm))
		.groupby(renewal.latest_call)
		.run(as_dict=True)
	)
	figures = {"count": 0, "at_risk": 0, "revenue_at_risk": 0.0, "revenue": 0.0, "by_call": {}}
	for row in rows:
		figures["count"] += int(row["count"])
		figures["at_risk"] += int(row.at_risk or 0)
		figures["revenue_at_risk"] += float(row.revenue_at_risk or 0)
		figures["revenue"] += float(row.revenue or 0)
		figures["by_call"][row.latest_call or ""] = int(row["count"])
	return figures


def at_risk_names(today: date, until: date, csm: str | None) -> list[str]:
	renewal = frappe.qb.DocType(RENEWAL)
	customer = frappe.qb.DocType("Customer")
	return (
		renewals_with_customers(renewal, customer, csm, today, until)
		.select(renewal.name)
		.where(_open_in_window(renewal, customer, today, until, csm) & _at_risk(renewal, customer))
		.run(pluck=True)
	)


def renewals_by_month(first: date, last: date, csm: str | None) -> list[dict]:
	"""Renewals ending from `first` to `last` per month ("YYYY-MM") and health signal (all outcomes).
	The team's are read from the renewals alone (every renewal has its customer: a mandatory link);
	a book's through its customers."""
	renewal = frappe.qb.DocType(RENEWAL)
	customer = frappe.qb.DocType("Customer")
	year = frappe.qb.functions("YEAR", renewal.end_date)
	month = frappe.qb.functions("MONTH", renewal.end_date)
	condition = renewal.end_date[first:last] & (renewal.status != engine.CANCELLED)
	if csm:
		query = renewals_with_customers(renewal, customer, csm, first, last)
		condition &= customer.cs_owner == csm
	else:
		query = frappe.qb.from_(renewal)
	rows = (
		query.select(
			year.as_("year"),
			month.as_("month"),
			renewal.signal_status,
			Count(renewal.name).as_("count"),
		)
		.where(condition)
		.groupby(year, month, renewal.signal_status)
		.run(as_dict=True)
	)
	for row in rows:
		row.month = f"{int(row.year):04d}-{int(row.month):02d}"
	return rows


def average_health(csm: str | None) -> tuple[float | None, int]:
	"""The average health score of the active customers not churned with a colour (of `csm`'s book)."""
	customer = frappe.qb.DocType("Customer")
	condition = (
		(customer.disabled == 0)
		# the lifecycle stage (engine.CHURNED is a renewal's status)
		& (IfNull(customer.cs_lifecycle_stage, "") != CHURNED_STAGE)
		& customer.cs_health_status.isin((engine.GREEN, engine.YELLOW, engine.RED))
	)
	if csm:
		condition &= customer.cs_owner == csm
	row = (
		frappe.qb.from_(customer)
		.select(Avg(customer.cs_health_score).as_("score"), Count(customer.name).as_("n"))
		.where(condition)
		.run(as_dict=True)[0]
	)
	return (None if row.score is None else float(row.score)), int(row.n or 0)


# --- the ledger -------------------------------------------------------------------------------


def customer_filter_condition(customer, filters: dict, csm: str | None):
	"""The customers a report covers: of `csm`'s book when a CSM reads it, else the CSM filter; then
	tier and lifecycle stage."""
	condition = customer.name.isnotnull()
	owner = csm or filters.get("csm")
	if owner:
		condition &= customer.cs_owner == owner
	if filters.get("tier"):
		condition &= customer.cs_tier == filters["tier"]
	if filters.get("lifecycle_stage"):
		condition &= customer.cs_lifecycle_stage == filters["lifecycle_stage"]
	if filters.get("customer"):
		condition &= customer.name == filters["customer"]
	return condition


def retention_revenue(points: list[date], filters: dict, csm: str | None) -> dict[date, tuple[dict, dict]]:
	"""{T: ({customer: revenue in the cohort window}, {customer: revenue in the measured window})}
	for every point T, from one scan of submitted Sales Invoices (credit notes netted), in the
	default company's currency (`filters["company"]` limits it to one company)."""
	if not points:
		return {}
	invoice = frappe.qb.DocType("Sales Invoice")
	customer = frappe.qb.DocType("Customer")
	windows = [engine.retention_windows(point) for point in points]
	columns = []
	for i, ((p_first, p_last), (c_first, c_last)) in enumerate(windows):
		columns.append(
			Sum(Case().when(invoice.posting_date[p_first:p_last], invoice.base_net_total).else_(0)).as_(
				f"p{i}"
			)
		)
		columns.append(
			Sum(Case().when(invoice.posting_date[c_first:c_last], invoice.base_net_total).else_(0)).as_(
				f"c{i}"
			)
		)
	condition = (
		(invoice.docstatus == 1)
		& invoice.posting_date[windows[0][0][0] : windows[-1][1][1]]
		& customer_filter_condition(customer, filters, csm)
	)
	if filters.get("company"):
		condition &= invoice.company == filters["company"]
	rows = (
		frappe.qb.from_(invoice)
		.join(customer)
		.on(customer.name == invoice.customer)
		.select(invoice.customer, invoice.company, *columns)
		.where(condition)
		.groupby(invoice.customer, invoice.company)
		.run(as_dict=True)
	)
	rates = rates_for(row.company for row in rows)
	result = {point: ({}, {}) for point in points}
	for row in rows:
		rate = rates.get(row.company, 1.0)
		for i, point in enumerate(points):
			prev, curr = result[point]
			for key, target in ((f"p{i}", prev), (f"c{i}", curr)):
				amount = float(row[key] or 0) * rate
				if amount:
					target[row.customer] = target.get(row.customer, 0.0) + amount
	return result


def _renewal_condition(renewal, filters: dict):
	"""The forecast's renewals by their own fields: ending in the period, not Cancelled unless the
	Status filter asks."""
	condition = renewal.end_date[getdate(filters["from_date"]) : getdate(filters["to_date"])]
	if filters.get("status"):
		return condition & (renewal.status == filters["status"])
	return condition & (renewal.status != engine.CANCELLED)


def _joins_customers(filters: dict, csm: str | None) -> bool:
	"""Whether the forecast's renewals are chosen by their customers too (a book, tier, stage, customer);
	otherwise every renewal of the period counts (each has its customer: a mandatory link)."""
	return bool(
		csm
		or filters.get("csm")
		or filters.get("tier")
		or filters.get("lifecycle_stage")
		or filters.get("customer")
	)


def _forecast_renewals(filters: dict, csm: str | None):
	"""(query, renewal, customer, condition): the Renewal Forecast's renewals (`_renewal_condition`)
	joined to their customers, of `csm`'s book (or the CSM filter's), tier, stage, customer."""
	renewal = frappe.qb.DocType(RENEWAL)
	customer = frappe.qb.DocType("Customer")
	first, last = getdate(filters["from_date"]), getdate(filters["to_date"])
	condition = _renewal_condition(renewal, filters) & customer_filter_condition(customer, filters, csm)
	owner = csm or filters.get("csm")
	query = renewals_with_customers(renewal, customer, owner, first, last)
	if not owner and (filters.get("tier") or filters.get("lifecycle_stage")):
		query = renewals_of_segment(renewal, customer, filters, first, last) or query
	return query, renewal, customer, condition


def _forecast_columns(renewal, customer) -> list:
	return [
		renewal.name.as_("renewal"),
		renewal.customer,
		customer.cs_owner.as_("csm"),
		customer.cs_tier.as_("tier"),
		renewal.contract,
		renewal.end_date,
		renewal.status,
		renewal.revenue_at_stake,
		renewal.latest_call,
		renewal.expected_amount,
		customer.cs_health_status.as_("signal_status"),
		customer.cs_health_score.as_("signal_score"),
		customer.cs_health_trend.as_("signal_trend"),
		renewal.renewed_amount,
		renewal.change_amount,
		renewal.change_type,
		renewal.churn_reason,
		renewal.subscription,
	]


def forecast_rows(filters: dict, csm: str | None) -> list[dict]:
	"""The Renewal Forecast's renewals (`_forecast_renewals`), all of them, with their customer's CSM,
	tier and live health signal. Only the columns the report shows or needs: on the team's window
	(tens of thousands of renewals) the driver's decoding of each value is most of the time, so the
	team's report lists `first_forecast_rows` instead."""
	query, renewal, customer, condition = _forecast_renewals(filters, csm)
	return query.select(*_forecast_columns(renewal, customer)).where(condition).run(as_dict=True)


def _disagrees(renewal, customer):
	"""`engine.is_disagreement` as SQL: the CSM's call Will Renew, the customer's live health Red."""
	return (renewal.latest_call == engine.WILL_RENEW) & (customer.cs_health_status == engine.RED)


def _in_forecast_order(query, renewal):
	"""`engine.forecast_order` after its disagreements-first key, as SQL: by end date, then the larger
	revenue at stake (none counts as 0), then the renewal's name compared as Python compares strings
	(by code point: binary), so the order is total and ties come out as the engine puts them."""
	return (
		query.orderby(renewal.end_date)
		.orderby(IfNull(renewal.revenue_at_stake, 0), order=Order.desc)
		.orderby(frappe.qb.functions("BINARY", renewal.name))
	)


def first_forecast_rows(filters: dict, csm: str | None, limit: int, disagreements: int) -> list[dict]:
	"""The first `limit` of the forecast's renewals in `engine.forecast_order`, ordered and cut in the
	database, given how many of them are `disagreements` (`engine.forecast_totals`): the disagreements
	first (the first `limit` of them), then the rest in that order.

	Joining each renewal to its customer for the live signal costs more than everything else (tens of
	thousands of lookups on the team's window), so only the disagreements are found through the join
	(a Will Renew call first); the rest are the first `limit` of the period in the order without them,
	read from the renewals alone unless a customer filter (tier, stage, customer, book) needs the join,
	less the disagreements among them. Then the columns of the listed renewals alone."""
	query, renewal, customer, condition = _forecast_renewals(filters, csm)
	names = []
	if disagreements:
		names = (
			_in_forecast_order(
				query.select(renewal.name).where(condition & _disagrees(renewal, customer)), renewal
			)
			.limit(limit)
			.run(pluck=True)
		)
	if len(names) < limit:
		if _joins_customers(filters, csm):
			rest = query.select(renewal.name).where(condition)
		else:
			rest = frappe.qb.from_(renewal).select(renewal.name).where(_renewal_condition(renewal, filters))
		found = set(names)
		names += [
			name
			for name in _in_forecast_order(rest, renewal).limit(limit + len(names)).run(pluck=True)
			if name not in found
		][: limit - len(names)]
	if not names:
		return []
	rows = (
		frappe.qb.from_(renewal)
		.join(customer)
		.on(customer.name == renewal.customer)
		.select(*_forecast_columns(renewal, customer))
		.where(renewal.name.isin(names))
		.run(as_dict=True)
	)
	position = {name: i for i, name in enumerate(names)}
	return sorted(rows, key=lambda row: position[row["renewal"]])


def forecast_groups(filters: dict, csm: str | None) -> list[dict]:
	"""Every renewal of the forecast (`_forecast_renewals`) summed in the database by what its part of
	the totals depends on (`engine.FORECAST_GROUP_KEYS`): the groups `engine.forecast_groups` makes of
	`forecast_rows`, without reading the renewals one by one. The open ones (nearly all of a window) are
	summed from the renewal window index alone, each joined to its customer for the live signal; the
	closed ones (their renewed worth is on the row) apart."""
	query, renewal, customer, condition = _forecast_renewals(filters, csm)
	year = frappe.qb.functions("YEAR", renewal.end_date)
	month = frappe.qb.functions("MONTH", renewal.end_date)
	renewed = renewal.status == engine.RENEWED
	unknown = (
		Case()
		.when(renewed & ((renewal.change_type == engine.UNKNOWN) | renewal.renewed_amount.isnull()), 1)
		.else_(0)
	)
	grouped = (renewal.status, customer.cs_health_status, renewal.latest_call, year, month)
	keys = [
		term.as_(name)
		for term, name in zip(
			grouped, ("status", "signal_status", "latest_call", "year", "month"), strict=True
		)
	]
	sums = [Count("*").as_("renewals"), Sum(renewal.revenue_at_stake).as_("revenue_at_stake")]
	opened = (
		query.select(*keys, *sums)
		.where(condition & (renewal.status == engine.OPEN))
		.groupby(*grouped)
		.run(as_dict=True)
	)
	closed = (
		query.select(
			*keys,
			unknown.as_("worth_unknown"),
			*sums,
			Sum(Case().when(renewed, renewal.renewed_amount).else_(0)).as_("renewed_amount"),
		)
		.where(condition & (renewal.status != engine.OPEN))
		.groupby(*grouped, unknown)
		.run(as_dict=True)
	)
	rows = opened + closed
	for row in rows:
		row["worth_unknown"] = bool(row.get("worth_unknown"))
		row["revenue_at_stake"] = float(row["revenue_at_stake"] or 0)
		row["renewed_amount"] = float(row.get("renewed_amount") or 0)
	return rows


def _customer_conditions(filters: dict, csm: str | None) -> tuple[list[str], dict]:
	"""`customer_filter_condition` as SQL on the customer `c`: the book, tier, stage, customer."""
	owner = csm or filters.get("csm")
	conditions, params = [], {}
	for key, column, value in (
		("owner", "c.`cs_owner`", owner),
		("tier", "c.`cs_tier`", filters.get("tier")),
		("lifecycle_stage", "c.`cs_lifecycle_stage`", filters.get("lifecycle_stage")),
		("customer", "c.`name`", filters.get("customer")),
	):
		if value:
			params[key] = value
			conditions.append(f"{column} = %({key})s")
	if filters.get("tier") or filters.get("lifecycle_stage"):
		# always true: the leading column of the tier and stage indexes, so a tier's or stage's
		# customers are read from their index rather than by a scan of every customer
		conditions.append("c.`disabled` in (0, 1)")
	return conditions, params


def _ending_query(start: date, end: date, customer_conditions: list[str], select: str) -> str:
	"""Submitted customer contracts ending from `start` to `end` with no Renewal for that term. With a
	book (or a tier, stage or customer) the customers are read first (their index) and each one's
	contracts from the party/term index; for the whole team the end-date index is read in order, with
	no customer read at all."""
	contract_conditions = (
		"k.`party_type` = 'Customer' and k.`docstatus` = 1 and k.`end_date` between %(start)s and %(end)s "
		"and not exists (select 1 from `tabRenewal` r where r.`contract` = k.`name` and r.`end_date` = k.`end_date`)"
	)
	# raw SQL for the join order (qb writes no STRAIGHT_JOIN); the conditions are ours, values parameters
	if customer_conditions:
		return f"""select {select} from `tabCustomer` c
			straight_join `tabContract` k force index (`cs_party_term_index`) on k.`party_name` = c.`name`
			where {" and ".join(customer_conditions)} and {contract_conditions}"""
	return f"""select {select} from `tabContract` k force index (`cs_contract_end_index`)
		where {contract_conditions}"""


def contracts_without_renewal(
	start: date, end: date, filters: dict, csm: str | None, limit: int | None = None
) -> tuple[list[dict], int]:
	"""Submitted customer contracts of the report's customers ending from `start` to `end` with no
	Renewal for that term, the soonest ending first (`limit` of them), with their customer's name and
	CS Owner; and how many there are in all. A book's are read and counted in one pass over its
	customers (MariaDB counts the window before the limit); the team's first `limit` are read in the
	end-date index's order (no sort of the whole range), and counted from that index alone."""
	conditions, params = _customer_conditions(filters, csm)
	params.update({"start": start, "end": end, "limit": int(limit or 0)})
	columns = "k.`name`, k.`party_name` as customer, k.`end_date`"
	if conditions:
		columns += ", count(*) over () as total"
	rows = frappe.db.sql(
		_ending_query(start, end, conditions, columns)
		+ " order by k.`end_date`, k.`party_name`, k.`name`"
		+ (" limit %(limit)s" if limit else ""),
		params,
		as_dict=True,
	)
	count = int(rows[0].total) if conditions and rows else len(rows)
	if not conditions and limit and count == limit:
		count = int(frappe.db.sql(_ending_query(start, end, conditions, "count(*)"), params)[0][0] or 0)
	customer = frappe.qb.DocType("Customer")
	people = {
		row.name: row
		for row in frappe.qb.from_(customer)
		.select(customer.name, customer.customer_name, customer.cs_owner)
		.where(customer.name.isin(sorted({row.customer for row in rows}) or [""]))
		.run(as_dict=True)
	}
	for row in rows:
		row.pop("total", None)
		person = people.get(row.customer) or frappe._dict()
		row.customer_name, row.csm = person.get("customer_name"), person.get("cs_owner")
	return rows, count


def subscriptions_without_renewal(start: date, end: date, filters: dict, csm: str | None) -> list[dict]:
	"""Live customer subscriptions of the report's customers whose renewal term (`subscription_rows`:
	its End Date, or a yearly evergreen one's current billing period) ends from `start` to `end` with
	no Renewal for that term: what the nightly job would make a renewal for, or has not yet."""
	sub = frappe.qb.DocType("Subscription")
	customer = frappe.qb.DocType("Customer")
	names = (
		frappe.qb.from_(sub)
		.join(customer)
		.on(customer.name == sub.party)
		.select(sub.name)
		.where(
			(sub.party_type == "Customer")
			& sub.status.isin(engine.LIVE_SUBSCRIPTION_STATUSES)
			& (sub.end_date[start:end] | (sub.end_date.isnull() & sub.current_invoice_end[start:end]))
			& customer_filter_condition(customer, filters, csm)
		)
		.run(pluck=True)
	)
	if not names:
		return []
	rows = subscriptions_ending(start, end, names)
	people = {
		row.name: row
		for row in frappe.qb.from_(customer)
		.select(customer.name, customer.customer_name, customer.cs_owner)
		.where(customer.name.isin(sorted({row.customer for row in rows}) or [""]))
		.run(as_dict=True)
	}
	for row in rows:
		person = people.get(row.customer) or frappe._dict()
		row.customer_name, row.csm = person.get("customer_name"), person.get("cs_owner")
	return rows


def _auto_renewals_with_notice(start: date, end: date, filters: dict, csm: str | None):
	contract = frappe.qb.DocType("Contract")
	customer = frappe.qb.DocType("Customer")
	# the notice date (`engine.notice_date`: the end date less the notice days, never negative) in SQL
	notice = frappe.qb.functions(
		"ADDDATE",
		contract.end_date,
		0 - frappe.qb.functions("GREATEST", frappe.qb.functions("IFNULL", contract.cs_notice_days, 0), 0),
	)
	query = (
		frappe.qb.from_(contract)
		.join(customer)
		.on(customer.name == contract.party_name)
		.where(
			(contract.cs_auto_renew == 1)
			& (contract.docstatus == 1)
			& (contract.end_date >= start)
			& (contract.party_type == "Customer")
			& notice[start:end]
			& customer_filter_condition(customer, filters, csm)
		)
	)
	return query, contract, customer, notice


def auto_renewals_with_notice(
	start: date, end: date, filters: dict, csm: str | None, limit: int | None = None
) -> list[dict]:
	"""Submitted contracts that renew by themselves (cs_auto_renew) whose notice date (end date
	minus cs_notice_days) falls from `start` to `end`, the nearest notice first (`limit` of them)."""
	query, contract, customer, notice = _auto_renewals_with_notice(start, end, filters, csm)
	query = (
		query.select(
			contract.name,
			contract.party_name.as_("customer"),
			customer.customer_name,
			customer.cs_owner.as_("csm"),
			contract.start_date,
			contract.end_date,
			contract.cs_notice_days,
		)
		.orderby(notice)
		.orderby(contract.name)
	)
	if limit:
		query = query.limit(limit)
	rows = query.run(as_dict=True)
	for row in rows:
		row.notice_date = engine.notice_date(getdate(row.end_date), row.cs_notice_days)
	return rows


def count_auto_renewals_with_notice(start: date, end: date, filters: dict, csm: str | None) -> int:
	query, _contract, _customer, _notice = _auto_renewals_with_notice(start, end, filters, csm)
	return int(query.select(Count("*")).run()[0][0] or 0)


# --- reads for other rooms' reports -------------------------------------------------------------


def open_renewal_ends(customers) -> dict[str, dict]:
	"""{customer: {"renewal", "end_date"}} of the earliest Open renewal of each customer given (a
	list or a sub-query), for the Customer Health report's renewal date."""
	renewal = frappe.qb.DocType("Renewal")
	rows = (
		frappe.qb.from_(renewal)
		.select(renewal.name, renewal.customer, renewal.end_date)
		.where((renewal.status == engine.OPEN) & renewal.customer.isin(customers))
		.orderby(renewal.end_date, order=frappe.qb.desc)
		.run(as_dict=True)
	)
	# earliest last: it overwrites the later ones
	return {row.customer: {"renewal": row.name, "end_date": getdate(row.end_date)} for row in rows}


def closed_outcomes(customers, start: date, end: date) -> list[dict]:
	"""Renewals closed as Renewed or Churned whose term ended in [start, end], of the customers of
	the sub-query (None: every customer), as outcome events {"customer", "outcome", "date"} (the
	Health Backtest's)."""
	renewal = frappe.qb.DocType("Renewal")
	condition = renewal.status.isin((engine.RENEWED, engine.CHURNED)) & renewal.end_date[start:end]
	if customers is not None:
		condition &= renewal.customer.isin(customers)
	rows = (
		frappe.qb.from_(renewal)
		.select(renewal.customer, renewal.status, renewal.end_date)
		.where(condition)
		.run(as_dict=True)
	)
	return [{"customer": r.customer, "outcome": r.status, "date": getdate(r.end_date)} for r in rows]


# --- the revenue roll-up: the ledger per day, company and CS Owner ---------------------------------
# `cs_revenue_by_csm_day` (setup/rollups.py): submitted Sales Invoices (credit notes netted),
# base_net_total summed per posting date, company and the customer's current CS Owner and disabled
# flag. Every write adds a difference (`net_total + x`), so concurrent writers commute: an invoice
# submitted or cancelled, a customer moved to another book, the nightly reconciliation.

REVENUE_ROLLUP = "cs_revenue_by_csm_day"
_ADD = (
	f"on duplicate key update `{REVENUE_ROLLUP}`.`net_total` = `{REVENUE_ROLLUP}`.`net_total` + values(`net_total`), "
	f"`{REVENUE_ROLLUP}`.`invoices` = `{REVENUE_ROLLUP}`.`invoices` + values(`invoices`)"
)
_COLUMNS = "(`csm`, `disabled`, `company`, `posting_date`, `net_total`, `invoices`)"


def add_invoice_to_rollup(invoice: str, sign: int):
	"""Add (sign 1: submitted) or take out (-1: cancelled) one invoice, as stored, under its
	customer's current book."""
	frappe.db.sql(
		f"""
		insert into `{REVENUE_ROLLUP}` {_COLUMNS}
		select ifnull(c.cs_owner, ''), c.disabled, si.company, si.posting_date,
			%(sign)s * si.base_net_total, %(sign)s
		from `tabSales Invoice` si
		join `tabCustomer` c on c.name = si.customer
		where si.name = %(invoice)s
		{_ADD}
		""",
		{"invoice": invoice, "sign": 1 if sign > 0 else -1},
	)


def move_customer_revenue(customer: str, old_csm: str | None, old_disabled: int, new_csm, new_disabled):
	"""A customer changed book (CS Owner) or was disabled/enabled: its submitted invoices move from
	the old key to the new, day by day."""
	for csm, disabled, sign in ((old_csm, old_disabled, -1), (new_csm, new_disabled, 1)):
		frappe.db.sql(
			f"""
			insert into `{REVENUE_ROLLUP}` {_COLUMNS}
			select %(csm)s, %(disabled)s, si.company, si.posting_date,
				%(sign)s * sum(si.base_net_total), %(sign)s * count(*)
			from `tabSales Invoice` si
			where si.customer = %(customer)s and si.docstatus = 1
			group by si.company, si.posting_date
			{_ADD}
			""",
			{"customer": customer, "csm": csm or "", "disabled": 1 if disabled else 0, "sign": sign},
		)


def revenue_cells_from_ledger() -> dict[tuple, tuple]:
	"""{(csm, disabled, company, posting_date): (net_total, invoices)} computed afresh from the
	ledger: one grouped scan of the submitted invoices (the billing index) with their customers."""
	rows = frappe.db.sql(
		"""
		select ifnull(c.cs_owner, ''), c.disabled, si.company, si.posting_date,
			sum(si.base_net_total), count(*)
		from `tabSales Invoice` si
		join `tabCustomer` c on c.name = si.customer
		where si.docstatus = 1
		group by 1, 2, 3, 4
		"""
	)
	return {
		(csm, int(disabled), company, getdate(day)): (total, int(n))
		for csm, disabled, company, day, total, n in rows
	}


def revenue_cells_rolled_up() -> dict[tuple, tuple]:
	rows = frappe.db.sql(
		f"select `csm`, `disabled`, `company`, `posting_date`, `net_total`, `invoices` from `{REVENUE_ROLLUP}`"
	)
	return {
		(csm, int(disabled), company, getdate(day)): (total, int(n))
		for csm, disabled, company, day, total, n in rows
	}


def add_revenue_cells(cells: list[tuple], batch: int = 1000):
	"""Add [(csm, disabled, company, posting_date, net_total, invoices)] to the roll-up."""
	row_sql = "(%s, %s, %s, %s, %s, %s)"
	for start in range(0, len(cells), batch):
		part = cells[start : start + batch]
		frappe.db.sql(
			f"insert into `{REVENUE_ROLLUP}` {_COLUMNS} values {', '.join([row_sql] * len(part))} {_ADD}",
			[value for cell in part for value in cell],
		)


def drop_empty_revenue_cells():
	frappe.db.sql(f"delete from `{REVENUE_ROLLUP}` where `invoices` = 0 and `net_total` = 0")


def rolled_up_revenue_by_csm(from_date: date, to_date: date, csm: str | None) -> list[tuple]:
	"""[(csm, company, net revenue)] of the active customers' books from the roll-up: what
	`customer_success` CSM Workload sums from the ledger when no tier or stage narrows the book."""
	table = frappe.qb.Table(REVENUE_ROLLUP)
	condition = (table.disabled == 0) & table.posting_date[from_date:to_date]
	if csm:
		condition &= table.csm == csm
	return (
		frappe.qb.from_(table)
		.select(table.csm, table.company, Sum(table.net_total))
		.where(condition)
		.groupby(table.csm, table.company)
		.run()
	)


# --- the retention roll-up: Revenue Retention's components per point and customer keys ------------
# `cs_retention_period` (the points held; complete once reconciled), `cs_retention_customer` (each
# customer's revenue in a point's two windows, all companies, and the keys its part is counted under:
# RETENTION_KEYS) and `cs_retention_point` (the summed `engine.COMPONENTS` and later window's revenue,
# POINT_SUMS, per point and keys). A customer's rows are written only under its Customer row lock, so
# its old part is known exactly; the point sums are kept by adding differences, so different
# customers' writers commute.

RETENTION_PERIODS = "cs_retention_period"
RETENTION_CUSTOMERS = "cs_retention_customer"
RETENTION_POINTS = "cs_retention_point"
# what a customer's part is counted under: CS Owner, tier, segment ('' for none) and in business
# (enabled and not churned: 1, else 0), as the Customer has them now
RETENTION_KEYS = ("csm", "tier", "segment", "in_business")
POINT_SUMS = (*engine.COMPONENTS, "revenue")
# the customer's RETENTION_KEYS from its Customer row (our constant SQL)
CUSTOMER_KEYS_SQL = """ifnull(c.`cs_owner`, ''), ifnull(c.`cs_tier`, ''), ifnull(c.`cs_segment`, ''),
	(c.`disabled` = 0 and ifnull(c.`cs_lifecycle_stage`, '') != 'Churned')"""


def retention_periods() -> dict[date, bool]:
	"""{point T held: complete}."""
	return {
		getdate(day): bool(complete)
		for day, complete in frappe.db.sql(f"select `period_end`, `complete` from `{RETENTION_PERIODS}`")
	}


def add_retention_periods(days: list[date]):
	if days:
		frappe.db.sql(
			f"insert ignore into `{RETENTION_PERIODS}` (`period_end`, `complete`) values "
			+ ", ".join(["(%s, 0)"] * len(days)),
			list(days),
		)


def drop_retention_periods(days: list[date]):
	if not days:
		return
	for table in (RETENTION_PERIODS, RETENTION_CUSTOMERS, RETENTION_POINTS):
		frappe.db.sql(f"delete from `{table}` where `period_end` in %s", (tuple(days),))


def mark_retention_periods_complete(days: list[date]):
	if days:
		frappe.db.sql(
			f"update `{RETENTION_PERIODS}` set `complete` = 1 where `period_end` in %s", (tuple(days),)
		)


def lock_customers(names: list[str]) -> dict[str, tuple]:
	"""{customer: its RETENTION_KEYS now}, read with the rows locked (the latest committed values):
	the retention roll-up's writers of these customers wait for each other."""
	if not names:
		return {}
	rows = frappe.db.sql(
		f"select c.`name`, {CUSTOMER_KEYS_SQL} from `tabCustomer` c where c.`name` in %s for update",
		(tuple(names),),
	)
	return {name: (csm, tier, segment, int(in_business)) for name, csm, tier, segment, in_business in rows}


def ledger_retention_values(names: list[str], points: list[date]) -> dict[tuple[str, date], tuple]:
	"""{(customer, T): (revenue in T's earlier window, in its later one)} afresh from the ledger for
	these customers (submitted Sales Invoices, credit notes netted, every company), pairs of 0 left out."""
	if not names or not points:
		return {}
	invoice = frappe.qb.DocType("Sales Invoice")
	windows = [engine.retention_windows(point) for point in points]
	columns = []
	for i, ((p_first, p_last), (c_first, c_last)) in enumerate(windows):
		for key, first, last in ((f"p{i}", p_first, p_last), (f"c{i}", c_first, c_last)):
			columns.append(
				Sum(Case().when(invoice.posting_date[first:last], invoice.base_net_total).else_(0)).as_(key)
			)
	rows = (
		frappe.qb.from_(invoice)
		.select(invoice.customer, *columns)
		.where(
			(invoice.docstatus == 1)
			& invoice.customer.isin(names)
			& invoice.posting_date[min(w[0][0] for w in windows) : max(w[1][1] for w in windows)]
		)
		.groupby(invoice.customer)
		.run(as_dict=True)
	)
	found = {}
	for row in rows:
		for i, point in enumerate(points):
			prev, curr = row[f"p{i}"] or 0, row[f"c{i}"] or 0
			if prev or curr:
				found[(row.customer, point)] = (prev, curr)
	return found


def stored_retention_values(
	names: list[str], points: list[date] | None = None
) -> dict[tuple[str, date], tuple]:
	"""{(customer, T): (prev, curr, RETENTION_KEYS)} as the roll-up holds them (read under the
	customers' lock)."""
	if not names:
		return {}
	keys = ", ".join(f"`{key}`" for key in RETENTION_KEYS)
	query = f"select `customer`, `period_end`, `prev`, `curr`, {keys} from `{RETENTION_CUSTOMERS}` where `customer` in %(names)s"
	if points is not None:
		if not points:
			return {}
		query += " and `period_end` in %(points)s"
	rows = frappe.db.sql(query, {"names": tuple(names), "points": tuple(points or ())})
	return {
		(customer, getdate(day)): (prev, curr, (csm, tier, segment, int(in_business)))
		for customer, day, prev, curr, csm, tier, segment, in_business in rows
	}


def misfiled_retention_values(names: list[str]) -> dict[tuple[str, date], tuple]:
	"""`stored_retention_values` of these customers' rows held under keys other than the ones their
	Customer has now (after a set-based write of the CS Owner, tier, segment, stage or disabled flag)."""
	if not names:
		return {}
	keys = ", ".join(f"r.`{key}`" for key in RETENTION_KEYS)
	rows = frappe.db.sql(
		f"""select r.`customer`, r.`period_end`, r.`prev`, r.`curr`, {keys}
		from `{RETENTION_CUSTOMERS}` r join `tabCustomer` c on c.`name` = r.`customer`
		where r.`customer` in %(names)s and ({keys}) <> ({CUSTOMER_KEYS_SQL})""",
		{"names": tuple(names)},
	)
	return {
		(customer, getdate(day)): (prev, curr, (csm, tier, segment, int(in_business)))
		for customer, day, prev, curr, csm, tier, segment, in_business in rows
	}


def write_retention_values(rows: list[tuple], batch: int = 1000):
	"""Set [(customer, T, RETENTION_KEYS, prev, curr)] (a pair of 0 deletes the row)."""
	gone = [(customer, day) for customer, day, _keys, prev, curr in rows if not prev and not curr]
	kept = [(customer, day, *keys, prev, curr) for customer, day, keys, prev, curr in rows if prev or curr]
	columns = ("customer", "period_end", *RETENTION_KEYS, "prev", "curr")
	update = ", ".join(f"`{c}` = values(`{c}`)" for c in columns[2:])
	row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
	for start in range(0, len(kept), batch):
		part = kept[start : start + batch]
		frappe.db.sql(
			f"insert into `{RETENTION_CUSTOMERS}` ({', '.join(f'`{c}`' for c in columns)}) values "
			+ ", ".join([row_sql] * len(part))
			+ f" on duplicate key update {update}",
			[value for row in part for value in row],
		)
	for customer, day in gone:
		frappe.db.sql(
			f"delete from `{RETENTION_CUSTOMERS}` where `customer` = %s and `period_end` = %s",
			(customer, day),
		)


def add_retention_components(deltas: dict[tuple[date, str], list], batch: int = 500):
	"""Add {(T, RETENTION_KEYS): [POINT_SUMS differences]} to the point sums."""
	cells = [(day, *keys, *values) for (day, keys), values in deltas.items() if any(values)]
	keys = ", ".join(f"`{c}`" for c in RETENTION_KEYS)
	names = ", ".join(f"`{c}`" for c in POINT_SUMS)
	update = ", ".join(f"`{c}` = `{c}` + values(`{c}`)" for c in POINT_SUMS)
	row_sql = "(" + ", ".join(["%s"] * (1 + len(RETENTION_KEYS) + len(POINT_SUMS))) + ")"
	for start in range(0, len(cells), batch):
		part = cells[start : start + batch]
		frappe.db.sql(
			f"insert into `{RETENTION_POINTS}` (`period_end`, {keys}, {names}) values "
			+ ", ".join([row_sql] * len(part))
			+ f" on duplicate key update {update}",
			[value for cell in part for value in cell],
		)


def file_retention_parts_under_customer_keys():
	"""Every held part given its customer's RETENTION_KEYS now, in one statement (a site upgraded
	onto the keyed roll-up; the point sums are then summed afresh)."""
	keys = ", ".join(f"r.`{key}`" for key in RETENTION_KEYS)
	frappe.db.sql(
		f"""update `{RETENTION_CUSTOMERS}` r join `tabCustomer` c on c.`name` = r.`customer`
		set r.`csm` = ifnull(c.`cs_owner`, ''), r.`tier` = ifnull(c.`cs_tier`, ''),
			r.`segment` = ifnull(c.`cs_segment`, ''),
			r.`in_business` = (c.`disabled` = 0 and ifnull(c.`cs_lifecycle_stage`, '') != 'Churned')
		where ({keys}) <> ({CUSTOMER_KEYS_SQL})"""
	)


def sum_retention_points_from_parts():
	"""The point sums made the sums of the held parts (`retention_component_terms` and the later
	window's revenue, grouped by point and keys), replacing what the table held."""
	held = frappe.qb.Table(RETENTION_CUSTOMERS)
	keys = [held.period_end, *(held[key] for key in RETENTION_KEYS)]
	select = (
		frappe.qb.from_(held)
		.select(*keys, *retention_component_terms(held.prev, held.curr), Sum(held.curr))
		.groupby(*keys)
	)
	columns = ", ".join(f"`{c}`" for c in ("period_end", *RETENTION_KEYS, *POINT_SUMS))
	frappe.db.sql(f"delete from `{RETENTION_POINTS}`")
	frappe.db.sql(f"insert into `{RETENTION_POINTS}` ({columns}) {select.get_sql()}")


def rolled_up_retention(points: list[date], csm: str | None, tier: str | None = None) -> dict[date, dict]:
	"""{T: {component: sum}} of the points asked for, of `csm`'s book (None: everyone), of the
	customers of `tier` now (None: every tier)."""
	if not points:
		return {}
	sums = ", ".join(f"sum(`{c}`)" for c in engine.COMPONENTS)
	query = f"select `period_end`, {sums} from `{RETENTION_POINTS}` where `period_end` in %(points)s"
	if csm is not None:
		query += " and `csm` = %(csm)s"
	if tier is not None:
		query += " and `tier` = %(tier)s"
	rows = frappe.db.sql(
		query + " group by `period_end`", {"points": tuple(points), "csm": csm or "", "tier": tier or ""}
	)
	found = {point: dict.fromkeys(engine.COMPONENTS, 0) for point in points}
	for day, *values in rows:
		found[getdate(day)] = dict(zip(engine.COMPONENTS, values, strict=True))
	return found


def customer_batch(lo: str | None, limit: int) -> list[str]:
	"""The next `limit` customers by name after `lo`, for the reconciliation's batches (every
	customer: one whose invoices were all cancelled may still hold rows)."""
	customer = frappe.qb.DocType("Customer")
	query = frappe.qb.from_(customer).select(customer.name).orderby(customer.name).limit(limit)
	if lo is not None:
		query = query.where(customer.name > lo)
	return query.run(pluck=True)


def invoiced_companies() -> list[str]:
	"""The companies with submitted revenue (from the revenue roll-up, a small table)."""
	return frappe.db.sql_list(f"select distinct `company` from `{REVENUE_ROLLUP}` where `invoices` != 0")


def retention_orphans() -> list[str]:
	"""Customers the retention roll-up holds rows of that no longer exist (deleted, merged away)."""
	return frappe.db.sql_list(
		f"""select distinct r.`customer` from `{RETENTION_CUSTOMERS}` r
		left join `tabCustomer` c on c.`name` = r.`customer` where c.`name` is null"""
	)


def first_revenue_day() -> date | None:
	day = frappe.db.sql(f"select min(`posting_date`) from `{REVENUE_ROLLUP}` where `invoices` != 0")[0][0]
	return getdate(day) if day else None


def retention_component_terms(prev, curr, prefix: str = "") -> list:
	"""`engine.customer_components` as SQL sums over rows of (earlier, later window) revenue, one term per
	`engine.COMPONENTS` (in order, aliased `prefix` + its name): the retention of any set of customers
	grouped in the database (a NULL pair, a customer with no row, adds nothing, as a pair of 0 does)."""
	cohort = prev > 0
	churned = cohort & (curr <= 0)
	expanded = cohort & (curr > prev)
	contracted = cohort & (curr > 0) & (curr < prev)
	terms = (
		Case().when(cohort, 1).else_(0),
		Case().when(cohort, prev).else_(0),
		Case().when(expanded, curr - prev).else_(0),
		Case().when(contracted, prev - curr).else_(0),
		Case().when(churned, prev).else_(0),
		Case().when(churned, 1).else_(0),
		Case().when(expanded, 1).else_(0),
		Case().when(contracted, 1).else_(0),
	)
	return [Sum(term).as_(prefix + name) for term, name in zip(terms, engine.COMPONENTS, strict=True)]


def retention_by_group(day: date, csm: str | None = None, prefix: str = "") -> list[dict]:
	"""Per tier and segment (as the customers have them now) of `csm`'s book (None: everyone), from
	the point sums at `day`: the later window's revenue of the customers in business (`revenue`) and
	`engine.COMPONENTS` of all of them (each named `prefix` + its name)."""
	point = frappe.qb.Table(RETENTION_POINTS)
	query = (
		frappe.qb.from_(point)
		.select(
			point.tier,
			point.segment,
			Sum(Case().when(point.in_business == 1, point.revenue).else_(0)).as_("revenue"),
			*(Sum(point[c]).as_(prefix + c) for c in engine.COMPONENTS),
		)
		.where(point.period_end == day)
		.groupby(point.tier, point.segment)
	)
	if csm:
		query = query.where(point.csm == csm)
	return [
		{
			**{key: float(value or 0) for key, value in row.items() if key not in ("tier", "segment")},
			"tier": row.tier or None,
			"segment": row.segment or None,
		}
		for row in query.run(as_dict=True)
	]


def rolled_up_retention_of_customers(points: list[date], filters: dict, csm: str | None) -> dict[date, dict]:
	"""{T: {component: sum}} of the points asked for, over the customers the filters cover
	(`customer_filter_condition`: the book, and the tier, lifecycle stage or customer each has now, as
	the live computation reads them), from their rows in the retention roll-up: one grouped join."""
	if not points:
		return {}
	customer = frappe.qb.DocType("Customer")
	held = frappe.qb.Table(RETENTION_CUSTOMERS)
	rows = (
		frappe.qb.from_(customer)
		.join(held)
		.on((held.customer == customer.name) & held.period_end.isin(points))
		.select(held.period_end, *retention_component_terms(held.prev, held.curr))
		.where(customer_filter_condition(customer, filters, csm))
		.groupby(held.period_end)
		.run(as_dict=True)
	)
	found = {point: dict.fromkeys(engine.COMPONENTS, 0) for point in points}
	for row in rows:
		found[getdate(row.period_end)] = {c: row[c] or 0 for c in engine.COMPONENTS}
	return found


# --- the leak table: Revenue Leakage's invoices (setup/rollups.py: cs_revenue_leak, _day) ---------
# One row per submitted Sales Invoice (not a credit note) that no signed contract of its customer
# covers, classed by `engine.invoice_leak`'s rule, in SQL for every invoice at once, with its customer's
# CS Owner, tier and lifecycle stage. `cs_revenue_leak_day` sums them per CS Owner, tier, stage, posting
# date, kind and company; writers add differences only.

LEAK_TABLE = "cs_revenue_leak"
LEAK_DAY = "cs_revenue_leak_day"
LEAK_COLUMNS = (
	"invoice",
	"customer",
	"csm",
	"tier",
	"stage",
	"posting_date",
	"kind",
	"contract",
	"company",
	"amount",
)
# the day sums' key, in their columns' order (`engine.leak_cell`)
LEAK_CELL_COLUMNS = ("csm", "tier", "stage", "posting_date", "kind", "company")

# `engine.invoice_leak` over every submitted invoice of the customers (or invoices) asked for: a
# NOT EXISTS on the signed contracts' index leaves the covered ones in the database; for each leak
# the latest-starting submitted contract covering its date, else the last one ended before it; its
# amount net of the credit notes against it (an invoice credited back to 0 or less leaks nothing).
# Raw SQL: correlated sub-queries with ORDER BY and LIMIT inside a derived table, which qb cannot
# write; every value is a parameter, the condition one of ours (`_leak_scope`).
LEAK_ROWS = """
	select d.invoice, d.customer, d.csm, d.tier, d.stage, d.posting_date,
		case when d.open_term is null and d.ended_term is not null then %(expired)s else %(unsigned)s end as kind,
		coalesce(d.open_term, d.ended_term) as contract,
		d.company, d.amount
	from (
		select si.name as invoice, si.customer, ifnull(c.cs_owner, '') as csm, ifnull(c.cs_tier, '') as tier,
			ifnull(c.cs_lifecycle_stage, '') as stage, si.posting_date, si.company,
			cast(si.base_net_total + ifnull(r.credited, 0) as decimal(21,9)) as amount,
			(
				select k.name from `tabContract` k
				where k.party_type = 'Customer' and k.party_name = si.customer and k.docstatus = 1
					and (k.start_date is null or k.start_date <= si.posting_date)
					and (k.end_date is null or k.end_date >= si.posting_date)
				order by k.start_date desc, k.name desc limit 1
			) as open_term,
			(
				select k.name from `tabContract` k
				where k.party_type = 'Customer' and k.party_name = si.customer and k.docstatus = 1
					and k.end_date < si.posting_date
				order by k.end_date desc, k.name desc limit 1
			) as ended_term
		from `tabSales Invoice` si
		join `tabCustomer` c on c.name = si.customer
		left join (
			select cn.return_against, sum(cn.base_net_total) as credited
			from `tabSales Invoice` cn
			where cn.docstatus = 1 and cn.is_return = 1 and cn.return_against is not null {credit_scope}
			group by cn.return_against
		) r on r.return_against = si.name
		where si.docstatus = 1 and si.is_return = 0 {scope}
			and (r.credited is null or si.base_net_total + r.credited > 0)
			and not exists (
				select 1 from `tabContract` s
				where s.party_type = 'Customer' and s.party_name = si.customer and s.docstatus = 1
					and s.is_signed = 1
					and (s.start_date is null or s.start_date <= si.posting_date)
					and (s.end_date is null or s.end_date >= si.posting_date)
			)
	) d
"""


def _leak_scope(customers: list[str] | None, invoices: list[str] | None) -> tuple[str, str, dict]:
	params = {"expired": engine.EXPIRED, "unsigned": engine.UNSIGNED}
	if customers is not None:
		params["customers"] = tuple(customers or [""])
		return "and si.customer in %(customers)s", "and cn.customer in %(customers)s", params
	if invoices is not None:
		params["invoices"] = tuple(invoices or [""])
		return "and si.name in %(invoices)s", "and cn.return_against in %(invoices)s", params
	return "", "", params


def fresh_leaks(customers: list[str] | None = None, invoices: list[str] | None = None) -> dict[str, dict]:
	"""{invoice: leak row} computed afresh from the ledger for these customers, or these invoices."""
	scope, credit_scope, params = _leak_scope(customers, invoices)
	rows = frappe.db.sql(LEAK_ROWS.format(scope=scope, credit_scope=credit_scope), params, as_dict=True)
	return {row.invoice: _leak_row(row) for row in rows}


def stored_leaks(customers: list[str] | None = None, invoices: list[str] | None = None) -> dict[str, dict]:
	"""{invoice: leak row} as the table holds them for these customers or invoices, read with the rows
	locked (the latest committed: its writers hold the customers' row locks)."""
	column = "customer" if customers is not None else "invoice"
	names = tuple((customers if customers is not None else invoices) or [""])
	rows = frappe.db.sql(
		f"select {', '.join(f'`{c}`' for c in LEAK_COLUMNS)} from `{LEAK_TABLE}` where `{column}` in %(names)s for update",
		{"names": names},
		as_dict=True,
	)
	return {row.invoice: _leak_row(row) for row in rows}


def _leak_row(row) -> dict:
	found = {column: row[column] for column in LEAK_COLUMNS}
	found["posting_date"] = getdate(found["posting_date"])
	return found


def all_leak_customers() -> list[str]:
	"""The customers the leak table holds rows of."""
	return frappe.db.sql_list(f"select distinct `customer` from `{LEAK_TABLE}`")


def customers_of_invoices(invoices: list[str]) -> list[str]:
	invoice = frappe.qb.DocType("Sales Invoice")
	return sorted(
		set(
			frappe.qb.from_(invoice)
			.select(invoice.customer)
			.where(invoice.name.isin(invoices or [""]) & invoice.customer.isnotnull())
			.run(pluck=True)
		)
	)


def write_leaks(deleted: list[str], written: list[dict], cells: dict[tuple, list], batch: int = 1000):
	"""Apply `engine.leak_changes`: delete rows, write (insert or replace) rows, add the differences to
	the day sums (added, never overwritten, so writers of different customers commute)."""
	for start in range(0, len(deleted), batch):
		frappe.db.sql(
			f"delete from `{LEAK_TABLE}` where `invoice` in %(names)s",
			{"names": tuple(deleted[start : start + batch])},
		)
	names = ", ".join(f"`{c}`" for c in LEAK_COLUMNS)
	update = ", ".join(f"`{c}` = values(`{c}`)" for c in LEAK_COLUMNS if c != "invoice")
	row_sql = "(" + ", ".join(["%s"] * len(LEAK_COLUMNS)) + ")"
	for start in range(0, len(written), batch):
		part = written[start : start + batch]
		frappe.db.sql(
			f"insert into `{LEAK_TABLE}` ({names}) values {', '.join([row_sql] * len(part))} "
			f"on duplicate key update {update}",
			[row[c] for row in part for c in LEAK_COLUMNS],
		)
	add_leak_cells([(*key, amount, count) for key, (amount, count) in cells.items()], batch)


def add_leak_cells(cells: list[tuple], batch: int = 1000):
	"""Add [(csm, tier, stage, posting_date, kind, company, amount, invoices)] to the day sums."""
	columns = ", ".join(f"`{c}`" for c in (*LEAK_CELL_COLUMNS, "amount", "invoices"))
	row_sql = "(" + ", ".join(["%s"] * (len(LEAK_CELL_COLUMNS) + 2)) + ")"
	for start in range(0, len(cells), batch):
		part = cells[start : start + batch]
		frappe.db.sql(
			f"insert into `{LEAK_DAY}` ({columns}) "
			f"values {', '.join([row_sql] * len(part))} on duplicate key update "
			f"`amount` = `amount` + values(`amount`), `invoices` = `invoices` + values(`invoices`)",
			[value for cell in part for value in cell],
		)


def drop_empty_leak_cells():
	frappe.db.sql(f"delete from `{LEAK_DAY}` where `invoices` = 0 and `amount` = 0")


_CHECKSUM = (
	"count(*), sum(crc32(concat_ws('|', {p}invoice, {p}csm, {p}tier, {p}stage, {p}posting_date, {p}kind, "
	"ifnull({p}contract, ''), {p}company, cast({p}amount as decimal(21,9)))))"
)


def leak_checksums_from_ledger() -> dict[str, tuple]:
	"""{customer: (leaks, checksum)} of every customer's leaks computed afresh: one anti-join of the
	submitted invoices against the contracts' index, grouped."""
	_scope, _credit, params = _leak_scope(None, None)
	rows = frappe.db.sql(
		f"select f.customer, {_CHECKSUM.format(p='f.')} from ({LEAK_ROWS.format(scope='', credit_scope='')}) f "
		"group by f.customer",
		params,
	)
	return {customer: (int(n), int(total or 0)) for customer, n, total in rows}


def leak_checksums_stored() -> dict[str, tuple]:
	rows = frappe.db.sql(
		f"select `customer`, {_CHECKSUM.format(p='')} from `{LEAK_TABLE}` group by `customer`"
	)
	return {customer: (int(n), int(total or 0)) for customer, n, total in rows}


_CELL_KEYS = ", ".join(f"`{c}`" for c in LEAK_CELL_COLUMNS)


def _cells(rows) -> dict[tuple, tuple]:
	return {
		(csm, tier, stage, getdate(day), kind, company): (total, int(n))
		for csm, tier, stage, day, kind, company, total, n in rows
	}


def leak_cells_from_table(customers: list[str] | None = None) -> dict[tuple, tuple]:
	"""{(csm, tier, stage, posting_date, kind, company): (amount, invoices)} summed afresh from the leak
	table (of these customers' rows only)."""
	where, params = "", {}
	if customers is not None:
		where, params = "where `customer` in %(customers)s", {"customers": tuple(customers or [""])}
	return _cells(
		frappe.db.sql(
			f"select {_CELL_KEYS}, sum(`amount`), count(*) from `{LEAK_TABLE}` {where} group by {_CELL_KEYS}",
			params,
		)
	)


def leak_cells_rolled_up() -> dict[tuple, tuple]:
	return _cells(
		frappe.db.sql(
			f"select {_CELL_KEYS}, `amount`, `invoices` from `{LEAK_DAY}` where `invoices` != 0 or `amount` != 0"
		)
	)


def stamp_leak_customer_keys(customers: list[str]):
	"""These customers' leak rows take their customer's current CS Owner, tier and lifecycle stage
	(one UPDATE; the caller holds the customers' row locks and moves the day sums)."""
	if not customers:
		return
	frappe.db.sql(
		f"""update `{LEAK_TABLE}` l join `tabCustomer` c on c.`name` = l.`customer`
		set l.`csm` = ifnull(c.`cs_owner`, ''), l.`tier` = ifnull(c.`cs_tier`, ''),
			l.`stage` = ifnull(c.`cs_lifecycle_stage`, '')
		where l.`customer` in %(customers)s""",
		{"customers": tuple(customers)},
	)


# --- the report's reads of the leak table ---------------------------------------------------------


def _leak_conditions(filters: dict, csm: str | None) -> tuple[list[str], dict]:
	"""The leaks a report covers, as conditions on the leak table `l` and its customer `c`: of `csm`'s
	book when a CSM reads it, else the CSM filter, of the tier and of the stage (each: the row's and
	the customer's current one both the one asked for, so a customer moved past the writers never
	shows where it was); then customer, company and kind; posted in the period."""
	params = {"from_date": getdate(filters["from_date"]), "to_date": getdate(filters["to_date"])}
	conditions = ["l.`posting_date` between %(from_date)s and %(to_date)s"]
	owner = csm or filters.get("csm")
	if owner:
		params["owner"] = owner
		conditions += ["l.`csm` = %(owner)s", "c.`cs_owner` = %(owner)s"]
	for key, row_column, customer_column in (
		("tier", "l.`tier`", "c.`cs_tier`"),
		("lifecycle_stage", "l.`stage`", "c.`cs_lifecycle_stage`"),
	):
		if filters.get(key):
			params[key] = filters[key]
			conditions += [f"{row_column} = %({key})s", f"{customer_column} = %({key})s"]
	for key, column in (
		("customer", "l.`customer`"),
		("company", "l.`company`"),
		("kind", "l.`kind`"),
	):
		if filters.get(key):
			params[key] = filters[key]
			conditions.append(f"{column} = %({key})s")
	return conditions, params


def leak_totals_rolled_up(filters: dict, csm: str | None) -> list[tuple]:
	"""[(kind, company, amount, invoices)] of the leaks posted in the period, from the day sums: for the
	team, a CSM's book or the CSM filter, a tier, a lifecycle stage, one company or all (no customer)."""
	table = frappe.qb.Table(LEAK_DAY)
	condition = table.posting_date[getdate(filters["from_date"]) : getdate(filters["to_date"])]
	owner = csm or filters.get("csm")
	if owner:
		condition &= table.csm == owner
	if filters.get("tier"):
		condition &= table.tier == filters["tier"]
	if filters.get("lifecycle_stage"):
		condition &= table.stage == filters["lifecycle_stage"]
	if filters.get("company"):
		condition &= table.company == filters["company"]
	if filters.get("kind"):
		condition &= table.kind == filters["kind"]
	return (
		frappe.qb.from_(table)
		.select(table.kind, table.company, Sum(table.amount), Sum(table.invoices))
		.where(condition)
		.groupby(table.kind, table.company)
		.run()
	)


def leak_totals_live(filters: dict, csm: str | None) -> list[tuple]:
	"""The same totals summed from the leak table: for a customer filter (the day sums do not hold
	customers), through its index; otherwise (the tests' check of the day sums) a tier's or stage's
	customers read first and each one's leaks through the customer index."""
	conditions, params = _leak_conditions(filters, csm)
	# raw SQL for the join order and index (qb writes no STRAIGHT_JOIN); conditions and index are ours
	if filters.get("customer"):
		joined = f"`{LEAK_TABLE}` l force index (`customer`) straight_join `tabCustomer` c on c.`name` = l.`customer`"
	else:
		joined = f"`tabCustomer` c straight_join `{LEAK_TABLE}` l force index (`customer`) on l.`customer` = c.`name`"
	return frappe.db.sql(
		f"""select l.`kind`, l.`company`, sum(l.`amount`), count(*)
		from {joined}
		where {" and ".join(conditions)}
		group by l.`kind`, l.`company`""",
		params,
	)


# The day-sum columns the listing's filters name (their leak table columns are the same).
_LISTING_FILTERS = (
	("csm", "owner"),
	("tier", "tier"),
	("stage", "lifecycle_stage"),
	("company", "company"),
	("kind", "kind"),
)
_INDEX_KEY = {"csm_amount": "csm", "tier_amount": "tier", "stage_amount": "stage"}


def listing_plan(filters: dict, csm: str | None, index: str, limit: int | None) -> str:
	"""How the listing reads, decided from the day sums of the period (exact, and a few thousand rows
	at most): "index" (the amount index read backwards, about `limit` x the index's leaks / the
	filter's leaks rows), "customers" (the customers of the filter's book, tier and stage first, and
	all their leaks: fewer rows when the filter keeps a small part of the index's leaks), or "none"
	(no leak of the filter in the period: nothing to read)."""
	key = _INDEX_KEY.get(index)
	if not key or not limit:
		return "index"
	values = {
		"owner": csm or filters.get("csm"),
		"tier": filters.get("tier"),
		"lifecycle_stage": filters.get("lifecycle_stage"),
		"company": filters.get("company"),
		"kind": filters.get("kind"),
	}
	params = {
		"from_date": getdate(filters["from_date"]),
		"to_date": getdate(filters["to_date"]),
		**{name: value for name, value in values.items() if value},
	}
	others = [(column, name) for column, name in _LISTING_FILTERS if values[name] and column != key]
	if not others:
		return "index"  # the index holds the filter's leaks only
	of_customers = [f"`{c}` = %({n})s" for c, n in others if c in ("csm", "tier", "stage")] or ["1"]
	of_filter = [f"`{c}` = %({n})s" for c, n in others]
	key_name = dict(_LISTING_FILTERS)[key]
	# raw SQL: conditional sums of one range of the day sums; the columns are ours, values parameters
	in_index, of_its_customers, of_the_filter = frappe.db.sql(
		f"""select ifnull(sum(`invoices`), 0),
			ifnull(sum(case when {" and ".join(of_customers)} then `invoices` else 0 end), 0),
			ifnull(sum(case when {" and ".join(of_filter)} then `invoices` else 0 end), 0)
		from `{LEAK_DAY}`
		where `{key}` = %({key_name})s and `posting_date` between %(from_date)s and %(to_date)s""",
		params,
	)[0]
	if not of_the_filter:
		return "none"
	index_rows = min(in_index, limit * in_index / of_the_filter)
	return "customers" if of_its_customers < index_rows else "index"


def _listing_index(filters: dict, csm: str | None) -> str:
	"""The leak table's index the listing reads: one customer's; else the amount index of the book,
	of the tier, of the stage, or of every leak (read backwards: largest first)."""
	if filters.get("customer"):
		return "customer"
	if csm or filters.get("csm"):
		return "csm_amount"
	if filters.get("tier"):
		return "tier_amount"
	if filters.get("lifecycle_stage"):
		return "stage_amount"
	return "amount"


def largest_leaks(filters: dict, csm: str | None, limit: int | None) -> list[dict]:
	"""The period's invoice leaks, largest first (`limit` of them; None: all, for one customer), with
	their customer's name and the contract's end date: the amount index (of the book, the tier or the
	stage, when there is one) read backwards, each row's customer checked, stopped at the limit; one
	customer's through its own index."""
	conditions, params = _leak_conditions(filters, csm)
	index = _listing_index(filters, csm)
	params["limit"] = int(limit or 0)
	plan = listing_plan(filters, csm, index, limit)
	if plan == "none":
		return []
	if plan == "customers":
		# the filter keeps few of the index's leaks: its customers first (a book's, a tier's or a
		# stage's index: `disabled` is their leading column) and their leaks through the customer index
		conditions.append("c.`disabled` in (0, 1)")
		joined = f"`tabCustomer` c straight_join `{LEAK_TABLE}` l force index (`customer`) on l.`customer` = c.`name`"
	else:
		joined = f"`{LEAK_TABLE}` l force index (`{index}`) straight_join `tabCustomer` c on c.`name` = l.`customer`"
	# raw SQL: read in the index's order first (STRAIGHT_JOIN: no sort of the whole period), which qb
	# cannot ask for; conditions and index are ours, every value a parameter
	return frappe.db.sql(
		f"""select l.`invoice`, l.`customer`, c.`customer_name`, l.`csm`, l.`posting_date`, l.`kind`,
			l.`contract`, k.`end_date` as contract_end, l.`company`, l.`amount`
		from {joined}
		left join `tabContract` k on k.`name` = l.`contract`
		where {" and ".join(conditions)}
		order by l.`amount` desc, l.`posting_date` desc
		{"limit %(limit)s" if limit else ""}""",
		params,
		as_dict=True,
	)
