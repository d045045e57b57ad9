frappe.listview_settings["Sales Handoff"] = {
	add_fields: ["status", "is_late", "sla_step", "completeness"],
	filters: [["status", "not in", ["Accepted", "Cancelled"]]],
	get_indicator(doc) {
		// late ones in red, with the status alone as the label: "Handed Over (Overdue)" does not fit
		// the column (filter on "Overdue" for the list of them)
		if (doc.is_late) {
			return [__(doc.status), "red", "is_late,=,1"];
		}
		const colour = { Draft: "gray", "Handed Over": "blue", Accepted: "green", Returned: "orange", Cancelled: "darkgrey" }[doc.status] || "gray";
		return [__(doc.status), colour, `status,=,${doc.status}`];
	},
	formatters: {
		completeness(value) {
			// complete, nearly there, halfway, far off: each its own colour
			const colour = value >= 100 ? "green" : value >= 80 ? "blue" : value >= 50 ? "orange" : "red";
			return `<span class="indicator-pill ${colour}">${cint(value)}%</span>`;
		},
	},
};
