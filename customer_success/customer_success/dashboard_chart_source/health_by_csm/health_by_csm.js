frappe.provide("frappe.dashboards.chart_sources");

frappe.dashboards.chart_sources["Health by CSM"] = {
	method: "customer_success.customer_success.dashboard_chart_source.health_by_csm.health_by_csm.get",
	filters: [],
};
