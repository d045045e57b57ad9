// Customer form: health score, its explanation, and the CSM's actions.
frappe.ui.form.on("Customer", {
	refresh(frm) {
		customer_success.health.service.escape_text_field(frm, "cs_override_reason");
		if (frm.is_new()) return;
		customer_success_customer.show_health(frm);
	},
});

const customer_success_customer = {
	show_health(frm) {
		frappe.call({
			method: "customer_success.health.api.get_customer_health",
			args: { customer: frm.doc.name },
			callback(r) {
				const data = r.message || {};
				const status = frm.doc.cs_health_status;
				if (status) {
					const colour = customer_success.health.service.STATUS_COLOURS[status] || "gray";
					// No score is shown without a colour: "Insufficient Data" reads "–".
					const headline = frappe.utils.escape_html(
						__("Health: {0} ({1})", [__(status), customer_success.health.service.format_score(frm.doc.cs_health_score, status)])
					);
					frm.dashboard.add_indicator(headline, colour);
					// The dashboard sits on its own tab in v15: say it where the form opens too.
					// Only those who work the customer get the explanation on the Dashboard tab: the
					// other teams' intro does not point to it.
					const pointer = data.can_edit ? ` · ${frappe.utils.escape_html(__("the Dashboard tab explains it"))}` : "";
					const set_intro = (trend) =>
						frm.set_intro(`${headline}${frappe.utils.escape_html(trend)}${pointer}`, colour === "orange" ? "yellow" : colour);
					const trend = customer_success_customer.trend_text(frm, status, cint(data.trend_days));
					set_intro(trend || "");
					if (trend === null) {
						customer_success_customer.history_text(frm, cint(data.trend_days)).then((text) => {
							frm.set_intro(); // the headline is replaced, not added twice
							set_intro(text);
						});
					}
				}
				if (!data.can_edit) return;
				if (data.sentiment_stale) {
					frm.dashboard.add_comment(
						__("CSM sentiment from {0} is stale and no longer counts in the health score.", [frappe.datetime.str_to_user(data.sentiment_on)]),
						"yellow",
						true
					);
				}
				customer_success_customer.add_buttons(frm, data);
				const section = frm.dashboard.add_section("", __("Health Explanation"));
				customer_success.health.service.render_explanation(section, data.score, frm.doc.name);
			},
		});
	},

	// The trend as text: a change in points, or "no history yet" when there is no score old enough
	// to compare with (an unknown trend is stored as 0, as "no change" is).
	// null when only the score history can tell "no change" from "no history yet".
	trend_text(frm, status, trend_days) {
		if (!customer_success.health.service.has_score(status)) return "";
		if (!frm.doc.cs_health_trend) return null;
		const points = (frm.doc.cs_health_trend > 0 ? "+" : "") + format_number(frm.doc.cs_health_trend, null, 1);
		return __(" · {0} points over {1} days", [points, trend_days]);
	},

	history_text(frm, trend_days) {
		const since = frappe.datetime.add_days(frappe.datetime.get_today(), -trend_days);
		return frappe.db
			.count("Customer Health Score", { filters: { customer: frm.doc.name, score_date: ["<=", since] } })
			.then((older) => (older ? __(" · no change over {0} days", [trend_days]) : __(" · trend: no history yet")))
			.catch(() => "");
	},

	add_buttons(frm, data) {
		const group = __("Customer Success");
		const call = (method, args, freeze_message) =>
			frappe.call({ method, args: { customer: frm.doc.name, ...args }, freeze: true, freeze_message }).then(() => frm.reload_doc());
		frm.add_custom_button(__("Recompute Health"), () => call("customer_success.health.api.recompute_customer", {}, __("Scoring...")), group);
		// A dialog that stays open, with what was typed, when the server refuses it (frappe.prompt
		// closes first: a refused score lost the reason and the date).
		const ask = (fields, method, title, check) => {
			const dialog = new frappe.ui.Dialog({
				title,
				fields,
				primary_action_label: title,
				primary_action(values) {
					const problem = check && check(values);
					if (problem) {
						frappe.msgprint({ message: problem, indicator: "red", title });
						return;
					}
					dialog.disable_primary_action();
					call(method, values).then(
						() => dialog.hide(),
						() => dialog.enable_primary_action() // the message is on screen; the values stay
					);
				},
			});
			dialog.show();
		};
		frm.add_custom_button(
			__("Set Sentiment"),
			() =>
				ask(
					[
						{ fieldname: "sentiment", fieldtype: "Select", label: __("Sentiment"), reqd: 1, default: data.sentiment,
							options: ["Very Positive", "Positive", "Neutral", "Concerned", "Critical"] },
					],
					"customer_success.health.api.set_sentiment",
					__("CSM Sentiment")
				),
			group
		);
		frm.add_custom_button(
			__("Override Health"),
			() =>
				ask(
					[
						{ fieldname: "score", fieldtype: "Float", label: __("Score (0-100)"), reqd: 1 },
						{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
						{ fieldname: "until", fieldtype: "Date", label: __("Until"), reqd: 1, default: frappe.datetime.add_days(frappe.datetime.get_today(), 30) },
					],
					"customer_success.health.api.set_override",
					__("Override Health Score"),
					(v) => (v.score < 0 || v.score > 100 ? __("The score must be from 0 to 100.") : null)
				),
			group
		);
		const create_plan = () =>
			frappe
				.call({ method: "customer_success.success_plans.api.create_plan", args: { customer: frm.doc.name }, freeze: true })
				.then((r) => frappe.set_route("Form", "Success Plan", r.message));
		frm.add_custom_button(
			__("Create Success Plan"),
			// a running plan is worked from: another is made only when the user says so
			() =>
				frappe
					.call({ method: "customer_success.success_plans.api.running_plans", args: { customer: frm.doc.name } })
					.then(({ message: running }) => {
						if (!running || !running.length) return create_plan();
						const plan = running[0];
						const dialog = new frappe.ui.Dialog({
							title: __("Create Success Plan"),
							fields: [
								{
									fieldtype: "HTML",
									options: `<p>${frappe.utils.escape_html(
										__("{0} already has a running success plan, {1} ({2}). Open it, or create another plan beside it?", [
											frm.doc.customer_name || frm.doc.name,
											plan.name,
											__(plan.status),
										])
									)}</p>`,
								},
							],
							primary_action_label: __("Open {0}", [plan.name]),
							primary_action() {
								dialog.hide();
								frappe.set_route("Form", "Success Plan", plan.name);
							},
							secondary_action_label: __("Create Another"),
							secondary_action() {
								dialog.hide();
								create_plan();
							},
						});
						dialog.show();
					}),
			group
		);
		if (data.override_until) {
			frm.add_custom_button(__("Clear Override"), () => call("customer_success.health.api.clear_override", {}), group);
		}
	},
};

// Alerts: the customer's open alerts under the dashboard, and "Check Alerts" (runs the rules now).
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (!frm.is_new()) customer_success_alerts.show(frm);
	},
});

