# (private names: every public name of this module is read as a hook)
from customer_success.constants import ERP_BOOK_DOCTYPES as _ERP_BOOK_DOCTYPES
from customer_success.constants import ERP_CHILD_DOCTYPES as _ERP_CHILD_DOCTYPES

app_name = "customer_success"
app_title = "Customer Success"
app_publisher = "customer_success contributors"
app_description = "Customer success on ERPNext: handoffs, success plans, health scores, alerts, renewals"
app_email = "dev@customer-success.invalid"
app_license = "MIT"
app_icon = "octicon octicon-heart"
app_color = "green"

# "org/repo" form: a bare "erpnext" makes frappe ask GitHub for the org at install time.
required_apps = ["frappe/erpnext"]

export_python_type_annotations = True

# Install / migrate / uninstall
after_install = "customer_success.setup.install.after_install"
# the install's last step: the meta frappe cached during the install without our roles' rules
after_sync = "customer_success.setup.install.after_sync"
after_migrate = "customer_success.setup.install.after_migrate"
before_uninstall = "customer_success.setup.install.before_uninstall"
after_uninstall = "customer_success.setup.install.after_uninstall"

before_tests = "customer_success.tests.utils.before_tests"

# Our own records shipped with the app (filtered to ours only).
fixtures = []

app_include_js = "customer_success.bundle.js"
# the Customer Success workspace's first answer and sidebar, sent with its page load
extend_bootinfo = "customer_success.customer_success.boot.extend_bootinfo"

doctype_js = {
	"Customer": [
		"public/js/customer.js",
		"public/js/customer_renewals.js",
		"public/js/customer_usage.js",
		"public/js/customer_segments.js",
		"public/js/nps_send_dialog.js",
		"public/js/customer_voice.js",
	],
	"Success Plan": ["public/js/nps_send_dialog.js", "public/js/success_plan_voice.js"],
}
doctype_list_js = {"Customer": "public/js/customer_list.js"}

override_doctype_dashboards = {
	"Customer": "customer_success.integrations.erpnext.customer.get_dashboard_data",
	"Opportunity": "customer_success.integrations.erpnext.opportunity.get_dashboard_data",
}

# frappe names a Scheduled Job Type by the method's last two parts ("jobs.daily"): a second method of
# the same two, in this app or another, replaces the first on every sync. Each one here is unique
# (`test_install.test_each_scheduled_method_has_its_own_job_type`).
scheduler_events = {
	"daily": [
		"customer_success.success_plans.jobs.cs_success_plans_daily",
		# tiers from revenue bands, lifecycle touchpoints planned and recorded (queued on long)
		"customer_success.segments.jobs.cs_segments_daily",
		# NPS links past their expiry are marked Expired
		"customer_success.voice.jobs.cs_voice_daily",
	],
	"hourly": [
		"customer_success.handoff.jobs.refresh_late_handoffs",
		# the book roll-up folded into one row per key
		"customer_success.customer_success.book_counts.queue_compact",
	],
	"cron": {
		# 01:30 site time: the whole book's health, chunked onto the long queue.
		"30 1 * * *": ["customer_success.health.jobs.nightly_recompute"],
		# Every 5 minutes: retry (once) or fail the chunks of a running recompute whose job died.
		"*/5 * * * *": ["customer_success.health.jobs.watch_recompute_runs"],
		# 03:00 site time, after the health run: renewal records, checkpoints, self-closing.
		"0 3 * * *": ["customer_success.renewals.jobs.cs_renewals_nightly"],
		# 07:00 site time, after the night: each CSM's e-mail digest (daily, or weekly on its day).
		"0 7 * * *": ["customer_success.customer_success.digest.cs_csm_digest"],
		# 00:10 site time: Revenue Retention's roll-up, reconciled, with the new day's point.
		"10 0 * * *": ["customer_success.renewals.jobs.queue_retention_rollup"],
		# 02:30 site time: the roll-ups the reports read, reconciled with the ledger and the history.
		"30 2 * * *": [
			"customer_success.renewals.jobs.queue_revenue_rollup",
			"customer_success.renewals.jobs.queue_leak_rollup",
			"customer_success.health.jobs.queue_trend_rollup",
			"customer_success.customer_success.book_counts.queue_upkeep",
		],
	},
	# Usage from the configured endpoint, when the pull is enabled (a no-op otherwise).
	"hourly_long": ["customer_success.usage.jobs.pull_usage"],
}

