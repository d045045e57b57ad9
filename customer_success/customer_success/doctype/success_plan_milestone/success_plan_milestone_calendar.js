frappe.views.calendar["Success Plan Milestone"] = {
	field_map: {
		start: "due_date",
		end: "due_date",
		id: "name",
		title: "title",
		allDay: "allDay",
		status: "status",
	},
	style_map: {
		"Not Started": "default",
		"In Progress": "warning",
		Done: "success",
		Overdue: "danger",
		Skipped: "default",
	},
	filters: [
		{ fieldtype: "Link", fieldname: "customer", options: "Customer", label: __("Customer") },
		{ fieldtype: "Link", fieldname: "assigned_to", options: "User", label: __("Owner") },
	],
	get_events_method: "frappe.desk.calendar.get_events",
};
