import frappe
from frappe import _
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate

from customer_success.customer_success import api as workspace
from customer_success.tests.utils import (
	app_modules,
	make_contract,
	make_customer,
	make_user,
	set_customer_fields,
)

# Doctypes reached from their parent form rather than from the workspace.
NOT_IN_WORKSPACE: set[str] = set()


class TestWorkspace(FrappeTestCase):
	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_every_doctype_and_report_is_linked(self):
		ws = frappe.get_doc("Workspace", "Customer Success")
		linked = {link.link_to for link in ws.links if link.type == "Link"}
		doctypes = frappe.get_all(
			"DocType", filters={"module": ("in", app_modules()), "istable": 0}, pluck="name"
		)
		for doctype in doctypes:
			if doctype not in NOT_IN_WORKSPACE:
				self.assertIn(doctype, linked, f"{doctype} has no link in the Customer Success workspace")
		for report in frappe.get_all("Report", filters={"module": ("in", app_modules())}, pluck="name"):
			self.assertIn(report, linked, f"report {report} has no link in the workspace")

	def test_cards_and_charts_exist(self):
		ws = frappe.get_doc("Workspace", "Customer Success")
		for row in ws.number_cards:
			self.assertTrue(frappe.db.exists("Number Card", row.number_card_name), row.number_card_name)
		for row in ws.charts:
			self.assertTrue(frappe.db.exists("Dashboard Chart", row.chart_name), row.chart_name)

	def test_number_cards_compute(self):
		from frappe.desk.doctype.number_card.number_card import get_result

		for name in frappe.get_all(
			"Number Card", filters={"module": ("in", app_modules()), "type": "Document Type"}, pluck="name"
		):
			card = frappe.get_doc("Number Card", name)
			self.assertIsInstance(get_result(card.as_dict(), card.filters_json), int | float, name)

	def test_the_agreed_plan_card_opens_the_agreed_plans(self):
		from customer_success.customer_success import api
		from customer_success.success_plans.engine import AGREED_PLAN_STATUSES

		answer = api.renewal_plan_coverage()
		self.assertEqual(answer["route"], ["List", "Success Plan"])
		self.assertEqual(answer["route_options"]["status"], ["in", list(AGREED_PLAN_STATUSES)])

	def test_a_closed_plans_overdue_milestones_and_due_check_ins_are_not_work_to_do(self):
		"""Tester W2: the Overdue Milestones card (and the list it opens) counted a closed plan's, where
		CSM Workload did not. Milestones and check-ins keep their plan's status (`plan_status`)."""
		from frappe.utils import add_days, nowdate

		from customer_success.success_plans.test_success_plans import make_milestone
		from customer_success.tests.utils import make_success_plan

		plan = make_success_plan(make_customer().name, start_date=add_days(nowdate(), -30))
		late = make_milestone(plan, add_days(nowdate(), -5))
		frappe.db.set_value("Success Plan Milestone", late.name, "status", "Overdue")
		checkin = frappe.get_doc({"doctype": "Success Plan Check-in", "success_plan": plan.name}).insert()
		self.assertEqual(frappe.db.get_value("Success Plan Check-in", checkin.name, "plan_status"), "Draft")

		def counted():
			figures = {}
			for card, doctype, name in (
				(workspace.overdue_milestones, "Success Plan Milestone", late.name),
				(workspace.check_ins_due, "Success Plan Check-in", checkin.name),
			):
				answer = card()
				listed = frappe.get_list(doctype, filters=answer["route_options"], pluck="name")
				figures[doctype] = name in listed
			return figures

		self.assertEqual(counted(), {"Success Plan Milestone": True, "Success Plan Check-in": True})
		plan.reload()
		plan.status = "Closed"
		plan.save()
		self.assertEqual(frappe.db.get_value("Success Plan Milestone", late.name, "plan_status"), "Closed")
		self.assertEqual(counted(), {"Success Plan Milestone": False, "Success Plan Check-in": False})

	def test_renewal_cards_count_open_renewals_in_the_window(self):
		from frappe.utils import add_days, nowdate

		from customer_success.renewals import service as renewals

		before = workspace.renewals_due()["value"]
		at_risk_before = workspace.renewals_at_risk()["value"]
		revenue_before = workspace.revenue_at_risk()["value"]
		renewing = make_customer().name
		soon = make_contract(renewing, add_days(nowdate(), -300), add_days(nowdate(), 30))
		later = make_customer().name
		far = make_contract(later, add_days(nowdate(), -10), add_days(nowdate(), 300))
		self.assertEqual(workspace.renewals_due()["value"], before, "a contract alone is no renewal yet")
		renewals.create_renewals(getdate(nowdate()), contracts=[soon.name, far.name])
		self.assertEqual(workspace.renewals_due()["value"], before + 1)
		set_customer_fields(renewing, {"cs_health_status": "Red"})
		self.assertEqual(workspace.renewals_at_risk()["value"], at_risk_before + 1)
		stake = frappe.db.get_value("Renewal", {"contract": soon.name}, "revenue_at_stake")
		self.assertAlmostEqual(workspace.revenue_at_risk()["value"], revenue_before + stake)

	def test_a_renewed_customer_is_not_due(self):
		from frappe.utils import add_days, nowdate

		from customer_success.renewals import service as renewals
		from customer_success.success_plans import queries as plan_queries
		from customer_success.success_plans import service as plans

		due_before = workspace.renewals_due()["value"]
		at_risk_before = workspace.renewals_at_risk()["value"]
		coverage_before = plans.renewal_plan_coverage()["renewing"]
		renewed = make_customer().name
		old = make_contract(renewed, add_days(nowdate(), -335), add_days(nowdate(), 30))  # ends soon
		make_contract(renewed, add_days(nowdate(), 31), add_days(nowdate(), 395))  # already signed
		set_customer_fields(renewed, {"cs_health_status": "Red"})
		renewals.create_renewals(getdate(nowdate()), contracts=[old.name])
		renewals.close_renewed(frappe.get_all("Renewal", filters={"contract": old.name}, pluck="name"))
		self.assertEqual(workspace.renewals_due()["value"], due_before)
		self.assertEqual(workspace.renewals_at_risk()["value"], at_risk_before)
		self.assertEqual(plans.renewal_plan_coverage()["renewing"], coverage_before)
		window = getdate(add_days(nowdate(), 180))
		self.assertNotIn(renewed, plan_queries.renewing_customers(getdate(nowdate()), window))

	def test_workspace_is_for_cs_roles(self):
		roles = {r.role for r in frappe.get_doc("Workspace", "Customer Success").roles}
		self.assertIn("Customer Success Manager", roles)
		self.assertIn("CS Manager", roles)
		user = make_user("cs-ws-nobody@example.com", ["Blogger"]).name
		frappe.set_user(user)
		with self.assertRaises(frappe.PermissionError):
			workspace.renewals_due()

	def test_renewal_figures_count_a_csms_own_book(self):
		from frappe.utils import add_days, nowdate

		from customer_success.renewals import service as renewals
		from customer_success.success_plans.test_success_plans import agree
		from customer_success.tests.utils import make_success_plan

		csm = make_user("cs-ws-book-csm@example.com", ["Customer Success Manager"]).name
		manager = make_user("cs-ws-book-mgr@example.com", ["CS Manager"]).name
		mine = make_customer(cs_owner=csm).name
		theirs = make_customer().name
		contracts = []
		for customer in (mine, theirs):
			contracts.append(make_contract(customer, add_days(nowdate(), -300), add_days(nowdate(), 30)).name)
			set_customer_fields(customer, {"cs_health_status": "Red"})
		renewals.create_renewals(getdate(nowdate()), contracts=contracts)
		agree(make_success_plan(theirs))
		mine_renewal = frappe.db.get_value("Renewal", {"customer": mine})
		theirs_renewal = frappe.db.get_value("Renewal", {"customer": theirs})

		frappe.set_user(manager)
		team = workspace.renewals_at_risk()
		self.assertIn(mine_renewal, team["route_options"]["name"][1])
		self.assertIn(theirs_renewal, team["route_options"]["name"][1])

		frappe.set_user(csm)
		at_risk = workspace.renewals_at_risk()
		self.assertEqual(at_risk["route_options"]["name"][1], [mine_renewal])
		self.assertEqual(at_risk["value"], 1)
		self.assertEqual(workspace.renewals_due()["value"], 1)
		self.assertIn(_("my book"), workspace.revenue_at_risk()["label"])
		# the agreed plan is on a colleague's customer: none of her renewals has one
		self.assertEqual(workspace.renewal_plan_coverage()["value"], 0)

	def test_average_health_of_the_book(self):
		csm = make_user("cs-ws-avg-csm@example.com", ["Customer Success Manager"]).name
		for score, status in ((80, "Green"), (40, "Red"), (10, "Insufficient Data")):
			customer = make_customer(cs_owner=csm).name
			set_customer_fields(customer, {"cs_health_score": score, "cs_health_status": status})
		frappe.set_user(csm)
		self.assertEqual(workspace.average_health()["value"], 60.0, "only customers with a colour count")
		# shown as a score is everywhere else, to one decimal (not the site's float precision)
		self.assertEqual(workspace.average_health()["precision"], 1)

	def test_a_book_with_nothing_to_average_shows_no_figure(self):
		csm = make_user("cs-ws-empty-csm@example.com", ["Customer Success Manager"]).name
		customer = make_customer(cs_owner=csm).name  # not scored yet; renewing nothing
		set_customer_fields(customer, {"cs_health_status": "Insufficient Data"})
		frappe.set_user(csm)
		self.assertIsNone(workspace.average_health()["value"])  # not 0: no customer has a colour
		self.assertIsNone(workspace.renewal_plan_coverage()["value"])  # not 0 %: nobody renews
