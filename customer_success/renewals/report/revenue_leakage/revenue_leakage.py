"""Revenue leaking past the contracts: four kinds of leak.

- Invoiced after Contract Expired: a submitted invoice (not a credit note) dated after the
  customer's last contract ended, with no signed contract covering its date.
- Invoiced without a Signed Contract: an invoice no signed (submitted, "Signed" ticked) contract
  of the customer covers, and no earlier contract of the customer has ended.
- Ending with No Renewal: a submitted contract, or a live subscription's renewal term (its End
  Date, or a yearly evergreen subscription's current billing period: the terms the nightly job
  makes renewals for), ending from today (or From Date, if later) to To Date with no Renewal record
  for that term.
- Auto-Renewal Notice Near: a contract marked "Renews Automatically" whose notice date (End Date
  minus "Notice Period (Days)") falls from today to today + the days set in Customer Success
  Settings ("Warn of Auto-Renewal Notice").
Invoices are dated From Date to To Date; amounts in company currency, an invoice's net of the credit
notes against it (contracts and subscriptions: their annualised revenue at stake, as a renewal takes
it).

What a CSM reads first, and what it costs: a book without signed contracts leaks every invoice (a
year of a 100k-customer book: ~830k of them), and no listing of that answers in 300 ms or helps
anyone. So the totals (the summary and the chart: invoices and amount of each invoice kind, every
leak of the period, exact) come from the day sums of the leak table (`renewals.service`, kept by the
invoice, contract and CS Owner hooks and reconciled nightly), and the rows list the LISTED largest
invoice leaks of the period; with a Customer filter, every invoice leak of that customer. The contract
kinds list the LISTED_CONTRACTS ending soonest (or with the nearest notice date), with their exact
count; their amounts are of the contracts listed, and the chart shows them when every one is listed.
"""

from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import add_days, add_months, getdate, nowdate

from customer_success import reports
from customer_success.constants import LIFECYCLE_STAGES, TIERS
from customer_success.renewals import engine, queries, service

EXPIRED = engine.EXPIRED
UNSIGNED = engine.UNSIGNED
NO_RENEWAL = engine.NO_RENEWAL
NOTICE = engine.NOTICE
KINDS = engine.LEAK_KINDS
# the rows listed: the largest invoice leaks, and of each contract kind those ending (or to be noticed)
# soonest (fewer: each one's worth is read from its invoices)
LISTED = 500
LISTED_CONTRACTS = 50


def execute(filters: dict | None = None):
	filters, csm = service.report_scope(
		filters, add_months(nowdate(), -12), add_days(nowdate(), service.window_days())
	)
	check_filters(filters)
	if service.shows_nothing(filters, csm):
		return columns(), []
	kind = filters.get("kind")
	currency = service.company_currency()
	today = getdate(nowdate())
	data, totals, complete = [], {}, {}
	if not kind or kind in engine.INVOICE_LEAKS:
		totals.update(service.leak_totals(filters, csm))
		data += invoice_rows(filters, csm)
	if not kind or kind == NO_RENEWAL:
		rows, count = ending_rows(filters, csm, today)
		data += rows
		totals[NO_RENEWAL] = (count, sum(row["amount"] for row in rows))
		complete[NO_RENEWAL] = len(rows) == count
	if not kind or kind == NOTICE:
		start, end = today, add_days(today, service.notice_warning_days())
		contracts = queries.auto_renewals_with_notice(start, end, filters, csm, LISTED_CONTRACTS)
		rows = contract_rows(NOTICE, contracts, today)
		count = (
			len(rows)
			if len(rows) < LISTED_CONTRACTS
			else queries.count_auto_renewals_with_notice(start, end, filters, csm)
		)
		data += rows
		totals[NOTICE] = (count, sum(row["amount"] for row in rows))
		complete[NOTICE] = len(rows) == count
	if kind:
		data = [row for row in data if row["kind"] == kind]
	labels = {k: _(k) for k in KINDS}
	for row in data:
		row["currency"] = currency
		row["kind_label"] = labels[row["kind"]]
	return columns(), data, message(filters), chart(totals, complete), summary(totals, complete, currency)


