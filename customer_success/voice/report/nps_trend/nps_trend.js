frappe.query_reports["NPS Trend"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("From Date"),
			fieldtype: "Date",
			reqd: 1,
			// frappe.datetime.month_start() takes no date: the first of this month, then eleven months back
			default: frappe.datetime.add_months(frappe.datetime.month_start(), -11),
		},
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", reqd: 1, default: frappe.datetime.get_today() },
		{ fieldname: "group_by", label: __("Group By"), fieldtype: "Select", options: ["Overall", "Tier", "CSM"], default: "Tier" },
		{ fieldname: "tier", label: __("Tier"), fieldtype: "Select", options: ["", "Strategic", "Enterprise", "Mid-Market", "SMB"] },
		{ fieldname: "csm", label: __("CSM"), fieldtype: "Link", options: "User" },
	],
	formatter(value, row, column, data, default_formatter) {
		value = default_formatter(value, row, column, data);
		if (column.fieldname === "nps" && data && data.nps !== null && data.nps !== undefined) {
			const colour = data.nps > 0 ? "green" : data.nps < 0 ? "red" : "orange";
			value = `<span style="color: var(--${colour}-600)">${value}</span>`;
		}
		return value;
	},
};
