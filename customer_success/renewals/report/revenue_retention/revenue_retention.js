// Copyright (c) customer_success contributors. See license.txt

frappe.query_reports["Revenue Retention"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_months(frappe.datetime.month_start(), -11),
			reqd: 1,
		},
		{
			fieldname: "to_date",
			label: __("To Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			reqd: 1,
		},
		{
			fieldname: "periodicity",
			label: __("Periodicity"),
			fieldtype: "Select",
			options: [
				{ value: "Monthly", label: __("Monthly") },
				{ value: "Quarterly", label: __("Quarterly") },
			],
			default: "Monthly",
			reqd: 1,
		},
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
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
