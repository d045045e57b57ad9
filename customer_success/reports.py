"""What the app's script reports share: the customer filters (CSM, tier, lifecycle stage), always
limited to the user's book, and their date range.

A CSM sees her own customers only, whatever CSM she filters by (another CSM's name gives an empty
report); a CS Manager sees every book, or the one she filters by (permissions.report_book).
"""

from dataclasses import dataclass
from datetime import date

import frappe
from frappe import _
from frappe.query_builder import Criterion
from frappe.utils import add_days, getdate, nowdate

from customer_success.permissions import report_book


@dataclass(frozen=True)
class CustomerScope:
	csm: str | None
	tier: str | None
	lifecycle_stage: str | None
	allowed: bool

	@property
	def everyone(self) -> bool:
		"""No filter at all: every customer (a CS Manager's team view)."""
		return self.allowed and not (self.csm or self.tier or self.lifecycle_stage)


def customer_scope(filters) -> CustomerScope:
	"""The customers a report's filters (CSM, tier, lifecycle stage) ask for, within the user's book.
	A tier or stage that is none of the app's, or a CSM who is no user, stops the report with what to
	change (an empty report said nothing)."""
	filters = frappe._dict(filters or {})
	check_customer_filters(filters)
	csm, allowed = report_book(filters.get("csm") or None)
	return CustomerScope(csm, filters.get("tier") or None, filters.get("lifecycle_stage") or None, allowed)


def check_customer_filters(filters):
	from customer_success.constants import LIFECYCLE_STAGES, TIERS

	check_choices(
		filters,
		(("tier", TIERS, _("CS Tier")), ("lifecycle_stage", LIFECYCLE_STAGES, _("Lifecycle Stage"))),
	)
	check_links_exist(filters, (("csm", "User", _("CSM")),))


def customer_criterion(customer, scope: CustomerScope, include_disabled: bool = False):
	"""The WHERE on a Customer table (`customer` = frappe.qb.DocType("Customer") or an alias of it)."""
	conditions = [] if include_disabled else [customer.disabled == 0]
	if scope.csm:
		conditions.append(customer.cs_owner == scope.csm)
	if scope.tier:
		conditions.append(customer.cs_tier == scope.tier)
	if scope.lifecycle_stage:
		conditions.append(customer.cs_lifecycle_stage == scope.lifecycle_stage)
	return Criterion.all(conditions) if conditions else customer.name.isnotnull()


def customers_in_scope(scope: CustomerScope, include_disabled: bool = False):
	"""A sub-query of the names of the customers in scope, for `field.isin(...)`."""
	customer = frappe.qb.DocType("Customer")
	return (
		frappe.qb.from_(customer)
		.select(customer.name)
		.where(customer_criterion(customer, scope, include_disabled))
	)


def date_range(filters, default_days: int, default_to: date | None = None) -> tuple[date, date]:
	"""The report's From Date and To Date (defaults: the last `default_days` days to today)."""
	filters = frappe._dict(filters or {})
	to_date = filter_date(filters, "to_date", _("To Date")) or getdate(default_to or nowdate())
	from_date = filter_date(filters, "from_date", _("From Date")) or add_days(to_date, -default_days)
	check_date_order(from_date, to_date)
	return from_date, to_date


def filter_date(filters, fieldname: str, label: str) -> date | None:
	"""A date filter's value (None when empty). Text no date can be read from stops the report with
	the filter's label (`utils.date_argument`): `getdate` showed it back as markup, and a long run of
	digits overflowed it (a server error)."""
	from customer_success.utils import date_argument

	return date_argument((filters or {}).get(fieldname), label)


def filter_whole_number(filters, fieldname: str, label: str, default: int) -> int:
	"""A whole-number filter of 0 or more (`default` when empty); anything else stops the report."""
	from customer_success.utils import as_number

	value = (filters or {}).get(fieldname)
	if value is None or value == "":
		return default
	number = as_number(value)
	if not isinstance(number, int | float) or number < 0 or number != int(number) or number > 10**9:
		frappe.throw(_("{0} must be a whole number, 0 or more.").format(label), title=_("Invalid Filter"))
	return int(number)


