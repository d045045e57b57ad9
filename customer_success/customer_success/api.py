"""Figures for the Customer Success workspace's number cards (permission-aware).

Every card says whose numbers it shows: a CSM's cards count her book (the customers whose CS
Owner she is), a CS Manager's count the team. The card's label comes back with its figure
(`label`), and the desk shows it as the card's title (public/js/customer_success.bundle.js).
The route opens the list of exactly the records counted.
"""

import json

import frappe
from frappe import _
from frappe.query_builder.functions import Count
from frappe.utils import add_days, cint, getdate, nowdate
from frappe.utils.data import make_filter_tuple

from customer_success.constants import CHURNED
from customer_success.permissions import book_of
from customer_success.utils import date_argument, json_argument

RUNNING_PLAN_STATUSES = ("Active", "At Risk")


def _renewal_window() -> int:
	return cint(frappe.db.get_single_value("Customer Success Settings", "renewal_window_days")) or 90


def scope_label(csm: str | None) -> str:
	return _("my book") if csm else _("team")


def card(title: str, value, csm: str | None, route: list, route_options: dict | None = None, **extra) -> dict:
	"""A custom number card's answer: the figure, where it leads, and a label naming its scope. The
	desk formats the figure by this answer as by a docfield: a Float without `precision` shows the
	site's float precision ("73.700")."""
	answer = {
		"value": value,
		"fieldtype": extra.get("fieldtype", "Int"),
		"route": route,
		"route_options": route_options or {},
		"label": _("{0} ({1})").format(_(title), scope_label(csm)),
	}
	if "precision" in extra:
		answer["precision"] = extra["precision"]
	return answer


def memo(key: tuple, compute):
	"""`compute()` once per workspace request: cards that read the same figures (the four health
	cards, the three renewal cards) share one query while `workspace_widgets` answers them. Outside
	it (a card's own request), computed every time."""
	shared = getattr(frappe.local, "cs_widget_memo", None)
	if shared is None:
		return compute()
	if key not in shared:
		shared[key] = compute()
	return shared[key]


# --- customers by health ----------------------------------------------------------------------


def count_customers(statuses: tuple[str, ...], csm: str | None) -> int:
	"""Active customers of these health statuses, not churned (of `csm`'s book), read as the user may read them.
	The four health cards share one grouped count per workspace request (`memo`)."""
	counts = memo(("health_counts", csm), lambda: health_status_counts(csm))
	return sum(counts.get(status, 0) for status in statuses)


def health_status_counts(csm: str | None = None) -> dict[str, int]:
	"""Active customers per health status (of `csm`'s book), as the user may read them: what the
	health cards and the "Customers by Health" donut count. A churned customer is in none of them:
	the colour it left with is no figure of the book's health."""
	from customer_success.customer_success import book_counts
	from customer_success.health.engine import STATUSES

	if book_counts.usable():
		counts = book_counts.status_counts(csm)
		return {status: counts[status] for status in STATUSES if counts.get(status)}
	filters = {"disabled": 0, "cs_lifecycle_stage": ("!=", CHURNED), "cs_health_status": ("in", STATUSES)}
	if csm:
		filters["cs_owner"] = csm
	rows = frappe.get_list(
		"Customer",
		fields=["cs_health_status as status", "count(name) as count"],
		filters=filters,
		group_by="cs_health_status",
		order_by="cs_health_status",
	)
	return {row.status: int(row.count) for row in rows}


def _customers_card(title: str, statuses: tuple[str, ...]) -> dict:
	frappe.has_permission("Customer", "read", throw=True)
	csm = book_of()
	options = {
		"disabled": 0,
		"cs_lifecycle_stage": ["!=", CHURNED],
		"cs_health_status": ["in", list(statuses)],
	}
	if csm:
		options["cs_owner"] = csm
	return card(title, count_customers(statuses, csm), csm, ["List", "Customer"], options)


@frappe.whitelist()
def red_customers(filters: str | None = None) -> dict:
	return _customers_card("Red Customers", ("Red",))


