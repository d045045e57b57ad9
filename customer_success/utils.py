"""Small site helpers shared by the rooms, the demo, the test factories and benchmarks."""

import contextlib
import functools
import json
import math
import re
from datetime import date, datetime
from decimal import Decimal

import frappe
from frappe import _
from frappe.utils import escape_html

TREE_NAME_FIELDS = {
	"Customer Group": "customer_group_name",
	"Territory": "territory_name",
	"Item Group": "item_group_name",
}

# What an HTML parser takes for a tag or a comment: "<" followed by a letter, "/", "!" or "?".
# A "<" before anything else ("3 < 4") is text to it.
MARKUP = re.compile(r"<!--.*?-->|<[A-Za-z/!?][^>]*>", re.DOTALL)


def plain_text(value) -> str:
	"""What a user typed, without its markup: tags and comments are removed and the rest is kept as
	typed. frappe's strip_html removes anything between angle brackets, so "3 < 4 > 2" lost "< 4 >".
	Shown escaped, wherever it is shown."""
	return MARKUP.sub("", "" if value is None else str(value))


@contextlib.contextmanager
def users_not_throttled():
	"""frappe refuses to make a User once more than `throttle_user_limit` (60) were made in the last
	hour (sign-up spam). The demo's few users are made by a System Manager on purpose (on a site whose
	tests or an import had just made many, the demo stopped at its first step: "Throttled"), and a
	whole test suite makes more than that: the limit is lifted for this process while they are made
	(only this process's copy of the site config), and put back."""
	conf = frappe.local.conf
	had, before = "throttle_user_limit" in conf, conf.get("throttle_user_limit")
	conf["throttle_user_limit"] = 10**9
	try:
		yield
	finally:
		if had:
			conf["throttle_user_limit"] = before
		else:
			conf.pop("throttle_user_limit", None)


