import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, getdate, nowdate

from customer_success.success_plans import engine
from customer_success.success_plans import service as plans
from customer_success.utils import date_argument, linked_to_customer, stored_title

NUMBER_FIELDTYPES = ("Int", "Float", "Percent", "Currency", "Check")

DATE_PROBLEMS = {
	"missing_start": "Start Date is required.",
	"end_before_start": "End Date ({1}) is before Start Date ({0}); set an End Date on or after the Start Date.",
}
MAX_PLAN_DAYS = engine.MAX_PLAN_DAYS
OBJECTIVE_PROBLEMS = {
	"target_equals_baseline": "Objectives row {0} ({1}): Target equals Baseline ({2}); set a Target that differs from the Baseline.",
	"target_below_baseline": "Objectives row {0} ({1}): the metric should go up but the Target is below the Baseline; raise the Target or set Direction to Down.",
	"target_above_baseline": "Objectives row {0} ({1}): the metric should go down but the Target is above the Baseline; lower the Target or set Direction to Up.",
	"missing": "Objectives row {0} ({1}): set both Baseline and Target.",
}


class SuccessPlan(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.success_plans.doctype.success_plan_objective.success_plan_objective import (
			SuccessPlanObjective,
		)

		agreed_by: DF.Link | None
		agreed_on: DF.Date | None
		csm: DF.Link | None
		customer: DF.Link
		customer_name: DF.Data | None
		end_date: DF.Date | None
		last_checkin_date: DF.Date | None
		milestones_done: DF.Int
		milestones_overdue: DF.Int
		milestones_total: DF.Int
		motivation: DF.TextEditor | None
		naming_series: DF.Literal["CS-SP-.YYYY.-"]
		next_checkin_due: DF.Date | None
		objectives: DF.Table[SuccessPlanObjective]
		pain_points: DF.TextEditor | None
		progress: DF.Percent
		sales_handoff: DF.Link | None
		share_with_customer: DF.Check
		start_date: DF.Date
		status: DF.Literal["Draft", "Agreed with Customer", "Active", "Achieved", "At Risk", "Closed"]
		success_definition: DF.TextEditor | None
		template: DF.Link | None
		time_to_first_value: DF.Int
		title: DF.Data | None
	# end: auto-generated types

	def before_insert(self):
		self.apply_template()

	def validate(self):
		self.set_title()
		self.validate_customer_change()
		plans.check_plan_csm(self)
		self.validate_dates()
		self.validate_status_change()
		plans.check_closed_plan_kept(self)
		self.validate_agreement()
		plans.set_metric_kinds(self.objectives)
		plans.check_metric_values(self, ("baseline", "target", "current"))
		self.validate_objectives()
		self.set_objective_progress()
		self.set_next_checkin_due()
		self.set_numbers()

	def after_insert(self):
		if self.template and not self.flags.skip_template_milestones:
			plans.make_milestones_from_template(self, frappe.get_cached_doc(plans.TEMPLATE, self.template))

	def on_update(self):
		if self.has_value_changed("status"):
			plans.sync_plan_status(self.name, self.status)
		if self.status == engine.CLOSED and self.has_value_changed("status"):
			plans.cancel_milestone_todos(self.name)

	def before_print(self, settings=None):
		plans.check_customer_print_format(self)

	def onload(self):
		self.set_onload("allowed_statuses", engine.allowed_next_statuses(self.get_db_value("status")))

	def on_trash(self):
		# Milestones and open check-ins belong to the plan; completed check-ins and reviews keep it.
		for name in frappe.get_all(plans.MILESTONE, filters={"success_plan": self.name}, pluck="name"):
			frappe.delete_doc(plans.MILESTONE, name, ignore_permissions=True)
		for name in frappe.get_all(
			plans.CHECKIN, filters={"success_plan": self.name, "docstatus": 0}, pluck="name"
		):
			frappe.delete_doc(plans.CHECKIN, name, ignore_permissions=True)

	def apply_template(self):
		"""A plan created from a template starts with its objectives (milestones follow after insert)."""
		if not self.template or self.flags.template_objectives_applied:
			return
		template = frappe.get_cached_doc(plans.TEMPLATE, self.template)
		if not self.end_date:
			self.end_date = plans.default_end_date(self.start_date or nowdate(), template)
		if not self.objectives:
			for row in plans.objectives_from_template(template, self.start_date or nowdate(), self.end_date):
				self.append("objectives", row)

	def set_title(self):
		customer_name = self.customer_name or self.customer
		self.title = stored_title("{0} Success Plan", customer_name)

	def validate_customer_change(self):
		if not self.is_new() and self.has_value_changed("customer"):
			frappe.throw(_("The Customer of a success plan cannot change; create a new plan instead."))

	def validate_dates(self):
		start = getdate(self.start_date) if self.start_date else None
		end = getdate(self.end_date) if self.end_date else None
		problem = engine.plan_dates_problem(start, end)
		if problem:
			frappe.throw(
				_(DATE_PROBLEMS[problem]).format(
					frappe.format(self.start_date, {"fieldtype": "Date"}),
					frappe.format(self.end_date, {"fieldtype": "Date"}),
				),
				title=_("Invalid Dates"),
			)
		today = getdate(nowdate())
		# checked when the start is set, so a plan that began long ago can still be edited and closed
		start_changed = self.is_new() or self.has_value_changed("start_date")
		if start_changed and abs((start - today).days) > MAX_PLAN_DAYS:
			frappe.throw(
				_(
					"Start Date {0} is more than {1} days away from today; check the year and set a Start Date within {1} days of today."
				).format(frappe.format(start, {"fieldtype": "Date"}), MAX_PLAN_DAYS),
				title=_("Invalid Dates"),
			)
		if end and (end - start).days > MAX_PLAN_DAYS:
			frappe.throw(
				_(
					"End Date {0} is more than {1} days after Start Date {2}; set an End Date within {1} days of the start."
				).format(
					frappe.format(end, {"fieldtype": "Date"}),
					MAX_PLAN_DAYS,
					frappe.format(start, {"fieldtype": "Date"}),
				),
				title=_("Invalid Dates"),
			)

	def validate_status_change(self):
		old = None if self.is_new() else self.get_db_value("status")
		if not engine.plan_transition_allowed(old, self.status):
			allowed = ", ".join(_(s) for s in engine.allowed_next_statuses(old)) or _("none")
			frappe.throw(
				_("A plan cannot move from {0} to {1}. From {0} it can move to: {2}.").format(
					_(old or "New"), _(self.status), allowed
				),
				title=_("Invalid Status"),
			)

	def validate_agreement(self):
		if self.agreed_on and getdate(self.agreed_on) > getdate(nowdate()):
			frappe.throw(
				_(
					"Agreed On {0} is in the future; record the day the customer agreed (today or earlier)."
				).format(frappe.format(self.agreed_on, {"fieldtype": "Date"})),
				title=_("Invalid Date"),
			)
		running = self.status not in (engine.DRAFT, engine.CLOSED)
		if running and (not self.agreed_on or not self.agreed_by):
			frappe.throw(
				_(
					"Set Agreed On and Agreed By (the customer contact who agreed) before the plan is {0}."
				).format(_(self.status)),
				title=_("Agreement Missing"),
			)
		# a draft's contact too, when picked (another customer's contact waited for the plan's agreement)
		if not self.agreed_by or not (running or self.is_new() or self.has_value_changed("agreed_by")):
			return
		if not linked_to_customer("Contact", self.agreed_by, self.customer):
			frappe.throw(
				_("Agreed By must be a contact of customer {0}; {1} is not linked to it.").format(
					self.customer, self.agreed_by
				)
			)

	def validate_objectives(self):
		if not engine.needs_quantified_objectives(self.status):
			return
		if not self.objectives:
			frappe.throw(_("Add at least one objective before the plan is {0}.").format(_(self.status)))
		# Metric and owner are asked for when the plan is agreed (or moves on), and kept after: a
		# row stored without them by an earlier version (metric and owner were optional) does not
		# hold up a later save of the plan (a check-in's write-back); it is asked for at the next
		# status change.
		legacy_rows = set()
		if not self.is_new() and not self.has_value_changed("status"):
			legacy_rows = {
				row.name
				for row in frappe.get_all(
					"Success Plan Objective",
					filters={"parent": self.name, "parenttype": self.doctype},
					fields=["name", "metric", "owner_user", "owner_role"],
				)
				if not (row.metric or "").strip() or not (row.owner_user or row.owner_role)
			}
		for row in self.objectives:
			problem = engine.objective_problem(row.baseline, row.target, row.direction)
			if problem:
				frappe.throw(
					_(OBJECTIVE_PROBLEMS[problem]).format(row.idx, row.objective, row.baseline),
					title=_("Objective Cannot Be Measured"),
				)
			if row.name in legacy_rows:
				continue
			if not (row.metric or "").strip():
				frappe.throw(
					_(
						"Objectives row {0} ({1}): set the Metric it is measured by before the plan is {2}."
					).format(row.idx, row.objective, _(self.status)),
					title=_("Objective Cannot Be Measured"),
				)
			if not row.owner_user and not row.owner_role:
				frappe.throw(
					_(
						"Objectives row {0} ({1}): set its Owner (a user or a role) before the plan is {2}."
					).format(row.idx, row.objective, _(self.status)),
					title=_("Objective Without Owner"),
				)

	def set_objective_progress(self):
		today = getdate(nowdate())
		start = getdate(self.start_date) if self.start_date else None
		for row in self.objectives:
			if engine.objective_problem(
				row.baseline, row.target, row.direction
			) == "target_equals_baseline" and (self.status == engine.DRAFT):
				# a Draft row not quantified yet shows no progress rather than a misleading 100%
				row.progress = 0
				row.status = engine.OBJ_NOT_STARTED
				continue
			progress = engine.objective_progress(row.baseline, row.target, row.current, row.direction)
			row.progress = progress or 0
			due = (
				getdate(row.due_date) if row.due_date else (getdate(self.end_date) if self.end_date else None)
			)
			row.status = engine.objective_status(progress, start, due, today)
		self.progress = (
			engine.plan_progress(
				[
					{
						"baseline": r.baseline,
						"target": r.target,
						"current": r.current,
						"direction": r.direction,
						"weight": r.weight,
					}
					for r in self.objectives
					if not engine.objective_problem(r.baseline, r.target, r.direction)
				]
			)
			or 0
		)

	def set_numbers(self):
		"""Numbers the database keeps as 0 are 0 here too: a None left in memory after an insert reads
		as a change ("Milestones from 0 to null") in the version log at the next save."""
		for row in self.objectives:
			if row.weight is None:
				row.weight = 1.0  # the field's default: an unset weight counts as 1
		for doc in (self, *self.objectives):
			for df in doc.meta.fields:
				if df.fieldtype in NUMBER_FIELDTYPES and doc.get(df.fieldname) is None:
					doc.set(df.fieldname, 0)

	def set_next_checkin_due(self):
		if self.status not in engine.CHECKIN_PLAN_STATUSES or not self.start_date:
			self.next_checkin_due = None
			return
		cadence = int(frappe.db.get_single_value("Customer Success Settings", "checkin_cadence_days") or 90)
		self.next_checkin_due = getdate(add_days(self.last_checkin_date or self.start_date, cadence))

	@frappe.whitelist(methods=["POST"])
	def make_checkin(self) -> str:
		"""Start a check-in now (the scheduler also raises one every cadence period); one already
		open for the plan is the one to fill in, not a second."""
		self.check_permission("write")
		plans.check_plan_takes_checkins(self.name)
		open_one = frappe.db.get_value(
			plans.CHECKIN, {"success_plan": self.name, "docstatus": 0}, "name", order_by="creation desc"
		)
		if open_one:
			return open_one
		checkin = frappe.get_doc({"doctype": plans.CHECKIN, "success_plan": self.name, "csm": self.csm})
		checkin.insert()
		return checkin.name

	@frappe.whitelist(methods=["POST"])
	def make_business_review(self, period_start: str | None = None, period_end: str | None = None) -> str:
		self.check_permission("read")
		end = date_argument(period_end, _("Period End")) or getdate(nowdate())
		start = date_argument(period_start, _("Period Start")) or getdate(add_days(end, -90))
		review = frappe.get_doc(
			{
				"doctype": "Business Review",
				"customer": self.customer,
				"success_plan": self.name,
				"csm": self.csm,
				"period_start": max(start, getdate(self.start_date)),
				"period_end": end,
			}
		)
		review.insert()
		return review.name
