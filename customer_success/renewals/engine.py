"""Renewals and retention: the pure core (plain data in, plain data out; never imports frappe).

- `retention(prev, curr)`: gross and net revenue retention of a cohort, from each customer's
  revenue in two windows (the Revenue Retention report, and any room that needs the figures).
- `retention_points(...)`: the dates T a retention series is read at (each month or quarter end).
- Renewal maths: annualised revenue at stake, checkpoint dates, the change at renewal, the
  health-weighted expected revenue and the CSM-versus-signal disagreement.
- Leakage: which invoices leak and of what kind (`invoice_leak`), and the differences that keep the
  leak table and its day sums exact (`leak_changes`, `cell_differences`).
"""

import calendar
from datetime import date, timedelta

from customer_success.numbers import is_number, round2

# --- outcomes, calls, checkpoints ---------------------------------------------------------------

OPEN, RENEWED, CHURNED = "Open", "Renewed", "Churned"
# The renewal's contract was cancelled (amended or withdrawn): nothing to renew on that term.
CANCELLED = "Cancelled"
STATUSES = (OPEN, RENEWED, CHURNED, CANCELLED)
# A renewal's outcome: set only by the outcome actions (Mark Renewed / Mark Churned, the nightly
# self-close), cleared when a renewal is made or opens again.
OUTCOME_FIELDS = (
	"status",
	"renewed_contract",
	"renewed_order",
	"renewed_subscription",
	"renewed_amount",
	"change_amount",
	"change_type",
	"auto_closed",
	"churn_reason",
	"churn_note",
	"closed_on",
	"closed_by",
)

WILL_RENEW, AT_RISK, WILL_CHURN = "Will Renew", "At Risk", "Will Churn"
CALLS = (WILL_RENEW, AT_RISK, WILL_CHURN)

EXPANSION, FLAT, CONTRACTION = "Expansion", "Flat", "Contraction"
# Renewed, but the new term's worth is not known yet (no order, no invoice of its own): no change
# is computed from nothing, and the forecast counts it at the old term's worth.
UNKNOWN = "Unknown"

CHURN_REASONS = (
	"Price",
	"Budget Cut",
	"Competitor",
	"Product Fit",
	"Low Adoption",
	"Poor Support",
	"Champion Left",
	"Acquired or Merged",
	"Went out of Business",
	"Other",
)

# (label, months before the contract's end)
CHECKPOINTS = (("6 Months", 6), ("3 Months", 3))

GREEN, YELLOW, RED, NO_COLOUR = "Green", "Yellow", "Red", "Insufficient Data"

# Health-weighted expected revenue of an open renewal: revenue at stake x the weight of the
# customer's health status. A renewal with no colour (no score, or too little known) is a coin toss.
HEALTH_WEIGHTS = {GREEN: 0.9, YELLOW: 0.6, RED: 0.3, NO_COLOUR: 0.5}
UNKNOWN_WEIGHT = 0.5

# A renewal "at risk": the CSM's call says so, or the health signal does.
AT_RISK_CALLS = (AT_RISK, WILL_CHURN)
AT_RISK_SIGNALS = (YELLOW, RED)

DAYS_PER_YEAR = 365


# --- dates ----------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
	"""`day` moved by whole months, clamped to the month's last day (31 Aug - 6 months = 28/29 Feb)."""
	index = day.year * 12 + day.month - 1 + months
	year, month = divmod(index, 12)
	month += 1
	return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
	return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def checkpoint_dates(end_date: date) -> list[tuple[str, date]]:
	"""The renewal's checkpoints: (label, due date), earliest first."""
	return [(label, add_months(end_date, -months)) for label, months in CHECKPOINTS]


