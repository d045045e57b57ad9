"""Sales Handoff: sales hands a closed deal to customer success, and the CSM accepts or returns it.

The status moves only through the actions below (Hand Over, Accept, Return), never by editing
the field. Completeness and the SLA are computed by `customer_success.handoff.engine`.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, now_datetime, strip_html

from customer_success.customer_success.doctype.customer_success_settings.customer_success_settings import (
	handoff_sla_hours,
)
from customer_success.handoff import engine, service
from customer_success.permissions import (
	can_hand_over_handoff,
	check_can_decide_handoff,
	check_can_move_customer,
	is_csm,
	sees_all,
)

DRAFT, HANDED_OVER, ACCEPTED, RETURNED = "Draft", "Handed Over", "Accepted", "Returned"
EDITABLE_BY_SALES = (DRAFT, RETURNED)


class SalesHandoff(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.handoff.doctype.sales_handoff_communication.sales_handoff_communication import (
			SalesHandoffCommunication,
		)
		from customer_success.handoff.doctype.sales_handoff_item.sales_handoff_item import SalesHandoffItem
		from customer_success.handoff.doctype.sales_handoff_problem.sales_handoff_problem import (
			SalesHandoffProblem,
		)
		from customer_success.handoff.doctype.sales_handoff_stakeholder.sales_handoff_stakeholder import (
			SalesHandoffStakeholder,
		)
		from customer_success.handoff.doctype.sales_handoff_use_case.sales_handoff_use_case import (
			SalesHandoffUseCase,
		)

		accepted_by: DF.Link | None
		accepted_on: DF.Datetime | None
		address_display: DF.SmallText | None
		anticipated_problems: DF.Table[SalesHandoffProblem]
		base_grand_total: DF.Currency
		cancelled_on: DF.Datetime | None
		communications: DF.Table[SalesHandoffCommunication]
		company: DF.Link | None
		completeness: DF.Percent
		contact_designation: DF.Data | None
		contact_display: DF.Data | None
		contact_email: DF.Data | None
		contact_phone: DF.Data | None
		contract: DF.Link | None
		contract_end: DF.Date | None
		contract_start: DF.Date | None
		currency: DF.Link | None
		customer: DF.Link
		customer_address: DF.Link | None
		customer_name: DF.Data | None
		discount_amount: DF.Currency
		due_by: DF.Datetime | None
		grand_total: DF.Currency
		handed_over_by: DF.Link | None
		handed_over_on: DF.Datetime | None
		hours_to_decide: DF.Float
		hours_to_hand_over: DF.Float
		implementation_plan: DF.TextEditor | None
		is_late: DF.Check
		items: DF.Table[SalesHandoffItem]
		missing_parts: DF.SmallText | None
		naming_series: DF.Literal["CS-HO-.YYYY.-.#####"]
		needs_and_expectations: DF.TextEditor | None
		opportunity: DF.Link | None
		order_received_on: DF.Datetime | None
		payment_schedule: DF.SmallText | None
		payment_terms_template: DF.Link | None
		primary_contact: DF.Link | None
		proposed_csm: DF.Link | None
		quotation: DF.Link | None
		return_count: DF.Int
		return_reason: DF.SmallText | None
		returned_by: DF.Link | None
		returned_on: DF.Datetime | None
		roi_target: DF.SmallText | None
		sales_feedback: DF.TextEditor | None
		sales_order: DF.Link | None
		sales_owner: DF.Link | None
		sla_missed: DF.Check
		sla_step: DF.Literal["", "Hand Over", "Acceptance"]
		stakeholders: DF.Table[SalesHandoffStakeholder]
		status: DF.Literal["Draft", "Handed Over", "Accepted", "Returned", "Cancelled"]
		status_before_cancel: DF.Data | None
		success_definition: DF.TextEditor | None
		success_plan: DF.Link | None
		support_needs: DF.TextEditor | None
		target_go_live: DF.Date | None
		total: DF.Currency
		use_cases: DF.Table[SalesHandoffUseCase]
	# end: auto-generated types

	def validate(self):
		self.validate_status_change()
		service.keep_action_fields(self)
		service.check_edit_rights(self, EDITABLE_BY_SALES)
		service.check_links_match_customer(self)
		service.fill_from_customer_and_contract(self)
		service.check_no_open_duplicate(self)
		self.validate_proposed_csm()
		service.check_contract_dates(self)
		service.check_go_live(self)
		service.check_use_cases(self)
		service.set_stakeholder_names(self)
		self.set_completeness()
		self.set_sla()

	def on_trash(self):
		if self.status not in (DRAFT, service.CANCELLED) and not sees_all():
			frappe.throw(
				_("Handoff {0} is {1}: only a CS Manager can delete it.").format(self.name, _(self.status)),
				frappe.PermissionError,
			)
		service.remove_todos_and_notifications(self)

	# --- validation ----------------------------------------------------------------------

	def validate_status_change(self):
		if self.flags.status_change:
			return
		before = self.get_doc_before_save()
		previous = before.status if before else DRAFT
		if (self.status or DRAFT) != previous:
			service.check_not_cancelled(before)  # a cancelled one says how it reopens
			frappe.throw(
				_(
					"Status cannot be set by hand (from {0} to {1}): use the Hand Over, Accept or Return buttons."
				).format(_(previous), _(self.status)),
				title=_("Status"),
			)

	def on_update(self):
		service.review_follows_proposed_csm(self)

	def validate_proposed_csm(self):
		"""A new or changed Proposed CSM must be able to hold the customer (checked again on accept)."""
		if not self.proposed_csm or "proposed_csm" in (self.flags.set_by_action or ()):
			return
		before = self.get_doc_before_save()
		if before and before.proposed_csm == self.proposed_csm:
			return
		service.check_csm(self.proposed_csm)

	# --- computed fields ---------------------------------------------------------------

	def set_completeness(self):
		result = engine.completeness(self.as_dict())
		self.completeness = result.score
		self.missing_parts = "\n".join(_(label) for label in result.missing_required)

	def set_sla(self, now=None):
		if not self.order_received_on:
			self.order_received_on = self.creation or now_datetime()
		handoff_hours, acceptance_hours = handoff_sla_hours()
		state = engine.sla_state(
			self.status,
			service.as_datetime(self.order_received_on),
			service.as_datetime(self.handed_over_on),
			service.as_datetime(self.returned_on),
			handoff_hours,
			acceptance_hours,
			now or now_datetime(),
		)
		self.due_by = state.due_by
		self.sla_step = state.step if state.due_by else None
		self.is_late = cint(state.is_late)
		if state.is_late:
			self.sla_missed = 1

	# --- actions -----------------------------------------------------------------------

	@frappe.whitelist()
	def get_details_from_sales_order(self):
		"""Fill the form from its Sales Order (the form saves it; nothing is written here)."""
		if not self.sales_order:
			frappe.throw(_("Pick the Sales Order first."), title=_("Sales Order"))
		frappe.has_permission("Sales Order", "read", self.sales_order, throw=True)
		service.prefill_from_sales_order(self, self.sales_order)
		self.set_completeness()

	@frappe.whitelist()
	def get_completeness_details(self) -> dict:
		"""Score and missing parts for the form's indicator, from the same engine as the gate."""
		self.check_permission("read")
		result = engine.completeness(self.as_dict())
		return {
			"score": result.score,
			"missing_required": [_(label) for label in result.missing_required],
			"missing_optional": [_(label) for label in result.missing_optional],
			"too_many_use_cases": result.too_many_use_cases,
			"can_hand_over": result.can_hand_over,
		}

	@frappe.whitelist(methods=["POST"])
	def hand_over(self) -> dict:
		"""Sales hands the completed handoff to customer success."""
		self.load_saved_state()
		self.check_permission("write")
		user = frappe.session.user
		if not can_hand_over_handoff(self, user):
			frappe.throw(
				_("Only sales (or whoever drafted it) can hand over a handoff."), frappe.PermissionError
			)
		service.check_not_cancelled(self)
		if self.status not in EDITABLE_BY_SALES:
			frappe.throw(_("Handoff {0} is already {1}.").format(self.name, _(self.status)))
		service.check_complete(self)

		now = now_datetime()
		handoff_hours, _acceptance = handoff_sla_hours()
		clock_start = (
			service.as_datetime(self.returned_on)
			if self.status == RETURNED and self.returned_on
			else service.as_datetime(self.order_received_on)
		)
		self.hours_to_hand_over = engine.hours_between(clock_start, now)
		if engine.is_late(clock_start, now, handoff_hours, now):
			self.sla_missed = 1
		self.status = HANDED_OVER
		self.handed_over_on = now
		self.handed_over_by = user
		self.save_transition()

		service.close_assignments(self)
		service.assign_review(self)
		self.add_comment("Info", _("Handed over to customer success."))
		return {"status": self.status}

	@frappe.whitelist(methods=["POST"])
	def accept(self) -> dict:
		"""The CSM takes the customer: CSM assigned, success plan created, new business onboarded.

		A customer that is already live (an earlier accepted handoff, or a stage past onboarding)
		keeps its lifecycle stage: a repeat order is no new onboarding. A churned one starts again.
		"""
		self.load_saved_state()
		self.check_decider("accept")
		service.check_not_cancelled(self)
		if self.status == ACCEPTED:
			frappe.throw(
				_("Handoff {0} was already accepted by {1} on {2}.").format(
					self.name, self.accepted_by, frappe.utils.format_datetime(self.accepted_on)
				),
				title=_("Already Accepted"),
			)
		if self.status != HANDED_OVER:
			frappe.throw(
				_("Handoff {0} is {1}: sales must hand it over before it can be accepted.").format(
					self.name, _(self.status)
				)
			)
		service.check_customer_enabled(self.customer)
		user = frappe.session.user
		csm = self.proposed_csm or (user if is_csm(user) else None)
		if not csm:
			frappe.throw(
				_("Set the Proposed CSM before accepting: the customer needs a CSM."), title=_("No CSM")
			)
		service.check_csm(csm)
		check_can_move_customer(self.customer, csm, user)
		customer_values = {"cs_owner": csm}
		if not service.is_live_customer(self.customer):
			customer_values["cs_lifecycle_stage"] = "Onboarding"

		now = now_datetime()
		self.record_decision(now)
		if self.proposed_csm != csm:
			self.proposed_csm = csm
			self.flags.set_by_action = {"proposed_csm"}
		self.status = ACCEPTED
		self.accepted_on = now
		self.accepted_by = user
		self.save_transition()

		service.move_customer(self.customer, customer_values)
		service.close_assignments(self)
		plans = service.run_acceptance_hooks(self)
		if plans:
			self.db_set("success_plan", ", ".join(plans))
		self.add_comment(
			"Info", _("Accepted by {0}; CSM {1} assigned to {2}.").format(user, csm, self.customer)
		)
		return {"status": self.status, "success_plans": plans}

	@frappe.whitelist(methods=["POST"])
	def return_to_sales(self, reason: str) -> dict:
		"""The CSM sends the handoff back to sales, saying what is missing or wrong."""
		self.load_saved_state()
		self.check_decider("return")
		service.check_not_cancelled(self)
		reason = (reason or "").strip()
		if not strip_html(reason).strip():
			frappe.throw(
				_("Give a reason for returning the handoff: sales needs to know what to fix."),
				title=_("Reason Required"),
			)
		if self.status != HANDED_OVER:
			frappe.throw(
				_("Handoff {0} is {1}: only a handed-over handoff can be returned.").format(
					self.name, _(self.status)
				)
			)
		now = now_datetime()
		self.record_decision(now)
		self.status = RETURNED
		self.returned_on = now
		self.returned_by = frappe.session.user
		self.return_reason = reason
		self.return_count = cint(self.return_count) + 1
		self.save_transition()

		service.close_assignments(self)
		sales = self.sales_owner or self.owner
		message = _("Handoff {0} for {1} was returned: {2}").format(
			self.name, self.customer_name or self.customer, reason
		)
		if not service.assign(self, sales, message):
			service.notify(self, sales, message)
		self.add_comment("Comment", _("Returned to sales: {0}").format(reason))
		return {"status": self.status}

	def load_saved_state(self):
		"""Work on the stored handoff, locked, not on the copy the request sent.

		A form call rebuilds the document from the browser's data, so its status, owner or content
		may say anything; the form saves unsaved edits before it calls an action.
		"""
		if self.is_new():
			frappe.throw(_("Save the handoff first, then hand it over, accept or return it."))
		self.flags.for_update = True
		try:
			self.load_from_db()
		finally:
			self.flags.for_update = False

	def check_decider(self, action: str):
		self.check_permission("read")
		check_can_decide_handoff(self, action)
		self.check_permission("write")

	def record_decision(self, now):
		_handoff, acceptance_hours = handoff_sla_hours()
		start = service.as_datetime(self.handed_over_on)
		self.hours_to_decide = engine.hours_between(start, now)
		if engine.is_late(start, now, acceptance_hours, now):
			self.sla_missed = 1

	def save_transition(self):
		self.flags.status_change = True
		self.flags.ignore_permissions = True  # the action checked the user's rights itself
		try:
			self.save()
		finally:
			self.flags.status_change = False


IncompleteHandoffError = service.IncompleteHandoffError
SYSTEM_FIELDS = engine.SYSTEM_FIELDS
