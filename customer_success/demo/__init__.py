"""A believable book of business for trying the app on a site with ERPNext.

    bench --site SITE execute customer_success.demo.setup_demo
    bench --site SITE execute customer_success.demo.teardown_demo

Every record the demo makes is written down in a registry (a site default), so running setup
twice creates nothing new and teardown removes exactly what setup made, including the ledger
entries its invoices and payments posted. Dates are relative to today, so the book stays
current: some contracts renew soon, some invoices are overdue, some tickets breach their SLA.
"""

import json
import random
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import add_days, add_to_date, get_datetime, getdate, now_datetime, nowdate

from customer_success.utils import (
	delete_todos,
	ensure_fiscal_years,
	ensure_service_item,
	leaf,
	users_not_throttled,
)

REGISTRY_KEY = "customer_success_demo_records"
DOMAIN = "example.com"
SEED = 20261123

CSMS = (
	("alice.csm", "Alice", "Lam"),
	("bruno.csm", "Bruno", "Costa"),
	("chen.csm", "Chen", "Wei"),
)
CS_MANAGER = ("morgan.csmanager", "Morgan", "Reyes")

ITEMS = (
	("CSD Platform Subscription", 12000),
	("CSD Onboarding Services", 5000),
	("CSD Premium Support", 3000),
)

CUSTOMER_NAMES = (
	"Aurora Analytics",
	"Blue Harbor Logistics",
	"Cedar Lane Clinics",
	"Delta Forge Manufacturing",
	"Evergreen Foods",
	"Falcon Ridge Energy",
	"Granite Peak Insurance",
	"Harbourview Hotels",
	"Ironwood Construction",
	"Juniper Health",
	"Keystone Retail Group",
	"Lighthouse Learning",
	"Maple Grove Dairy",
	"Northwind Traders",
	"Oakridge Pharmaceuticals",
	"Pinecrest Properties",
	"Quartz Semiconductors",
	"Redwood Media",
	"Silverline Telecom",
	"Tidewater Shipping",
	"Umber Textiles",
	"Vantage Capital",
	"Willow Creek Farms",
	"Xenon Labs",
	"Yellowstone Outfitters",
	"Zephyr Airlines",
	"Atlas Engineering",
	"Beacon Security",
	"Cobalt Mining",
	"Driftwood Furniture",
	"Ember Cafe Chain",
	"Fjord Fisheries",
	"Golden Gate Legal",
	"Helix Biotech",
	"Indigo Fashion",
	"Jasper Automotive",
	"Kestrel Drones",
	"Lumen Solar",
	"Meridian Travel",
	"Nimbus Cloud Services",
	"Orchid Cosmetics",
	"Prairie Grain Co",
	"Quill Publishing",
	"Riverbend Water",
	"Sable Apparel",
	"Terra Nova Mining",
	"Upland Breweries",
	"Vertex Robotics",
	"Wavecrest Marine",
	"Zenith Sports",
)

SUBJECTS = (
	"Cannot export report to Excel",
	"Login fails for new users",
	"Invoice PDF layout broken",
	"Slow dashboard load",
	"API rate limit questions",
	"Data import stuck",
	"Permission error on save",
	"Email notifications not arriving",
	"Integration sync failed",
	"Need help with workflow setup",
)
# Later parts of the product add their demo data here: dotted paths of functions called as
# fn(registry, book) after the customers exist. Each must be idempotent (check the registry)
# and register what it creates with `remember(registry, doc)`.
DEMO_STEPS: tuple[str, ...] = (
	"customer_success.demo.handoffs.make_demo_handoffs",
	"customer_success.demo.plans.make_demo_plans",
	"customer_success.demo.usage.make_demo_usage",
	"customer_success.demo.alerts.make_demo_alerts",
	"customer_success.demo.segments.make_demo_segments",
	"customer_success.demo.maturity.make_demo_assessments",
	"customer_success.demo.voice.make_demo_voice",
	"customer_success.demo.renewals.make_demo_renewals",
	"customer_success.demo.reports.make_demo_history",
)
# Bulk data a step writes without registering each row: removed first on teardown, as fn(registry).
DEMO_TEARDOWN_STEPS: tuple[str, ...] = ("customer_success.demo.usage.delete_demo_usage",)

