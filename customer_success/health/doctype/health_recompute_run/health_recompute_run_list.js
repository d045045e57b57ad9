frappe.listview_settings["Health Recompute Run"] = {
	get_indicator(doc) {
		const colour = { Queued: "gray", Running: "blue", Completed: "green", Failed: "red", Skipped: "orange" }[doc.status];
		return [__(doc.status), colour, `status,=,${doc.status}`];
	},
};
