"""Benchmark: usage ingestion. Prints figures; asserts nothing; never part of CI.

Run on a throw-away site (it writes its own customers, metrics and usage rows, all named with
the CSBENCH prefix, and removes them at the end unless --keep):

    cd ~/frappe-bench/sites
    ../env/bin/python ../apps/customer_success/benchmarks/usage_ingest.py --site SITE \
        [--rows 100000] [--customers 1000] [--naive-sample 2000] [--keep]

It times, on the same rows:
  1. the ingestion path the API runs (`usage.service.ingest`: parse, one lookup of the batch's
     customers and one of its metrics, per-row checks, one multi-row upsert), batch by batch at
     the batch limit (5,000 rows), for --rows new rows;
  2. the same batches sent again: every row updates its (customer, metric, day), none is added;
  3. the naive way, one controller insert per row (`frappe.get_doc(...).insert()`), on a sample;
and prints rows/s for each and the ratio of the bulk path to the naive one.
"""

import argparse
import sys
import time

import frappe

PREFIX = "CSBENCH"
METRICS = (f"{PREFIX} Active Users", f"{PREFIX} API Calls")


def log(*args):
	print(*args, flush=True)


def make_customers(n: int) -> list[str]:
	from frappe.utils import now_datetime

	from customer_success.utils import leaf

	group, territory = leaf("Customer Group", "Commercial"), leaf("Territory")
	now = now_datetime()
	names = [f"{PREFIX} Usage Customer {i:06d}" for i in range(n)]
	existing = set(
		frappe.get_all("Customer", filters={"name": ("like", f"{PREFIX} Usage Customer %")}, pluck="name")
	)
	rows = [
		(name, name, "Company", group, territory, now, now, "Administrator", "Administrator", 0)
		for name in names
		if name not in existing
	]
	columns = "name, customer_name, customer_type, customer_group, territory, creation, modified, owner, modified_by, docstatus"
	for start in range(0, len(rows), 5000):
		part = rows[start : start + 5000]
		frappe.db.sql(
			f"insert into `tabCustomer` ({columns}) values {', '.join(['(' + ', '.join(['%s'] * 10) + ')'] * len(part))}",
			[value for row in part for value in row],
		)
	for metric in METRICS:
		if not frappe.db.exists("Usage Metric Definition", metric):
			frappe.get_doc(
				{
					"doctype": "Usage Metric Definition",
					"metric_name": metric,
					"aggregation": "Sum",
					"enabled": 1,
				}
			).insert(ignore_permissions=True)
	frappe.db.commit()  # nosemgrep
	return names


def make_rows(customers: list[str], total: int, first_day) -> list[dict]:
	"""`total` distinct (customer, metric, day) rows, as a feed would send them."""
	from frappe.utils import add_days

	per_day = len(customers) * len(METRICS)
	days = -(-total // per_day)
	rows = []
	for d in range(days):
		day = str(add_days(first_day, d))
		for customer in customers:
			for metric in METRICS:
				rows.append(
					{
						"customer": customer,
						"metric": metric,
						"date": day,
						"value": (d * 7) % 100,
						"source": "bench",
					}
				)
				if len(rows) == total:
					return rows
	return rows


def timed_ingest(rows: list[dict], batch: int) -> float:
	from customer_success.usage import service

	started = time.perf_counter()
	for start in range(0, len(rows), batch):
		result = service.ingest(rows[start : start + batch])
		if result["rejected"]:
			sys.exit(f"unexpected rejections: {result['rejected'][:3]}")
		frappe.db.commit()  # nosemgrep: as the API request commits each batch
	return time.perf_counter() - started


def timed_naive(rows: list[dict]) -> float:
	started = time.perf_counter()
	for row in rows:
		frappe.get_doc(
			{
				"doctype": "Customer Usage Metric",
				"customer": row["customer"],
				"metric": row["metric"],
				"usage_date": row["date"],
				"value": row["value"],
				"source": row["source"],
			}
		).insert(ignore_permissions=True)
	frappe.db.commit()  # nosemgrep
	return time.perf_counter() - started


def usage_rows(customers: list[str]) -> int:
	from customer_success.usage import queries

	return sum(queries.count_rows(customers[i : i + 1000]) for i in range(0, len(customers), 1000))


def cleanup(customers: list[str]):
	from customer_success.usage import queries

	for start in range(0, len(customers), 1000):
		queries.delete_usage_of(customers[start : start + 1000])
	frappe.db.sql("delete from `tabCustomer` where name like %s", (f"{PREFIX} Usage Customer %",))
	for metric in METRICS:
		frappe.delete_doc("Usage Metric Definition", metric, ignore_permissions=True, force=True)
	frappe.db.commit()  # nosemgrep


def main():
	parser = argparse.ArgumentParser(
		description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
	)
	parser.add_argument("--site", required=True)
	parser.add_argument("--rows", type=int, default=100_000)
	parser.add_argument("--customers", type=int, default=1000)
	parser.add_argument("--naive-sample", type=int, default=2000)
	parser.add_argument("--keep", action="store_true")
	args = parser.parse_args()

	frappe.init(site=args.site)
	frappe.connect()
	frappe.set_user("Administrator")
	if "customer_success" not in frappe.get_installed_apps():
		sys.exit("customer_success is not installed on this site")
	from frappe.utils import add_days, getdate, nowdate

	from customer_success.usage import service

	batch = service.batch_limit()
	log(
		f"== usage ingest benchmark on {args.site}: {args.rows} rows, {args.customers} customers, batches of {batch}"
	)
	customers = make_customers(args.customers)
	try:
		today = getdate(nowdate())
		rows = make_rows(
			customers, args.rows, add_days(today, -(args.rows // (args.customers * len(METRICS))) - 1)
		)
		seconds = timed_ingest(rows, batch)
		stored = usage_rows(customers)
		log(
			f"bulk ingest (new rows):   {len(rows)} rows in {seconds:.2f}s = {len(rows) / seconds:,.0f} rows/s ({stored} stored)"
		)
		again = timed_ingest(rows, batch)
		log(
			f"bulk ingest (re-sent):    {len(rows)} rows in {again:.2f}s = {len(rows) / again:,.0f} rows/s "
			f"({usage_rows(customers)} stored: none added)"
		)
		# the naive sample on days the bulk run did not touch, so every insert is a new row
		sample = [
			{**row, "date": str(add_days(getdate(row["date"]), -400))} for row in rows[: args.naive_sample]
		]
		naive = timed_naive(sample)
		naive_rate = len(sample) / naive
		log(f"naive per-row insert:     {len(sample)} rows in {naive:.2f}s = {naive_rate:,.0f} rows/s")
		log(f"ratio bulk / naive:       {(len(rows) / seconds) / naive_rate:,.1f}x")
		log(f"naive, projected to {len(rows)} rows: {len(rows) / naive_rate:,.0f}s")
	finally:
		if not args.keep:
			cleanup(customers)
			log("cleaned up")


if __name__ == "__main__":
	main()
