"""Indexes we add for the nightly reads and the reports (on ERPNext tables, and one on our score
history); dropped on uninstall."""

import frappe

# Indexes we add to ERPNext and frappe tables for the nightly health reads (ERPNext already
# indexes Issue.customer, Sales Invoice.customer and Communication's reference).
# The two covering indexes let the nightly aggregates over invoices and issues read the index
# alone instead of every row (see benchmarks/health_recompute.py for their effect and build time).
APP_INDEXES = (
	("Contract", ("party_type", "party_name"), "cs_party_index"),
	("Event Participants", ("reference_doctype", "reference_docname"), "cs_reference_index"),
	(
		"Sales Invoice",
		(
			"customer",
			"docstatus",
			"company",
			"posting_date",
			"due_date",
			"outstanding_amount",
			"conversion_rate",
			"base_grand_total",
			"base_net_total",
			# the overdue read (`queries.unpaid_invoice_arrears`) converts by these: from the index
			# alone, no row looked up per unpaid invoice
			"party_account_currency",
			"currency",
		),
		"cs_customer_billing_index",
	),
	(
		"Issue",
		("customer", "status", "priority", "opening_date", "agreement_status"),
		"cs_customer_support_index",
	),
	# The reports and cards over a book: grouped counts of customers per CSM and health status read
	# this index alone; a CSM's portfolio walks it a colour at a time, weakest first, and stops at
	# its page (the team's walks `cs_status_score_index` the same way).
	# Segment Performance groups a book (or the team) by tier and segment from it alone.
	(
		"Customer",
		(
			"cs_owner",
			"disabled",
			"cs_health_status",
			"cs_health_score",
			"cs_tier",
			"cs_lifecycle_stage",
			"cs_segment",
		),
		"cs_book_health_index",
	),
	# The Health Trend report reads a period's scores from this index alone (the table's own
	# indexes are made with the doctype; this one is the reports', added on migrate as well), and
	# the nightly write finds a day's rows by it. Compaction finds the daily rows before a day by it
	# too (the granularity last): the table has no other index by day for every row to pay for.
	(
		"Customer Health Score",
		("score_date", "customer", "status", "score", "granularity"),
		"cs_score_history_index",
	),
	# Engagement (`queries.touch_sources`): the last touch per customer is read from these indexes
	# alone, a communication about the customer (or a contact) by its reference, one on the
	# customer's timeline by its link (then its row by primary key, for its type and date).
	(
		"Communication",
		("reference_doctype", "reference_name", "communication_type", "communication_date"),
		"cs_reference_touch_index",
	),
	("Communication Link", ("link_doctype", "link_name", "parent"), "cs_link_touch_index"),
	("Dynamic Link", ("link_doctype", "link_name", "parenttype", "parent"), "cs_contact_link_index"),
	# The backtest finds the contracts ending in a period without reading every contract.
	("Contract", ("docstatus", "end_date", "party_type", "party_name"), "cs_contract_end_index"),
	# Each customer's latest contract end (renewing customers, the agreed-plan card) and the later
	# terms the backtest looks for, from the index alone.
	("Contract", ("party_type", "docstatus", "party_name", "end_date", "start_date"), "cs_party_term_index"),
	# Revenue Leakage: whether a signed contract covers an invoice's date, from the index alone (the
	# leak table's anti-join probes it once per invoice); and the contracts renewing by themselves.
	(
		"Contract",
		("party_type", "party_name", "docstatus", "is_signed", "start_date", "end_date"),
		"cs_party_signed_index",
	),
	(
		"Contract",
		("cs_auto_renew", "docstatus", "end_date", "party_type", "party_name"),
		"cs_auto_renew_index",
	),
	# The team's cards and charts over the whole book: counts by health status, tier and stage.
	# (narrow ones: a count reads every entry of its range, so the fewer bytes the faster)
	("Customer", ("disabled", "cs_health_status", "cs_owner"), "cs_status_index"),
	("Customer", ("disabled", "cs_health_status", "cs_health_score"), "cs_status_score_index"),
	("Customer", ("disabled", "cs_tier", "cs_owner"), "cs_tier_index"),
	("Customer", ("disabled", "cs_lifecycle_stage", "cs_owner"), "cs_stage_index"),
	# Alerts by week opened or resolved, open alerts by severity and per CSM, late playbook tasks.
	# (with `creation`: the weekly cap's count of a range's alerts raised in seven days, from the
	# index alone, however long the range's history; with `closed_on`, `auto_resolved` and `rule`:
	# the cool-down's alerts dismissed or resolved by hand, from the index alone too, where every
	# alert of the range was looked up in the table, ~26 ms of a chunk of 4,000 with 10,000 alerts)
	(
		"CS Alert",
		("customer", "status", "creation", "closed_on", "auto_resolved", "rule"),
		"cs_alert_customer_index",
	),
	# the nightly pass reads a range's open alerts from this index alone (no row is visited)
	(
		"CS Alert",
		("customer", "status", "rule", "severity", "snoozed_until", "evidence_digest"),
		"cs_alert_open_rule_index",
	),
	("CS Alert", ("creation", "customer"), "cs_alert_created_index"),
	("CS Alert", ("status", "closed_on", "customer"), "cs_alert_closed_index"),
	("CS Alert", ("status", "severity", "customer"), "cs_alert_open_index"),
	("CS Alert", ("status", "due_date", "customer"), "cs_alert_due_index"),
	# the CSM Workload's open alerts per CSM (the alerts' own `csm`, kept equal to the CS Owner)
	("CS Alert", ("status", "csm"), "cs_alert_csm_index"),
	("CS Alert Task", ("parenttype", "status", "due_date", "parent"), "cs_alert_task_due_index"),
	# the CSM Workload's overdue tasks per CSM, from the index alone (each task carries its alert's
	# CSM and whether the alert is open), in CSM order: counted per CSM as read, no temporary table;
	# a CSM's own are one range
	(
		"CS Alert Task",
		("parenttype", "alert_open", "status", "csm", "due_date"),
		"cs_alert_task_book_index",
	),
	# The renewal cards and the Renewals by Call chart: the open renewals of the window, with what
	# they count and sum, from the index alone (then each one's customer for its live health).
	(
		"Renewal",
		("status", "end_date", "customer", "latest_call", "revenue_at_stake"),
		"cs_renewal_window_index",
	),
	# Renewals by Month for the team: the period's renewals per month and signal, from the index alone.
	("Renewal", ("end_date", "status", "signal_status"), "cs_renewal_month_index"),
)


