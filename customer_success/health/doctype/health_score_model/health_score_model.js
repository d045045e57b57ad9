frappe.ui.form.on("Health Score Model", {
	refresh(frm) {
		if (!frm.is_new() && frm.doc.enabled) {
			frm.add_custom_button(__("Recompute All Customers"), () => {
				frappe.call({
					method: "customer_success.health.doctype.health_score_model.health_score_model.recompute_all",
					args: { model: frm.doc.name },
					freeze: true,
					callback(r) {
						const run = r.message;
						if (run.status === "Skipped") {
							frappe.msgprint(run.message);
							return;
						}
						if (run.status === "Queued") {
							// No worker on the long queue yet: say so, and show the waiting run.
							frappe.msgprint(run.message);
							frappe.set_route("Form", "Health Recompute Run", run.run);
							return;
						}
						frappe.show_alert({ message: __("Recompute started: Health Recompute Run {0}", [run.run]), indicator: "green" });
						frappe.set_route("Form", "Health Recompute Run", run.run);
					},
				});
			});
		}
		frm.trigger("show_total");
	},
	show_total(frm) {
		const total = (frm.doc.factors || []).filter((f) => f.enabled).reduce((sum, f) => sum + (f.weight || 0), 0);
		const colour = Math.abs(total - 100) < 0.01 ? "green" : "red";
		frm.dashboard.clear_headline();
		frm.dashboard.set_headline(__("Enabled weights add up to {0} (must be 100).", [`<b class="text-${colour}">${total}</b>`]));
	},
});

frappe.ui.form.on("Health Score Factor", {
	weight: (frm) => frm.trigger("show_total"),
	enabled: (frm) => frm.trigger("show_total"),
	factors_remove: (frm) => frm.trigger("show_total"),
});