@frappe.whitelist()
def yellow_customers(filters: str | None = None) -> dict:
	return _customers_card("Yellow Customers", ("Yellow",))


@frappe.whitelist()
def green_customers(filters: str | None = None) -> dict:
	return _customers_card("Green Customers", ("Green",))


@frappe.whitelist()
def customers_at_risk(filters: str | None = None) -> dict:
	"""At risk: health red or yellow (not green), as the renewal cards count it."""
	return _customers_card("Customers at Risk", ("Red", "Yellow"))


# --- records of the book: read through the same row-level rules as their lists --------------


def count_records(doctype: str, filters: dict) -> int:
	return frappe.get_list(doctype, filters=filters, fields=["count(name) as n"])[0].n or 0


def _records_card(title: str, doctype: str, filters: dict) -> dict:
	frappe.has_permission(doctype, "read", throw=True)
	route_options = {
		key: list(value) if isinstance(value, tuple) else value for key, value in filters.items()
	}
	return card(title, count_records(doctype, filters), book_of(), ["List", doctype], route_options)


@frappe.whitelist()
def running_plans(filters: str | None = None) -> dict:
	"""Plans being worked: Active or At Risk (the "Success Plan" shortcut counts the same)."""
	return _records_card("Running Plans", "Success Plan", {"status": ("in", RUNNING_PLAN_STATUSES)})


# A Closed plan's milestones and check-ins are its history, not work to do (tester W2)
NOT_CLOSED_PLAN = ("!=", "Closed")


@frappe.whitelist()
def overdue_milestones(filters: str | None = None) -> dict:
	return _records_card(
		"Overdue Milestones", "Success Plan Milestone", {"status": "Overdue", "plan_status": NOT_CLOSED_PLAN}
	)


@frappe.whitelist()
def check_ins_due(filters: str | None = None) -> dict:
	return _records_card(
		"Check-ins Due", "Success Plan Check-in", {"status": "Due", "plan_status": NOT_CLOSED_PLAN}
	)


@frappe.whitelist()
def overdue_handoffs(filters: str | None = None) -> dict:
	return _records_card("Overdue Handoffs", "Sales Handoff", {"is_late": 1})


@frappe.whitelist()
def handoffs_awaiting_acceptance(filters: str | None = None) -> dict:
	return _records_card("Handoffs Awaiting Acceptance", "Sales Handoff", {"status": "Handed Over"})


# --- renewals ----------------------------------------------------------------------------------


def _renewal_figures(csm: str | None) -> dict:
	from customer_success.renewals import queries as renewal_queries

	today = getdate(nowdate())
	until = getdate(add_days(today, _renewal_window()))
	return memo(("renewal_figures", csm), lambda: renewal_queries.window_figures(today, until, csm))


def _renewal_list_options(today, until) -> dict:
	return {"status": "Open", "end_date": ["between", [str(today), str(until)]]}


@frappe.whitelist()
def renewals_due(filters: str | None = None) -> dict:
	"""Open renewals whose contract ends within the renewal window (settings)."""
	frappe.has_permission("Renewal", "read", throw=True)
	csm = book_of()
	today = getdate(nowdate())
	until = getdate(add_days(today, _renewal_window()))
	figures = _renewal_figures(csm)
	return card(
		"Renewals Due", figures["count"], csm, ["List", "Renewal"], _renewal_list_options(today, until)
	)


def _at_risk_card(title: str, value_key: str, fieldtype: str = "Int") -> dict:
	from customer_success.renewals import queries as renewal_queries

	frappe.has_permission("Renewal", "read", throw=True)
	csm = book_of()
	today = getdate(nowdate())
	until = getdate(add_days(today, _renewal_window()))
	figures = _renewal_figures(csm)
	names = memo(("renewals_at_risk", csm), lambda: renewal_queries.at_risk_names(today, until, csm))
	return card(
		title,
		figures[value_key],
		csm,
		["List", "Renewal"],
		{"name": ["in", names or [_("none")]]},
		fieldtype=fieldtype,
	)


