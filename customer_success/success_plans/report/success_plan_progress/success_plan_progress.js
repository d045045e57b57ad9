// Each success plan of the book: progress, objectives, overdue milestones and the next check-in.
frappe.query_reports["Success Plan Progress"] = {
	filters: [
		{ fieldname: "from_date", label: __("Running From"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("Running To"), fieldtype: "Date" },
		{
			fieldname: "status",
			label: __("Status"),
			fieldtype: "Select",
			options: ["", "Draft", "Agreed with Customer", "Active", "Achieved", "At Risk", "Closed"],
		},
		{ fieldname: "csm", label: __("CSM"), fieldtype: "Link", options: "User" },
		{
			fieldname: "tier",
			label: __("Tier"),
			fieldtype: "Select",
			options: ["", "Strategic", "Enterprise", "Mid-Market", "SMB"],
		},
		{
			fieldname: "lifecycle_stage",
			label: __("Lifecycle Stage"),
			fieldtype: "Select",
			options: ["", "Onboarding", "Adoption", "Value Realisation", "Renewal", "Expansion", "Churned"],
		},
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (data && column.fieldname === "milestones_overdue" && data.milestones_overdue > 0) {
			return `<span class="text-danger">${value}</span>`;
		}
		if (data && column.fieldname === "next_checkin" && data.checkin_overdue) {
			return `<span class="text-danger">${value}</span>`;
		}
		return value;
	},
};