def retention_points(start: date, end: date, periodicity: str = "Monthly") -> list[date]:
	"""The dates T the retention series is read at: every month end (or quarter end: March, June,
	September, December) from `start`'s period to the one holding `end`, at most `end` itself for the
	last (a period still running is read up to `end`)."""
	if start > end:
		return []
	step = 3 if periodicity == "Quarterly" else 1
	first = month_end(start)
	if step == 3:
		first = month_end(date(start.year, ((start.month - 1) // 3) * 3 + 3, 1))
	points, point = [], first
	while point < end:
		points.append(point)
		point = month_end(add_months(date(point.year, point.month, 1), step))
	points.append(min(point, end))
	return points


def retention_windows(point: date) -> tuple[tuple[date, date], tuple[date, date]]:
	"""The two twelve-month windows of retention at T, as inclusive (first, last) day pairs:
	the cohort's (T - 24 months, T - 12 months] and the measured (T - 12 months, T]."""
	year_ago = add_months(point, -12)
	two_years_ago = add_months(point, -24)
	one = timedelta(days=1)
	return (two_years_ago + one, year_ago), (year_ago + one, point)


# --- retention ------------------------------------------------------------------------------------


def retention(prev: dict[str, float], curr: dict[str, float]) -> dict:
	"""Gross and net revenue retention of the customers active in the earlier window.

	`prev` and `curr` map a customer to its net revenue (credit notes netted, company currency) in
	the earlier and later windows. The cohort is the customers whose `prev` revenue is above 0;
	S is their revenue there. Each cohort customer's later revenue, against its own part of S,
	adds to expansion E (the rise), contraction C (the fall, while still above 0) or churn L (all
	of its part of S, when its later revenue is 0 or less). GRR = (S - C - L) / S,
	NRR = (S + E - C - L) / S, in percent; both None when S is 0. Customers new in the later
	window count in neither.
	"""
	totals = [0] * len(COMPONENTS)
	for customer, before in prev.items():
		if not is_number(before):
			continue
		after = curr.get(customer)
		for i, value in enumerate(
			customer_components(float(before), float(after) if is_number(after) else 0.0)
		):
			totals[i] += value
	return retention_figures(dict(zip(COMPONENTS, totals, strict=True)))


# What one customer adds to a period's retention (summed over customers, the report's figures):
COMPONENTS = (
	"customers",
	"starting_revenue",
	"expansion",
	"contraction",
	"churn",
	"churned_customers",
	"expanded_customers",
	"contracted_customers",
)


def customer_components(before: float, after: float) -> tuple:
	"""One customer's part of a period's retention (`COMPONENTS`, in order), from its revenue in the
	earlier and later windows: nothing unless `before` is above 0 (it is then in the cohort)."""
	if before <= 0:
		return (0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0)
	if after <= 0:
		return (1, before, 0.0, 0.0, before, 1, 0, 0)
	if after > before:
		return (1, before, after - before, 0.0, 0.0, 0, 1, 0)
	if after < before:
		return (1, before, 0.0, before - after, 0.0, 0, 0, 1)
	return (1, before, 0.0, 0.0, 0.0, 0, 0, 0)


def retention_figures(totals: dict) -> dict:
	"""The report's row from the summed `COMPONENTS` (any customers' sum: a roll-up's too)."""
	starting = float(totals.get("starting_revenue") or 0)
	expansion = float(totals.get("expansion") or 0)
	contraction = float(totals.get("contraction") or 0)
	churn = float(totals.get("churn") or 0)
	if starting > 0:
		grr = 100.0 * (starting - contraction - churn) / starting
		nrr = 100.0 * (starting + expansion - contraction - churn) / starting
	else:
		grr = nrr = None
	return {
		"customers": int(totals.get("customers") or 0),
		"starting_revenue": round2(starting),
		"expansion": round2(expansion),
		"contraction": round2(contraction),
		"churn": round2(churn),
		"ending_revenue": round2(starting + expansion - contraction - churn),
		"churned_customers": int(totals.get("churned_customers") or 0),
		"expanded_customers": int(totals.get("expanded_customers") or 0),
		"contracted_customers": int(totals.get("contracted_customers") or 0),
		"grr": None if grr is None else round2(grr),
		"nrr": None if nrr is None else round2(nrr),
	}


# --- renewals -----------------------------------------------------------------------------------


def annualise(amount: float, days: int) -> float:
	"""`amount` earned over `days` days, as a year's worth (a term of a year or more: no change)."""
	if not is_number(amount) or not days or days <= 0:
		return 0.0
	return round2(float(amount) * DAYS_PER_YEAR / max(int(days), 1))


def term_days(start: date | None, end: date | None) -> int:
	"""Days in a term, both ends included; 0 when the term is unknown or reversed."""
	if not start or not end or end < start:
		return 0
	return (end - start).days + 1


def invoice_window(start: date | None, end: date, today: date) -> tuple[date, date] | None:
	"""The twelve months whose invoices show what a contract is worth: the full trailing year ending
	on its end date, or today while it still runs. None for a term that has not started yet (it has
	earned nothing so far); never a reversed window."""
	if start and start > today:
		return None
	last = min(end, today)
	return last - timedelta(days=DAYS_PER_YEAR - 1), last


def contract_for_invoice(day: date, contracts: list[dict]) -> dict | None:
	"""The one contract an invoice dated `day` belongs to, so no invoice counts for two contracts:
	the contract whose term covers `day` (the latest-starting one when terms overlap), else the
	customer's latest contract (latest start)."""
	if not contracts:
		return None

	def latest(rows):
		return max(rows, key=lambda c: (c.get("start_date") or date.min, c["name"]))

	covering = [
		c
		for c in contracts
		if (c.get("start_date") is None or c["start_date"] <= day)
		and (c.get("end_date") is None or day <= c["end_date"])
	]
	return latest(covering or contracts)


def invoiced_by_contract(
	invoices: list[tuple[date, float]], contracts: list[dict], windows: dict[str, tuple[date, date] | None]
) -> dict[str, float]:
	"""{contract: the net amount of its own invoices (`contract_for_invoice`) inside its window}, for
	one customer's `invoices` (posting date, amount) and all of its `contracts`; only contracts with
	a window are answered."""
	totals = {name: 0.0 for name, window in windows.items() if window}
	for day, amount in invoices:
		owner = contract_for_invoice(day, contracts)
		window = windows.get(owner["name"]) if owner else None
		if window and window[0] <= day <= window[1]:
			totals[owner["name"]] += float(amount or 0)
	return totals


def revenue_at_stake(
	document_total: float | None,
	start: date | None,
	end: date,
	invoiced: float | None,
	today: date,
) -> tuple[float, str]:
	"""A contract's annualised revenue (company currency) and the basis it was taken from.

	1. The contract's own Sales Order or Sales Invoice (Contract.document_type / document_name,
	submitted): its net total over the contract's term, annualised.
	2. Otherwise its own invoices (each invoice belongs to one contract: `contract_for_invoice`),
	credit notes netted, over the full twelve months of `invoice_window`: that sum is the year's
	worth as it is, never scaled up from the days elapsed (an upfront or quarterly bill is not
	multiplied). Only a term shorter than a year is scaled, by its own length (a six-month term's
	invoices x 365 / its days).
	3. Otherwise 0 ("none"): no document, or no invoice of its own yet (a term not started).
	"""
	days = term_days(start, end)
	if is_number(document_total) and document_total and days:
		return annualise(document_total, days), "document"
	if is_number(invoiced) and invoiced:
		if days and days < DAYS_PER_YEAR:
			return annualise(invoiced, days), "invoices"
		return round2(float(invoiced)), "invoices"
	return 0.0, "none"


def renewal_change(at_stake: float, renewed: float | None) -> tuple[float, str]:
	"""The change at renewal (renewed minus at stake) and whether it is an expansion or contraction;
	(0, Unknown) when the renewed amount is not known (None)."""
	if renewed is None:
		return 0.0, UNKNOWN
	change = round2(float(renewed or 0) - float(at_stake or 0))
	if change > 0:
		return change, EXPANSION
	if change < 0:
		return change, CONTRACTION
	return 0.0, FLAT


def health_weight(status: str | None) -> float:
	return HEALTH_WEIGHTS.get(status or "", UNKNOWN_WEIGHT)


def expected_revenue(
	at_stake: float, status: str | None, outcome: str = OPEN, renewed_amount: float | None = None
) -> float:
	"""Health-weighted expected revenue: a renewed renewal brings its renewed amount, a churned one
	nothing, an open one its revenue at stake times its health's weight (HEALTH_WEIGHTS). A renewed
	one whose new worth is not known yet (None) brings its revenue at stake."""
	if outcome == RENEWED:
		return round2(float(at_stake or 0 if renewed_amount is None else renewed_amount))
	if outcome in (CHURNED, CANCELLED):
		return 0.0
	return round2(float(at_stake or 0) * health_weight(status))


def is_disagreement(call: str | None, status: str | None) -> bool:
	"""The CSM says it renews while the health signal is red."""
	return call == WILL_RENEW and status == RED


def is_at_risk(call: str | None, status: str | None) -> bool:
	return call in AT_RISK_CALLS or status in AT_RISK_SIGNALS


def latest_call(checkpoints: list[dict]) -> dict | None:
	"""The latest recorded checkpoint (by due date, then recording date): the CSM's current call."""
	recorded = [row for row in checkpoints if row.get("call")]
	if not recorded:
		return None
	return max(
		recorded, key=lambda row: (row.get("due_date") or date.min, row.get("recorded_on") or date.min)
	)


def forecast_order(rows: list[dict]) -> list[dict]:
	"""Disagreements first, then by end date, then by revenue at stake (largest first), then by
	renewal (the same order however the rows were read)."""
	return sorted(
		rows,
		key=lambda row: (
			not row.get("disagreement"),
			row.get("end_date") or date.max,
			-float(row.get("revenue_at_stake") or 0),
			row.get("renewal") or "",
		),
	)


# What a renewal's part of the forecast's totals depends on, besides its amounts: the key renewals are
# summed by (in the database for the team's period) before the maths below is applied once per group.
FORECAST_GROUP_KEYS = ("status", "signal_status", "latest_call", "worth_unknown", "year", "month")


def worth_unknown(change_type: str | None, renewed_amount: float | None) -> bool:
	"""A renewal whose new term's worth is not known (an Unknown change, or no renewed amount): renewed,
	it counts at its revenue at stake."""
	return change_type == UNKNOWN or renewed_amount is None


def forecast_groups(rows: list[dict]) -> list[dict]:
	"""The report's rows (status, signal_status, latest_call, change_type, renewed_amount,
	revenue_at_stake, end_date) summed by `FORECAST_GROUP_KEYS`: each group its key's fields and
	renewals, revenue_at_stake and renewed_amount (sums; a missing amount adds 0). Only a renewed
	renewal's worth counts (`worth_unknown`, its renewed amount): the others' is never read. What
	`queries.forecast_groups` reads in the database, for rows already read."""
	groups: dict[tuple, dict] = {}
	for row in rows:
		end = row["end_date"]
		renewed = row.get("status") == RENEWED
		key = (
			row.get("status"),
			row.get("signal_status"),
			row.get("latest_call"),
			renewed and worth_unknown(row.get("change_type"), row.get("renewed_amount")),
			end.year,
			end.month,
		)
		group = groups.get(key)
		if group is None:
			group = groups[key] = dict(zip(FORECAST_GROUP_KEYS, key, strict=True))
			group.update(renewals=0, revenue_at_stake=0.0, renewed_amount=0.0)
		group["renewals"] += 1
		group["revenue_at_stake"] += float(row.get("revenue_at_stake") or 0)
		if renewed:
			group["renewed_amount"] += float(row.get("renewed_amount") or 0)
	return list(groups.values())


def forecast_totals(groups: list[dict]) -> dict:
	"""The forecast's totals from its renewals summed by `FORECAST_GROUP_KEYS` (`forecast_groups`):
	renewals, revenue at stake, health-weighted expected revenue, disagreements, renewals by the CSM's
	call ("" for none yet), and revenue at stake and expected revenue by (year, month).

	`expected_revenue` is applied to each group's sums: within a group it is linear in the amounts
	(an open renewal's revenue at stake x its signal's weight, a renewed one's renewed amount or, its
	worth unknown, its revenue at stake, a churned or cancelled one's nothing), so a group's figure is
	the sum of its renewals' figures, except that it is rounded to the cent once for the group rather
	than once per renewal."""
	totals = {
		"renewals": 0,
		"revenue_at_stake": 0.0,
		"expected_revenue": 0.0,
		"disagreements": 0,
		"by_call": {},
		"by_month": {},
	}
	for group in groups:
		count, at_stake = int(group["renewals"] or 0), float(group["revenue_at_stake"] or 0)
		expected = expected_revenue(
			at_stake,
			group["signal_status"],
			group["status"],
			None if group["worth_unknown"] else float(group["renewed_amount"] or 0),
		)
		totals["renewals"] += count
		totals["revenue_at_stake"] += at_stake
		totals["expected_revenue"] += expected
		if is_disagreement(group["latest_call"], group["signal_status"]):
			totals["disagreements"] += count
		call = group["latest_call"] or ""
		totals["by_call"][call] = totals["by_call"].get(call, 0) + count
		month = totals["by_month"].setdefault((int(group["year"]), int(group["month"])), [0.0, 0.0])
		month[0] += at_stake
		month[1] += expected
	return totals


def superseded_by(contract: dict, candidates: list[dict]) -> dict | None:
	"""The contract that renewed `contract`: the earliest-starting other contract of the same party
	that starts on or after `contract`'s end date."""
	end = contract["end_date"]
	later = [
		c
		for c in candidates
		if c["name"] != contract["name"] and c.get("start_date") and c["start_date"] >= end
	]
	return min(later, key=lambda c: (c["start_date"], c["name"])) if later else None


# --- subscriptions -------------------------------------------------------------------------------

# Where a renewal comes from: a customer Contract, or an ERPNext Subscription.
CONTRACT, SUBSCRIPTION = "Contract", "Subscription"
SOURCE_TYPES = (CONTRACT, SUBSCRIPTION)

# An ERPNext Subscription that still runs (Cancelled and Completed ones have nothing to renew).
LIVE_SUBSCRIPTION_STATUSES = ("Trialling", "Active", "Past Due Date", "Unpaid")
SUBSCRIPTION_CANCELLED = "Cancelled"

# A subscription with no end date renews by itself every billing period: only a billing period of a
# year or more is a renewal a CSM works (a monthly one would make twelve renewals a year).
MIN_EVERGREEN_MONTHS = 12
MONTHS_PER_INTERVAL = {"Day": 1 / 30.4375, "Week": 7 / 30.4375, "Month": 1, "Year": 12}


def billing_months(interval: str | None, count: int | None) -> float:
	"""Months in one billing period of a Subscription Plan (Billing Interval x Interval Count)."""
	return MONTHS_PER_INTERVAL.get(interval or "", 0) * max(int(count or 1), 1)


def subscription_term_end(end_date: date | None, current_end: date | None, months: float) -> date | None:
	"""The end of a subscription's term, the date its renewal is about: its End Date when it has one;
	else (a subscription that renews by itself) the end of the current billing period, when that
	period is a year or more; else None (no renewal record: a monthly evergreen is no renewal event)."""
	if end_date:
		return end_date
	if current_end and months >= MIN_EVERGREEN_MONTHS:
		return current_end
	return None


def plan_annual(
	price_determination: str | None, cost: float | None, qty: float | None, months: float
) -> float | None:
	"""A Subscription Plan row's worth per year in the plan's currency: a Monthly Rate is its cost x 12;
	a Fixed Rate (or a price-list rate, passed as `cost`) is charged once per billing period of
	`months`. None when the price cannot be told (no cost, no billing period)."""
	if not is_number(cost) or cost is None:
		return None
	qty = float(qty or 1)
	if price_determination == "Monthly Rate":
		return round2(float(cost) * qty * 12)
	if not months or months <= 0:
		return None
	return round2(float(cost) * qty * 12 / months)


def discounted(
	annual: float, percentage: float | None, amount_per_period: float | None, months: float
) -> float:
	"""A subscription's plans' yearly worth after its additional discount (a percentage, and an amount
	taken off every invoice, i.e. every billing period)."""
	value = float(annual or 0) * (1 - float(percentage or 0) / 100)
	if amount_per_period and months and months > 0:
		value -= float(amount_per_period) * 12 / months
	return round2(max(value, 0.0))


def per_year(amount: float | None, days: int | None) -> float:
	"""`amount` billed for `days` days of service, as a year's worth (the daily rate x 365)."""
	if not is_number(amount) or not days or days <= 0:
		return 0.0
	return round2(float(amount) * DAYS_PER_YEAR / int(days))


def subscription_revenue(
	invoiced: float | None, service_days: int | None, plans_annual: float | None
) -> tuple[float, str]:
	"""A subscription's annualised revenue (company currency) and its basis.

	1. its own submitted invoices (Sales Invoice.subscription) of the last twelve months, credit notes
	netted, over the service days they bill (their From / To Date): the daily rate x 365, so a monthly
	bill and an annual one both give a year's worth ("invoices");
	2. otherwise (not billed yet: new, trialling, billed at the period's end) its plans' price per year
	after its discount ("plans");
	3. otherwise 0 ("none").
	"""
	if is_number(invoiced) and invoiced and service_days:
		return per_year(invoiced, service_days), "invoices"
	if is_number(plans_annual) and plans_annual:
		return round2(float(plans_annual)), "plans"
	return 0.0, "none"


def subscription_outcome(
	renewal_end: date,
	status: str | None,
	end_date: date | None,
	current_end: date | None,
	renewed_by_new: bool,
) -> str | None:
	"""What became of a subscription's open renewal (the term ending `renewal_end`):
	- Renewed when a newer subscription of the customer took over (`renewed_by_new`), or the
	subscription itself runs on past the term, not cancelled: its End Date moved later, or (no End
	Date) its billing period rolled over past the term's end;
	- Churned when it was cancelled (and no newer subscription took over);
	- None while it is still open."""
	if renewed_by_new:
		return RENEWED
	if status == SUBSCRIPTION_CANCELLED:
		return CHURNED
	runs_to = end_date or current_end
	if runs_to and runs_to > renewal_end and status in LIVE_SUBSCRIPTION_STATUSES:
		return RENEWED
	return None


def new_term_revenue(start: date | None, end: date | None, today: date, invoices: list[dict]) -> float | None:
	"""The new term's annualised revenue from its own invoices, or None while it cannot be told yet.

	`invoices`: the new term's submitted invoices (posting_date, amount in company currency,
	from_date, to_date, is_return). When every invoice (not a credit note) names the service period
	it bills (From / To Date, as a subscription's do), their total over those days x 365; otherwise
	only once the new term has run a full year (or ended, a shorter term), its invoices of that year
	(`revenue_at_stake`'s rule). A first monthly invoice is never read as the year's worth."""
	if not start or start > today:
		return None
	billed = [row for row in invoices if not row.get("is_return")]
	if not billed:
		return None
	total = sum(float(row.get("amount") or 0) for row in invoices)
	if all(row.get("from_date") and row.get("to_date") for row in billed):
		days = sum(term_days(row["from_date"], row["to_date"]) for row in billed)
		return per_year(total, days) if days else None
	year_done = today >= start + timedelta(days=DAYS_PER_YEAR - 1)
	ended = bool(end) and today >= end
	if not (year_done or ended):
		return None
	window = invoice_window(start, end or today, today)
	in_window = sum(
		float(row.get("amount") or 0)
		for row in invoices
		if window and window[0] <= row["posting_date"] <= window[1]
	)
	amount, basis = revenue_at_stake(None, start, end or today, in_window, today)
	return amount if basis != "none" else None


# --- leakage --------------------------------------------------------------------------------------


def covering_contracts(day: date, contracts: list[dict]) -> list[dict]:
	"""The contracts whose term holds `day` (start and end included; an open end runs for ever)."""
	return [
		c
		for c in contracts
		if (c.get("start_date") is None or c["start_date"] <= day)
		and (c.get("end_date") is None or day <= c["end_date"])
	]


def last_ended_before(day: date, contracts: list[dict]) -> dict | None:
	ended = [c for c in contracts if c.get("end_date") and c["end_date"] < day]
	return max(ended, key=lambda c: c["end_date"]) if ended else None


EXPIRED = "Invoiced after Contract Expired"
UNSIGNED = "Invoiced without a Signed Contract"
NO_RENEWAL = "Ending with No Renewal"
NOTICE = "Auto-Renewal Notice Near"
LEAK_KINDS = (EXPIRED, UNSIGNED, NO_RENEWAL, NOTICE)
INVOICE_LEAKS = (EXPIRED, UNSIGNED)


def invoice_leak(day: date, contracts: list[dict]) -> tuple[str, str | None] | None:
	"""(kind, contract named) of an invoice dated `day` of a customer with these submitted contracts
	(`is_signed` on each), or None when a signed contract covers it: no leak. A contract covering the
	day that is not signed: Invoiced without a Signed Contract, naming it (the latest-starting one);
	none covering it but one ended before: Invoiced after Contract Expired, naming the last ended;
	neither: Invoiced without a Signed Contract, naming none. The rule the leak table's SQL
	(`queries.LEAK_ROWS`) applies to every invoice at once."""
	covering = covering_contracts(day, contracts)
	if any(c.get("is_signed") for c in covering):
		return None
	if covering:
		term = max(covering, key=lambda c: (c.get("start_date") or date.min, c["name"]))
		return UNSIGNED, term["name"]
	ended = last_ended_before(day, contracts)
	if ended:
		return EXPIRED, ended["name"]
	return UNSIGNED, None


def leak_cell(row: dict) -> tuple:
	"""The day roll-up's key of a leak row: (csm, tier, stage, posting date, kind, company); the
	customer's CS Owner, tier and lifecycle stage ('' for none) are the row's."""
	return (
		row["csm"] or "",
		row.get("tier") or "",
		row.get("stage") or "",
		row["posting_date"],
		row["kind"],
		row["company"],
	)


def leak_changes(stored: dict[str, dict], fresh: dict[str, dict]) -> tuple[list[str], list[dict], dict]:
	"""What turns the stored leak rows of some invoices into the fresh ones ({invoice: row} each):
	the invoices to delete, the rows to write (new or changed), and the day roll-up's differences
	{leak_cell: [amount, invoices]} (a row that changed comes out of its old cell and into its new
	one). Rows equal on both sides change nothing."""
	deleted = [invoice for invoice in stored if invoice not in fresh]
	written = [row for invoice, row in fresh.items() if stored.get(invoice) != row]
	cells: dict[tuple, list] = {}

	def add(row: dict, sign: int):
		cell = cells.setdefault(leak_cell(row), [0, 0])
		cell[0] += sign * row["amount"]
		cell[1] += sign

	for invoice in deleted:
		add(stored[invoice], -1)
	for row in written:
		if row["invoice"] in stored:
			add(stored[row["invoice"]], -1)
		add(row, 1)
	return deleted, written, {key: value for key, value in cells.items() if value != [0, 0]}


def cell_differences(truth: dict[tuple, tuple], rolled: dict[tuple, tuple]) -> list[tuple]:
	"""[(*key, amount to add, invoices to add)] that make a roll-up (`rolled`, {key: (amount,
	invoices)}) equal `truth`; keys missing on one side count as (0, 0)."""
	found = []
	for key in sorted(truth.keys() | rolled.keys(), key=str):
		amount, count = truth.get(key, (0, 0))
		have_amount, have_count = rolled.get(key, (0, 0))
		if amount != have_amount or count != have_count:
			found.append((*key, amount - have_amount, count - have_count))
	return found


def notice_date(end_date: date, notice_days: int | None) -> date:
	"""The last day to give notice on a contract that renews by itself."""
	return end_date - timedelta(days=max(int(notice_days or 0), 0))


def signal_at(history: list[dict], day: date) -> dict | None:
	"""The health signal on `day`: the customer's latest score row dated on or before it."""
	dated = [row for row in history if row.get("score_date") and row["score_date"] <= day]
	return max(dated, key=lambda row: row["score_date"]) if dated else None
