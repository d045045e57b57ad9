"""Sales handoffs around the document: prefill from ERPNext, drafting, repeat orders, and the
ToDos and notifications the actions send.

The Sales Handoff controller owns the lifecycle; this module reads ERPNext (Sales Order,
Quotation, Opportunity, Contract, Contact, Address, Communication) to draft a handoff.
"""

import frappe
from frappe import _
from frappe.utils import cint, flt, fmt_money, format_date, get_datetime, getdate, nowdate

from customer_success.handoff import engine, queries
from customer_success.permissions import can_own_customers, is_sales, sees_all
from customer_success.utils import delete_todos, in_language, language_of, linked_to_customer, site_language

RECENT_COMMUNICATIONS = 5
OPEN_STATUSES = engine.OPEN_STATUSES
ACCEPTED = "Accepted"
CANCELLED = "Cancelled"  # cancelled with its Sales Order (integrations.erpnext.sales_order)
# Lifecycle stages of a customer already past onboarding: its next order is a repeat order.
LIVE_STAGES = ("Adoption", "Value Realisation", "Renewal", "Expansion")
CHURNED = "Churned"


# --- prefill -----------------------------------------------------------------------------


def throw_cancelled_order(sales_order: str):
	frappe.throw(
		_(
			"Sales Order {0} is cancelled: pick the order that replaced it (its amendment), or clear Sales Order."
		).format(sales_order),
		title=_("Cancelled Sales Order"),
	)


def prefill_from_sales_order(handoff, sales_order) -> None:
	"""Fill a Sales Handoff (in memory) from a submitted Sales Order and what surrounds it.

	Snapshots (order lines, totals, payment schedule, recent communications) are replaced;
	what sales may have typed or chosen (contact, address, owners, contract) is kept when set.
	"""
	order = sales_order if not isinstance(sales_order, str) else frappe.get_doc("Sales Order", sales_order)
	if order.docstatus == 2:
		throw_cancelled_order(order.name)
	if order.docstatus != 1:
		frappe.throw(
			_(
				"Sales Order {0} is not submitted: hand over closed deals only (submit the order first)."
			).format(order.name)
		)
	if handoff.customer and handoff.customer != order.customer:
		frappe.throw(
			_("Sales Order {0} is for customer {1}, not {2}: pick an order of this customer.").format(
				order.name, order.customer, handoff.customer
			),
			title=_("Wrong Customer"),
		)
	customer = frappe.db.get_value(
		"Customer",
		order.customer,
		["customer_name", "customer_primary_contact", "customer_primary_address", "cs_owner"],
		as_dict=True,
	)
	handoff.customer = order.customer
	handoff.customer_name = customer.customer_name
	handoff.sales_order = order.name
	handoff.company = order.company
	handoff.sales_owner = handoff.sales_owner or order.owner
	if not handoff.proposed_csm and can_own_customers(customer.cs_owner):
		# a customer's cs_owner who is no longer a CSM would block the draft: leave it to sales
		handoff.proposed_csm = customer.cs_owner
	handoff.order_received_on = handoff.order_received_on or order.creation

	handoff.primary_contact = (
		handoff.primary_contact or order.contact_person or customer.customer_primary_contact
	)
	handoff.customer_address = (
		handoff.customer_address or order.customer_address or customer.customer_primary_address
	)
	_set_contact_details(handoff)
	_set_address_display(handoff)

	_set_order_lines(handoff, order)
	_set_payment_terms(handoff, order)
	_set_deal_history(handoff, order)
	_set_contract(handoff, order)
	_set_communications(handoff, order)


def refresh_order_snapshot(handoff, order) -> None:
	"""Point the handoff at the order and copy its lines, totals and payment terms."""
	handoff.sales_order = order.name
	_set_order_lines(handoff, order)
	_set_payment_terms(handoff, order)


def _set_order_lines(handoff, order):
	handoff.currency = order.currency
	handoff.total = order.total
	handoff.discount_amount = order.discount_amount
	handoff.grand_total = order.grand_total
	handoff.base_grand_total = order.base_grand_total
	handoff.set("items", [])
	for line in order.items:
		handoff.append(
			"items",
			{
				"item_code": line.item_code,
				"item_name": line.item_name,
				"qty": line.qty,
				"uom": line.uom,
				"price_list_rate": line.price_list_rate,
				"discount_percentage": line.discount_percentage,
				"discount_amount": line.discount_amount,
				"rate": line.rate,
				"amount": line.amount,
				"currency": order.currency,
				"delivery_date": line.delivery_date,
			},
		)


