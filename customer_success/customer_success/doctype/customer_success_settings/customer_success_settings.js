frappe.ui.form.on("Customer Success Settings", {
	refresh(frm) {
		frm.set_intro(
			__("These settings apply to the whole site: health recompute, renewals, success plans and notifications.")
		);
		// the tiers from annual revenue now, as the nightly job sets them (CS Managers)
		if (frappe.user.has_role("CS Manager") || frappe.user.has_role("System Manager")) {
			frm.add_custom_button(__("Compute Tiers"), () => {
				if (frm.is_dirty()) {
					frappe.msgprint(__("Save the settings first: the tiers are computed from the saved bands."));
					return;
				}
				frappe
					.xcall("customer_success.segments.api.compute_tiers")
					.then((result) => {
						frappe.show_alert({
							message: result.skipped
								? __("Tiers are not computed: tick Compute Tiers from Annual Revenue and set the bands.")
								: __("{0} customers' tiers updated.", [result.updated]),
							indicator: result.skipped ? "orange" : "green",
						});
					});
			});
		}
	},
});
