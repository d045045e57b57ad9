frappe.ui.form.on("Success Plan", {
	setup(frm) {
		frm.set_query("agreed_by", () => ({
			query: "frappe.contacts.doctype.contact.contact.contact_query",
			filters: { link_doctype: "Customer", link_name: frm.doc.customer },
		}));
		frm.set_query("template", () => ({ filters: { enabled: 1 } }));
	},
	refresh(frm) {
		customer_success.success_plans.service.show_metric_units(frm, "objectives", ["baseline", "target", "current"]);
		if (frm.is_new()) {
			if (frm.doc.template) frm.set_intro(__("Objectives and milestones come from the template when you save."));
			return;
		}
		customer_success.success_plans.service.render_overview(frm);
		if (["Agreed with Customer", "Active", "At Risk"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Check-in"), () =>
				frm.call("make_checkin").then((r) => frappe.set_route("Form", "Success Plan Check-in", r.message)), __("Create"));
		}
		if (frm.doc.status === "Closed") {
			// the server keeps a Closed plan's figures (`check_closed_plan_kept`): only its sharing changes
			for (const field of frm.fields) {
				if (field.df.fieldname && field.df.fieldname !== "share_with_customer") {
					frm.set_df_property(field.df.fieldname, "read_only", 1);
				}
			}
			frm.set_intro(__("This plan is closed: it keeps its figures as they were when it closed. Only its sharing with the customer can change."));
		} else {
			frm.add_custom_button(__("Milestone"), () =>
				frappe.new_doc("Success Plan Milestone", { success_plan: frm.doc.name, assigned_to: frm.doc.csm }), __("Create"));
		}
		frm.add_custom_button(__("Business Review"), () =>
			frm.call("make_business_review").then((r) => frappe.set_route("Form", "Business Review", r.message)), __("Create"));
		frm.add_custom_button(__("Milestones"), () =>
			frappe.set_route("List", "Success Plan Milestone", { success_plan: frm.doc.name }), __("View"));
		frm.add_custom_button(__("Check-ins"), () =>
			frappe.set_route("List", "Success Plan Check-in", { success_plan: frm.doc.name }), __("View"));
		const colour = customer_success.success_plans.service.PLAN_COLOURS[frm.doc.status] || "gray";
		frm.page.set_indicator(__(frm.doc.status), colour);
	},
});

frappe.ui.form.on("Success Plan Objective", {
	baseline: (frm, cdt, cdn) => customer_success.success_plans.service.preview_progress(frm, cdt, cdn),
	target: (frm, cdt, cdn) => customer_success.success_plans.service.preview_progress(frm, cdt, cdn),
	current: (frm, cdt, cdn) => customer_success.success_plans.service.preview_progress(frm, cdt, cdn),
	direction: (frm, cdt, cdn) => customer_success.success_plans.service.preview_progress(frm, cdt, cdn),
});

frappe.provide("customer_success.success_plans.service");

// Mirrors engine.plans.objective_progress for instant feedback; the server recomputes on save.
customer_success.success_plans.service.preview_progress = function (frm, cdt, cdn) {
	const row = locals[cdt][cdn];
	const [b, t, c] = [flt(row.baseline), flt(row.target), flt(row.current)];
	let progress;
	if (t === b) progress = (row.direction === "Down" ? c <= t : c >= t) ? 100 : 0;
	else progress = Math.max(0, Math.min(100, (100 * (c - b)) / (t - b)));
	frappe.model.set_value(cdt, cdn, "progress", progress);
};

customer_success.success_plans.service.render_overview = function (frm) {
	const $wrapper = frm.fields_dict.milestones_html.$wrapper;
	frappe.call("customer_success.success_plans.api.get_plan_overview", { plan: frm.doc.name }).then((r) => {
		const data = r.message || { milestones: [] };
		if (!data.milestones.length) {
			$wrapper.html(`<p class="text-muted">${__("No milestones yet.")}</p>`);
			return;
		}
		const colours = { Done: "green", Overdue: "red", "In Progress": "orange", Skipped: "darkgrey", "Not Started": "gray" };
		const rows = data.milestones
			.map((m) => `<tr>
				<td><a href="/app/success-plan-milestone/${encodeURIComponent(m.name)}">${customer_success.typed_text(m.title)}</a>
					${m.is_value_milestone ? `<span class="text-muted small"> · ${__("value")}</span>` : ""}</td>
				<td>${frappe.datetime.str_to_user(m.due_date) || ""}</td>
				<td><span class="indicator-pill ${colours[m.status] || "gray"}">${__(m.status)}</span></td>
				<td>${m.completed_on ? frappe.datetime.str_to_user(m.completed_on) : ""}</td>
				<td>${m.is_value_milestone && m.status === "Done" ? __("{0} days", [m.days_to_value]) : ""}</td>
				<td>${m.triggered_by ? `<a href="/app/${frappe.router.slug(m.triggered_by_doctype)}/${encodeURIComponent(m.triggered_by)}">${frappe.utils.escape_html(m.triggered_by)}</a>` : ""}</td>
			</tr>`)
			.join("");
		$wrapper.html(`<table class="table table-bordered table-sm">
			<thead><tr><th>${__("Milestone")}</th><th>${__("Due")}</th><th>${__("Status")}</th>
			<th>${__("Completed")}</th><th>${__("Time to Value")}</th><th>${__("Completed By")}</th></tr></thead>
			<tbody>${rows}</tbody></table>`);
	});
};
