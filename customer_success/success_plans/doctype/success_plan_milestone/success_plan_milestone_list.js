frappe.listview_settings["Success Plan Milestone"] = {
	add_fields: ["status", "due_date"],
	get_indicator(doc) {
		const colours = { "Not Started": "gray", "In Progress": "orange", Done: "green", Overdue: "red", Skipped: "darkgrey" };
		return [__(doc.status), colours[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
