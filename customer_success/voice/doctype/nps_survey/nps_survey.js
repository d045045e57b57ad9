frappe.ui.form.on("NPS Survey", {
	setup(frm) {
		frm.set_query("contact", "contacts", () => ({
			query: "frappe.contacts.doctype.contact.contact.contact_query",
			filters: { link_doctype: "Customer", link_name: frm.doc.customer },
		}));
		frm.set_query("success_plan", () => ({ filters: { customer: frm.doc.customer } }));
	},
	refresh(frm) {
		if (frm.doc.status === "Sent") {
			frm.disable_form();
			frm.page.set_indicator(__("Sent"), "green");
			return;
		}
		if (!frm.is_new()) {
			frm.add_custom_button(__("Send"), () =>
				frappe
					.call({ method: "customer_success.voice.api.send_draft", args: { survey: frm.doc.name }, freeze: true, freeze_message: __("Sending...") })
					.then(() => frm.reload_doc())
			).addClass("btn-primary");
		}
	},
});
