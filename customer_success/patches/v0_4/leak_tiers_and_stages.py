"""Revenue Leakage's leak table keeps each leak's tier and lifecycle stage (its customer's), indexed
largest first per tier and per stage, and its day sums are kept per tier and stage too, so the report
with a tier or stage filter reads them instead of summing the leaks of a quarter of the book. On a
site whose leak table was made before: the two columns added and filled from the customers (one
UPDATE), the two indexes built, and the day sums made again from the table (one grouped read). A site
without the table gets it whole from after_migrate."""

import frappe

from customer_success.setup import rollups

LEAKS, DAYS = "cs_revenue_leak", "cs_revenue_leak_day"


def has_column(table: str, column: str) -> bool:
	return bool(frappe.db.sql(f"show columns from `{table}` like %s", column))  # our constant names


def execute():
	existing = rollups.existing_tables()
	if LEAKS not in existing:
		return
	if not has_column(LEAKS, "tier"):
		frappe.db.sql_ddl(
			f"""alter table `{LEAKS}`
			add column `tier` varchar(140) not null default '' after `csm`,
			add column `stage` varchar(140) not null default '' after `tier`"""
		)
		frappe.db.sql(
			f"""update `{LEAKS}` l join `tabCustomer` c on c.`name` = l.`customer`
			set l.`tier` = ifnull(c.`cs_tier`, ''), l.`stage` = ifnull(c.`cs_lifecycle_stage`, '')"""
		)
		frappe.db.commit()  # nosemgrep: the filled columns before the indexes are built on them
		frappe.db.sql_ddl(
			f"""alter table `{LEAKS}`
			add key `tier_amount` (`tier`, `amount`, `posting_date`, `kind`, `company`),
			add key `stage_amount` (`stage`, `amount`, `posting_date`, `kind`, `company`)"""
		)
	if DAYS in existing and not has_column(DAYS, "tier"):
		frappe.db.sql_ddl(f"drop table `{DAYS}`")
		frappe.db.sql_ddl(rollups.TABLES[DAYS])
		keys = "`csm`, `tier`, `stage`, `posting_date`, `kind`, `company`"
		frappe.db.sql(
			f"""insert into `{DAYS}` ({keys}, `amount`, `invoices`)
			select {keys}, sum(`amount`), count(*) from `{LEAKS}` group by {keys}"""
		)
		frappe.db.commit()  # nosemgrep: the day sums made again are one unit of work
