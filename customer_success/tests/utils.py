"""Helpers for integration tests: the before_tests hook and factories for real ERPNext records."""

from contextlib import contextmanager

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.setup import install
from customer_success.utils import ensure_service_item, leaf, users_not_throttled

TEST_PREFIX = "_CS Test"


def before_tests():
	"""Complete ERPNext's setup for a test company if the site has none, then our own install."""
	frappe.clear_cache()
	if not frappe.db.a_row_exists("Company"):
		from erpnext.setup.utils import before_tests as erpnext_before_tests

		erpnext_before_tests()
	install.after_migrate()
	frappe.db.commit()  # nosemgrep: tests start from a committed baseline


def app_modules() -> list[str]:
	"""The app's Frappe modules (one per room, plus "Customer Success")."""
	return frappe.get_all("Module Def", filters={"app_name": "customer_success"}, pluck="name")


@contextmanager
def change_settings(**values):
	"""Temporarily change Customer Success Settings; restored afterwards."""
	settings = frappe.get_single("Customer Success Settings")
	previous = {key: settings.get(key) for key in values}
	settings.update(values)
	settings.flags.ignore_permissions = True
	settings.save()
	try:
		yield settings
	finally:
		settings.reload()
		settings.update(previous)
		settings.save()


def default_company() -> str:
	import erpnext

	return erpnext.get_default_company() or frappe.db.get_value("Company", {}, "name", order_by="creation")


def make_customer(name: str | None = None, **fields) -> "frappe.Document":
	name = name or f"{TEST_PREFIX} Customer {frappe.generate_hash(length=6)}"
	if frappe.db.exists("Customer", name):
		return frappe.get_doc("Customer", name)
	doc = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": name,
			"customer_type": "Company",
			"customer_group": leaf("Customer Group", "Commercial"),
			"territory": leaf("Territory"),
			**fields,
		}
	)
	return doc.insert(ignore_permissions=True)


def make_item(item_code: str = f"{TEST_PREFIX} Subscription", rate: float = 1000) -> "frappe.Document":
	return frappe.get_doc("Item", ensure_service_item(item_code, rate))


def make_sales_order(customer: str, qty: float = 1, rate: float = 1000, submit: bool = True, **fields):
	item = make_item()
	doc = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"customer": customer,
			"company": default_company(),
			"transaction_date": fields.pop("transaction_date", nowdate()),
			"delivery_date": fields.pop("delivery_date", add_days(nowdate(), 30)),
			"items": [{"item_code": item.name, "qty": qty, "rate": rate}],
			**fields,
		}
	)
	doc.insert(ignore_permissions=True)
	if submit:
		doc.submit()
	return doc


def make_sales_invoice(
	customer: str, rate: float = 1000, posting_date=None, due_date=None, submit=True, **fields
):
	item = make_item()
	posting_date = getdate(posting_date or nowdate())
	doc = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"customer": customer,
			"company": default_company(),
			"set_posting_time": 1,
			"posting_date": posting_date,
			"due_date": getdate(due_date or posting_date),
			"items": [{"item_code": item.name, "qty": 1, "rate": rate}],
			**fields,
		}
	)
	doc.insert(ignore_permissions=True)
	if submit:
		doc.submit()
	return doc


def set_customer_fields(customer: str, values: dict, update_modified: bool = True):
	"""Write Customer fields set-based, as the app's jobs do (the health run, the tier job): the book
	roll-up the team cards read takes the difference, and the retention roll-up's part moves, as they
	do from those writers."""
	from customer_success.alerts.queries import sync_alert_csms
	from customer_success.customer_success.book_counts import recording
	from customer_success.renewals.service import (
		customer_book_changed,
		leaks_follow_customers,
		move_retention_parts,
	)

	old_csm, old_disabled = frappe.db.get_value("Customer", customer, ["cs_owner", "disabled"])
	with recording([customer]):
		frappe.db.set_value("Customer", customer, values, update_modified=update_modified)
	move_retention_parts([customer])  # and the retention roll-up's part, as the tier job moves it
	if {"cs_owner", "cs_tier", "cs_lifecycle_stage"} & set(values):
		leaks_follow_customers([customer])  # Revenue Leakage's leak table, as those writers move it
	if {"cs_owner", "disabled"} & set(values):  # the revenue roll-up and the open alerts, as a handoff
		new_csm, disabled = frappe.db.get_value("Customer", customer, ["cs_owner", "disabled"])
		customer_book_changed(customer, old_csm, old_disabled, new_csm, disabled)
		sync_alert_csms(customer)


def delete_customers(names: list[str]):
	"""Delete customers set-based (a test's cleanup of what it committed): the book roll-up the team
	cards read takes the difference, as it does from the app's own writers."""
	from customer_success.customer_success.book_counts import recording

	names = list(names or [])
	if not names:
		return
	with recording(names):
		frappe.db.delete("Customer", {"name": ("in", names)})


