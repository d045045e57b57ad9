frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Open Alerts by Severity"] = {
	method: "customer_success.alerts.dashboard_chart_source.open_alerts_by_severity.open_alerts_by_severity.get",
	filters: [],
};
