"""The Customer form's connections: our documents next to ERPNext's."""

from frappe import _

# (group label, [doctypes linked to the customer by a field named `customer`])
CONNECTIONS = [
	(
		_("Customer Success"),
		[
			"Customer Health Score",
			"Sales Handoff",
			"Success Plan",
			"Success Plan Milestone",
			"Business Review",
		],
	),
]


def get_dashboard_data(data: dict) -> dict:
	data = data or {}
	data.setdefault("transactions", [])
	data.setdefault("non_standard_fieldnames", {})
	for label, doctypes in CONNECTIONS:
		data["transactions"].append({"label": label, "items": list(doctypes)})
	return data
