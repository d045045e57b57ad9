// Sales Handoff: sales completes it, hands it over; the CSM accepts it or returns it.
frappe.ui.form.on("Sales Handoff", {
	setup(frm) {
		frm.set_query("sales_order", () => ({
			filters: { docstatus: 1, ...(frm.doc.customer ? { customer: frm.doc.customer } : {}) },
		}));
		// the customer's contracts, through the app's search: ERPNext's Sales User does not read them
		frm.set_query("contract", () => ({
			query: "customer_success.handoff.api.customer_contracts",
			filters: { customer: frm.doc.customer },
		}));
		frm.set_query("quotation", () => ({ filters: frm.doc.customer ? { party_name: frm.doc.customer } : {} }));
		frm.set_query("opportunity", () => ({ filters: frm.doc.customer ? { party_name: frm.doc.customer } : {} }));
		const contact_query = () => ({
			query: "frappe.contacts.doctype.contact.contact.contact_query",
			filters: { link_doctype: "Customer", link_name: frm.doc.customer },
		});
		frm.set_query("primary_contact", contact_query);
		frm.set_query("contact", "stakeholders", contact_query);
		frm.set_query("customer_address", () => ({
			query: "frappe.contacts.doctype.address.address.address_query",
			filters: { link_doctype: "Customer", link_name: frm.doc.customer },
		}));
		const users = () => ({ filters: { user_type: "System User", enabled: 1 } });
		frm.set_query("sales_owner", users);
		frm.set_query("proposed_csm", users);
	},

	refresh(frm) {
		// the server checks the contract picked on save (`check_links_match_customer`); frappe's
		// check in the browser asks for read on Contract, which a Sales User lacks, and cleared it
		frm.set_df_property("contract", "ignore_link_validation", 1);
		sales_handoff.lock_after_hand_over(frm);
		sales_handoff.render_summary(frm);
		sales_handoff.show_status(frm);
		sales_handoff.show_completeness(frm);
		sales_handoff.add_buttons(frm);
	},

	sales_order(frm) {
		if (frm.doc.sales_order) sales_handoff.get_details(frm);
	},

	// made by hand: the contract's dates where the handoff has none (the server fills the same on
	// save, with the customer's primary contact and address when they are linked to it)
	contract(frm) {
		if (!frm.doc.contract || !frm.doc.customer) return;
		frappe.call({
			method: "customer_success.handoff.api.contract_term",
			args: { customer: frm.doc.customer, contract: frm.doc.contract },
		}).then(({ message }) => {
			if (!message) return;
			if (!frm.doc.contract_start) frm.set_value("contract_start", message.start_date);
			if (!frm.doc.contract_end) frm.set_value("contract_end", message.end_date);
		});
	},
});

