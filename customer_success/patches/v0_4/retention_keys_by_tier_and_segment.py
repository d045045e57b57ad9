"""The retention roll-up keeps each customer's part, and the point sums, under its tier, segment and
whether it is in business as well as its CS Owner (and the point sums the later window's revenue),
so Revenue Retention with a tier filter reads a few point sums. On a site made before: the columns
added, each held part given its customer's keys now, and the point sums summed afresh from the held
parts (set-based; the points stay complete: the parts are unchanged). A site without the tables
gets them with the new columns from after_migrate."""

import frappe

from customer_success.renewals import queries
from customer_success.setup.rollups import existing_tables


def columns(table: str) -> set[str]:
	return set(
		frappe.db.sql_list(
			"select column_name from information_schema.columns where table_schema = %s and table_name = %s",
			(frappe.conf.db_name, table),
		)
	)


def execute():
	tables = existing_tables()
	if queries.RETENTION_CUSTOMERS not in tables or queries.RETENTION_POINTS not in tables:
		return
	if "in_business" not in columns(queries.RETENTION_CUSTOMERS):
		frappe.db.sql_ddl(
			f"""alter table `{queries.RETENTION_CUSTOMERS}`
			add column `tier` varchar(140) not null default '' after `csm`,
			add column `segment` varchar(140) not null default '' after `tier`,
			add column `in_business` tinyint not null default 1 after `segment`"""
		)
	if "revenue" not in columns(queries.RETENTION_POINTS):
		frappe.db.sql_ddl(
			f"""alter table `{queries.RETENTION_POINTS}`
			add column `tier` varchar(140) not null default '' after `csm`,
			add column `segment` varchar(140) not null default '' after `tier`,
			add column `in_business` tinyint not null default 1 after `segment`,
			add column `revenue` decimal(30,9) not null default 0,
			drop primary key,
			add primary key (`period_end`, `csm`, `tier`, `segment`, `in_business`)"""
		)
	queries.file_retention_parts_under_customer_keys()
	queries.sum_retention_points_from_parts()
	frappe.db.commit()  # nosemgrep: the roll-up is one unit of work
