frappe.ui.form.on("Success Plan Template", {
	refresh(frm) {
		if (!frm.is_new()) {
			frm.add_custom_button(__("Plans from this Template"), () => frappe.set_route("List", "Success Plan", { template: frm.doc.name }));
		}
	},
});
