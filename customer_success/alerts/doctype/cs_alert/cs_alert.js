// CS Alert: the evidence with links to its records, and the actions that move the alert.
const CS_ALERT_API = "customer_success.alerts.api.";

frappe.ui.form.on("CS Alert", {
	refresh(frm) {
		cs_alert_form.render_evidence(frm);
		if (frm.is_new()) return;
		cs_alert_form.add_actions(frm);
		const open = ["Open", "In Progress"].includes(frm.doc.status);
		// a closed alert is its history (the server refuses any change to it but an advocacy ask's
		// answer, and once raised its customer and rule): nothing else is offered for editing
		["customer", "rule"].forEach((f) => frm.set_df_property(f, "read_only", 1));
		// a rule's alert is of its rule's kind (the server takes it from the rule at every save)
		if (frm.doc.rule) frm.set_df_property("kind", "read_only", 1);
		const still_open = ["ask_type", "ask_outcome"];
		frm.meta.fields
			.filter((df) => !still_open.includes(df.fieldname) && !frappe.model.no_value_type.includes(df.fieldtype))
			.forEach((df) => {
				if (!open) frm.set_df_property(df.fieldname, "read_only", 1);
			});
		frm.set_df_property("tasks", "cannot_add_rows", open ? 0 : 1);
		frm.set_df_property("tasks", "cannot_delete_rows", open ? 0 : 1);
		if (!open) frm.set_df_property("tasks", "read_only", 1);
		if (open && frm.doc.tasks_total && frm.doc.tasks_done === frm.doc.tasks_total) {
			frm.set_intro(__("All tasks of the playbook are done: resolve this alert with a note."), "green");
		} else if (open && frm.doc.snoozed_until && frm.doc.snoozed_until > frappe.datetime.get_today()) {
			frm.set_intro(__("Snoozed until {0}.", [frappe.datetime.str_to_user(frm.doc.snoozed_until)]), "blue");
		}
	},
});

