from datetime import datetime, time

import erpnext
import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import getdate, now_datetime, nowdate

from customer_success.constants import HEALTH_STATUSES
from customer_success.success_plans import engine, queries
from customer_success.utils import stored_title

NO_COLOUR = HEALTH_STATUSES[-1]  # Insufficient Data: no score to show

# The figures `take_snapshot` sets (besides the objectives table): the app's, never a user's.
SNAPSHOT_FIELDS = (
	"snapshot_on",
	"currency",
	"plan_progress",
	"milestones_total",
	"milestones_done",
	"milestones_overdue",
	"milestone_completion",
	"health_start",
	"health_start_status",
	"health_end",
	"health_trend",
	"health_status",
	"issues_opened",
	"issues_closed",
	"sla_failed",
	"open_issues_at_end",
	"invoiced",
	"overdue_outstanding",
)


class BusinessReview(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.success_plans.doctype.business_review_objective.business_review_objective import (
			BusinessReviewObjective,
		)

		csm: DF.Link | None
		currency: DF.Link | None
		customer: DF.Link
		customer_name: DF.Data | None
		health_end: DF.Float
		health_start: DF.Float
		health_status: DF.Literal["", "Green", "Yellow", "Red", "Insufficient Data"]
		health_trend: DF.Float
		highlights: DF.TextEditor | None
		invoiced: DF.Currency
		issues_closed: DF.Int
		issues_opened: DF.Int
		milestone_completion: DF.Percent
		milestones_done: DF.Int
		milestones_overdue: DF.Int
		milestones_total: DF.Int
		naming_series: DF.Literal["CS-QBR-.YYYY.-"]
		next_steps: DF.TextEditor | None
		objectives: DF.Table[BusinessReviewObjective]
		open_issues_at_end: DF.Int
		overdue_outstanding: DF.Currency
		period_end: DF.Date
		period_start: DF.Date
		plan_progress: DF.Percent
		sla_failed: DF.Int
		snapshot_on: DF.Datetime | None
		status: DF.Literal["Draft", "Shared with Customer"]
		success_plan: DF.Link | None
		title: DF.Data | None
	# end: auto-generated types

	def before_insert(self):
		self.take_snapshot()

	def validate(self):
		self.validate_period()
		self.validate_plan()
		if not self.is_new():
			self.keep_or_retake_snapshot()
		self.set_csm()
		customer_name = frappe.db.get_value("Customer", self.customer, "customer_name") or self.customer
		self.title = stored_title(
			"{0} Business Review {1} to {2}",
			customer_name,
			frappe.format(self.period_start, {"fieldtype": "Date"}),
			frappe.format(self.period_end, {"fieldtype": "Date"}),
		)

	def validate_period(self):
		missing = [
			_(self.meta.get_label(field)) for field in ("period_start", "period_end") if not self.get(field)
		]
		if missing:  # (an empty date read as today, and the message compared it with an empty one)
			frappe.throw(
				_("Set the review's {0}.").format(
					missing[0] if len(missing) == 1 else _("{0} and {1}").format(*missing)
				),
				frappe.MandatoryError,
				title=_("Missing Value"),
			)
		if getdate(self.period_end) < getdate(self.period_start):
			frappe.throw(
				_(
					"Period End ({0}) is before Period Start ({1}); set a Period End on or after the start."
				).format(
					frappe.format(self.period_end, {"fieldtype": "Date"}),
					frappe.format(self.period_start, {"fieldtype": "Date"}),
				),
				title=_("Invalid Period"),
			)
		# its figures are taken when it is made: a period still running would show today's under a
		# later date (checked when the end is set; one stored earlier holds no save up)
		before = None if self.is_new() else self.get_doc_before_save()
		end_changed = before is None or getdate(before.period_end) != getdate(self.period_end)
		if end_changed and getdate(self.period_end) > getdate(nowdate()):
			frappe.throw(
				_(
					"Period End {0} is after today: a business review looks back on a period that has ended. Set a Period End of today or earlier."
				).format(frappe.format(self.period_end, {"fieldtype": "Date"})),
				title=_("Invalid Period"),
			)

	def keep_or_retake_snapshot(self):
		"""The snapshot is the period's figures of the review's customer and plan, taken by the app:
		another customer, plan or period takes it again (and the CSM of the new customer or plan);
		otherwise a save keeps the figures as taken, whatever was sent for them (they are read-only
		in the form; an API call cannot write them either). `refresh_snapshot` takes it again."""
		before = self.get_doc_before_save()
		if not before or self.flags.cs_snapshot_taken:
			return
		if before.customer != self.customer or before.success_plan != self.success_plan:
			self.csm = None
		if (
			before.customer != self.customer
			or before.success_plan != self.success_plan
			or getdate(before.period_start) != getdate(self.period_start)
			or getdate(before.period_end) != getdate(self.period_end)
		):
			self.take_snapshot()
			return
		for fieldname in SNAPSHOT_FIELDS:
			self.set(fieldname, before.get(fieldname))
		self.set("objectives", [row.as_dict() for row in before.objectives])

	def set_csm(self):
		"""The review's CSM: the plan's, else the customer's CS Owner. One set is kept when it is one of
		those two, or when a CS Manager named it; a CSM cannot put another CSM's name on it."""
		from customer_success.permissions import sees_all

		plan_csm = (
			frappe.db.get_value("Success Plan", self.success_plan, "csm") if self.success_plan else None
		)
		owner = frappe.db.get_value("Customer", self.customer, "cs_owner")
		if self.csm and (self.csm in (plan_csm, owner) or sees_all()):
			return
		self.csm = plan_csm or owner

	def validate_plan(self):
		if self.success_plan:
			plan_customer = frappe.db.get_value("Success Plan", self.success_plan, "customer")
			if plan_customer != self.customer:
				frappe.throw(
					_("Success Plan {0} belongs to {1}, not {2}; pick a plan of this customer.").format(
						self.success_plan, plan_customer, self.customer
					)
				)
		elif not self.success_plan:
			self.success_plan = queries.plan_running_in(
				self.customer, getdate(self.period_start), getdate(self.period_end)
			)

	def take_snapshot(self):
		"""Freeze the period's numbers: objectives, milestones, health, support and billing."""
		self.validate_period()
		self.validate_plan()
		start, end = getdate(self.period_start), getdate(self.period_end)
		self.set_objectives_snapshot(end)
		self.set_milestone_snapshot(end)
		self.set_health_snapshot(start, end)
		issues = queries.issue_summary(self.customer, start, end)
		self.issues_opened = issues["opened"]
		self.issues_closed = issues["closed"]
		self.sla_failed = issues["sla_failed"]
		self.open_issues_at_end = issues["open_at_end"]
		billing = queries.billing_summary(self.customer, start, end)
		self.invoiced = billing["invoiced"]
		self.overdue_outstanding = billing["overdue_outstanding"]
		company = erpnext.get_default_company()
		self.currency = frappe.get_cached_value("Company", company, "default_currency") if company else None
		self.snapshot_on = now_datetime()
		self.flags.cs_snapshot_taken = True

	def set_objectives_snapshot(self, end):
		self.set("objectives", [])
		self.plan_progress = 0
		if not self.success_plan:
			return
		plan = frappe.get_doc("Success Plan", self.success_plan)
		start = getdate(plan.start_date)
		if started_after(plan.start_date, end):
			return  # the plan had not begun by the period's end: no objective of it to show
		# a period that ended before today shows each objective as it was then: its figures as the
		# plan's saves had left them (an objective added since left out, one removed since back),
		# its current value as the check-ins had it, else as those saves had; before, a review of a
		# past period showed today's values
		ended = end < getdate(nowdate())
		checked = queries.objective_values_at(plan.name, end) if ended else {}
		rows = queries.objective_rows_at(plan, datetime.combine(end, time.max)) if ended else plan.objectives
		measured = []
		for row in rows:
			current = checked.get(row.name, row.current)
			progress = engine.objective_progress(row.baseline, row.target, current, row.direction)
			if not engine.objective_problem(row.baseline, row.target, row.direction):
				measured.append(
					{
						"baseline": row.baseline,
						"target": row.target,
						"current": current,
						"direction": row.direction,
						"weight": row.weight,
					}
				)
			due = row.due_date or plan.end_date
			self.append(
				"objectives",
				{
					"objective": row.objective,
					"metric": row.metric,
					"unit": row.unit,
					"metric_kind": row.metric_kind,
					"unit_singular": row.unit_singular,
					"direction": row.direction,
					"baseline": row.baseline,
					"current": current,
					"target": row.target,
					"progress": progress or 0,
					"status": engine.objective_status(progress, start, getdate(due) if due else None, end),
				},
			)
		# the plan's progress as the plan works it out, from the values shown (the period end's)
		self.plan_progress = engine.plan_progress(measured) or 0

	def set_milestone_snapshot(self, end):
		plan_start = (
			frappe.db.get_value("Success Plan", self.success_plan, "start_date")
			if self.success_plan
			else None
		)
		counts = (
			queries.milestone_counts(self.success_plan, end)
			if self.success_plan and not started_after(plan_start, end)
			else {}
		)
		self.milestones_total = counts.get("total", 0)
		self.milestones_done = counts.get("done", 0)
		self.milestones_overdue = counts.get("overdue", 0)
		total = self.milestones_total
		self.milestone_completion = round(100.0 * self.milestones_done / total, 2) if total else 0

	def set_health_snapshot(self, start, end):
		def has_score(status):
			return bool(status) and status != NO_COLOUR

		at_start = queries.health_at(self.customer, start)
		at_end = queries.health_at(self.customer, end)
		# a day with no score (or no colour) has no health to show: its status stays empty and the
		# form and print show a dash, never a 0 that reads as the worst health
		start_score = at_start.score if at_start and has_score(at_start.status) else None
		end_score = at_end.score if at_end and has_score(at_end.status) else None
		self.health_start = start_score or 0
		self.health_end = end_score or 0
		self.health_start_status = at_start.status if at_start else ""
		self.health_status = at_end.status if at_end else ""
		self.health_trend = engine.health_trend(start_score, end_score) or 0

	def on_update(self):
		self.flags.cs_snapshot_taken = False

	@frappe.whitelist(methods=["POST"])
	def refresh_snapshot(self):
		self.check_permission("write")
		self.take_snapshot()
		self.save()


def started_after(start, end) -> bool:
	"""Whether a plan begun on `start` had not begun by `end`."""
	return bool(start) and getdate(start) > getdate(end)
