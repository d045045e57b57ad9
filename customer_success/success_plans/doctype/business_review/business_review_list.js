frappe.listview_settings["Business Review"] = {
	add_fields: ["status"],
	get_indicator(doc) {
		return [__(doc.status), doc.status === "Draft" ? "orange" : "green", `status,=,${doc.status}`];
	},
};
