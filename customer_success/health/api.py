"""Form actions for health: recompute one customer, override, sentiment, the records behind a factor."""

from datetime import date

import frappe
from frappe import _
from frappe.utils import add_days, cint, escape_html, getdate, nowdate

from customer_success.health import engine, queries
from customer_success.health import service as health
from customer_success.permissions import can_work_on_customer, check_can_work_on_customer
from customer_success.utils import date_argument, plain_text

MAX_OVERRIDE_DAYS = 365
MAX_REASON_LENGTH = 1000


def latest_score(customer: str) -> dict | None:
	rows = frappe.get_all(
		"Customer Health Score",
		filters={"customer": customer},
		fields=[
			"name",
			"score",
			"status",
			"trend",
			"computed_score",
			"computed_status",
			"is_override",
			"override_reason",
			"override_until",
			"score_date",
			"explanation",
			"model",
		],
		order_by="score_date desc, name desc",
		limit=1,
	)
	if not rows:
		return None
	rows[0].explanation = engine.full_explanation_json(rows[0].explanation)  # stored compactly
	return rows[0]


@frappe.whitelist(methods=["POST"])
def recompute_customer(customer: str) -> dict | None:
	check_can_work_on_customer(customer)
	health.recompute_customer(customer)
	return latest_score(customer)


@frappe.whitelist()
def get_customer_health(customer: str) -> dict:
	"""What the Customer form shows: the latest score, its explanation, override and sentiment."""
	if not customer or not frappe.db.exists("Customer", customer):
		frappe.throw(
			_("Customer {0} not found").format(frappe.utils.escape_html(str(customer))),
			frappe.DoesNotExistError,
		)
	frappe.has_permission("Customer", "read", customer, throw=True)
	trend_days = cint(frappe.db.get_single_value("Customer Success Settings", "health_trend_days")) or 30
	if not can_work_on_customer(customer):
		# Other teams see the headline on the Customer itself, not the CSM's working detail.
		return {"score": None, "can_edit": False, "trend_days": trend_days}
	values = frappe.db.get_value(
		"Customer",
		customer,
		[
			"cs_csm_sentiment",
			"cs_sentiment_on",
			"cs_health_override",
			"cs_override_reason",
			"cs_override_until",
		],
		as_dict=True,
	)
	validity = cint(frappe.db.get_single_value("Customer Success Settings", "sentiment_validity_days")) or 30
	sentiment_on = getdate(values.cs_sentiment_on) if values.cs_sentiment_on else None
	return {
		"score": latest_score(customer),
		"can_edit": True,
		"trend_days": trend_days,
		"sentiment": values.cs_csm_sentiment,
		"sentiment_on": sentiment_on,
		"sentiment_stale": engine.is_sentiment_stale(sentiment_on, getdate(nowdate()), validity),
		"override": values.cs_health_override,
		"override_reason": values.cs_override_reason,
		"override_until": values.cs_override_until,
	}


@frappe.whitelist(methods=["POST"])
def set_override(customer: str, score: float | str, reason: str, until: str) -> dict | None:
	"""Override the score until a date; the computed score keeps being recorded beside it."""
	check_can_work_on_customer(customer)
	score, reason, until_date = validate_override(score, reason, until)
	# Set and scored together under the recompute's write lock: a chunk never writes over it.
	health.recompute_customer(
		customer,
		{"cs_health_override": score, "cs_override_reason": reason, "cs_override_until": until_date},
	)
	# the Customer's own timeline keeps who overrode its health, when, and why (the app writes the
	# fields without a version, so an open form still saves)
	frappe.get_doc("Customer", customer).add_comment(
		"Info",
		_("Health overridden to {0} until {1}: {2}").format(
			frappe.format(score, "Float"), frappe.format(until_date, "Date"), escape_html(reason)
		),
	)
	return latest_score(customer)


