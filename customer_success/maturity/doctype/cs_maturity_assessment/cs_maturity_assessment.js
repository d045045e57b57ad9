frappe.ui.form.on("CS Maturity Assessment", {
	refresh(frm) {
		if (!frm.is_new() && frm.perm[0] && frm.perm[0].write) {
			frm.add_custom_button(__("Propose Again"), () => {
				frappe
					.call({
						method: "customer_success.maturity.api.propose_again",
						args: { assessment: frm.doc.name },
						freeze: true,
					})
					.then(() => frm.reload_doc());
			});
		}
		frm.add_custom_button(__("Compare over Time"), () => {
			frappe.set_route("query-report", "CS Maturity over Time");
		});
		if (!frm.is_new()) {
			frm.set_intro(
				__("Overall level {0} (capabilities), {1} (enablers). Adjust a level with a note where the data does not tell the whole story.", [
					frm.doc.overall_level,
					frm.doc.enabler_level,
				]),
				"blue"
			);
		}
	},
});
