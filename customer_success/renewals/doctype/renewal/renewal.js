// Renewal: record calls in the checkpoints grid; close with Mark Renewed or Mark Churned.
frappe.ui.form.on("Renewal", {
	setup(frm) {
		// the CS roles do not read ERPNext's Subscriptions: the app's own search (not cancelled, of
		// customers the user may read)
		frm.set_query("subscription", () => ({ query: "customer_success.renewals.api.subscriptions_to_renew" }));
	},
	refresh(frm) {
		// a Subscription picked is checked by the server on save (frappe's check in the browser asks
		// for read or select on Subscription, which the CS roles lack, and cleared the pick)
		frm.set_df_property("subscription", "ignore_link_validation", 1);
		// the checkpoints are the renewal's own (made with it, the server keeps them): none added or removed
		frm.set_df_property("checkpoints", "cannot_add_rows", 1);
		frm.set_df_property("checkpoints", "cannot_delete_rows", 1);
		if (frm.is_new()) {
			frm.set_intro(__("Pick the Contract (or Subscription): the customer, term, worth and checkpoints come from it when you save."));
			return;
		}
		if (frm.doc.status !== "Open" || !frm.perm[0].write) return;
		if (frm.doc.disagreement) {
			frm.dashboard.set_headline_alert(__("The CSM says it will renew while health is red."), "red");
		}
		const call = (method, args) =>
			frappe
				.call({ method: `customer_success.renewals.api.${method}`, args: { renewal: frm.doc.name, ...args }, freeze: true })
				.then(() => frm.reload_doc());
		// A dialog that stays open, with what was typed, when the server refuses it (frappe.prompt
		// closes first: a refused date lost the reason and the note).
		const ask = (fields, method, title) => {
			const dialog = new frappe.ui.Dialog({
				title,
				fields,
				primary_action_label: title,
				primary_action(values) {
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
			__("Mark Renewed"),
			() =>
				ask(
					[
						{
							fieldname: "contract",
							label: __("Renewed by Contract"),
							fieldtype: "Link",
							options: "Contract",
							// a later term's contract only (the server refuses an earlier one)
							get_query: () => ({
								filters: Object.assign(
									{ party_type: "Customer", party_name: frm.doc.customer, docstatus: 1 },
									frm.doc.contract_start ? { start_date: [">", frm.doc.contract_start] } : {},
									frm.doc.contract ? { name: ["!=", frm.doc.contract] } : {}
								),
							}),
						},
						{
							fieldname: "sales_order",
							label: __("Renewed by Sales Order"),
							fieldtype: "Link",
							options: "Sales Order",
							get_query: () => ({
								filters: Object.assign(
									{ customer: frm.doc.customer, docstatus: 1 },
									frm.doc.contract_start ? { transaction_date: [">", frm.doc.contract_start] } : {}
								),
							}),
						},
						{
							fieldname: "subscription",
							label: __("Renewed by Subscription"),
							fieldtype: "Link",
							options: "Subscription",
							default: frm.doc.source_type === "Subscription" ? frm.doc.subscription : null,
							// the CS roles do not read ERPNext's Subscriptions: the app's own search, and the
							// server checks the pick (frappe's check in the browser cleared it)
							ignore_link_validation: 1,
							get_query: () => ({
								query: "customer_success.renewals.api.subscriptions_to_renew",
								filters: { customer: frm.doc.customer },
							}),
						},
						{
							fieldname: "amount",
							label: __("Renewed Amount (Annual)"),
							fieldtype: "Currency",
							description: __("Leave empty to take the new contract's, order's or subscription's annual value."),
						},
					],
					"mark_renewed",
					__("Mark Renewed")
				),
			__("Outcome")
		);
		frm.add_custom_button(
			__("Mark Churned"),
			() =>
				ask(
					[
						{
							fieldname: "reason",
							label: __("Churn Reason"),
							fieldtype: "Select",
							options: frm.fields_dict.churn_reason.df.options,
							reqd: 1,
						},
						{ fieldname: "note", label: __("Churn Note"), fieldtype: "Small Text" },
						{ fieldname: "churned_on", label: __("Churned On"), fieldtype: "Date", default: frappe.datetime.get_today(), reqd: 1 },
					],
					"mark_churned",
					__("Mark Churned")
				),
			__("Outcome")
		);
	},
});
