from unittest.mock import patch

import frappe
from frappe.cache_manager import clear_defaults_cache
from frappe.tests.utils import FrappeTestCase

from customer_success import constants
from customer_success.setup import custom_fields, indexes, install, roles, rollups, sequences


class TestInstall(FrappeTestCase):
	def test_roles_exist(self):
		for role in constants.ROLES:
			self.assertTrue(frappe.db.exists("Role", role), role)

	def test_custom_fields_exist_on_customer(self):
		meta = frappe.get_meta("Customer", cached=False)
		for df in custom_fields.get_custom_fields()["Customer"]:
			self.assertTrue(df["fieldname"].startswith("cs_"), df["fieldname"])
			self.assertIsNotNone(meta.get_field(df["fieldname"]), df["fieldname"])
		self.assertTrue(frappe.db.has_column("Customer", "cs_health_score"))
		self.assertEqual(meta.get_field("cs_owner").options, "User")
		# a Duplicate of a customer is a new customer: not live, not churned (tester K2)
		for fieldname in ("cs_lifecycle_stage", "cs_annual_revenue", "cs_health_score", "cs_tier_source"):
			self.assertTrue(meta.get_field(fieldname).no_copy, fieldname)
		copied = frappe.copy_doc(  # as the desk's Duplicate copies (no_copy fields left out)
			frappe.get_doc(
				{"doctype": "Customer", "customer_name": "Copied", "cs_lifecycle_stage": "Churned"}
			),
			ignore_no_copy=False,
		)
		self.assertFalse(copied.cs_lifecycle_stage)

	def test_install_is_idempotent(self):
		before = frappe.db.count("Custom Field", {"dt": "Customer", "fieldname": ("like", "cs_%")})
		install.after_migrate()
		install.after_migrate()
		after = frappe.db.count("Custom Field", {"dt": "Customer", "fieldname": ("like", "cs_%")})
		self.assertEqual(before, after)
		self.assertEqual(after, len(custom_fields.get_custom_fields()["Customer"]))

	def test_the_alert_email_can_be_switched_on_outside_developer_mode(self):
		from customer_success.setup import defaults

		name = "New High-Severity CS Alert"
		# a site that had it as a standard Notification (an earlier version), its Markdown text never
		# edited: ordinary after migrate, with the HTML text shipped now
		shipped = defaults.load_data("notifications.json")[0]
		old = shipped["replaces"][0]
		frappe.db.set_value(
			"Notification", name, {"is_standard": 1, "message": old["message"], "message_type": "Markdown"}
		)
		defaults.make_default_notifications()
		self.assertEqual(frappe.db.get_value("Notification", name, ["is_standard", "enabled"]), (0, 0))
		self.assertEqual(
			frappe.db.get_value("Notification", name, ["message", "message_type"]),
			(shipped["message"], "HTML"),
		)
		# what it sends: the alert's title and summary escaped (a customer named with markup)
		html = frappe.render_template(
			shipped["message"],
			{
				"doc": frappe._dict(
					doctype="CS Alert",
					name="X",
					title='A <a href="http://e.x">b</a>',
					summary="<i>s</i>",
					due_date=None,
				)
			},
		)
		self.assertNotIn('<a href="http://e.x">', html)
		self.assertIn("&lt;i&gt;s&lt;/i&gt;", html)
		# an administrator's own text is kept
		frappe.db.set_value("Notification", name, {"message": "Ours", "message_type": "Markdown"})
		defaults.make_default_notifications()
		self.assertEqual(frappe.db.get_value("Notification", name, "message"), "Ours")
		with patch.dict(frappe.conf, {"developer_mode": 0}):
			doc = frappe.get_doc("Notification", name)
			doc.enabled = 1
			doc.save()  # frappe refuses this for a standard Notification
		self.assertEqual(frappe.db.get_value("Notification", name, "enabled"), 1)
		# deleted by an administrator: not shipped again
		frappe.delete_doc("Notification", name)
		defaults.make_default_notifications()
		self.assertFalse(frappe.db.exists("Notification", name))
		frappe.db.rollback()

	def test_the_score_sequence_hands_out_blocks_of_names(self):
		# made by the install; making it again changes nothing (no DDL: a block already)
		self.assertEqual(sequences.sequence_increment(sequences.SCORE_SEQUENCE), sequences.SCORE_NAME_BLOCK)
		with patch.object(frappe.db, "sql_ddl") as ddl:
			sequences.make_sequences()
		ddl.assert_not_called()
		self.assertIsNone(sequences.sequence_increment("no_such_seq"))
		# and past every name, on every migrate
		with patch.object(sequences, "catch_up") as catch_up:
			sequences.make_sequences()
		catch_up.assert_called_once_with()

	def test_the_score_sequence_catches_up_with_a_name_given_by_hand(self):
		"""A row named by hand above the sequence (an import with its ID column): the sequence moves
		past it, so the next block holds no name taken; never back, and once is enough."""
		seq = sequences.SCORE_SEQUENCE

		def following() -> int:
			return int(frappe.db.sql(f"select `next_not_cached_value` from `{seq}`")[0][0])

		self.assertFalse(sequences.catch_up())  # the install's sequence is past every name
		by_hand = following() + 10 * sequences.SCORE_NAME_BLOCK
		frappe.db.sql(
			"""insert into `tabCustomer Health Score` (name, customer, model, score_date, granularity,
				creation, modified, owner, modified_by)
			values (%s, '_CS sequence test', '_CS model', '2001-01-01', 'Daily', now(), now(), 'Administrator',
				'Administrator')""",
			by_hand,
		)
		self.addCleanup(frappe.db.rollback)  # the row; the sequence's move is not transactional (a gap)
		self.assertTrue(sequences.catch_up())
		self.assertGreater(following(), by_hand)
		self.assertFalse(sequences.catch_up())
		from customer_success.health import queries

		first = queries.reserve_score_names(2000)
		self.assertGreater(first, by_hand)

	def test_uninstall_hook_refuses_outside_an_uninstall(self):
		"""Called by a test or a console, the uninstall hook would erase the site's CS data: it refuses."""
		fields_before = frappe.db.count("Custom Field", {"dt": "Customer", "fieldname": ("like", "cs_%")})
		perms_before = frappe.db.count("Custom DocPerm", {"role": ("in", constants.ROLES)})
		self.assertFalse(frappe.flags.in_uninstall)
		self.assertRaises(install.NotUninstallingError, install.before_uninstall)
		self.assertTrue(frappe.db.has_column("Customer", "cs_health_score"))
		self.assertTrue(frappe.db.has_column("Customer", "cs_owner"))
		self.assertEqual(
			frappe.db.count("Custom Field", {"dt": "Customer", "fieldname": ("like", "cs_%")}), fields_before
		)
		self.assertEqual(frappe.db.count("Custom DocPerm", {"role": ("in", constants.ROLES)}), perms_before)
		for doctype, fields, index_name in indexes.APP_INDEXES:
			# with the columns the app defines now (an index made before with others is made again)
			self.assertEqual(indexes.index_columns(f"tab{doctype}", index_name), list(fields), index_name)
		for doctype, index_name in indexes.OBSOLETE_INDEXES:
			self.assertFalse(frappe.db.has_index(f"tab{doctype}", index_name), index_name)
		self.assertEqual(rollups.existing_tables(), set(rollups.TABLES))
		# the unique key (customer, model, score_date) serves every read by customer: no index of
		# its own on `customer` (patch v0_4.drop_score_customer_index), which each insert paid for
		self.assertIsNone(frappe.db.get_column_index("tabCustomer Health Score", "customer", unique=False))
		self.assertTrue(frappe.db.has_index("tabCustomer Health Score", "unique_customer_model_day"))

	def removals(self, *keep: str):
		"""The removals the uninstall hook makes (but those named in `keep`), replaced by mocks of one
		parent, which records their order."""
		from unittest.mock import MagicMock

		from customer_success.setup import uninstall

		steps = MagicMock()
		targets = (
			(uninstall, "remove_demo"),
			(custom_fields, "remove_custom_fields"),
			(roles, "remove_role_permissions"),
			(indexes, "remove_indexes"),
			(rollups, "remove_tables"),
			(uninstall, "remove_leftovers"),
		)
		for module, name in targets:
			if name not in keep:
				replaced = patch.object(module, name, getattr(steps, name))
				replaced.start()
				self.addCleanup(replaced.stop)
		return steps

	def test_a_dry_run_uninstall_removes_nothing(self):
		"""`bench uninstall-app --dry-run` lists what it would remove; frappe still calls the app's
		`before_uninstall`, which dropped the app's fields and their data, its rules and indexes."""
		import contextlib
		import io

		from frappe.installer import remove_app

		steps = self.removals()
		self.addCleanup(setattr, frappe.flags, "in_uninstall", False)
		with contextlib.redirect_stdout(io.StringIO()):
			remove_app("customer_success", dry_run=True, yes=True, no_backup=True)
		self.assertEqual(steps.mock_calls, [])
		self.assertIn("customer_success", frappe.get_installed_apps())
		self.assertTrue(frappe.db.exists("DocType", "CS Alert"))

	def test_uninstall_removes_the_demo_first_and_stops_if_it_cannot(self):
		"""The demo's records go with the app, before anything of the app's (the teardown needs its
		fields and hooks); a teardown that fails stops the uninstall with nothing of the app removed."""
		import contextlib
		import io

		from customer_success import demo

		steps = self.removals("remove_demo")
		self.addCleanup(setattr, frappe.flags, "in_uninstall", False)
		frappe.flags.in_uninstall = True
		with (
			patch.object(demo, "has_demo_records", return_value=True),
			patch.object(demo, "teardown_demo", steps.teardown_demo),
			contextlib.redirect_stdout(io.StringIO()),
		):
			install.before_uninstall()
			self.assertEqual(
				[call[0] for call in steps.mock_calls],
				[
					"teardown_demo",
					"remove_custom_fields",
					"remove_role_permissions",
					"remove_indexes",
					"remove_tables",
					"remove_leftovers",
				],
			)
			steps.reset_mock()
			steps.teardown_demo.side_effect = frappe.LinkExistsError("Sales Invoice ACC-SINV-1 is linked")
			with self.assertRaises(frappe.ValidationError) as refused:
				install.before_uninstall()
			self.assertIn("not uninstalled", str(refused.exception))
			self.assertEqual([call[0] for call in steps.mock_calls], ["teardown_demo"])

	def test_migrate_drops_the_indexes_an_earlier_version_made(self):
		"""An index an earlier version made and this one does not (the Customer's score alone, which
		every night's moved scores had to move; the score history's indexes nothing reads, which every
		row inserted paid for) is dropped on migrate, and one made with other columns is made again."""
		history = "tabCustomer Health Score"
		# as the earlier versions' DDL made them: frappe.db.add_index would also leave a Property Setter
		# (search_index) for a one-column index, and the next migrate would make that index again
		frappe.db.sql_ddl("alter table `tabCustomer` add index `cs_health_score_index` (`cs_health_score`)")
		frappe.db.sql_ddl(
			f"""alter table `{history}` add index `modified` (`modified`), add index `csm` (`csm`),
			add index `score_date_granularity` (`score_date`, `granularity`),
			drop index `cs_score_history_index`,
			add index `cs_score_history_index` (`score_date`, `customer`, `status`, `score`)"""
		)
		self.assertTrue(frappe.db.has_index("tabCustomer", "cs_health_score_index"))
		self.assertTrue(frappe.db.has_index(history, "score_date_granularity"))
		indexes.make_indexes()
		self.assertFalse(frappe.db.has_index("tabCustomer", "cs_health_score_index"))
		for index_name in ("modified", "csm", "score_date_granularity"):
			self.assertFalse(frappe.db.has_index(history, index_name), index_name)
		# the history's indexes are its keys and the one its reads by day use, ending with the granularity
		self.assertEqual(
			{row.Key_name for row in frappe.db.sql(f"show index from `{history}`", as_dict=True)},
			{"PRIMARY", "unique_customer_model_day", "cs_score_history_index"},
		)
		self.assertEqual(
			indexes.index_columns(history, "cs_score_history_index"),
			["score_date", "customer", "status", "score", "granularity"],
		)
		for doctype, fields, index_name in indexes.APP_INDEXES:
			self.assertEqual(indexes.index_columns(f"tab{doctype}", index_name), list(fields), index_name)
		# and nothing asks a migrate to make any of them again
		self.assertFalse(
			frappe.db.exists(
				"Property Setter",
				{"doc_type": ("in", ("Customer", "Customer Health Score")), "property": "search_index"},
			)
		)

	def test_rollup_tables_exist_and_are_ours_to_drop(self):
		"""The roll-up tables are made on install and migrate (idempotently), named like the app's
		other footprint (`cs_`), and are exactly what uninstall drops (the full uninstall is checked
		by .ci/run against the site's footprint, tables included)."""
		install.after_migrate()
		self.assertEqual(rollups.existing_tables(), set(rollups.TABLES))
		self.assertTrue(all(table.startswith("cs_") for table in rollups.TABLES))

	def test_a_rollup_read_as_complete_is_filled_when_its_table_is_made(self):
		"""Installed or upgraded onto an existing book, the revenue, book and leak roll-ups hold the site's
		figures from the step that makes them, not from the first nightly fill: each equals a fresh
		computation at once (a second fill corrects nothing)."""
		from customer_success.customer_success import book_counts
		from customer_success.renewals import queries as renewals
		from customer_success.renewals import service as renewal_service

		frappe.db.commit()  # nosemgrep: DDL below commits anyway; nothing of this test is left open
		for table in rollups.FILL_ON_CREATE:
			frappe.db.sql_ddl(f"drop table if exists `{table}`")  # our constant names
		rollups.make_tables()
		self.assertEqual(rollups.existing_tables(), set(rollups.TABLES))
		self.assertEqual(book_counts.rolled_up(), book_counts.customer_figures())
		self.assertEqual(
			{key: value for key, value in renewals.revenue_cells_rolled_up().items() if any(value)},
			{key: value for key, value in renewals.revenue_cells_from_ledger().items() if any(value)},
		)
		self.assertEqual(book_counts.reconcile()["corrected"], 0)
		self.assertEqual(renewal_service.reconcile_revenue_rollup()["corrected"], 0)
		# Revenue Leakage's table: every leak of the ledger, and its day sums
		self.assertEqual(renewals.stored_leaks(renewals.all_leak_customers()), renewals.fresh_leaks())
		self.assertEqual(renewals.leak_cells_rolled_up(), renewals.leak_cells_from_table())
		leaks = renewal_service.reconcile_leaks()
		self.assertEqual((leaks["corrected"], leaks["cells_corrected"]), (0, 0))
		frappe.db.commit()  # nosemgrep: the refilled tables stay, as they were before this test

	def test_field_removal_drops_the_fields_it_is_given_and_their_columns_only(self):
		"""The column-dropping half of uninstall, on a probe field of its own (the full uninstall is
		checked by .ci/run on its throw-away site, against the site's footprint before the install)."""
		from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

		probe = {"ToDo": [{"fieldname": "cs_uninstall_probe", "fieldtype": "Data", "label": "CS Probe"}]}
		other = {"ToDo": [{"fieldname": "other_app_probe", "fieldtype": "Data", "label": "Other Probe"}]}
		create_custom_fields(probe)
		create_custom_fields(other)
		try:
			self.assertTrue(frappe.db.has_column("ToDo", "cs_uninstall_probe"))
			custom_fields.remove_custom_fields(probe)
			self.assertFalse(
				frappe.db.exists("Custom Field", {"dt": "ToDo", "fieldname": "cs_uninstall_probe"})
			)
			self.assertFalse(frappe.db.has_column("ToDo", "cs_uninstall_probe"))
			self.assertIsNone(frappe.get_meta("ToDo", cached=False).get_field("cs_uninstall_probe"))
			# someone else's customisation, and our real fields, survive
			self.assertTrue(frappe.db.exists("Custom Field", {"dt": "ToDo", "fieldname": "other_app_probe"}))
			self.assertTrue(frappe.db.has_column("Customer", "cs_health_score"))
		finally:
			custom_fields.remove_custom_fields(probe)
			custom_fields.remove_custom_fields(other)
			frappe.db.commit()  # nosemgrep: DDL above already committed; leave no probe behind