def _set_payment_terms(handoff, order):
	handoff.payment_terms_template = order.payment_terms_template
	lines = []
	for row in order.get("payment_schedule") or []:
		lines.append(
			_("{0}: {1}% ({2}){3}").format(
				format_date(row.due_date),
				flt(row.invoice_portion, 2),
				fmt_money(row.payment_amount, currency=order.currency),
				f" — {row.payment_term}" if row.payment_term else "",
			)
		)
	handoff.payment_schedule = "\n".join(lines) or None


def _set_deal_history(handoff, order):
	quotations = [
		line.prevdoc_docname
		for line in order.items
		if line.get("prevdoc_docname") and frappe.db.exists("Quotation", line.prevdoc_docname)
	]
	if quotations and not handoff.quotation:
		handoff.quotation = quotations[0]
	if handoff.quotation and not handoff.opportunity:
		handoff.opportunity = frappe.db.get_value("Quotation", handoff.quotation, "opportunity")
	if not handoff.opportunity:
		handoff.opportunity = frappe.db.get_value(
			"Opportunity",
			{"opportunity_from": "Customer", "party_name": order.customer},
			"name",
			order_by="creation desc",
		)


def _set_contract(handoff, order):
	if not handoff.contract:
		handoff.contract = frappe.db.get_value(
			"Contract",
			{"docstatus": 1, "document_type": "Sales Order", "document_name": order.name},
			"name",
		) or (
			None
			if frappe.db.get_value("Customer", order.customer, "cs_lifecycle_stage") == CHURNED
			else running_contract(order.customer, getdate(order.transaction_date or nowdate()))
		)
	_set_contract_dates(handoff)


def running_contract(customer: str, on) -> str | None:
	"""The customer's latest submitted contract still running on `on` (no end, or ending then or
	later) whose renewal was not recorded as churned: the term a new order is part of. A churned
	customer's old contract is no term of a win-back (tester Z2: its handoff and the plan accepted
	from it ran on the lost contract's dates; tester K2: churned from its form, its renewal still
	open): a customer churned when its order comes takes none (`_set_contract`)."""
	from pypika.terms import ExistsCriterion

	contract = frappe.qb.DocType("Contract")
	renewal = frappe.qb.DocType("Renewal")
	churned = (
		frappe.qb.from_(renewal)
		.select(renewal.name)
		.where((renewal.contract == contract.name) & (renewal.status == "Churned"))
	)
	found = (
		frappe.qb.from_(contract)
		.select(contract.name)
		.where(
			(contract.docstatus == 1)
			& (contract.party_type == "Customer")
			& (contract.party_name == customer)
			& (contract.end_date.isnull() | (contract.end_date >= on))
			& ExistsCriterion(churned).negate()
		)
		.orderby(contract.start_date, order=frappe.qb.desc)
		.orderby(contract.creation, order=frappe.qb.desc)
		.limit(1)
		.run()
	)
	return found[0][0] if found else None


def _set_contract_dates(handoff):
	"""The contract's start and end, where the handoff has none of its own."""
	if handoff.contract and not (handoff.contract_start and handoff.contract_end):
		start, end = frappe.db.get_value("Contract", handoff.contract, ["start_date", "end_date"]) or (
			None,
			None,
		)
		handoff.contract_start = handoff.contract_start or start
		handoff.contract_end = handoff.contract_end or end


def _set_contact_details(handoff):
	if not handoff.primary_contact:
		return
	contact = frappe.db.get_value(
		"Contact",
		handoff.primary_contact,
		["full_name", "designation", "email_id", "phone", "mobile_no"],
		as_dict=True,
	)
	if contact:
		handoff.contact_display = contact.full_name
		handoff.contact_designation = contact.designation
		handoff.contact_email = contact.email_id
		handoff.contact_phone = contact.phone or contact.mobile_no