TOUCHES = (
	("Meeting", "Quarterly check-in"),
	("Phone", "Adoption call"),
	("Email", "Follow-up on training"),
	("Meeting", "Executive sponsor sync"),
	("Phone", "Renewal planning call"),
)


# --- the registry ---------------------------------------------------------------------------


# What the demo made, kept in the site's defaults under a parent of its own (REGISTRY_PARENT, not the
# site's global defaults: those are sent to every desk user's browser on every page load, and each
# change to one clears the whole site cache): under REGISTRY_KEY the doctypes in the order they were
# first made, and each doctype's names under a key of their own (`_registry_key`). A default holds at
# most 64 KB: the whole registry of a 50-customer book is ~40 KB with ERPNext's default naming.
# A registry kept by a version before sits in the global defaults, whole or split: it is read from
# there, and moved on the next save.
REGISTRY_PARENT = "__customer_success_demo"


def _registry_key(doctype: str) -> str:
	return f"{REGISTRY_KEY}:{doctype}"


def _stored_index(parent: str) -> list[str] | dict[str, list[str]]:
	"""What REGISTRY_KEY holds under `parent`: the doctypes (the registry split), the whole registry
	(kept whole by a version before), or nothing."""
	raw = frappe.db.get_default(REGISTRY_KEY, parent=parent)
	return json.loads(raw) if raw else []


def _stored_keys(parent: str) -> list[str]:
	stored = _stored_index(parent)
	if not stored:
		return []
	return [REGISTRY_KEY] if isinstance(stored, dict) else [REGISTRY_KEY, *map(_registry_key, stored)]


def _read_registry(parent: str) -> dict[str, list[str]]:
	stored = _stored_index(parent)
	if isinstance(stored, dict):
		return stored
	return {
		doctype: json.loads(frappe.db.get_default(_registry_key(doctype), parent=parent) or "[]")
		for doctype in stored
	}


def _load_registry() -> dict[str, list[str]]:
	return _read_registry(REGISTRY_PARENT) or _read_registry("__default")


def _save_registry(registry: dict[str, list[str]]):
	"""Each doctype's names, then the doctypes (frappe writes a default only when it changed); a
	registry left in the global defaults by a version before is removed from there."""
	for key in _stored_keys("__default"):
		frappe.db.set_default(key, None)
	for key in set(_stored_keys(REGISTRY_PARENT)) - {REGISTRY_KEY, *map(_registry_key, registry)}:
		frappe.db.set_default(key, None, parent=REGISTRY_PARENT)
	for doctype, names in registry.items():
		frappe.db.set_default(_registry_key(doctype), json.dumps(names), parent=REGISTRY_PARENT)
	frappe.db.set_default(
		REGISTRY_KEY, json.dumps(list(registry)) if registry else None, parent=REGISTRY_PARENT
	)


def remember(registry, doc):
	registry.setdefault(doc.doctype, [])
	if doc.name not in registry[doc.doctype]:
		registry[doc.doctype].append(doc.name)


def is_demo_installed() -> bool:
	return bool(_load_registry().get("Customer"))


def has_demo_records() -> bool:
	"""Whether the demo's registry names anything it made (its customers, or what a teardown that
	stopped half-way left)."""
	return bool(_load_registry())


# --- setup ---------------------------------------------------------------------------------


