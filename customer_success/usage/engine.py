"""Usage: the pure decisions. Whether a batch is acceptable at all, whether each row is, how a
window of daily values becomes one figure, and what a customer's usage says against its
entitlement and against the window before.

Plain data in, plain data out; never imports frappe. Errors are codes with their details: the
service turns them into translated messages.
"""

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from customer_success.numbers import is_number, round2

SUM, AVERAGE, MAXIMUM, LAST = "Sum", "Average", "Maximum", "Last"
AGGREGATIONS = (SUM, AVERAGE, MAXIMUM, LAST)

# A Sum metric's entitlement is per month: the window's sum is compared at a 30-day pace.
MONTH_DAYS = 30
DEFAULT_BATCH_LIMIT = 5000
# A date a day ahead of the site's today is accepted: the sender's clock may be in a later zone.
FUTURE_SLACK_DAYS = 1
MAX_SOURCE_LENGTH = 140
MAX_DAYS_BACK = 3650
# The value column is decimal(21,9): twelve digits before the point. A larger value is a row's
# fault (rejected with its reason), never a database error failing the whole batch.
MAX_VALUE = 999_999_999_999

# Batch errors (the whole batch is refused).
MALFORMED, NOT_A_LIST, EMPTY, TOO_MANY = "malformed", "not_a_list", "empty", "too_many"
# Row errors (the row is rejected, the others go on).
NOT_AN_OBJECT = "not_an_object"
MISSING = "missing"
UNKNOWN_CUSTOMER = "unknown_customer"
UNKNOWN_METRIC = "unknown_metric"
BAD_DATE = "bad_date"
FUTURE_DATE = "future_date"
TOO_OLD = "too_old"
NOT_NUMERIC = "not_numeric"
NEGATIVE = "negative"
TOO_LARGE = "too_large"
BAD_SOURCE = "bad_source"

FIELDS = ("customer", "metric", "date", "value")


class BatchError(ValueError):
	"""The whole batch is refused: `code` says why, `details` carries the figures for the message."""

	def __init__(self, code: str, **details):
		super().__init__(code)
		self.code = code
		self.details = details


# --- the batch ---------------------------------------------------------------------------------


def parse_batch(payload, limit=DEFAULT_BATCH_LIMIT) -> list:
	"""The rows of a batch: `payload` is JSON text or already-parsed data, a list of rows or an
	object holding them under "rows". Refuses (BatchError) malformed JSON, anything that is not a
	list, an empty batch and one over `limit` rows (`limit` None: no limit, the scheduled pull's
	case); never looks inside the rows."""
	if isinstance(payload, bytes | bytearray):
		try:
			payload = payload.decode("utf-8")
		except UnicodeDecodeError as e:
			raise BatchError(MALFORMED, error=str(e)) from e
	if isinstance(payload, str):
		try:
			payload = json.loads(payload, parse_constant=_refuse_constant)
		except ValueError as e:
			raise BatchError(MALFORMED, error=str(e)) from e
	if isinstance(payload, dict) and "rows" in payload:
		payload = payload["rows"]
		if isinstance(payload, str):
			return parse_batch(payload, limit)
	if not isinstance(payload, list):
		raise BatchError(NOT_A_LIST, got=type(payload).__name__)
	if not payload:
		raise BatchError(EMPTY)
	if limit is None:
		return payload
	limit = int(limit) if is_number(limit) and float(limit) > 0 else DEFAULT_BATCH_LIMIT
	if len(payload) > limit:
		raise BatchError(TOO_MANY, rows=len(payload), limit=limit)
	return payload


def _refuse_constant(name: str):
	raise ValueError(f"{name} is not a number JSON allows")


def names_in(rows: list, key: str) -> set[str]:
	"""The distinct, non-empty text values of `key` across the batch: what to look up, once."""
	return {
		str(row[key]).strip()
		for row in rows
		if isinstance(row, dict) and isinstance(row.get(key), str | int) and str(row[key]).strip()
	}


