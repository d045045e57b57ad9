frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Customers by Health"] = {
	method: "customer_success.customer_success.dashboard_chart_source.customers_by_health.customers_by_health.get",
	filters: [],
};