const cs_alert_form = {
	render_evidence(frm) {
		const wrapper = frm.get_field("evidence_html").$wrapper;
		let evidence = null;
		try {
			evidence = frm.doc.evidence ? JSON.parse(frm.doc.evidence) : null;
		} catch (e) {
			evidence = null; // unreadable evidence shows none rather than breaking the form
		}
		if (!evidence) {
			wrapper.html("");
			return;
		}
		const esc = frappe.utils.escape_html;
		const facts = Object.entries(evidence.facts || {})
			.map(([key, value]) => {
				const shown = cs_alert_form.fact(key, value);
				// a list (metrics, stakeholders) a line each
				const cell = Array.isArray(shown) ? shown.map((line) => esc(String(line))).join("<br>") : esc(String(shown));
				return `<tr><td>${esc(cs_alert_form.fact_label(key))}</td><td>${cell}</td></tr>`;
			})
			.join("");
		const records = (Array.isArray(evidence.records) ? evidence.records : [])
			.filter((record) => Array.isArray(record) && record.length >= 2)
			.map(([doctype, name]) => {
				const url = `/app/${encodeURIComponent(frappe.router.slug(String(doctype)))}/${encodeURIComponent(name)}`;
				return `<li>${esc(__(doctype))}: <a href="${esc(url)}">${esc(name)}</a></li>`;
			})
			.join("");
		wrapper.html(
			`<table class="table table-bordered table-sm">${facts}</table>` +
				(records ? `<div class="text-muted small">${esc(__("Records behind it"))}</div><ul>${records}</ul>` : "")
		);
	},

	fact_label(key) {
		const labels = {
			answered_on: __("Answered On"),
			answers: __("Detractor Answers"),
			cadence_days: __("Check-in Cadence (Days)"),
			contract_end: __("Contract End"),
			count: __("Count"),
			days: __("Days"),
			drop: __("Points Dropped"),
			go_live: __("Planned Go-Live"),
			last_touch: __("Last Touch"),
			latest_on: __("Latest Answer On"),
			lowest: __("Lowest Answer"),
			metrics: __("Metrics"),
			objectives: __("Objectives"),
			oldest_due: __("Oldest Due"),
			open_milestones: __("Open Milestones"),
			overdue: __("Overdue Amount"),
			plans: __("Running Plans"),
			score: __("Score"),
			score_then: __("Score Then"),
			since: __("Since"),
			stakeholders: __("Stakeholders"),
			status: __("Health Status"),
			threshold: __("Threshold"),
		};
		return labels[key] || __(frappe.model.unscrub(key));
	},

	// What the evidence holds, as the summary says it: amounts in the site's currency, colours and
	// roles translated, a usage metric or a stakeholder a line each. The evidence holds dates, not
	// day counts (so it stays the same from night to night): the form says how far each date is
	// from today.
	fact(key, value) {
		const number = (n) => (typeof n === "number" ? format_number(n, null, Number.isInteger(n) ? 0 : 2) : n ?? "–");
		if (key === "overdue" && typeof value === "number") {
			return format_currency(value, frappe.defaults.get_default("currency"));
		}
		if (key === "status" && typeof value === "string") return __(value);
		if (key === "metrics" && Array.isArray(value)) {
			return value.map((m) =>
				__("{0}: {1} of {2} used ({3}%)", [m.metric, number(m.used), number(m.entitlement), number(m.percent)])
			);
		}
		if (key === "stakeholders" && Array.isArray(value)) {
			const why = { left: __("left the company"), disabled: __("disabled"), unlinked: __("no longer linked") };
			return value.map((s) => __("{0} ({1}) {2}", [s.name, __(s.role || ""), why[s.why] || s.why || ""]));
		}
		if (Array.isArray(value)) {
			return value.map((item) =>
				item && typeof item === "object"
					? Object.entries(item)
							.map(([k, v]) => `${cs_alert_form.fact_label(k)}: ${number(v)}`)
							.join(", ")
					: number(item)
			);
		}
		if (typeof value === "object" && value !== null) {
			return Object.entries(value)
				.map(([k, v]) => `${cs_alert_form.fact_label(k)}: ${number(v)}`)
				.join(", ");
		}
		if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return number(value);
		const days = frappe.datetime.get_day_diff(frappe.datetime.get_today(), value);
		let distance = __("today");
		if (days > 0) distance = __("{0} days ago", [days]);
		if (days < 0) distance = __("in {0} days", [-days]);
		return `${frappe.datetime.str_to_user(value)} (${distance})`;
	},

	add_actions(frm) {
		const call = (method, args) =>
			frappe.call({ method: CS_ALERT_API + method, args: { alert: frm.doc.name, ...args }, freeze: true }).then(() => frm.reload_doc());
		const open = ["Open", "In Progress"].includes(frm.doc.status);
		// a reader the alert is shared with (a task's Sales Owner) may not change it: no actions
		if (!open || !(frm.perm && frm.perm[0] && frm.perm[0].write)) return;
		const group = __("Actions");
		if (frm.doc.status === "Open") {
			frm.add_custom_button(__("Start Work"), () => call("start_work", {}), group);
		}
		frm.add_custom_button(
			__("Resolve"),
			() =>
				frappe.prompt(
					{ fieldname: "note", fieldtype: "Small Text", label: __("Resolution Note"), reqd: 1 },
					(v) => call("resolve", v),
					__("Resolve Alert")
				),
			group
		);
		frm.add_custom_button(
			__("Dismiss"),
			() =>
				frappe.prompt(
					{ fieldname: "reason", fieldtype: "Small Text", label: __("Why Dismissed"), reqd: 1 },
					(v) => call("dismiss", v),
					__("Dismiss Alert")
				),
			group
		);
		frm.add_custom_button(
			__("Snooze"),
			() =>
				frappe.prompt(
					{ fieldname: "until", fieldtype: "Date", label: __("Snoozed Until"), reqd: 1, default: frappe.datetime.add_days(frappe.datetime.get_today(), 7) },
					(v) => call("snooze", v),
					__("Snooze Alert")
				),
			group
		);
		if (frm.doc.kind === "Expansion" && !frm.doc.opportunity) {
			frm.add_custom_button(__("Create Opportunity"), () =>
				frappe
					.call({ method: CS_ALERT_API + "create_opportunity", args: { alert: frm.doc.name }, freeze: true })
					.then((r) => r.message && frappe.set_route("Form", "Opportunity", r.message))
			);
		}
	},
};
