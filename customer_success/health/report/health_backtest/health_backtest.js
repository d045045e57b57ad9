// What the health score and each factor said 90 and 180 days before each renewal and churn.
frappe.query_reports["Health Backtest"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			default: frappe.datetime.add_days(frappe.datetime.get_today(), -365),
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
			fieldname: "view",
			label: __("View"),
			fieldtype: "Select",
			options: [
				{ value: "Factors", label: __("Factors") },
				{ value: "Customers", label: __("Customers") },
			],
			default: "Factors",
		},
		{ fieldname: "low_score", label: __("Low Score"), fieldtype: "Float", default: 40 },
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
		if (column.fieldname === "signal" && data && data.signal) {
			return frappe.utils.escape_html(__(data.signal));
		}
		if (column.fieldname === "outcome" && data && data.outcome) {
			const colour = data.outcome === "Churned" ? "red" : "green";
			return `<span class="indicator-pill ${colour}">${frappe.utils.escape_html(__(data.outcome))}</span>`;
		}
		return default_formatter(value, row, column, data);
	},
};