const sales_handoff = {
	// Sales edits until hand-over; after that only a CS Manager may change the content (the server's
	// `check_edit_rights`): the form is read-only for everyone else, its actions stay.
	lock_after_hand_over(frm) {
		const editable = ["Draft", "Returned"].includes(frm.doc.status);
		const sees_all =
			frappe.session.user === "Administrator" || frappe.user.has_role("CS Manager") || frappe.user.has_role("System Manager");
		if (!frm.is_new() && !editable && !sees_all) {
			frm.disable_save();
			frm.set_read_only();
		}
	},

	// Once handed over, the CSM reads what was sold, who matters, their definition of success and
	// the risks first; sales' editors below fold away. Everything typed is shown as text.
	render_summary(frm) {
		const field = frm.fields_dict.summary_html;
		if (!field) return;
		if (["Draft", "Returned"].includes(frm.doc.status)) {
			field.$wrapper.empty();
			return;
		}
		const esc = frappe.utils.escape_html;
		const typed = customer_success.typed_text; // what sales typed (stored escaped when it looks like markup)
		const text = (html) => esc(new DOMParser().parseFromString(html || "", "text/html").body.textContent.trim());
		const money = (value) => format_currency(value, frm.doc.currency);
		const metric = (value, row) => customer_success.success_plans.service.format_metric(value, row);
		const date = (value) => (value ? frappe.datetime.str_to_user(value) : "–");
		const items = (frm.doc.items || [])
			.map((row) => `<li>${typed(row.item_name || row.item_code)} × ${format_number(row.qty, null, 0)} · ${money(row.amount)}</li>`)
			.join("");
		const roles = (row) =>
			[
				row.is_champion && __("Champion"),
				row.is_economic_buyer && __("Economic Buyer"),
				row.is_decision_maker && __("Decision Maker"),
				row.is_sponsor && __("Sponsor"),
			].filter(Boolean);
		const people = (frm.doc.stakeholders || [])
			.map(
				(row) => `<li><strong>${typed(row.stakeholder_name || row.contact || "")}</strong>${row.designation ? `, ${typed(row.designation)}` : ""}
					<span class="text-muted"> · ${esc([...roles(row), row.influence && __("{0} influence", [__(row.influence)]), row.attitude && __(row.attitude)].filter(Boolean).join(" · "))}</span></li>`
			)
			.join("");
		const risks = (frm.doc.anticipated_problems || [])
			.map(
				(row) => `<li>${typed(row.problem || "")}${row.impact ? ` <span class="text-muted">(${esc(__("impact {0}", [__(row.impact)]))})</span>` : ""}
					<br><span class="text-muted">${esc(__("Mitigation"))}:</span> ${typed(row.mitigation || "–")}</li>`
			)
			.join("");
		const use_cases = (frm.doc.use_cases || [])
			.map((row) => `<li>${typed(row.use_case || "")}: ${typed(row.metric || "")} ${esc(metric(row.baseline, row))} → ${esc(metric(row.target, row))}</li>`)
			.join("");
		const none = `<p class="text-muted">${esc(__("None recorded."))}</p>`;
		const block = (title, body) => `<div class="col-md-6 mb-3"><h6 class="text-uppercase text-muted small">${esc(title)}</h6>${body}</div>`;
		field.$wrapper.html(`<div class="row cs-handoff-summary">
			${block(
				__("What Was Sold"),
				`${items ? `<ul class="mb-1">${items}</ul>` : none}
				<div>${esc(__("Grand Total"))}: <strong>${money(frm.doc.grand_total)}</strong></div>
				<div class="text-muted">${esc(__("Contract {0} to {1} · go-live {2}", [date(frm.doc.contract_start), date(frm.doc.contract_end), date(frm.doc.target_go_live)]))}</div>`
			)}
			${block(__("Who Matters"), people ? `<ul>${people}</ul>` : none)}
			${block(
				__("Their Definition of Success"),
				`${frm.doc.success_definition ? `<p>${text(frm.doc.success_definition)}</p>` : none}${use_cases ? `<ul>${use_cases}</ul>` : ""}`
			)}
			${block(__("Risks and Mitigations"), risks ? `<ul>${risks}</ul>` : none)}
		</div>`);
	},

	STATUS_COLOURS: { Draft: "red", "Handed Over": "blue", Accepted: "green", Returned: "orange", Cancelled: "gray" },

	editable_by_sales(frm) {
		return ["Draft", "Returned"].includes(frm.doc.status);
	},

	show_status(frm) {
		if (frm.is_new()) return;
		if (frm.doc.is_late) {
			frm.dashboard.add_indicator(
				__("Overdue: {0} was due {1}", [__(frm.doc.sla_step), frappe.datetime.str_to_user(frm.doc.due_by)]),
				"red"
			);
		} else if (frm.doc.due_by) {
			frm.dashboard.add_indicator(
				__("{0} due by {1}", [__(frm.doc.sla_step), frappe.datetime.str_to_user(frm.doc.due_by)]),
				"blue"
			);
		}
		if (frm.doc.status === "Cancelled") {
			const order = frm.doc.sales_order
				? __("Sales Order {0} was cancelled: amend it to reopen this handoff.", [frappe.utils.escape_html(frm.doc.sales_order)])
				: __("Its Sales Order was cancelled.");
			frm.dashboard.set_headline_alert(order, "gray");
		}
		if (frm.doc.status === "Returned" && frm.doc.return_reason) {
			frm.dashboard.set_headline_alert(
				`<div class="text-warning">${__("Returned by {0}: {1}", [
					frappe.utils.escape_html(frm.doc.returned_by ? frappe.user.full_name(frm.doc.returned_by) : ""),
					customer_success.typed_text(frm.doc.return_reason),
				])}</div>`
			);
		}
	},

	show_completeness(frm) {
		if (frm.is_new() || frm.doc.status === "Cancelled") return; // nothing to hand over
		// by name, as saved: sending the form's copy failed with "Document has been modified" when
		// Hand Over saved the form and changed the handoff before this call reached the server
		frappe.call({
			method: "run_doc_method",
			args: { dt: frm.doctype, dn: frm.doc.name, method: "get_completeness_details" },
		}).then((r) => {
			const data = r.message;
			if (!data) return;
			const colour = data.can_hand_over ? "green" : data.score >= 60 ? "orange" : "red";
			const missing = data.missing_required
				.map((m) => `<li>${frappe.utils.escape_html(m)}</li>`)
				.join("");
			const optional = data.missing_optional
				.map((m) => `<li class="text-muted">${frappe.utils.escape_html(m)} (${__("optional")})</li>`)
				.join("");
			const section = frm.dashboard.add_section(
				`<div class="progress" style="height: 10px; margin-bottom: 8px">
					<div class="progress-bar bg-${colour === "orange" ? "warning" : colour === "red" ? "danger" : "success"}"
						role="progressbar" style="width: ${data.score}%"></div>
				</div>
				<div>${__("Completeness: {0}%", [`<b>${data.score}</b>`])}
				${data.can_hand_over ? ` — ${__("ready to hand over")}` : ""}</div>
				${missing || optional ? `<div class="small">${__("Missing:")}<ul>${missing}${optional}</ul></div>` : ""}`,
				__("Completeness")
			);
			return section;
		});
	},

	add_buttons(frm) {
		if (frm.is_new()) return;
		const roles = frappe.user_roles;
		const has = (...names) => names.some((r) => roles.includes(r));
		const is_sales = has("Sales User", "Sales Manager", "System Manager") || frm.doc.owner === frappe.session.user;
		// the server decides (permissions.check_can_decide_handoff); the buttons only follow it
		const user = frappe.session.user;
		const decides =
			user === "Administrator" ||
			(frm.doc.handed_over_by !== user &&
				(has("CS Manager") || (frm.doc.proposed_csm === user && has("Customer Success Manager"))));

		if (sales_handoff.editable_by_sales(frm) && frm.doc.sales_order && frm.perm[0].write) {
			frm.add_custom_button(__("Get details from Sales Order"), () => sales_handoff.get_details(frm), __("Actions"));
		}
		if (sales_handoff.editable_by_sales(frm) && is_sales) {
			frm.add_custom_button(__("Hand Over"), () => sales_handoff.run(frm, "hand_over"), null).addClass("btn-primary");
		}
		if (frm.doc.status === "Handed Over" && decides) {
			frm.add_custom_button(__("Accept"), () =>
				frappe.confirm(
					__("Accept this handoff? {0} becomes the customer's CSM and a success plan is created.", [
						frm.doc.proposed_csm || frappe.session.user,
					]),
					() => sales_handoff.run(frm, "accept")
				)
			).addClass("btn-primary");
			frm.add_custom_button(__("Return to Sales"), () =>
				frappe.prompt(
					{ fieldname: "reason", fieldtype: "Small Text", label: __("What must sales fix?"), reqd: 1 },
					(v) => sales_handoff.run(frm, "return_to_sales", { reason: v.reason }),
					__("Return Handoff to Sales"),
					__("Return")
				)
			);
		}
		const links = [
			["Sales Order", frm.doc.sales_order],
			["Contract", frm.doc.contract],
			["Quotation", frm.doc.quotation],
			["Opportunity", frm.doc.opportunity],
			["Customer", frm.doc.customer],
		];
		for (const [doctype, name] of links) {
			if (name) frm.add_custom_button(__(doctype), () => frappe.set_route("Form", doctype, name), __("View"));
		}
	},

	get_details(frm) {
		return frm.call({ method: "get_details_from_sales_order", doc: frm.doc, freeze: true }).then(() => {
			frm.refresh_fields();
			frm.dirty();
		});
	},

	async run(frm, method, args) {
		try {
			if (frm.is_dirty()) await frm.save();
			await frm.call({ method, doc: frm.doc, args, freeze: true });
		} catch (e) {
			return; // the server's message is already on screen (what is missing, who may act)
		}
		frm.reload_doc();
	},
};
