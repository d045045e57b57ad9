// The portfolio: every customer of the user's book with its health, weakest first.
const CS_HEALTH_COLOURS = { Green: "green", Yellow: "yellow", Red: "red", "Insufficient Data": "gray" };

frappe.query_reports["Customer Health"] = {
	filters: [
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
		{
			fieldname: "status",
			label: __("Health Status"),
			fieldtype: "Select",
			options: ["", "Green", "Yellow", "Red", "Insufficient Data"],
		},
		{ fieldname: "renewal_from", label: __("Renewal From"), fieldtype: "Date" },
		{ fieldname: "renewal_to", label: __("Renewal To"), fieldtype: "Date" },
		{ fieldname: "rows", label: __("Rows"), fieldtype: "Int", default: 500, description: __("The weakest customers first; 0 shows them all.") },
	],
	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "status" && data && data.status) {
			const colour = CS_HEALTH_COLOURS[data.status] || "gray";
			return `<span class="indicator-pill ${colour}">${frappe.utils.escape_html(__(data.status))}</span>`;
		}
		if (column.fieldname === "score" && data && data.status && value == null) {
			return "–";
		}
		if (column.fieldname === "top_negative_factor" && data && data.top_negative_factor) {
			return frappe.utils.escape_html(__(data.top_negative_factor));
		}
		return default_formatter(value, row, column, data);
	},
};