class TestHooks(FrappeTestCase):
	def test_every_dotted_path_in_hooks_imports(self):
		paths = []
		hooks = frappe.get_hooks(app_name="customer_success")

		def collect(value):
			if (
				isinstance(value, str)
				and value.startswith("customer_success.")
				and not value.endswith((".js", ".css"))
			):
				paths.append(value)
			elif isinstance(value, dict):
				for v in value.values():
					collect(v)
			elif isinstance(value, list | tuple):
				for v in value:
					collect(v)

		for key, value in hooks.items():
			if key in (
				"app_name",
				"app_title",
				"app_publisher",
				"app_description",
				"app_email",
				"app_license",
			):
				continue
			collect(value)
		self.assertTrue(paths)
		for path in paths:
			self.assertTrue(callable(frappe.get_attr(path)), path)

	def test_the_apps_jobs_run_in_the_sites_language(self):
		"""A worker starts each job in English: the app's own (queued, or its scheduler events) are
		put in the site's language; another app's job is left as it is."""
		from customer_success import utils

		self.assertIn("customer_success.utils.job_in_site_language", frappe.get_hooks("before_job"))
		other = "zh" if utils.site_language() != "zh" else "en"
		for method, kwargs in (
			("customer_success.renewals.jobs.run", {}),
			(utils.SCHEDULED_JOB, {"job_type": "customer_success.customer_success.digest.cs_csm_digest"}),
		):
			with utils.in_language(other):
				utils.job_in_site_language(method=method, kwargs=kwargs)
				self.assertEqual(frappe.local.lang, utils.site_language(), method)
		for method, kwargs in (
			("erpnext.setup.utils.enqueue_auto_email_reports", {}),
			(utils.SCHEDULED_JOB, {"job_type": "frappe.email.queue.flush"}),
			(utils.SCHEDULED_JOB, None),
		):
			with utils.in_language(other):
				utils.job_in_site_language(method=method, kwargs=kwargs)
				self.assertEqual(frappe.local.lang, other, method)

	def test_each_scheduled_method_has_its_own_job_type(self):
		"""frappe names a Scheduled Job Type by the method's last two parts, and a second method with
		the same two replaces the first on every sync: three `jobs.daily` left one daily job."""
		from frappe.core.doctype.scheduled_job_type.scheduled_job_type import sync_jobs

		events = frappe.get_hooks("scheduler_events", app_name="customer_success")
		methods = [
			method
			for value in events.values()
			for method in ([m for ms in value.values() for m in ms] if isinstance(value, dict) else value)
		]
		everyone = [
			method
			for app in frappe.get_installed_apps()
			for value in frappe.get_hooks("scheduler_events", app_name=app).values()
			for method in ([m for ms in value.values() for m in ms] if isinstance(value, dict) else value)
		]
		names = [".".join(method.split(".")[-2:]) for method in everyone]
		for method in methods:
			name = ".".join(method.split(".")[-2:])
			self.assertEqual(names.count(name), 1, f"{method}: {name} is another job's name too")
		sync_jobs()  # as every migrate does
		synced = frappe.get_all(
			"Scheduled Job Type", filters={"method": ("like", "customer_success.%")}, pluck="method"
		)
		self.assertEqual(sorted(synced), sorted(set(methods)))


