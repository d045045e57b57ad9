frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Renewals by Month"] = {
	method: "customer_success.renewals.dashboard_chart_source.renewals_by_month.renewals_by_month.get",
	filters: [],
};
