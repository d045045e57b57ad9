"""Revenue leaking past the contracts: four kinds of row.

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
Invoices are dated From Date to To Date; amounts in company currency (contracts and subscriptions:
their annualised revenue at stake, as a renewal takes it).
"""

from collections import Counter, defaultdict

import frappe
from frappe import _
from frappe.utils import add_days, add_months, getdate, nowdate

from customer_success.renewals import engine, queries, service

EXPIRED = "Invoiced after Contract Expired"
UNSIGNED = "Invoiced without a Signed Contract"
NO_RENEWAL = "Ending with No Renewal"
NOTICE = "Auto-Renewal Notice Near"
KINDS = (EXPIRED, UNSIGNED, NO_RENEWAL, NOTICE)


def execute(filters: dict | None = None):
	filters, csm = service.report_scope(
		filters, add_months(nowdate(), -12), add_days(nowdate(), service.window_days())
	)
	kind = filters.get("kind")
	if kind and kind not in KINDS:
		frappe.throw(_("Leak must be one of {0}.").format(", ".join(_(k) for k in KINDS)))
	currency = service.company_currency()
	data = []
	if not kind or kind in (EXPIRED, UNSIGNED):
		data += invoice_rows(filters, csm)
	today = getdate(nowdate())
	if not kind or kind == NO_RENEWAL:
		start = max(filters.from_date, today)
		if start <= filters.to_date:
			data += contract_rows(
				NO_RENEWAL, queries.contracts_without_renewal(start, filters.to_date, filters, csm), today
			)
			data += subscription_rows(
				queries.subscriptions_without_renewal(start, filters.to_date, filters, csm), today
			)
	if not kind or kind == NOTICE:
		rows = queries.auto_renewals_with_notice(
			today, add_days(today, service.notice_warning_days()), filters, csm
		)
		data += contract_rows(NOTICE, rows, today)
	if kind:
		data = [row for row in data if row["kind"] == kind]
	for row in data:
		row["currency"] = currency
		row["kind_label"] = _(row["kind"])
	return columns(), data, message(), chart(data), summary(data)


def invoice_rows(filters, csm) -> list[dict]:
	invoices, contracts = queries.invoices_and_contracts(filters, csm)
	rates = queries.rates_for(i.company for i in invoices)
	rows = []
	for invoice in invoices:
		theirs = contracts.get(invoice.customer, [])
		day = getdate(invoice.posting_date)
		if engine.covering_contract(day, [c for c in theirs if c.is_signed]):
			continue
		ended = None if engine.covering_contract(day, theirs) else engine.last_ended_before(day, theirs)
		unsigned = engine.covering_contract(day, theirs)
		contract = ended or unsigned
		rows.append(
			{
				"kind": EXPIRED if ended else UNSIGNED,
				"customer": invoice.customer,
				"customer_name": invoice.customer_name,
				"csm": invoice.csm,
				"reference_doctype": "Sales Invoice",
				"reference_name": invoice.name,
				"date": invoice.posting_date,
				"amount": float(invoice.base_net_total or 0) * rates.get(invoice.company, 1.0),
				"contract": contract.name if contract else None,
				"contract_end": contract.end_date if contract else None,
				"detail": _("Contract {0} ended on {1}").format(
					contract.name, frappe.format(contract.end_date, "Date")
				)
				if ended
				else (
					_("Contract {0} is not signed").format(contract.name) if contract else _("No contract")
				),
			}
		)
	return rows


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


def message() -> str:
	return "<p>{}</p>".format(
		frappe.utils.escape_html(
			_(
				"Invoices (From Date to To Date) with no signed contract covering their date: after the customer's last contract expired, or with no signed contract at all. Contracts and subscription terms ending by To Date with no renewal record. Contracts that renew automatically whose notice date is within the days set in Customer Success Settings. Amounts in company currency; a contract's amount is its annualised revenue at stake."
			)
		)
	)


def chart(data: list[dict]) -> dict:
	totals = defaultdict(float)
	for row in data:
		totals[row["kind"]] += row["amount"] or 0
	kinds = [k for k in KINDS if k in totals]
	return {
		"data": {
			"labels": [_(k) for k in kinds],
			"datasets": [{"name": _("Amount"), "values": [totals[k] for k in kinds]}],
		},
		"type": "bar",
		"fieldtype": "Currency",
		"colors": ["#E24C4C"],
	}


def summary(data: list[dict]) -> list[dict]:
	counts = Counter(row["kind"] for row in data)
	return [
		{"label": _(kind), "value": counts.get(kind, 0), "datatype": "Int", "indicator": "Red"}
		for kind in KINDS
	]
