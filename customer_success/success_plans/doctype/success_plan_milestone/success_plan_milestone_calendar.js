frappe.views.calendar["Success Plan Milestone"] = {
	field_map: {
		start: "due_date",
		end: "due_date",
		id: "name",
		title: "title",
		allDay: "allDay",
		status: "status",
	},
	// frappe v15 colours calendar events through get_css_class; it needs the status fetched.
	fields: ["name", "title", "due_date", "status", "customer"],
	get_css_class(event) {
		return (
			{
				"Not Started": "default",
				"In Progress": "warning",
				Done: "success",
				Overdue: "danger",
				Skipped: "default",
			}[event.status] || "default"
		);
	},
	filters: [
		{ fieldtype: "Link", fieldname: "customer", options: "Customer", label: __("Customer") },
		{ fieldtype: "Link", fieldname: "assigned_to", options: "User", label: __("Owner") },
	],
	// each event titled with its customer, coloured by its status
	get_events_method: "customer_success.customer_success.api.milestone_events",
};
