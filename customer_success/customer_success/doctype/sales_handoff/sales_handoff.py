"""Sales Handoff: sales hands a closed deal to customer success, and the CSM accepts or returns it.

The status moves only through the actions below (Hand Over, Accept, Return), never by editing
the field. Completeness and the SLA are computed by `customer_success.engine.handoff`.
"""

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import cint, flt, get_datetime, getdate, now_datetime, strip_html

from customer_success.engine import handoff as engine
from customer_success.handoffs import is_live_customer
from customer_success.permissions import (
	can_hand_over_handoff,
	can_own_customers,
	check_can_decide_handoff,
	check_can_move_customer,
	is_csm,
	is_sales,
	sees_all,
)

DRAFT, HANDED_OVER, ACCEPTED, RETURNED = "Draft", "Handed Over", "Accepted", "Returned"
EDITABLE_BY_SALES = (DRAFT, RETURNED)

# The handoff's SLA and history: written by the actions (Hand Over, Accept, Return) and the SLA
# computation only. A plain save (form, REST, import; any role) keeps the stored values.
ACTION_FIELDS = (
	"order_received_on",
	"due_by",
	"sla_step",
	"is_late",
	"sla_missed",
	"handed_over_on",
	"handed_over_by",
	"hours_to_hand_over",
	"accepted_on",
	"accepted_by",
	"hours_to_decide",
	"returned_on",
	"returned_by",
	"return_count",
	"return_reason",
	"success_plan",
	"completeness",
	"missing_parts",
)

# Set by the actions and the SLA, never by hand: changing them is not "editing the handoff".
SYSTEM_FIELDS = {
	"status",
	*ACTION_FIELDS,
	"customer_name",
	"contact_display",
	"contact_designation",
	"contact_email",
	"contact_phone",
}