# A list never returns a joined child field the user may not read (frappe 15 skips the field after
# each one it drops: permissions.guard_field_reads).
before_request = [
	"customer_success.permissions.guard_field_reads",
	"customer_success.utils.check_method_arguments",
]
# ... and the app's background jobs run in the site's language (a worker starts each in English).
before_job = ["customer_success.permissions.guard_field_reads", "customer_success.utils.job_in_site_language"]

permission_query_conditions = {
	"Customer Health Score": "customer_success.permissions.customer_health_score_query",
	"Success Plan": "customer_success.permissions.success_plan_query",
	"Success Plan Milestone": "customer_success.permissions.success_plan_milestone_query",
	"Success Plan Check-in": "customer_success.permissions.success_plan_checkin_query",
	"Business Review": "customer_success.permissions.business_review_query",
	"Sales Handoff": "customer_success.permissions.sales_handoff_query",
	"CS Alert": "customer_success.permissions.cs_alert_query",
	"Customer Touchpoint": "customer_success.permissions.customer_touchpoint_query",
	"NPS Survey": "customer_success.permissions.nps_survey_query",
	"NPS Response": "customer_success.permissions.nps_response_query",
	"Renewal": "customer_success.permissions.renewal_query",
	# Child rows follow their parent's rules (a child doctype's list applies only its own).
	"Sales Handoff Stakeholder": "customer_success.permissions.child_rows_query",
	"Sales Handoff Item": "customer_success.permissions.child_rows_query",
	"Sales Handoff Problem": "customer_success.permissions.child_rows_query",
	"Sales Handoff Use Case": "customer_success.permissions.child_rows_query",
	"Sales Handoff Communication": "customer_success.permissions.child_rows_query",
	"Success Plan Objective": "customer_success.permissions.child_rows_query",
	"Success Plan Check-in Objective": "customer_success.permissions.child_rows_query",
	"Business Review Objective": "customer_success.permissions.child_rows_query",
	"CS Alert Task": "customer_success.permissions.child_rows_query",
	"NPS Survey Contact": "customer_success.permissions.child_rows_query",
	"Renewal Checkpoint": "customer_success.permissions.child_rows_query",
	"Customer Usage Metric": "customer_success.permissions.customer_usage_metric_query",
	"Usage Metric Entitlement": "customer_success.permissions.usage_metric_entitlement_query",
	# ERPNext's records a CSM is given by the app: her book's, unless another role of hers reads them
	**{doctype: "customer_success.permissions.erp_book_query" for doctype in _ERP_BOOK_DOCTYPES},
	# and their child tables, listed directly
	**{doctype: "customer_success.permissions.erp_child_query" for doctype in _ERP_CHILD_DOCTYPES},
}

