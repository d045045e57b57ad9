"""The roll-up tables the reports and cards read instead of aggregating the whole ledger or score
history at request time. Plain tables, not doctypes: nothing edits or lists them; the nightly jobs
fill them set-based and hooks keep them current between nights (`renewals.service` for revenue,
`health.service` for the book's health per period). Made on install and migrate, dropped on
uninstall; named `cs_…` without frappe's `tab` prefix, so `bench trim-database` (which drops `tab`
tables without a doctype) leaves them alone.
"""

import frappe

TABLES = {
	# Submitted Sales Invoices (credit notes netted) summed per day, company and the customer's
	# current CS Owner ('' for none) and disabled flag: the CSM Workload's revenue over any dates.
	"cs_revenue_by_csm_day": """
		create table if not exists `cs_revenue_by_csm_day` (
			`csm` varchar(140) not null default '',
			`disabled` tinyint not null default 0,
			`company` varchar(140) not null,
			`posting_date` date not null,
			`net_total` decimal(21,9) not null default 0,
			`invoices` int not null default 0,
			primary key (`csm`, `disabled`, `company`, `posting_date`)
		) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
	""",
	# The whole book's health per week and per month, exactly as Health Trend computes a period (each
	# customer once, by its latest score in it), as of `version`: the last change (below) folded in.
	"cs_health_trend": """
		create table if not exists `cs_health_trend` (
			`period_type` varchar(8) not null,
			`period` varchar(16) not null,
			`period_end` date null,
			`customers` int not null default 0,
			`coloured` int not null default 0,
			`score_sum` decimal(30,9) not null default 0,
			`green` int not null default 0,
			`yellow` int not null default 0,
			`red` int not null default 0,
			`no_colour` int not null default 0,
			`version` bigint not null default 0,
			primary key (`period_type`, `period`)
		) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
	""",
	# Every write to the score history appends the weeks and months it touched, in the writer's own
	# transaction: inserts only, so the parallel chunks of a health run share no lock. A period
	# with a change after its roll-up's `version` is stale: the report computes it live.
	"cs_health_trend_change": """
		create table if not exists `cs_health_trend_change` (
			`id` bigint not null auto_increment,
			`period_type` varchar(8) not null,
			`period` varchar(16) not null,
			primary key (`id`),
			key `period` (`period_type`, `period`, `id`)
		) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
	""",
	# Active customers per CS Owner, health status, tier and lifecycle stage ('' for none): how many,
	# how many with a colour, and their scores' sum (customer_success/book_counts.py). Writers insert
	# differences only; a key's figures are the sum of its rows, folded into one row by `compact`.
	"cs_book_count": """
		create table if not exists `cs_book_count` (
			`id` bigint not null auto_increment,
			`csm` varchar(140) not null default '',
			`health_status` varchar(140) not null default '',
			`tier` varchar(140) not null default '',
			`stage` varchar(140) not null default '',
			`customers` int not null default 0,
			`coloured` int not null default 0,
			`score_sum` decimal(30,9) not null default 0,
			primary key (`id`),
			key `csm` (`csm`)
		) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
	""",
}


def make_tables():
	"""Create the missing tables only: DDL commits the open transaction, and after_migrate runs in
	tests' transactions too."""
	existing = existing_tables()
	for table, ddl in TABLES.items():
		if table not in existing:
			frappe.db.sql_ddl(ddl)


def remove_tables():
	for table in TABLES:
		frappe.db.sql_ddl(f"drop table if exists `{table}`")  # our constant names


def existing_tables() -> set[str]:
	return set(
		frappe.db.sql_list(
			"select table_name from information_schema.tables where table_schema = %s and table_name in %s",
			(frappe.conf.db_name, tuple(TABLES)),
		)
	)
