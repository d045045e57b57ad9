// Shared desk helpers for Customer Success (loaded on every desk page via app_include_js).
frappe.provide("customer_success.health.service");
frappe.provide("customer_success.success_plans.service");

customer_success.success_plans.service.PLAN_COLOURS = {
	Draft: "gray",
	"Agreed with Customer": "blue",
	Active: "green",
	Achieved: "green",
	"At Risk": "red",
	Closed: "darkgrey",
};

customer_success.health.service.INSUFFICIENT_DATA = "Insufficient Data";
customer_success.health.service.NEVER_CONTACTED = "Never contacted";
customer_success.health.service.STATUS_COLOURS = { Green: "green", Yellow: "orange", Red: "red", "Insufficient Data": "gray" };

// A score is shown only with a colour: with too little known ("Insufficient Data") there is none.
customer_success.health.service.has_score = function (status) {
	return !!status && status !== customer_success.health.service.INSUFFICIENT_DATA;
};

// The score as text, or "–" when there is no score to show.
customer_success.health.service.format_score = function (score, status, decimals = 1) {
	return customer_success.health.service.has_score(status) ? format_number(score || 0, null, decimals) : "–";
};

// An indicator pill for a status and its score, escaped.
customer_success.health.service.status_pill = function (status, score) {
	const colour = customer_success.health.service.STATUS_COLOURS[status] || "gray";
	const label = frappe.utils.escape_html(__(status || "No Score"));
	const value = customer_success.health.service.format_score(score, status);
	return `<span class="indicator-pill ${colour}">${label} · ${value}</span>`;
};