@frappe.whitelist()
def renewals_at_risk(filters: str | None = None) -> dict:
	"""Of the open renewals in the window, those the CSM calls At Risk / Will Churn or whose health
	is Yellow or Red."""
	return _at_risk_card("Renewals at Risk", "at_risk")


@frappe.whitelist()
def revenue_at_risk(filters: str | None = None) -> dict:
	"""The annual revenue at stake of the renewals at risk (company currency)."""
	return _at_risk_card("Revenue at Risk", "revenue_at_risk", fieldtype="Currency")


@frappe.whitelist()
def average_health(filters: str | None = None) -> dict:
	"""The average health score of the book's (team's) active customers that have a colour."""
	from customer_success.customer_success import book_counts
	from customer_success.renewals import queries as renewal_queries

	frappe.has_permission("Customer", "read", throw=True)
	csm = book_of()
	if book_counts.usable():
		score, _count = book_counts.average_score(csm)
	else:
		score, _count = renewal_queries.average_health(csm)
	options = {
		"disabled": 0,
		"cs_lifecycle_stage": ["!=", CHURNED],
		"cs_health_status": ["in", ["Green", "Yellow", "Red"]],
	}
	if csm:
		options["cs_owner"] = csm
	return card(
		"Average Health",
		None
		if score is None
		else round(score, 1),  # no coloured customer: no average (the desk shows a dash)
		csm,
		["List", "Customer"],
		options,
		fieldtype="Float",
		precision=1,
	)


@frappe.whitelist()
def renewal_plan_coverage(filters: str | None = None) -> dict:
	"""Headline KPI: of the customers renewing in the next 6 months, the share with an agreed plan."""
	frappe.has_permission("Success Plan", "read", throw=True)
	from customer_success.success_plans.engine import AGREED_PLAN_STATUSES
	from customer_success.success_plans.service import renewal_plan_coverage as coverage

	csm = book_of()
	kpi = coverage(csm=csm)
	# the agreed plans (of her book): the list the share is made of (which of their customers renew
	# in the next six months, the Renewal Forecast shows)
	options = {"status": ["in", list(AGREED_PLAN_STATUSES)]}
	if csm:
		options["csm"] = csm
	return card(
		"Renewals with an Agreed Plan",
		kpi["share"],  # None when no customer renews in the window: nothing to divide (the desk shows a dash)
		csm,
		["List", "Success Plan"],
		options,
		fieldtype="Percent",
	)


# --- the Customer list ---------------------------------------------------------------------------


@frappe.whitelist()
def next_renewals(customers: str | list) -> dict[str, str]:
	"""{customer: end date of its latest submitted contract} for the Customer list's rows, of the
	customers the user may read, from the contracts the user may read (a CSM who is also a Sales
	User reads every customer but her book's contracts only: read past frappe's rules, the column
	showed other books' contract ends; tester HH)."""
	message = _("Customers must be a list of at most 500 customer names.")
	names = json_argument(customers, message)
	if not isinstance(names, list) or len(names) > 500:
		frappe.throw(message)
	if not names or not frappe.has_permission("Contract", "read"):
		return {}
	readable = frappe.get_list("Customer", filters={"name": ("in", names)}, pluck="name", limit_page_length=0)
	if not readable:
		return {}
	rows = frappe.get_list(
		"Contract",
		filters={
			"party_type": "Customer",
			"docstatus": 1,
			"party_name": ("in", readable),
			"end_date": ("is", "set"),
		},
		fields=["party_name", "max(end_date) as end_date"],
		group_by="party_name",
		order_by="party_name",
		limit_page_length=0,
	)
	return {row.party_name: str(row.end_date) for row in rows}


# --- the milestone calendar ----------------------------------------------------------------------


