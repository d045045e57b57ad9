"""Demo step: two CS maturity assessments a quarter apart, proposed from the demo's data, the older
one with a CS Manager's adjustments (as a team starting out would rate itself).

Called by demo.setup_demo as fn(registry, book); idempotent through the registry.
"""

import frappe
from frappe.utils import add_days, nowdate

from customer_success.demo import remember
from customer_success.maturity import engine
from customer_success.maturity import service as maturity

# (days ago, {area: (adjusted level, note)})
ASSESSMENTS = (
	(
		91,
		{
			engine.LEADERSHIP: (2, "The executive team has not yet reviewed CS outcomes with us."),
			engine.SEGMENTATION: (2, "Segments were drafted this quarter and are not used in planning yet."),
		},
	),
	(0, {engine.LEADERSHIP: (3, "The COO now joins the quarterly review of the CS numbers.")}),
)


def make_demo_assessments(registry, book):
	if registry.get(maturity.ASSESSMENT):
		return
	for days_ago, adjustments in ASSESSMENTS:
		doc = frappe.get_doc(
			{"doctype": maturity.ASSESSMENT, "assessment_date": add_days(nowdate(), -days_ago)}
		)
		doc.insert(ignore_permissions=True)
		for row in doc.capabilities:
			if row.area in adjustments:
				row.adjusted_level, row.note = adjustments[row.area]
		doc.save(ignore_permissions=True)
		remember(registry, doc)