class TestRolePermissions(FrappeTestCase):
	def test_csm_works_on_erpnext_records(self):
		from customer_success.tests.utils import make_user

		user = make_user("cs-perm-csm@example.com", ["Customer Success Manager"]).name
		for doctype in ("Customer", "Issue", "Sales Invoice", "Contract"):
			self.assertTrue(frappe.has_permission(doctype, "read", user=user), doctype)
		self.assertTrue(frappe.has_permission("Customer", "write", user=user))
		self.assertFalse(frappe.has_permission("Sales Invoice", "write", user=user))
		self.assertFalse(frappe.has_permission("Sales Invoice", "create", user=user))

	def test_what_a_team_imports_is_importable_by_a_cs_manager(self):
		"""Usage, NPS answers and plans kept elsewhere are brought in with frappe's Data Import: none of
		the app's doctypes could be chosen there, for anyone (tester EE). A CS Manager (given Data
		Import by an administrator: frappe's tool is the System Manager's) imports them; a CSM does not."""
		from frappe.utils.user import UserPermissions

		from customer_success.tests.utils import make_user

		imported = {"Customer Usage Metric", "NPS Response", "Success Plan"}
		manager = make_user("cs-import-manager@example.com", ["CS Manager"]).name
		csm = make_user("cs-import-csm@example.com", [constants.CSM_ROLE]).name
		for user, expected in ((manager, imported), (csm, set())):
			frappe.set_user(user)  # (frappe reads the rules of the session's user)
			try:
				permissions = UserPermissions(user)
				permissions.build_permissions()
			finally:
				frappe.set_user("Administrator")
			self.assertEqual(imported & set(permissions.can_import), expected, user)

	def test_a_csm_with_the_apps_role_alone_picks_the_masters_of_her_forms_and_filters(self):
		"""The Company filter of the reports, a Customer's group and territory, an Opportunity's type
		and stage: a CSM (or CS Manager) with the app's role alone met "Not permitted" in every such
		link field (tester V). Select only: the names are listed, no master is read."""
		from frappe.desk.search import search_link

		from customer_success.tests.utils import make_user

		install.after_migrate()  # a site installed before: migrate gives the new rules
		csm = make_user("cs-select-csm@example.com", [constants.CSM_ROLE]).name
		manager = make_user("cs-select-manager@example.com", ["CS Manager"]).name
		company = frappe.db.get_value("Company", {}, "name")
		self.addCleanup(frappe.set_user, "Administrator")
		for user in (csm, manager):
			frappe.set_user(user)
			for doctype in roles.SELECT_ONLY:
				self.assertTrue(frappe.has_permission(doctype, "select"), (user, doctype))
				self.assertFalse(frappe.has_permission(doctype, "read"), (user, doctype))
				self.assertFalse(frappe.has_permission(doctype, "write"), (user, doctype))
				search_link(doctype, "")  # no "Not permitted"
			self.assertIn(company, {row["value"] for row in search_link("Company", "")})
			with self.assertRaises(frappe.PermissionError):
				frappe.get_doc("Company", company).check_permission("read")

	def test_the_install_leaves_no_meta_cached_without_our_rules(self):
		"""While an app installs, frappe builds a doctype's meta without its Custom DocPerm rules and
		caches it: a brand-new site's CSM then could not read a Contract (Renewal Forecast failed with
		"No permission to read Contract") until the cache was next cleared. The install's last step
		forgets those doctypes' cached meta."""
		from frappe.permissions import get_role_permissions

		# whatever happens here, the tests after it find Contract's meta as the site has it
		self.addCleanup(frappe.clear_cache, doctype="Contract")
		previous = frappe.flags.in_install
		try:
			frappe.flags.in_install = "customer_success"
			frappe.clear_cache(doctype="Contract")
			installing = frappe.get_meta("Contract")  # as frappe builds and caches it mid-install
			self.assertNotIn(constants.CSM_ROLE, {p.role for p in installing.permissions})
			self.assertIn("customer_success.setup.install.after_sync", frappe.get_hooks("after_sync"))
			install.after_sync()
		finally:
			frappe.flags.in_install = previous
		cached = frappe.get_meta("Contract")
		self.assertIn(constants.CSM_ROLE, {p.role for p in cached.permissions})
		self.assertTrue(get_role_permissions(cached, user=self.csm_user()).get("read"))

		# the same after a migrate, whose patches run under frappe's patch flag
		try:
			frappe.flags.in_patch = True
			frappe.clear_cache(doctype="Contract")
			self.assertNotIn(constants.CSM_ROLE, {p.role for p in frappe.get_meta("Contract").permissions})
		finally:
			frappe.flags.in_patch = False
		install.after_migrate()
		self.assertIn(constants.CSM_ROLE, {p.role for p in frappe.get_meta("Contract").permissions})

	def csm_user(self) -> str:
		from customer_success.tests.utils import make_user

		return make_user("cs-install-csm@example.com", [constants.CSM_ROLE]).name

	def test_a_csm_reads_and_changes_only_their_own_todos(self):
		"""frappe keeps a user to the ToDos allocated to them or assigned by them, unless one of their
		roles has a rule on ToDo: with the rule the app once gave, a CSM read and closed every ToDo of
		the site, another CSM's alert tasks among them."""
		from customer_success.tests.utils import make_user

		csm = make_user("cs-todo-csm@example.com", [constants.CSM_ROLE]).name
		other = make_user("cs-todo-other@example.com", [constants.CSM_ROLE]).name
		manager = make_user("cs-todo-manager@example.com", [constants.CS_MANAGER_ROLE]).name
		theirs = frappe.get_doc(
			{"doctype": "ToDo", "allocated_to": other, "assigned_by": "Administrator", "description": "x"}
		).insert(ignore_permissions=True)
		mine = frappe.get_doc(
			{"doctype": "ToDo", "allocated_to": csm, "assigned_by": "Administrator", "description": "y"}
		).insert(ignore_permissions=True)
		self.assertFalse(
			frappe.db.exists("Custom DocPerm", {"parent": "ToDo", "role": ("in", constants.ROLES)})
		)
		for user in (csm, manager):
			self.assertFalse(frappe.has_permission("ToDo", "read", doc=theirs, user=user), user)
			self.assertFalse(frappe.has_permission("ToDo", "write", doc=theirs, user=user), user)
			names = frappe.get_list(
				"ToDo", filters={"name": ("in", [theirs.name, mine.name])}, pluck="name", user=user
			)
			self.assertNotIn(theirs.name, names, user)
		self.assertTrue(frappe.has_permission("ToDo", "write", doc=mine, user=csm))

	def test_migrate_takes_back_the_rules_on_todo_an_earlier_version_gave(self):
		from frappe.permissions import add_permission, update_permission_property

		from customer_success.patches.v0_6 import csm_rules_on_todo_taken_back

		standard = roles._standard_rules("ToDo")
		before = roles._custom_rules("ToDo")
		for role in constants.ROLES:
			add_permission("ToDo", role, 0)
			for ptype in ("read", "write", "create"):
				update_permission_property("ToDo", role, 0, ptype, 1, validate=False)
		frappe.db.set_default(
			roles.PERMISSION_SETUP_KEY, frappe.as_json(sorted({*roles._perm_doctypes_set_up_by_us(), "ToDo"}))
		)
		try:
			csm_rules_on_todo_taken_back.execute()
			self.assertFalse(
				frappe.db.exists("Custom DocPerm", {"parent": "ToDo", "role": ("in", constants.ROLES)})
			)
			# ToDo's custom rules were only the standard ones copied: it is back to standard
			self.assertEqual(roles._custom_rules("ToDo"), before)
			self.assertNotIn("ToDo", roles._perm_doctypes_set_up_by_us())
			self.assertTrue(standard)
			install.after_migrate()
			self.assertFalse(
				frappe.db.exists("Custom DocPerm", {"parent": "ToDo", "role": ("in", constants.ROLES)})
			)
		finally:
			roles.take_back_rules()  # add_permission may have committed
			frappe.db.commit()  # nosemgrep: the rules above are gone whatever the test did

	def test_grants_are_idempotent(self):
		roles.make_role_permissions()
		roles.make_role_permissions()
		self.assertEqual(
			frappe.db.count(
				"Custom DocPerm", {"parent": "Customer", "role": constants.CSM_ROLE, "permlevel": 0}
			),
			1,
		)


