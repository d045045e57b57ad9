"""CSM Workload: per CSM (the customers' CS Owner), the book and what is late in it.

- Customers: the active customers of the book (and how many are red);
- Revenue: submitted Sales Invoices posted in the period (default: the last 12 months), net of
  credit notes, in company currency (other companies' currencies converted to the default
  company's, as the health score does);
- Open Alerts: Open or In Progress;
- Overdue: milestones of open plans past their due date (or marked Overdue), Due check-ins past
  their due date, open tasks of open alerts past their due date (as of today).
A customer with no CS Owner is counted on a "Not assigned" row (CS Managers only).
"""

import frappe
from frappe import _
from frappe.query_builder import Case
from frappe.query_builder.functions import Coalesce, Count, Sum
from frappe.utils import add_days, add_months, flt, getdate, nowdate

from customer_success import reports
from customer_success.constants import CHURNED
from customer_success.health.queries import company_rates, reporting_currency

OPEN_PLAN_STATUSES = ("Draft", "Agreed with Customer", "Active", "At Risk")
OPEN_MILESTONE_STATES = ("Not Started", "In Progress", "Overdue")
OPEN_ALERT_STATUSES = ("Open", "In Progress")
NOT_ASSIGNED = ""


def execute(filters=None):
	filters = frappe._dict(filters or {})
	today = getdate(nowdate())
	# the last 12 months, today included
	from_date = reports.filter_date(filters, "from_date", _("Revenue From")) or add_days(
		add_months(today, -12), 1
	)
	to_date = reports.filter_date(filters, "to_date", _("Revenue To")) or today
	reports.check_date_order(from_date, to_date, _("Revenue From"), _("Revenue To"))
	columns = get_columns()
	scope = reports.customer_scope(filters)
	if not scope.allowed:
		return reports.empty_report(columns, _("You see only the customers of your own book."))
	data = get_data(scope, from_date, to_date, today)
	return columns, data, None, get_chart(data), None


def get_columns() -> list[dict]:
	return [
		{"label": _("CSM"), "fieldname": "csm", "fieldtype": "Link", "options": "User", "width": 200},
		{"label": _("Customers"), "fieldname": "customers", "fieldtype": "Int", "width": 100},
		{"label": _("Red Customers"), "fieldname": "red_customers", "fieldtype": "Int", "width": 110},
		{
			"label": _("Revenue"),
			"fieldname": "revenue",
			"fieldtype": "Currency",
			"options": "currency",
			"width": 140,
		},
		{"label": _("Open Alerts"), "fieldname": "open_alerts", "fieldtype": "Int", "width": 100},
		{
			"label": _("Overdue Milestones"),
			"fieldname": "overdue_milestones",
			"fieldtype": "Int",
			"width": 140,
		},
		{"label": _("Overdue Check-ins"), "fieldname": "overdue_checkins", "fieldtype": "Int", "width": 130},
		{
			"label": _("Overdue Alert Tasks"),
			"fieldname": "overdue_alert_tasks",
			"fieldtype": "Int",
			"width": 140,
		},
		{"label": _("Overdue Items"), "fieldname": "overdue_items", "fieldtype": "Int", "width": 110},
	]


def get_data(scope: reports.CustomerScope, from_date, to_date, today) -> list[dict]:
	customer = frappe.qb.DocType("Customer")
	in_scope = reports.customer_criterion(customer, scope)
	book = {}

	def row(csm):
		return book.setdefault(
			csm or NOT_ASSIGNED,
			{
				"csm": csm or None,
				"customers": 0,
				"red_customers": 0,
				"revenue": 0.0,
				"open_alerts": 0,
				"overdue_milestones": 0,
				"overdue_checkins": 0,
				"overdue_alert_tasks": 0,
			},
		)

	for csm, customers, red in customers_by_csm(scope, in_scope):
		row(csm).update(customers=int(customers), red_customers=int(red or 0))

	for csm, amount in revenue_by_csm(scope, in_scope, from_date, to_date, today).items():
		row(csm)["revenue"] = amount
	for key, counts in (
		("open_alerts", open_alerts_by_csm(scope, in_scope)),
		("overdue_milestones", overdue_milestones_by_csm(in_scope, today)),
		("overdue_checkins", overdue_checkins_by_csm(in_scope, today)),
		("overdue_alert_tasks", overdue_alert_tasks_by_csm(scope, in_scope, today)),
	):
		for csm, n in counts.items():
			row(csm)[key] = n
	currency = reporting_currency()
	data = []
	for values in book.values():
		values["revenue"] = flt(values["revenue"], 2)
		values["currency"] = currency
		values["overdue_items"] = (
			values["overdue_milestones"] + values["overdue_checkins"] + values["overdue_alert_tasks"]
		)
		data.append(values)
	# the busiest first; "Not assigned" last
	data.sort(key=lambda r: (r["csm"] is None, -r["overdue_items"], -r["customers"], r["csm"] or ""))
	return data


