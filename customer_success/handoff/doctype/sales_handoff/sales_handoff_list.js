frappe.listview_settings["Sales Handoff"] = {
	add_fields: ["status", "is_late", "sla_step", "completeness"],
	filters: [["status", "!=", "Accepted"]],
	get_indicator(doc) {
		if (doc.is_late) {
			return [__("{0} (Overdue)", [__(doc.status)]), "red", "is_late,=,1"];
		}
		const colour = { Draft: "gray", "Handed Over": "blue", Accepted: "green", Returned: "orange" }[doc.status] || "gray";
		return [__(doc.status), colour, `status,=,${doc.status}`];
	},
	formatters: {
		completeness(value) {
			const colour = value >= 100 ? "green" : value >= 60 ? "orange" : "red";
			return `<span class="indicator-pill ${colour}">${cint(value)}%</span>`;
		},
	},
};