# frappe's signup throttle lifted for test fixtures too (a whole suite on a brand-new site makes more
# test users within the hour than it allows, and whether a test failed would depend on the order)
user_creation_unthrottled = users_not_throttled


def make_user(email: str, roles: list[str]) -> "frappe.Document":
	if frappe.db.exists("User", email):
		user = frappe.get_doc("User", email)
	else:
		with user_creation_unthrottled():
			user = frappe.get_doc(
				{
					"doctype": "User",
					"email": email,
					"first_name": email.split("@")[0],
					"send_welcome_email": 0,
				}
			).insert(ignore_permissions=True)
	user.add_roles(*roles)
	return user


def make_issue(
	customer: str, priority: str = "Medium", status: str = "Open", agreement_status=None, opened_days_ago=0
):
	"""A real Issue; its history (opening date, SLA outcome) back-dated as if it had happened."""
	ensure_issue_priority(priority)
	issue = frappe.get_doc(
		{
			"doctype": "Issue",
			"subject": f"{TEST_PREFIX} issue",
			"customer": customer,
			"priority": priority,
			"status": status,
		}
	).insert(ignore_permissions=True)
	values = {"opening_date": add_days(nowdate(), -opened_days_ago)}
	if agreement_status:
		values["agreement_status"] = agreement_status
	frappe.db.set_value("Issue", issue.name, values, update_modified=False)
	return issue


def ensure_issue_priority(priority: str):
	if priority and not frappe.db.exists("Issue Priority", priority):
		frappe.get_doc({"doctype": "Issue Priority", "name": priority}).insert(ignore_permissions=True)


def make_contract(customer: str, start_date, end_date, submit: bool = True):
	doc = frappe.get_doc(
		{
			"doctype": "Contract",
			"party_type": "Customer",
			"party_name": customer,
			"start_date": start_date,
			"end_date": end_date,
			"contract_terms": "Test terms",
		}
	).insert(ignore_permissions=True)
	if submit:
		doc.submit()
	return doc


def make_communication(
	customer: str, days_ago: int = 0, reference_doctype: str = "Customer", reference_name=None
):
	from frappe.utils import add_to_date, now_datetime

	return frappe.get_doc(
		{
			"doctype": "Communication",
			"communication_type": "Communication",
			"communication_medium": "Phone",
			"sent_or_received": "Sent",
			"subject": f"{TEST_PREFIX} call",
			"content": "Call",
			"communication_date": add_to_date(now_datetime(), days=-days_ago),
			"reference_doctype": reference_doctype,
			"reference_name": reference_name or customer,
		}
	).insert(ignore_permissions=True)


def ensure_fiscal_year(day):
	"""Back-dated test invoices need a fiscal year; a fresh test site only has the current one. The
	years from `day`'s to this one, of the site's own shape (`utils.ensure_fiscal_years`)."""
	from customer_success.utils import ensure_fiscal_years

	if ensure_fiscal_years(day, f"{getdate(nowdate()).year}-12-31", default_company(), TEST_PREFIX):
		frappe.db.commit()  # nosemgrep: shared across test classes


def make_contact(customer: str, first_name: str = "Jane", designation: str = "VP Operations", **fields):
	"""A Contact linked to the customer (email and phone included)."""
	slug = frappe.generate_hash(length=6)
	return frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": first_name,
			"last_name": f"Test {slug}",
			"designation": designation,
			"email_ids": [{"email_id": f"{first_name.lower()}.{slug}@example.com", "is_primary": 1}],
			"phone_nos": [{"phone": "+1-555-0100", "is_primary_phone": 1}],
			"links": [{"link_doctype": "Customer", "link_name": customer}],
			**fields,
		}
	).insert(ignore_permissions=True)


def make_address(customer: str, city: str = "Springfield"):
	return frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": customer,
			"address_type": "Billing",
			"address_line1": "1 Main Street",
			"city": city,
			"country": frappe.db.get_value("Company", default_company(), "country") or "United States",
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	).insert(ignore_permissions=True)


def make_success_plan(customer: str, status: str = "Draft", template=None, start_date=None, **fields):
	"""A success plan; objectives default to one measurable row, no template milestones unless given."""
	start = getdate(start_date or nowdate())
	doc = frappe.get_doc(
		{
			"doctype": "Success Plan",
			"customer": customer,
			"template": template,
			"start_date": start,
			"end_date": fields.pop("end_date", add_days(start, 180)),
			"status": status,
			"objectives": fields.pop(
				"objectives",
				[
					{
						"objective": "Weekly active users",
						"unit": "%",
						"direction": "Up",
						"baseline": 10,
						"target": 60,
						"current": 35,
					}
				],
			),
			**fields,
		}
	)
	for row in doc.objectives:  # measured and owned, as a plan past Draft must be
		row.metric = row.metric or row.objective
		row.owner_role = row.owner_role or "CSM"
	return doc.insert(ignore_permissions=True)