def customers_by_csm(scope, in_scope) -> list[tuple]:
	"""[(csm, active customers, red ones)]: a book (or every book) from the book roll-up
	(`book_counts`, kept current by every writer of the CS Owner and health), a tier or lifecycle
	stage counted live."""
	from customer_success.customer_success import book_counts

	if not (scope.tier or scope.lifecycle_stage) and book_counts.readable():
		return [
			(csm, n, red)
			for csm, (n, red) in book_counts.customers_per_owner().items()
			if not scope.csm or csm == scope.csm
		]
	customer = frappe.qb.DocType("Customer")
	active = in_scope
	if scope.lifecycle_stage != CHURNED:  # a churned customer is no one's workload (unless asked for)
		active = in_scope & (Coalesce(customer.cs_lifecycle_stage, "") != CHURNED)
	return (
		frappe.qb.from_(customer)
		.select(
			customer.cs_owner, Count("*"), Sum(Case().when(customer.cs_health_status == "Red", 1).else_(0))
		)
		.where(active)
		.groupby(customer.cs_owner)
		.run()
	)


def _by_csm(rows) -> dict:
	return {csm or NOT_ASSIGNED: int(n or 0) for csm, n in rows}


def revenue_by_csm(scope, in_scope, from_date, to_date, today) -> dict[str, float]:
	"""{csm: net invoiced revenue of the book in the period, in the default company's currency}.

	A book (or every book) is read from the revenue roll-up (`renewals.queries`, per day, company
	and CS Owner, kept current by the invoices' and customers' hooks); a tier or lifecycle stage,
	which the roll-up does not hold, is summed from the ledger: the customers lead, each one's
	invoices read from the app's covering billing index alone."""
	if not (scope.tier or scope.lifecycle_stage):
		from customer_success.renewals import service as renewals

		rows = renewals.rolled_up_revenue_by_csm(from_date, to_date, scope.csm)
	else:
		customer = frappe.qb.DocType("Customer")
		invoice = frappe.qb.DocType("Sales Invoice")
		rows = (
			frappe.qb.from_(customer)
			.join(invoice)
			.on(invoice.customer == customer.name)
			.select(customer.cs_owner, invoice.company, Sum(invoice.base_net_total))
			.where(in_scope & (invoice.docstatus == 1) & invoice.posting_date[from_date:to_date])
			.groupby(customer.cs_owner, invoice.company)
			.run()
		)
	rates = company_rates({company for _, company, _ in rows}, today)
	revenue: dict[str, float] = {}
	for csm, company, amount in rows:
		key = csm or NOT_ASSIGNED
		revenue[key] = revenue.get(key, 0.0) + float(amount or 0) * rates.get(company, 1.0)
	return revenue


def open_alerts_by_csm(scope, in_scope) -> dict[str, int]:
	"""{csm: Open or In Progress alerts of the book's active customers}: a book (or every book) read
	from the alerts' own CSM (`alerts.queries.open_alerts_per_csm`: kept equal to the customer's CS
	Owner by the Customer's save and rename, the handoff and the nightly pass; an index of (status,
	csm) instead of a join over every open alert); a tier or lifecycle stage joined to the customers."""
	if not (scope.tier or scope.lifecycle_stage):
		from customer_success.alerts.queries import open_alerts_per_csm

		return open_alerts_per_csm(scope.csm)
	return open_alerts_joined(in_scope)


