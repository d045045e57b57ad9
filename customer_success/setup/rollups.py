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
	# Active customers per CS Owner, health status, tier, lifecycle stage, segment ('' for none) and
	# live flag: how many, how many with a colour, their scores' sum, and how many have a score
	# (customer_success/book_counts.py). Writers insert differences only; a key's figures are the sum
	# of its rows, folded into one row by `compact`.
	"cs_book_count": """
		create table if not exists `cs_book_count` (
			`id` bigint not null auto_increment,
			`csm` varchar(140) not null default '',
			`health_status` varchar(140) not null default '',
			`tier` varchar(140) not null default '',
			`stage` varchar(140) not null default '',
			`segment` varchar(140) not null default '',
			`live` tinyint not null default 0,
			`customers` int not null default 0,
			`coloured` int not null default 0,
			`score_sum` decimal(30,9) not null default 0,
			`scored` int not null default 0,
			primary key (`id`),
			key `csm` (`csm`)
		) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
	""",
}

# Revenue Retention's roll-up (renewals.service: the retention roll-up). The points T it holds, each
# complete once the reconciliation has read it; every customer's revenue in T's two windows and the
# keys its part was added under: CS Owner, tier, segment and whether it is in business (enabled, not
# churned), written only under the customer's row lock; and the report's components (and the later
# window's revenue) per point and those keys, kept by adding differences.
TABLES.update(
	{
		"cs_retention_period": """
			create table if not exists `cs_retention_period` (
				`period_end` date not null,
				`complete` tinyint not null default 0,
				primary key (`period_end`)
			) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
		""",
		"cs_retention_customer": """
			create table if not exists `cs_retention_customer` (
				`customer` varchar(140) not null,
				`period_end` date not null,
				`csm` varchar(140) not null default '',
				`tier` varchar(140) not null default '',
				`segment` varchar(140) not null default '',
				`in_business` tinyint not null default 1,
				`prev` decimal(21,9) not null default 0,
				`curr` decimal(21,9) not null default 0,
				primary key (`customer`, `period_end`)
			) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
		""",
		"cs_retention_point": """
			create table if not exists `cs_retention_point` (
				`period_end` date not null,
				`csm` varchar(140) not null default '',
				`tier` varchar(140) not null default '',
				`segment` varchar(140) not null default '',
				`in_business` tinyint not null default 1,
				`customers` int not null default 0,
				`starting_revenue` decimal(30,9) not null default 0,
				`expansion` decimal(30,9) not null default 0,
				`contraction` decimal(30,9) not null default 0,
				`churn` decimal(30,9) not null default 0,
				`churned_customers` int not null default 0,
				`expanded_customers` int not null default 0,
				`contracted_customers` int not null default 0,
				`revenue` decimal(30,9) not null default 0,
				primary key (`period_end`, `csm`, `tier`, `segment`, `in_business`)
			) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
		""",
	}
)

# Revenue Leakage's invoices (renewals.service: the leak table). One row per submitted Sales Invoice
# (not a credit note) that no signed contract of its customer covers, as the report classes it: its
# customer and current CS Owner, tier and lifecycle stage, posting date, kind, the contract it names,
# company, and its net amount in the company's currency less its credit notes. Kept exact by the
# invoice, contract, CS Owner, tier and stage writers and the nightly reconciliation; read by the
# report's listing (the largest first: of a book, a tier or a stage; or one customer's) and summed per
# day, CS Owner, tier and stage in `cs_revenue_leak_day`, which gives the report's totals.
# (A table made before the tier and stage were kept gets them from the patch v0_4.leak_tiers_and_stages.)
TABLES.update(
	{
		"cs_revenue_leak": """
			create table if not exists `cs_revenue_leak` (
				`invoice` varchar(140) not null,
				`customer` varchar(140) not null,
				`csm` varchar(140) not null default '',
				`tier` varchar(140) not null default '',
				`stage` varchar(140) not null default '',
				`posting_date` date not null,
				`kind` varchar(60) not null,
				`contract` varchar(140) null,
				`company` varchar(140) not null,
				`amount` decimal(21,9) not null default 0,
				primary key (`invoice`),
				key `customer` (`customer`, `posting_date`),
				key `csm_amount` (`csm`, `amount`, `posting_date`, `kind`, `company`),
				key `amount` (`amount`, `posting_date`, `kind`, `company`),
				key `tier_amount` (`tier`, `amount`, `posting_date`, `kind`, `company`),
				key `stage_amount` (`stage`, `amount`, `posting_date`, `kind`, `company`)
			) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
		""",
		"cs_revenue_leak_day": """
			create table if not exists `cs_revenue_leak_day` (
				`csm` varchar(140) not null default '',
				`tier` varchar(140) not null default '',
				`stage` varchar(140) not null default '',
				`kind` varchar(60) not null,
				`company` varchar(140) not null,
				`posting_date` date not null,
				`amount` decimal(30,9) not null default 0,
				`invoices` int not null default 0,
				primary key (`csm`, `posting_date`, `kind`, `company`, `tier`, `stage`)
			) engine=InnoDB default charset=utf8mb4 collate=utf8mb4_unicode_ci
		""",
	}
)


# Tables a reader takes as complete as soon as they exist: filled from the data in the same step
# that creates them (one grouped scan each), so a site installed or upgraded onto an existing book
# never reads an empty one while its first nightly fill is still to come. The others mark what they
# hold as complete themselves (retention points, trend periods) and are computed live until then.
FILL_ON_CREATE = {
	"cs_revenue_by_csm_day": "customer_success.renewals.service.reconcile_revenue_rollup",
	"cs_book_count": "customer_success.customer_success.book_counts.reconcile",
	# one fill makes both (the day sums are read from the leak table it writes)
	"cs_revenue_leak": "customer_success.renewals.service.reconcile_leaks",
	"cs_revenue_leak_day": "customer_success.renewals.service.reconcile_leaks",
}


def make_tables():
	"""Create the missing tables only (DDL commits the open transaction, and after_migrate runs in
	tests' transactions too), and fill those readers take as complete at once."""
	existing = existing_tables()
	created = [table for table in TABLES if table not in existing]
	for table in created:
		frappe.db.sql_ddl(TABLES[table])
	if created:
		frappe.local.cs_book_count_table = None  # book_counts.available() asks again
	for fill in dict.fromkeys(FILL_ON_CREATE[table] for table in created if table in FILL_ON_CREATE):
		frappe.get_attr(fill)()


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
