"""The workspace as a CSM and as a CS Manager open it: through the same calls the desk makes."""

import json

import frappe
from frappe.tests.utils import FrappeTestCase

from customer_success.customer_success import api as cards
from customer_success.tests.utils import make_customer, make_success_plan, make_user, set_customer_fields

CSM = "cs-wsr-csm@example.com"
OTHER_CSM = "cs-wsr-csm2@example.com"
MANAGER = "cs-wsr-mgr@example.com"
# Widgets meant only for some roles; every other card and chart is meant for both.
MANAGER_ONLY_CHARTS = {"Health by CSM"}
# the cards that show no figure where nothing is known (a new site: no renewal, no scored customer)
NO_FIGURE_WITHOUT_DATA = {"Renewals with an Agreed Plan", "Average Health"}


def desk_page() -> dict:
	"""What the desk asks for when the workspace opens."""
	from frappe.desk.desktop import get_desktop_page

	return get_desktop_page(
		json.dumps({"name": "Customer Success", "title": "Customer Success", "public": 1})
	)


def load_doc(doctype: str, name: str):
	"""The widget's frappe.model.with_doc: the form loader, with its permission check."""
	from frappe.desk.form.load import getdoc

	frappe.response.docs = []
	getdoc(doctype, name)
	return frappe.response.docs[0]


def card_figure(card) -> dict:
	method = frappe.get_attr(card.method)
	frappe.is_whitelisted(method)
	return method(filters=card.filters_json)


def chart_figure(chart) -> dict:
	source = frappe.scrub(chart.source)
	room = frappe.scrub(frappe.db.get_value("Dashboard Chart Source", chart.source, "module"))
	method = frappe.get_attr(f"customer_success.{room}.dashboard_chart_source.{source}.{source}.get")
	frappe.is_whitelisted(method)
	return method(chart_name=chart.name, filters=chart.filters_json)


