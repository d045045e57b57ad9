// CS Alert list: open alerts coloured by severity; closed and snoozed ones say so.
frappe.listview_settings["CS Alert"] = {
	add_fields: ["status", "severity", "snoozed_until", "kind", "customer_name"],
	get_indicator(doc) {
		if (doc.status === "Resolved") return [__("Resolved"), "green", "status,=,Resolved"];
		if (doc.status === "Dismissed") return [__("Dismissed"), "gray", "status,=,Dismissed"];
		if (doc.snoozed_until && doc.snoozed_until > frappe.datetime.get_today()) {
			return [__("Snoozed"), "light-gray", `snoozed_until,>,${frappe.datetime.get_today()}`];
		}
		const colours = { Critical: "red", High: "orange", Medium: "yellow", Low: "blue" };
		const label = doc.status === "In Progress" ? __("{0} · In Progress", [__(doc.severity)]) : __(doc.severity);
		return [label, colours[doc.severity] || "gray", `severity,=,${doc.severity}`];
	},
};
