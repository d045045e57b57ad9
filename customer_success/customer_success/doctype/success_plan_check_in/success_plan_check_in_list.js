frappe.listview_settings["Success Plan Check-in"] = {
	add_fields: ["status", "due_date"],
	get_indicator(doc) {
		if (doc.status === "Due") {
			const late = doc.due_date && doc.due_date < frappe.datetime.get_today();
			return [__(late ? "Overdue" : "Due"), late ? "red" : "orange", "status,=,Due"];
		}
		return [__(doc.status), doc.status === "Completed" ? "green" : "darkgrey", `status,=,${doc.status}`];
	},
};