def _set_address_display(handoff):
	if handoff.customer_address:
		from frappe.contacts.doctype.address.address import get_address_display

		handoff.address_display = get_address_display(handoff.customer_address)


def fill_from_customer_and_contract(doc):
	"""A handoff sales edits (Draft or Returned) takes what ERPNext knows that it lacks, as the
	Sales Order's prefill does, also when it was made by hand or from a customer with no order yet:
	the customer's primary contact and address (when they are the customer's own), the contact's
	details and the address text (again when another contact or address is picked), and the
	contract's start and end. What sales typed or chose is never replaced."""
	if (doc.status or "Draft") not in ("Draft", "Returned") or not doc.customer:
		return
	if not doc.primary_contact or not doc.customer_address:
		primary = frappe.db.get_value(
			"Customer", doc.customer, ["customer_primary_contact", "customer_primary_address"], as_dict=True
		)
		for field, doctype, value in (
			("primary_contact", "Contact", primary and primary.customer_primary_contact),
			("customer_address", "Address", primary and primary.customer_primary_address),
		):
			if not doc.get(field) and value and linked_to_customer(doctype, value, doc.customer):
				doc.set(field, value)
	before = None if doc.is_new() else doc.get_doc_before_save()
	if doc.primary_contact and (
		not doc.contact_display or (before and before.primary_contact != doc.primary_contact)
	):
		_set_contact_details(doc)
	if doc.customer_address and (
		not doc.address_display or (before and before.customer_address != doc.customer_address)
	):
		_set_address_display(doc)
	if (
		doc.contract
		and before
		and before.contract
		and before.contract != doc.contract
		and (doc.contract_start, doc.contract_end) == (before.contract_start, before.contract_end)
	):
		# another contract picked, its dates not typed with it: the new contract's dates
		doc.contract_start = doc.contract_end = None
	_set_contract_dates(doc)


def _set_communications(handoff, order):
	rows = queries.recent_communications(
		order.customer,
		{
			"Sales Order": [order.name],
			"Quotation": [handoff.quotation],
			"Opportunity": [handoff.opportunity],
		},
	)
	handoff.set("communications", [])
	for row in rows:
		handoff.append(
			"communications",
			{
				"communication": row.name,
				"communication_date": row.communication_date,
				"subject": row.subject,
				"communication_medium": row.communication_medium,
				"sent_or_received": row.sent_or_received,
			},
		)


def draft_handoff(sales_order, received_on=None):
	"""Insert a draft handoff for a submitted order (no permission check: callers check)."""
	handoff = frappe.new_doc("Sales Handoff")
	handoff.order_received_on = received_on
	# the SLA clock is the system's to set: the controller keeps it only from this flag
	handoff.flags.order_received_on = received_on
	prefill_from_sales_order(handoff, sales_order)
	handoff.flags.ignore_permissions = True
	handoff.insert()
	return handoff


def is_live_customer(customer: str) -> bool:
	"""Is the customer already live: past onboarding, or with an accepted handoff (unless churned)?

	A churned customer coming back is new business again; so is one that never got this far.
	"""
	stage = frappe.db.get_value("Customer", customer, "cs_lifecycle_stage")
	if stage == CHURNED:
		return False
	if stage in LIVE_STAGES:
		return True
	return bool(frappe.db.exists("Sales Handoff", {"customer": customer, "status": ACCEPTED}))


def is_repeat_order(order) -> bool:
	"""Is this submitted order a repeat order (renewal, upsell), not the customer's first won deal?

	It is when the customer is live (`is_live_customer`), and also when the customer already did
	business before it: another submitted Sales Order, or a submitted Sales Invoice. That is a
	customer who was trading before the app was installed (no stage, no handoff yet), whose next
	order is no new onboarding. A churned customer coming back is new business again, and so is a
	customer whose handoff never got through (cancelled with its order).
	"""
	if frappe.db.get_value("Customer", order.customer, "cs_lifecycle_stage") == CHURNED:
		return False
	if is_live_customer(order.customer):
		return True
	if frappe.db.exists("Sales Handoff", {"customer": order.customer}):
		# an onboarding was begun and never got through (its order cancelled, the handoff too):
		# this order is its new business (tester M2: the next order was taken for a repeat one)
		return False
	return queries.did_business_before(order.customer, order.name)


