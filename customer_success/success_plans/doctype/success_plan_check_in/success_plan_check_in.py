from datetime import date

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.query_builder.functions import Max
from frappe.utils import flt, getdate, nowdate

from customer_success.success_plans import engine
from customer_success.success_plans import service as plans

# What a CSM records on a check-in row (kept when a row taken out comes back).
CHECKIN_ROW_RECORDED = ("previous_value", "current_value", "miss_reason", "teams_using", "how_used")
# A check-in row's fields that say what it reviews, as its objective on the plan has them.
CHECKIN_ROW_FROM_PLAN = (
	"objective",
	"unit",
	"metric_kind",
	"unit_singular",
	"direction",
	"baseline",
	"target",
)


class SuccessPlanCheckin(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.success_plans.doctype.success_plan_check_in_objective.success_plan_check_in_objective import (
			SuccessPlanCheckinObjective,
		)

		amended_from: DF.Link | None
		checkin_date: DF.Date
		csm: DF.Link | None
		customer: DF.Link | None
		due_date: DF.Date | None
		naming_series: DF.Literal["CS-SPC-.YYYY.-"]
		notes: DF.TextEditor | None
		objectives: DF.Table[SuccessPlanCheckinObjective]
		status: DF.Literal["Due", "Completed", "Cancelled"]
		success_plan: DF.Link
	# end: auto-generated types

	def onload(self):
		# the form offers no Submit or Cancel on a Closed plan's check-in (the server refuses both)
		if self.success_plan:
			self.set_onload("plan_closed", plans.plan_is_closed(self.success_plan))

	def before_insert(self):
		plans.require_plan(self)
		plans.check_plan_takes_checkins(self.success_plan)
		plan = frappe.get_doc(plans.PLAN, self.success_plan)
		self.csm = self.csm or plan.csm
		self.due_date = self.due_date or nowdate()
		if not self.objectives:
			for row in plans.checkin_rows_from_plan(plan):
				self.append("objectives", row)

	def validate(self):
		plans.require_plan(self)
		plan = frappe.get_doc(plans.PLAN, self.success_plan)  # read once, for every check below
		self.customer = plan.customer
		self.status = {0: "Due", 1: "Completed", 2: "Cancelled"}[self.docstatus]
		self.validate_plan_kept()
		self.validate_checkin_date(plan)
		self.set_csm(plan)
		self.take_rows_from_plan(plan)
		plans.set_metric_kinds(self.objectives)
		plans.check_metric_values(self, ("current_value",))
		self.set_progress(plan)

	def set_csm(self, plan):
		"""The check-in's CSM: the plan's, else the customer's CS Owner. One set is kept when it is one of
		those two, or when a CS Manager named it; a CSM cannot put another user's name on it."""
		from customer_success.permissions import sees_all

		plan_csm = plan.csm
		owner = frappe.db.get_value("Customer", self.customer, "cs_owner") if self.customer else None
		if self.csm and (self.csm in (plan_csm, owner) or sees_all()):
			return
		self.csm = plan_csm or owner

	def take_rows_from_plan(self, plan):
		"""What each row reviews comes from its objective on the plan (objective, unit, direction,
		baseline, target), never from what was sent: a CSM records the current value and why a
		target was missed. A row's previous value is the plan's value when the row was made. A row
		whose objective has since left the plan keeps what it stored; a new one must be the plan's."""
		on_plan = {row.name: row for row in plan.objectives}
		before = None if self.is_new() else self.get_doc_before_save()
		stored = {row.name: row for row in (before.objectives if before else [])}
		seen = set()
		for row in self.objectives:
			old = stored.get(row.name)
			if old is not None and old.plan_objective != row.plan_objective:
				row.plan_objective = old.plan_objective  # a row stays the review of its objective
			if row.plan_objective in seen:
				frappe.throw(
					_("Objectives row {0} ({1}) is listed twice: record each objective once.").format(
						row.idx, getattr(on_plan.get(row.plan_objective), "objective", None) or row.objective
					),
					title=_("Duplicate Objective"),
				)
			seen.add(row.plan_objective)
			source = on_plan.get(row.plan_objective)
			if source is None and old is None:
				frappe.throw(
					_("Objectives row {0} ({1}) is not an objective of Success Plan {2}.").format(
						row.idx, row.objective or row.plan_objective or "-", self.success_plan
					),
					title=_("Unknown Objective"),
				)
			definition = source if source is not None else old
			for fieldname in CHECKIN_ROW_FROM_PLAN:
				row.set(fieldname, definition.get(fieldname))
			row.previous_value = old.previous_value if old is not None else source.current
		# Every objective of the plan is reviewed: a row taken out (the grid lets one delete rows) comes
		# back, with what it stored, so a missed target still asks for its why.
		kept_rows = {row.plan_objective: row for row in stored.values()}
		for objective in plan.objectives:
			if objective.name in seen:
				continue
			old = kept_rows.get(objective.name)
			row = plans.checkin_rows_from_plan_row(objective)
			if old is not None:
				row.update({field: old.get(field) for field in CHECKIN_ROW_RECORDED})
			self.append("objectives", row)

	def validate_plan_kept(self):
		"""A check-in reviews one plan: it cannot be moved to another (its rows are that plan's)."""
		if self.is_new():
			return
		before = self.get_doc_before_save()
		if before is not None and before.success_plan != self.success_plan:
			frappe.throw(
				_(
					"Check-in {0} reviews Success Plan {1}: it cannot move to another plan. Make a new check-in for {2}."
				).format(self.name, before.success_plan, self.success_plan),
				title=_("Not Allowed"),
			)

	def validate_checkin_date(self, plan):
		"""A check-in records a review that took place: it cannot be dated in the future, nor before its
		plan started (a date stored earlier holds up no later save)."""
		before = None if self.is_new() else self.get_doc_before_save()
		changed = before is None or str(before.checkin_date or "") != str(self.checkin_date or "")
		start = plan.start_date
		if changed and self.checkin_date and start and getdate(self.checkin_date) < getdate(start):
			frappe.throw(
				_("Check-in Date {0} is before Success Plan {1} started ({2}).").format(
					frappe.format(self.checkin_date, {"fieldtype": "Date"}),
					self.success_plan,
					frappe.format(start, {"fieldtype": "Date"}),
				),
				title=_("Invalid Check-in Date"),
			)
		if self.checkin_date and getdate(self.checkin_date) > getdate(nowdate()):
			frappe.throw(
				_(
					"Check-in Date {0} is in the future; record the check-in on the day it takes place (today or earlier). Use Due Date to plan it."
				).format(frappe.format(self.checkin_date, {"fieldtype": "Date"})),
				title=_("Invalid Check-in Date"),
			)

	def set_progress(self, plan):
		due_by_row = {row.name: row.due_date for row in plan.objectives}
		on = getdate(self.checkin_date or nowdate())
		start = getdate(plan.start_date)
		for row in self.objectives:
			if row.current_value is None or row.current_value == "":
				# a value left empty is no change: the value the row started from (stored as 0,
				# it read as no data here and as 0 on the plan: a falling metric went Achieved)
				row.current_value = row.previous_value
			progress = engine.objective_progress(row.baseline, row.target, row.current_value, row.direction)
			row.progress = progress or 0
			due = due_by_row.get(row.plan_objective) or plan.end_date
			row.status = engine.objective_status(progress, start, getdate(due) if due else None, on)

	def before_submit(self):
		plans.check_plan_takes_checkins(self.success_plan)
		self.validate_reasons()

	def before_cancel(self):
		plans.check_plan_takes_checkins(self.success_plan)

	def validate_reasons(self):
		"""A missed or lagging target needs its why: installed? which teams use it? how?"""
		for row in self.objectives:
			if engine.target_missed(row.status) and not row.miss_reason:
				frappe.throw(
					_(
						"Objectives row {0} ({1}) is {2}: set Why Missed (and which teams use it and how) before completing the check-in."
					).format(row.idx, row.objective, _(row.status)),
					title=_("Reason Missing"),
				)

	def on_submit(self):
		"""The plan takes the values of its latest review by date: this one's, unless a check-in dated
		later was submitted before (a review recorded after the fact is history, not the present)."""
		from customer_success.success_plans.queries import objective_values_at

		plan = frappe.get_doc(plans.PLAN, self.success_plan)
		values = {row.plan_objective: row.current_value for row in self.objectives if row.plan_objective}
		latest = objective_values_at(plan.name, date.max) if values else {}
		for row in plan.objectives:
			if row.name in values:
				row.current = latest.get(row.name, values[row.name])
		if not plan.last_checkin_date or getdate(self.checkin_date) > getdate(plan.last_checkin_date):
			plan.last_checkin_date = self.checkin_date
		plan.flags.ignore_permissions = True  # the check-in's own permission was checked
		plan.save()

	def on_cancel(self):
		self.db_set("status", "Cancelled")
		checkin = frappe.qb.DocType(plans.CHECKIN)
		last = (
			frappe.qb.from_(checkin)
			.select(Max(checkin.checkin_date))
			.where((checkin.success_plan == self.success_plan) & (checkin.docstatus == 1))
			.run()[0][0]
		)
		plan = frappe.get_doc(plans.PLAN, self.success_plan)
		plan.last_checkin_date = last
		self.take_back_values(plan)
		plan.flags.ignore_permissions = True
		plan.save()

	def take_back_values(self, plan):
		"""The values this check-in wrote onto the plan go back to what the plan's other submitted
		check-ins recorded last (else to what this one started from), so the plan, its progress and
		what the customer sees no longer show a cancelled review. A value edited on the plan since
		(it no longer is this check-in's) is left as it is."""
		from customer_success.success_plans.queries import objective_values_at

		written = {row.plan_objective: row for row in self.objectives if row.plan_objective}
		if not written:
			return
		remaining = objective_values_at(plan.name, date.max)
		for objective in plan.objectives:
			row = written.get(objective.name)
			if row is None or flt(objective.current) != flt(row.current_value):
				continue
			objective.current = remaining.get(objective.name, row.previous_value)
