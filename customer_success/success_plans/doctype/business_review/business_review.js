frappe.ui.form.on("Business Review", {
	setup(frm) {
		frm.set_query("success_plan", () => ({ filters: { customer: frm.doc.customer } }));
	},
	refresh(frm) {
		if (frm.is_new()) {
			frm.set_intro(__("The objectives, milestones, health, support and billing figures are captured when you save."));
			return;
		}
		frm.add_custom_button(__("Refresh Snapshot"), () => frm.call("refresh_snapshot").then(() => frm.reload_doc()));
	},
});
