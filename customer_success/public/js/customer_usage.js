// Customer form: a small usage trend chart per metric (the last 90 days), under the dashboard.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (!frm.is_new()) customer_success_usage.show(frm);
	},
});

const customer_success_usage = {
	DAYS: 90,

	show(frm) {
		frappe
			.call({
				method: "customer_success.usage.api.get_usage_chart",
				args: { customer: frm.doc.name, days: customer_success_usage.DAYS },
			})
			.then((r) => {
				const data = r.message || {};
				if (!data.metrics || !data.metrics.length) return;
				const esc = frappe.utils.escape_html;
				const blocks = data.metrics
					.map(
						(m, i) => `<div class="col-sm-6">
							<div class="text-muted small">${esc(__(m.metric))}${m.unit && !String(m.metric).includes(`(${m.unit})`) ? ` (${esc(__(m.unit))})` : ""}</div>
							<div class="cs-usage-chart" data-index="${i}"></div>
						</div>`
					)
					.join("");
				const link = `<a href="/app/customer-usage-metric?customer=${encodeURIComponent(frm.doc.name)}">${esc(
					__("See the usage records")
				)}</a>`;
				const section = frm.dashboard.add_section(
					`<div class="row">${blocks}</div><div class="small">${link}</div>`,
					__("Usage (last {0} days)", [customer_success_usage.DAYS])
				);
				section.find(".cs-usage-chart").each(function () {
					const metric = data.metrics[cint(this.dataset.index)];
					new frappe.Chart(this, {
						type: "line",
						height: 140,
						data: {
							labels: metric.labels.map((d) => frappe.datetime.str_to_user(d)),
							datasets: [{ name: __(metric.metric), values: metric.values }],
						},
						axisOptions: { xIsSeries: 1, xAxisMode: "tick" },
						lineOptions: { hideDots: 1, regionFill: 1, spline: 1 },
						colors: ["green"],
					});
				});
			});
	},
};