def setup_demo(customers: int = 50):
	"""Create the demo book (idempotent). Returns a summary of what exists."""
	frappe.only_for(("System Manager", "Administrator"))
	registry = _load_registry()
	company = _company()
	rng = random.Random(SEED)
	users = _make_users(registry)
	items = _make_items(registry)
	profiles = [_profile(rng, i, users) for i in range(min(customers, len(CUSTOMER_NAMES)))]
	_ensure_fiscal_years(registry, company, min(p["first_start"] for p in profiles))
	_save_registry(registry)
	frappe.db.commit()  # nosemgrep: each step is committed so a failure midway can be resumed

	# The demo's orders draft no handoff by themselves: the handoff step makes a deliberate set.
	# (Drafting then deleting them would make new handoffs reuse the deleted names.)
	auto_draft = frappe.db.get_single_value("Customer Success Settings", "auto_draft_handoff")
	frappe.db.set_single_value("Customer Success Settings", "auto_draft_handoff", 0)
	try:
		made = _demo_customers(registry)
		for profile in profiles:
			if profile["customer_name"] in made:
				profile["name"] = made[profile["customer_name"]]
				continue
			_make_customer_book(registry, company, items, profile, rng)
			_save_registry(registry)
			frappe.db.commit()  # nosemgrep
	except Exception:
		# a customer's book half made (an order submitted, an invoice the ledger refused) is not kept:
		# the books before it are, and a second run goes on from it
		frappe.db.rollback()
		raise
	finally:
		frappe.db.set_single_value("Customer Success Settings", "auto_draft_handoff", auto_draft)
		frappe.db.commit()  # nosemgrep

	book = {
		"company": company,
		"customers": profiles,
		"csms": users,
		"cs_manager": f"{CS_MANAGER[0]}@{DOMAIN}",
	}
	for step in DEMO_STEPS:
		frappe.get_attr(step)(registry, book)
		_save_registry(registry)
		frappe.db.commit()  # nosemgrep

	# Score the demo's own customers so the workspace and forms show health straight away (the
	# site's other customers are left to the nightly run: the demo writes nothing about them).
	from customer_success.health.service import load_models, score_range

	models = load_models()
	for name in registry.get("Customer", []):
		score_range(name, name, models=models)
	frappe.db.commit()  # nosemgrep

	# Business reviews read health from the score history: snapshot them once there is one.
	frappe.get_attr("customer_success.demo.plans.refresh_demo_reviews")(registry)
	frappe.db.commit()  # nosemgrep

	# Renewal checkpoints read their signal from the score history too: record the calls now.
	frappe.get_attr("customer_success.demo.renewals.refresh_demo_renewals")(registry)
	_save_registry(registry)
	frappe.db.commit()  # nosemgrep

	# The alert rules as the first night will run them, now that every step has written.
	frappe.get_attr("customer_success.demo.alerts.settle_demo_alerts")(registry)
	_save_registry(registry)
	frappe.db.commit()  # nosemgrep
	return demo_summary()


def demo_summary() -> dict[str, int]:
	return {doctype: len(names) for doctype, names in _load_registry().items()}


def _company() -> str:
	import erpnext

	company = erpnext.get_default_company() or frappe.db.get_value("Company", {}, "name")
	if not company:
		frappe.throw(
			frappe._("Complete the ERPNext setup wizard (create a company) before loading the demo.")
		)
	return company


def new_user(email: str, first: str, last: str, user_type: str, roles: tuple = ()):
	"""A demo user, made with no welcome email, where frappe's hourly limit on new users would have
	refused it (`users_not_throttled`)."""
	with users_not_throttled():
		return frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": first,
				"last_name": last,
				"send_welcome_email": 0,
				"user_type": user_type,
				"roles": [{"role": role} for role in roles],
			}
		).insert(ignore_permissions=True)


def _make_users(registry) -> list[str]:
	from frappe.contacts.doctype.contact.contact import get_contact_name
	from frappe.core.doctype.user.user import create_contact

	csms = []
	for prefix, first, last in (*CSMS, CS_MANAGER):
		email = f"{prefix}@{DOMAIN}"
		if not frappe.db.exists("User", email):
			had_contact = get_contact_name(email)
			user = new_user(email, first, last, "System User")
			remember(registry, user)
			if not had_contact:
				# Frappe makes a user's Contact in a job after commit; make it now, so the demo
				# knows it made it and teardown removes it (and never a contact that was there).
				create_contact(user, ignore_mandatory=True)
				contact = get_contact_name(email)
				if contact:
					remember(registry, frappe._dict(doctype="Contact", name=contact))
		user = frappe.get_doc("User", email)
		roles = ["CS Manager"] if prefix == CS_MANAGER[0] else ["Customer Success Manager"]
		user.add_roles(*roles, "Sales User", "Support Team")
		if prefix != CS_MANAGER[0]:
			csms.append(email)
	_no_notification_emails(registry.get("User", []))
	return csms


