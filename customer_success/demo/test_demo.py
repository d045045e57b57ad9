import json
from unittest.mock import patch

import frappe
from frappe.query_builder.functions import Count
from frappe.tests.utils import FrappeTestCase

from customer_success import demo
from customer_success.alerts import service as alert_service
from customer_success.tests.utils import user_creation_unthrottled

COUNTED = (
	"Customer",
	"Contact",
	"Sales Order",
	"Contract",
	"Sales Invoice",
	"Payment Entry",
	"Issue",
	"Communication",
	"Item",
	"User",
	"Customer Health Score",
	"GL Entry",
	"Payment Ledger Entry",
	"Sales Handoff",
	"Success Plan",
	"Success Plan Milestone",
	"Success Plan Check-in",
	"Business Review",
	"ToDo",
	"Notification Log",
	"Success Plan Template",
	"Customer Segment",
	"Customer Touchpoint",
	"CS Maturity Assessment",
	"NPS Survey",
	"NPS Response",
	"CS Alert",
	"Renewal",
	"Subscription",
	"Subscription Plan",
	"Usage Metric Definition",
	"Customer Usage Metric",
	# frappe's traces of what teardown deleted ("Deleted" feed comments, cascaded Deleted Documents)
	"Comment",
	"Deleted Document",
)


# The demo book of the setup test: enough customers for some of its renewals to be renewed after the
# alerts step (with 3, none is, and the step that settles the alerts had nothing to settle).
BOOK = 8


def snapshot() -> dict[str, int]:
	return {doctype: frappe.db.count(doctype) for doctype in COUNTED}


def failed_notification_emails() -> list[tuple[str, str]]:
	"""(Error Log, user) of each notification frappe failed to email (no outgoing Email Account)."""
	log = frappe.qb.DocType("Error Log")
	notification = frappe.qb.DocType("Notification Log")
	return (
		frappe.qb.from_(log)
		.join(notification)
		.on(notification.name == log.reference_name)
		.select(log.name, notification.for_user)
		.where(
			(log.method == "Failed to send notification email")
			& (log.reference_doctype == "Notification Log")
		)
		.run()
	)


