frappe.ui.form.on("Success Plan Template", {
	refresh(frm) {
		customer_success.success_plans.service.show_metric_units(frm, "objectives", ["default_baseline", "default_target"]);
		if (!frm.is_new()) {
			frm.add_custom_button(__("Plans from this Template"), () => frappe.set_route("List", "Success Plan", { template: frm.doc.name }));
		}
	},
});
