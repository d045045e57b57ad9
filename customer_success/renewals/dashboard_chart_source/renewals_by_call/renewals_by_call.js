frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Renewals by Call"] = {
	method: "customer_success.renewals.dashboard_chart_source.renewals_by_call.renewals_by_call.get",
	filters: [],
};