def check_filters(filters: dict):
	"""A filter the report cannot read stops it with what to change (nothing is read)."""
	if filters.get("kind") and filters.kind not in KINDS:
		frappe.throw(
			_("Leak must be one of {0}.").format(", ".join(_(k) for k in KINDS)), title=_("Invalid Filter")
		)
	reports.check_choices(
		filters,
		(("tier", TIERS, _("CS Tier")), ("lifecycle_stage", LIFECYCLE_STAGES, _("Lifecycle Stage"))),
	)
	reports.check_links_exist(
		filters,
		(
			("customer", "Customer", _("Customer")),
			("company", "Company", _("Company")),
			("csm", "User", _("CSM")),
		),
	)


def invoice_rows(filters, csm) -> list[dict]:
	"""The largest invoice leaks of the period (every one of a customer's when a Customer is chosen)."""
	leaks = queries.largest_leaks(filters, csm, None if filters.get("customer") else LISTED)
	rates = queries.rates_for(row.company for row in leaks)
	ended, unsigned, bare = (
		_("Contract {0} ended on {1}"),
		_("Contract {0} is not signed"),
		_("No contract"),
	)
	dates = {}  # each end date formatted once

	def detail(leak) -> str:
		if leak.kind == EXPIRED:
			if leak.contract_end not in dates:
				dates[leak.contract_end] = frappe.format(leak.contract_end, "Date")
			return ended.format(leak.contract, dates[leak.contract_end])
		return unsigned.format(leak.contract) if leak.contract else bare

	return [
		{
			"kind": leak.kind,
			"customer": leak.customer,
			"customer_name": leak.customer_name,
			"csm": leak.csm or None,
			"reference_doctype": "Sales Invoice",
			"reference_name": leak.invoice,
			"date": leak.posting_date,
			"amount": float(leak.amount or 0) * rates.get(leak.company, 1.0),
			"contract": leak.contract,
			"contract_end": leak.contract_end,
			"detail": detail(leak),
		}
		for leak in leaks
	]


def ending_rows(filters, csm, today) -> tuple[list[dict], int]:
	"""Contracts (the LISTED_CONTRACTS ending soonest) and subscription terms ending with no renewal,
	and how many there are in all."""
	start = max(filters.from_date, today)
	if start > filters.to_date:
		return [], 0
	contracts, count = queries.contracts_without_renewal(
		start, filters.to_date, filters, csm, LISTED_CONTRACTS
	)
	subscriptions = queries.subscriptions_without_renewal(start, filters.to_date, filters, csm)
	rows = contract_rows(NO_RENEWAL, contracts, today) + subscription_rows(
		subscriptions[:LISTED_CONTRACTS], today
	)
	return rows, count + len(subscriptions)


def contract_rows(kind: str, contracts: list[dict], today) -> list[dict]:
	if not contracts:
		return []
	worth = service.contract_worth(queries.contract_rows([c.name for c in contracts]), today)
	rows = []
	for c in contracts:
		notice = c.get("notice_date")
		rows.append(
			{
				"kind": kind,
				"customer": c.customer,
				"customer_name": c.customer_name,
				"csm": c.csm,
				"reference_doctype": "Contract",
				"reference_name": c.name,
				"date": notice or c.end_date,
				"amount": worth.get(c.name, (0.0, ""))[0],
				"contract": c.name,
				"contract_end": c.end_date,
				"detail": _("Give notice by {0} ({1} days before the end)").format(
					frappe.format(notice, "Date"), c.cs_notice_days or 0
				)
				if notice
				else _("No renewal record for this term"),
			}
		)
	return rows


def subscription_rows(subscriptions: list[dict], today) -> list[dict]:
	if not subscriptions:
		return []
	worth = queries.subscription_worth(subscriptions, today)
	return [
		{
			"kind": NO_RENEWAL,
			"customer": sub.customer,
			"customer_name": sub.customer_name,
			"csm": sub.csm,
			"reference_doctype": "Subscription",
			"reference_name": sub.name,
			"date": getdate(sub.term_end),
			"amount": worth.get(sub.name, (0.0, ""))[0],
			"contract": None,
			"contract_end": None,
			"detail": _("No renewal record for this subscription term (ends {0})").format(
				frappe.format(sub.term_end, "Date")
			),
		}
		for sub in subscriptions
	]