class TestWorkspaceRoles(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_user(CSM, ["Customer Success Manager"])
		make_user(OTHER_CSM, ["Customer Success Manager"])
		make_user(MANAGER, ["CS Manager"])
		frappe.db.commit()  # nosemgrep: users the desk calls below run as

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_every_card_and_chart_shows_for_the_roles_it_is_meant_for(self):
		workspace = frappe.get_doc("Workspace", "Customer Success")
		all_cards = {row.number_card_name for row in workspace.number_cards}
		all_charts = {row.chart_name for row in workspace.charts}
		for user, charts in (
			(CSM, all_charts - MANAGER_ONLY_CHARTS),
			(MANAGER, all_charts),
		):
			frappe.set_user(user)
			page = desk_page()
			shown_cards = {row.number_card_name for row in page["number_cards"]["items"]}
			shown_charts = {row.chart_name for row in page["charts"]["items"]}
			self.assertEqual(shown_cards, all_cards, f"cards hidden from {user}")
			self.assertEqual(shown_charts, charts, f"charts shown to {user}")
			for name in shown_cards:
				card = load_doc("Number Card", name)
				figure = card_figure(card)
				# a figure, or none where there is nothing to average or divide (the desk shows a dash)
				if figure["value"] is None:
					self.assertIn(name, NO_FIGURE_WITHOUT_DATA, name)
				else:
					self.assertIsInstance(figure["value"], int | float, name)
				self.assertTrue(figure["label"], name)
			for name in shown_charts:
				chart = load_doc("Dashboard Chart", name)
				self.assertTrue(chart_figure(chart)["datasets"], name)

	def test_the_workspace_loads_in_one_request_with_the_same_figures(self):
		"""workspace_widgets answers every card and chart of the page, as the desk's own calls would,
		and withholds what a role may not see (the desk then asks the usual way and is refused)."""
		mine = make_customer(cs_owner=CSM).name
		set_customer_fields(mine, {"cs_health_status": "Red"})
		workspace = frappe.get_doc("Workspace", "Customer Success")
		card_names = [row.number_card_name for row in workspace.number_cards]
		chart_names = [row.chart_name for row in workspace.charts]
		for user in (CSM, MANAGER):
			frappe.set_user(user)
			answer = cards.workspace_widgets(json.dumps(card_names), json.dumps(chart_names))
			self.assertEqual(set(answer["number_cards"]), set(card_names), user)
			for name, entry in answer["number_cards"].items():
				card = load_doc("Number Card", name)
				self.assertEqual(entry["doc"]["method"], card.method)
				self.assertEqual(entry["result"], card_figure(card), f"{name} as {user}")
			expected_charts = set(chart_names) - (MANAGER_ONLY_CHARTS if user == CSM else set())
			self.assertEqual(set(answer["charts"]), expected_charts, user)
			for name, entry in answer["charts"].items():
				chart = load_doc("Dashboard Chart", name)
				self.assertIn("frappe.dashboards.chart_sources", entry["config"])
				self.assertEqual(entry["result"], chart_figure(chart), f"{name} as {user}")
		frappe.set_user(CSM)
		self.assertEqual(
			cards.workspace_widgets(json.dumps(["Red Customers"]))["number_cards"]["Red Customers"]["result"][
				"value"
			],
			1,
		)
		with self.assertRaises(frappe.ValidationError):
			cards.workspace_widgets(json.dumps(["x"] * 51))

	def test_the_page_and_its_figures_come_in_one_request_as_the_desk_starts(self):
		"""workspace_page answers what the desk would ask in three rounds (the page, then each widget,
		then each shortcut's count), with the same figures, for a CSM and for a CS Manager."""
		from frappe.desk.reportview import get_count

		mine = make_customer(cs_owner=CSM).name
		set_customer_fields(mine, {"cs_health_status": "Red"})
		for user in (CSM, MANAGER):
			frappe.set_user(user)
			answer = cards.workspace_page(json.dumps({"name": "Customer Success", "public": 1}))
			page = json.loads(frappe.as_json(desk_page()))
			for part in ("number_cards", "charts", "shortcuts", "cards"):
				self.assertEqual(answer["page"][part], page[part], f"{part} as {user}")
			widgets = answer["widgets"]
			self.assertEqual(
				set(widgets["number_cards"]),
				{row["number_card_name"] for row in page["number_cards"]["items"]},
			)
			self.assertEqual(set(widgets["charts"]), {row["chart_name"] for row in page["charts"]["items"]})
			for name, entry in widgets["number_cards"].items():
				expected = json.loads(frappe.as_json(card_figure(load_doc("Number Card", name))))
				self.assertEqual(entry["result"], expected, f"{name} as {user}")
			for name, entry in widgets["charts"].items():
				expected = json.loads(frappe.as_json(chart_figure(load_doc("Dashboard Chart", name))))
				self.assertEqual(entry["result"], expected, f"{name} as {user}")
			# every shortcut that shows a count gets it, counted as frappe's own count request would
			counted = [s for s in page["shortcuts"]["items"] if s.get("stats_filter")]
			self.assertEqual(len(widgets["counts"]), len(counted), user)
			for count in widgets["counts"]:
				frappe.local.form_dict = frappe._dict(
					doctype=count["doctype"], filters=count["filters"], fields=[], distinct=False
				)
				self.assertEqual(count["count"], get_count(), f"{count['doctype']} as {user}")
		# "My Customers" counts the user's own book, as the desk evaluates its filter for her
		frappe.set_user(CSM)
		answer = cards.workspace_page(json.dumps({"name": "Customer Success"}))
		customer_shortcut = next(c for c in answer["widgets"]["counts"] if c["doctype"] == "Customer")
		self.assertEqual(customer_shortcut["filters"], {"cs_owner": CSM})
		self.assertEqual(customer_shortcut["count"], 1)

	def test_the_one_request_answer_is_kept_only_while_its_data_stands(self):
		"""Asked again, the answer comes from the cache; a change to what it counts gives a new answer
		at once (no waiting for the cache to expire); another user never gets it."""
		page = json.dumps({"name": "Customer Success"})

		def red(answer):
			return answer["widgets"]["number_cards"]["Red Customers"]["result"]["value"]

		first = make_customer(cs_owner=CSM).name
		set_customer_fields(first, {"cs_health_status": "Red"})
		frappe.set_user(CSM)
		self.assertEqual(red(cards.workspace_page(page)), 1)
		key = cards._answer_key()
		self.assertIsNotNone(frappe.cache.get_value(key, expires=True))
		self.assertEqual(red(cards.workspace_page(page)), 1)
		frappe.set_user("Administrator")
		second = make_customer(cs_owner=CSM).name
		frappe.set_user(CSM)
		self.assertNotEqual(cards._answer_key(), key)
		set_customer_fields(second, {"cs_health_status": "Red"})
		self.assertEqual(red(cards.workspace_page(page)), 2)
		frappe.set_user(OTHER_CSM)
		self.assertEqual(red(cards.workspace_page(page)), 0)
		self.assertIn(
			"my book",
			cards.workspace_page(page)["widgets"]["number_cards"]["Red Customers"]["result"]["label"],
		)

	def test_the_page_is_kept_apart_from_its_figures(self):
		"""New figures do not build frappe's page again; a change to the page (a chart taken off it,
		saved) shows in the next answer at once, and each user keeps her own page."""
		from unittest.mock import patch

		from frappe.desk import desktop

		page = json.dumps({"name": "Customer Success"})
		frappe.set_user(MANAGER)
		cards.workspace_page(page)
		frappe.set_user("Administrator")
		mine = make_customer(cs_owner=MANAGER).name
		set_customer_fields(mine, {"cs_health_status": "Red"})
		frappe.set_user(MANAGER)
		with patch.object(desktop, "get_desktop_page", side_effect=AssertionError("page built again")):
			answer = cards.workspace_page(page)
		self.assertIn("Health by CSM", answer["widgets"]["charts"])
		frappe.set_user(CSM)
		self.assertNotIn("Health by CSM", cards.workspace_page(page)["widgets"]["charts"])
		frappe.set_user("Administrator")
		workspace = frappe.get_doc("Workspace", "Customer Success")
		workspace.charts = [row for row in workspace.charts if row.chart_name != "Health by CSM"]
		workspace.save()
		frappe.set_user(MANAGER)
		answer = cards.workspace_page(page)
		self.assertNotIn("Health by CSM", answer["widgets"]["charts"])
		self.assertNotIn("Health by CSM", {row["chart_name"] for row in answer["page"]["charts"]["items"]})

	def test_the_page_and_the_sidebar_come_with_the_boot_when_the_desk_opens_here(self):
		"""Opening /app/customer-success (or /app, when it is her default workspace), the boot brings
		the one-request answer and frappe's sidebar as the desk would ask for them; any other page's
		boot brings neither, and nothing in them can stop a desk from starting."""
		from frappe.desk.desktop import get_workspace_sidebar_items
		from werkzeug.test import EnvironBuilder
		from werkzeug.wrappers import Request

		from customer_success.customer_success import boot

		mine = make_customer(cs_owner=CSM).name
		set_customer_fields(mine, {"cs_health_status": "Red"})
		request = getattr(frappe.local, "request", None)

		def booted(path, method="GET", default_workspace=None):
			frappe.local.request = Request(EnvironBuilder(path=path, method=method).get_environ())
			bootinfo = frappe._dict(user=frappe._dict(default_workspace=default_workspace))
			boot.extend_bootinfo(bootinfo)
			return bootinfo

		try:
			for user in (CSM, MANAGER):
				frappe.set_user(user)
				bootinfo = booted("/app/customer-success")
				page = json.dumps({"name": "Customer Success"})
				self.assertEqual(bootinfo.cs_workspace, cards.workspace_page(page), user)
				self.assertEqual(bootinfo.cs_sidebar, get_workspace_sidebar_items(), user)
				self.assertIn("Customer Success", {p.name for p in bootinfo.cs_sidebar["pages"]})
			frappe.set_user(CSM)
			red = booted("/app/customer-success/")["cs_workspace"]["widgets"]["number_cards"]["Red Customers"]
			self.assertEqual(red["result"]["value"], 1)
			self.assertIn("cs_workspace", booted("/app", default_workspace={"title": "Customer Success"}))
			for path, method, default in (
				("/app", "GET", None),
				("/app", "GET", {"title": "Selling"}),
				("/app/selling", "GET", None),
				("/app/customer", "GET", None),
				("/app/customer-success", "POST", None),
			):
				bootinfo = booted(path, method, default)
				self.assertNotIn("cs_workspace", bootinfo, path)
				self.assertNotIn("cs_sidebar", bootinfo, path)
			# a failure is logged and the desk starts without them (it then asks its usual way)
			from unittest.mock import patch

			with patch.object(cards, "workspace_page", side_effect=frappe.ValidationError("boom")):
				bootinfo = booted("/app/customer-success")
			self.assertNotIn("cs_workspace", bootinfo)
			self.assertNotIn("cs_sidebar", bootinfo)
			frappe.set_user("Guest")
			self.assertNotIn("cs_workspace", booted("/app/customer-success"))
		finally:
			frappe.set_user("Administrator")
			frappe.local.request = request

	def test_the_one_request_answers_only_this_workspace(self):
		frappe.set_user(CSM)
		with self.assertRaises(frappe.ValidationError):
			cards.workspace_page(json.dumps({"name": "Selling"}))
		with self.assertRaises(frappe.ValidationError):
			cards.workspace_page("[]")

	def test_our_widgets_are_allowed_by_frappes_rule_without_its_table_scan(self):
		from frappe.desk.doctype.dashboard_chart.dashboard_chart import has_permission as frappe_chart_rule
		from frappe.desk.doctype.number_card.number_card import has_permission as frappe_card_rule

		from customer_success.permissions import own_widget_has_permission

		workspace = frappe.get_doc("Workspace", "Customer Success")
		for user in (CSM, MANAGER, "Administrator"):
			for row in workspace.number_cards:
				card = frappe.get_doc("Number Card", row.number_card_name)
				self.assertEqual(
					own_widget_has_permission(card, user=user),
					frappe_card_rule(card, "read", user),
					card.name,
				)
			for row in workspace.charts:
				chart = frappe.get_doc("Dashboard Chart", row.chart_name)
				self.assertEqual(
					own_widget_has_permission(chart, user=user),
					frappe_chart_rule(chart, "read", user),
					chart.name,
				)
		# another app's widget is left to frappe
		ours = frappe.get_module_list("customer_success")
		other = frappe.get_all("Dashboard Chart", {"module": ("not in", ours)}, pluck="name", limit=1)
		self.assertTrue(other)
		other = frappe.get_doc("Dashboard Chart", other[0])
		self.assertIsNone(own_widget_has_permission(other, user=CSM))

	def test_a_card_not_of_this_app_gets_no_figure_from_the_batch(self):
		card = frappe.get_doc(
			{
				"doctype": "Number Card",
				"label": "CS Test Foreign Card",
				"type": "Custom",
				"method": "frappe.client.get_count",
				"document_type": "Customer",
				"is_public": 1,
			}
		).insert(ignore_permissions=True)
		entry = cards.workspace_widgets(json.dumps([card.name]))["number_cards"][card.name]
		self.assertNotIn("result", entry)

	def test_every_block_of_the_page_finds_its_widget(self):
		"""The desk places a card or chart by its row's label: a block naming no row shows nothing."""
		workspace = frappe.get_doc("Workspace", "Customer Success")
		labels = {
			"number_card": {row.label for row in workspace.number_cards},
			"chart": {row.label for row in workspace.charts},
			"shortcut": {row.label for row in workspace.shortcuts},
		}
		for block in json.loads(workspace.content):
			if block["type"] in labels:
				name = block["data"][f"{block['type']}_name"]
				self.assertIn(name, labels[block["type"]], f"{block['type']} block {name} finds no widget")

	def test_a_csm_never_gets_the_team_chart(self):
		frappe.set_user(CSM)
		with self.assertRaises(frappe.PermissionError):
			load_doc("Dashboard Chart", "Health by CSM")
		from customer_success.customer_success.dashboard_chart_source.health_by_csm import health_by_csm

		with self.assertRaises(frappe.PermissionError):
			health_by_csm.get()

	def test_a_csms_cards_count_her_book_and_a_managers_the_team(self):
		red_before = frappe.db.count("Customer", {"cs_health_status": "Red", "disabled": 0})
		mine = make_customer(cs_owner=CSM).name
		for name in (mine, make_customer(cs_owner=OTHER_CSM).name, make_customer().name):
			set_customer_fields(name, {"cs_health_status": "Red"})
		# her figures are hers, the manager's everyone's
		total_red = red_before + 3
		frappe.set_user(CSM)
		red = cards.red_customers()
		self.assertEqual(red["value"], 1)
		self.assertEqual(red["route_options"]["cs_owner"], CSM)
		self.assertIn("my book", red["label"])
		self.assertEqual(cards.customers_at_risk()["value"], 1)
		self.assertEqual(cards.green_customers()["value"], 0)
		from customer_success.customer_success.dashboard_chart_source.customers_by_health import (
			customers_by_health,
		)

		self.assertEqual(sum(customers_by_health.get()["datasets"][0]["values"]), 1)
		frappe.set_user(MANAGER)
		red = cards.red_customers()
		self.assertEqual(red["value"], total_red)
		self.assertNotIn("cs_owner", red["route_options"])
		self.assertIn("team", red["label"])
		from customer_success.customer_success.dashboard_chart_source.health_by_csm import health_by_csm

		chart = health_by_csm.get()
		red_values = chart["datasets"][[d["name"] for d in chart["datasets"]].index("Red")]["values"]
		self.assertEqual(sum(red_values), total_red)
		self.assertIn(frappe.db.get_value("User", CSM, "full_name"), chart["labels"])
		self.assertTrue(mine)

	def test_the_plan_shortcut_counts_what_the_plan_card_counts(self):
		from frappe.desk.reportview import get_count

		customer = make_customer(cs_owner=CSM).name
		theirs = make_customer(cs_owner=OTHER_CSM).name
		for plan_customer, status in ((customer, "Active"), (customer, "At Risk"), (theirs, "Active")):
			frappe.db.set_value("Success Plan", make_success_plan(plan_customer).name, "status", status)
		shortcut = next(
			s
			for s in frappe.get_doc("Workspace", "Customer Success").shortcuts
			if s.link_to == "Success Plan"
		)
		for user in (CSM, MANAGER):
			frappe.set_user(user)
			frappe.local.form_dict = frappe._dict(
				doctype="Success Plan", filters=json.loads(shortcut.stats_filter), fields=[], distinct=False
			)
			self.assertEqual(get_count(), cards.running_plans()["value"], user)
			# the batched workspace request counts the shortcut the same way
			key = json.dumps(["Success Plan", json.loads(shortcut.stats_filter)])
			batched = cards.workspace_widgets(counts=json.dumps([key]))["counts"][key]
			self.assertEqual(batched, cards.running_plans()["value"], user)
		frappe.set_user(CSM)
		self.assertEqual(cards.running_plans()["value"], 2)


class TestReportExport(FrappeTestCase):
	def test_a_csm_may_export_every_report_she_may_run(self):
		from frappe.permissions import can_export

		from customer_success.tests.utils import app_modules

		make_user(CSM, ["Customer Success Manager"])
		frappe.set_user(CSM)
		try:
			for report in frappe.get_all(
				"Report",
				filters={"module": ("in", app_modules()), "is_standard": "Yes"},
				fields=["name", "ref_doctype"],
			):
				roles = set(frappe.get_all("Has Role", filters={"parent": report.name}, pluck="role"))
				if "Customer Success Manager" in roles:
					self.assertTrue(can_export(report.ref_doctype), report.name)
		finally:
			frappe.set_user("Administrator")


class TestCustomerList(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_user(CSM, ["Customer Success Manager"])
		frappe.db.commit()  # nosemgrep: the user the list is read as

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def test_next_renewal_is_the_end_of_the_latest_contract(self):
		from frappe.utils import add_days, nowdate

		from customer_success.tests.utils import make_contract

		customer = make_customer(cs_owner=CSM).name
		make_contract(customer, add_days(nowdate(), -700), add_days(nowdate(), -335))
		latest = make_contract(customer, add_days(nowdate(), -334), add_days(nowdate(), 30))
		none = make_customer().name
		frappe.set_user(CSM)
		renewals = cards.next_renewals(json.dumps([customer, none]))
		self.assertEqual(renewals, {customer: str(latest.end_date)})
		with self.assertRaises(frappe.ValidationError):
			cards.next_renewals(json.dumps(["x"] * 501))

	def test_next_renewal_of_another_book_stays_hidden_from_a_csm_who_reads_every_customer(self):
		"""A CSM who is also a Sales User reads every customer (sales' view) but only her book's
		contracts: the column showed other books' contract ends (tester HH)."""
		from frappe.utils import add_days, nowdate

		from customer_success.tests.utils import make_contract, make_shared_users

		both = "cs-wr-csm-sales@example.com"
		make_shared_users({both: ["Customer Success Manager", "Sales User"]})
		mine, theirs = make_customer(cs_owner=both).name, make_customer(cs_owner=CSM).name
		ends = {
			c: make_contract(c, add_days(nowdate(), -300), add_days(nowdate(), 60)).end_date
			for c in (mine, theirs)
		}
		frappe.set_user(both)
		self.assertTrue(frappe.has_permission("Customer", "read", doc=theirs))  # sales' view
		self.assertEqual(cards.next_renewals(json.dumps([mine, theirs])), {mine: str(ends[mine])})