def _no_notification_emails(users: list[str]):
	"""The demo's own users live at placeholder addresses no mail reaches: their bell notifications
	(assignments, alerts) stay, but none is emailed. Frappe emails each notification as it is made,
	and on a site without an outgoing Email Account every one of them logs "Failed to send
	notification email" to the Error Log. A user the demo did not make is left as it is."""
	from frappe.desk.doctype.notification_settings.notification_settings import (
		create_notification_settings,
	)

	for user in users:
		if frappe.db.exists("User", user):
			create_notification_settings(user)
			frappe.db.set_value("Notification Settings", user, "enable_email_notifications", 0)


def _make_items(registry) -> dict[str, float]:
	for code, rate in ITEMS:
		if not frappe.db.exists("Item", code):
			remember(registry, frappe.get_doc("Item", ensure_service_item(code, rate)))
	return dict(ITEMS)


def _profile(rng: random.Random, index: int, csms: list[str]) -> dict:
	"""Decide, reproducibly, what kind of customer number `index` is."""
	today = getdate(nowdate())
	health = rng.choices(("healthy", "middling", "at_risk"), weights=(50, 25, 25))[0]
	seats = rng.choice((1, 1, 2, 3, 5, 8, 12, 20))
	annual = seats * ITEMS[0][1]
	days_into_term = rng.randint(20, 355)
	term_start = add_days(today, -days_into_term)
	terms = 2 if rng.random() < 0.55 else 1
	first_start = getdate(add_days(term_start, -365 * (terms - 1)))
	if annual >= 200000:
		tier = "Strategic"
	elif annual >= 80000:
		tier = "Enterprise"
	elif annual >= 25000:
		tier = "Mid-Market"
	else:
		tier = "SMB"
	return {
		# "name" is the Customer's own name once it is made (`_make_customer_book`): the site names
		# it, by its customer name (" - 1" after one the site already has) or by a naming series
		"name": CUSTOMER_NAMES[index],
		"customer_name": CUSTOMER_NAMES[index],
		"health": health,
		"seats": seats,
		"annual": annual,
		"tier": tier,
		"csm": csms[index % len(csms)],
		"term_start": getdate(term_start),
		"first_start": first_start,
		"terms": terms,
		"stage": "Onboarding"
		if days_into_term < 60 and terms == 1
		else ("Renewal" if days_into_term > 275 else "Adoption"),
	}


def _demo_customers(registry) -> dict[str, str]:
	"""{customer name: Customer} of the customers the demo made: its steps and a resumed run reach
	each profile's customer by the name the site gave it, never by its customer name alone (a site
	naming customers by a series, or one with a customer of that name already, names it otherwise)."""
	names = registry.get("Customer") or []
	if not names:
		return {}
	return dict(
		frappe.get_all(
			"Customer", filters={"name": ("in", names)}, fields=["customer_name", "name"], as_list=True
		)
	)


def _ensure_fiscal_years(registry, company: str, earliest):
	"""The demo posts from its first customer's first term to the end of next year: the years it
	needs, of the site's own shape (`utils.ensure_fiscal_years`), made and remembered."""
	last = f"{getdate(nowdate()).year + 1}-12-31"
	for year in ensure_fiscal_years(earliest, last, company, "CS Demo"):
		remember(registry, year)


def _make_customer_book(registry, company, items, profile, rng: random.Random):
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": profile["customer_name"],
			"customer_type": "Company",
			"customer_group": leaf("Customer Group", "Commercial"),
			"territory": leaf("Territory"),
			"cs_owner": profile["csm"],
			"cs_tier": profile["tier"],
			"cs_lifecycle_stage": profile["stage"],
			"cs_annual_revenue": profile["annual"],
		}
	).insert(ignore_permissions=True)
	remember(registry, customer)
	profile["name"] = customer.name

	contact = _make_contact(registry, customer.name, rng)
	customer.db_set("customer_primary_contact", contact.name, update_modified=False)

	for term in range(profile["terms"]):
		start = getdate(add_days(profile["first_start"], 365 * term))
		order = _make_sales_order(registry, company, customer.name, profile, items, start)
		_make_contract(registry, customer.name, contact, start, order)
		current = term == profile["terms"] - 1
		_make_invoices(registry, company, customer.name, profile, order, start, rng, current)

	_make_issues(registry, company, customer.name, profile, rng)
	_make_communications(registry, customer.name, contact, profile, rng)