def check_date_order(
	from_date: date | None, to_date: date | None, from_label: str | None = None, to_label: str | None = None
):
	"""The first date of a range not after the last, named as the report's filters name them."""
	if from_date and to_date and from_date > to_date:
		frappe.throw(
			_("{0} ({1}) must be on or before {2} ({3}).").format(
				from_label or _("From Date"),
				frappe.format(from_date, "Date"),
				to_label or _("To Date"),
				frappe.format(to_date, "Date"),
			),
			title=_("Invalid Filters"),
		)


def check_links_exist(filters, links: tuple[tuple[str, str, str], ...]):
	"""Each of `links` ((filter fieldname, doctype, label)) that is set must name a record; else the
	report stops with what to change. What was typed is shown as text, never as markup."""
	from frappe.utils import escape_html

	for fieldname, doctype, label in links:
		if filters.get(fieldname) and not frappe.db.exists(doctype, filters[fieldname]):
			frappe.throw(
				_("{0} {1} does not exist: choose one from the list or clear the filter.").format(
					label, frappe.bold(escape_html(filters[fieldname]))
				),
				title=_("Invalid Filter"),
			)


def check_choices(filters, choices: tuple[tuple[str, tuple[str, ...], str], ...]):
	"""Each of `choices` ((filter fieldname, allowed values, label)) that is set must be one of its
	values; else the report stops with what to change (nothing is read)."""
	for fieldname, options, label in choices:
		if filters.get(fieldname) and filters[fieldname] not in options:
			frappe.throw(
				_("{0} must be one of {1}.").format(label, ", ".join(_(o) for o in options)),
				title=_("Invalid Filter"),
			)


def empty_report(columns: list[dict], message: str | None = None):
	return columns, [], message, None, None


def decimal_figure(value, label: str, precision: int = 1, **extra) -> dict:
	"""A report summary's figure with decimals, as the report's own column shows it ("73.7"). The
	desk formats a summary's Float with the site's float precision ("73.700") and takes no precision
	of the figure's, so the figure is sent as text; none stays empty."""
	text = "" if value is None else frappe.format_value(value, {"fieldtype": "Float", "precision": precision})
	return {"value": text, "label": label, "datatype": "Data", **extra}


def customers_named_by_series() -> bool:
	"""Whether the site names its customers otherwise than by their names (Selling Settings: Naming
	Series, or Auto Name, which takes the Customer doctype's own rule, a naming series unless a site
	changed it): a customer's name ("CUST-2026-00043") then says nothing of who it is."""
	return frappe.db.get_single_value("Selling Settings", "cust_master_name") != "Customer Name"


def with_customer_names(columns: list[dict], data: list[dict], field: str = "customer") -> list[dict]:
	"""On a site naming its customers otherwise than by their names, the columns with a Customer
	Name after the `field` column, and each row given its customer's name (one read); as ERPNext's
	own reports do (Accounts Receivable, Customer Credit Balance). Elsewhere the columns as they
	were."""
	if not customers_named_by_series():
		return columns
	at = next(i for i, column in enumerate(columns) if column["fieldname"] == field) + 1
	named = {"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 180}
	customers = list({row[field] for row in data if row.get(field)})
	names = {}
	if customers:
		customer = frappe.qb.DocType("Customer")
		names = dict(
			frappe.qb.from_(customer)
			.select(customer.name, customer.customer_name)
			.where(customer.name.isin(customers))
			.run()
		)
	for row in data:
		row["customer_name"] = names.get(row.get(field))
	return [*columns[:at], named, *columns[at:]]


def translated(data: list, fieldnames) -> list:
	"""The rows with the values of their enumerated text columns (tier, lifecycle stage, status, a
	CSM's call...) in the user's language, as the forms show them: applied last, once every figure,
	chart and summary was computed from the stored values. A report's Data column is shown as it is
	(its values in English for a Chinese-speaking CSM)."""
	for row in data:
		for fieldname in fieldnames:
			value = row.get(fieldname)
			if value and isinstance(value, str):
				row[fieldname] = _(value)
	return data
