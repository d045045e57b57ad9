frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Customers by Segment"] = {
	method: "customer_success.customer_success.dashboard_chart_source.customers_by_segment.customers_by_segment.get",
	filters: [],
};
