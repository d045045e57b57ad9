frappe.listview_settings["Success Plan"] = {
	add_fields: ["status", "progress", "customer_name"],
	get_indicator(doc) {
		const colours = customer_success.success_plans.service.PLAN_COLOURS; // from customer_success.bundle.js
		return [__(doc.status), colours[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