def validate_override(score, reason, until) -> tuple[float, str, date]:
	"""Score 0..100, a reason (kept as plain text), and an expiry from today to MAX_OVERRIDE_DAYS ahead;
	the first override is held to the same rules as any later one."""
	try:
		value = float(score)
	except (TypeError, ValueError):
		value = None
	if value is None or not 0 <= value <= 100:
		frappe.throw(
			_("Override Score must be a number from 0 to 100 (it is {0}).").format(
				frappe.bold(escape_html(str(score)))
			),
			title=_("Override Score"),
		)
	text = clean_reason(reason)
	if not text:
		frappe.throw(_("Reason is required: say why the health score is overridden."), title=_("Reason"))
	if len(text) > MAX_REASON_LENGTH:
		frappe.throw(
			_("Reason is too long: keep it under {0} characters (it has {1}).").format(
				MAX_REASON_LENGTH, len(text)
			),
			title=_("Reason"),
		)
	today = getdate(nowdate())
	until_date = date_argument(until, _("Override Until"))
	if not until_date or until_date < today:
		frappe.throw(_("Override Until must be today or later."), title=_("Override Until"))
	if until_date > getdate(add_days(today, MAX_OVERRIDE_DAYS)):
		frappe.throw(
			_("Override Until can be at most {0} days ahead ({1}); pick an earlier date.").format(
				MAX_OVERRIDE_DAYS, frappe.format(add_days(today, MAX_OVERRIDE_DAYS), "Date")
			),
			title=_("Override Until"),
		)
	return value, text, until_date


def clean_reason(reason) -> str:
	"""The reason as plain text, as typed ("3 < 4" stays): tags are removed. Shown escaped on the
	Customer, its score card and its score rows."""
	return plain_text(reason).strip()


@frappe.whitelist(methods=["POST"])
def clear_override(customer: str) -> dict | None:
	check_can_work_on_customer(customer)
	had = frappe.db.get_value("Customer", customer, "cs_override_until")
	health.recompute_customer(
		customer,
		# Float columns are NOT NULL in frappe: no override is 0 with no expiry date.
		{"cs_health_override": 0, "cs_override_reason": None, "cs_override_until": None},
	)
	if had:
		frappe.get_doc("Customer", customer).add_comment(
			"Info", _("Health override cleared: the computed score stands.")
		)
	return latest_score(customer)


@frappe.whitelist(methods=["POST"])
def set_sentiment(customer: str, sentiment: str) -> dict | None:
	check_can_work_on_customer(customer)
	if sentiment not in engine.SENTIMENT_SCORES:
		frappe.throw(
			_("Sentiment must be one of: {0}.").format(", ".join(_(s) for s in engine.SENTIMENT_SCORES))
		)
	health.recompute_customer(
		customer, {"cs_csm_sentiment": sentiment, "cs_sentiment_on": getdate(nowdate())}
	)
	return latest_score(customer)


@frappe.whitelist()
def get_factor_records(customer: str, factor_type: str) -> dict:
	"""The ERPNext records behind one factor of a customer's score ("what made it drop?").

	Lists go through frappe.get_list, so a user sees only the records their own roles allow.
	"""
	check_can_work_on_customer(customer)
	today = getdate(nowdate())
	models = health.load_models()
	if factor_type == engine.SUPPORT_LOAD:
		filters = {"customer": customer, "status": ("in", ("Open", "Replied", "On Hold"))}
		return _records(
			"Issue", filters, ["name", "subject", "priority", "status", "opening_date"], "opening_date desc"
		)
	if factor_type == engine.SLA_BREACHES:
		since = add_days(today, -health.lookback(models, engine.SLA_BREACHES))
		filters = {"customer": customer, "agreement_status": "Failed", "opening_date": (">=", since)}
		return _records(
			"Issue", filters, ["name", "subject", "priority", "status", "opening_date"], "opening_date desc"
		)
	if factor_type == engine.PAYMENT_BEHAVIOUR:
		return _overdue_invoice_records(customer, today)
	if factor_type == engine.REVENUE_TREND:
		days = health.lookback(models, engine.REVENUE_TREND)
		filters = {"customer": customer, "docstatus": 1, "posting_date": (">", add_days(today, -2 * days))}
		fields = ["name", "posting_date", "base_net_total", "is_return", "status"]
		return _records("Sales Invoice", filters, fields, "posting_date desc")
	if factor_type == engine.ENGAGEMENT_RECENCY:
		return _touch_records(customer)
	if factor_type == engine.RENEWAL_PROXIMITY:
		filters = {"party_type": "Customer", "party_name": customer, "docstatus": 1}
		return _records("Contract", filters, ["name", "start_date", "end_date", "status"], "end_date desc")
	if factor_type == engine.OBJECTIVE_PROGRESS:
		filters = {"customer": customer, "status": ("in", ("Agreed with Customer", "Active", "At Risk"))}
		return _records(
			"Success Plan", filters, ["name", "title", "status", "progress", "start_date"], "start_date desc"
		)
	if factor_type == engine.MILESTONE_PUNCTUALITY:
		filters = {"customer": customer, "status": ("!=", "Skipped"), "due_date": ("<=", today)}
		fields = ["name", "title", "status", "due_date", "completed_on"]
		return _records("Success Plan Milestone", filters, fields, "due_date desc")
	if factor_type == engine.NPS:
		since = add_days(today, -health.lookback(models, engine.NPS))
		filters = {"customer": customer, "answered_on": (">=", since)}
		fields = ["name", "contact", "score", "category", "answered_on", "survey"]
		return _records("NPS Response", filters, fields, "answered_on desc")
	if factor_type == engine.PRODUCT_USAGE:
		# both windows the factor compares: the look-back and the one before it
		days = health.lookback(models, engine.PRODUCT_USAGE)
		filters = {"customer": customer, "usage_date": (">", add_days(today, -2 * days))}
		fields = ["name", "metric", "usage_date", "value", "source"]
		return _records("Customer Usage Metric", filters, fields, "usage_date desc, metric asc", limit=200)
	if factor_type == engine.CSM_SENTIMENT:
		return {"doctype": "Customer", "records": [], "route_options": {"name": customer}}
	frappe.throw(_("Unknown factor {0}.").format(escape_html(str(factor_type))))