def check_customer_enabled(customer: str):
	"""A disabled customer's handoff is not accepted (tester K2: accepted, it made a plan, its
	milestones and their reminders for a customer nobody trades with)."""
	if frappe.db.get_value("Customer", customer, "disabled"):
		frappe.throw(
			_("Customer {0} is disabled: enable it before accepting its handoff.").format(customer),
			title=_("Customer Disabled"),
		)


def cancel_open_handoffs_of_customer_gone(customer: str, why: str) -> list[str]:
	"""A customer recorded as churned (the `cs_on_customer_churned` hook): its open handoff is no
	onboarding any more. It is Cancelled, its ToDos closed, saying why; the customer's next order
	(a win-back) drafts a handoff of its own (tester K2: the old one stayed open, late, and held the
	win-back's off). Returns the handoffs cancelled."""
	from frappe.utils import now_datetime

	names = frappe.get_all(
		"Sales Handoff", filters={"customer": customer, "status": ("in", OPEN_STATUSES)}, pluck="name"
	)
	for name in names:
		handoff = frappe.get_doc("Sales Handoff", name)
		handoff.status_before_cancel = handoff.status
		handoff.status = CANCELLED
		handoff.cancelled_on = now_datetime()
		handoff.save_transition()
		close_assignments(handoff)
		handoff.add_comment("Info", why)
	return names


def record_order_during_handoff(order, handoff: str) -> None:
	"""Another order of a customer whose handoff is still open is part of the deal being handed
	over, not a repeat order of a live customer: the handoff and the customer's timeline say so
	(tester M2: the timeline said "already a live customer" of a customer with no CSM yet)."""
	total = fmt_money(order.grand_total, currency=order.currency)
	with in_language(site_language()):
		content = _(
			"Sales Order {0} ({1}) was submitted while handoff {2} is open: it is part of the deal being handed over; complete the handoff with it."
		).format(
			frappe.utils.get_link_to_form("Sales Order", order.name),
			total,
			frappe.utils.get_link_to_form("Sales Handoff", handoff),
		)
	for doctype, name in (("Sales Handoff", handoff), ("Customer", order.customer)):
		frappe.get_doc(
			{
				"doctype": "Comment",
				"comment_type": "Info",
				"reference_doctype": doctype,
				"reference_name": name,
				"comment_email": frappe.session.user,
				"content": content,
			}
		).insert(ignore_permissions=True)


def record_repeat_order(order) -> None:
	"""Tell the customer's CSM about a repeat order: a timeline entry, and a ToDo (or a bell alert).

	A renewal or upsell of a live customer restarts nothing; the CSM follows it up.
	"""

	customer_name, csm = frappe.db.get_value("Customer", order.customer, ["customer_name", "cs_owner"])
	total = fmt_money(order.grand_total, currency=order.currency)
	with in_language(site_language()):  # on the Customer's timeline, for everyone
		content = _(
			"Repeat order {0} submitted ({1}): {2} is already a live customer, so no new handoff was drafted."
		).format(frappe.utils.get_link_to_form("Sales Order", order.name), total, customer_name)
	frappe.get_doc(
		{
			"doctype": "Comment",
			"comment_type": "Info",
			"reference_doctype": "Customer",
			"reference_name": order.customer,
			"comment_email": frappe.session.user,
			"content": content,
		}
	).insert(ignore_permissions=True)
	if not csm or not frappe.db.get_value("User", csm, "enabled"):
		return
	with in_language(language_of(csm)):  # hers, not the salesperson's who submitted the order
		description = _("Repeat order {0} from {1} ({2}): follow up with the customer.").format(
			order.name, customer_name, total
		)
	if todos_enabled():
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": csm,
				"reference_type": "Sales Order",
				"reference_name": order.name,
				"description": description,
				"assigned_by": frappe.session.user,
			}
		).insert(ignore_permissions=True)
	else:
		notify(order, csm, description)


# --- around the actions: ToDos, notifications, hooks, form round-trips ---------------------


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
	from customer_success.utils import bell

	bell(
		user,
		{
			"type": "Alert",
			"document_type": doc.doctype,
			"document_name": doc.name,
			"subject": frappe.utils.escape_html(subject),
			"from_user": frappe.session.user,
		},
	)