// Long text a user typed (an override reason) as safe HTML: escaped, line breaks kept. Text the
// server stored with its angle brackets already escaped is decoded first, so it is not shown twice escaped.
customer_success.health.service.escape_text = function (text) {
	const plain = String(text || "")
		.replace(/<br\s*\/?>/gi, "\n")
		.replace(/&lt;/g, "<")
		.replace(/&gt;/g, ">")
		.replace(/&quot;/g, '"')
		.replace(/&#39;/g, "'")
		.replace(/&amp;/g, "&");
	return frappe.utils.escape_html(plain).replace(/\n/g, "<br>");
};

// A read-only Small Text field renders its value as HTML: show what a user typed as text instead.
customer_success.health.service.escape_text_field = function (frm, fieldname) {
	const df = frm.get_docfield(fieldname);
	if (!df || df.formatter) return;
	df.formatter = (value) => customer_success.health.service.escape_text(value);
	frm.refresh_field(fieldname);
};

customer_success.health.service.format_raw = function (factor) {
	const esc = frappe.utils.escape_html;
	const raw = factor.raw;
	if (raw === null || raw === undefined) return `<span class="text-muted">${esc(__("no data"))}</span>`;
	if (typeof raw === "object") {
		return Object.entries(raw)
			.map(([k, v]) => `${esc(__(frappe.model.unscrub(k)))}: ${typeof v === "number" ? format_number(v, null, 2) : esc(String(v))}`)
			.join("<br>");
	}
	if (raw === customer_success.health.service.NEVER_CONTACTED) return `<strong>${esc(__("Never contacted"))}</strong>`;
	return typeof raw === "number" ? format_number(raw, null, 2) : esc(__(String(raw)));
};

// Render a score's explanation: each factor's raw value, sub-score, weight and contribution,
// with a link to the records behind it. Everything from the database is escaped.
customer_success.health.service.render_explanation = function ($wrapper, score, customer) {
	const esc = frappe.utils.escape_html;
	$wrapper.empty();
	if (!score || !score.explanation) {
		$wrapper.html(`<p class="text-muted">${esc(__("No health score yet."))}</p>`);
		return;
	}
	const factors = typeof score.explanation === "string" ? JSON.parse(score.explanation) : score.explanation;
	const known = factors.filter((f) => f.sub_score !== null).reduce((sum, f) => sum + (f.weight || 0), 0);
	const total = factors.reduce((sum, f) => sum + (f.weight || 0), 0);
	const rows = factors
		.map(
			(f) => `<tr>
				<td>${esc(__(f.factor_type))}</td>
				<td>${customer_success.health.service.format_raw(f)}</td>
				<td class="text-right">${f.sub_score === null ? "–" : format_number(f.sub_score, null, 1)}</td>
				<td class="text-right">${format_number(f.weight, null, 0)}${f.sub_score === null ? "" : ` <span class="text-muted">(${format_number(f.effective_weight, null, 1)})</span>`}</td>
				<td class="text-right">${format_number(f.contribution, null, 1)}</td>
				<td><a class="cs-factor-records" data-factor="${esc(f.factor_type)}">${esc(__("Records"))}</a></td>
			</tr>`
		)
		.join("");
	const notes = [];
	if (score.is_override) {
		notes.push(
			esc(
				customer_success.health.service.has_score(score.computed_status)
					? __("Overridden by the CSM; computed score {0}", [format_number(score.computed_score, null, 1)])
					: __("Overridden by the CSM; too little is known for a computed score.")
			)
		);
		if (score.override_reason) {
			notes.push(
				`${esc(__("Reason"))}: ${customer_success.health.service.escape_text(score.override_reason)}` +
					(score.override_until ? ` (${esc(__("until {0}", [frappe.datetime.str_to_user(score.override_until)]))})` : "")
			);
		}
	}
	if ((score.computed_status || score.status) === customer_success.health.service.INSUFFICIENT_DATA) {
		notes.push(
			esc(
				__("Too little is known for a colour: the factors with data carry {0}% of the model's weight.", [
					format_number(total ? (100 * known) / total : 0, null, 0),
				])
			)
		);
	}
	$wrapper.html(`
		<div class="mb-2">
			${customer_success.health.service.status_pill(score.status, score.score)}
			${notes.map((n) => `<div class="text-muted small mt-1">${n}</div>`).join("")}
		</div>
		<table class="table table-bordered table-sm">
			<thead><tr>
				<th>${esc(__("Factor"))}</th><th>${esc(__("Raw Value"))}</th><th class="text-right">${esc(__("Sub-score"))}</th>
				<th class="text-right">${esc(__("Weight (Effective)"))}</th><th class="text-right">${esc(__("Contribution"))}</th><th></th>
			</tr></thead>
			<tbody>${rows}</tbody>
		</table>
		<p class="text-muted small">${esc(__("Factors without data are left out and the other weights re-normalised."))}</p>`);
	$wrapper.find(".cs-factor-records").on("click", (e) => {
		customer_success.health.service.show_factor_records(customer || score.customer, $(e.currentTarget).attr("data-factor"));
	});
};

customer_success.health.service.show_factor_records = function (customer, factor_type) {
	const esc = frappe.utils.escape_html;
	frappe.call({
		method: "customer_success.health.api.get_factor_records",
		args: { customer, factor_type },
		callback(r) {
			const data = r.message;
			const records = data.records || [];
			const columns = records.length ? Object.keys(records[0]) : [];
			// Engagement lists communications and events side by side: each row names its own doctype.
			const link = (rec) => {
				const doctype = rec.document_type || data.doctype;
				return `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(rec.name)}">${esc(rec.name)}</a>`;
			};
			const cell = (rec, c) => {
				if (c === "name") return link(rec);
				if (c === "document_type") return esc(__(rec[c]));
				return esc(rec[c] === null || rec[c] === undefined ? "" : String(rec[c]));
			};
			const hidden = data.counted !== undefined && data.counted > records.length
				? `<p class="text-muted small">${esc(__("{0} more counted in the score that you cannot read.", [data.counted - records.length]))}</p>`
				: "";
			const body = records.length
				? `<table class="table table-sm"><thead><tr>${columns.map((c) => `<th>${esc(__(frappe.model.unscrub(c)))}</th>`).join("")}</tr></thead>
					<tbody>${records.map((rec) => `<tr>${columns.map((c) => `<td>${cell(rec, c)}</td>`).join("")}</tr>`).join("")}</tbody></table>${hidden}`
				: `<p class="text-muted">${esc(data.no_permission ? __("You cannot read {0} records.", [__(data.doctype)]) : __("No records behind this factor."))}</p>${hidden}`;
			const dialog = new frappe.ui.Dialog({
				title: esc(__("{0}: records behind {1}", [customer, __(factor_type)])),
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
