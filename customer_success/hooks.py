app_name = "customer_success"
app_title = "Customer Success"
app_publisher = "customer_success contributors"
app_description = "Customer success on ERPNext: handoffs, success plans, health scores, alerts, renewals"
app_email = "dev@customer-success.invalid"
app_license = "MIT"
app_icon = "octicon octicon-heart"
app_color = "green"

required_apps = ["erpnext"]

export_python_type_annotations = True

# Install / migrate / uninstall
after_install = "customer_success.install.after_install"
after_migrate = "customer_success.install.after_migrate"
before_uninstall = "customer_success.install.before_uninstall"

before_tests = "customer_success.tests.utils.before_tests"

# Our own records shipped with the app (filtered to ours only).
fixtures = []
