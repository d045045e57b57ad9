frappe.listview_settings["Success Plan"] = {
	add_fields: ["status", "progress", "customer", "customer_name", "end_date", "next_checkin_due"],
	get_indicator(doc) {
		const colours = customer_success.success_plans.service.PLAN_COLOURS; // from customer_success.bundle.js
		return [__(doc.status), colours[doc.status] || "gray", `status,=,${doc.status}`];
	},
	formatters: {
		progress(value) {
			return customer_success.success_plans.service.progress_pill(value);
		},
		next_checkin_due(value) {
			if (!value) return "";
			const overdue = value < frappe.datetime.get_today();
			return `<span class="${overdue ? "text-danger" : ""}">${frappe.datetime.str_to_user(value)}</span>`;
		},
	},
	refresh(listview) {
		// the customer's health beside each plan, in its colour
		customer_success.health.service.show_row_health(listview, "customer");
	},
};
