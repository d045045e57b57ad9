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

// frappe's Date control (and the Datetime control that extends it) shows a value it cannot read
// inside its message as markup: a report's date filter taken from a link
// (/app/query-report/Customer Health?renewal_from=<img ...>) ran as script. The same message,
// the value escaped, on every form and report of the desk.
if (frappe.ui && frappe.ui.form && frappe.ui.form.ControlDate) {
	const read_date = frappe.ui.form.ControlDate.prototype.validate;
	frappe.ui.form.ControlDate.prototype.validate = function (value) {
		if (value && !frappe.datetime.validate(value)) {
			const date_format = (frappe.sys_defaults && frappe.sys_defaults.date_format) || "yyyy-mm-dd";
			frappe.msgprint(__("Date {0} must be in format: {1}", [frappe.utils.escape_html(String(value)), date_format]));
			return "";
		}
		return read_date.call(this, value);
	};
}

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

// What each factor's raw value measures, so it reads with its unit: money in company currency,
// ratios as %, days as days, counts as whole numbers.
customer_success.health.service.RAW_UNITS = {
	"Support Load": "count",
	"SLA Breaches": "ratio",
	"Revenue Trend": "signed_ratio",
	"Engagement Recency": "days",
	"Objective Progress": "percent",
	"Milestone Punctuality": "ratio",
	"Renewal Proximity": "days",
	"Product Usage": "ratio",
	NPS: "number",
};
customer_success.health.service.RAW_KEY_UNITS = {
	overdue_amount: "money",
	revenue: "money",
	overdue_ratio: "ratio",
	max_days_overdue: "days",
	utilisation: "ratio",
	trend: "signed_ratio",
};

// Product Usage: each metric's use over the look-back, its entitlement and its change.
customer_success.health.service.format_usage_metrics = function (metrics) {
	const esc = frappe.utils.escape_html;
	const fmt = customer_success.health.service.format_value;
	return (metrics || [])
		.map((m) => {
			const used = m.entitlement ? `${fmt(m.used)} / ${fmt(m.entitlement)} (${fmt(m.utilisation, "ratio")})` : fmt(m.used);
			const moved = m.change === null || m.change === undefined ? "" : `, ${fmt(m.change, "signed_ratio")}`;
			return `${esc(__(m.metric))}: ${esc(used + moved)}`;
		})
		.join("<br>");
};

// A value in its unit: money in the company currency, ratios as %, days as days, dates in the
// user's date format.
customer_success.health.service.format_value = function (value, unit) {
	if (value === null || value === undefined || value === "") return "–";
	const n = flt(value);
	switch (unit) {
		case "money":
			return format_currency(n, frappe.boot.sysdefaults.currency);
		case "ratio":
			return `${format_number(100 * n, null, 0)}%`;
		case "signed_ratio":
			return `${n > 0 ? "+" : ""}${format_number(100 * n, null, 0)}%`;
		case "percent":
			return `${format_number(n, null, 0)}%`;
		case "days":
			return cint(n) === 1 ? __("1 day") : __("{0} days", [format_number(n, null, 0)]);
		case "count":
			return format_number(n, null, n % 1 ? 1 : 0);
		case "date":
			return frappe.datetime.str_to_user(value);
		default:
			return format_number(n, null, n % 1 ? 2 : 0);
	}
};