class TestPermissionLifecycle(FrappeTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_migrate_does_not_regrant_a_revoked_right(self):
		from frappe.permissions import update_permission_property

		rule = {"parent": "Customer", "role": constants.CSM_ROLE, "permlevel": 0}
		previous = frappe.db.get_value("Custom DocPerm", rule, "write")
		update_permission_property("Customer", constants.CSM_ROLE, 0, "write", 0, validate=False)
		try:
			install.after_migrate()
			self.assertEqual(frappe.db.get_value("Custom DocPerm", rule, "write"), 0)
		finally:
			update_permission_property("Customer", constants.CSM_ROLE, 0, "write", previous, validate=False)

	def test_migrate_does_not_put_back_a_rule_an_admin_removed(self):
		rule = {"parent": "Project", "role": constants.CSM_ROLE, "permlevel": 0}
		saved = frappe.get_all("Custom DocPerm", filters=rule, fields="*")
		self.assertTrue(saved, "install gives CSMs a rule on Project")
		frappe.db.delete("Custom DocPerm", rule)
		try:
			install.after_migrate()
			self.assertFalse(frappe.db.exists("Custom DocPerm", rule))
		finally:
			frappe.db.delete("Custom DocPerm", rule)
			for row in saved:
				frappe.get_doc({**row, "doctype": "Custom DocPerm"}).db_insert()
			frappe.clear_cache(doctype="Project")

	def standard_rule_added(self, doctype="Market Segment", role="Sales User"):
		"""An ERPNext upgrade that gives `role` a standard rule on `doctype` (as a doctype sync
		writes it), while our rules hold the doctype's rules in Custom DocPerm."""
		self.assertIn(doctype, roles._perm_doctypes_set_up_by_us())
		frappe.get_doc(
			{
				"doctype": "DocPerm",
				"parent": doctype,
				"parenttype": "DocType",
				"parentfield": "permissions",
				"role": role,
				"permlevel": 0,
				"select": 1,
				"read": 1,
				"report": 1,
				"idx": 99,
			}
		).db_insert()
		frappe.clear_cache(doctype=doctype)

	def sales_user_reads_market_segments(self) -> bool:
		from customer_success.tests.utils import make_user

		user = make_user("cs-perm-sales@example.com", ["Sales User"]).name
		frappe.clear_cache(doctype="Market Segment")
		return bool(frappe.has_permission("Market Segment", "read", user=user))

	def test_migrate_follows_a_change_of_the_standard_rules(self):
		"""frappe reads only the Custom DocPerm copy once our first rule is given: a rule ERPNext
		added later never applied (tester Y). Migrate takes the standard rules as they are now, while
		nobody changed the copy."""
		try:
			install.after_migrate()  # (a site set up before the copy was remembered: remembered now)
			self.standard_rule_added()
			self.assertFalse(self.sales_user_reads_market_segments())
			install.after_migrate()
			self.assertTrue(self.sales_user_reads_market_segments())
			self.assertTrue(
				frappe.db.exists("Custom DocPerm", {"parent": "Market Segment", "role": constants.CSM_ROLE}),
				"our rule stays",
			)
		finally:
			frappe.db.rollback()
			clear_defaults_cache("__default")
			frappe.clear_cache(doctype="Market Segment")

	def test_an_administrators_change_is_kept_over_a_change_of_the_standard_rules(self):
		from frappe.permissions import add_permission

		try:
			install.after_migrate()
			add_permission("Market Segment", "Accounts User", 0, "read")  # an administrator's rule
			self.standard_rule_added()
			install.after_migrate()
			self.assertFalse(self.sales_user_reads_market_segments())
			self.assertTrue(
				frappe.db.exists("Custom DocPerm", {"parent": "Market Segment", "role": "Accounts User"})
			)
		finally:
			frappe.db.rollback()
			clear_defaults_cache("__default")
			frappe.clear_cache(doctype="Market Segment")

	def test_uninstall_puts_back_the_standard_rules_as_they_are_then(self):
		"""The copy compared with the standard rules as they were changed since: kept, and the site
		stayed on the old rules with the app gone (tester Y)."""
		try:
			install.after_migrate()
			self.standard_rule_added()
			roles.remove_role_permissions()
			self.assertFalse(frappe.db.exists("Custom DocPerm", {"parent": "Market Segment"}))
			self.assertTrue(self.sales_user_reads_market_segments())
		finally:
			frappe.db.rollback()
			clear_defaults_cache("__default")
			for doctype in roles.ROLE_PERMISSIONS:
				frappe.clear_cache(doctype=doctype)

	def test_our_rules_export_only_what_they_list(self):
		"""A new Custom DocPerm row exports by default: every rule of ours let a CSM export what she
		reads (Customer, Sales Invoice...), which no rule of ours lists (tester Y)."""
		for doctype, ptypes in roles.ROLE_PERMISSIONS.items():
			if "export" in ptypes:
				continue
			for role in constants.ROLES:
				self.assertFalse(
					frappe.db.get_value(
						"Custom DocPerm", {"parent": doctype, "role": role, "permlevel": 0}, "export"
					),
					f"{role} on {doctype}",
				)