class TestDemo(FrappeTestCase):
	def setUp(self):
		if demo.is_demo_installed():
			self.skipTest("a demo book is loaded on this site; not touching it")
		# the demo makes its users on each run; on a fresh site with the whole suite's test users
		# made within the hour, frappe's signup throttle would otherwise decide these tests
		self.enterContext(user_creation_unthrottled())

	def test_setup_is_idempotent_and_teardown_leaves_no_residue(self):
		contacts_before = set(frappe.get_all("Contact", pluck="name"))
		started = frappe.utils.now_datetime()
		before = snapshot()
		failed_emails_before = set(failed_notification_emails())
		summary = demo.setup_demo(customers=BOOK)
		# the demo's people live at placeholder addresses: their assignments ring the bell, no email
		# is tried (none could go from a site without an outgoing account: an Error Log each)
		made_users = demo._load_registry().get("User", [])
		for user in made_users:
			self.assertEqual(
				frappe.db.get_value("Notification Settings", user, "enable_email_notifications"), 0, user
			)
		if made_users:  # the bell still rings for them
			self.assertTrue(
				frappe.db.count("Notification Log", {"for_user": ("in", made_users), "type": "Assignment"})
			)
		# (a user the demo did not make, say a CS Manager of the site's, is emailed as always)
		self.assertEqual(
			{user for _log, user in set(failed_notification_emails()) - failed_emails_before}
			& set(made_users),
			set(),
		)
		self.assertEqual(summary["Customer"], BOOK)
		for doctype in ("Sales Order", "Contract", "Sales Invoice", "Contact"):
			self.assertGreaterEqual(summary.get(doctype, 0), BOOK, doctype)
		customers = frappe.db.get_default(demo.REGISTRY_KEY, parent=demo.REGISTRY_PARENT)
		self.assertTrue(customers)
		# the book is scored straight away
		self.assertEqual(
			frappe.db.count(
				"Customer",
				{"name": ("in", demo._load_registry()["Customer"]), "cs_health_status": ("is", "set")},
			),
			BOOK,
		)
		# surveys and answers of every category, answered through their links
		answers = frappe.get_all(
			"NPS Response",
			filters={"customer": ("in", demo._load_registry()["Customer"])},
			fields=["category", "source", "survey"],
		)
		self.assertEqual({a.category for a in answers}, {"Promoter", "Passive", "Detractor"})
		self.assertTrue(all(a.source == "Survey Link" and a.survey for a in answers))
		# the first night finds the alerts as the rules leave them, though the renewals, the NPS
		# answers and the score history came after the alerts step: it raises, resolves and rewrites none
		names = demo._load_registry()["Customer"]
		first_night = alert_service.evaluate(min(names), max(names), names=set(names))
		self.assertEqual(
			(first_night["raised"], first_night["resolved"], first_night["updated"]), (0, 0, 0), first_night
		)
		after_first = snapshot()
		demo.setup_demo(customers=BOOK)
		self.assertEqual(snapshot(), after_first)

		# as `bench execute` runs it: frappe queues each deleted record's clean-up (its ToDos,
		# notifications, comments) for a worker, and none is listening; teardown leaves none of them
		in_test = frappe.flags.in_test
		frappe.flags.in_test = False
		try:
			removed = demo.teardown_demo()
		finally:
			frappe.flags.in_test = in_test
		self.assertEqual(removed["Customer"], BOOK)
		contacts_after = set(frappe.get_all("Contact", pluck="name"))
		self.assertEqual(
			contacts_after,
			contacts_before,
			(contacts_before - contacts_after, contacts_after - contacts_before),
		)
		self.assertEqual(snapshot(), before)
		self.assertFalse(demo.is_demo_installed())
		# nor the versions of the ToDos it made (frappe removes a record's ToDos in bulk, not theirs).
		# (Here the demo's ToDos make no versions: frappe saves without them under tests unless told
		# otherwise, so this holds without that clean-up too. On a site set up from `bench execute`,
		# ~100 of them were left a demo before it, and 4 more by the handoffs' own clean-up, which
		# `TestDelete` in the handoff's tests now checks with versions on.)
		version = frappe.qb.DocType("Version")
		todo = frappe.qb.DocType("ToDo")
		self.assertEqual(
			frappe.qb.from_(version)
			.left_join(todo)
			.on(todo.name == version.docname)
			.select(Count("*"))
			.where((version.ref_doctype == "ToDo") & (version.creation >= started) & todo.name.isnull())
			.run()[0][0],
			0,
		)

	def test_a_customer_book_that_fails_midway_is_not_kept(self):
		"""The ledger refusing one customer's invoice (a fiscal year missing, say) leaves no half-made
		book: its customer, order and contract are rolled back, the books before it are kept (and
		remembered for teardown), and the handoff setting the setup turned off is on again."""
		first, second = demo.CUSTOMER_NAMES[:2]
		if frappe.db.exists("Customer", {"customer_name": ("in", (first, second))}):
			self.skipTest("customers of the demo's names exist on this site")
		auto_draft = frappe.db.get_single_value("Customer Success Settings", "auto_draft_handoff")
		real = demo._make_invoices

		def refused(registry, company, customer, profile, *args):
			if profile["customer_name"] == second:
				raise frappe.ValidationError("the ledger refused an invoice")
			return real(registry, company, customer, profile, *args)

		try:
			with patch.object(demo, "_make_invoices", side_effect=refused):
				self.assertRaises(frappe.ValidationError, demo.setup_demo, customers=2)
			frappe.db.rollback()  # what the test's own transaction holds: only what was committed counts
			self.assertTrue(frappe.db.exists("Customer", {"customer_name": first}))
			for doctype, field in (("Customer", "customer_name"), ("Sales Order", "customer_name")):
				self.assertFalse(frappe.db.exists(doctype, {field: second}), doctype)
			self.assertFalse(frappe.db.exists("Contract", {"party_name": ("like", f"{second}%")}))
			self.assertEqual(demo._load_registry().get("Customer"), [first])
			self.assertEqual(
				frappe.db.get_single_value("Customer Success Settings", "auto_draft_handoff"), auto_draft
			)
		finally:
			if demo.is_demo_installed():
				demo.teardown_demo()
		self.assertFalse(frappe.db.exists("Customer", {"customer_name": first}))

	def test_teardown_keeps_users_and_contacts_that_were_there_before(self):
		"""The demo's CSM users may exist already (made by hand, or by an earlier demo), or only their
		contacts may: the demo uses them, and teardown leaves them alone."""
		from frappe.contacts.doctype.contact.contact import get_contact_name
		from frappe.core.doctype.user.user import create_contact

		people = (*demo.CSMS, demo.CS_MANAGER)
		made_users, made_contacts = [], []
		for index, (prefix, first, last) in enumerate(people):
			email = f"{prefix}@{demo.DOMAIN}"
			if index == 0 and not frappe.db.exists("User", email):
				# a contact with the CSM's address, and no user yet
				if not get_contact_name(email):
					contact = frappe.get_doc(
						{
							"doctype": "Contact",
							"first_name": first,
							"last_name": last,
							"email_ids": [{"email_id": email, "is_primary": 1}],
						}
					).insert(ignore_permissions=True)
					made_contacts.append(contact.name)
				continue
			if not frappe.db.exists("User", email):
				frappe.get_doc(
					{
						"doctype": "User",
						"email": email,
						"first_name": first,
						"last_name": last,
						"send_welcome_email": 0,
					}
				).insert(ignore_permissions=True)
				made_users.append(email)
			if not get_contact_name(email):
				create_contact(frappe.get_doc("User", email), ignore_mandatory=True)
		frappe.db.commit()  # nosemgrep: setup_demo commits; these records must outlive its rollbacks
		try:
			users_before = set(frappe.get_all("User", pluck="name"))
			theirs_emailed = {
				email: frappe.db.get_value("Notification Settings", email, "enable_email_notifications")
				for email in (f"{p}@{demo.DOMAIN}" for p, *_ in people)
				if frappe.db.exists("User", email)
			}
			contacts_before = set(frappe.get_all("Contact", pluck="name"))
			theirs = {get_contact_name(f"{p}@{demo.DOMAIN}") for p, *_ in people} - {""}
			self.assertLessEqual(theirs, contacts_before)

			demo.setup_demo(customers=2)
			demo.teardown_demo()

			self.assertEqual(set(frappe.get_all("User", pluck="name")), users_before)
			# users the demo did not make keep their notification settings
			for email, emailed in theirs_emailed.items():
				self.assertEqual(
					frappe.db.get_value("Notification Settings", email, "enable_email_notifications"),
					emailed,
					email,
				)
			contacts_after = set(frappe.get_all("Contact", pluck="name"))
			self.assertLessEqual(theirs, contacts_after, theirs - contacts_after)
			self.assertEqual(contacts_after, contacts_before)
		finally:
			if demo.is_demo_installed():
				demo.teardown_demo()
			for email in made_users:
				contact = get_contact_name(email)
				frappe.delete_doc("User", email, ignore_permissions=True, force=True)
				if contact:
					frappe.delete_doc("Contact", contact, ignore_permissions=True, force=True)
			for name in made_contacts:
				if frappe.db.exists("Contact", name):
					frappe.delete_doc("Contact", name, ignore_permissions=True, force=True)
			frappe.db.commit()  # nosemgrep: remove exactly what this test made

	def test_the_demo_reaches_its_customers_by_the_names_the_site_gives_them(self):
		"""On a site naming its customers by a series (Selling Settings), with a customer of its own
		called like the demo's first: the demo's customers are named by the series, and every step
		after the book (plans, usage, answers, renewals, scores, alerts) writes about them, never about
		the site's customer; a second run makes no second book; teardown leaves the site's customer."""
		names = demo.CUSTOMER_NAMES[:BOOK]
		if frappe.db.exists("Customer", {"customer_name": ("in", names)}):
			self.skipTest("customers of the demo's names exist on this site")
		theirs = frappe.get_doc(
			{"doctype": "Customer", "customer_name": names[0], "customer_type": "Company"}
		).insert(ignore_permissions=True)
		settings = frappe.get_doc("Selling Settings")
		naming = settings.cust_master_name
		frappe.db.commit()  # nosemgrep: setup_demo commits; the site's customer must outlive its rollbacks
		try:
			settings.cust_master_name = "Naming Series"
			settings.save()
			frappe.db.commit()  # nosemgrep
			demo.setup_demo(customers=BOOK)
			demo.setup_demo(customers=BOOK)  # resumed: finds its customers by the names they were given

			made = demo._load_registry()["Customer"]
			self.assertEqual(len(made), BOOK)
			self.assertNotIn(theirs.name, made)
			self.assertEqual(
				sorted(frappe.get_all("Customer", filters={"name": ("in", made)}, pluck="customer_name")),
				sorted(names),
			)
			self.assertFalse(set(made) & set(names), "named by the series, not by their customer names")
			for doctype in (
				"Success Plan",
				"Customer Usage Metric",
				"NPS Response",
				"Renewal",
				"Customer Health Score",
				"CS Alert",
				"Sales Order",
				"Issue",
			):
				self.assertFalse(frappe.db.exists(doctype, {"customer": theirs.name}), doctype)
				self.assertTrue(frappe.db.exists(doctype, {"customer": ("in", made)}), doctype)
		finally:
			if demo.is_demo_installed():
				demo.teardown_demo()
			settings.reload()
			settings.cust_master_name = naming
			settings.save()
			kept = frappe.db.exists("Customer", theirs.name)
			frappe.delete_doc("Customer", theirs.name, ignore_permissions=True, force=True)
			frappe.db.commit()  # nosemgrep: remove exactly what this test made
		self.assertTrue(kept)


