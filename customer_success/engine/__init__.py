"""The pure domain core of customer_success.

Plain data in, plain data out. Nothing in this package imports frappe, so the same functions
serve the form, the nightly job and the reports, and are unit-tested without a database.
"""
