frappe.query_reports["Segment Performance"] = {
	filters: [
		{
			fieldname: "group_by",
			label: __("Group By"),
			fieldtype: "Select",
			options: [
				{ value: "Tier and Segment", label: __("Tier and Segment") },
				{ value: "Tier", label: __("Tier") },
				{ value: "Segment", label: __("Segment") },
			],
			default: "Tier and Segment",
		},
		{
			fieldname: "as_of",
			label: __("As Of"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
		},
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
		},
	],
};
