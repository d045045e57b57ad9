// Customer form: the customer's renewals (latest first) with their checkpoints, under the dashboard.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (!frm.is_new()) customer_success_renewals.show(frm);
	},
});

const customer_success_renewals = {
	STATUS_COLOURS: { Open: "blue", Renewed: "green", Churned: "red" },
	SIGNAL_COLOURS: { Green: "green", Yellow: "orange", Red: "red", "Insufficient Data": "gray" },
	CALL_COLOURS: { "Will Renew": "green", "At Risk": "orange", "Will Churn": "red" },

	show(frm) {
		frappe
			.call({ method: "customer_success.renewals.api.customer_renewals", args: { customer: frm.doc.name } })
			.then((r) => {
				const renewals = r.message || [];
				if (!renewals.length) return;
				frm.dashboard.add_section(renewals.map((row) => customer_success_renewals.render(row)).join(""), __("Renewals"));
			});
	},

	pill(value, colours) {
		if (!value) return `<span class="text-muted">–</span>`;
		return `<span class="indicator-pill ${colours[value] || "gray"}">${frappe.utils.escape_html(__(value))}</span>`;
	},

	render(row) {
		const esc = frappe.utils.escape_html;
		const money = (value) => format_currency(value || 0, row.currency);
		const checkpoints = (row.checkpoints || [])
			.map(
				(c) => `<tr>
					<td>${esc(__(c.checkpoint))}</td>
					<td>${esc(frappe.datetime.str_to_user(c.due_date))}</td>
					<td>${customer_success_renewals.pill(c.signal_status, customer_success_renewals.SIGNAL_COLOURS)}</td>
					<td>${customer_success_renewals.pill(c.call, customer_success_renewals.CALL_COLOURS)}</td>
					<td>${c.call ? esc(money(c.expected_amount)) : ""}</td>
					<td>${customer_success.typed_text(c.note)}</td>
				</tr>`
			)
			.join("");
		let outcome = "";
		if (row.status === "Renewed" && row.change_type === "Unknown") {
			outcome = __("Renewed; the new term's worth shows with its first invoices");
		} else if (row.status === "Renewed") {
			outcome = __("Renewed at {0} ({1})", [money(row.renewed_amount), __(row.change_type || "Flat")]);
		} else if (row.status === "Churned") {
			outcome = __("Churned: {0}", [__(row.churn_reason || "")]);
		} else {
			outcome = __("Health-weighted expected revenue {0}", [money(row.weighted_revenue)]);
		}
		const disagree = row.disagreement
			? ` <span class="indicator-pill red">${esc(__("The CSM says it will renew while health is red."))}</span>`
			: "";
		return `<div class="cs-renewal" style="margin-bottom: var(--margin-md)">
			<div>
				${customer_success_renewals.pill(row.status, customer_success_renewals.STATUS_COLOURS)}
				<a href="/app/renewal/${encodeURIComponent(row.name)}">${esc(row.name)}</a>
				· ${esc(
					row.subscription
						? __("Subscription {0} ends {1}", [row.subscription, frappe.datetime.str_to_user(row.end_date)])
						: __("Contract {0} ends {1}", [row.contract, frappe.datetime.str_to_user(row.end_date)])
				)}
				· ${esc(__("Revenue at Stake (Annual)"))}: ${esc(money(row.revenue_at_stake))}
				· ${esc(outcome)}${disagree}
			</div>
			<table class="table table-sm table-bordered" style="margin-top: var(--margin-sm)">
				<thead><tr>
					<th>${esc(__("Checkpoint"))}</th><th>${esc(__("Due Date"))}</th><th>${esc(__("Health Signal"))}</th>
					<th>${esc(__("CSM's Call"))}</th><th>${esc(__("Expected Amount"))}</th><th>${esc(__("Note"))}</th>
				</tr></thead>
				<tbody>${checkpoints}</tbody>
			</table>
		</div>`;
	},
};
