"""Row-level rules: a CSM works their own book of customers; CS Managers see everything.

Ownership is always read from the Customer's current CS Owner, so reassigning a customer
moves its history with it.
"""

import frappe
from frappe import _

from customer_success.constants import CS_MANAGER_ROLE, CSM_ROLE

SEE_ALL_ROLES = {"System Manager", CS_MANAGER_ROLE}


def sees_all(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(SEE_ALL_ROLES & set(frappe.get_roles(user)))


def is_csm(user: str | None = None) -> bool:
	return CSM_ROLE in frappe.get_roles(user or frappe.session.user)


def owns_customer(customer: str | None, user: str | None = None) -> bool:
	user = user or frappe.session.user
	return bool(customer) and frappe.db.get_value("Customer", customer, "cs_owner") == user


def book_of(user: str | None = None) -> str | None:
	"""The CSM whose book limits the customer figures `user` sees; None when nothing limits them
	(a CS Manager sees the team; other roles see what their own permissions give them)."""
	user = user or frappe.session.user
	return user if is_csm(user) and not sees_all(user) else None


def report_book(requested_csm: str | None = None, user: str | None = None) -> tuple[str | None, bool]:
	"""Whose customers a report may show `user`: (csm, allowed).

	A CS Manager (or System Manager) sees every book, or the one CSM she filters by. A CSM sees her
	own book only: filtering by another CSM shows nothing. Anyone else sees nothing.
	"""
	user = user or frappe.session.user
	if sees_all(user):
		return requested_csm or None, True
	if is_csm(user):
		return user, not requested_csm or requested_csm == user
	return None, False


def check_can_work_on_customer(customer: str):
	"""Throw unless the customer exists and the user may act on its success data."""
	if not customer or not frappe.db.exists("Customer", customer):
		frappe.throw(_("Customer {0} does not exist.").format(customer or ""), frappe.DoesNotExistError)
	if not can_work_on_customer(customer):
		frappe.throw(
			_("Only the customer's CSM or a CS Manager can do this for {0}.").format(customer),
			frappe.PermissionError,
		)


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


def cs_alert_query(user: str | None = None) -> str:
	"""The alerts of the CSM's book, and those shared with the user to read: a task's person from
	another book (`alerts.service.share_with_task_people`; frappe 15's list adds shared documents
	only for doctypes with user permissions or an owner rule)."""
	user = user or frappe.session.user
	if sees_all(user):
		return ""
	shared = (
		"`tabCS Alert`.`name` in (select `share_name` from `tabDocShare` where `share_doctype` = 'CS Alert'"
		f" and (`user` = {frappe.db.escape(user)} or `everyone` = 1) and `read` = 1)"
	)
	if is_csm(user):
		return f"({_own_customers_condition('CS Alert', 'customer', user)} or {shared})"
	return shared


def customer_touchpoint_query(user: str | None = None) -> str:
	return _customer_records_query("Customer Touchpoint", user)


def nps_survey_query(user: str | None = None) -> str:
	return _customer_records_query("NPS Survey", user)


def nps_response_query(user: str | None = None) -> str:
	return _customer_records_query("NPS Response", user)


def renewal_query(user: str | None = None) -> str:
	return _customer_records_query("Renewal", user)


def customer_usage_metric_query(user: str | None = None) -> str:
	return _customer_records_query("Customer Usage Metric", user)


def usage_metric_entitlement_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Entitlements set per customer are rows of a metric (which CSMs read): listed directly, a
	CSM finds only her book's. On the metric's form the table is permlevel 1, for CS Managers."""
	return _customer_records_query("Usage Metric Entitlement", user)


def customer_record_has_permission(doc, ptype: str = "read", user: str | None = None) -> bool:
	"""CSMs act on plans, milestones, check-ins and reviews of the customers they own.

	The request cannot vouch for itself: a saved record is judged by the customer stored in the
	database (and, for records of a plan, the stored plan's customer) as well as the one sent, so
	a CSM can neither edit a colleague's record by sending their own customer nor move a record
	to a customer they do not own.
	"""
	user = user or frappe.session.user
	if sees_all(user):
		return True
	if doc.doctype == "CS Alert" and ptype == "read" and alert_shared_with(doc, user):
		return True  # a task's person from another book (`alerts.service.share_with_task_people`)
	if not is_csm(user):
		return False
	if (
		doc.doctype == "Success Plan Milestone"
		and ptype in ("read", "write")
		and milestone_owner(doc) == user
	):
		return True  # a colleague the milestone is given to works it (marks it done)
	if ptype == "create":
		if not frappe.has_permission(doc.doctype, "create", user=user):
			return False  # the role creates none (a CSM, renewals): not "set Customer first" (tester W)
		throw_unknown_links(doc)
	customers = record_customers(doc)
	if not customers and ptype == "create":
		# nothing names the customer yet: say what is missing, not "Not allowed" (the create
		# permission is checked before the mandatory fields are)
		throw_missing_customer(doc)
	return bool(customers) and all(owns_customer(customer, user) for customer in customers)


def alert_shared_with(doc, user: str) -> bool:
	"""Whether a saved alert is shared with the user to read (frappe's DocShare)."""
	return bool(
		not doc.is_new()
		and doc.name
		and frappe.share.get_shared("CS Alert", user, ["read"], filters=[["share_name", "=", doc.name]])
	)


def milestone_owner(doc) -> str | None:
	"""The owner a saved milestone has in the database (what was sent cannot make one its owner),
	while it stays on its plan (moving it is for those who own both customers)."""
	if doc.is_new():
		return None
	stored = frappe.db.get_value(
		"Success Plan Milestone", doc.name, ["assigned_to", "success_plan", "customer"], as_dict=True
	)
	if not stored or (doc.get("success_plan") or stored.success_plan) != stored.success_plan:
		return None
	if (doc.get("customer") or stored.customer) != stored.customer:
		return None
	return stored.assigned_to


def throw_unknown_links(doc):
	"""A new record naming a customer or plan that does not exist is told so (not "Not allowed":
	the create permission is checked before the links are)."""
	for fieldname, doctype in (("customer", "Customer"), ("success_plan", "Success Plan")):
		value = doc.get(fieldname) if frappe.get_meta(doc.doctype).has_field(fieldname) else None
		if value and isinstance(value, str) and not frappe.db.exists(doctype, value):
			frappe.throw(
				_("{0} {1} does not exist; pick an existing one.").format(_(doctype), value),
				frappe.LinkValidationError,
				title=_("Not Found"),
			)


def throw_missing_customer(doc):
	meta = frappe.get_meta(doc.doctype)
	plan = meta.get_field("success_plan")
	field = "success_plan" if plan and plan.reqd else "customer"
	frappe.throw(
		_("{0}: set {1} first.").format(_(doc.doctype), _(meta.get_label(field))),
		exc=frappe.MandatoryError,
		title=_("Missing Values Required"),
	)


def record_customers(doc) -> set[str]:
	"""Every customer a plan record touches: as sent, and as stored when the record exists."""
	has_plan = doc.doctype != "Success Plan" and frappe.get_meta(doc.doctype).has_field("success_plan")
	plans = {doc.get("success_plan")} if has_plan else set()
	customers = {doc.get("customer")}
	if doc.get("name") and not doc.get("__islocal"):
		stored = frappe.db.get_value(
			doc.doctype, doc.name, ["customer", "success_plan"] if has_plan else ["customer"], as_dict=True
		)
		if stored:
			customers.add(stored.customer)
			plans.add(stored.get("success_plan"))
	for plan in plans - {None, ""}:
		customers.add(frappe.db.get_value("Success Plan", plan, "customer"))
	# a new milestone or check-in takes its customer from its plan in validate
	return customers - {None, ""}


def portal_customers(user: str | None = None) -> list[str]:
	from customer_success.success_plans.queries import portal_customers as customers_of_contact

	return customers_of_contact(user or frappe.session.user)


def success_plan_has_website_permission(
	doc, ptype: str = "read", user: str | None = None, verbose=False
) -> bool:
	"""A contact of the plan's customer may read and print it, once it is shared with them.

	Judged on the stored plan: a print request may carry a whole document (`doc=`), and what it
	claims about its customer or sharing must not open someone else's plan. Which print format a
	contact may use is checked when printing (`plans.check_customer_print_format`).
	"""
	user = user or frappe.session.user
	if ptype not in ("read", "print") or user == "Guest" or not doc.get("name"):
		return False
	stored = frappe.db.get_value("Success Plan", doc.name, ["customer", "share_with_customer"], as_dict=True)
	if not stored or not stored.share_with_customer:
		return False
	return stored.customer in portal_customers(user) and doc.get("customer") in (None, stored.customer)


# --- sales handoffs --------------------------------------------------------------------------
# Sales sees the handoffs it owns, a CSM those proposed to them or for customers in their book;
# Sales Managers, CS Managers and System Managers see all. Only the proposed CSM or a CS Manager
# decides (accepts or returns), never whoever handed the handoff over.

SALES_ROLES = {"Sales User", "Sales Manager"}
HANDOFF_SEE_ALL_ROLES = SEE_ALL_ROLES | {"Sales Manager"}
CUSTOMER_HOLDER_ROLES = {CSM_ROLE, CS_MANAGER_ROLE}


def roles_of(user: str | None = None) -> set[str]:
	return set(frappe.get_roles(user or frappe.session.user))


def is_cs_manager(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or CS_MANAGER_ROLE in roles_of(user)


def is_sales(user: str | None = None) -> bool:
	return bool(SALES_ROLES & roles_of(user))


def can_own_customers(user: str | None) -> bool:
	"""An enabled user with the CSM (or CS Manager) role: someone whose book a customer can be in."""
	if not user or not frappe.db.get_value("User", user, "enabled"):
		return False
	return bool(CUSTOMER_HOLDER_ROLES & roles_of(user))


def sees_all_handoffs(user: str | None = None) -> bool:
	user = user or frappe.session.user
	return user == "Administrator" or bool(HANDOFF_SEE_ALL_ROLES & roles_of(user))


def sales_handoff_query(user: str | None = None) -> str:
	user = user or frappe.session.user
	if sees_all_handoffs(user):
		return ""
	table = "`tabSales Handoff`"
	escaped = frappe.db.escape(user)
	conditions = []
	if "Sales User" in roles_of(user):
		conditions.append(f"{table}.`owner` = {escaped} or {table}.`sales_owner` = {escaped}")
	if is_csm(user):
		conditions.append(f"{table}.`proposed_csm` = {escaped}")
		conditions.append(_own_customers_condition("Sales Handoff", "customer", user))
	return "({})".format(" or ".join(conditions)) if conditions else "1=0"


def sales_handoff_has_permission(doc, ptype: str = "read", user: str | None = None) -> bool:
	user = user or frappe.session.user
	if ptype == "create" or sees_all_handoffs(user):
		return True  # who may create at all is the role permissions' call
	if not _handoff_visible_to(doc, user):
		return False
	# The stored handoff decides too: a request may not make itself the owner, sales owner or
	# proposed CSM of someone else's handoff (frappe checks write on the updated document).
	name = doc.get("name")
	if name and not doc.get("__islocal"):
		stored = frappe.db.get_value(
			"Sales Handoff", name, ["owner", "sales_owner", "proposed_csm", "customer"], as_dict=True
		)
		if stored and not _handoff_visible_to(stored, user):
			return False
	return True


def _handoff_visible_to(row, user: str) -> bool:
	if "Sales User" in roles_of(user) and user in (row.get("owner"), row.get("sales_owner")):
		return True
	return is_csm(user) and (row.get("proposed_csm") == user or owns_customer(row.get("customer"), user))


def can_hand_over_handoff(doc, user: str | None = None) -> bool:
	"""Sales (or a System Manager) hands over; so may whoever drafted the handoff."""
	user = user or frappe.session.user
	return is_sales(user) or "System Manager" in roles_of(user) or doc.get("owner") == user


def check_can_decide_handoff(doc, action: str, user: str | None = None):
	"""Only the proposed CSM or a CS Manager accepts or returns a handoff; never who handed it over."""
	from frappe import _

	user = user or frappe.session.user
	if user == "Administrator":
		return
	if doc.get("handed_over_by") == user:
		frappe.throw(
			_("You handed over {0}: someone else must {1} it (the proposed CSM or a CS Manager).").format(
				doc.name, _(action)
			),
			frappe.PermissionError,
			title=_("Not Allowed"),
		)
	if is_cs_manager(user) or (doc.get("proposed_csm") == user and is_csm(user)):
		return
	if doc.get("proposed_csm"):
		message = _("Only the proposed CSM ({0}) or a CS Manager can {1} handoff {2}.").format(
			doc.proposed_csm, _(action), doc.name
		)
	else:
		message = _("Handoff {0} has no Proposed CSM: only a CS Manager can {1} it.").format(
			doc.name, _(action)
		)
	frappe.throw(message, frappe.PermissionError, title=_("Not Allowed"))


def check_can_move_customer(customer: str, csm: str, user: str | None = None):
	"""A customer already in another CSM's book moves to a new CSM only by a CS Manager's hand."""
	from frappe import _

	user = user or frappe.session.user
	current = frappe.db.get_value("Customer", customer, "cs_owner")
	if current and current != csm and not is_cs_manager(user):
		frappe.throw(
			_("Customer {0} is already in the book of CSM {1}: only a CS Manager can move it to {2}.").format(
				customer, current, csm
			),
			frappe.PermissionError,
			title=_("Not Allowed"),
		)


# --- the app's own number cards and charts -------------------------------------------------------


def own_widget_has_permission(doc, ptype: str = "read", user: str | None = None, debug=False) -> bool | None:
	"""Frappe's own rule for a Number Card or Dashboard Chart, answered for this app's widgets: a
	System Manager sees all, a chart with roles shows to those roles, else the widget shows to who
	may read its document type. Frappe's check lists every doctype the user can read, from the
	permission tables, on every call: twice per widget while the workspace opens (the page, then
	the widget), about 0.1 s each. Here it is one cached role check. Any other app's widget, and
	report-based ones: None, and frappe's own hook decides as always."""
	if doc.get("module") not in frappe.get_module_list("customer_success"):
		return None
	if doc.doctype == "Number Card" and doc.get("type") == "Report":
		return None
	if doc.doctype == "Dashboard Chart" and doc.get("chart_type") == "Report":
		return None
	user = user or frappe.session.user
	roles = set(frappe.get_roles(user))
	if "System Manager" in roles:
		return True
	if doc.doctype == "Dashboard Chart" and doc.get("roles"):
		return bool(roles & {row.role for row in doc.roles})
	return bool(doc.get("document_type")) and bool(
		frappe.has_permission(doc.document_type, "read", user=user)
	)


# --- the same rules through every door: child rows, counts, link search ----------------------


def child_rows_query(user: str | None = None, doctype: str | None = None) -> str:
	"""Rows of a child table follow their parent's row rules.

	`frappe.client.get_list("Sales Handoff Stakeholder", parent="Sales Handoff")` applies only the
	child doctype's own conditions; without these, a CSM could list every handoff's stakeholders.
	"""
	user = user or frappe.session.user
	if not doctype:
		return ""
	hooks = frappe.get_hooks("permission_query_conditions", {})
	table = f"`tab{doctype}`"
	parts, restricted = [], False
	for parent in _parents_of(doctype):
		conditions = [
			condition
			for method in hooks.get(parent, [])
			if (condition := frappe.call(frappe.get_attr(method), user, doctype=parent))
		]
		parent_type = f"{table}.`parenttype` = {frappe.db.escape(parent)}"
		if conditions:
			restricted = True
			parts.append(
				f"({parent_type} and {table}.`parent` in "
				f"(select `name` from `tab{parent}` where {' and '.join(conditions)}))"
			)
		else:
			parts.append(f"({parent_type})")
	return "({})".format(" or ".join(parts)) if restricted else ""


def _parents_of(doctype: str) -> list[str]:
	"""The doctypes that hold `doctype` as a table (from the schema, so a site's own additions count)."""
	table_types = ["Table", "Table MultiSelect"]
	filters = {"options": doctype, "fieldtype": ["in", table_types]}
	parents = set(frappe.get_all("DocField", filters=filters, pluck="parent"))
	parents |= set(frappe.get_all("Custom Field", filters=filters, pluck="dt"))
	return sorted(parents)


def guarded_doctypes() -> set[str]:
	"""The doctypes whose rows this app limits to a user's book (their hooks name this module)."""
	return {
		doctype
		for doctype, methods in frappe.get_hooks("permission_query_conditions", {}).items()
		if any(method.startswith("customer_success.") for method in methods)
	}


def counts_through_rules(user: str | None = None) -> bool:
	"""Whether every count `user` asks for goes through the lists' permission rules: a CSM whose book
	limits her, and anyone without desk access (a portal customer, the usage feed's user)."""
	user = user or frappe.session.user
	if user == "Administrator":
		return False
	if frappe.get_cached_value("User", user, "user_type") != "System User":
		return True
	return is_csm(user) and not sees_all(user)


def count_in_book(doctype: str, filters=None) -> int:
	"""A row count through the list's own permission rules (frappe.client.get_count applies none)."""
	if not frappe.get_meta(doctype).istable:
		frappe.has_permission(doctype, "read", throw=True)
		return _count(doctype, filters)
	# child rows: counted under each parent the user may read, as that parent's list allows
	parents = [parent for parent in _parents_of(doctype) if frappe.has_permission(parent, "read")]
	if not parents:
		frappe.throw(_("No permission to read {0}").format(_(doctype)), frappe.PermissionError)
	return sum(_count(doctype, filters, parent) for parent in parents)


def _count(doctype: str, filters, parent: str | None = None) -> int:
	if filters is not None and not isinstance(filters, dict | list):
		frappe.throw(_("Filters must be given as JSON."))
	if parent:
		if isinstance(filters, dict):
			filters = [
				[doctype, key, *(value if isinstance(value, list | tuple) else ["=", value])]
				for key, value in filters.items()
			]
		filters = [*(filters or []), [doctype, "parenttype", "=", parent]]
	try:
		rows = frappe.get_list(
			doctype, filters=filters, fields=["count(*) as n"], order_by="", parent_doctype=parent
		)
	except Exception as e:
		if frappe.db.is_missing_column(e):  # a filter on a field the doctype does not have
			frappe.throw(_("The filters name a field {0} does not have.").format(_(doctype)))
		raise
	return int(rows[0].n) if rows else 0


# The field types a link search matches the typed text in.
SEARCHABLE_TYPES = frozenset(
	{
		"Data",
		"Link",
		"Dynamic Link",
		"Select",
		"Small Text",
		"Text",
		"Long Text",
		"Read Only",
		"Autocomplete",
		"Phone",
	}
)


def search_in_book(
	doctype: str, txt: str, searchfield: str, start: int, page_len: int, filters, as_dict=False
):
	"""Link search that keeps the row rules even when the field asks to ignore user permissions."""
	meta = frappe.get_meta(doctype)
	fields = ["name"]
	for fieldname in [meta.title_field, *meta.get_search_fields()]:
		if fieldname and fieldname not in fields and (fieldname == "name" or meta.has_field(fieldname)):
			fields.append(fieldname)
	# matched as text only where a field holds text (LIKE on a date or a number filters by a date
	# or number: "Quill" is no date)
	searched = [f for f in fields if f == "name" or meta.get_field(f).fieldtype in SEARCHABLE_TYPES]
	or_filters = [[doctype, fieldname, "like", f"%{txt}%"] for fieldname in searched] if txt else None
	return frappe.get_list(
		doctype,
		fields=fields,
		filters=filters,
		or_filters=or_filters,
		limit_start=start,
		limit_page_length=page_len,
		order_by="modified desc",
		as_list=not as_dict,
	)


# --- the ERPNext records our CSM role is given (setup.roles.ROLE_PERMISSIONS) --------------------
# A user who reads such a doctype only through the CSM role reads her book's records of it, and
# changes only those: the app gave her the rule, so the book limits it. A user whose other roles
# read it (a CSM who is also a Sales or Support user: another team's view) keeps what those give;
# a CS Manager sees everything. Each doctype: how a record names its customer, as SQL.

_BOOK = "(select `name` from `tabCustomer` where `cs_owner` = {user})"
ERP_BOOK_CONDITIONS = {
	"Customer": "`tabCustomer`.`cs_owner` = {user}",
	"Sales Order": "`tabSales Order`.`customer` in " + _BOOK,
	"Sales Invoice": "`tabSales Invoice`.`customer` in " + _BOOK,
	"Issue": "`tabIssue`.`customer` in " + _BOOK,
	"Project": "`tabProject`.`customer` in " + _BOOK,
	"Contract": "`tabContract`.`party_type` = 'Customer' and `tabContract`.`party_name` in " + _BOOK,
	"Opportunity": "`tabOpportunity`.`opportunity_from` = 'Customer' and `tabOpportunity`.`party_name` in "
	+ _BOOK,
	"Quotation": "`tabQuotation`.`quotation_to` = 'Customer' and `tabQuotation`.`party_name` in " + _BOOK,
	"Contact": "exists (select 1 from `tabDynamic Link` `cs_link` where `cs_link`.`parenttype` = 'Contact'"
	" and `cs_link`.`parent` = `tabContact`.`name` and `cs_link`.`link_doctype` = 'Customer'"
	" and `cs_link`.`link_name` in " + _BOOK + ")",
	"Address": "exists (select 1 from `tabDynamic Link` `cs_link` where `cs_link`.`parenttype` = 'Address'"
	" and `cs_link`.`parent` = `tabAddress`.`name` and `cs_link`.`link_doctype` = 'Customer'"
	" and `cs_link`.`link_name` in " + _BOOK + ")",
}


def reads_only_as_csm(doctype: str, user: str | None = None, ptype: str = "read") -> bool:
	"""Whether `user` may `ptype` (read, write...) `doctype` only through the CSM role (then her book
	limits it): no other role of hers grants it."""
	from frappe.permissions import get_valid_perms

	user = user or frappe.session.user
	if user == "Administrator" or sees_all(user) or not is_csm(user):
		return False
	return not any(
		perm.get(ptype) and not perm.if_owner and not perm.permlevel and perm.role != CSM_ROLE
		for perm in get_valid_perms(doctype, user)
	)


# what a document permission check asks, as the rule that grants it (select and the like: read)
_RULE_OF = {"write": "write", "create": "create", "delete": "delete", "email": "email", "print": "print"}


def erp_book_query(user: str | None = None, doctype: str | None = None) -> str:
	"""permission_query_conditions of the ERPNext doctypes in ERP_BOOK_CONDITIONS."""
	user = user or frappe.session.user
	if not doctype or doctype not in ERP_BOOK_CONDITIONS or not reads_only_as_csm(doctype, user):
		return ""
	return "(" + ERP_BOOK_CONDITIONS[doctype].format(user=frappe.db.escape(user)) + ")"


def erp_record_customers(doc, for_read: bool = False) -> set[str]:
	"""The customers an ERPNext record of ERP_BOOK_CONDITIONS names (as sent and as stored)."""
	doctype = doc.doctype

	def named(values) -> set[str]:
		if doctype in ("Contact", "Address"):
			return {
				link.get("link_name")
				for link in values.get("links") or []
				if link.get("link_doctype") == "Customer"
			}
		if doctype in ("Contract", "Opportunity", "Quotation"):
			kind = {"Contract": "party_type", "Opportunity": "opportunity_from", "Quotation": "quotation_to"}
			return {values.get("party_name")} if values.get(kind[doctype]) == "Customer" else {None}
		return {values.get("customer")}

	customers = named(doc.as_dict())
	if not doc.is_new() and not for_read:  # a change is judged by the stored record too
		before = frappe.get_doc(doctype, doc.name) if frappe.db.exists(doctype, doc.name) else None
		if before is not None:
			customers |= named(before.as_dict())
	return customers


def erp_record_has_permission(doc, ptype: str = "read", user: str | None = None) -> bool | None:
	"""A CSM reading an ERP_BOOK_CONDITIONS doctype only through her role acts on her book's records
	only (a new one she creates may name no customer yet: its own rules decide). No opinion
	otherwise."""
	user = user or frappe.session.user
	if not reads_only_as_csm(doc.doctype, user, _RULE_OF.get(ptype, "read")):
		return None
	if doc.doctype == "Customer":  # the stored CS Owner (a save cannot hand itself the customer)
		return None if doc.is_new() else owns_customer(doc.name, user)
	customers = erp_record_customers(doc, for_read=ptype in ("read", "select", "report", "print", "email"))
	if ptype == "create" and customers <= {None}:
		return None
	return bool(customers) and None not in customers and all(owns_customer(c, user) for c in customers)


# Their child tables (order lines, invoice lines, payment schedules, a contact's e-mails and phones,
# the links of contacts and addresses...): listed directly (frappe.client.get_list with a parent), a
# row of a parent she reads only as a CSM is listed when its parent is of her book.


def erp_child_parents(doctype: str) -> list[str]:
	"""The doctypes of ERP_BOOK_CONDITIONS with a table of `doctype`."""
	return [
		parent
		for parent in ERP_BOOK_CONDITIONS
		if frappe.db.exists("DocType", parent, cache=True)
		and any(df.options == doctype for df in frappe.get_meta(parent).get_table_fields())
	]


def erp_child_query(user: str | None = None, doctype: str | None = None) -> str:
	"""permission_query_conditions of ERP_CHILD_DOCTYPES: rows of a parent the user reads only as a
	CSM are those of her book's parents; rows of other parents are left to frappe's own rules."""
	user = user or frappe.session.user
	if not doctype or user == "Administrator" or sees_all(user) or not is_csm(user):
		return ""
	escaped = frappe.db.escape(user)
	parts = [
		f"(`tab{doctype}`.`parenttype` <> {frappe.db.escape(parent)} or `tab{doctype}`.`parent` in "
		f"(select `name` from `tab{parent}` where {ERP_BOOK_CONDITIONS[parent].format(user=escaped)}))"
		for parent in erp_child_parents(doctype)
		if reads_only_as_csm(parent, user)
	]
	return " and ".join(parts)


# Lists whose joined child fields are guarded by their field level (`guard_field_reads`).
GUARDED_LISTS = frozenset({"Usage Metric Definition"})


def refuse_unreadable_child_tables(query):
	"""A list of a GUARDED_LISTS doctype filtered by a field of a child table the user may not read
	(its table field's permlevel) is refused: frappe checks such a filter against the child
	doctype's own read only, so a CSM found each customer's entitlement by filtering the metrics by
	it. (Run once the query's conditions are built; a child field asked for as a column is dropped,
	as frappe drops it.)"""
	if query.flags.ignore_permissions:
		return
	meta = frappe.get_meta(query.doctype)
	readable = set(meta.get_permlevel_access("read", user=query.user or frappe.session.user))
	conditions = " ".join(str(c) for c in (*query.conditions, *query.grouped_or_conditions))
	for field in meta.get_table_fields():
		if field.permlevel not in readable and f"`tab{field.options}`" in conditions:
			frappe.throw(
				_("You may not filter or read {0} by {1}.").format(_(query.doctype), _(field.label)),
				frappe.PermissionError,
			)


def hides_child_link(doctype: str, context: dict) -> bool:
	"""Whether a doctype of GUARDED_LISTS reaches a record only through a child table the user may
	not read (frappe's Links: `customer_success.api.linked_with`)."""
	child = context.get("child_doctype")
	if doctype not in GUARDED_LISTS or not child:
		return False
	meta = frappe.get_meta(doctype)
	readable = set(meta.get_permlevel_access("read"))
	return any(
		field.options == child and field.permlevel not in readable for field in meta.get_table_fields()
	)


def guard_field_reads():
	"""`before_request` and `before_job`: a list of these doctypes never returns a child field the
	user may not read. frappe 15 drops such fields from a list query (`DatabaseQuery.
	apply_fieldlevel_read_permissions`) while it walks the list of fields, and the field after each
	one it drops is never looked at: asked for twice, or after another one refused, a per-customer
	entitlement (permlevel 1, for CS Managers) came back to a CSM, every customer's. For these
	doctypes the check runs again until it drops nothing more. (A list read as lists replaces a
	dropped field in place and skips none.) Installed once a process."""
	from frappe.model.db_query import DatabaseQuery

	check = DatabaseQuery.apply_fieldlevel_read_permissions
	if getattr(check, "cs_guarded", False):
		return

	def apply_fieldlevel_read_permissions(self):
		check(self)
		if self.doctype not in GUARDED_LISTS:
			return
		refuse_unreadable_child_tables(self)
		if self.as_list:
			return
		while True:
			fields = len(self.fields)
			check(self)
			if len(self.fields) == fields:
				return

	apply_fieldlevel_read_permissions.cs_guarded = True
	DatabaseQuery.apply_fieldlevel_read_permissions = apply_fieldlevel_read_permissions


def check_todo_assignee(todo, method=None):
	"""doc_events ToDo.validate: a record of the app goes on the list of a desk user only, or a
	success plan milestone on a contact of its own customer (as the milestone's Assigned To is
	checked). frappe's Assign To shares the record with an assignee who cannot read it: through it a
	CSM shared a milestone (and could share an alert) with another customer's portal user, who then
	read it through the REST API."""
	if not todo.reference_type or not todo.reference_name or not todo.allocated_to or todo.status != "Open":
		return
	if not (todo.is_new() or todo.has_value_changed("allocated_to") or todo.has_value_changed("status")):
		return
	from customer_success.utils import app_modules

	if frappe.get_meta(todo.reference_type).module not in app_modules():
		return
	if frappe.db.get_value("User", todo.allocated_to, "user_type") == "System User":
		return
	if todo.reference_type == "Success Plan Milestone":
		from customer_success.success_plans.queries import portal_customers

		customer = frappe.db.get_value("Success Plan Milestone", todo.reference_name, "customer")
		if customer and customer in portal_customers(todo.allocated_to):
			return
	frappe.throw(
		_(
			"{0} cannot be given {1} {2}: only a colleague, or a contact of the milestone's own customer, can be assigned a record of customer success."
		).format(
			frappe.bold(frappe.utils.escape_html(todo.allocated_to)),
			_(todo.reference_type),
			frappe.utils.escape_html(todo.reference_name),
		),
		frappe.PermissionError,
		title=_("Invalid Assignee"),
	)


def enabled_role_holders(role: str, limit: int | None = None) -> list[str]:
	"""The enabled users holding `role`, by name (Administrator and Guest never: they stand for no
	person), in one query; the first `limit` only when given."""
	query, user = role_holders_query(role)
	return query.select(user.name).distinct().orderby(user.name).limit(limit).run(pluck=True)


def count_enabled_role_holders(role: str) -> int:
	"""How many enabled users hold `role` (as `enabled_role_holders` finds them), counted in the
	database."""
	from frappe.query_builder.functions import Count

	query, user = role_holders_query(role)
	return query.select(Count(user.name).distinct()).run()[0][0]


def role_holders_query(role: str):
	"""(the query of the enabled users holding `role`, but Administrator and Guest; its User table)"""
	has_role = frappe.qb.DocType("Has Role")
	user = frappe.qb.DocType("User")
	query = (
		frappe.qb.from_(has_role)
		.join(user)
		.on(user.name == has_role.parent)
		.where(
			(has_role.role == role)
			& (has_role.parenttype == "User")
			& (user.enabled == 1)
			& user.name.notin(("Administrator", "Guest"))
		)
	)
	return query, user
