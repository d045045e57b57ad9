"""Each alert task carries its alert's CSM and whether the alert is open (the CSM Workload counts a
book's overdue tasks from the tasks alone): fill them for the tasks already there."""


def execute():
	from customer_success.alerts.queries import sync_alert_csms

	sync_alert_csms()
