"""Segments arrive: a plan template's free-text segment becomes part of its description (the field
now links a Customer Segment), and tiers set before the app computed any are marked as set by hand,
so switching on computed tiers never overwrites a CSM's choice."""

import frappe

from customer_success.setup import custom_fields


def execute():
	custom_fields.make_custom_fields()  # cs_tier_source and cs_segment, before after_migrate makes them
	move_free_text_segments()
	mark_tiers_set_by_hand()


def move_free_text_segments():
	for name, segment, description in frappe.get_all(
		"Success Plan Template",
		filters={"segment": ("is", "set")},
		fields=["name", "segment", "description"],
		as_list=True,
	):
		if frappe.db.exists("Customer Segment", segment):
			continue
		text = "\n".join(part for part in (description, segment) if part)
		frappe.db.set_value(
			"Success Plan Template", name, {"segment": None, "description": text}, update_modified=False
		)


def mark_tiers_set_by_hand():
	customer = frappe.qb.DocType("Customer")
	(
		frappe.qb.update(customer)
		.set(customer.cs_tier_source, "Manual")
		.where(
			customer.cs_tier.isnotnull()
			& (customer.cs_tier != "")
			& (customer.cs_tier_source.isnull() | (customer.cs_tier_source == ""))
		)
		.run()
	)