def columns() -> list[dict]:
	return [
		{"fieldname": "kind_label", "label": _("Leak"), "fieldtype": "Data", "width": 220},
		{
			"fieldname": "customer",
			"label": _("Customer"),
			"fieldtype": "Link",
			"options": "Customer",
			"width": 180,
		},
		{"fieldname": "csm", "label": _("CSM"), "fieldtype": "Link", "options": "User", "width": 150},
		{
			# Data, not a Link to DocType: the desk checks a CSM's read permission on every linked
			# doctype of a report's rows, and a CSM cannot read DocType
			"fieldname": "reference_doctype",
			"label": _("Document Type"),
			"fieldtype": "Data",
			"width": 110,
		},
		{
			"fieldname": "reference_name",
			"label": _("Document"),
			"fieldtype": "Dynamic Link",
			"options": "reference_doctype",
			"width": 150,
		},
		{"fieldname": "date", "label": _("Date"), "fieldtype": "Date", "width": 100},
		{
			"fieldname": "amount",
			"label": _("Amount"),
			"fieldtype": "Currency",
			"options": "currency",
			"width": 130,
		},
		{
			"fieldname": "contract",
			"label": _("Contract"),
			"fieldtype": "Link",
			"options": "Contract",
			"width": 120,
		},
		{"fieldname": "contract_end", "label": _("Contract End"), "fieldtype": "Date", "width": 100},
		{"fieldname": "detail", "label": _("Detail"), "fieldtype": "Data", "width": 260},
	]


def message(filters: dict) -> str:
	listing = (
		_("Every invoice leak of this customer is listed.")
		if filters.get("customer")
		else _(
			"Listed: the {0} largest invoice leaks of the period (choose a Customer to list every one of theirs), and the {1} contracts ending or to be noticed soonest."
		).format(LISTED, LISTED_CONTRACTS)
	)
	return "<p>{}</p><p>{}</p>".format(
		frappe.utils.escape_html(
			_(
				"Invoices (From Date to To Date) with no signed contract covering their date: after the customer's last contract expired, or with no signed contract at all. Contracts and subscription terms ending by To Date with no renewal record. Contracts that renew automatically whose notice date is within the days set in Customer Success Settings. Amounts in company currency (an invoice's net of its credit notes); a contract's amount is its annualised revenue at stake."
			)
		),
		frappe.utils.escape_html(
			listing
			+ " "
			+ _(
				"The totals above count every leak of the period; a contract kind's amount is of the contracts listed."
			)
		),
	)


def chart(totals: dict, complete: dict) -> dict:
	"""The amount of each kind whose total is exact: every invoice kind, a contract kind when every
	one of its contracts is listed."""
	amounts = defaultdict(float)
	for kind, (_count, amount) in totals.items():
		if kind in engine.INVOICE_LEAKS or complete.get(kind):
			amounts[kind] = amount
	kinds = [k for k in KINDS if amounts.get(k)]
	return {
		"data": {
			"labels": [_(k) for k in kinds],
			"datasets": [{"name": _("Amount"), "values": [amounts[k] for k in kinds]}],
		},
		"type": "bar",
		"fieldtype": "Currency",
		"colors": ["#E24C4C"],
	}


def summary(totals: dict, complete: dict, currency: str | None) -> list[dict]:
	"""How many of each kind (all of them), and the invoice kinds' amounts (all of them)."""
	cards = [
		{"label": _(kind), "value": totals.get(kind, (0, 0.0))[0], "datatype": "Int", "indicator": "Red"}
		for kind in KINDS
	]
	for kind in engine.INVOICE_LEAKS:
		cards.append(
			{
				"label": _("{0}: Amount").format(_(kind)),
				"value": totals.get(kind, (0, 0.0))[1],
				"datatype": "Currency",
				"currency": currency,
				"indicator": "Red",
			}
		)
	return cards
