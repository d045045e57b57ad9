import frappe
from frappe.tests.utils import FrappeTestCase

from customer_success import demo

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
)


def snapshot() -> dict[str, int]:
	return {doctype: frappe.db.count(doctype) for doctype in COUNTED}


class TestDemo(FrappeTestCase):
	def setUp(self):
		if demo.is_demo_installed():
			self.skipTest("a demo book is loaded on this site; not touching it")

	def test_setup_is_idempotent_and_teardown_leaves_no_residue(self):
		contacts_before = set(frappe.get_all("Contact", pluck="name"))
		before = snapshot()
		summary = demo.setup_demo(customers=3)
		self.assertEqual(summary["Customer"], 3)
		for doctype in ("Sales Order", "Contract", "Sales Invoice", "Contact"):
			self.assertGreaterEqual(summary.get(doctype, 0), 3, doctype)
		customers = frappe.db.get_default(demo.REGISTRY_KEY)
		self.assertTrue(customers)
		# the book is scored straight away
		self.assertEqual(
			frappe.db.count(
				"Customer",
				{"name": ("in", demo._load_registry()["Customer"]), "cs_health_status": ("is", "set")},
			),
			3,
		)
		after_first = snapshot()
		demo.setup_demo(customers=3)
		self.assertEqual(snapshot(), after_first)

		removed = demo.teardown_demo()
		self.assertEqual(removed["Customer"], 3)
		contacts_after = set(frappe.get_all("Contact", pluck="name"))
		self.assertEqual(
			contacts_after,
			contacts_before,
			(contacts_before - contacts_after, contacts_after - contacts_before),
		)
		self.assertEqual(snapshot(), before)
		self.assertFalse(demo.is_demo_installed())
