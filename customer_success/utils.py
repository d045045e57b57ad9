"""Small site helpers shared by the rooms, the demo, the test factories and benchmarks."""

import frappe

TREE_NAME_FIELDS = {
	"Customer Group": "customer_group_name",
	"Territory": "territory_name",
	"Item Group": "item_group_name",
}


def leaf(doctype: str, preferred: str | None = None) -> str:
	"""A non-group record of a tree doctype (Customer Group, Territory, Item Group).

	Prefers `preferred` when it exists as a leaf; creates one under the root on a bare site.
	"""
	if preferred and frappe.db.exists(doctype, {"name": preferred, "is_group": 0}):
		return preferred
	name = frappe.db.get_value(doctype, {"is_group": 0}, "name", order_by="lft")
	if name:
		return name
	root = frappe.db.get_value(doctype, {"is_group": 1}, "name", order_by="lft")
	return (
		frappe.get_doc(
			{
				"doctype": doctype,
				TREE_NAME_FIELDS[doctype]: f"CS {doctype}",
				f"parent_{frappe.scrub(doctype)}": root,
			}
		)
		.insert(ignore_permissions=True)
		.name
	)


def ensure_service_item(item_code: str, rate: float) -> str:
	"""A non-stock service item (created once); returns its code."""
	if not frappe.db.exists("Item", item_code):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": item_code,
				"item_name": item_code,
				"item_group": leaf("Item Group", "Services"),
				"stock_uom": "Nos",
				"is_stock_item": 0,
				"include_item_in_manufacturing": 0,
				"standard_rate": rate,
			}
		).insert(ignore_permissions=True)
	return item_code


def delete_todos(reference_doctype: str, reference_name: str):
	"""Delete a record's ToDos now, with their own versions (a closed ToDo has one). frappe's own
	clean-up of a deleted record removes its ToDos in bulk, which leaves their versions behind."""
	todos = frappe.get_all(
		"ToDo", filters={"reference_type": reference_doctype, "reference_name": reference_name}, pluck="name"
	)
	if todos:
		frappe.db.delete("Version", {"ref_doctype": "ToDo", "docname": ("in", todos)})
		frappe.db.delete("ToDo", {"name": ("in", todos)})
