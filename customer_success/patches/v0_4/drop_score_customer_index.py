"""The score history's single-column index on `customer` repeated the left prefix of the unique key
(customer, model, score_date), which serves every read by customer: every score row inserted paid
for it. The doctype no longer asks for it (no `search_index`); this drops it on a site made before,
whatever its name."""

import frappe

TABLE = "tabCustomer Health Score"


def execute():
	index = frappe.db.get_column_index(TABLE, "customer", unique=False)
	if index:
		frappe.db.sql_ddl(f"alter table `{TABLE}` drop index `{index.Key_name}`")  # a name MariaDB gave
