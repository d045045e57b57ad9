frappe.listview_settings["Success Plan Check-in"] = {
	add_fields: ["status", "due_date", "docstatus"],
	// An open check-in is a draft of a submittable doctype: without this frappe shows a red "Draft"
	// for every one of them and never reaches get_indicator.
	has_indicator_for_draft: true,
	get_indicator(doc) {
		if (doc.docstatus === 1) return [__("Completed"), "green", "docstatus,=,1"];
		const late = doc.due_date && doc.due_date < frappe.datetime.get_today();
		if (late) return [__("Overdue"), "red", `docstatus,=,0|due_date,<,${frappe.datetime.get_today()}`];
		return [__("Due"), "orange", `docstatus,=,0|due_date,>=,${frappe.datetime.get_today()}`];
	},
};