def _overdue_invoice_records(customer: str, today) -> dict:
	"""The invoices the payment factor counts as overdue, each with its overdue part and the due date
	of its oldest overdue instalment (payment terms, as ERPNext's receivables age them)."""
	arrears = {row["invoice"]: row for row in queries.unpaid_invoice_arrears(customer, customer, today)}
	filters = {"name": ("in", list(arrears) or [""])}
	# outstanding_amount is kept in the receivable account's currency; the overdue part in the company's
	fields = ["name", "posting_date", "outstanding_amount", "party_account_currency"]
	result = _records("Sales Invoice", filters, fields, "posting_date asc")
	for record in result["records"]:
		record["oldest_overdue_due"] = arrears[record.name]["oldest_due"]
		record["overdue_amount"] = arrears[record.name]["overdue"]
	result["records"].sort(key=lambda r: r["oldest_overdue_due"])
	if arrears:  # and the credit notes that settle them (`queries.invoice_facts`), negative, after
		credits = queries.unallocated_credit_notes(customer)
		readable = _records(
			"Sales Invoice", {"name": ("in", list(credits) or [""])}, fields, "posting_date asc"
		)["records"]
		for record in readable:
			record["oldest_overdue_due"] = None
			record["overdue_amount"] = credits[record.name]
		result["records"] += readable
		# the list the records open shows the credit notes too
		result["route_options"] = {"name": ("in", list(arrears) + list(credits))}
	return result


def _touch_records(customer: str, limit: int = 50) -> dict:
	"""Exactly the touches the engagement score counts (the same source definitions), newest first.

	Each document is then read through frappe.get_list, so a user sees only what their roles allow.
	"""
	touches = queries.touches_of(customer, limit)
	names = {
		doctype: [t["name"] for t in touches if t["doctype"] == doctype]
		for doctype in (queries.COMMUNICATION, queries.EVENT)
	}
	readable: dict[tuple[str, str], dict] = {}
	if names[queries.COMMUNICATION] and frappe.has_permission("Communication", "read"):
		for row in frappe.get_list(
			"Communication",
			filters={"name": ("in", names[queries.COMMUNICATION])},
			fields=["name", "subject", "communication_medium as medium"],
			limit_page_length=0,
		):
			readable[(queries.COMMUNICATION, row.name)] = row
	if names[queries.EVENT] and frappe.has_permission("Event", "read"):
		for row in frappe.get_list(
			"Event",
			filters={"name": ("in", names[queries.EVENT])},
			fields=["name", "subject", "event_category as medium"],
			limit_page_length=0,
		):
			readable[(queries.EVENT, row.name)] = row
	records = [
		frappe._dict(
			name=touch["name"],
			document_type=touch["doctype"],
			subject=readable[(touch["doctype"], touch["name"])].subject,
			medium=readable[(touch["doctype"], touch["name"])].medium,
			date=touch["when"],
		)
		for touch in touches
		if (touch["doctype"], touch["name"]) in readable
	]
	return {
		"doctype": queries.COMMUNICATION,
		"records": records,
		"counted": len(touches),
		"route_options": {"name": ("in", names[queries.COMMUNICATION] or [""])},
	}


def _records(doctype: str, filters: dict, fields: list[str], order_by: str, limit: int = 50) -> dict:
	if not frappe.has_permission(doctype, "read"):
		return {"doctype": doctype, "records": [], "no_permission": True, "route_options": filters}
	records = frappe.get_list(
		doctype, filters=filters, fields=fields, order_by=order_by, limit_page_length=limit
	)
	return {"doctype": doctype, "records": records, "route_options": filters}
