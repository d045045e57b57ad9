frappe.listview_settings["Success Plan"] = {
	add_fields: ["status", "progress", "customer_name"],
	get_indicator(doc) {
		const colours = {
			Draft: "gray",
			"Agreed with Customer": "blue",
			Active: "green",
			Achieved: "green",
			"At Risk": "red",
			Closed: "darkgrey",
		};
		return [__(doc.status), colours[doc.status] || "gray", `status,=,${doc.status}`];
	},
};
