"""Usage: a batch in (the API and the scheduled pull share `check_batch` and `store`), and the
figures health and alerts read out (`usage_by_customer`).

A batch from the API is taken row by row: bad rows are rejected with their reason, good rows are
stored. A pulled payload comes from a machine we configured, so it is taken whole or not at all:
one bad row, a 500, a timeout or garbage stores nothing and is logged. The API's batch limit does
not apply to the pull.
"""

from datetime import date

import frappe
from frappe import _
from frappe.utils import cint, getdate, nowdate

from customer_success.usage import engine, queries

PULL_LOCK = "customer_success_usage_pull"
PULL_SAVEPOINT = "cs_usage_pull"
API_SOURCE = "API"
PULL_SOURCE = "Pull"


class MalformedBatchError(frappe.ValidationError):
	http_status_code = 400


class BatchTooLargeError(frappe.ValidationError):
	http_status_code = 413


# --- messages ------------------------------------------------------------------------------------


def batch_error_message(error: engine.BatchError) -> str:
	d = error.details
	if error.code == engine.MALFORMED:
		return _("The batch is not valid JSON ({0}): nothing was stored. Send a JSON list of rows.").format(
			d.get("error", "")
		)
	if error.code == engine.NOT_A_LIST:
		return _(
			'The batch must be a JSON list of rows (or an object with the list under "rows"), not {0}: nothing was stored.'
		).format(d.get("got", ""))
	if error.code == engine.EMPTY:
		return _("The batch has no rows: nothing was stored.")
	if error.code == engine.TOO_MANY:
		return _(
			"The batch has {0} rows, more than the limit of {1} (Customer Success Settings): nothing was stored. Split it into smaller batches."
		).format(d.get("rows"), d.get("limit"))
	return _("The batch was refused: nothing was stored.")


def as_text(value) -> str:
	"""A value of a rejected row as the sender wrote it: text as it is, anything else as JSON (a
	list as `["a"]`, not Python's `['a']`; -1 as `-1`, not `-1.0`)."""
	return value if isinstance(value, str) else frappe.as_json(engine.as_sent(value), indent=None)


def reason_message(code: str, details: dict) -> str:
	"""Why one row was rejected, naming the field and what to send instead."""
	if code == engine.NOT_AN_OBJECT:
		return _("The row must be an object with customer, metric, date and value.")
	if code == engine.MISSING:
		return _("The row has no {0}.").format(", ".join(details.get("fields", [])))
	if code == engine.UNKNOWN_CUSTOMER:
		return _("customer: there is no Customer {0}.").format(as_text(details.get("customer")))
	if code == engine.UNKNOWN_METRIC:
		return _("metric: there is no enabled Usage Metric Definition {0}.").format(
			as_text(details.get("metric"))
		)
	if code == engine.BAD_DATE:
		return _("date: {0} is not a date; send YYYY-MM-DD.").format(as_text(details.get("date")))
	if code == engine.FUTURE_DATE:
		return _("date: {0} is in the future.").format(details.get("date"))
	if code == engine.TOO_OLD:
		return _("date: {0} is more than {1} days ago.").format(details.get("date"), details.get("days"))
	if code == engine.NOT_NUMERIC:
		return _("value: {0} is not a number.").format(frappe.as_json(details.get("value")))
	if code == engine.NEGATIVE:
		return _("value: {0} is negative; usage is zero or more.").format(as_text(details.get("value")))
	if code == engine.TOO_LARGE:
		return _("value: {0} is too large; at most {1}.").format(
			frappe.as_json(details.get("value")), details.get("max")
		)
	if code == engine.BAD_SOURCE:
		return _("source: must be text of at most {0} characters.").format(details.get("length"))
	return _("The row is not valid.")


# --- a batch in -------------------------------------------------------------------------------------


def batch_limit() -> int:
	value = cint(frappe.db.get_single_value("Customer Success Settings", "usage_max_batch_rows"))
	return value if value > 0 else engine.DEFAULT_BATCH_LIMIT


def parse(payload) -> list:
	"""The batch's rows, or a clear error refusing the whole batch (nothing is stored)."""
	try:
		return engine.parse_batch(payload, batch_limit())
	except engine.BatchError as e:
		exc = BatchTooLargeError if e.code == engine.TOO_MANY else MalformedBatchError
		frappe.throw(batch_error_message(e), exc, title=_("Usage Batch Refused"))


