"""Row-level rules: a CSM works their own book of customers; CS Managers see everything.

Ownership is always read from the Customer's current CS Owner, so reassigning a customer
moves its history with it.
"""

import frappe

from customer_success.install import CS_MANAGER_ROLE, CSM_ROLE

SEE_ALL_ROLES = {"System Manager", CS_MANAGER_ROLE}


def sees_all(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(SEE_ALL_ROLES & set(frappe.get_roles(user)))


def is_csm(user: str | None = None) -> bool:
	return CSM_ROLE in frappe.get_roles(user or frappe.session.user)


def owns_customer(customer: str | None, user: str | None = None) -> bool:
	user = user or frappe.session.user
	return bool(customer) and frappe.db.get_value("Customer", customer, "cs_owner") == user


def can_work_on_customer(customer: str, user: str | None = None) -> bool:
	"""May this user act on the customer's success data (override, sentiment, recompute)?"""
	user = user or frappe.session.user
	return sees_all(user) or (is_csm(user) and owns_customer(customer, user))


def _own_customers_condition(table: str, field: str, user: str) -> str:
	# permission_query_conditions must return SQL; the user is escaped, nothing else is input.
	return f"`tab{table}`.`{field}` in (select `name` from `tabCustomer` where `cs_owner` = {frappe.db.escape(user)})"


def customer_health_score_query(user: str | None = None) -> str:
	user = user or frappe.session.user
	if sees_all(user):
		return ""
	if is_csm(user):
		return _own_customers_condition("Customer Health Score", "customer", user)
	return "1=0"


def customer_health_score_has_permission(doc, ptype: str = "read", user: str | None = None) -> bool:
	user = user or frappe.session.user
	if sees_all(user):
		return True
	return is_csm(user) and owns_customer(doc.customer, user)


# --- success plans, milestones, check-ins, business reviews ---------------------------------


def _customer_records_query(doctype: str, user: str | None) -> str:
	user = user or frappe.session.user
	if sees_all(user):
		return ""
	if is_csm(user):
		return _own_customers_condition(doctype, "customer", user)
	return "1=0"


def success_plan_query(user: str | None = None) -> str:
	return _customer_records_query("Success Plan", user)


def success_plan_milestone_query(user: str | None = None) -> str:
	return _customer_records_query("Success Plan Milestone", user)


def success_plan_checkin_query(user: str | None = None) -> str:
	return _customer_records_query("Success Plan Check-in", user)


def business_review_query(user: str | None = None) -> str:
	return _customer_records_query("Business Review", user)


def customer_record_has_permission(doc, ptype: str = "read", user: str | None = None) -> bool:
	"""CSMs act on plans, milestones, check-ins and reviews of the customers they own."""
	user = user or frappe.session.user
	if sees_all(user):
		return True
	customer = doc.get("customer")
	if not customer and doc.get("success_plan"):
		customer = frappe.db.get_value("Success Plan", doc.success_plan, "customer")
	return is_csm(user) and owns_customer(customer, user)


def portal_customers(user: str | None = None) -> list[str]:
	from customer_success.queries.plans import portal_customers as customers_of_contact

	return customers_of_contact(user or frappe.session.user)


def success_plan_has_website_permission(
	doc, ptype: str = "read", user: str | None = None, verbose=False
) -> bool:
	"""A contact of the plan's customer may read and print it, once it is shared with them."""
	user = user or frappe.session.user
	if ptype not in ("read", "print") or user == "Guest":
		return False
	return bool(doc.get("share_with_customer")) and doc.get("customer") in portal_customers(user)
