import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import escape_html, getdate, nowdate

from customer_success.success_plans import engine
from customer_success.success_plans import service as plans
from customer_success.utils import assign, end_assignments

DUE_PROBLEMS = {
	"missing": "Set a Due Date.",
	"before_plan_start": "Due Date {0} is before the plan starts ({1}); set a Due Date inside the plan ({1} to {2}).",
	"after_plan_end": "Due Date {0} is after the plan ends ({2}); set a Due Date inside the plan ({1} to {2}) or extend the plan.",
}


class SuccessPlanMilestone(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		assigned_to: DF.Link | None
		completed_on: DF.Date | None
		completion_trigger: DF.Literal[
			"",
			"Delivery Note Submitted",
			"Project Completed",
			"First Invoice Paid",
			"Open Issues Below Threshold",
		]
		customer: DF.Link | None
		days_to_value: DF.Int
		description: DF.SmallText | None
		due_date: DF.Date
		evidence: DF.TextEditor | None
		is_value_milestone: DF.Check
		naming_series: DF.Literal["CS-SPM-.YYYY.-"]
		owner_role: DF.Literal[
			"", "CSM", "Customer Sponsor", "Customer Admin", "Implementation", "Support", "Account Executive"
		]
		plan_start: DF.Date | None
		reminded_for_due_date: DF.Date | None
		status: DF.Literal["Not Started", "In Progress", "Done", "Overdue", "Skipped"]
		success_plan: DF.Link
		title: DF.Data
		trigger_threshold: DF.Int
		triggered_by: DF.DynamicLink | None
		triggered_by_doctype: DF.Link | None
	# end: auto-generated types

	def validate(self):
		plans.require_plan(self)
		plan = frappe.db.get_value(
			plans.PLAN,
			self.success_plan,
			["name", "customer", "csm", "start_date", "end_date", "status"],
			as_dict=True,
		)
		plans.check_milestone_of_closed_plan(self, plan)
		self.customer = plan.customer
		self.plan_start = plan.start_date
		self.assigned_to = self.assigned_to or plans.plan_csm(plan)
		self.validate_assignee()
		self.validate_due_date(plan)
		self.set_status()
		self.validate_completed_on(plan)
		self.set_days_to_value()

	def validate_assignee(self):
		"""The owner gets the milestone as a ToDo, and frappe shares the milestone with an owner who
		cannot read it: so the owner is an enabled colleague (a desk user) or a contact of this
		customer with a portal login, never someone else's contact."""
		if not self.assigned_to or not self.has_value_changed("assigned_to"):
			return
		from customer_success.success_plans.queries import portal_customers

		user = frappe.db.get_value("User", self.assigned_to, ["enabled", "user_type"], as_dict=True)
		if not user or not user.enabled:
			frappe.throw(
				_("Assigned To: {0} is not an enabled user.").format(
					frappe.bold(escape_html(self.assigned_to))
				),
				title=_("Invalid Owner"),
			)
		if user.user_type != "System User" and self.customer not in portal_customers(self.assigned_to):
			frappe.throw(
				_(
					"Assigned To: {0} is a website user but no contact of customer {1}; assign the milestone to a colleague or to one of the customer's own contacts."
				).format(frappe.bold(escape_html(self.assigned_to)), frappe.bold(escape_html(self.customer))),
				title=_("Invalid Owner"),
			)

	def validate_due_date(self, plan):
		due = getdate(self.due_date) if self.due_date else None
		start = getdate(plan.start_date) if plan.start_date else None
		end = getdate(plan.end_date) if plan.end_date else None
		problem = engine.milestone_due_problem(due, start, end)
		if problem:
			frappe.throw(
				_(DUE_PROBLEMS[problem]).format(
					frappe.format(self.due_date, {"fieldtype": "Date"}),
					frappe.format(plan.start_date, {"fieldtype": "Date"}),
					frappe.format(plan.end_date, {"fieldtype": "Date"}) if plan.end_date else _("open"),
				),
				title=_("Milestone Outside Plan"),
			)

	def set_status(self):
		today = getdate(nowdate())
		self.status = engine.milestone_state(self.status, getdate(self.due_date), today)
		if self.status == engine.DONE:
			self.completed_on = self.completed_on or today
		else:
			self.completed_on = None

	def validate_completed_on(self, plan):
		if self.status != engine.DONE:
			return
		if getdate(self.completed_on) > getdate(nowdate()):
			frappe.throw(
				_("Completed On {0} is in the future; a milestone is done on or before today.").format(
					frappe.format(self.completed_on, {"fieldtype": "Date"})
				),
				title=_("Invalid Completion Date"),
			)
		if not plan.start_date:
			return
		if getdate(self.completed_on) < getdate(plan.start_date):
			frappe.throw(
				_(
					"Completed On {0} is before the plan started ({1}); set a Completed On date on or after the plan's Start Date."
				).format(
					frappe.format(self.completed_on, {"fieldtype": "Date"}),
					frappe.format(plan.start_date, {"fieldtype": "Date"}),
				),
				title=_("Invalid Completion Date"),
			)

	def set_days_to_value(self):
		if self.status == engine.DONE and self.is_value_milestone:
			self.days_to_value = (
				engine.days_to_value(getdate(self.plan_start), getdate(self.completed_on)) or 0
			)
		else:
			self.days_to_value = 0

	def on_update(self):
		self.assign_owner()
		self.close_assignments_when_finished()
		if not self.flags.skip_plan_summary:
			plans.refresh_plan_summaries([self.success_plan])

	def on_trash(self):
		self.flags.deleted_plan = self.success_plan

	def after_delete(self):
		plans.refresh_plan_summaries([self.flags.deleted_plan or self.success_plan])

	def close_assignments_when_finished(self):
		if self.status in engine.CLOSED_MILESTONE_STATES and self.has_value_changed("status"):
			end_assignments(self.doctype, self.name)  # the owner stays the owner

	def assign_owner(self):
		"""A new owner gets the milestone as a ToDo (Settings: Create ToDos); the previous owner's
		open ToDo on it is cancelled (the milestone is no longer theirs)."""
		if not self.has_value_changed("assigned_to"):
			return
		before = self.get_doc_before_save()
		if before and before.assigned_to and before.assigned_to != self.assigned_to:
			end_assignments(self.doctype, self.name, "Cancelled", users=[before.assigned_to])
		if not self.assigned_to:
			return
		if self.status in engine.CLOSED_MILESTONE_STATES:
			return
		if not frappe.db.get_single_value("Customer Success Settings", "create_todos"):
			return
		assign(
			self.doctype,
			self.name,
			self.assigned_to,
			_("Milestone {0} of {1}, due {2}").format(
				self.title, self.customer, frappe.format(self.due_date, {"fieldtype": "Date"})
			),
			date=self.due_date,
		)
