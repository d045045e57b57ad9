// Copyright (c) customer_success contributors. See license.txt

frappe.query_reports["Revenue Leakage"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -12),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), 180),
			reqd: 1,
		},
		{
			fieldname: "kind",
			label: __("Leak"),
			fieldtype: "Select",
			options: [
				{ value: "", label: "" },
				{ value: "Invoiced after Contract Expired", label: __("Invoiced after Contract Expired") },
				{ value: "Invoiced without a Signed Contract", label: __("Invoiced without a Signed Contract") },
				{ value: "Ending with No Renewal", label: __("Ending with No Renewal") },
				{ value: "Auto-Renewal Notice Near", label: __("Auto-Renewal Notice Near") },
			],
		},
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
		},
		{
			fieldname: "customer",
			label: __("Customer"),
			fieldtype: "Link",
			options: "Customer",
		},
		{
			fieldname: "csm",
			label: __("CSM"),
			fieldtype: "Link",
			options: "User",
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
};
