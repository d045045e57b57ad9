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
after_install = "customer_success.install.after_install"
after_migrate = "customer_success.install.after_migrate"
before_uninstall = "customer_success.install.before_uninstall"

before_tests = "customer_success.tests.utils.before_tests"

# Our own records shipped with the app (filtered to ours only).
fixtures = []

app_include_js = "customer_success.bundle.js"

doctype_js = {"Customer": "public/js/customer.js"}

override_doctype_dashboards = {
	"Customer": "customer_success.integrations.erpnext.customer.get_dashboard_data",
}

scheduler_events = {
	"cron": {
		# 01:30 site time: the whole book's health, chunked onto the long queue.
		"30 1 * * *": ["customer_success.health.nightly_recompute"],
	},
}

permission_query_conditions = {
	"Customer Health Score": "customer_success.permissions.customer_health_score_query",
}

has_permission = {
	"Customer Health Score": "customer_success.permissions.customer_health_score_has_permission",
}
