frappe.ui.form.on("Customer Success Settings", {
	refresh(frm) {
		frm.set_intro(
			__("These settings apply to the whole site: health recompute, renewals, success plans and notifications.")
		);
	},
});
