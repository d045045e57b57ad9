"""ERPNext's whitelisted helpers that read a party's money and check only that the user may read the
doctype, not the record: a CSM who reads customers only through her role asks them about her book's
customers only (`permissions.erp_book_query`). Everyone else reaches ERPNext's method as it is."""

import frappe
from frappe import _

from customer_success.permissions import owns_customer, reads_only_as_csm
from customer_success.utils import json_argument


def check_party_in_book(party_type, party):
	"""A party named as a customer (the database compares "customer " and "Customer" as equal: so
	does this) must be of the CSM's book; and, for anyone, a customer they may read. ERPNext's
	methods check nothing when no account is named: a customer's portal user (and anyone signed in)
	read any customer's balance."""
	for value in (party_type, party):
		if value is not None and not isinstance(value, str):
			frappe.throw(_("A party and its type are each given as one name."))
	is_customer = str(party_type or "").strip().casefold() == "customer"
	if not (is_customer and party):
		return
	name = str(party).strip()
	if reads_only_as_csm("Customer") and not owns_customer(name):
		frappe.throw(
			_("Customer {0} is not in your book.").format(frappe.utils.escape_html(str(party))),
			frappe.PermissionError,
		)
	if frappe.db.exists("Customer", name) and not frappe.has_permission("Customer", "read", doc=name):
		frappe.throw(
			_("You may not read customer {0}.").format(frappe.utils.escape_html(str(party))),
			frappe.PermissionError,
		)


@frappe.whitelist()
def get_balance_on(
	account=None,
	date=None,
	party_type=None,
	party=None,
	company=None,
	in_account_currency=True,
	cost_center=None,
	ignore_account_permission=False,
	account_type=None,
	start_date=None,
):
	from erpnext.accounts.utils import get_balance_on as erpnext_get_balance_on

	# ERPNext reads its arguments from the request too
	check_party_in_book(
		party_type or frappe.form_dict.get("party_type"), party or frappe.form_dict.get("party")
	)
	return erpnext_get_balance_on(
		account=account,
		date=date,
		party_type=party_type,
		party=party,
		company=company,
		in_account_currency=in_account_currency,
		cost_center=cost_center,
		ignore_account_permission=ignore_account_permission,
		account_type=account_type,
		start_date=start_date,
	)


@frappe.whitelist()
def get_outstanding_reference_documents(args, validate=False):
	from erpnext.accounts.doctype.payment_entry.payment_entry import (
		get_outstanding_reference_documents as erpnext_outstanding,
	)

	message = _("The filters must be given as a JSON object.")
	parsed = json_argument(args, message)
	if not isinstance(parsed, dict):
		frappe.throw(message)
	check_party_in_book(parsed.get("party_type"), parsed.get("party"))
	return erpnext_outstanding(frappe._dict(parsed), validate=validate)


@frappe.whitelist()
def get_party_and_account_balance(
	company, date, paid_from=None, paid_to=None, ptype=None, pty=None, cost_center=None
):
	from erpnext.accounts.doctype.payment_entry.payment_entry import (
		get_party_and_account_balance as erpnext_balances,
	)

	check_party_in_book(ptype, pty)
	return erpnext_balances(
		company, date, paid_from=paid_from, paid_to=paid_to, ptype=ptype, pty=pty, cost_center=cost_center
	)


@frappe.whitelist()
def get_party_details(company, party_type, party, date, cost_center=None):
	from erpnext.accounts.doctype.payment_entry.payment_entry import (
		get_party_details as erpnext_party_details,
	)

	check_party_in_book(party_type, party)
	return erpnext_party_details(company, party_type, party, date, cost_center=cost_center)