# The same rules through frappe's generic doors: counts and link search of our doctypes.
# The app's reports e-mailed on a schedule are made as their User (`auto_email_report.py`).
override_doctype_class = {
	"Auto Email Report": "customer_success.customer_success.auto_email_report.CSAutoEmailReport",
}
override_whitelisted_methods = {
	# the sidebar's Assign To leaves the owner (`assigned_to`) of a milestone, alert or touchpoint alone
	"frappe.desk.form.assign_to.add": "customer_success.integrations.desk.api.add",
	"frappe.desk.form.assign_to.add_multiple": "customer_success.integrations.desk.api.add_multiple",
	"frappe.desk.form.assign_to.remove": "customer_success.integrations.desk.api.remove",
	"frappe.desk.form.assign_to.remove_multiple": "customer_success.integrations.desk.api.remove_multiple",
	"frappe.desk.form.assign_to.close": "customer_success.integrations.desk.api.close",
	"frappe.client.get_count": "customer_success.customer_success.api.get_count",
	"frappe.desk.listview.get_group_by_count": "customer_success.customer_success.api.get_group_by_count",
	"frappe.utils.global_search.search": "customer_success.customer_success.api.global_search",
	# the Links of a record: not through a child table the user may not read
	"frappe.desk.form.linked_with.get": "customer_success.customer_success.api.linked_with",
	# a party's balance and outstanding documents: a CSM of her book's customers only
	"erpnext.accounts.utils.get_balance_on": "customer_success.integrations.erpnext.api.get_balance_on",
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_outstanding_reference_documents": (
		"customer_success.integrations.erpnext.api.get_outstanding_reference_documents"
	),
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_party_and_account_balance": (
		"customer_success.integrations.erpnext.api.get_party_and_account_balance"
	),
	"erpnext.accounts.doctype.payment_entry.payment_entry.get_party_details": (
		"customer_success.integrations.erpnext.api.get_party_details"
	),
}
standard_queries = {
	doctype: "customer_success.customer_success.api.search_in_book"
	for doctype in (
		"Customer Health Score",
		"Success Plan",
		"Success Plan Milestone",
		"Success Plan Check-in",
		"Business Review",
		"Sales Handoff",
		"CS Alert",
		"Customer Touchpoint",
		"NPS Survey",
		"NPS Response",
		"Renewal",
		"Customer Usage Metric",
	)
}

has_permission = {
	"Customer Health Score": "customer_success.permissions.customer_health_score_has_permission",
	"Success Plan": "customer_success.permissions.customer_record_has_permission",
	"Success Plan Milestone": "customer_success.permissions.customer_record_has_permission",
	"Success Plan Check-in": "customer_success.permissions.customer_record_has_permission",
	"Business Review": "customer_success.permissions.customer_record_has_permission",
	"Sales Handoff": "customer_success.permissions.sales_handoff_has_permission",
	"CS Alert": "customer_success.permissions.customer_record_has_permission",
	"Customer Touchpoint": "customer_success.permissions.customer_record_has_permission",
	"NPS Survey": "customer_success.permissions.customer_record_has_permission",
	"NPS Response": "customer_success.permissions.customer_record_has_permission",
	"Renewal": "customer_success.permissions.customer_record_has_permission",
	"Customer Usage Metric": "customer_success.permissions.customer_record_has_permission",
	**{doctype: "customer_success.permissions.erp_record_has_permission" for doctype in _ERP_BOOK_DOCTYPES},
	# our own cards and charts: frappe's rule, without its per-call scan of the permission tables
	"Number Card": "customer_success.permissions.own_widget_has_permission",
	"Dashboard Chart": "customer_success.permissions.own_widget_has_permission",
}

# Usage: a malformed JSON body sent to the ingest endpoint gets the API's 400, not frappe's 500.
after_request = ["customer_success.usage.service.refuse_malformed_json"]