customer_success.health.service.format_raw = function (factor) {
	const esc = frappe.utils.escape_html;
	const service = customer_success.health.service;
	const raw = factor.raw;
	if (raw === null || raw === undefined) return `<span class="text-muted">${esc(__("no data"))}</span>`;
	if (typeof raw === "object") {
		return Object.entries(raw)
			.map(([k, v]) =>
				Array.isArray(v)
					? service.format_usage_metrics(v)
					: `${esc(__(frappe.model.unscrub(k)))}: ${typeof v === "number" || v === null ? esc(service.format_value(v, service.RAW_KEY_UNITS[k])) : esc(String(v))}`
			)
			.join("<br>");
	}
	if (raw === service.NEVER_CONTACTED) return `<strong>${esc(__("Never contacted"))}</strong>`;
	return typeof raw === "number" ? esc(service.format_value(raw, service.RAW_UNITS[factor.factor_type])) : esc(__(String(raw)));
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
				// a document type or a Select value (an issue's status, priority): as the desk shows it
				if (c === "document_type" || c === "status" || c === "priority") return esc(__(rec[c] || ""));
				const value = rec[c];
				if (value === null || value === undefined) return "";
				// dates and times in the user's format, not ISO
				if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/.test(value)) return esc(frappe.datetime.str_to_user(value));
				if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return esc(frappe.datetime.str_to_user(value));
				if (typeof value === "number") return esc(format_number(value, null, value % 1 ? 2 : 0));
				return esc(String(value));
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

// The Customer Success workspace's number cards and charts load in one request: the desk would
// otherwise ask two per card (its document, its figure) and three per chart (its document, its
// source's script, its data). Widgets asking in the same moment share one call of
// customer_success.customer_success.api.workspace_widgets; a widget the answer leaves out (not
// ours, not readable, a figure refused) loads the desk's usual way.
// May the user act on a customer's success data (send a survey, check alerts, plan touchpoints)?
// The server's `permissions.can_work_on_customer`: a CS Manager or System Manager on any customer, a
// CSM on her own.
// A value a user typed, as text for HTML. Frappe stores a typed text that looks like markup
// escaped ("Use case <baseline> & dates" as "Use case &lt;baseline&gt; &amp; dates"): escaped once
// more it showed its entities; read back first, then escaped once.
customer_success.typed_text = function (value) {
	return frappe.utils.escape_html(frappe.utils.unescape_html(value == null ? "" : String(value)));
};

customer_success.can_work_on = function (owner) {
	return (
		frappe.session.user === "Administrator" ||
		frappe.user.has_role("CS Manager") ||
		frappe.user.has_role("System Manager") ||
		(!!owner && owner === frappe.session.user && frappe.user.has_role("Customer Success Manager"))
	);
};

customer_success.widget_batch = {
	MAX: 50,
	pending: null,
	// figures that came with the page (customer_success.workspace_answer): each used once, while fresh
	prefetched: null,
	prefetched_at: 0,
	FRESH_MS: 30000,
	applies() {
		const route = frappe.get_route ? frappe.get_route() : [];
		return route[0] === "Workspaces" && route[route.length - 1] === "Customer Success";
	},
	keep(widgets) {
		this.prefetched = widgets || null;
		this.prefetched_at = Date.now();
	},
	take(kind, name) {
		const ready = this.prefetched;
		if (!ready || Date.now() - this.prefetched_at > this.FRESH_MS) return undefined;
		if (kind === "counts") {
			const i = (ready.counts || []).findIndex((c) => JSON.stringify([c.doctype, c.filters]) === name);
			return i > -1 ? ready.counts.splice(i, 1)[0].count : undefined;
		}
		if (!ready[kind] || !(name in ready[kind])) return undefined;
		const entry = ready[kind][name];
		delete ready[kind][name];
		return entry;
	},
	request(kind, name) {
		if (!name || !this.applies()) return Promise.resolve(null);
		const ready = this.take(kind, name);
		if (ready !== undefined) return Promise.resolve(ready);
		const size = (b) => b.number_cards.length + b.charts.length + b.counts.length;
		if (!this.pending || size(this.pending) >= this.MAX) {
			const batch = { number_cards: [], charts: [], counts: [] };
			batch.promise = new Promise((resolve) => setTimeout(resolve, 0)).then(() => {
				if (this.pending === batch) this.pending = null;
				return frappe
					.xcall("customer_success.customer_success.api.workspace_widgets", {
						number_cards: batch.number_cards,
						charts: batch.charts,
						counts: batch.counts,
					})
					.catch(() => null);
			});
			this.pending = batch;
		}
		const batch = this.pending;
		batch[kind].push(name);
		return batch.promise.then((answer) => {
			const value = answer && answer[kind] ? answer[kind][name] : undefined;
			return value === undefined ? null : value;
		});
	},
};

