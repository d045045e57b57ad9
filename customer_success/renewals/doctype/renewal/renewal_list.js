frappe.listview_settings["Renewal"] = {
	add_fields: ["status", "disagreement", "latest_call", "source_type", "subscription"],
	get_indicator(doc) {
		if (doc.status === "Renewed") return [__("Renewed"), "green", "status,=,Renewed"];
		if (doc.status === "Churned") return [__("Churned"), "red", "status,=,Churned"];
		if (doc.status === "Cancelled") return [__("Cancelled"), "gray", "status,=,Cancelled"];
		if (doc.disagreement) return [__("CSM and Signal Disagree"), "red", "disagreement,=,1"];
		if (doc.latest_call === "Will Churn") return [__("Will Churn"), "red", "latest_call,=,Will Churn"];
		if (doc.latest_call === "At Risk") return [__("At Risk"), "orange", "latest_call,=,At Risk"];
		return [__("Open"), "blue", "status,=,Open"];
	},
};