doc_events = {
	"Customer": {
		"validate": "customer_success.integrations.erpnext.customer.protect_customer_success_fields",
		# the revenue roll-up follows a customer to its new book
		"on_update": [
			"customer_success.integrations.erpnext.customer.on_update",
			# Revenue Leakage's leak table follows the customer's tier and lifecycle stage
			"customer_success.integrations.erpnext.customer.on_update_leaks",
			# the book roll-up (team cards and charts): the difference this save made
			"customer_success.integrations.erpnext.customer.on_update_book_counts",
		],
		"on_trash": [
			# its score history (derived, written nightly) goes with it; nothing else of the app's
			"customer_success.integrations.erpnext.customer.on_trash_health",
			"customer_success.integrations.erpnext.customer.on_trash_book_counts",
		],
		# a customer merged into another: its days of score and usage the kept one has of its own,
		# and its open alerts of a rule the kept one has open, are settled first (unique keys)
		"before_rename": "customer_success.integrations.erpnext.customer.before_rename",
		# a renamed or merged customer's open alerts: keyed by its name, the CSM of the one they joined
		"after_rename": "customer_success.integrations.erpnext.customer.after_rename",
	},
	"Sales Order": {
		"on_submit": [
			"customer_success.integrations.erpnext.sales_order.draft_handoff_on_submit",
			# whether the customer is live (the book roll-up: Segment Performance's customers)
			"customer_success.integrations.erpnext.live.on_submit",
		],
		"on_cancel": [
			"customer_success.integrations.erpnext.live.on_cancel",
			# its open handoff is cancelled with it (amending the order reopens it)
			"customer_success.integrations.erpnext.sales_order.cancel_handoff_on_cancel",
			# a renewal it renewed opens again
			"customer_success.integrations.erpnext.sales_order.reopen_renewals_on_cancel",
		],
		# a cancelled order deleted: its cancelled handoff stays, unlinked
		"on_trash": "customer_success.integrations.erpnext.sales_order.unlink_cancelled_handoffs",
	},
	# Success plan milestones that complete themselves from what happens in ERPNext.
	"Delivery Note": {"on_submit": "customer_success.integrations.erpnext.delivery_note.on_submit"},
	"Project": {"on_update": "customer_success.integrations.erpnext.project.on_update"},
	"Payment Entry": {"on_submit": "customer_success.integrations.erpnext.payment_entry.on_submit"},
	"Sales Invoice": {
		"on_submit": [
			"customer_success.integrations.erpnext.sales_invoice.on_paid",
			"customer_success.integrations.erpnext.sales_invoice.on_submit_renewals",
			# the revenue roll-up (CSM Workload), kept current invoice by invoice
			"customer_success.integrations.erpnext.sales_invoice.on_submit",
			"customer_success.integrations.erpnext.live.on_submit",
		],
		"on_cancel": [
			"customer_success.integrations.erpnext.sales_invoice.on_cancel",
			"customer_success.integrations.erpnext.live.on_cancel",
		],
		"on_update_after_submit": "customer_success.integrations.erpnext.sales_invoice.on_paid",
	},
	"Issue": {"on_update": "customer_success.integrations.erpnext.issue.on_update"},
	# Alerts: a playbook task's ToDo closed moves the alert; an Opportunity's outcome shows on it.
	"ToDo": {
		# a record of the app goes on a desk user's list, or a milestone on its own customer's contact
		"validate": "customer_success.permissions.check_todo_assignee",
		"on_update": "customer_success.alerts.service.on_todo_update",
	},
	# a CSM's address changed: the roll-ups keyed by the CSM reconciled now, not tonight
	"User": {"after_rename": "customer_success.integrations.users.after_rename"},
	# ERPNext's Delete Company Transactions deletes the ledger past every hook: the same, once it completes
	"Transaction Deletion Record": {
		"on_change": "customer_success.integrations.erpnext.transaction_deletion.on_change"
	},
	# on_change, which runs after every save and also where ERPNext moves an Opportunity's status with
	# `set_status(update=True)` (a db_set: no on_update) as its Quotation and Sales Order are made
	"Event": {"validate": "customer_success.integrations.erpnext.event.check_participants"},
	"Opportunity": {
		"on_change": "customer_success.integrations.erpnext.opportunity.on_update",
		"on_trash": "customer_success.integrations.erpnext.opportunity.on_trash",
	},
	# Renewals: a cancelled contract's open renewal closes as Cancelled.
	# Revenue Leakage: the customer's invoices classed again when a contract is submitted, signed or
	# cancelled.
	"Contract": {
		"on_cancel": [
			"customer_success.integrations.erpnext.contract.on_cancel",
			"customer_success.integrations.erpnext.contract.leaks_changed",
			"customer_success.integrations.erpnext.live.on_cancel",
		],
		"on_submit": [
			# an amendment takes the renewal of the contract it amends
			"customer_success.integrations.erpnext.contract.on_submit",
			"customer_success.integrations.erpnext.contract.leaks_changed",
			"customer_success.integrations.erpnext.live.on_submit",
		],
		"on_update_after_submit": "customer_success.integrations.erpnext.contract.leaks_changed",
		"on_trash": "customer_success.integrations.erpnext.contract.on_trash",
	},
	# Renewals: a subscription cancelled, extended or rolled over closes its open renewal.
	"Subscription": {"on_update": "customer_success.integrations.erpnext.subscription.on_update"},
}