// Workspace cards and charts say whose numbers they show ("my book" for a CSM, "team" for a CS
// Manager): our custom cards and chart sources return that title as `label` with their figures.
customer_success.relabel_widgets = function () {
	const factory = frappe.widget && frappe.widget.widget_factory;
	if (!factory || factory.__cs_relabelled) return;
	factory.__cs_relabelled = true;
	const batch = customer_success.widget_batch;
	const relabel = (widget, data) => {
		if (!data || typeof data !== "object" || !data.label) return;
		widget.label = data.label;
		widget.title = null;
		widget.set_title(widget.widget_type === "chart" ? 40 : undefined);
	};
	const card = factory.number_card && factory.number_card.prototype;
	if (card) {
		const make_card = card.make_card;
		card.make_card = function () {
			batch.request("number_cards", this.number_card_name || this.name).then((entry) => {
				if (!entry || !entry.doc) return make_card.call(this);
				this.card_doc = entry.doc;
				this.__cs_result = entry.result === undefined || entry.result === null ? undefined : entry.result;
				this.render_card();
				this.set_events();
			});
		};
		const get_data = card.get_data;
		card.get_data = function () {
			if (this.__cs_result === undefined) return get_data.call(this);
			this.data = this.__cs_result;
			this.__cs_result = undefined;
			return Promise.resolve(this.settings.get_number(this.data));
		};
		// a custom card's figure of nothing (an average of no customer, a share of none): "–", not 0
		// (frappe's formatting of a missing number throws, and 0 would be a figure)
		const custom_number = card.get_number_for_custom_card;
		card.get_number_for_custom_card = function (res) {
			if (res && typeof res === "object" && (res.value === null || res.value === undefined)) {
				this.number = null;
				this.formatted_number = "–";
				return;
			}
			return custom_number.call(this, res);
		};
		const render_number = card.render_number;
		card.render_number = function () {
			render_number.call(this);
			if (this.card_doc && this.card_doc.type === "Custom") relabel(this, this.data);
		};
	}
	// A shortcut's count ("5 running") comes in the same request as the cards.
	const shortcut = factory.shortcut && factory.shortcut.prototype;
	if (shortcut) {
		const set_actions = shortcut.set_actions;
		shortcut.set_actions = function () {
			if (!batch.applies()) return set_actions.call(this);
			const count = frappe.db.count;
			frappe.db.count = (doctype, args = {}) => {
				const key = JSON.stringify([doctype, args.filters || {}]);
				return batch.request("counts", key).then((n) => (n === null ? count.call(frappe.db, doctype, args) : n));
			};
			try {
				return set_actions.call(this);
			} finally {
				frappe.db.count = count;
			}
		};
	}
	const chart = factory.chart && factory.chart.prototype;
	if (chart) {
		const get_settings = chart.get_settings;
		chart.get_settings = function () {
			return batch.request("charts", this.chart_name).then((entry) => {
				const doc = entry && entry.doc;
				if (!doc || doc.chart_type !== "Custom" || !doc.source) return get_settings.call(this);
				if (!frappe.dashboards.chart_sources[doc.source] && entry.config) frappe.dom.eval(entry.config);
				if (!frappe.dashboards.chart_sources[doc.source]) return get_settings.call(this);
				this.chart_doc = doc;
				this.settings = frappe.dashboards.chart_sources[doc.source];
				this.__cs_result = entry.result || undefined;
				this.__cs_batched = true;
			});
		};
		// frappe titles a chart by measuring its width (a forced layout of the page being built, once per
		// chart); our charts are retitled with their label at 40 characters once their figures come
		// (relabel), so on this page the title is set that way at once, without measuring.
		const set_chart_title = chart.set_chart_title;
		chart.set_chart_title = function () {
			if (!batch.applies()) return set_chart_title.call(this);
			this.set_title(40);
		};
		// A batched chart's document is fresh: no second read of it after the data, and no load of
		// its document type's meta (a custom chart takes its number format from its options).
		const update_chart_object = chart.update_chart_object;
		chart.update_chart_object = function () {
			if (!this.__cs_batched) return update_chart_object.call(this);
			this.update_last_synced();
		};
		const get_source_doctype = chart.get_source_doctype;
		chart.get_source_doctype = function () {
			if (this.__cs_batched && this.chart_doc.chart_type === "Custom") return Promise.resolve(null);
			return get_source_doctype.call(this);
		};
		const fetch = chart.fetch;
		chart.fetch = function (filters, refresh, args) {
			const prefetched = this.__cs_result;
			this.__cs_result = undefined;
			// the batch's figures serve the fetch right after get_settings (a refresh batches anew)
			const answer = prefetched ? Promise.resolve(prefetched) : fetch.call(this, filters, refresh, args);
			return answer.then((data) => {
				relabel(this, data);
				// a pie or donut of nothing but zeros draws NaN arcs (frappe-charts divides by the
				// total): the widget shows "No Data" instead
				const circle = ["Pie", "Donut", "Percentage"].includes(this.chart_doc && this.chart_doc.type);
				const values = ((data && data.datasets) || []).flatMap((d) => d.values || []);
				if (circle && data && data.labels && !values.some((v) => flt(v))) return {};
				// nothing to draw at all (no tier or stage set yet): "No Data", not an empty box
				if (data && Array.isArray(data.labels) && !data.labels.length) return {};
				return data;
			});
		};
	}
};
// The Customer Success workspace in one request, asked for as the desk starts. Opening the page, the
// desk asks for its sidebar, then (after it) the page, then (after drawing the page) its widgets:
// three round trips one after the other. customer_success.customer_success.api.workspace_page
// answers the page and every widget's figures at once, and is asked as soon as this bundle runs,
// beside the sidebar request. It goes through fetch, not frappe.call: the workspace waits for every
// frappe.call in flight before it asks for its page (frappe.after_ajax), and must not wait for this.
// Anything the answer lacks, the desk asks its usual way.
customer_success.workspace_answer = {
	PAGE: "Customer Success",
	pending: null,
	ask() {
		const url =
			"/api/method/customer_success.customer_success.api.workspace_page?page=" +
			encodeURIComponent(JSON.stringify({ name: this.PAGE }));
		return fetch(url, { headers: { Accept: "application/json", "X-Frappe-CSRF-Token": frappe.csrf_token }, credentials: "same-origin" })
			.then((r) => (r.ok ? r.json() : null))
			.then((r) => (r && r.message && r.message.page ? r.message : null))
			.catch(() => null);
	},
	// at page load: when the desk is opening this workspace (its URL, or /app when it is the user's
	// default workspace), ask now
	start() {
		// sent with the page load (customer_success.customer_success.boot): no request at all
		const booted = frappe.boot && frappe.boot.cs_workspace;
		if (booted) {
			delete frappe.boot.cs_workspace;
			this.booted = booted.page ? booted : null;
			if (this.booted) return;
		}
		const path = window.location.pathname.replace(/\/+$/, "");
		const boot = (frappe.boot && frappe.boot.user) || {};
		const default_page = boot.default_workspace ? boot.default_workspace.title : window.localStorage && localStorage.current_page;
		if (path === "/app/customer-success" || (path === "/app" && default_page === this.PAGE)) this.pending = this.ask();
	},
	// the answer that came with the boot, once
	take_booted() {
		const booted = this.booted;
		this.booted = null;
		return booted;
	},
	take() {
		const pending = this.pending;
		this.pending = null;
		return pending;
	},
};
customer_success.load_workspace_in_one_request = function () {
	const Workspace = frappe.views && frappe.views.Workspace;
	if (!Workspace || Workspace.prototype.__cs_one_request) return;
	Workspace.prototype.__cs_one_request = true;
	const answer = customer_success.workspace_answer;
	const get_data = Workspace.prototype.get_data;
	// what frappe's get_data does with the page and the user's dashboard settings
	const use = function (workspace, name, data, settings) {
		customer_success.widget_batch.keep(data.widgets);
		workspace.page_data = data.page;
		workspace.pages[name] = data.page;
		if (!settings || !data.page.charts || !data.page.charts.items.length) return;
		const chart_config = settings.chart_config ? JSON.parse(settings.chart_config) : {};
		data.page.charts.items.forEach((chart) => {
			chart.chart_settings = chart_config[chart.chart_name] || {};
		});
	};
	Workspace.prototype.get_data = function (page) {
		if (!page || page.name !== answer.PAGE || !cint(page.public)) return get_data.call(this, page);
		return (answer.take() || answer.ask()).then((data) => {
			if (!data) return get_data.call(this, page);
			if (!data.page.charts || !data.page.charts.items.length) return use(this, page.name, data, null);
			const settings = data.dashboard_settings ? Promise.resolve(data.dashboard_settings) : frappe.dashboard_utils.get_dashboard_settings();
			return settings.then((settings) => use(this, page.name, data, settings));
		});
	};
	// With the answer in the boot (and the user's chart settings in it), the page is known before the
	// desk shows it: show_page finds it among its pages and does not wait for every request in flight
	// (frappe.after_ajax) to ask for it. The sidebar that came with the boot answers the desk's first
	// sidebar request; and while that request is out, the desk's show() waits for it, not for a 100 ms
	// timer.
	const get_pages = Workspace.prototype.get_pages;
	Workspace.prototype.get_pages = function () {
		const booted = answer.take_booted();
		if (booted && booted.dashboard_settings) use(this, answer.PAGE, booted, booted.dashboard_settings);
		else if (booted) answer.pending = Promise.resolve(booted);
		const sidebar = frappe.boot && frappe.boot.cs_sidebar;
		if (sidebar) delete frappe.boot.cs_sidebar;
		this.__cs_pages = sidebar && sidebar.pages ? Promise.resolve(sidebar) : get_pages.call(this);
		return this.__cs_pages;
	};
	const show = Workspace.prototype.show;
	Workspace.prototype.show = function () {
		const pages = this.__cs_pages;
		if (!this.all_pages && pages) {
			this.__cs_pages = null;
			// setup_pages awaits the same promise and runs first: the pages are set when this runs
			pages.then(
				() => show.call(this),
				() => show.call(this)
			);
			return;
		}
		return show.call(this);
	};
};
// Editor.js (2.26, which draws every workspace) waits a fixed 500 ms after it is made before it draws
// the blocks of the first page: half a second of an idle browser on the way to a complete page. When
// it is made for this workspace (read-only, blocks already at hand), that one wait is cut to none:
// the first 500 ms timer set while the editor starts runs at once, and setTimeout is itself again as
// soon as that timer is set (or once the editor is ready, should a version not set it).
customer_success.draw_workspace_without_delay = function () {
	const Workspace = frappe.views && frappe.views.Workspace;
	if (!Workspace || Workspace.prototype.__cs_no_delay) return;
	Workspace.prototype.__cs_no_delay = true;
	const initialize_editorjs = Workspace.prototype.initialize_editorjs;
	Workspace.prototype.initialize_editorjs = function (blocks) {
		const page = this._page || {};
		if ((page.name || page.title) !== customer_success.workspace_answer.PAGE || !this.is_read_only) {
			return initialize_editorjs.call(this, blocks);
		}
		const set_timeout = window.setTimeout;
		const restore = () => {
			if (window.setTimeout === no_delay) window.setTimeout = set_timeout;
		};
		const no_delay = function (fn, delay, ...rest) {
			if (delay !== 500) return set_timeout.call(window, fn, delay, ...rest);
			restore();
			return set_timeout.call(window, fn, 0, ...rest);
		};
		window.setTimeout = no_delay;
		try {
			return initialize_editorjs.call(this, blocks);
		} finally {
			if (this.editor && this.editor.isReady) this.editor.isReady.then(restore, restore);
			else restore();
		}
	};
};