@frappe.whitelist()
def milestone_events(
	doctype: str,
	start: str,
	end: str,
	field_map: str | None = None,
	filters: str | None = None,
	fields: str | None = None,
) -> list[dict]:
	"""The milestone calendar's events (frappe's own reader, so the same permissions and filters),
	each titled with its customer: "Kickoff · Aurora Analytics"."""
	from frappe.desk.calendar import get_events

	if doctype != "Success Plan Milestone":
		frappe.throw(_("The milestone calendar shows Success Plan Milestones only."))
	frappe.has_permission(doctype, "read", throw=True)
	meta = frappe.get_meta(doctype)
	known = lambda f: isinstance(f, str) and (f == "name" or meta.has_field(f))  # noqa: E731
	message = _("Fields must be a list of field names.")
	fields = json_argument(fields, message) or []
	if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
		frappe.throw(message)
	# frappe's reader writes the map's start, end, title and colour into its query as they are: only
	# the doctype's own fields (the desk's map also holds keys the reader never uses, as allDay)
	message = _("The calendar's field map must name fields of {0}.").format(_(doctype))
	field_map = json_argument(field_map, message)
	if not isinstance(field_map, dict) or not all(
		known(field_map[key]) for key in ("start", "end", "title", "color") if field_map.get(key)
	):
		frappe.throw(message)
	filters = json_argument(filters, _("Filters must be given as JSON."))
	if filters is not None and not isinstance(filters, dict | list):
		frappe.throw(_("Filters must be given as JSON."))
	if isinstance(filters, dict):  # frappe's reader adds its dates to a list of filters only
		filters = [make_filter_tuple(doctype, key, value) for key, value in filters.items()]
	start, end = date_argument(start, _("Start")), date_argument(end, _("End"))
	if not start or not end:
		frappe.throw(_("The calendar needs a start and an end date."))
	wanted = set(fields) | {"customer", "status", "title"}
	events = get_events(
		doctype,
		str(start),
		str(end),
		json.dumps(field_map),
		filters=json.dumps(filters) if filters else None,
		fields=json.dumps(sorted(wanted)),
	)
	for event in events:
		if event.get("customer"):
			event["title"] = _("{0} · {1}").format(event.get("title") or event.get("name"), event["customer"])
	return events


# --- the workspace in one request ----------------------------------------------------------------

MAX_WIDGETS = 50


def _names(value) -> list[str]:
	message = _("Widgets must be a list of at most {0} names.").format(MAX_WIDGETS)
	names = json_argument(value, message)
	if names is None:
		return []
	if not isinstance(names, list) or len(names) > MAX_WIDGETS or not all(isinstance(n, str) for n in names):
		frappe.throw(message)
	return names


def _ours(method: str | None) -> bool:
	"""Only this app's whitelisted figures are answered in the batch; any other card loads its own way."""
	if not method or not method.startswith("customer_success."):
		return False
	try:
		frappe.is_whitelisted(frappe.get_attr(method))
	except Exception:
		return False
	return True


@frappe.whitelist()
def workspace_widgets(
	number_cards: str | list | None = None, charts: str | list | None = None, counts: str | list | None = None
) -> dict:
	"""The number cards and charts of a workspace page, each with its figures, in one request.

	The desk otherwise asks two requests per number card (its document, then its figure) and three
	per chart (its document, its source's script, its data): some 40 requests for the Customer
	Success workspace, most of its load time. Each card and chart is read with the same permission
	the desk's own requests check (the document's `has_permission`, then the figure's method's own
	checks). A widget that is not ours, or that the user may not see, comes back without figures
	and the desk loads it the usual way, so any message it gives is the usual one.
	"""
	frappe.local.cs_widget_memo = {}
	try:
		return _widgets(_names(number_cards), _names(charts), _names(counts))
	finally:
		frappe.local.cs_widget_memo = None


