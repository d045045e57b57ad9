frappe.ui.form.on("Business Review", {
	setup(frm) {
		frm.set_query("success_plan", () => ({ filters: { customer: frm.doc.customer } }));
	},
	onload(frm) {
		// a day without a score shows "–", never 0 (which would read as the worst health)
		const has = customer_success.health.service.has_score;
		const show = (fieldname, known) => {
			const df = frm.get_docfield(fieldname);
			if (df) df.formatter = (value, df_, options, doc) => (known(doc || frm.doc) ? format_number(value, null, 1) : "–");
		};
		show("health_start", (doc) => has(doc.health_start_status));
		show("health_end", (doc) => has(doc.health_status));
		show("health_trend", (doc) => has(doc.health_start_status) && has(doc.health_status));
	},
	refresh(frm) {
		customer_success.success_plans.service.show_metric_units(frm, "objectives", ["baseline", "current", "target"]);
		if (frm.is_new()) {
			frm.set_intro(__("The objectives, milestones, health, support and billing figures are captured when you save."));
			return;
		}
		frm.add_custom_button(__("Refresh Snapshot"), () => frm.call("refresh_snapshot").then(() => frm.reload_doc()));
	},
});
