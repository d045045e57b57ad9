"""The NPS factor has a data source now (NPS Response): offer it on the shipped model.

Sites installed before it got the Standard Health Model without an NPS row. The row is added
disabled, so no score changes until an administrator weighs it in; a model that already has an
NPS row (or a site that deleted the shipped model) is left alone.
"""

import frappe

from customer_success.setup.defaults import DEFAULT_MODEL_NAME, default_model

NPS = "NPS"


def execute():
	if not frappe.db.exists("Health Score Model", DEFAULT_MODEL_NAME):
		return
	model = frappe.get_doc("Health Score Model", DEFAULT_MODEL_NAME)
	if any(row.factor_type == NPS for row in model.factors):
		return
	shipped = next(row for row in default_model()["factors"] if row["factor_type"] == NPS)
	model.append("factors", {**shipped, "enabled": 0})
	model.flags.ignore_permissions = True
	model.save()