def _widgets(number_cards: list[str], charts: list[str], counts: list[str]) -> dict:
	cards, sources = {}, {}
	for name in number_cards:
		doc = _readable("Number Card", name)
		if not doc:
			continue
		entry = {"doc": doc.as_dict(no_default_fields=False)}
		if doc.type == "Custom" and _ours(doc.method):
			entry["result"] = _figure(doc.method, filters=doc.filters_json)
		cards[name] = entry
	chart_docs = {}
	for name in charts:
		doc = _readable("Dashboard Chart", name)
		if not doc:
			continue
		entry = {"doc": doc.as_dict(no_default_fields=False)}
		if doc.chart_type == "Custom" and doc.source:
			source = sources.get(doc.source) or _chart_source(doc.source)
			sources[doc.source] = source
			if source:
				entry["config"] = source["config"]
				if _ours(source["method"]):
					entry["result"] = _figure(source["method"], chart_name=name, filters=doc.filters_json)
		chart_docs[name] = entry
	return {"number_cards": cards, "charts": chart_docs, "counts": _counts(counts)}


def _counts(keys: list[str]) -> dict[str, int]:
	answered = {}
	for key in keys:
		try:
			doctype, filters = frappe.parse_json(key)
			answered[key] = frappe.get_list(doctype, filters=filters, fields=["count(name) as n"])[0].n or 0
		except frappe.PermissionError:
			frappe.clear_last_message()
		except (TypeError, ValueError, frappe.ValidationError):
			frappe.throw(_("A count must be a doctype and its filters."))
		except Exception as e:  # a filter on a column the doctype does not have
			if not (e.args and frappe.db.is_missing_column(e)):
				raise
			frappe.throw(_("A count must be a doctype and its filters."))
	return answered


def _readable(doctype: str, name: str):
	"""The widget's document (from the document cache, which frappe clears when it is saved), when
	the user may read it."""
	try:
		doc = frappe.get_cached_doc(doctype, name)
	except frappe.DoesNotExistError:
		frappe.clear_last_message()
		return None
	return doc if doc.has_permission("read") else None


def _figure(method: str, **kwargs):
	"""The figure the desk would get from `method`, or None when it refuses (then the desk asks
	itself and shows the refusal as it always does)."""
	try:
		return frappe.get_attr(method)(**kwargs)
	except frappe.PermissionError:
		frappe.clear_last_message()
		return None


def _chart_source(source: str) -> dict | None:
	"""A custom chart source's script (what frappe's get_config sends) and the method it names."""
	import re

	from frappe.desk.doctype.dashboard_chart_source.dashboard_chart_source import get_config

	if not frappe.db.exists("Dashboard Chart Source", source):
		return None
	config = get_config(source)
	method = re.search(r"""method:\s*["']([\w.]+)["']""", config)
	return {"config": config, "method": method.group(1) if method else None}


# --- the whole page in one request, as the desk starts ------------------------------------------

WORKSPACE = "Customer Success"
# An answer is kept this long for its user (seconds); any change to what it reads gives it a new key.
ANSWER_TTL = 60
# What the page and its figures are read from. A save, a set_value or a rolled-back transaction
# moves one of these tables' latest `modified`, and the cached answer is no longer found. Bulk
# writes of the nightly jobs that leave `modified` alone show within ANSWER_TTL.
# What frappe's page (its blocks, links, shortcuts, which cards and charts a user may see) is made
# from; a change to any of them (a save, a deletion) gives the page a new key.
PAGE_TTL = 600
PAGE_SOURCES = (
	"Workspace",
	"Number Card",
	"Dashboard Chart",
	"Dashboard Chart Source",
	"Report",
	"DocType",
	"Custom DocPerm",
	"Custom Role",
	"User Permission",
	"User",
)
FIGURE_SOURCES = (
	"Customer",
	"Customer Health Score",
	"Success Plan",
	"Success Plan Milestone",
	"Success Plan Check-in",
	"Sales Handoff",
	"Renewal",
	"CS Alert",
	"Contract",
	"Workspace",
	"Number Card",
	"Dashboard Chart",
	"User Permission",
	"Dashboard Settings",
)


