"""Offer the Product Usage factor on sites installed before usage existed.

New installs ship it enabled in the Standard Health Model. A site's existing model is its users'
own: its scores must not move on an upgrade, so the factor is added to the shipped model there
disabled, with a weight to start from; a CS Manager enables it (and rebalances the weights) when
usage is flowing.
"""

import frappe

from customer_success.health import engine
from customer_success.setup.defaults import DEFAULT_MODEL_NAME


def execute():
	if not frappe.db.exists("Health Score Model", DEFAULT_MODEL_NAME):
		return
	model = frappe.get_doc("Health Score Model", DEFAULT_MODEL_NAME)
	if any(row.factor_type == engine.PRODUCT_USAGE for row in model.factors):
		return
	model.append("factors", {"factor_type": engine.PRODUCT_USAGE, "weight": 10, "enabled": 0})
	model.flags.ignore_permissions = True
	model.save()
