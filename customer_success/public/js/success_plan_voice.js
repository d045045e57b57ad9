// Success Plan form: "Send NPS Survey" to the plan's customer's contacts, recorded against the plan.
// Offered to whom the server lets send: a CS Manager or System Manager, or the customer's own CSM
// (its CS Owner, whoever the plan names).
frappe.ui.form.on("Success Plan", {
	refresh(frm) {
		if (frm.is_new() || !frm.doc.customer) return;
		const add = () =>
			frm.add_custom_button(
				__("NPS Survey"),
				() => customer_success.voice.send_survey_dialog(frm.doc.customer, frm.doc.name),
				__("Create")
			);
		if (customer_success.can_work_on(null)) {
			add();
		} else {
			const customer = frm.doc.customer;
			frappe.db.get_value("Customer", customer, "cs_owner").then((r) => {
				const owner = r && r.message && r.message.cs_owner;
				if (frm.doc.customer === customer && customer_success.can_work_on(owner)) add();
			});
		}
		frm.add_custom_button(__("NPS Surveys"), () => frappe.set_route("List", "NPS Survey", { success_plan: frm.doc.name }), __("View"));
	},
});