# frappe v15 leaves a Link unchecked when another field fetches from it and the record is missing
# (frappe/frappe#26930): the app's doctypes whose customer, contact or plan Link fills other fields
# check it themselves, before their own validation reads it.
for _doctype in (
	"Customer Health Score",
	"CS Alert",
	"Renewal",
	"NPS Survey",
	"NPS Response",
	"Success Plan",
	"Sales Handoff",
	"Business Review",
	"Success Plan Check-in",
	"Success Plan Milestone",
):
	doc_events.setdefault(_doctype, {})["before_validate"] = "customer_success.utils.check_fetched_links"

# A number field of the app's doctypes holds a number before their own checks read it (others return
# at once: `check_numbers` looks at the doctype's module first).
doc_events.setdefault("*", {})["before_validate"] = "customer_success.utils.check_numbers"
# and a text field no longer than its column (`check_text_lengths`: the database's error otherwise)
doc_events["*"]["validate"] = "customer_success.utils.check_text_lengths"
# A Data Import of the app's doctypes: text in a number column refused before the import (frappe's
# importer reads it as 0 before any of the record's hooks sees it)
doc_events.setdefault("Data Import", {})["validate"] = "customer_success.utils.check_import_numbers"

# Called as fn(handoff_doc) when a CSM accepts a Sales Handoff (success plans register here).
cs_on_handoff_accepted = ["customer_success.success_plans.service.create_plan_from_handoff"]

# Called as fn(run=, status=, score_date=) when a health recompute run finishes (Completed or
# Failed); alerts queue their rules pass here.
cs_after_health_run = [
	"customer_success.alerts.service.after_health_run",
	# the Health Trend roll-up refreshes the periods the run wrote
	"customer_success.health.jobs.queue_trend_rollup",
	# the book roll-up reconciled and folded after the run's bulk writes
	"customer_success.customer_success.book_counts.queue_upkeep",
]

# Called as fn(lo=, hi=, today=, facts=, rows=) after each chunk of a recompute run has committed
# its scores, with the facts it read (health's `gather_facts`) and its score rows; alerts evaluate
# their rules over the chunk here, reading only what the health facts do not hold.
cs_after_health_chunk = ["customer_success.alerts.service.after_health_chunk"]

# Called as fn(customer, why) when a customer is disabled or recorded as churned (its form, an
# import, a renewal marked churned): its open alerts call for nothing more (`utils.customer_gone`).
cs_on_customer_gone = ["customer_success.alerts.service.close_for_customer_gone"]
# Called as fn(customer, why) when a customer is recorded as churned, after the hooks above: the
# onboarding and success work of a lost customer closes too (a disabled customer's is kept: a
# disable is undone by enabling it, and a closed plan cannot be opened again).
cs_on_customer_churned = [
	"customer_success.success_plans.service.close_plans_of_customer_gone",
	"customer_success.segments.service.cancel_touchpoints",
	"customer_success.handoff.service.cancel_open_handoffs_of_customer_gone",
]

# Called as fn(nps_response) when an NPS answer is recorded; alerts run the customer's NPS rules.
cs_on_nps_answer = ["customer_success.alerts.service.on_nps_answer"]

# Portal: a customer's contacts read (and print) the success plans shared with them.
standard_portal_menu_items = [
	{
		"title": "Success Plans",
		"route": "/success-plans",
		"reference_doctype": "Success Plan",
		"role": "Customer",
	},
]
has_website_permission = {
	"Success Plan": "customer_success.permissions.success_plan_has_website_permission",
}

# Print formats and the portal page show a metric's value with its unit ("3 teams", "1 report").
jinja = {
	"methods": [
		"customer_success.success_plans.service.cs_metric",
		"customer_success.success_plans.service.cs_rich_text",
	]
}