def leaf(doctype: str, preferred: str | None = None) -> str:
	"""A non-group record of a tree doctype (Customer Group, Territory, Item Group).

	Prefers `preferred` when it exists as a leaf; creates one under the root on a bare site.
	"""
	if preferred and frappe.db.exists(doctype, {"name": preferred, "is_group": 0}):
		return preferred
	name = frappe.db.get_value(doctype, {"is_group": 0}, "name", order_by="lft")
	if name:
		return name
	root = frappe.db.get_value(doctype, {"is_group": 1}, "name", order_by="lft")
	return (
		frappe.get_doc(
			{
				"doctype": doctype,
				TREE_NAME_FIELDS[doctype]: f"CS {doctype}",
				f"parent_{frappe.scrub(doctype)}": root,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def ensure_service_item(item_code: str, rate: float) -> str:
	"""A non-stock service item (created once); returns its code."""
	if not frappe.db.exists("Item", item_code):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item_code,
				"item_name": item_code,
				"item_group": leaf("Item Group", "Services"),
				"stock_uom": unit_of_measure(),
				"is_stock_item": 0,
				"include_item_in_manufacturing": 0,
				"standard_rate": rate,
			}
		).insert(ignore_permissions=True)
	return item_code


def unit_of_measure() -> str:
	"""The site's default unit (Stock Settings), else "Nos" as ERPNext names it in English, else any
	enabled unit: a site set up in another language names its units in it ("Nos." in Spanish)."""
	for uom in (frappe.db.get_single_value("Stock Settings", "stock_uom"), "Nos"):
		if uom and frappe.db.exists("UOM", {"name": uom, "enabled": 1}):
			return uom
	fallback = frappe.db.get_value(
		"UOM", {"enabled": 1, "must_be_whole_number": 1}, "name"
	) or frappe.db.get_value("UOM", {"enabled": 1}, "name")
	if not fallback:
		frappe.throw(_("Add a Unit of Measure first: the demo's service items need one."))
	return fallback


def delete_todos(reference_doctype: str, reference_name: str):
	"""Delete a record's ToDos now, with their own versions (a closed ToDo has one). frappe's own
	clean-up of a deleted record removes its ToDos in bulk, which leaves their versions behind."""
	todos = frappe.get_all(
		"ToDo", filters={"reference_type": reference_doctype, "reference_name": reference_name}, pluck="name"
	)
	if todos:
		frappe.db.delete("Version", {"ref_doctype": "ToDo", "docname": ("in", todos)})
		frappe.db.delete("ToDo", {"name": ("in", todos)})


def assign(
	doctype: str, name: str, user: str, description: str, date=None, priority: str = "Medium"
) -> str | None:
	"""Put a record on `user`'s ToDo list as frappe's Assign To does (the ToDo, a read share when the
	user cannot read the record, the bell), without what frappe does to a record with a field named
	`assigned_to` (a milestone's, an alert's, a touchpoint's owner): frappe writes that field with
	each assignment (moving the record's `modified` under an open form: "the document was modified
	after you opened it") and empties it when an assignment is closed or cancelled, so a milestone
	marked Done lost its owner. Returns the ToDo's name (None when the user has one open already)."""
	from frappe.share import add_docshare

	open_todo = {"reference_type": doctype, "reference_name": name, "allocated_to": user, "status": "Open"}
	if frappe.db.exists("ToDo", open_todo):
		return None
	todo = frappe.get_doc(
		{
			"doctype": "ToDo",
			**open_todo,
			"description": description,
			"priority": priority,
			"date": date or frappe.utils.nowdate(),
			"assigned_by": frappe.session.user,
		}
	).insert(ignore_permissions=True)
	if not frappe.has_permission(doctype, "read", name, user=user):
		if frappe.get_system_settings("disable_document_sharing"):
			# as frappe's Assign To: a site that forbids sharing refuses an assignee who cannot read it
			frappe.throw(
				_("User {0} is not permitted to access this document.").format(frappe.bold(user))
				+ "<br>"
				+ _(
					"As document sharing is disabled, please give them the required permissions before assigning."
				),
				title=_("Missing Permission"),
			)
		add_docshare(doctype, name, user, read=1, flags={"ignore_share_permission": True})
	if frappe.get_cached_value("User", user, "follow_assigned_documents"):
		from frappe.desk.form.document_follow import follow_document

		follow_document(doctype, name, user)
	notify_assignment(todo.assigned_by, user, doctype, name, action="ASSIGN", description=description)
	return todo.name


def bell(users: str | list[str], notification: dict):
	"""frappe's bell (`enqueue_create_notification`), queued once the transaction commits: a bell
	for a record whose transaction is rolled back (a chunk killed mid-write, a failed request)
	never rings (tester U2: 570 bells queued for alerts a killed pass never committed)."""
	if frappe.flags.in_install:
		return
	if isinstance(users, str):
		users = [user.strip() for user in users.split(",") if user.strip()]
	frappe.enqueue(
		"frappe.desk.doctype.notification_log.notification_log.make_notification_logs",
		doc=frappe._dict(notification),
		users=sorted(set(users)),
		now=frappe.flags.in_test,
		enqueue_after_commit=True,
	)


def notify_assignment(assigned_by, allocated_to, doctype, name, action="CLOSE", description=None):
	"""frappe's `notify_assignment` (the bell of an assignment given or ended: the same subject and
	content), rung once the transaction commits (`bell`)."""
	from frappe.desk.doctype.notification_log.notification_log import get_title, get_title_html

	if not (assigned_by and allocated_to and doctype and name):
		return
	user = frappe.db.get_value("User", allocated_to, ["language", "enabled"], as_dict=True)
	if assigned_by == allocated_to or not user or not user.enabled:
		return
	by = frappe.bold(frappe.get_cached_value("User", frappe.session.user, "full_name"))
	title = get_title_html(get_title(doctype, name))
	if action == "CLOSE":
		subject = _("Your assignment on {0} {1} has been removed by {2}", lang=user.language).format(
			frappe.bold(_(doctype)), title, by
		)
	else:
		subject = _("{0} assigned a new task {1} {2} to you", lang=user.language).format(
			by, frappe.bold(_(doctype, lang=user.language)), title
		)
	bell(
		allocated_to,
		{
			"type": "Assignment",
			"document_type": doctype,
			"subject": subject,
			"document_name": name,
			"from_user": frappe.session.user,
			"email_content": f"<div>{description}</div>" if description else None,
		},
	)


def end_assignments(doctype: str, name: str, status: str = "Closed", users=None) -> list[str]:
	"""Close (or cancel) a record's open ToDos, of `users` only when given, each saved as frappe saves
	one (its record's assignment list follows) and its person told as frappe tells them, leaving a
	field named `assigned_to` alone (`assign`)."""
	filters = {"reference_type": doctype, "reference_name": name, "status": "Open"}
	if users is not None:
		filters["allocated_to"] = ("in", list(users) or [""])
	ended = []
	for todo_name in frappe.get_all("ToDo", filters=filters, pluck="name"):
		todo = frappe.get_doc("ToDo", todo_name)
		todo.status = status
		todo.save(ignore_permissions=True)
		notify_assignment(todo.assigned_by, todo.allocated_to, doctype, name)
		ended.append(todo_name)
	return ended


def term_in(said: str, sentence: str, term: str) -> str:
	"""`term` (a colour, a doctype, a role) in the language of the sentence around it: `said` is
	`_(sentence)`. frappe translates ERPNext's and its own terms into languages the app ships no
	sentences for, so a German site read "health is Rot" in an English sentence."""
	return frappe._(term) if said != sentence else term


def refresh_assignments(references) -> None:
	"""Each record's assignment list (`_assign`) as frappe keeps it after a ToDo's save, the users of
	its open ToDos, for ToDos closed, cancelled or reopened by one UPDATE (which frappe's save would
	have followed): `references` are (doctype, name) pairs. A renewal whose checkpoints' ToDos were
	closed kept "Assigned To" its CSM, and her "Assigned to me" listed it (tester II)."""
	by_doctype: dict[str, set] = {}
	for doctype, name in references:
		if doctype and name:
			by_doctype.setdefault(doctype, set()).add(name)
	todo = frappe.qb.DocType("ToDo")
	for doctype, names in by_doctype.items():
		users: dict[str, list] = {name: [] for name in names}
		for name, user in (
			frappe.qb.from_(todo)
			.select(todo.reference_name, todo.allocated_to)
			.where(
				(todo.reference_type == doctype)
				& todo.reference_name.isin(sorted(names))
				& todo.status.notin(("Cancelled", "Closed"))
				& todo.allocated_to.isnotnull()
				& (todo.allocated_to != "")
			)
			.orderby(todo.creation)
			.run()
		):
			users[name].append(user)
		for name, assigned in users.items():
			frappe.db.set_value(doctype, name, "_assign", json.dumps(assigned), update_modified=False)


def todo_references(todos) -> list[tuple[str, str]]:
	"""(reference doctype, reference name) of each of the ToDos named."""
	todos = [name for name in todos if name]
	if not todos:
		return []
	todo = frappe.qb.DocType("ToDo")
	return [
		tuple(row)
		for row in frappe.qb.from_(todo)
		.select(todo.reference_type, todo.reference_name)
		.where(todo.name.isin(todos))
		.distinct()
		.run()
	]


def linked_to_customer(doctype: str, name: str, customer: str) -> bool:
	"""Whether a Contact or Address is linked to `customer` (one of its own)."""
	return bool(
		frappe.db.exists(
			"Dynamic Link",
			{"parenttype": doctype, "parent": name, "link_doctype": "Customer", "link_name": customer},
		)
	)


def ensure_fiscal_years(first, last, company: str, label: str) -> list:
	"""Fiscal years holding every day from `first` to `last` for `company`, made where none does, of
	the site's own shape (the year from 1 April that ERPNext's setup makes in many countries, or the
	calendar year): a year already holding a day is used, never overlapped. A name taken already
	gets `label` after it. Returns the years made, for their maker to remove."""
	from frappe.utils import add_days, add_years, getdate

	# ERPNext caches the site's years outside the transaction: a year made by a run that then
	# failed and rolled back would still be held there, and be taken as holding its days
	frappe.cache().delete_value("fiscal_years")
	first, last = getdate(first), getdate(last)
	start = fiscal_year_start(company)
	while start > first:
		start = add_years(start, -1)
	made = []
	while start <= last:
		end = add_days(add_years(start, 1), -1)
		if not (holds_fiscal_year(start, company) or holds_fiscal_year(end, company)):
			name = str(start.year) if start.year == end.year else f"{start.year}-{end.year}"
			if frappe.db.exists("Fiscal Year", name):
				name = f"{name} ({label})"
			year = {"doctype": "Fiscal Year", "year": name, "year_start_date": start, "year_end_date": end}
			made.append(frappe.get_doc(year).insert(ignore_permissions=True))
		start = add_years(start, 1)
	return made


def fiscal_year_start(company: str):
	"""The first day of the company's fiscal year holding today, else of the site's latest one, else
	1 January: where the site's years begin."""
	from erpnext.accounts.utils import get_fiscal_year
	from frappe.utils import getdate, nowdate

	found = get_fiscal_year(nowdate(), company=company, boolean=True)
	if found:
		return getdate(found[0][1])
	latest = frappe.db.get_value(
		"Fiscal Year", {"disabled": 0}, "year_start_date", order_by="year_end_date desc"
	)
	return getdate(latest or f"{getdate(nowdate()).year}-01-01")


def holds_fiscal_year(day, company: str) -> bool:
	"""Whether a fiscal year of the company (or of every company) holds `day`: ERPNext's own look-up,
	asked for a yes or no (asked otherwise, a missing year also leaves a message for the user)."""
	from erpnext.accounts.utils import get_fiscal_year

	return bool(get_fiscal_year(day, company=company, boolean=True))


def json_argument(value, message: str):
	"""A whitelisted method's argument that the desk sends as JSON text, parsed as `frappe.parse_json`
	parses it; text that is not JSON is refused with `message` (translated by the caller), a
	validation error, where `frappe.parse_json` would fail the request with a server error."""
	if not isinstance(value, str):
		return value
	try:
		return frappe.parse_json(value)
	except ValueError:
		frappe.throw(message)


def date_argument(value, label: str):
	"""A date a user sent (a whitelisted method's argument), as `frappe.utils.getdate` reads ISO text
	(None for none); anything no date can be read from is refused with a message naming `label`
	(translated by the caller). Not `getdate` itself: a long run of digits overflows its parser (a
	server error), and its own refusal shows the text as it was typed, inside bold markup."""
	from dateutil import parser
	from frappe.utils.data import is_invalid_date_string

	if value is None or value == "":
		return None
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	if isinstance(value, str):
		if is_invalid_date_string(value):  # frappe's "no date" ("0000-00-00")
			return None
		try:
			return parser.parse(value).date()
		except (ValueError, OverflowError):
			pass
	frappe.throw(_("{0} is not a valid date.").format(label), title=_("Invalid Date"))


def check_fetched_links(doc, method=None):
	"""`before_validate` of the app's doctypes: refuse a Link to a record that does not exist when
	another field fetches from that Link (the customer of an alert or plan, which fills its
	customer name). frappe v15 checks such a Link only when the record exists: it reads the fetched
	values and, finding none, skips the check (frappe/frappe#26930). So a plan, alert or handoff sent
	through the REST API or a Server Script with a customer's name misspelt was saved for a customer
	that is not there (Data Import checks its Links itself). The message is frappe's own for any
	other broken Link."""
	if doc.flags.ignore_links:
		return
	before = None if doc.is_new() else doc.get_doc_before_save()
	if not doc.is_new() and before is None:
		return  # (frappe reads the stored document before every save; without it, nothing to compare)
	missing = []
	for row in (doc, *doc.get_all_children()):
		stored = _stored_row(before, row) if before is not None else None
		for df in row.meta.get_link_fields():
			value = row.get(df.fieldname)
			if (
				value
				and isinstance(value, str)
				# only a value this save brings: a record saved with a broken Link before this check
				# (or left with one by a deletion past the hooks) still saves
				and (stored is None or stored.get(df.fieldname) != value)
				and row.meta.get_fields_to_fetch(df.fieldname)
				and not frappe.db.exists(df.options, value)
			):
				label = _(df.label, context=df.parent)
				shown = escape_html(value)  # as typed: shown in the message, never as markup
				missing.append(
					f"{_('Row')} #{row.idx}: {label}: {shown}"
					if row.get("parentfield")
					else f"{label}: {shown}"
				)
	if missing:
		frappe.throw(_("Could not find {0}").format(", ".join(missing)), frappe.LinkValidationError)


def _stored_row(before, row):
	"""The stored version of `row` (the document itself, or one of its child rows by name), or None
	for a row this save adds."""
	if not row.get("parentfield"):
		return before
	for stored in before.get(row.parentfield) or []:
		if stored.name == row.name:
			return stored
	return None


NUMBER_FIELDTYPES = frozenset({"Int", "Float", "Currency", "Percent", "Check", "Rating"})
WHOLE_NUMBER_FIELDTYPES = frozenset({"Int", "Check"})
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# The largest magnitude each number column holds (frappe's MariaDB types: int(11), decimal(21,9),
# decimal(3,2)): a larger one failed the write with the database's "Out of range" (HTTP 500).
NUMBER_LIMITS = {
	"Int": 2**31 - 1,
	"Check": 2**31 - 1,
	"Float": 10**12 - 1,
	"Currency": 10**12 - 1,
	"Percent": 10**12 - 1,
	"Rating": 9,
}


@functools.cache
def app_modules() -> frozenset:
	"""The app's modules (modules.txt, read once a process)."""
	return frozenset(frappe.get_module_list("customer_success"))


def field_label(df) -> str:
	"""A field's label as its form shows it (translated), else its fieldname."""
	return _(df.label, context=df.parent) if df.label else df.fieldname


def row_place(row) -> str:
	"""'Row #n: ' for a child row, to start a message about one of its fields; '' for the record."""
	return f"{_('Row')} #{row.idx}: " if row.get("parentfield") else ""


def check_numbers(doc, method=None):
	"""`before_validate` of every doctype (the app's only: others return at once): a number field
	holds a number. frappe turns the text of a number field into a number only when it writes the
	record (text that is no number becomes 0, silently), so a value sent as "abc" through the REST API
	reached the app's own checks as text and failed them with a TypeError (HTTP 500). Now such a
	value is refused with the field's name, and a number sent as text ("12", "-1.5") is read as the
	number before the checks run. (Data Import reads its cells as numbers before it saves.)"""
	if doc.meta.module not in app_modules():
		return
	problems = []
	for row in (doc, *doc.get_all_children()):
		for df in row.meta.fields:
			if df.fieldtype not in NUMBER_FIELDTYPES:
				continue
			value = row.get(df.fieldname)
			number = as_number(value)
			if number is _NOT_A_NUMBER or (number is not None and abs(number) > NUMBER_LIMITS[df.fieldtype]):
				label = field_label(df)
				where = row_place(row)
				text = str(value)
				shown = escape_html(text[:40] + ("…" if len(text) > 40 else ""))
				if number is _NOT_A_NUMBER:
					problems.append(where + _("{0} must be a number (it is {1}).").format(label, shown))
				else:
					problems.append(
						where
						+ _("{0} is too large (it is {1}; at most {2}).").format(
							label, shown, NUMBER_LIMITS[df.fieldtype]
						)
					)
			elif df.fieldtype == "Int" and number is not None and number != int(number):
				# frappe would store 3.7 as 3, silently
				label = field_label(df)
				where = row_place(row)
				problems.append(
					where
					+ _("{0} must be a whole number (it is {1}).").format(label, escape_html(str(value)[:40]))
				)
			elif number is not None and number is not value:
				row.set(
					df.fieldname,
					int(number)
					if df.fieldtype in WHOLE_NUMBER_FIELDTYPES and number == int(number)
					else number,
				)
	if problems:
		frappe.throw("<br>".join(problems), title=_("Not a Number"))


# What frappe's Small Text and Text hold: a MariaDB TEXT column, 65,535 bytes. frappe checks the
# length of varchar columns only, so a longer text (a note pasted from a long e-mail thread) failed
# the write with the database's "Data too long" (HTTP 500) on a churn note, an alert's resolution,
# a survey's note or an answer's comment.
TEXT_FIELDTYPES = frozenset({"Small Text", "Text"})
TEXT_COLUMN_BYTES = 65535


def check_text_lengths(doc, method=None):
	"""`validate` of every doctype (the app's only: others return at once): a text field holds no
	more than its column does, refused with the field's name and the text's length, nothing written."""
	if doc.meta.module not in app_modules():
		return
	problems = []
	for row in (doc, *doc.get_all_children()):
		for df in row.meta.fields:
			if df.fieldtype not in TEXT_FIELDTYPES:
				continue
			value = row.get(df.fieldname)
			if (
				isinstance(value, str)
				and len(value) > TEXT_COLUMN_BYTES // 4
				and len(value.encode("utf-8")) > TEXT_COLUMN_BYTES
			):
				label = field_label(df)
				where = row_place(row)
				problems.append(
					where
					+ _("{0} is too long ({1} characters): shorten it, then save again.").format(
						label, f"{len(value):,}"
					)
				)
	if problems:
		frappe.throw("<br>".join(problems), frappe.CharacterLengthExceededError, title=_("Text Too Long"))


def check_import_numbers(data_import, method=None):
	"""`validate` of a Data Import of one of the app's doctypes: frappe's importer reads a number
	column's text as a number before any hook of the record sees it ("ten" imported as 0: an NPS
	answer of 0, a Critical detractor alert with its ToDos), so the file is read here first, when it
	is attached, and one whose number columns hold text that is no number is refused, row by row,
	before anything is imported. (Thousands separators, which frappe's reading drops, are numbers.)"""
	doctype, source = data_import.reference_doctype, data_import.import_file
	if not doctype or not source or frappe.get_meta(doctype).module not in app_modules():
		return
	from frappe.core.doctype.data_import.importer import ImportFile

	import_file = ImportFile(
		doctype,
		source,
		frappe.parse_json(data_import.template_options or "{}"),
		data_import.import_type,
	)
	problems = []
	for column in import_file.columns:
		df = column.df
		if not df or column.skip_import or df.fieldtype not in NUMBER_FIELDTYPES - {"Check"}:
			continue
		label = field_label(df)
		for index, value in enumerate(column.column_values):
			text = value.replace(",", "") if isinstance(value, str) else value
			if as_number(text) is _NOT_A_NUMBER:
				shown = escape_html(str(value)[:40])
				# the spreadsheet's row: its header is row 1
				problems.append(
					_("Row {0}: {1} must be a number (it is {2}).").format(index + 2, label, shown)
				)
	if problems:
		more = len(problems) - 20
		frappe.throw(
			"<br>".join(problems[:20]) + ("<br>" + _("... and {0} more.").format(more) if more > 0 else ""),
			title=_("Not a Number"),
		)


_NOT_A_NUMBER = object()


def as_number(value):
	"""`value` (a number field's) as a number: None when empty, the value itself when it is an int or
	a finite float, `_NOT_A_NUMBER` when it cannot be read as one."""
	kind = type(value)
	if value is None:
		return value
	if kind is int:
		return value if abs(value) < 10**300 else _NOT_A_NUMBER  # no float, no column holds it
	if kind is float:
		return value if math.isfinite(value) else _NOT_A_NUMBER
	if kind is bool:
		return int(value)
	if isinstance(value, Decimal):
		return float(value) if value.is_finite() else _NOT_A_NUMBER
	if isinstance(value, str):
		text = value.strip()
		if not text:
			return None
		if not _NUMBER_TEXT.fullmatch(text):
			return _NOT_A_NUMBER
		number = float(text)
		if not math.isfinite(number):
			return _NOT_A_NUMBER
		return (
			int(number) if number == int(number) and "." not in text and "e" not in text.lower() else number
		)
	if isinstance(value, int | float):  # an int or float subclass
		return as_number(float(value) if isinstance(value, float) else int(value))
	return _NOT_A_NUMBER


def comparable(value, fieldtype: str):
	"""A field's value as stored, whatever form it came in (the form and the API send dates as text,
	numbers as text or as other kinds of number): what two values mean, to compare them."""
	from frappe.utils import cint, cstr, flt, get_datetime, getdate

	if fieldtype in ("Int", "Check"):
		return cint(value)
	if fieldtype in ("Float", "Currency", "Percent"):
		return flt(value)
	if value is None or value == "":
		return None
	if fieldtype == "Date":
		return getdate(value)
	if fieldtype == "Datetime":
		return get_datetime(value)
	return cstr(value)


def changed_fields(doc, fieldnames) -> list[str]:
	"""Of `fieldnames`, those whose value the save changes (none for a new document)."""
	before = doc.get_doc_before_save()
	if not before:
		return []
	changed = []
	for fieldname in fieldnames:
		df = doc.meta.get_field(fieldname)
		if df and comparable(doc.get(fieldname), df.fieldtype) != comparable(
			before.get(fieldname), df.fieldtype
		):
			changed.append(fieldname)
	return changed


@contextlib.contextmanager
def acting_as(user: str):
	"""Run as `user`, then as before. frappe.set_user rewrites the session object in place: in a
	request, the caller's own session would then be saved without its user. It rewrites a copy
	here, and the caller's session and form are put back as they were."""
	session, form_dict = frappe.local.session, frappe.local.form_dict
	frappe.local.session = frappe._dict(session)
	try:
		frappe.set_user(user)
		yield
	finally:
		frappe.local.session = session
		frappe.local.form_dict = form_dict
		frappe.local.cache = {}
		frappe.local.role_permissions = {}
		frappe.local.new_doc_templates = {}
		frappe.local.user_perms = None


@contextlib.contextmanager
def in_language(language: str | None):
	"""Translate in `language` (then as before, also after an error: frappe's print_language does
	not put the language back when its block raises)."""
	previous, jenv = frappe.local.lang, frappe.local.jenv
	if language and language != previous:
		frappe.local.lang, frappe.local.jenv = language, None
	try:
		yield
	finally:
		frappe.local.lang, frappe.local.jenv = previous, jenv


def site_language() -> str:
	return frappe.db.get_default("lang") or "en"


def language_of(user: str | None) -> str:
	"""The language of a text written for `user` alone (her ToDo, her reminder): hers, else the
	site's; not that of whoever's action wrote it (a colleague's, or a night's English)."""
	return (user and frappe.db.get_value("User", user, "language")) or site_language()


SCHEDULED_JOB = "frappe.core.doctype.scheduled_job_type.scheduled_job_type.run_scheduled_job"


def job_in_site_language(method: str | None = None, kwargs: dict | None = None):
	"""`before_job` hook: the app's background jobs (queued by it, or its scheduler events) run in
	the site's language. A worker starts each job in English (frappe takes the language from the
	site's config file, not from its System Settings), so on a Chinese site the night wrote its
	records and messages in English. What is written for one person in her own language says so
	where it is written (reminders, the digest, checkpoints' ToDos)."""
	job = (kwargs or {}).get("job_type") if method == SCHEDULED_JOB else method
	if isinstance(job, str) and job.startswith("customer_success."):
		frappe.local.lang, frappe.local.jenv = site_language(), None


def stored_title(message: str, *values) -> str:
	"""A title stored on a record (a plan's, a business review's), in the site's language whoever's
	save writes it: in the saver's own, a Chinese-speaking CSM's save renamed an English plan for
	every colleague, list, report and the customer's portal and print."""
	with in_language(site_language()):
		return _(message).format(*values)


# The paths of frappe's REST calls of a whitelisted method.
METHOD_PATHS = ("/api/method/", "/api/v1/method/", "/api/v2/method/")


def check_method_arguments():
	"""`before_request`: a call of one of the app's whitelisted methods (or of frappe's and
	ERPNext's methods the app overrides) that leaves out an argument the method needs is refused
	with the argument's name, a validation error. Python's own TypeError failed the request as a
	server error with its traceback (a Guest's NPS answer without a score). Calls the caller may not
	make are left to frappe, which refuses them as it always does."""
	request = getattr(frappe.local, "request", None)
	path = getattr(request, "path", "") or ""
	method = next((path[len(prefix) :] for prefix in METHOD_PATHS if path.startswith(prefix)), None)
	if not method:
		return
	method = method.split("/")[0]
	method = (frappe.get_hooks("override_whitelisted_methods") or {}).get(method, [method])[-1]
	if not method.startswith("customer_success."):
		return
	try:
		function = frappe.get_attr(method)
	except Exception:
		return  # frappe answers a method that is not there
	import inspect

	from frappe import guest_methods, whitelisted  # (frappe's registers of callable methods)

	if function not in whitelisted or (frappe.session.user == "Guest" and function not in guest_methods):
		return

	given = frappe.local.form_dict
	required = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
	missing = [
		name
		for name, parameter in inspect.signature(function).parameters.items()
		if parameter.kind in required and parameter.default is inspect.Parameter.empty and name not in given
	]
	if missing:
		frappe.throw(
			_("The request has no {0}: it is needed.").format(", ".join(missing)),
			frappe.MandatoryError,
			title=_("Missing Value"),
		)


def customer_gone(customer: str, why: str, churned: bool = False):
	"""A customer disabled or recorded as churned (its form, an import, a renewal marked churned):
	every `cs_on_customer_gone` hook closes the open work of its room, saying why, and for a churned
	one every `cs_on_customer_churned` hook too."""
	hooks = frappe.get_hooks("cs_on_customer_gone") + (
		frappe.get_hooks("cs_on_customer_churned") if churned else []
	)
	for method in hooks:
		# one room's failure is logged and never refuses the user's save (nor the others' closing)
		frappe.db.savepoint("cs_customer_gone")
		try:
			frappe.get_attr(method)(customer, why)
		except Exception:
			frappe.db.rollback(save_point="cs_customer_gone")
			frappe.log_error(
				title=_("Closing the open work of customer {0} failed").format(customer),
				reference_doctype="Customer",
				reference_name=customer,
			)