class TestRegistry(FrappeTestCase):
	def test_a_registry_larger_than_one_default_holds_is_kept_whole(self):
		"""A default holds 64 KB; the registry (a 50-customer book: ~40 KB) is kept a doctype a key, in
		its order, out of the global defaults every desk user's browser is sent; and read back whole,
		as is one kept by a version before in the global defaults (whole, or split), which the next
		save moves."""
		if demo.is_demo_installed():
			self.skipTest("a demo book is loaded on this site; not touching its registry")
		registry = {
			"Sales Invoice": [f"ACC-SINV-2026-{n:05}" for n in range(2000)],
			"Customer": [f"CUST-2026-{n:05}" for n in range(50)],
			"Issue": [f"ISS-2026-{n:05}" for n in range(2000)],
		}
		self.assertGreater(len(json.dumps(registry)), 65535)

		def global_keys():
			return frappe.get_all(
				"DefaultValue",
				filters={"parent": "__default", "defkey": ("like", f"{demo.REGISTRY_KEY}%")},
				pluck="defkey",
			)

		try:
			demo._save_registry(registry)
			self.assertEqual(demo._load_registry(), registry)
			self.assertEqual(list(demo._load_registry()), ["Sales Invoice", "Customer", "Issue"])
			self.assertEqual(global_keys(), [])
			self.assertNotIn(demo.REGISTRY_KEY, frappe.defaults.get_defaults())  # what boot sends
			del registry["Issue"]
			demo._save_registry(registry)
			self.assertEqual(demo._load_registry(), registry)
			self.assertIsNone(frappe.db.get_default(demo._registry_key("Issue"), parent=demo.REGISTRY_PARENT))

			old = {"Customer": ["Aurora Analytics"], "Sales Order": ["SAL-ORD-2026-00001"]}
			for kept_before in (
				{demo.REGISTRY_KEY: json.dumps(old)},  # whole
				{  # split
					demo.REGISTRY_KEY: json.dumps(list(old)),
					**{demo._registry_key(doctype): json.dumps(names) for doctype, names in old.items()},
				},
			):
				demo._save_registry({})
				for key, value in kept_before.items():
					frappe.db.set_default(key, value)
				self.assertEqual(demo._load_registry(), old)
				demo._save_registry(demo._load_registry())  # the next save moves it
				self.assertEqual(global_keys(), [])
				self.assertEqual(
					json.loads(frappe.db.get_default(demo.REGISTRY_KEY, parent=demo.REGISTRY_PARENT)),
					list(old),
				)
				self.assertEqual(demo._load_registry(), old)
		finally:
			demo._save_registry({})
		self.assertEqual(demo._load_registry(), {})
		self.assertFalse(
			frappe.db.exists("DefaultValue", {"defkey": ("like", f"{demo.REGISTRY_KEY}%")}),
		)