def _make_contact(registry, customer: str, rng):
	first = rng.choice(
		("Jamie", "Priya", "Lukas", "Sofia", "Mateo", "Aiko", "Noah", "Fatima", "Oliver", "Mei")
	)
	last = rng.choice(("Nguyen", "Schmidt", "Okafor", "Rossi", "Tanaka", "Silva", "Kowalski", "Haddad"))
	slug = frappe.scrub(customer).replace("_", "")[:20]
	contact = frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": first,
			"last_name": last,
			"designation": rng.choice(("VP Operations", "Head of Finance", "IT Director", "COO")),
			"email_ids": [{"email_id": f"{first.lower()}.{last.lower()}@{slug}.{DOMAIN}", "is_primary": 1}],
			"phone_nos": [{"phone": f"+1-555-{rng.randint(1000, 9999)}", "is_primary_phone": 1}],
			"is_primary_contact": 1,
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	).insert(ignore_permissions=True)
	remember(registry, contact)
	return contact


def _make_sales_order(registry, company, customer, profile, items, start):
	lines = [{"item_code": ITEMS[0][0], "qty": profile["seats"], "rate": items[ITEMS[0][0]]}]
	if start == profile["first_start"]:
		lines.append({"item_code": ITEMS[1][0], "qty": 1, "rate": items[ITEMS[1][0]]})
	if profile["tier"] in ("Strategic", "Enterprise"):
		lines.append({"item_code": ITEMS[2][0], "qty": 1, "rate": items[ITEMS[2][0]]})
	order = frappe.get_doc(
		{
			"doctype": "Sales Order",
			"customer": customer,
			"company": company,
			"transaction_date": start,
			"delivery_date": add_days(start, 14),
			"items": [{**line, "delivery_date": add_days(start, 14)} for line in lines],
		}
	)
	order.flags.ignore_permissions = True
	order.insert()
	order.submit()
	remember(registry, order)
	return order


def _make_contract(registry, customer, contact, start, order):
	contract = frappe.get_doc(
		{
			"doctype": "Contract",
			"party_type": "Customer",
			"party_name": customer,
			"start_date": start,
			"end_date": add_days(start, 364),
			"contract_terms": "<p>Annual subscription to the platform, renewing yearly unless cancelled 30 days before the end date.</p>",
			"is_signed": 1,
			"signee": f"{contact.first_name} {contact.last_name}",
			"signed_on": get_datetime(start),
			"document_type": "Sales Order",
			"document_name": order.name,
		}
	)
	contract.flags.ignore_permissions = True
	contract.insert()
	contract.submit()
	remember(registry, contract)
	return contract


def _make_invoices(registry, company, customer, profile, order, start, rng, current=True):
	"""Quarterly invoices for the term up to today: paid, except what this customer lets slip in
	the current term (a live account with invoices unpaid for over a year is not a fair picture)."""
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	today = getdate(nowdate())
	# Bill a quarter of the subscription line each time: ERPNext refuses billing past the order line.
	quarterly = order.items[0].amount / 4.0
	posting_dates = [
		getdate(add_days(start, 91 * q)) for q in range(4) if getdate(add_days(start, 91 * q)) <= today
	]
	unpaid_tail = {"healthy": 0, "middling": rng.choice((0, 1)), "at_risk": rng.choice((1, 2))}[
		profile["health"]
	]
	if not current:
		unpaid_tail = 0
	for position, posting_date in enumerate(posting_dates):
		due_date = getdate(add_days(posting_date, 30))
		invoice = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"customer": customer,
				"company": company,
				"set_posting_time": 1,
				"posting_date": posting_date,
				"due_date": due_date,
				"items": [
					{
						"item_code": ITEMS[0][0],
						"qty": 1,
						"rate": quarterly,
						"sales_order": order.name,
						"so_detail": order.items[0].name,
					}
				],
			}
		)
		invoice.flags.ignore_permissions = True
		invoice.insert()
		invoice.submit()
		remember(registry, invoice)
		is_tail = position >= len(posting_dates) - unpaid_tail
		not_due_yet = due_date > today
		if is_tail or not_due_yet:
			continue
		payment = get_payment_entry("Sales Invoice", invoice.name)
		paid_on = add_days(
			posting_date, rng.randint(5, 28) if profile["health"] != "at_risk" else rng.randint(25, 60)
		)
		payment.posting_date = min(getdate(paid_on), today)
		payment.reference_no = f"DEMO-{invoice.name}"
		payment.reference_date = payment.posting_date
		payment.flags.ignore_permissions = True
		payment.insert()
		payment.submit()
		remember(registry, payment)