# Indexes earlier versions made and this one does not: dropped on migrate (and on uninstall).
# `cs_health_score_index` (the score alone, for the team's portfolio) was a third index every night's
# score changes had to move on each Customer (~20 ms of the server a chunk of 3,846, its purge
# included); the portfolio walks `cs_status_score_index` a colour at a time instead.
#
# The score history gets ~100,000 rows a night on a book of 100,000, each one an entry in every index
# of the table. The three below cost ~25 ms of a chunk's insert statement and ~85 ms of the
# server's CPU a chunk of 3,846 (dropped and made again, in turn, three times each: 103-120 ms
# against 130-140 ms for the insert, 572-652 ms against 667-708 ms of the server for the chunk). So
# the table keeps only the indexes something reads:
# - `modified`, which frappe makes on every table: the history is never read by it (its list sorts
#   by score, its reads go by day or by customer);
# - `csm`, the index of the CSM field (`search_index` until this version): nothing reads the
#   history by CSM but the list's filter, which goes with a day (or a customer) to be worth reading;
# - `score_date_granularity`, the doctype's own until this version: `cs_score_history_index` ends
#   with the granularity and serves compaction's reads by day.
OBSOLETE_INDEXES = (
	("Customer", "cs_health_score_index"),
	("Customer Health Score", "modified"),
	("Customer Health Score", "csm"),
	("Customer Health Score", "score_date_granularity"),
)


def make_indexes():
	"""Add each index; one made before with other columns is made again with its columns now, and
	the obsolete ones are dropped."""
	drop_obsolete_indexes()
	for doctype, fields, index_name in APP_INDEXES:
		columns = index_columns(f"tab{doctype}", index_name)
		if columns and columns != list(fields):
			frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{index_name}`")  # our constant names
		frappe.db.add_index(doctype, list(fields), index_name)


def index_columns(table: str, index_name: str) -> list[str]:
	"""The columns of an index of a table, in order ([] when there is no such index)."""
	rows = frappe.db.sql(f"show index from `{table}` where Key_name = %s", index_name, as_dict=True)
	return [row.Column_name for row in sorted(rows, key=lambda row: row.Seq_in_index)]


def drop_obsolete_indexes():
	for doctype, index_name in OBSOLETE_INDEXES:
		if frappe.db.has_index(f"tab{doctype}", index_name):
			frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{index_name}`")  # our constant names


def remove_indexes():
	drop_obsolete_indexes()
	for doctype, _fields, index_name in APP_INDEXES:
		if frappe.db.has_index(f"tab{doctype}", index_name):
			frappe.db.sql_ddl(f"alter table `tab{doctype}` drop index `{index_name}`")  # our constant names
