// Copyright (c) customer_success contributors. See license.txt

frappe.query_reports["Renewal Forecast"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("Contracts Ending From"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("Contracts Ending To"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), 180),
			reqd: 1,
		},
		{
			fieldname: "status",
			label: __("Status"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				{ value: "Open", label: __("Open") },
				{ value: "Renewed", label: __("Renewed") },
				{ value: "Churned", label: __("Churned") },
				{ value: "Cancelled", label: __("Cancelled") },
			],
		},
		{
			fieldname: "csm",
			label: __("CSM"),
			fieldtype: "Link",
			options: "User",
		},
		{
			fieldname: "customer",
			label: __("Customer"),
			fieldtype: "Link",
			options: "Customer",
		},
		{
			fieldname: "tier",
			label: __("CS Tier"),
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
		if (data && data.disagreement && column.fieldname === "customer") {
			value = `<span class="text-danger" title="${__("The CSM says it will renew while health is red.")}">${value}</span>`;
		}
		return value;
	},
};