if (typeof document !== "undefined" && typeof frappe !== "undefined" && frappe.views) {
	customer_success.workspace_answer.start();
	customer_success.draw_workspace_without_delay();
	customer_success.load_workspace_in_one_request();
}

// frappe-charts (2.0.0-rc27) swaps a chart's svg for an animated copy while it animates, for about
// a quarter of a second. A redraw in that window (its ResizeObserver firing as the workspace grows a
// scrollbar while cards and charts load) calls container.removeChild(svg) on the svg that is not in
// the container: "Failed to execute 'removeChild' on 'Node'", and the chart stops drawing. Before a
// redraw, the animated copy is dropped instead; the animation's own restore then finds nothing to do.
customer_success.guard_chart_redraws = function () {
	if (!frappe.utils || !frappe.utils.make_chart || frappe.utils.make_chart.__cs_guarded) return;
	const make_chart = frappe.utils.make_chart;
	frappe.utils.make_chart = function (...args) {
		const chart = make_chart.apply(this, args);
		if (chart && typeof chart.makeChartArea === "function") {
			const make_chart_area = chart.makeChartArea;
			chart.makeChartArea = function () {
				if (this.svg && this.container && this.svg.parentNode !== this.container) {
					for (const copy of this.container.querySelectorAll(":scope > svg")) copy.remove();
					this.svg = null;
				}
				return make_chart_area.call(this);
			};
		}
		return chart;
	};
	frappe.utils.make_chart.__cs_guarded = true;
};
if (typeof document !== "undefined" && typeof $ !== "undefined") {
	$(document).on("app_ready", () => {
		customer_success.relabel_widgets();
		customer_success.guard_chart_redraws();
	});
	customer_success.relabel_widgets();
	customer_success.guard_chart_redraws();
}

