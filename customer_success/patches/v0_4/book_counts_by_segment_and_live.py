"""The book roll-up keys on the customer's segment and whether it is live (`Customer.cs_live`: a
submitted Sales Invoice, Sales Order or Contract), and counts the customers with a score, so
Segment Performance reads its health figures from it. On a site made before: the field made and set
for every customer (set-based), the table's columns added, then the roll-up reconciled with a fresh
count (which moves every customer to its full key). A site without the table gets it made and filled
by after_migrate."""

import frappe

from customer_success.customer_success import book_counts
from customer_success.setup import custom_fields
from customer_success.setup.rollups import existing_tables


def execute():
	custom_fields.make_custom_fields()
	wrong = book_counts.wrong_live_flags()
	for live in (0, 1):
		names = [name for name, flag in wrong if flag == live]
		for start in range(0, len(names), 5000):
			frappe.db.sql(
				"update `tabCustomer` set `cs_live` = %s where `name` in %s",
				(live, tuple(names[start : start + 5000])),
			)
	frappe.db.commit()  # nosemgrep: the flags stand on their own
	if book_counts.TABLE not in existing_tables():
		return
	columns = set(
		frappe.db.sql_list(
			"select column_name from information_schema.columns where table_schema = %s and table_name = %s",
			(frappe.conf.db_name, book_counts.TABLE),
		)
	)
	if "live" not in columns:
		frappe.db.sql_ddl(
			f"""alter table `{book_counts.TABLE}`
			add column `segment` varchar(140) not null default '' after `stage`,
			add column `live` tinyint not null default 0 after `segment`,
			add column `scored` int not null default 0 after `score_sum`"""
		)
	frappe.local.cs_book_count_table = None
	book_counts.reconcile(commit=True)
