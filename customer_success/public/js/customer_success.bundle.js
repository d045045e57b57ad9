// Shared desk helpers for Customer Success (loaded on every desk page via app_include_js).
frappe.provide("customer_success.health");
frappe.provide("customer_success.plans");

customer_success.plans.PLAN_COLOURS = {
	Draft: "gray",
	"Agreed with Customer": "blue",
	Active: "green",
	Achieved: "green",
	"At Risk": "red",
	Closed: "darkgrey",
};

customer_success.health.STATUS_COLOURS = { Green: "green", Yellow: "orange", Red: "red" };

customer_success.health.format_raw = function (factor) {
	const raw = factor.raw;
	if (raw === null || raw === undefined) return `<span class="text-muted">${__("no data")}</span>`;
	if (typeof raw === "object") {
		return Object.entries(raw)
			.map(([k, v]) => `${frappe.utils.escape_html(__(frappe.model.unscrub(k)))}: ${typeof v === "number" ? format_number(v, null, 2) : frappe.utils.escape_html(String(v))}`)
			.join("<br>");
	}
	return typeof raw === "number" ? format_number(raw, null, 2) : frappe.utils.escape_html(String(raw));
};

// Render a score's explanation: each factor's raw value, sub-score, weight and contribution,
// with a link to the records behind it.
customer_success.health.render_explanation = function ($wrapper, score, customer) {
	$wrapper.empty();
	if (!score || !score.explanation) {
		$wrapper.html(`<p class="text-muted">${__("No health score yet.")}</p>`);
		return;
	}
	const factors = typeof score.explanation === "string" ? JSON.parse(score.explanation) : score.explanation;
	const rows = factors
		.map(
			(f) => `<tr>
				<td>${__(f.factor_type)}</td>
				<td>${customer_success.health.format_raw(f)}</td>
				<td class="text-right">${f.sub_score === null ? "–" : format_number(f.sub_score, null, 1)}</td>
				<td class="text-right">${format_number(f.weight, null, 0)}${f.sub_score === null ? "" : ` <span class="text-muted">(${format_number(f.effective_weight, null, 1)})</span>`}</td>
				<td class="text-right">${format_number(f.contribution, null, 1)}</td>
				<td><a class="cs-factor-records" data-factor="${frappe.utils.escape_html(f.factor_type)}">${__("Records")}</a></td>
			</tr>`
		)
		.join("");
	const colour = customer_success.health.STATUS_COLOURS[score.status] || "gray";
	$wrapper.html(`
		<div class="mb-2">
			<span class="indicator-pill ${colour}">${__(score.status || "No Score")} · ${format_number(score.score, null, 1)}</span>
			${score.is_override ? `<span class="text-muted ml-2">${__("Overridden by the CSM; computed score {0}", [format_number(score.computed_score, null, 1)])}</span>` : ""}
		</div>
		<table class="table table-bordered table-sm">
			<thead><tr>
				<th>${__("Factor")}</th><th>${__("Raw Value")}</th><th class="text-right">${__("Sub-score")}</th>
				<th class="text-right">${__("Weight (Effective)")}</th><th class="text-right">${__("Contribution")}</th><th></th>
			</tr></thead>
			<tbody>${rows}</tbody>
		</table>
		<p class="text-muted small">${__("Factors without data are left out and the other weights re-normalised.")}</p>`);
	$wrapper.find(".cs-factor-records").on("click", (e) => {
		customer_success.health.show_factor_records(customer || score.customer, $(e.currentTarget).attr("data-factor"));
	});
};

customer_success.health.show_factor_records = function (customer, factor_type) {
	frappe.call({
		method: "customer_success.api.health.get_factor_records",
		args: { customer, factor_type },
		callback(r) {
			const data = r.message;
			const records = data.records || [];
			const columns = records.length ? Object.keys(records[0]) : [];
			const body = records.length
				? `<table class="table table-sm"><thead><tr>${columns.map((c) => `<th>${__(frappe.model.unscrub(c))}</th>`).join("")}</tr></thead>
					<tbody>${records
						.map(
							(rec) => `<tr>${columns
								.map((c) =>
									c === "name"
										? `<td><a href="/app/${frappe.router.slug(data.doctype)}/${encodeURIComponent(rec.name)}">${frappe.utils.escape_html(rec.name)}</a></td>`
										: `<td>${frappe.utils.escape_html(rec[c] === null ? "" : String(rec[c]))}</td>`
								)
								.join("")}</tr>`
						)
						.join("")}</tbody></table>`
				: `<p class="text-muted">${data.no_permission ? __("You cannot read {0} records.", [__(data.doctype)]) : __("No records behind this factor.")}</p>`;
			const dialog = new frappe.ui.Dialog({
				title: __("{0}: records behind {1}", [customer, __(factor_type)]),
				size: "large",
				fields: [{ fieldtype: "HTML", fieldname: "records" }],
				primary_action_label: __("Open {0} List", [__(data.doctype)]),
				primary_action() {
					dialog.hide();
					frappe.route_options = data.route_options;
					frappe.set_route("List", data.doctype);
				},
			});
			dialog.fields_dict.records.$wrapper.html(body);
			dialog.show();
		},
	});
};
