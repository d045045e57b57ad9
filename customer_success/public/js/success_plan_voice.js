// Success Plan form: "Send NPS Survey" to the plan's customer's contacts, recorded against the plan.
frappe.ui.form.on("Success Plan", {
	refresh(frm) {
		if (frm.is_new() || !frm.doc.customer) return;
		if (customer_success.can_work_on(frm.doc.csm)) {
			frm.add_custom_button(
				__("NPS Survey"),
				() => customer_success.voice.send_survey_dialog(frm.doc.customer, frm.doc.name),
				__("Create")
			);
		}
		frm.add_custom_button(__("NPS Surveys"), () => frappe.set_route("List", "NPS Survey", { success_plan: frm.doc.name }), __("View"));
	},
});
