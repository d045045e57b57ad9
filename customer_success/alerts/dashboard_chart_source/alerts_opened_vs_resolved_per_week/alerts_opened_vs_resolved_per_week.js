frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Alerts Opened vs Resolved per Week"] = {
	method: "customer_success.alerts.dashboard_chart_source.alerts_opened_vs_resolved_per_week.alerts_opened_vs_resolved_per_week.get",
	filters: [],
};