def _make_issues(registry, company, customer, profile, rng):
	low, high = {"healthy": (0, 2), "middling": (1, 4), "at_risk": (3, 8)}[profile["health"]]
	priorities = [p for p in ("Low", "Medium", "High") if frappe.db.exists("Issue Priority", p)]
	for _issue in range(rng.randint(low, high)):
		opened = add_to_date(get_datetime(nowdate()), days=-rng.randint(1, 80), hours=rng.randint(8, 17))
		open_now = (profile["health"] == "at_risk" and rng.random() < 0.6) or rng.random() < 0.15
		issue = frappe.get_doc(
			{
				"doctype": "Issue",
				"subject": rng.choice(SUBJECTS),
				"customer": customer,
				"company": company,
				"priority": rng.choice(priorities) if priorities else None,
				"status": "Open" if open_now else "Closed",
				"raised_by": f"support@{frappe.scrub(customer).replace('_', '')[:20]}.{DOMAIN}",
			}
		)
		issue.flags.ignore_permissions = True
		issue.insert()
		remember(registry, issue)
		# History happened before the demo existed: back-date it, and record how the SLA went.
		breached = (profile["health"] == "at_risk" and rng.random() < 0.5) or rng.random() < 0.05
		frappe.db.set_value(
			"Issue",
			issue.name,
			{
				"opening_date": opened.date(),
				"opening_time": opened.time(),
				"creation": opened,
				"response_by": add_to_date(opened, hours=8),
				"first_responded_on": add_to_date(opened, hours=20 if breached else 2),
				"agreement_status": "Failed"
				if breached
				else ("First Response Due" if open_now else "Fulfilled"),
			},
			update_modified=False,
		)


def _make_communications(registry, customer, contact, profile, rng):
	low, high = {"healthy": (0, 14), "middling": (15, 50), "at_risk": (60, 150)}[profile["health"]]
	last_touch = rng.randint(low, high)
	for n in range(rng.randint(1, 4)):
		medium, subject = rng.choice(TOUCHES)
		when = add_to_date(get_datetime(nowdate()), days=-(last_touch + 30 * n), hours=10)
		comm = frappe.get_doc(
			{
				"doctype": "Communication",
				"communication_type": "Communication",
				"communication_medium": medium,
				"sent_or_received": "Sent",
				"subject": f"{subject} — {customer}",
				"content": f"{subject} with {contact.first_name} {contact.last_name}.",
				"communication_date": when,
				"reference_doctype": "Customer",
				"reference_name": customer,
				"status": "Linked",
			}
		)
		comm.flags.ignore_permissions = True
		comm.insert()
		remember(registry, comm)


# --- teardown ------------------------------------------------------------------------------

# Dependants before what they depend on.
TEARDOWN_ORDER = (
	"Payment Entry",
	"Sales Invoice",
	"Contract",
	"Sales Order",
	"Communication",
	"Issue",
	"Contact",
	"Customer",
	"Item",
	"User",
	"Fiscal Year",
)


def teardown_demo():
	"""Remove exactly what setup_demo made, ledger entries and health history included."""
	frappe.only_for(("System Manager", "Administrator"))
	registry = _load_registry()
	if not registry:
		return {}
	removed: dict[str, int] = {}
	previous = frappe.db.get_single_value("Accounts Settings", "delete_linked_ledger_entries")
	frappe.db.set_single_value("Accounts Settings", "delete_linked_ledger_entries", 1)
	try:
		with cleanups_at_once():
			_teardown(registry, removed)
	finally:
		frappe.db.set_single_value("Accounts Settings", "delete_linked_ledger_entries", previous)
	_save_registry({})
	frappe.db.commit()  # nosemgrep
	return removed


