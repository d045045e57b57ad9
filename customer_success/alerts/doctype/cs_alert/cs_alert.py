import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, format_date, getdate, now_datetime, nowdate, strip_html

from customer_success.alerts import engine
from customer_success.alerts import service as alerts
from customer_success.utils import comparable, in_language, site_language

# What an alert is about: fixed once it is raised (a new condition is a new alert).
FIXED_FIELDS = ("customer", "rule")
# What the alert's save works out itself (from its customer, rule and tasks), whatever was sent.
DERIVED_FIELDS = (
	"title",
	"customer_name",
	"csm",
	"open_key",
	"evidence_digest",
	"progress",
	"tasks_done",
	"tasks_total",
	"opportunity_status",
)
# What a closed alert still takes: an advocacy ask's answer may come after the alert is closed.
CLOSED_EDITABLE = ("ask_type", "ask_outcome")
# What a task row carries of its alert (`set_task_book`), whatever was sent.
DERIVED_TASK_FIELDS = ("csm", "alert_open")
MAX_SNOOZE_DAYS = 365


class CSAlert(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.alerts.doctype.cs_alert_task.cs_alert_task import CSAlertTask

		ask_outcome: DF.Literal["", "Agreed", "Declined"]
		ask_type: DF.Literal["", "Reference", "Case Study", "Referral", "Review"]
		assigned_to: DF.Link | None
		auto_resolved: DF.Check
		closed_by: DF.Link | None
		closed_on: DF.Datetime | None
		csm: DF.Link | None
		customer: DF.Link
		customer_name: DF.Data | None
		dismiss_reason: DF.SmallText | None
		due_date: DF.Date | None
		evidence: DF.Code | None
		evidence_digest: DF.Data | None
		evidence_updated_on: DF.Datetime | None
		kind: DF.Literal["Risk", "Expansion", "Advocacy", "Lifecycle"]
		open_key: DF.Data | None
		opportunity: DF.Link | None
		opportunity_status: DF.Data | None
		playbook: DF.Link | None
		progress: DF.Percent
		raised_on: DF.Datetime | None
		resolution: DF.SmallText | None
		rule: DF.Link | None
		severity: DF.Literal["Low", "Medium", "High", "Critical"]
		snoozed_until: DF.Date | None
		status: DF.Literal["Open", "In Progress", "Resolved", "Dismissed"]
		summary: DF.SmallText | None
		tasks: DF.Table[CSAlertTask]
		tasks_done: DF.Int
		tasks_total: DF.Int
		title: DF.Data | None
	# end: auto-generated types

	def onload(self):
		if self.opportunity:  # as the Opportunity stands now (ERPNext converts it without hooks)
			self.opportunity_status = alerts.opportunity_outcome(self.opportunity)

	def validate(self):
		alerts.keep_rule_fields(self)
		self.validate_fixed()
		self.validate_status_change()
		self.validate_closing()
		alerts.check_ask(self)
		self.validate_snooze()
		self.set_kind_from_rule()
		self.set_title()
		self.set_people()
		self.validate_assignee()
		alerts.check_task_assignees(self)
		self.set_due_date()
		self.set_open_key()
		self.set_evidence_digest()
		if self.is_new():
			self.raised_on = self.raised_on or now_datetime()
			alerts.start_playbook(self)
		self.cancel_open_tasks_when_closed()
		self.set_progress()
		self.set_closed()
		self.set_task_book()

	def after_insert(self):
		alerts.create_task_todos(self)
		alerts.assign_alert(self)

	def on_update(self):
		if self.is_new():
			return
		if self.status in engine.CLOSED_STATUSES:
			alerts.close_todos(self, "Closed" if self.status == engine.RESOLVED else "Cancelled")
			return
		self.close_todos_of_finished_tasks()
		alerts.move_task_todos(self)
		alerts.create_task_todos(self)
		if self.has_value_changed("assigned_to"):
			alerts.move_assignment(self, (self.get_doc_before_save() or {}).get("assigned_to"))

	def validate_fixed(self):
		"""An alert's customer and rule are fixed once it is raised; a closed alert is its history:
		nothing of it changes but an advocacy ask's answer (the form hides the rest; the API too)."""
		before = None if self.is_new() else self.get_doc_before_save()
		if not before:
			return
		moved = [f for f in FIXED_FIELDS if self._changed(before, f)]
		if moved:
			frappe.throw(
				_("The {0} of alert {1} cannot be changed once it is raised: raise a new alert.").format(
					", ".join(_(self.meta.get_label(f)) for f in moved), self.name
				),
				title=_("Not Allowed"),
			)
		if before.status not in engine.CLOSED_STATUSES:
			return
		skipped = (*FIXED_FIELDS, *DERIVED_FIELDS, *CLOSED_EDITABLE)
		changed = [
			df.label
			for df in self.meta.fields
			if df.fieldname not in skipped
			and df.fieldtype not in frappe.model.no_value_fields
			and df.fieldtype not in frappe.model.table_fields
			and self._changed(before, df.fieldname)
		]
		if self.tasks_changed(before):
			changed.append(self.meta.get_label("tasks"))
		if changed:
			frappe.throw(
				_(
					"Alert {0} is {1}: its {2} cannot be changed. Raise a new alert if there is more to do."
				).format(self.name, _(before.status), ", ".join(_(label) for label in changed)),
				title=_("Alert Closed"),
			)

	def _changed(self, before, fieldname: str) -> bool:
		fieldtype = self.meta.get_field(fieldname).fieldtype
		return comparable(self.get(fieldname), fieldtype) != comparable(before.get(fieldname), fieldtype)

	def tasks_changed(self, before) -> bool:
		meta = frappe.get_meta("CS Alert Task")
		fields = [
			df
			for df in meta.fields
			if df.fieldtype not in frappe.model.no_value_fields and df.fieldname not in DERIVED_TASK_FIELDS
		]

		def rows(doc):
			return [
				(row.name, *(comparable(row.get(df.fieldname), df.fieldtype) for df in fields))
				for row in doc.get("tasks") or []
			]

		return rows(self) != rows(before)

	def validate_assignee(self):
		"""The alert's assignee works it: someone who can open it (the customer's CSM, a CS Manager).
		Checked when someone names one: the customer's CSM, as an alert is raised, is its assignee."""
		if not self.assigned_to or not (self.is_new() or self.has_value_changed("assigned_to")):
			return
		if self.assigned_to == self.csm and alerts.works_alerts(self.csm):
			return
		if not frappe.db.get_value(
			"User", {"name": self.assigned_to, "enabled": 1}
		) or not frappe.has_permission(self.doctype, "read", doc=self, user=self.assigned_to):
			frappe.throw(
				_("{0} cannot open alert {1}: assign it to the customer's CSM or a CS Manager.").format(
					frappe.bold(frappe.utils.escape_html(self.assigned_to)), self.name or _("New")
				),
				title=_("Invalid Assignee"),
			)

	def validate_status_change(self):
		before = None if self.is_new() else self.get_doc_before_save()
		old = before.status if before else None
		if old is None and self.status not in engine.OPEN_STATUSES:
			frappe.throw(
				_("A new alert is raised open (it is {0}): raise it, then resolve or dismiss it.").format(
					_(self.status)
				),
				title=_("Invalid Status"),
			)
		if not engine.transition_allowed(old, self.status):
			frappe.throw(
				_(
					"Alert {0} cannot go from {1} to {2}: a closed alert stays closed; raise a new one."
				).format(self.name, _(old or ""), _(self.status)),
				title=_("Invalid Status"),
			)

	def validate_closing(self):
		if self.status == engine.RESOLVED and not strip_html(self.resolution or "").strip():
			frappe.throw(
				_(
					"Write a Resolution Note to resolve alert {0}: what was done, or why nothing was needed."
				).format(self.name or _("New")),
				title=_("Resolution Note Required"),
			)
		if self.status == engine.DISMISSED and not strip_html(self.dismiss_reason or "").strip():
			frappe.throw(
				_(
					"Say why alert {0} is dismissed (Why Dismissed): its rule stays quiet for this customer a while."
				).format(self.name or _("New")),
				title=_("Reason Required"),
			)

	def validate_snooze(self):
		if not self.has_value_changed("snoozed_until") or not self.snoozed_until:
			return
		today = getdate(nowdate())
		if getdate(self.snoozed_until) <= today:
			frappe.throw(_("Snoozed Until must be a date after today."), title=_("Invalid Date"))
		latest = add_days(today, MAX_SNOOZE_DAYS)
		if getdate(self.snoozed_until) > latest:
			frappe.throw(
				_("An alert is snoozed for a year at most: Snoozed Until must be on or before {0}.").format(
					format_date(latest)
				),
				title=_("Invalid Date"),
			)

	def set_kind_from_rule(self):
		if self.rule:
			self.kind = frappe.db.get_value(alerts.RULE, self.rule, "kind") or self.kind
		if not self.kind:
			frappe.throw(_("Choose the alert's Kind (Risk, Expansion, Advocacy or Lifecycle)."))

	def set_title(self):
		"""In the site's language whoever saves it (a CSM's Start Work wrote her own, with the rule's
		name untranslated), as the pass writes it."""
		with in_language(site_language()):
			self.title = alerts.alert_title(self.rule or self.kind, self.customer_name or self.customer)

	def set_people(self):
		people = frappe.db.get_value("Customer", self.customer, ["cs_owner"], as_dict=True) or {}
		self.csm = people.get("cs_owner")
		if not self.assigned_to:
			self.assigned_to = self.csm if alerts.works_alerts(self.csm) else alerts.any_cs_manager()

	def set_due_date(self):
		if not self.due_date:
			settings = alerts.alert_settings()
			self.due_date = engine.due_date(self.severity, getdate(nowdate()), settings["due_days"])

	def set_evidence_digest(self):
		self.evidence_digest = alerts.digest(self.evidence) if self.evidence else None

	def set_open_key(self):
		# The unique index refuses a second open alert for the same customer and rule, whoever races.
		is_open = self.status in engine.OPEN_STATUSES and self.rule
		self.open_key = engine.open_key(self.customer, self.rule) if is_open else None

	def cancel_open_tasks_when_closed(self):
		"""A closed alert's tasks still open are no longer to do (their ToDos close with it)."""
		if self.status in engine.CLOSED_STATUSES:
			for task in self.tasks:
				if task.status == "Open":
					task.status = "Cancelled"

	def set_progress(self):
		self.tasks_done, self.tasks_total, self.progress = engine.progress([t.as_dict() for t in self.tasks])

	def set_closed(self):
		if self.status in engine.CLOSED_STATUSES and not self.closed_on:
			self.closed_on = now_datetime()
			self.closed_by = frappe.session.user
		elif self.status in engine.OPEN_STATUSES:
			self.closed_on = self.closed_by = None

	def set_task_book(self):
		"""Each task carries its alert's CSM and whether the alert is open: the CSM Workload counts a
		book's overdue tasks from the tasks alone (alerts.queries.overdue_tasks_per_csm)."""
		alert_open = int(self.status in engine.OPEN_STATUSES)
		for task in self.tasks:
			task.csm, task.alert_open = self.csm, alert_open

	def close_todos_of_finished_tasks(self):
		for task in self.tasks:
			if task.todo and task.status in ("Done", "Cancelled"):
				if frappe.db.get_value("ToDo", task.todo, "status") == "Open":
					todo = frappe.get_doc("ToDo", task.todo)
					todo.status = "Closed" if task.status == "Done" else "Cancelled"
					todo.save(ignore_permissions=True)
