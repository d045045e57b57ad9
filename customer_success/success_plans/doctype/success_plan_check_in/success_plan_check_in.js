frappe.ui.form.on("Success Plan Check-in", {
	refresh(frm) {
		// its rows are the plan's objectives, one each (the server keeps them so): none to add or take out
		frm.set_df_property("objectives", "cannot_add_rows", 1);
		frm.set_df_property("objectives", "cannot_delete_rows", 1);
		customer_success.success_plans.service.show_metric_units(frm, "objectives", ["baseline", "target", "previous_value", "current_value"]);
		if (frm.doc.success_plan) {
			frm.add_custom_button(__("Success Plan"), () => frappe.set_route("Form", "Success Plan", frm.doc.success_plan));
		}
		if (!frm.is_new() && frm.doc.docstatus < 2 && (frm.doc.__onload || {}).plan_closed) {
			// a Closed plan takes no check-in (the server refuses Submit and Cancel): none offered, and
			// none comes back when the toolbar is drawn again (it reads the form's permissions); its
			// fields are read-only (an edit could not be saved)
			frm.disable_save();
			frm.set_read_only();
			frm.perm.forEach((p) => Object.assign(p, { submit: 0, cancel: 0, amend: 0, write: 0 }));
			frm.page.clear_actions();
			frm.refresh_fields();
			frm.set_df_property("objectives", "read_only", 1);
			frm.dashboard.clear_comment(); // frappe's "Submit this document to confirm"
			frm.set_intro(__("Its Success Plan is Closed: this check-in can no longer be completed or cancelled."), "orange");
		} else if (frm.doc.docstatus === 0) {
			frm.set_intro(__("Record each objective's current value. Where a target is behind or missed, say why: is it installed, which teams use it, and how. Submit to update the plan."));
		}
	},
});
