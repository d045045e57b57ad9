frappe.ui.form.on("NPS Response", {
	setup(frm) {
		frm.set_query("contact", () => ({
			query: "frappe.contacts.doctype.contact.contact.contact_query",
			filters: { link_doctype: "Customer", link_name: frm.doc.customer },
		}));
	},
	refresh(frm) {
		const colours = { Promoter: "green", Passive: "orange", Detractor: "red" };
		if (frm.doc.category) frm.page.set_indicator(__(frm.doc.category), colours[frm.doc.category] || "gray");
		// What a contact answered through the link is theirs: shown, never edited.
		const own_answer = frm.doc.source === "Survey Link";
		["customer", "contact", "score", "answered_on"].forEach((f) => frm.set_df_property(f, "read_only", own_answer ? 1 : 0));
	},
});