// A percentage as a pill: complete green, most of the way blue, halfway orange, far off red.
customer_success.success_plans.service.progress_pill = function (value) {
	const pct = flt(value);
	const colour = pct >= 100 ? "green" : pct >= 75 ? "blue" : pct >= 40 ? "orange" : "red";
	return `<span class="indicator-pill no-indicator-dot ${colour}">${format_number(pct, null, 0)}%</span>`;
};

// Each list row's customer health as a coloured pill on the right of the row (lists of plans,
// milestones, check-ins): one read of the customers shown, as the user may read them.
customer_success.health.service.show_row_health = function (listview, customer_field) {
	const rows = listview.data || [];
	const customers = [...new Set(rows.map((d) => d[customer_field]).filter(Boolean))];
	if (!customers.length) return;
	frappe.db
		.get_list("Customer", {
			filters: { name: ["in", customers] },
			fields: ["name", "cs_health_status", "cs_health_score"],
			limit: customers.length,
		})
		.then((health) => {
			const by_name = Object.fromEntries(health.map((h) => [h.name, h]));
			const by_row = Object.fromEntries(rows.map((d) => [d.name, by_name[d[customer_field]]]));
			listview.$result.find(".list-row-container").each(function () {
				const $row = $(this);
				const h = by_row[$row.find(".list-row-checkbox").attr("data-name")];
				$row.find(".cs-row-health").remove();
				if (!h || !h.cs_health_status) return;
				$row.find(".level-right").prepend(
					`<span class="cs-row-health mr-3" title="${frappe.utils.escape_html(__("Customer health"))}">${customer_success.health.service.status_pill(h.cs_health_status, h.cs_health_score)}</span>`
				);
			});
		})
		.catch(() => null);
};