# --- one row -----------------------------------------------------------------------------------


@dataclass
class Checked:
	"""The batch split: clean rows to store (one per customer, metric and day: the last sent wins)
	and rejected rows as (index in the batch, reason code, details)."""

	accepted: list = field(default_factory=list)
	rejected: list = field(default_factory=list)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def parse_day(value) -> date | None:
	"""An ISO date (YYYY-MM-DD); None for anything else."""
	if isinstance(value, date):
		return value
	if not isinstance(value, str):
		return None
	text = value.strip()
	if not ISO_DAY.fullmatch(text):
		return None  # Python also reads "20261203" and "2026-W49-1": not what the API says it takes
	try:
		return date.fromisoformat(text)
	except ValueError:
		return None


def parse_value(value) -> float | None:
	"""A finite number, or text holding one; None for anything else (booleans included)."""
	if isinstance(value, bool):
		return None
	if isinstance(value, str):
		value = value.strip()
		if not NUMBER_TEXT.fullmatch(value):
			return None  # float() also reads "1_000", "nan" and "infinity"
	try:
		number = float(value)
	except (TypeError, ValueError, OverflowError):  # an int of hundreds of digits overflows
		return None
	return number if math.isfinite(number) else None


def as_sent(value):
	"""A rejected row as the reply echoes it: a number JSON cannot carry (NaN, Infinity, which a
	lenient parser read from the batch) as its text, so the reply stays strict JSON."""
	if isinstance(value, float) and not math.isfinite(value):
		return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
	if isinstance(value, dict):
		return {key: as_sent(item) for key, item in value.items()}
	if isinstance(value, list):
		return [as_sent(item) for item in value]
	return value


def check_row(row, customers: set, metrics: set, today: date, default_source: str = "") -> tuple:
	"""(clean row, None) or (None, (reason code, details)) for one row of a batch."""
	if not isinstance(row, dict):
		return None, (NOT_AN_OBJECT, {})
	missing = [key for key in FIELDS if row.get(key) in (None, "")]
	if missing:
		return None, (MISSING, {"fields": missing})
	customer = str(row["customer"]).strip() if isinstance(row["customer"], str | int) else None
	if not customer or customer not in customers:
		return None, (UNKNOWN_CUSTOMER, {"customer": row["customer"]})
	metric = str(row["metric"]).strip() if isinstance(row["metric"], str | int) else None
	if not metric or metric not in metrics:
		return None, (UNKNOWN_METRIC, {"metric": row["metric"]})
	day = parse_day(row["date"])
	if day is None:
		return None, (BAD_DATE, {"date": row["date"]})
	if day > today + timedelta(days=FUTURE_SLACK_DAYS):
		return None, (FUTURE_DATE, {"date": str(day)})
	if day < today - timedelta(days=MAX_DAYS_BACK):
		return None, (TOO_OLD, {"date": str(day), "days": MAX_DAYS_BACK})
	value = parse_value(row["value"])
	if value is None:
		return None, (NOT_NUMERIC, {"value": row["value"]})
	if value < 0:
		return None, (NEGATIVE, {"value": row["value"]})
	if value > MAX_VALUE:
		return None, (TOO_LARGE, {"value": row["value"], "max": MAX_VALUE})
	source = row.get("source", default_source)
	if source is None:
		source = default_source
	if not isinstance(source, str) or len(source) > MAX_SOURCE_LENGTH:
		return None, (BAD_SOURCE, {"length": MAX_SOURCE_LENGTH})
	return {
		"customer": customer,
		"metric": metric,
		"usage_date": day,
		"value": value,
		"source": source.strip(),
	}, None