@frappe.whitelist()
def workspace_page(page: str) -> dict:
	"""The Customer Success workspace in one request: frappe's own page (`get_desktop_page`, with its
	permission rules), and for it every card's and chart's figures and every shortcut's count
	(`workspace_widgets`, with the same checks as the desk's own requests).

	The desk asks for it as it starts, beside its sidebar request, so the page no longer waits for
	the sidebar, then its page, then its widgets. An answer is kept for its user for ANSWER_TTL
	seconds, under a key that changes with the data it was read from. Anything it cannot answer
	(another page, a page the user may not open) comes back empty and the desk asks its usual way.
	"""
	message = _("Only the {0} workspace is answered here.").format(_(WORKSPACE))
	request = json_argument(page, message)
	if not isinstance(request, dict) or request.get("name") != WORKSPACE:
		frappe.throw(message)
	key = _answer_key()
	answer = frappe.cache.get_value(key, expires=True)
	if answer is not None:
		return answer
	desk = _desk_page()
	if not desk:
		return {}
	counts = _shortcut_counts(desk["shortcuts"]["items"])
	widgets = workspace_widgets(
		[row["number_card_name"] for row in desk["number_cards"]["items"]][:MAX_WIDGETS],
		[row["chart_name"] for row in desk["charts"]["items"]][:MAX_WIDGETS],
		[key for key, _filters in counts][:MAX_WIDGETS],
	)
	widgets["counts"] = [
		{"doctype": json.loads(key)[0], "filters": filters, "count": widgets["counts"][key]}
		for key, filters in counts
		if key in widgets["counts"]
	]
	# the user's chart settings, which the desk reads next (when she has none, the desk makes them)
	settings = frappe.get_list("Dashboard Settings", filters={"name": frappe.session.user}, fields=["*"])
	answer = {"page": desk, "widgets": widgets, "dashboard_settings": settings[0] if settings else None}
	# as the browser will read it (documents as plain values), which is also what the cache keeps
	answer = json.loads(frappe.as_json(answer))
	frappe.cache.set_value(key, answer, expires_in_sec=ANSWER_TTL)
	return answer


def _desk_page() -> dict:
	"""frappe's own page for the user (`get_desktop_page`, its permission rules), as the browser reads
	it. It depends on the page's layout and the user's permissions, not on the figures: it is kept for
	PAGE_TTL seconds under a key of the user, her roles and language and the latest `modified` of what
	it is made from, so an answer whose figures changed (the usual case on a busy site) is made without
	building the page again. {} when the user may not open it."""
	from frappe.desk.desktop import get_desktop_page

	key = _page_key()
	desk = frappe.cache.get_value(key, expires=True)
	if desk is not None:
		return desk
	try:
		desk = get_desktop_page(json.dumps({"name": WORKSPACE, "title": WORKSPACE, "public": 1}))
	except frappe.PermissionError:
		frappe.clear_last_message()
		desk = None
	desk = json.loads(frappe.as_json(desk)) if desk else {}
	frappe.cache.set_value(key, desk, expires_in_sec=PAGE_TTL)
	return desk


def _page_key() -> str:
	from hashlib import sha1

	from frappe.query_builder.functions import Max

	latest = []
	for table in (frappe.qb.DocType(doctype) for doctype in PAGE_SOURCES):
		latest += [
			frappe.qb.from_(table).select(Max(table.modified)),
			frappe.qb.from_(table).select(Count("*")),
		]
	stamps = frappe.qb.select(*latest).run()[0]
	state = [
		frappe.session.user,
		frappe.local.lang,
		sorted(frappe.get_roles()),
		sorted(frappe.get_active_domains()),
		frappe.db.get_default("country"),
		[str(s) for s in stamps],
	]
	return "cs_workspace_page|" + sha1(json.dumps(state).encode()).hexdigest()


def _answer_key() -> str:
	"""The user's answer for today, her roles and language, and the data as it stands now."""
	from hashlib import sha1

	from frappe.query_builder.functions import Max

	latest = [
		frappe.qb.from_(table).select(Max(table.modified))
		for table in (frappe.qb.DocType(doctype) for doctype in FIGURE_SOURCES)
	]
	stamps = frappe.qb.select(*latest).run()[0]
	state = [
		frappe.session.user,
		nowdate(),
		frappe.local.lang,
		sorted(frappe.get_roles()),
		[str(s) for s in stamps],
	]
	return "cs_workspace_answer|" + sha1(json.dumps(state).encode()).hexdigest()