const customer_success_alerts = {
	COLOURS: { Critical: "red", High: "orange", Medium: "yellow", Low: "blue" },

	show(frm) {
		frappe.call({ method: "customer_success.alerts.api.customer_alerts", args: { customer: frm.doc.name } }).then((r) => {
			const alerts = r.message || [];
			if (alerts.length) {
				const esc = frappe.utils.escape_html;
				const rows = alerts
					.map((a) => {
						const colour = a.snoozed ? "gray" : customer_success_alerts.COLOURS[a.severity] || "gray";
						const state = a.snoozed ? __("Snoozed") : __(a.severity);
						return `<div><span class="indicator-pill ${colour}">${esc(state)}</span>
							<a href="/app/cs-alert/${encodeURIComponent(a.name)}">${customer_success.typed_text(a.title || a.name)}</a></div>`;
					})
					.join("");
				frm.dashboard.add_section(rows, __("Open Alerts"));
			}
			if (customer_success.can_work_on(frm.doc.cs_owner)) {
				frm.add_custom_button(
					__("Check Alerts"),
					() =>
						frappe
							.call({ method: "customer_success.alerts.api.evaluate_customer", args: { customer: frm.doc.name }, freeze: true })
							.then((r) => {
								const m = (r && r.message) || {};
								frappe.show_alert({
									message: __("Alerts checked: {0} raised, {1} updated, {2} resolved.", [m.raised || 0, m.updated || 0, m.resolved || 0]),
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
