frappe.ui.form.on("Customer Health Score", {
	refresh(frm) {
		customer_success.health.service.escape_text_field(frm, "override_reason");
		customer_success.health.service.render_explanation(frm.fields_dict.explanation_html.$wrapper, frm.doc, frm.doc.customer);
		frm.add_custom_button(__("Customer"), () => frappe.set_route("Form", "Customer", frm.doc.customer));
	},
});