def _shortcut_counts(shortcuts: list) -> list[tuple[str, dict]]:
	"""(count key, filters) of the shortcuts that show a count, with the filters the desk evaluates
	from their `stats_filter` (JSON, `frappe.session.user` standing for the user). A filter written
	any other way is left to the desk."""
	counts = []
	for shortcut in shortcuts:
		if shortcut.get("type") != "DocType" or shortcut.get("doc_view") == "New":
			continue
		expression = (shortcut.get("stats_filter") or "").strip()
		if not expression:
			continue
		try:
			filters = json.loads(expression.replace("frappe.session.user", json.dumps(frappe.session.user)))
		except ValueError:
			continue
		counts.append((json.dumps([shortcut.get("link_to"), filters]), filters))
	return counts


# --- the row rules through frappe's generic endpoints ----------------------------------------


@frappe.whitelist()
def linked_with(doctype: str, docname: str) -> dict[str, list]:
	"""frappe's Links of a record (the form's menu: frappe.desk.form.linked_with.get), without the
	doctypes that reach it only through a child table the user may not read: a metric reaches a
	customer through its per-customer entitlements (CS Managers'), and frappe's filter on them is
	refused (`permissions.refuse_unreadable_child_tables`), which failed the whole dialog for every
	CSM, on her own customers too."""
	from frappe.desk.form import linked_with as frappe_linked

	from customer_success.permissions import hides_child_link

	frappe.has_permission(doctype, doc=docname, throw=True)
	linkinfo = {
		linked: context
		for linked, context in frappe_linked.get_linked_doctypes(doctype=doctype).items()
		if not hides_child_link(linked, context)
	}
	return frappe_linked.get_linked_docs(doctype=doctype, name=docname, linkinfo=linkinfo)


@frappe.whitelist()
def get_count(doctype: str, filters=None, debug=False, cache=False) -> int:
	"""frappe.client.get_count, but our doctypes are counted through their row rules, and every
	doctype is for a user whose book limits her or who has no desk (frappe 15's own count checks
	no permission at all: a CSM or a portal user counted any doctype's records by any filter)."""
	from customer_success.constants import ERP_BOOK_DOCTYPES, ERP_CHILD_DOCTYPES
	from customer_success.permissions import count_in_book, counts_through_rules, guarded_doctypes

	if not doctype or not isinstance(doctype, str) or not frappe.db.exists("DocType", doctype, cache=True):
		frappe.throw(
			_("DocType {0} not found").format(frappe.utils.escape_html(str(doctype))),
			frappe.DoesNotExistError,
		)
	if (doctype in ERP_BOOK_DOCTYPES or doctype in ERP_CHILD_DOCTYPES) and isinstance(filters, str):
		# ERPNext's doctypes keep frappe's reading of their filters: text that is no JSON is a name
		try:
			filters = frappe.parse_json(filters)
		except ValueError:
			filters = {"name": filters}
	if doctype in guarded_doctypes() or counts_through_rules():
		return count_in_book(doctype, json_argument(filters, _("Filters must be given as JSON.")))
	from frappe.client import get_count as frappe_get_count

	return frappe_get_count(doctype, filters=filters, debug=debug, cache=cache)


