"""Demo step: renewals at every checkpoint and outcome, and a ledger retention can read.

- The nightly pass's own function makes a Renewal for every demo contract ending within the
  window (with its checkpoints).
- Outcomes: one renewed on a larger new contract (expansion), one on a smaller one (contraction),
  one churned with a reason and a note (its customer's stage becomes Churned; its unused term is
  refunded by credit note, so the ledger shows the churn too).
- The ledger: the demo's customers already have up to two years of quarterly invoices; here one
  long-standing customer buys an upsell (expansion) and another gets a service credit
  (contraction), so the Revenue Retention report has every movement.
- Some contracts renew automatically with a notice period (Revenue Leakage lists the near ones).
- One customer is on a yearly ERPNext Subscription (no end date) whose year ends within the window:
  its renewal's source is the subscription, worth its plan.
- After the book is scored (`refresh_demo_renewals`): due checkpoints get their signal and ToDo,
  and the CSMs record calls at both checkpoints (Will Renew, At Risk, Will Churn), one of them a
  "Will Renew" on a red customer (a disagreement).

Called by demo.setup_demo as fn(registry, book); idempotent through the registry.
"""

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.demo import remember
from customer_success.renewals import engine, queries, service

RENEWAL = service.RENEWAL


def make_demo_renewals(registry, book):
	if registry.get(RENEWAL) or not registry.get("Contract"):
		return
	today = getdate(nowdate())
	profiles = {p["name"]: p for p in book["customers"]}
	made = service.create_renewals(today, contracts=registry["Contract"])
	registry.setdefault(RENEWAL, []).extend(made)
	renewals = frappe.get_all(
		RENEWAL,
		filters={"name": ("in", made or [""])},
		fields=["name", "customer", "contract", "end_date", "revenue_at_stake"],
		order_by="end_date, name",
	)
	_mark_auto_renewals(registry, today)
	outcomes = iter(renewals)
	renewed_up = next(outcomes, None)
	if renewed_up:
		_renew(registry, renewed_up, 1.25, profiles)
	renewed_down = next(outcomes, None)
	if renewed_down:
		_renew(registry, renewed_down, 0.8, profiles)
	churned = next(outcomes, None)
	if churned:
		_churn(registry, book, churned)
	_ledger_movements(registry, book, {r.customer for r in renewals[:3]})
	_yearly_subscription(registry, book, {r.customer for r in renewals[:3]}, today)