def review_follows_proposed_csm(doc):
	"""`on_update` of a handoff waiting for its CSM (Handed Over): a CS Manager who names another
	Proposed CSM moves the review to them, its ToDo with it (the one named first could no longer
	accept it, and the new one had nothing on their list)."""
	if doc.status != "Handed Over" or "proposed_csm" in (doc.flags.set_by_action or ()):
		return
	before = doc.get_doc_before_save()
	if before is None or before.status != "Handed Over" or before.proposed_csm == doc.proposed_csm:
		return
	close_assignments(doc)
	assign_review(doc)


def assign_review(doc):
	"""A handed-over handoff's review goes on its Proposed CSM's list; with none named, on every CS
	Manager's, to name one (it waited on nobody's list, its acceptance clock running)."""
	customer = doc.customer_name or doc.customer
	if doc.proposed_csm:
		with in_language(language_of(doc.proposed_csm)):  # each ToDo in its reader's language
			description = _("Review handoff {0} for {1} and accept it or return it to sales.").format(
				doc.name, customer
			)
		assign(doc, doc.proposed_csm, description)
		return
	from customer_success.constants import CS_MANAGER_ROLE
	from customer_success.permissions import enabled_role_holders

	for manager in enabled_role_holders(CS_MANAGER_ROLE):
		with in_language(language_of(manager)):
			description = _(
				"Handoff {0} for {1} was handed over with no Proposed CSM: name the CSM who reviews it."
			).format(doc.name, customer)
		assign(doc, manager, description)


def close_assignments(doc):
	from frappe.desk.form.assign_to import close_all_assignments

	open_todos = frappe.get_all(
		"ToDo", filters={"reference_type": doc.doctype, "reference_name": doc.name, "status": "Open"}, limit=1
	)
	if open_todos:
		close_all_assignments(doc.doctype, doc.name, ignore_permissions=True)


def remove_todos_and_notifications(doc):
	"""A deleted handoff's ToDos (with their versions) and bells, removed now: frappe removes them
	after commit in a background job, and a deleted handoff must never leave its ToDos on someone's
	list (e.g. without workers running)."""
	delete_todos(doc.doctype, doc.name)
	frappe.db.delete("Notification Log", {"document_type": doc.doctype, "document_name": doc.name})


def run_acceptance_hooks(doc) -> list[str]:
	"""Call every `cs_on_handoff_accepted` hook with the accepted handoff (plans register there)."""
	created = []
	for path in frappe.get_hooks("cs_on_handoff_accepted"):
		result = frappe.get_attr(path)(doc)
		if isinstance(result, str) and result:
			created.append(result)
	return created


def as_datetime(value):
	return get_datetime(value) if value else None


NUMBER_TYPES = ("Int", "Float", "Currency", "Percent", "Check", "Rating")


def normalise(fieldtype: str, value):
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


def table_rows(rows) -> list[dict]:
	out = []
	for row in rows or []:
		meta = frappe.get_meta(row.doctype)
		out.append(
			{
				df.fieldname: normalise(df.fieldtype, row.get(df.fieldname))
				for df in meta.fields
				if df.fieldtype not in ("Section Break", "Column Break", "Tab Break")
			}
		)
	return out