class TestDemoUsers(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_the_demos_users_are_made_where_frappe_throttles_new_users(self):
		"""frappe refuses a User insert once more than `throttle_user_limit` were made in the hour: on a
		site whose tests or an import had just made many, the demo stopped at its first step."""
		if demo.is_demo_installed() or frappe.db.exists("User", f"{demo.CSMS[0][0]}@{demo.DOMAIN}"):
			self.skipTest("the demo's users are on this site already")
		conf = frappe.local.conf
		had, before = "throttle_user_limit" in conf, conf.get("throttle_user_limit")
		conf["throttle_user_limit"] = -1  # as if the hour's limit were reached
		try:
			with self.assertRaisesRegex(frappe.ValidationError, "Throttled"):
				frappe.get_doc(
					{"doctype": "User", "email": "cs-throttled@example.com", "first_name": "T"}
				).insert(ignore_permissions=True)
			users = demo._make_users({})
			self.assertEqual(conf["throttle_user_limit"], -1)  # put back
		finally:
			if had:
				conf["throttle_user_limit"] = before
			else:
				conf.pop("throttle_user_limit", None)
		self.assertTrue(all(frappe.db.exists("User", user) for user in users))


class TestDemoItems(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_the_demos_items_take_a_unit_the_site_has(self):
		"""A site set up in Spanish names its units in Spanish ("Nos."): the demo's first step failed
		with "Could not find Default Unit of Measure: Nos"."""
		from customer_success.utils import ensure_service_item

		unit = frappe.get_doc(
			{"doctype": "UOM", "uom_name": "_CS Unidad", "must_be_whole_number": 1, "enabled": 1}
		).insert(ignore_permissions=True, ignore_if_duplicate=True)
		frappe.db.set_value("UOM", "Nos", "enabled", 0)  # as if the site had no "Nos"
		frappe.db.set_single_value("Stock Settings", "stock_uom", unit.name)
		code = ensure_service_item("_CS Test Unit Item", 100)
		self.assertEqual(frappe.db.get_value("Item", code, "stock_uom"), unit.name)