// Metrics count or measure (the twin of success_plans/engine.py: guess_metric_kind, metric_value,
// metric_decimals, singular_unit, unit_for, metric_text). A count shows as a whole number, and the
// unit agrees with the number: "1 team", "3 teams", "1.5 hours", "70%".
(function (service) {
	service.COUNT = "Count";
	service.MEASURE = "Measure";
	const MEASURE_WORDS = new Set(
		("percent percentage pct seconds second secs sec minutes minute mins min hours hour hrs hr days day " +
			"weeks week months month years year score points point nps csat ces rate ratio share usd eur gbp " +
			"money revenue amount value kg km gb mb tb").split(" ")
	);
	service.guess_metric_kind = function (unit) {
		const text = String(unit || "").trim().toLowerCase();
		if (!text || text.includes("%") || /[$€£¥]/.test(text)) return service.MEASURE;
		const first = text.replace(/[/-]/g, " ").split(/\s+/)[0];
		return MEASURE_WORDS.has(first) ? service.MEASURE : service.COUNT;
	};
	service.metric_value = function (value, kind) {
		if (value === null || value === undefined || value === "") return null;
		const n = Number(value);
		if (kind !== service.COUNT) return n;
		const whole = Math.floor(Math.abs(n) + 0.5);
		return whole ? Math.sign(n) * whole : 0;
	};
	service.metric_decimals = function (value, kind) {
		if (value === null || value === undefined || kind === service.COUNT) return 0;
		const n = Number(value);
		for (const d of [0, 1]) if (Math.abs(Number(n.toFixed(d)) - n) < 1e-9) return d;
		return 2;
	};
	service.singular_unit = function (unit) {
		const text = String(unit || "").trim();
		const cut = text.lastIndexOf(" ");
		const head = cut > -1 ? text.slice(0, cut) : "";
		const word = cut > -1 ? text.slice(cut + 1) : text;
		const lower = word.toLowerCase();
		if (lower === "people") return (head ? `${head} ` : "") + word.slice(0, -4) + "rson";
		if (!/^[A-Za-z]{3,}$/.test(word) || !lower.endsWith("s") || /(ss|us|is)$/.test(lower)) return text;
		let singular;
		if (lower.endsWith("ies") && word.length > 4) singular = word.slice(0, -3) + "y";
		else if (/(sses|xes|zes|ches|shes)$/.test(lower)) singular = word.slice(0, -2);
		else singular = word.slice(0, -1);
		return head ? `${head} ${singular}` : singular;
	};
	service.unit_for = function (value, unit, unit_singular) {
		if (value !== null && value !== undefined && Math.abs(Number(value)) === 1) {
			return String(unit_singular || "").trim() || service.singular_unit(unit);
		}
		return String(unit || "").trim();
	};
	service.metric_text = function (number_text, value, unit, unit_singular) {
		const label = service.unit_for(value, unit, unit_singular);
		if (!label) return number_text;
		return label.startsWith("%") ? `${number_text}${label}` : `${number_text} ${label}`;
	};
	// A row's value with its unit, in the user's number format ("–" when there is none).
	service.format_metric = function (value, row) {
		if (value === null || value === undefined || value === "") return "–";
		const kind = (row && row.metric_kind) || service.guess_metric_kind(row && row.unit);
		const shown = service.metric_value(value, kind);
		const text = format_number(shown, null, service.metric_decimals(shown, kind));
		return service.metric_text(text, shown, row && row.unit, row && row.unit_singular);
	};
	// Show a child table's value columns with their units ("3 teams") in the form's grid.
	service.show_metric_units = function (frm, table, fieldnames) {
		const grid = frm.fields_dict[table] && frm.fields_dict[table].grid;
		if (!grid) return;
		// the number first, the unit after it in small type: a narrow column cuts the unit, not the number
		const formatter = (value, df, options, row) => {
			const esc = frappe.utils.escape_html;
			const text = service.format_metric(value, row);
			if (value === null || value === undefined || value === "") return esc(text);
			const kind = (row && row.metric_kind) || service.guess_metric_kind(row && row.unit);
			const shown = service.metric_value(value, kind);
			const number = format_number(shown, null, service.metric_decimals(shown, kind));
			if (!text.startsWith(number)) return esc(text);
			return `<span title="${esc(text)}">${esc(number)}<span class="text-muted small">${esc(text.slice(number.length))}</span></span>`;
		};
		for (const fieldname of fieldnames) grid.update_docfield_property(fieldname, "formatter", formatter);
	};
})(customer_success.success_plans.service);