def _teardown(registry, removed: dict[str, int]):
	from customer_success.health.queries import delete_history_of

	since = now_datetime()
	# the milestones its plans made from their templates (not registered: they go with their plan)
	milestones = frappe.get_all(
		"Success Plan Milestone",
		filters={"success_plan": ("in", registry.get("Success Plan") or [""])},
		pluck="name",
	)
	# scores are written by the recompute, not by setup (the Health Trend counts their periods again)
	delete_history_of(registry.get("Customer", []))
	for step in DEMO_TEARDOWN_STEPS:
		frappe.get_attr(step)(registry)
	# Our own doctypes (added by DEMO_STEPS) depend on ERPNext records, so they go first,
	# latest registered first; then ERPNext's records, dependants before what they depend on.
	ours = [d for d in reversed(list(registry)) if d not in TEARDOWN_ORDER]
	for doctype in (*ours, *TEARDOWN_ORDER):
		for name in reversed(registry.get(doctype, [])):
			if _delete(doctype, name):
				removed[doctype] = removed.get(doctype, 0) + 1
		_forget_deletions(doctype, registry.get(doctype, []), since)
		registry.pop(doctype, None)
		_save_registry(registry)
		frappe.db.commit()  # nosemgrep: resumable teardown
	_forget_deletions("Success Plan Milestone", milestones, since)
	frappe.db.commit()  # nosemgrep


def _forget_deletions(doctype: str, names: list, since):
	"""The traces frappe leaves of the records the teardown deleted (since `since`): the "Deleted"
	feed comment of each, and the Deleted Document of each one a cascade deleted (a plan's
	milestones; a user's notification settings), which could restore a milestone of a plan that is
	gone. Only these records' own, named and made during this teardown."""
	if not names:
		return
	doctypes = [doctype, "Notification Settings"] if doctype == "User" else [doctype]
	for kind in doctypes:
		frappe.db.delete(
			"Deleted Document",
			{"deleted_doctype": kind, "deleted_name": ("in", names), "creation": (">=", since)},
		)
		frappe.db.delete(
			"Comment",
			{
				"comment_type": "Deleted",
				"reference_doctype": kind,
				"subject": ("in", [f"{_(kind)} {name}" for name in names]),
				"creation": (">=", since),
			},
		)


def _delete(doctype: str, name: str) -> bool:
	if not frappe.db.exists(doctype, name):
		return False
	if frappe.get_meta(doctype).is_submittable and frappe.db.get_value(doctype, name, "docstatus") == 1:
		doc = frappe.get_doc(doctype, name)
		doc.flags.ignore_permissions = True
		doc.cancel()
	frappe.delete_doc(doctype, name, ignore_permissions=True, force=True, delete_permanently=True)
	return True


CLEANUP = "frappe.model.delete_doc.delete_dynamic_links"


@contextmanager
def cleanups_at_once():
	"""Within it, frappe's clean-up of each deleted record (`delete_dynamic_links`: its ToDos,
	comments, versions and notifications; those of the records a deletion cascades to as well) runs
	at once, as frappe runs it under tests, instead of being queued for a worker. Queued, a teardown
	run from `bench execute` with no worker listening left all of them behind; and a demo set up
	again (the same customer names, naming series reverted by the deletions) would have lost its own
	to those jobs once a worker took them. The versions of the ToDos it removes go with them."""
	enqueue = frappe.enqueue

	def at_once(method, *args, **kwargs):
		if method != CLEANUP:
			return enqueue(method, *args, **kwargs)
		# frappe removes the record's ToDos in bulk, which leaves the ToDos' own versions: those first
		delete_todos(kwargs.get("doctype"), kwargs.get("name"))
		return enqueue(method, *args, **{**kwargs, "now": True})

	frappe.enqueue = at_once
	try:
		yield
	finally:
		frappe.enqueue = enqueue