def open_alerts_joined(in_scope) -> dict[str, int]:
	"""{csm: open alerts} of the customers `in_scope`, under each customer's CS Owner as it stands."""
	customer = frappe.qb.DocType("Customer")
	alert = frappe.qb.DocType("CS Alert")
	return _by_csm(
		frappe.qb.from_(alert)
		.join(customer)
		.on(customer.name == alert.customer)
		.select(customer.cs_owner, Count("*"))
		.where(in_scope & alert.status.isin(OPEN_ALERT_STATUSES))
		.groupby(customer.cs_owner)
		.run()
	)


def overdue_milestones_by_csm(in_scope, today) -> dict[str, int]:
	customer = frappe.qb.DocType("Customer")
	milestone = frappe.qb.DocType("Success Plan Milestone")
	plan = frappe.qb.DocType("Success Plan")
	late = (milestone.status == "Overdue") | (milestone.due_date < today)
	return _by_csm(
		frappe.qb.from_(milestone)
		.join(plan)
		.on(plan.name == milestone.success_plan)
		.join(customer)
		.on(customer.name == plan.customer)
		.select(customer.cs_owner, Count("*"))
		.where(
			in_scope
			& milestone.status.isin(OPEN_MILESTONE_STATES)
			& late
			& plan.status.isin(OPEN_PLAN_STATUSES)
			& (plan.docstatus < 2)
		)
		.groupby(customer.cs_owner)
		.run()
	)


def overdue_checkins_by_csm(in_scope, today) -> dict[str, int]:
	customer = frappe.qb.DocType("Customer")
	checkin = frappe.qb.DocType("Success Plan Check-in")
	return _by_csm(
		frappe.qb.from_(checkin)
		.join(customer)
		.on(customer.name == checkin.customer)
		.select(customer.cs_owner, Count("*"))
		.where(
			in_scope
			& (checkin.status == "Due")
			& (checkin.docstatus == 0)
			& (checkin.due_date < today)
			# a Closed plan's check-in is history, not work to do (as the Check-ins Due card: tester K3)
			& (checkin.plan_status.isnull() | (checkin.plan_status != "Closed"))
		)
		.groupby(customer.cs_owner)
		.run()
	)


def overdue_alert_tasks_by_csm(scope, in_scope, today) -> dict[str, int]:
	"""{csm: open tasks of open alerts past their due date}: a book (or every book) from the tasks
	alone (`alerts.queries.overdue_tasks_per_csm`: each carries its alert's CSM and whether it is
	open); a tier or lifecycle stage joined to the alerts and customers."""
	if not (scope.tier or scope.lifecycle_stage):
		from customer_success.alerts.queries import overdue_tasks_per_csm

		return overdue_tasks_per_csm(today, scope.csm)
	return overdue_alert_tasks_joined(in_scope, today)


def overdue_alert_tasks_joined(in_scope, today) -> dict[str, int]:
	customer = frappe.qb.DocType("Customer")
	alert = frappe.qb.DocType("CS Alert")
	task = frappe.qb.DocType("CS Alert Task")
	return _by_csm(
		frappe.qb.from_(task)
		.join(alert)
		.on((alert.name == task.parent) & (task.parenttype == "CS Alert"))
		.join(customer)
		.on(customer.name == alert.customer)
		.select(customer.cs_owner, Count("*"))
		.where(
			in_scope
			& alert.status.isin(OPEN_ALERT_STATUSES)
			& (task.status == "Open")
			& (task.due_date < today)
		)
		.groupby(customer.cs_owner)
		.run()
	)


def get_chart(data: list[dict]) -> dict | None:
	if not data:
		return None
	labels = [row["csm"] or _("Not assigned") for row in data]
	return {
		"data": {
			"labels": labels,
			"datasets": [
				{"name": _("Overdue Milestones"), "values": [row["overdue_milestones"] for row in data]},
				{"name": _("Overdue Check-ins"), "values": [row["overdue_checkins"] for row in data]},
				{"name": _("Overdue Alert Tasks"), "values": [row["overdue_alert_tasks"] for row in data]},
			],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
		"colors": ["#f56565", "#ed8936", "#ecc94b"],
		"height": 260,
	}
