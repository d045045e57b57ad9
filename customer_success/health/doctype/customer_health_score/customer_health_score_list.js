frappe.listview_settings["Customer Health Score"] = {
	add_fields: ["status", "score", "trend", "is_override"],
	get_indicator(doc) {
		const colour = customer_success.health.service.STATUS_COLOURS[doc.status] || "gray";
		return [__(doc.status || "No Score"), colour, `status,=,${doc.status}`];
	},
	// With too little known there is no score: show "–", never the partial sum as if it were one.
	formatters: {
		score(value, df, doc) {
			return customer_success.health.service.format_score(value, doc.status);
		},
		trend(value, df, doc) {
			return customer_success.health.service.has_score(doc.status) ? format_number(value || 0, null, 1) : "–";
		},
	},
};