def check_batch(rows: list, default_source: str, today: date | None = None) -> engine.Checked:
	"""Every row checked against the customers and metrics that exist: one query for each."""
	customers = queries.existing_customers(engine.names_in(rows, "customer"))
	metrics = queries.enabled_metrics(engine.names_in(rows, "metric"))
	return engine.check_rows(rows, customers, metrics, getdate(today or nowdate()), default_source)


def ingest(payload, default_source: str = API_SOURCE) -> dict:
	"""Store a batch's good rows (one upsert), reject its bad ones: the reply lists both."""
	rows = parse(payload)
	checked = check_batch(rows, default_source)
	stored = queries.upsert_usage(checked.accepted)
	return {
		"received": len(rows),
		"stored": stored,
		"rejected": [
			{"index": index, "row": engine.as_sent(rows[index]), "reason": reason_message(code, details)}
			for index, code, details in checked.rejected
		],
	}


INGEST_METHOD = "customer_success.usage.api.ingest"


def refuse_malformed_json(response=None, request=None):
	"""An `after_request` hook: a call to the ingest endpoint whose `application/json` body is not
	JSON fails inside frappe (make_form_dict) before `ingest` runs, as a 500 with a traceback. That
	reply becomes the API's own: 400 with the translated MalformedBatchError message."""
	import json

	if response is None or request is None or response.status_code != 500:
		return
	path = (request.path or "").rstrip("/")
	if not (path.startswith("/api/") and path.endswith("/" + INGEST_METHOD)) or not request.is_json:
		return
	try:
		json.loads(request.get_data(as_text=True) or "null")
		return  # the body is JSON: the 500 is something else, left as it is
	except ValueError as e:
		message = batch_error_message(engine.BatchError(engine.MALFORMED, error=str(e)))
	response.status_code = MalformedBatchError.http_status_code
	response.mimetype = "application/json"
	response.set_data(
		json.dumps(
			{
				"exc_type": MalformedBatchError.__name__,
				"exception": f"{MalformedBatchError.__module__}.{MalformedBatchError.__name__}: {message}",
				"_server_messages": json.dumps(
					[json.dumps({"message": message, "title": _("Usage Batch Refused"), "indicator": "red"})]
				),
			}
		)
	)


# --- the scheduled pull -----------------------------------------------------------------------------


def pull_settings() -> frappe._dict:
	from customer_success.customer_success.doctype.customer_success_settings.customer_success_settings import (
		USAGE_MAX_RETRIES,
		USAGE_MAX_TIMEOUT,
	)

	settings = frappe.get_cached_doc("Customer Success Settings")
	return frappe._dict(
		enabled=cint(settings.get("usage_pull_enabled")),
		url=(settings.get("usage_pull_url") or "").strip(),
		header=settings.get_password("usage_pull_auth_header", raise_exception=False)
		if settings.get("usage_pull_auth_header")
		else None,
		timeout=min(max(cint(settings.get("usage_pull_timeout")) or 30, 1), USAGE_MAX_TIMEOUT),
		# a value stored before it was bounded (or while the pull was off) holds a worker no longer
		retries=min(max(cint(settings.get("usage_pull_retries")), 0), USAGE_MAX_RETRIES),
	)


def http_session(retries: int):
	"""A requests Session whose adapter retries (urllib3's Retry): connection errors, read timeouts
	and 429/5xx answers, with back-off. No retry loop of our own."""
	import requests
	from requests.adapters import HTTPAdapter
	from urllib3.util.retry import Retry

	retry = Retry(
		total=retries,
		connect=retries,
		read=retries,
		status=retries,
		backoff_factor=0.5,
		status_forcelist=(429, 500, 502, 503, 504),
		allowed_methods=frozenset({"GET"}),
		raise_on_status=False,
	)
	session = requests.Session()
	adapter = HTTPAdapter(max_retries=retry)
	session.mount("http://", adapter)
	session.mount("https://", adapter)
	return session


def fetch(settings: frappe._dict):
	"""The endpoint's JSON payload as text; raises requests' errors (timeout, connection, HTTP status)."""
	headers = {"Accept": "application/json"}
	if settings.header:
		headers["Authorization"] = settings.header
	with http_session(settings.retries) as session:
		response = session.get(settings.url, headers=headers, timeout=settings.timeout)
		response.raise_for_status()
		return response.content


