// Customer form: the segment picker shows enabled segments; the lifecycle touchpoints planned for
// the customer (status, due date, owner, what recorded them) and "Plan Touchpoints".
frappe.ui.form.on("Customer", {
	setup(frm) {
		frm.set_query("cs_segment", () => ({ filters: { enabled: 1 } }));
	},
	refresh(frm) {
		// ERPNext's Sales and Accounts Users open customers every day and read no touchpoints
		if (!frm.is_new() && frappe.model.can_read("Customer Touchpoint")) {
			customer_success_touchpoints.show(frm);
		}
	},
});

const customer_success_touchpoints = {
	COLOURS: { Planned: "orange", Done: "green", Missed: "red", Cancelled: "gray" },

	show(frm) {
		frappe
			.call({ method: "customer_success.segments.api.customer_touchpoints", args: { customer: frm.doc.name } })
			.then((r) => {
				const rows = r.message || [];
				if (rows.length) {
					const esc = frappe.utils.escape_html;
					const html = rows
						.slice(0, 6)
						.map((t) => {
							const colour = customer_success_touchpoints.COLOURS[t.status] || "gray";
							return `<div><span class="indicator-pill ${colour}">${esc(__(t.status))}</span>
								<a href="/app/customer-touchpoint/${encodeURIComponent(t.name)}">${esc(__(t.touchpoint))}</a>
								· ${esc(frappe.datetime.str_to_user(t.due_date))}</div>`;
						})
						.join("");
					frm.dashboard.add_section(html, __("Lifecycle Touchpoints"));
				}
				if (customer_success.can_work_on(frm.doc.cs_owner)) {
					frm.add_custom_button(
						__("Plan Touchpoints"),
						() =>
							frappe
								.call({
									method: "customer_success.segments.api.plan_customer_touchpoints",
									args: { customer: frm.doc.name },
									freeze: true,
								})
								.then((r) => {
									const m = (r && r.message) || {};
									const planned = (m.planned && m.planned.planned) || 0;
									const done = (m.recorded && m.recorded.done) || 0;
									frappe.show_alert({
										message: planned || done
											? __("Touchpoints: {0} planned, {1} recorded done.", [planned, done])
											: __("No touchpoint is due for this customer now."),
										indicator: "green",
									});
									frm.reload_doc();
								}),
						__("Customer Success")
					);
				}
			});
	},
};
