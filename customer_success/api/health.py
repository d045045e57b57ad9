"""Form actions for health: recompute one customer, override, sentiment, the records behind a factor."""

import frappe
from frappe import _
from frappe.utils import add_days, cint, flt, getdate, nowdate

from customer_success import health
from customer_success.engine import health as engine
from customer_success.permissions import can_work_on_customer

MAX_OVERRIDE_DAYS = 365


def _check_customer(customer: str):
	if not customer or not frappe.db.exists("Customer", customer):
		frappe.throw(_("Customer {0} does not exist.").format(customer or ""), frappe.DoesNotExistError)
	if not can_work_on_customer(customer):
		frappe.throw(
			_("Only the customer's CSM or a CS Manager can do this for {0}.").format(customer),
			frappe.PermissionError,
		)


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
			"is_override",
			"score_date",
			"explanation",
			"model",
		],
		order_by="score_date desc, name desc",
		limit=1,
	)
	return rows[0] if rows else None


@frappe.whitelist(methods=["POST"])
def recompute_customer(customer: str) -> dict | None:
	_check_customer(customer)
	health.recompute_customer(customer)
	return latest_score(customer)


@frappe.whitelist()
def get_customer_health(customer: str) -> dict:
	"""What the Customer form shows: the latest score, its explanation, override and sentiment."""
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
def set_override(customer: str, score: float, reason: str, until: str) -> dict | None:
	"""Override the score until a date; the computed score keeps being recorded beside it."""
	_check_customer(customer)
	score = flt(score)
	if not 0 <= score <= 100:
		frappe.throw(_("Override score must be between 0 and 100 (it is {0}).").format(score))
	if not (reason or "").strip():
		frappe.throw(_("Give a reason for overriding the health score."))
	until_date = getdate(until) if until else None
	today = getdate(nowdate())
	if not until_date or until_date < today:
		frappe.throw(_("Override Until must be today or later."))
	if until_date > getdate(add_days(today, MAX_OVERRIDE_DAYS)):
		frappe.throw(
			_("An override can last at most {0} days; pick an earlier date.").format(MAX_OVERRIDE_DAYS)
		)
	frappe.db.set_value(
		"Customer",
		customer,
		{"cs_health_override": score, "cs_override_reason": reason.strip(), "cs_override_until": until_date},
	)
	health.recompute_customer(customer)
	return latest_score(customer)


@frappe.whitelist(methods=["POST"])
def clear_override(customer: str) -> dict | None:
	_check_customer(customer)
	frappe.db.set_value(
		"Customer",
		customer,
		# Float columns are NOT NULL in frappe: no override is 0 with no expiry date.
		{"cs_health_override": 0, "cs_override_reason": None, "cs_override_until": None},
	)
	health.recompute_customer(customer)
	return latest_score(customer)


@frappe.whitelist(methods=["POST"])
def set_sentiment(customer: str, sentiment: str) -> dict | None:
	_check_customer(customer)
	if sentiment not in engine.SENTIMENT_SCORES:
		frappe.throw(
			_("Sentiment must be one of: {0}.").format(", ".join(_(s) for s in engine.SENTIMENT_SCORES))
		)
	frappe.db.set_value(
		"Customer", customer, {"cs_csm_sentiment": sentiment, "cs_sentiment_on": getdate(nowdate())}
	)
	health.recompute_customer(customer)
	return latest_score(customer)


@frappe.whitelist()
def get_factor_records(customer: str, factor_type: str) -> dict:
	"""The ERPNext records behind one factor of a customer's score ("what made it drop?").

	Lists go through frappe.get_list, so a user sees only the records their own roles allow.
	"""
	_check_customer(customer)
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
		filters = {
			"customer": customer,
			"docstatus": 1,
			"outstanding_amount": (">", 0),
			"due_date": ("<", today),
		}
		# outstanding_amount is kept in the receivable account's currency
		fields = ["name", "posting_date", "due_date", "outstanding_amount", "party_account_currency"]
		return _records("Sales Invoice", filters, fields, "due_date asc")
	if factor_type == engine.REVENUE_TREND:
		days = health.lookback(models, engine.REVENUE_TREND)
		filters = {"customer": customer, "docstatus": 1, "posting_date": (">", add_days(today, -2 * days))}
		fields = ["name", "posting_date", "base_net_total", "is_return", "status"]
		return _records("Sales Invoice", filters, fields, "posting_date desc")
	if factor_type == engine.ENGAGEMENT_RECENCY:
		filters = {"reference_doctype": "Customer", "reference_name": customer}
		fields = ["name", "subject", "communication_medium", "communication_date"]
		return _records("Communication", filters, fields, "communication_date desc", limit=10)
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
	if factor_type == engine.CSM_SENTIMENT:
		return {"doctype": "Customer", "records": [], "route_options": {"name": customer}}
	frappe.throw(_("Unknown factor {0}.").format(factor_type))


def _records(doctype: str, filters: dict, fields: list[str], order_by: str, limit: int = 50) -> dict:
	if not frappe.has_permission(doctype, "read"):
		return {"doctype": doctype, "records": [], "no_permission": True, "route_options": filters}
	records = frappe.get_list(
		doctype, filters=filters, fields=fields, order_by=order_by, limit_page_length=limit
	)
	return {"doctype": doctype, "records": records, "route_options": filters}