def changed_content_fields(doc, before, system_fields) -> list[str]:
	"""The content fields a save changes (form round-trips such as "1" vs 1.0 are no change)."""
	changed = []
	set_by_action = doc.flags.set_by_action or ()
	for df in doc.meta.fields:
		if (
			df.fieldname in system_fields
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
			if table_rows(doc.get(df.fieldname)) != table_rows(before.get(df.fieldname)):
				changed.append(df.fieldname)
		elif normalise(df.fieldtype, doc.get(df.fieldname)) != normalise(
			df.fieldtype, before.get(df.fieldname)
		):
			changed.append(df.fieldname)
	return changed


def check_links_match_customer(doc):
	"""The order, contract, quotation and opportunity must all be the handoff customer's."""
	if doc.sales_order:
		order = frappe.db.get_value("Sales Order", doc.sales_order, ["customer", "docstatus"], as_dict=True)
		if not order:
			frappe.throw(_("Sales Order {0} does not exist.").format(doc.sales_order))
		if order.customer != doc.customer:
			frappe.throw(
				_("Sales Order {0} is for customer {1}, not {2}: pick an order of this customer.").format(
					doc.sales_order, order.customer, doc.customer
				),
				title=_("Wrong Customer"),
			)
		if order.docstatus == 2:
			# a handoff whose order was cancelled afterwards still saves (returned, decided): only
			# choosing a cancelled order is refused
			if doc.is_new() or doc.has_value_changed("sales_order"):
				throw_cancelled_order(doc.sales_order)
		elif order.docstatus != 1:
			frappe.throw(
				_(
					"Sales Order {0} is not submitted: hand over closed deals only (submit the order first)."
				).format(doc.sales_order)
			)
	check_contacts_are_the_customers(doc)
	if doc.contract:
		party = frappe.db.get_value("Contract", doc.contract, ["party_type", "party_name"], as_dict=True)
		if party and (party.party_type != "Customer" or party.party_name != doc.customer):
			frappe.throw(
				_("Contract {0} is with {1}, not customer {2}: pick a contract of this customer.").format(
					doc.contract, party.party_name, doc.customer
				),
				title=_("Wrong Customer"),
			)
	if doc.quotation:
		quote = frappe.db.get_value("Quotation", doc.quotation, ["quotation_to", "party_name"], as_dict=True)
		if quote and quote.quotation_to == "Customer" and quote.party_name != doc.customer:
			frappe.throw(
				_("Quotation {0} is for {1}, not customer {2}.").format(
					doc.quotation, quote.party_name, doc.customer
				),
				title=_("Wrong Customer"),
			)
	if doc.opportunity:
		opp = frappe.db.get_value(
			"Opportunity", doc.opportunity, ["opportunity_from", "party_name"], as_dict=True
		)
		# An opportunity from a Lead predates the customer: nothing to compare.
		if opp and opp.opportunity_from == "Customer" and opp.party_name != doc.customer:
			frappe.throw(
				_("Opportunity {0} is for {1}, not customer {2}.").format(
					doc.opportunity, opp.party_name, doc.customer
				),
				title=_("Wrong Customer"),
			)


def check_contacts_are_the_customers(doc):
	"""The primary contact, the address and each stakeholder's contact are the customer's own
	(linked to it): a contact of another customer would show that customer's people here."""
	linked = {
		(link.parenttype, link.parent)
		for link in frappe.get_all(
			"Dynamic Link",
			filters={
				"link_doctype": "Customer",
				"link_name": doc.customer,
				"parenttype": ("in", ("Contact", "Address")),
			},
			fields=["parenttype", "parent"],
		)
	}
	named = [
		(_("Primary Contact"), "Contact", doc.primary_contact),
		(_("Customer Address"), "Address", doc.customer_address),
		*(
			(_("Stakeholders row {0}").format(row.idx), "Contact", row.contact)
			for row in doc.get("stakeholders") or []
		),
	]
	before = None if doc.is_new() else doc.get_doc_before_save()
	kept = set()  # what was stored already, for the same customer: an earlier version's data saves on
	if before and before.customer == doc.customer:
		kept = {("Contact", before.primary_contact), ("Address", before.customer_address)} | {
			("Contact", row.contact) for row in before.get("stakeholders") or []
		}
	for label, doctype, name in named:
		if name and (doctype, name) not in linked and (doctype, name) not in kept:
			frappe.throw(
				_("{0}: {1} {2} is not linked to customer {3}; pick one of the customer's own.").format(
					label, _(doctype), name, doc.customer
				),
				title=_("Wrong Customer"),
			)


# --- validation the controller calls ------------------------------------------------------


def check_no_open_duplicate(doc):
	"""One onboarding, one open handoff: an order has one, and so has a customer. A handoff made by
	hand (or moved to another customer, or reopened) for a customer with an open handoff is refused,
	as the order's hook drafts none then (tester A1: a second open Draft was made through REST).
	Checked when the handoff becomes the customer's open one, so two open ones a site already has
	can still be saved until one is closed."""
	check_no_open_handoff_of_customer(doc)
	if not doc.sales_order or doc.status == ACCEPTED:
		return
	other = frappe.db.get_value(
		"Sales Handoff",
		{
			"sales_order": doc.sales_order,
			"status": ("in", engine.OPEN_STATUSES),
			"name": ("!=", doc.name or ""),
		},
		"name",
	)
	if other:
		frappe.throw(
			_("Sales Order {0} already has an open handoff, {1}: complete that one instead.").format(
				doc.sales_order, handoff_named(other)
			),
			frappe.DuplicateEntryError,
			title=_("Duplicate Handoff"),
		)


def check_no_open_handoff_of_customer(doc):
	if not doc.customer or doc.status not in engine.OPEN_STATUSES:
		return
	before = doc.get_doc_before_save()
	if before and before.customer == doc.customer and before.status in engine.OPEN_STATUSES:
		return  # it was already the customer's open handoff
	other = frappe.db.get_value(
		"Sales Handoff",
		{"customer": doc.customer, "status": ("in", engine.OPEN_STATUSES), "name": ("!=", doc.name or "")},
		"name",
	)
	if other:
		frappe.throw(
			_("{0} already has an open handoff, {1}: complete or cancel that one instead.").format(
				doc.customer_name or doc.customer, handoff_named(other)
			),
			frappe.DuplicateEntryError,
			title=_("Duplicate Handoff"),
		)


def handoff_named(name: str) -> str:
	"""A handoff as a message names it: by its name for whoever may open it, else as one the user
	may not open (its name told a Sales User of another book's customer which record it was)."""
	if frappe.has_permission("Sales Handoff", "read", doc=name):
		return name
	return _("one you may not open")


def check_contract_dates(doc):
	if doc.contract_start and doc.contract_end and getdate(doc.contract_end) < getdate(doc.contract_start):
		frappe.throw(
			_("Contract End ({0}) cannot be before Contract Start ({1}).").format(
				format_date(doc.contract_end), format_date(doc.contract_start)
			)
		)


def check_go_live(doc):
	"""A target go-live set or changed lies on or after the day the order came in (a go-live in
	1999 was accepted, and then shaped the plan's dates)."""
	if not doc.target_go_live or not (doc.is_new() or doc.has_value_changed("target_go_live")):
		return
	received = getdate(doc.order_received_on or doc.creation or frappe.utils.nowdate())
	if getdate(doc.target_go_live) < received:
		frappe.throw(
			_("Target Go-Live ({0}) cannot be before the order was received ({1}).").format(
				format_date(doc.target_go_live), format_date(received)
			),
			title=_("Target Go-Live"),
		)


def check_use_cases(doc):
	check_use_case_counts(doc)
	if len(doc.use_cases) > engine.MAX_USE_CASES:
		frappe.throw(
			_("List at most {0} top use cases (there are {1}): keep the ones that matter most.").format(
				engine.MAX_USE_CASES, len(doc.use_cases)
			),
			title=_("Top Use Cases"),
		)


def check_use_case_counts(doc):
	"""A use case whose unit counts things (teams, reports) has no baseline or target below zero: it
	becomes an objective of the first plan, where a count never is. Only what this save typed or
	changed is checked (a handoff stored earlier still saves)."""
	from customer_success.success_plans import engine as plan_engine
	from customer_success.success_plans.service import typed_below_zero

	before = None if doc.is_new() else doc.get_doc_before_save()
	stored = {row.name: row for row in (before.use_cases if before else [])}
	for row in doc.use_cases:
		if plan_engine.guess_metric_kind(row.unit) != plan_engine.COUNT:
			continue
		old = stored.get(row.name)
		for fieldname in ("baseline", "target"):
			if not typed_below_zero(row, old, fieldname):
				continue
			frappe.throw(
				_(
					"Top Use Cases row {0} ({1}): {2} cannot be below zero: {3} is a count (it is {4})."
				).format(
					row.idx, row.use_case, _(row.meta.get_label(fieldname)), row.unit, row.get(fieldname)
				),
				title=_("Invalid Objective Value"),
			)


def set_stakeholder_names(doc):
	for row in doc.stakeholders:
		if not (row.stakeholder_name or "").strip() and not row.contact:
			frappe.throw(
				_("Key Stakeholders row {0}: enter the stakeholder's name or pick a contact.").format(row.idx)
			)
		if row.contact and not row.stakeholder_name:
			row.stakeholder_name = frappe.db.get_value("Contact", row.contact, "full_name")


def keep_action_fields(doc):
	"""Outside the actions, the SLA and history fields keep their stored values, silently.

	A stale form or a REST client may send anything for them; a new handoff starts with none
	(its order's receipt time comes from the order, or from the Sales Order hook).
	"""
	if doc.flags.status_change:
		return
	before = None
	if not doc.is_new():
		before = doc.get_doc_before_save() or frappe.get_doc(doc.doctype, doc.name)
	for fieldname in engine.ACTION_FIELDS:
		doc.set(fieldname, before.get(fieldname) if before else None)
	if before:
		doc.owner = before.owner  # who drafted it is history too
	if not before:
		doc.return_count = 0
		doc.order_received_on = doc.flags.order_received_on or (
			doc.sales_order and frappe.db.get_value("Sales Order", doc.sales_order, "creation")
		)


def check_complete(doc):
	result = engine.completeness(doc.as_dict())
	if result.can_hand_over:
		return
	missing = [_(label) for label in result.missing_required]
	rows = engine.incomplete_use_cases(doc.as_dict())
	if rows:
		missing.append(
			_(
				"Top Use Cases rows {0} need a metric, and a target apart from the baseline in the direction the metric should move"
			).format(", ".join(map(str, rows)))
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


def check_not_cancelled(doc):
	"""A handoff cancelled with its order takes no action; the message says how to reopen it."""
	if not doc or doc.status != CANCELLED:
		return
	if doc.sales_order:
		message = _(
			"Handoff {0} was cancelled with its Sales Order {1}: amend the order to reopen it, or hand over the customer's new order."
		).format(doc.name, doc.sales_order)
	else:
		message = _(
			"Handoff {0} was cancelled with its Sales Order: hand over the customer's new order."
		).format(doc.name)
	frappe.throw(message, title=_("Cancelled Handoff"))


def check_edit_rights(doc, editable_by_sales):
	"""Sales edits until hand-over; after that only a CS Manager may change the content."""
	# Actions save with status_change set, but a client could send an edited document with
	# them: content is checked whatever the route.
	if doc.is_new() or frappe.flags.in_install or frappe.flags.in_migrate:
		return
	before = doc.get_doc_before_save()
	if not before or not changed_content_fields(doc, before, engine.SYSTEM_FIELDS):
		return
	user = frappe.session.user
	if sees_all(user):
		return
	if before.status not in editable_by_sales:
		frappe.throw(
			_("Handoff {0} is {1}: only a CS Manager can change it now.").format(doc.name, _(before.status)),
			frappe.PermissionError,
		)
	if not is_sales(user) and before.owner != user:
		frappe.throw(
			_("Sales completes Handoff {0}; as a CSM you can accept or return it once handed over.").format(
				doc.name
			),
			frappe.PermissionError,
		)


class IncompleteHandoffError(frappe.ValidationError):
	pass


def move_customer(customer: str, values: dict):
	"""Write the accepted handoff's CSM (and stage) onto the Customer, and let the revenue roll-up
	follow the customer to its new book."""
	from customer_success.customer_success.book_counts import recording
	from customer_success.renewals.service import (
		customer_book_changed,
		leaks_follow_customers,
		move_retention_parts,
	)

	old_csm, disabled = frappe.db.get_value("Customer", customer, ["cs_owner", "disabled"])
	with recording([customer]):  # the book roll-up (team cards) follows the customer too
		frappe.db.set_value("Customer", customer, values)
	customer_book_changed(customer, old_csm, disabled, values.get("cs_owner", old_csm), disabled)
	if "cs_lifecycle_stage" in values:
		leaks_follow_customers([customer])  # Revenue Leakage's leak table follows the stage
	move_retention_parts([customer])  # its retention part follows its CS Owner and stage
	if "cs_owner" in values:
		from customer_success.alerts.queries import sync_alert_csms
		from customer_success.customer_success.handover import hand_over_open_work

		sync_alert_csms(customer)  # its open alerts follow it to the new CSM
		hand_over_open_work(customer, old_csm, values["cs_owner"])  # and the old CSM's open work