def _mark_auto_renewals(registry, today):
	"""Every third demo contract still running renews by itself, with 30 to 90 days' notice."""
	contracts = frappe.get_all(
		"Contract",
		filters={"name": ("in", registry["Contract"]), "end_date": (">=", today)},
		fields=["name", "end_date"],
		order_by="end_date, name",
	)
	for position, contract in enumerate(contracts):
		days_left = (getdate(contract.end_date) - today).days
		if position == 0 and days_left > 20:
			# its notice is due in ten days: Revenue Leakage lists it
			frappe.db.set_value(
				"Contract",
				contract.name,
				{"cs_auto_renew": 1, "cs_notice_days": days_left - 10},
				update_modified=False,
			)
		elif position % 3 == 0:
			frappe.db.set_value(
				"Contract",
				contract.name,
				{"cs_auto_renew": 1, "cs_notice_days": (30, 60, 90)[(position // 3) % 3]},
				update_modified=False,
			)


def _renew(registry, renewal, factor: float, profiles):
	"""The customer signed its next term early: a new contract from the day after the end."""
	old = frappe.get_doc("Contract", renewal.contract)
	new = frappe.get_doc(
		{
			"doctype": "Contract",
			"party_type": "Customer",
			"party_name": renewal.customer,
			"start_date": add_days(old.end_date, 1),
			"end_date": add_days(old.end_date, 365),
			"contract_terms": old.contract_terms,
			"is_signed": 1,
			"signee": old.signee,
			"signed_on": frappe.utils.now_datetime(),
		}
	)
	new.flags.ignore_permissions = True
	new.insert()
	new.submit()
	remember(registry, new)
	doc = frappe.get_doc(RENEWAL, renewal.name)
	amount = round(
		float(renewal.revenue_at_stake or profiles.get(renewal.customer, {}).get("annual", 0)) * factor, 2
	)
	service.mark_renewed(doc, contract=new.name, amount=amount)


def _churn(registry, book, renewal):
	"""Lost to a competitor: the renewal closes as Churned and the unused term is refunded."""
	doc = frappe.get_doc(RENEWAL, renewal.name)
	service.mark_churned(
		doc,
		"Competitor",
		"Moved to a cheaper competitor after the budget review; the sponsor left in the summer.",
	)
	today = getdate(nowdate())
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={
			"name": ("in", registry.get("Sales Invoice", [])),
			"customer": renewal.customer,
			"docstatus": 1,
			"is_return": 0,
			"posting_date": (">", add_days(today, -365)),
		},
		pluck="name",
	)
	for name in invoices:
		_credit_note(registry, name, today)


def _credit_note(registry, invoice: str, day, share: float = 1.0):
	from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

	note = make_sales_return(invoice)
	note.set_posting_time = 1
	note.posting_date = day
	note.due_date = day
	for item in note.items:
		item.rate = round(item.rate * share, 2)
	note.flags.ignore_permissions = True
	note.insert()
	note.submit()
	remember(registry, note)
	return note


def _ledger_movements(registry, book, taken: set[str]):
	"""An upsell for one long-standing customer, a service credit for another."""
	from customer_success.demo import ITEMS

	today = getdate(nowdate())
	veterans = [p for p in book["customers"] if p["terms"] > 1 and p["name"] not in taken]
	if veterans:
		upsell = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"customer": veterans[0]["name"],
				"company": book["company"],
				"set_posting_time": 1,
				"posting_date": add_days(today, -30),
				"due_date": today,
				"items": [
					{"item_code": ITEMS[0][0], "qty": max(1, veterans[0]["seats"] // 2), "rate": ITEMS[0][1]}
				],
			}
		)
		upsell.flags.ignore_permissions = True
		upsell.insert()
		upsell.submit()
		remember(registry, upsell)
	if len(veterans) > 1:
		latest = frappe.get_all(
			"Sales Invoice",
			filters={
				"name": ("in", registry.get("Sales Invoice", [])),
				"customer": veterans[1]["name"],
				"docstatus": 1,
				"is_return": 0,
			},
			order_by="posting_date desc",
			limit=1,
			pluck="name",
		)
		if latest:
			_credit_note(registry, latest[0], add_days(today, -10), share=0.5)


def _yearly_subscription(registry, book, taken: set[str], today):
	"""A customer on a yearly ERPNext Subscription with no end date, its year ending within the
	window: the nightly pass's own function gives it a renewal (Source: Subscription)."""
	import erpnext

	from customer_success.demo import ITEMS

	profile = next((p for p in reversed(book["customers"]) if p["name"] not in taken), None)
	if not profile or registry.get("Subscription"):
		return
	plan = frappe.get_doc(
		{
			"doctype": "Subscription Plan",
			"plan_name": "Demo Platform (Yearly)",
			"item": ITEMS[0][0],
			"price_determination": "Fixed Rate",
			"cost": ITEMS[0][1],
			"billing_interval": "Year",
			"billing_interval_count": 1,
			"currency": erpnext.get_company_currency(book["company"]),
		}
	)
	if not frappe.db.exists("Subscription Plan", plan.plan_name):
		plan.insert(ignore_permissions=True)
		remember(registry, plan)
	subscription = frappe.get_doc(
		{
			"doctype": "Subscription",
			"party_type": "Customer",
			"party": profile["name"],
			"company": book["company"],
			"start_date": add_days(today, -300),
			"generate_invoice_at": "Beginning of the current subscription period",
			"plans": [{"plan": plan.plan_name, "qty": max(1, profile["seats"] // 5)}],
		}
	).insert(ignore_permissions=True)
	remember(registry, subscription)
	registry.setdefault(RENEWAL, []).extend(
		service.create_subscription_renewals(today, subscriptions=[subscription.name])
	)


CALLS = (engine.WILL_RENEW, engine.AT_RISK, engine.WILL_CHURN)
NOTES = {
	engine.WILL_RENEW: "Sponsor confirmed budget for next year.",
	engine.AT_RISK: "Usage dropped after the re-org; renewal call booked.",
	engine.WILL_CHURN: "Procurement asked for termination terms.",
}


def refresh_demo_renewals(registry):
	"""Once the book is scored: checkpoints fall due (signal and ToDo), the CSMs record calls."""
	names = registry.get(RENEWAL, [])
	if not names:
		return
	today = getdate(nowdate())
	service.raise_due_checkpoints(today)
	queries.refresh_open_renewals(names)
	open_renewals = frappe.get_all(
		RENEWAL,
		filters={"name": ("in", names), "status": engine.OPEN},
		fields=["name", "csm", "signal_status", "revenue_at_stake"],
		order_by="end_date, name",
	)
	red = next((r for r in open_renewals if r.signal_status == engine.RED), None)
	for position, renewal in enumerate(open_renewals):
		doc = frappe.get_doc(RENEWAL, renewal.name)
		if any(row.call for row in doc.checkpoints) or position % 4 == 3:
			continue  # every fourth renewal waits for its CSM's call
		call = engine.WILL_RENEW if renewal is red else CALLS[position % 3]
		due = [row for row in doc.checkpoints if getdate(row.due_date) <= today] or doc.checkpoints[:1]
		user = frappe.session.user
		try:
			if renewal.csm:
				frappe.set_user(renewal.csm)
			for row in due:
				share = {engine.WILL_RENEW: 1.0, engine.AT_RISK: 0.7, engine.WILL_CHURN: 0.0}[call]
				service.record_checkpoint(
					doc, row.name, call, round(float(renewal.revenue_at_stake or 0) * share, 2), NOTES[call]
				)
		finally:
			frappe.set_user(user)
	for todo in frappe.get_all(
		"ToDo", filters={"reference_type": RENEWAL, "reference_name": ("in", names)}, pluck="name"
	):
		remember(registry, frappe._dict(doctype="ToDo", name=todo))