@frappe.whitelist()
def get_group_by_count(doctype: str, current_filters: str, field: str) -> list[dict]:
	"""The list sidebar's group-by counts (frappe.desk.listview.get_group_by_count). frappe 15 counts
	"Assigned To" by a query that checks no permission (any doctype, any filter, any user: a CSM
	or a portal user counted who holds a colleague's alerts): here the doctype must be readable,
	and a user whose book limits her counts only the records her list shows."""
	from frappe.desk.listview import get_group_by_count as frappe_group_by_count

	from customer_success.permissions import counts_through_rules, guarded_doctypes

	if field != "assigned_to":  # frappe counts these through the list's own rules
		return frappe_group_by_count(doctype, current_filters, field)
	if not doctype or not isinstance(doctype, str) or not frappe.db.exists("DocType", doctype, cache=True):
		frappe.throw(
			_("DocType {0} not found").format(frappe.utils.escape_html(str(doctype))),
			frappe.DoesNotExistError,
		)
	frappe.has_permission(doctype, "read", throw=True)
	if not (counts_through_rules() or doctype in guarded_doctypes()):
		return frappe_group_by_count(doctype, current_filters, field)
	filters = json_argument(current_filters, _("Filters must be given as JSON."))
	# the records her list shows, as the list's own query (permission rules included, values escaped
	# by frappe), a sub-query of the count: no name list, however large the doctype. Records, not
	# ToDos, with an open one: what "Assigned To" filters her list to (a playbook gives one person
	# several ToDos of one alert)
	listed = frappe.get_list(
		doctype, filters=filters, fields=["name"], order_by="", limit_page_length=0, run=0
	)
	if not isinstance(listed, str):  # nothing she may read of it
		return []
	return frappe.db.sql(
		f"""select t.`allocated_to` as `name`, count(distinct t.`reference_name`) as `count`
		from `tabToDo` t join `tabUser` u on u.`name` = t.`allocated_to`
		where t.`status` = 'Open' and u.`user_type` = 'System User'
			and t.`reference_type` = {frappe.db.escape(doctype)} and t.`reference_name` in ({listed})
		group by t.`allocated_to` order by `count` desc limit 50""",
		as_dict=True,
	)


@frappe.whitelist()
def global_search(text, start=0, limit=20, doctype=""):
	"""frappe's global search (frappe.utils.global_search.search), which checks only that the user
	reads a doctype: for a user whose book limits her (a CSM), or without desk access, each result
	is one she may open (a CSM found her colleagues' customers, orders, invoices, issues and
	contacts, with their text)."""
	from frappe.utils.global_search import search

	from customer_success.permissions import counts_through_rules

	# numbers, for everyone: frappe writes them into its query as they are sent
	start, limit = max(cint(start), 0), max(cint(limit), 1)
	if not counts_through_rules():
		return search(text, start=start, limit=limit, doctype=doctype)
	# her results are the ones she may open, paged as such: frappe's pages read one after another,
	# her first `start` skipped, until `limit` are found (or the matches end)
	page, found, skipped, offset = max(limit, 20), [], 0, 0
	for _page in range(GLOBAL_SEARCH_PAGES):
		rows = search(text, start=offset, limit=page, doctype=doctype)
		for row in rows:
			if not may_open(row.doctype, row.name):
				continue
			if skipped < start:
				skipped += 1
				continue
			found.append(row)
			if len(found) == limit:
				return found
		if len(rows) < page:
			break
		offset += page
	return found


# How many of frappe's pages one search of a CSM reads at most, looking for what she may open.
GLOBAL_SEARCH_PAGES = 10


def may_open(doctype: str, name: str) -> bool:
	"""Whether the user may read the record (one that no longer exists: no)."""
	try:
		return frappe.has_permission(doctype, "read", doc=frappe.get_doc(doctype, name))
	except frappe.DoesNotExistError:
		frappe.clear_last_message()
		return False


@frappe.whitelist()
def search_in_book(
	doctype: str,
	txt: str,
	searchfield: str | None = None,
	start: int = 0,
	page_len: int = 10,
	filters=None,
	as_dict: bool = False,
	**kwargs,
):
	"""The link search of our doctypes (standard_queries): the row rules hold even when a field
	asks the search to ignore user permissions."""
	from customer_success.permissions import search_in_book as search

	filters = json_argument(filters, _("Filters must be given as JSON."))
	return search(doctype, txt, searchfield, cint(start), cint(page_len) or 10, filters, as_dict=as_dict)