def check_rows(rows: list, customers: set, metrics: set, today: date, default_source: str = "") -> Checked:
	"""Every row checked; a re-sent (customer, metric, day) inside one batch keeps its last value."""
	checked = Checked()
	latest: dict[tuple, dict] = {}
	for index, row in enumerate(rows):
		clean, problem = check_row(row, customers, metrics, today, default_source)
		if problem:
			checked.rejected.append((index, problem[0], problem[1]))
			continue
		latest.pop((clean["customer"], clean["metric"], clean["usage_date"]), None)
		latest[(clean["customer"], clean["metric"], clean["usage_date"])] = clean
	checked.accepted = list(latest.values())
	return checked


# --- a window of values ---------------------------------------------------------------------------


def window_usage(facts: dict | None, aggregation: str, window_days: int) -> float | None:
	"""One figure for a window of daily values, from its SQL aggregates {sum, avg, max, last, days}.

	Sum: the window's total at a 30-day pace (entitlements of Sum metrics are monthly); Average:
	the mean of the days with a value; Maximum: the peak; Last: the latest day's value. None when
	the window holds no value.
	"""
	if not facts or not int(facts.get("days") or 0):
		return None
	if aggregation == SUM:
		total = float(facts.get("sum") or 0)
		return total * MONTH_DAYS / max(int(window_days), 1)
	key = {AVERAGE: "avg", MAXIMUM: "max", LAST: "last"}.get(aggregation, "avg")
	value = facts.get(key)
	return float(value) if is_number(value) else None


def utilisation(used, entitlement) -> float | None:
	"""Usage as a share of entitlement (1.0 = all of it); None without a positive entitlement."""
	if not is_number(used) or not is_number(entitlement) or float(entitlement) <= 0:
		return None
	return max(float(used), 0.0) / float(entitlement)


def change(recent, previous) -> float | None:
	"""Relative change of the recent window against the one before; None with nothing to compare.
	Usage starting from nothing counts as doubling (+1.0)."""
	if not is_number(recent) or not is_number(previous):
		return None
	recent, previous = float(recent), float(previous)
	if previous <= 0:
		return None if recent <= 0 else 1.0
	return (recent - previous) / previous


def metric_usage(metric: dict, facts: dict, entitlement, window_days: int) -> dict | None:
	"""One metric of one customer: {metric, used, entitlement, utilisation, change}; None when the
	recent window holds no value (no data is not zero usage)."""
	used = window_usage(facts.get("recent"), metric["aggregation"], window_days)
	if used is None:
		return None
	before = window_usage(facts.get("previous"), metric["aggregation"], window_days)
	share = utilisation(used, entitlement)
	moved = change(used, before)
	return {
		"metric": metric["name"],
		"used": round2(used),
		"entitlement": float(entitlement) if is_number(entitlement) else None,
		"utilisation": round(share, 4) if share is not None else None,
		"change": round(moved, 4) if moved is not None else None,
	}


def customer_usage(metrics: list[dict]) -> dict | None:
	"""The product-usage raw value of one customer from its metrics' `metric_usage`: the mean
	utilisation of the metrics with an entitlement and the mean change of those with a previous
	window. None when no metric has data: the factor is then left out, never scored as zero."""
	metrics = [m for m in metrics if m]
	if not metrics:
		return None
	shares = [m["utilisation"] for m in metrics if m.get("utilisation") is not None]
	moves = [m["change"] for m in metrics if m.get("change") is not None]
	if not shares and not moves:
		return None
	return {
		"utilisation": round(sum(shares) / len(shares), 4) if shares else None,
		"trend": round(sum(moves) / len(moves), 4) if moves else None,
		"metrics": sorted(metrics, key=lambda m: m["metric"]),
	}


def near_entitlement(metrics: list[dict], threshold_percent) -> list[dict]:
	"""The metrics used at or above `threshold_percent` of their entitlement, most used first."""
	limit = float(threshold_percent) / 100.0 if is_number(threshold_percent) else 1.0
	near = [m for m in metrics if m and m.get("utilisation") is not None and m["utilisation"] >= limit]
	return sorted(near, key=lambda m: (-m["utilisation"], m["metric"]))
