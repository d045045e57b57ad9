frappe.ui.form.on("Success Plan Milestone", {
	refresh(frm) {
		if (frm.doc.success_plan) {
			frm.add_custom_button(__("Success Plan"), () => frappe.set_route("Form", "Success Plan", frm.doc.success_plan));
		}
		if (!frm.is_new() && !["Done", "Skipped"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Mark Done"), () => {
				frm.set_value("status", "Done");
				frm.set_value("completed_on", frappe.datetime.get_today());
				frm.save();
			});
		}
	},
	status(frm) {
		if (frm.doc.status === "Done" && !frm.doc.completed_on) frm.set_value("completed_on", frappe.datetime.get_today());
	},
});
