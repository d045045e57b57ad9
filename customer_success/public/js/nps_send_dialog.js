// Send an NPS survey: pick the customer's contacts that have an email (shared by the Customer and
// Success Plan forms; each contact gets a personal single-use link by email).
frappe.provide("customer_success.voice");

customer_success.voice.send_survey_dialog = function (customer, success_plan) {
	const esc = frappe.utils.escape_html;
	frappe.call({ method: "customer_success.voice.api.get_contacts_to_survey", args: { customer } }).then((r) => {
		const contacts = r.message || [];
		const with_email = contacts.filter((c) => c.email_id);
		if (!with_email.length) {
			frappe.msgprint(__("No contact of {0} has an email address: add one on a contact first.", [esc(customer)]));
			return;
		}
		// MultiCheck draws its labels as HTML: the name and the address are escaped (a bare
		// <address> was read as a tag and vanished; a name is whatever was typed on the Contact).
		const label = (c) =>
			`${esc(c.full_name || c.contact)} &lt;${esc(c.email_id)}&gt;` +
			(c.last_surveyed_on ? ` · ${esc(__("last surveyed {0}", [frappe.datetime.str_to_user(c.last_surveyed_on)]))}` : "");
		const dialog = new frappe.ui.Dialog({
			title: __("Send NPS Survey"),
			fields: [
				{
					fieldtype: "MultiCheck",
					fieldname: "contacts",
					label: __("Contacts"),
					reqd: 1,
					columns: 1,
					options: with_email.map((c) => ({ label: label(c), value: c.contact, checked: 0 })),
				},
				{ fieldtype: "Small Text", fieldname: "note", label: __("Personal Note") },
				{
					fieldtype: "HTML",
					fieldname: "help",
					options: `<p class="text-muted small">${esc(
						__("Each contact gets an email with a personal link. It works once and expires after the days set in Customer Success Settings.")
					)}</p>`,
				},
			],
			primary_action_label: __("Send"),
			primary_action(values) {
				if (!values.contacts || !values.contacts.length) {
					frappe.msgprint(__("Choose at least one contact to send the survey to."));
					return;
				}
				frappe
					.call({
						method: "customer_success.voice.api.send_survey",
						args: { customer, contacts: values.contacts, success_plan: success_plan || null, note: values.note || null },
						freeze: true,
						freeze_message: __("Sending..."),
					})
					.then((res) => {
						dialog.hide();
						const sent = (res.message || {}).sent_to || [];
						frappe.show_alert({ message: __("Survey sent to {0} contacts.", [sent.length]), indicator: "green" });
					});
			},
		});
		dialog.show();
	});
};
