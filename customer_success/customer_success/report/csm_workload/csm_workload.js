// Per CSM: the book, its revenue, open alerts and what is overdue in it.
frappe.query_reports["CSM Workload"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("Revenue From"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.add_months(frappe.datetime.get_today(), -12), 1),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("Revenue To"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
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
		if (column.fieldname === "csm" && data && !data.csm) {
			return `<span class="text-muted">${__("Not assigned")}</span>`;
		}
		value = default_formatter(value, row, column, data);
		if (data && column.fieldname === "overdue_items" && data.overdue_items > 0) {
			return `<span class="text-danger">${value}</span>`;
		}
		return value;
	},
};