def make_portal_contact(customer: str, email: str) -> "frappe.Document":
	"""A website user who is a Contact of `customer` (Contact.user + Dynamic Link)."""
	if not frappe.db.exists("User", email):
		with user_creation_unthrottled():
			frappe.get_doc(
				{
					"doctype": "User",
					"email": email,
					"first_name": email.split("@")[0],
					"user_type": "Website User",
					"send_welcome_email": 0,
				}
			).insert(ignore_permissions=True)
	return frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": email.split("@")[0],
			"user": email,
			"email_ids": [{"email_id": email, "is_primary": 1}],
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	).insert(ignore_permissions=True)


def make_shared_users(users: dict[str, list[str]]):
	"""Users a whole test class shares: created once and committed, since every test rolls back
	its own data (and with it anything uncommitted, users included)."""
	for email, roles in users.items():
		make_user(email, roles)
	ensure_fiscal_year(add_days(nowdate(), -400))
	frappe.db.commit()  # nosemgrep: shared fixtures of the class


EUR_COMPANY = "_CS Test EUR Co"


def make_eur_company(rate: float = 1.1, rate_date=None) -> str:
	"""A second company keeping its books in EUR, and a EUR -> USD rate on `rate_date`."""
	if not frappe.db.exists("Company", EUR_COMPANY):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": EUR_COMPANY,
				"abbr": "CSEUR",
				"default_currency": "EUR",
				"country": "Germany",
				"chart_of_accounts": "Standard",
			}
		).insert()
	rate_date = getdate(rate_date or add_days(nowdate(), -1))
	frappe.db.delete("Currency Exchange", {"from_currency": "EUR", "to_currency": "USD", "date": rate_date})
	frappe.get_doc(
		{
			"doctype": "Currency Exchange",
			"date": rate_date,
			"from_currency": "EUR",
			"to_currency": "USD",
			"exchange_rate": rate,
			"for_selling": 1,
			"for_buying": 1,
		}
	).insert()
	return EUR_COMPANY


def make_subscription_plan(
	cost: float = 1000,
	interval: str = "Month",
	count: int = 1,
	price_determination: str = "Fixed Rate",
	price_list: str | None = None,
	currency: str | None = None,
) -> str:
	"""A real Subscription Plan on the test service item, in the default company's currency."""
	import erpnext

	doc = frappe.get_doc(
		{
			"doctype": "Subscription Plan",
			"plan_name": f"{TEST_PREFIX} Plan {frappe.generate_hash(length=6)}",
			"item": make_item().name,
			"price_determination": price_determination,
			"cost": cost,
			"price_list": price_list,
			"billing_interval": interval,
			"billing_interval_count": count,
			"currency": currency or erpnext.get_company_currency(default_company()),
		}
	).insert(ignore_permissions=True)
	return doc.name


def make_subscription(customer: str, start_date, end_date=None, plans=None, **fields) -> "frappe.Document":
	"""A real ERPNext Subscription of `customer` on `plans` ([(plan, qty)], a monthly plan by default)."""
	doc = frappe.get_doc(
		{
			"doctype": "Subscription",
			"party_type": "Customer",
			"party": customer,
			"company": default_company(),
			"start_date": getdate(start_date),
			"end_date": getdate(end_date) if end_date else None,
			"submit_invoice": 1,
			"plans": [{"plan": plan, "qty": qty} for plan, qty in (plans or [(make_subscription_plan(), 1)])],
			**fields,
		}
	)
	return doc.insert(ignore_permissions=True)


class OtherConnection:
	"""For a FrappeTestCase: `other_connection()`, frappe's `secondary_connection` with this test's own
	connection current again afterwards (on its first use frappe's leaves the new one current)."""

	@contextmanager
	def other_connection(self):
		own = frappe.local.db
		try:
			with self.secondary_connection():
				yield
		finally:
			frappe.local.db = own


def score_row(customer: str, day, score: float, **fields) -> dict:
	"""A day's health score row as `health.queries.upsert_scores` takes it (Yellow unless told)."""
	from frappe.utils import now_datetime

	return {
		"customer": customer,
		"customer_name": frappe.db.get_value("Customer", customer, "customer_name"),
		"model": "Standard Health Model",
		"score_date": getdate(day),
		"granularity": "Daily",
		"score": score,
		"status": "Yellow",
		"computed_score": score,
		"computed_status": "Yellow",
		"computed_on": now_datetime(),
		**fields,
	}