class SalesHandoff(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def validate(self):
		self.validate_status_change()
		self.keep_action_fields()
		self.validate_edit_rights()
		self.validate_links_match_customer()
		self.validate_no_open_duplicate()
		self.validate_proposed_csm()
		self.validate_dates()
		self.validate_use_cases()
		self.validate_stakeholders()
		self.set_completeness()
		self.set_sla()

	def on_trash(self):
		if self.status != DRAFT and not sees_all():
			frappe.throw(
				_("Handoff {0} is {1}: only a CS Manager can delete it.").format(self.name, _(self.status)),
				frappe.PermissionError,
			)
		# Frappe removes these after commit in a background job; remove them now so a deleted
		# handoff never leaves its ToDos on someone's list (e.g. without workers running).
		for doctype, type_field, name_field in (
			("ToDo", "reference_type", "reference_name"),
			("Notification Log", "document_type", "document_name"),
		):
			frappe.db.delete(doctype, {type_field: self.doctype, name_field: self.name})

	# --- validation ----------------------------------------------------------------------

	def validate_status_change(self):
		if self.flags.status_change:
			return
		before = self.get_doc_before_save()
		previous = before.status if before else DRAFT
		if (self.status or DRAFT) != previous:
			frappe.throw(
				_(
					"Status cannot be set by hand (from {0} to {1}): use the Hand Over, Accept or Return buttons."
				).format(_(previous), _(self.status)),
				title=_("Status"),
			)

	def keep_action_fields(self):
		"""Outside the actions, the SLA and history fields keep their stored values, silently.

		A stale form or a REST client may send anything for them; a new handoff starts with none
		(its order's receipt time comes from the order, or from the Sales Order hook).
		"""
		if self.flags.status_change:
			return
		before = None
		if not self.is_new():
			before = self.get_doc_before_save() or frappe.get_doc(self.doctype, self.name)
		for fieldname in ACTION_FIELDS:
			self.set(fieldname, before.get(fieldname) if before else None)
		if not before:
			self.return_count = 0
			self.order_received_on = self.flags.order_received_on or (
				self.sales_order and frappe.db.get_value("Sales Order", self.sales_order, "creation")
			)

	def validate_edit_rights(self):
		"""Sales edits until hand-over; after that only a CS Manager may change the content."""
		# Actions save with status_change set, but a client could send an edited document with
		# them: content is checked whatever the route.
		if self.is_new() or frappe.flags.in_install or frappe.flags.in_migrate:
			return
		before = self.get_doc_before_save()
		if not before or not self.changed_content_fields(before):
			return
		user = frappe.session.user
		if sees_all(user):
			return
		if before.status not in EDITABLE_BY_SALES:
			frappe.throw(
				_("Handoff {0} is {1}: only a CS Manager can change it now.").format(
					self.name, _(before.status)
				),
				frappe.PermissionError,
			)
		if not is_sales(user) and self.owner != user:
			frappe.throw(
				_(
					"Sales completes Handoff {0}; as a CSM you can accept or return it once handed over."
				).format(self.name),
				frappe.PermissionError,
			)

	def changed_content_fields(self, before) -> list[str]:
		changed = []
		set_by_action = self.flags.set_by_action or ()
		for df in self.meta.fields:
			if (
				df.fieldname in SYSTEM_FIELDS
				or df.fieldname in set_by_action
				or df.fieldtype
				in (
					"Section Break",
					"Column Break",
					"Tab Break",
				)
			):
				continue
			if df.fieldtype == "Table":
				if _rows_of(self.get(df.fieldname)) != _rows_of(before.get(df.fieldname)):
					changed.append(df.fieldname)
			elif _norm(df.fieldtype, self.get(df.fieldname)) != _norm(df.fieldtype, before.get(df.fieldname)):
				changed.append(df.fieldname)
		return changed

	def validate_links_match_customer(self):
		if self.sales_order:
			order = frappe.db.get_value(
				"Sales Order", self.sales_order, ["customer", "docstatus"], as_dict=True
			)
			if not order:
				frappe.throw(_("Sales Order {0} does not exist.").format(self.sales_order))
			if order.customer != self.customer:
				frappe.throw(
					_("Sales Order {0} is for customer {1}, not {2}: pick an order of this customer.").format(
						self.sales_order, order.customer, self.customer
					),
					title=_("Wrong Customer"),
				)
			if order.docstatus != 1:
				frappe.throw(
					_(
						"Sales Order {0} is not submitted: hand over closed deals only (submit the order first)."
					).format(self.sales_order)
				)
		if self.contract:
			party = frappe.db.get_value("Contract", self.contract, ["party_type", "party_name"], as_dict=True)
			if party and (party.party_type != "Customer" or party.party_name != self.customer):
				frappe.throw(
					_("Contract {0} is with {1}, not customer {2}: pick a contract of this customer.").format(
						self.contract, party.party_name, self.customer
					),
					title=_("Wrong Customer"),
				)
		if self.quotation:
			quote = frappe.db.get_value(
				"Quotation", self.quotation, ["quotation_to", "party_name"], as_dict=True
			)
			if quote and quote.quotation_to == "Customer" and quote.party_name != self.customer:
				frappe.throw(
					_("Quotation {0} is for {1}, not customer {2}.").format(
						self.quotation, quote.party_name, self.customer
					),
					title=_("Wrong Customer"),
				)
		if self.opportunity:
			opp = frappe.db.get_value(
				"Opportunity", self.opportunity, ["opportunity_from", "party_name"], as_dict=True
			)
			# An opportunity from a Lead predates the customer: nothing to compare.
			if opp and opp.opportunity_from == "Customer" and opp.party_name != self.customer:
				frappe.throw(
					_("Opportunity {0} is for {1}, not customer {2}.").format(
						self.opportunity, opp.party_name, self.customer
					),
					title=_("Wrong Customer"),
				)

	def validate_no_open_duplicate(self):
		if not self.sales_order or self.status == ACCEPTED:
			return
		other = frappe.db.get_value(
			"Sales Handoff",
			{
				"sales_order": self.sales_order,
				"status": ("in", engine.OPEN_STATUSES),
				"name": ("!=", self.name or ""),
			},
			"name",
		)
		if other:
			frappe.throw(
				_("Sales Order {0} already has an open handoff, {1}: complete that one instead.").format(
					self.sales_order, other
				),
				frappe.DuplicateEntryError,
				title=_("Duplicate Handoff"),
			)

	def validate_proposed_csm(self):
		"""A new or changed Proposed CSM must be able to hold the customer (checked again on accept)."""
		if not self.proposed_csm or "proposed_csm" in (self.flags.set_by_action or ()):
			return
		before = self.get_doc_before_save()
		if before and before.proposed_csm == self.proposed_csm:
			return
		check_csm(self.proposed_csm)

	def validate_dates(self):
		if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
			frappe.throw(
				_("Contract End ({0}) cannot be before Contract Start ({1}).").format(
					self.contract_end, self.contract_start
				)
			)

	def validate_use_cases(self):
		if len(self.use_cases) > engine.MAX_USE_CASES:
			frappe.throw(
				_("List at most {0} top use cases (there are {1}): keep the ones that matter most.").format(
					engine.MAX_USE_CASES, len(self.use_cases)
				),
				title=_("Top Use Cases"),
			)

	def validate_stakeholders(self):
		for row in self.stakeholders:
			if not (row.stakeholder_name or "").strip() and not row.contact:
				frappe.throw(
					_("Key Stakeholders row {0}: enter the stakeholder's name or pick a contact.").format(
						row.idx
					)
				)
			if row.contact and not row.stakeholder_name:
				row.stakeholder_name = frappe.db.get_value("Contact", row.contact, "full_name")

	# --- computed fields ---------------------------------------------------------------

	def get_completeness(self) -> engine.Completeness:
		return engine.completeness(self.as_dict())

	def set_completeness(self):
		result = self.get_completeness()
		self.completeness = result.score
		self.missing_parts = "\n".join(_(label) for label in result.missing_required)

	def set_sla(self, now=None):
		if not self.order_received_on:
			self.order_received_on = self.creation or now_datetime()
		handoff_hours, acceptance_hours = sla_hours()
		state = engine.sla_state(
			self.status,
			_dt(self.order_received_on),
			_dt(self.handed_over_on),
			_dt(self.returned_on),
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
		from customer_success.handoffs import prefill_from_sales_order

		prefill_from_sales_order(self, self.sales_order)
		self.set_completeness()

	@frappe.whitelist()
	def get_completeness_details(self) -> dict:
		"""Score and missing parts for the form's indicator, from the same engine as the gate."""
		self.check_permission("read")
		result = self.get_completeness()
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
		if self.status not in EDITABLE_BY_SALES:
			frappe.throw(_("Handoff {0} is already {1}.").format(self.name, _(self.status)))
		self.check_complete()

		now = now_datetime()
		handoff_hours, _acceptance = sla_hours()
		clock_start = (
			_dt(self.returned_on)
			if self.status == RETURNED and self.returned_on
			else _dt(self.order_received_on)
		)
		self.hours_to_hand_over = engine.hours_between(clock_start, now)
		if engine.is_late(clock_start, now, handoff_hours, now):
			self.sla_missed = 1
		self.status = HANDED_OVER
		self.handed_over_on = now
		self.handed_over_by = user
		self.save_transition()

		close_assignments(self)
		if self.proposed_csm:
			assign(
				self,
				self.proposed_csm,
				_("Review handoff {0} for {1} and accept it or return it to sales.").format(
					self.name, self.customer_name or self.customer
				),
			)
		self.add_comment("Info", _("Handed over to customer success."))
		return {"status": self.status}

	def check_complete(self):
		result = self.get_completeness()
		if result.can_hand_over:
			return
		missing = [_(label) for label in result.missing_required]
		rows = engine.incomplete_use_cases(self.as_dict())
		if rows:
			missing.append(
				_("Top Use Cases rows {0} need a metric and a baseline").format(", ".join(map(str, rows)))
			)
		if result.too_many_use_cases:
			missing.append(_("At most {0} top use cases").format(engine.MAX_USE_CASES))
		frappe.throw(
			_("Complete these parts before handing over:")
			+ "<ul>"
			+ "".join(f"<li>{frappe.utils.escape_html(m)}</li>" for m in missing)
			+ "</ul>",
			title=_("Handoff Incomplete"),
			exc=IncompleteHandoffError,
		)

	@frappe.whitelist(methods=["POST"])
	def accept(self) -> dict:
		"""The CSM takes the customer: CSM assigned, success plan created, new business onboarded.

		A customer that is already live (an earlier accepted handoff, or a stage past onboarding)
		keeps its lifecycle stage: a repeat order is no new onboarding. A churned one starts again.
		"""
		self.load_saved_state()
		self.check_decider("accept")
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
		user = frappe.session.user
		csm = self.proposed_csm or (user if is_csm(user) else None)
		if not csm:
			frappe.throw(
				_("Set the Proposed CSM before accepting: the customer needs a CSM."), title=_("No CSM")
			)
		check_csm(csm)
		check_can_move_customer(self.customer, csm, user)
		customer_values = {"cs_owner": csm}
		if not is_live_customer(self.customer):
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

		frappe.db.set_value("Customer", self.customer, customer_values)
		close_assignments(self)
		plans = run_acceptance_hooks(self)
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

		close_assignments(self)
		sales = self.sales_owner or self.owner
		message = _("Handoff {0} for {1} was returned: {2}").format(
			self.name, self.customer_name or self.customer, reason
		)
		if not assign(self, sales, message):
			notify(self, sales, message)
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
		_handoff, acceptance_hours = sla_hours()
		start = _dt(self.handed_over_on)
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


class IncompleteHandoffError(frappe.ValidationError):
	pass


# --- helpers -----------------------------------------------------------------------------


def sla_hours() -> tuple[int, int]:
	settings = frappe.get_cached_doc("Customer Success Settings")
	return cint(settings.get("handoff_sla_hours")), cint(settings.get("acceptance_sla_hours"))


def check_csm(user: str):
	if not can_own_customers(user):
		frappe.throw(
			_(
				"Proposed CSM {0} is not an enabled user with the Customer Success Manager or CS Manager role: pick a CSM, or give {0} that role."
			).format(user),
			title=_("Proposed CSM"),
		)


def todos_enabled() -> bool:
	return bool(cint(frappe.db.get_single_value("Customer Success Settings", "create_todos")))


def assign(doc, user: str | None, description: str) -> bool:
	"""Put the handoff on the user's ToDo list (if settings allow); True when assigned."""
	if not user or not todos_enabled() or not frappe.db.get_value("User", user, "enabled"):
		return False
	from frappe.desk.form.assign_to import add

	add(
		{"assign_to": [user], "doctype": doc.doctype, "name": doc.name, "description": description},
		ignore_permissions=True,
	)
	return True


def notify(doc, user: str | None, subject: str):
	"""A bell notification when ToDos are switched off."""
	if not user or user == frappe.session.user:
		return
	from frappe.desk.doctype.notification_log.notification_log import enqueue_create_notification

	enqueue_create_notification(
		user,
		{
			"type": "Alert",
			"document_type": doc.doctype,
			"document_name": doc.name,
			"subject": frappe.utils.escape_html(subject),
			"from_user": frappe.session.user,
		},
	)


def close_assignments(doc):
	from frappe.desk.form.assign_to import close_all_assignments

	open_todos = frappe.get_all(
		"ToDo", filters={"reference_type": doc.doctype, "reference_name": doc.name, "status": "Open"}, limit=1
	)
	if open_todos:
		close_all_assignments(doc.doctype, doc.name, ignore_permissions=True)


def run_acceptance_hooks(doc) -> list[str]:
	"""Call every `cs_on_handoff_accepted` hook with the accepted handoff (plans register there)."""
	created = []
	for path in frappe.get_hooks("cs_on_handoff_accepted"):
		result = frappe.get_attr(path)(doc)
		if isinstance(result, str) and result:
			created.append(result)
	return created


def _dt(value):
	return get_datetime(value) if value else None


NUMBER_TYPES = ("Int", "Float", "Currency", "Percent", "Check", "Rating")


def _norm(fieldtype: str, value):
	"""One spelling per value, so a form round-trip ("1" vs 1.0, dates as text) is no change."""
	if fieldtype in NUMBER_TYPES:
		return flt(value)
	if value in (None, ""):
		return None
	if fieldtype == "Date":
		return getdate(value)
	if fieldtype == "Datetime":
		return get_datetime(value).replace(microsecond=0)
	if isinstance(value, str):
		return value.strip() or None
	return value


def _rows_of(rows) -> list[dict]:
	out = []
	for row in rows or []:
		meta = frappe.get_meta(row.doctype)
		out.append(
			{
				df.fieldname: _norm(df.fieldtype, row.get(df.fieldname))
				for df in meta.fields
				if df.fieldtype not in ("Section Break", "Column Break", "Tab Break")
			}
		)
	return out
