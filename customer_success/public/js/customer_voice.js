// Customer form: the latest NPS answer and the year's NPS, and "Send NPS Survey".
frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (frm.is_new()) return;
		customer_success_voice.show(frm);
	},
});

const customer_success_voice = {
	COLOURS: { Promoter: "green", Passive: "orange", Detractor: "red" },

	show(frm) {
		frappe.call({ method: "customer_success.voice.api.get_latest_nps", args: { customer: frm.doc.name } }).then((r) => {
			const data = r.message || {};
			if (!data.can_read) return;
			const latest = data.latest;
			if (latest) {
				const text = __("NPS: {0} ({1}) on {2}", [latest.score, __(latest.category), frappe.datetime.str_to_user(latest.answered_on)]);
				frm.dashboard.add_indicator(frappe.utils.escape_html(text), customer_success_voice.COLOURS[latest.category] || "gray");
				if (data.nps !== null && data.nps !== undefined) {
					frm.dashboard.add_indicator(
						frappe.utils.escape_html(__("NPS over 12 months: {0} from {1} answers", [format_number(data.nps, null, 0), data.responses])),
						data.nps > 0 ? "green" : data.nps < 0 ? "red" : "orange"
					);
				}
			}
			if (customer_success.can_work_on(frm.doc.cs_owner)) {
				frm.add_custom_button(__("Send NPS Survey"), () => customer_success.voice.send_survey_dialog(frm.doc.name), __("Customer Success"));
			}
		});
	},
};