def pull(today: date | None = None) -> dict:
	"""Pull the configured endpoint once, under a lock (a pull still running is not overlapped).

	All or nothing: the payload is parsed and every row checked first, then stored in one upsert.
	A failure of any kind is written to the Error Log and returned, never raised: the scheduler
	carries on.
	"""
	settings = pull_settings()
	if not settings.enabled or not settings.url:
		return {"status": "Disabled"}
	if not take_lock(PULL_LOCK):
		return {"status": "Skipped", "reason": _("A usage pull is already running.")}
	try:
		return _pull(settings, today)
	finally:
		release_lock(PULL_LOCK)


def _pull(settings: frappe._dict, today: date | None) -> dict:
	import requests

	try:
		content = fetch(settings)
	except requests.RequestException as e:
		return pull_failed(_("The usage endpoint could not be read: {0}").format(e))
	if not (content or b"").strip():
		return {"status": "Stored", "stored": 0}  # an empty answer: no usage since the last pull
	try:
		# the API's batch limit guards a request; the pull reads a feed we configured, whatever its
		# size, and stores it whole (the upsert writes it in chunks, inside one savepoint)
		rows = engine.parse_batch(content, limit=None)
	except engine.BatchError as e:
		if e.code == engine.EMPTY:
			return {"status": "Stored", "stored": 0}  # no usage since the last pull: nothing failed
		return pull_failed(batch_error_message(e))
	try:
		checked = check_batch(rows, PULL_SOURCE, today)
		if checked.rejected:
			reasons = "\n".join(
				_("Row {0}: {1}").format(index, reason_message(code, details))
				for index, code, details in checked.rejected[:50]
			)
			return pull_failed(
				_("{0} of {1} pulled rows are not valid, so none was stored:\n{2}").format(
					len(checked.rejected), len(rows), reasons
				)
			)
		# one savepoint round the upsert: a batch larger than one statement is stored whole or not at all
		frappe.db.savepoint(PULL_SAVEPOINT)
		try:
			stored = queries.upsert_usage(checked.accepted)
		except Exception:
			frappe.db.rollback(save_point=PULL_SAVEPOINT)
			raise
	except Exception:
		return pull_failed(frappe.get_traceback())
	return {"status": "Stored", "stored": stored}


def pull_failed(message: str) -> dict:
	frappe.log_error(title=_("Usage pull failed"), message=message)
	return {"status": "Failed", "message": message}


def take_lock(name: str) -> bool:
	"""A MariaDB user lock (site-scoped name), not waited for: a second pull just skips."""
	return bool(frappe.db.sql("select get_lock(%s, 0)", (f"{name}:{frappe.conf.db_name}",))[0][0])


def release_lock(name: str):
	frappe.db.sql("select release_lock(%s)", (f"{name}:{frappe.conf.db_name}",))


# --- figures out: health and alerts ------------------------------------------------------------------


def usage_by_customer(lo: str, hi: str, today: date, window_days: int) -> dict[str, list[dict]]:
	"""{customer: [metric usage]} of the customers from `lo` to `hi` with usage in the window: each
	metric's figure, entitlement, utilisation and change against the window before. Three queries
	for the whole range."""
	definitions = queries.metric_definitions()
	if not definitions:
		return {}
	by_name = {d.name: d for d in definitions}
	facts = queries.window_facts(lo, hi, today, window_days)
	if not facts:
		return {}
	entitled = queries.entitlements(lo, hi, definitions)
	found: dict[str, list[dict]] = {}
	for customer, metrics in facts.items():
		rows = [
			engine.metric_usage(by_name[metric], windows, entitled.get((customer, metric)), window_days)
			for metric, windows in metrics.items()
			if metric in by_name
		]
		rows = [row for row in rows if row]
		if rows:
			found[customer] = rows
	return found


def product_usage_raw(lo: str, hi: str, today: date, window_days: int) -> dict[str, dict]:
	"""{customer: the Product Usage factor's raw value}; customers without usage are absent."""
	raw = {}
	for customer, metrics in usage_by_customer(lo, hi, today, window_days).items():
		value = engine.customer_usage(metrics)
		if value:
			raw[customer] = value
	return raw
