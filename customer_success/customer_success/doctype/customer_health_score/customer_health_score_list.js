frappe.listview_settings["Customer Health Score"] = {
	add_fields: ["status", "score", "is_override"],
	get_indicator(doc) {
		const colour = { Green: "green", Yellow: "yellow", Red: "red" }[doc.status] || "gray";
		return [__(doc.status || "No Score"), colour, `status,=,${doc.status}`];
	},
};
