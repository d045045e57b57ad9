// Customer list: health as a coloured indicator, score, CSM, tier and the next renewal; a CSM
// opens it on her own book.
frappe.provide("customer_success.customer_list");

Object.assign((frappe.listview_settings["Customer"] = frappe.listview_settings["Customer"] || {}), {
	add_fields: [
		...((frappe.listview_settings["Customer"] || {}).add_fields || []),
		"cs_health_status",
		"cs_health_score",
		"disabled",
	],
	get_indicator(doc) {
		if (doc.disabled) return [__("Disabled"), "grey", "disabled,=,1"];
		if (!doc.cs_health_status) return [__("No Score"), "grey", "cs_health_status,is,not set"];
		const colour = customer_success.health.service.STATUS_COLOURS[doc.cs_health_status] || "grey";
		return [__(doc.cs_health_status), colour, `cs_health_status,=,${doc.cs_health_status}`];
	},
	formatters: {
		cs_health_score(value, df, doc) {
			return customer_success.health.service.format_score(value, doc.cs_health_status);
		},
	},
	// the ID repeats the customer's name (ERPNext names customers by their name)
	hide_name_column: true,
	refresh(listview) {
		customer_success.customer_list.open_on_my_book(listview);
		customer_success.customer_list.show_next_renewals(listview);
	},
});

customer_success.customer_list.show_next_renewals = function (listview) {
	const names = (listview.data || []).map((d) => d.name);
	if (!names.length) return;
	frappe
		.xcall("customer_success.customer_success.api.next_renewals", { customers: names })
		.then((renewals) => {
			const today = frappe.datetime.get_today();
			listview.$result.find(".list-row-container").each(function () {
				const $row = $(this);
				const name = $row.find(".list-row-checkbox").attr("data-name");
				const end = renewals && renewals[name];
				$row.find(".cs-next-renewal").remove();
				if (!end) return;
				const overdue = end < today;
				const label = overdue
					? __("Contract ended {0}", [frappe.datetime.str_to_user(end)])
					: __("Renews {0}", [frappe.datetime.str_to_user(end)]);
				$row.find(".level-right").prepend(
					`<span class="cs-next-renewal text-muted small mr-3 ${overdue ? "text-danger" : ""}">${frappe.utils.escape_html(label)}</span>`
				);
			});
		});
};

// A CSM opens the list on her own book, once per list view (she can remove the filter).
customer_success.customer_list.open_on_my_book = function (listview) {
	if (listview.__cs_book_filter_applied || !listview.filter_area) return;
	listview.__cs_book_filter_applied = true;
	const roles = frappe.user_roles || [];
	const sees_all = roles.includes("CS Manager") || roles.includes("System Manager");
	if (sees_all || !roles.includes("Customer Success Manager")) return;
	if (listview.filter_area.get().some((f) => f[1] === "cs_owner")) return;
	listview.filter_area.add([["Customer", "cs_owner", "=", frappe.session.user]]);
};
