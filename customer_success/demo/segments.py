"""Demo step: needs-based segments on the demo's customers, a plan template fitted to a segment,
and the lifecycle touchpoints of the shipped plan, planned over the last months (some done by the
demo's communications and check-ins, some missed) and today.

Called by demo.setup_demo as fn(registry, book); idempotent through the registry.
"""

import frappe
from frappe.utils import add_days, getdate, nowdate

from customer_success.customer_success.book_counts import recording
from customer_success.demo import remember
from customer_success.renewals.service import move_retention_parts
from customer_success.segments import service as segments
from customer_success.setup import defaults

SEGMENTS = (
	(
		"Self-Serve Growth",
		"Small teams that adopt on their own.",
		"Fast onboarding, in-product guidance, pooled webinars; little time with a CSM.",
	),
	(
		"Operational Efficiency",
		"Customers buying to cut process cost.",
		"Baselines of cycle time and cost per order, monthly progress on them, integration help.",
	),
	(
		"Regulated Enterprise",
		"Large customers under audit and compliance rules.",
		"Security reviews, audit trails, named support, an executive sponsor and quarterly reviews.",
	),
)
TIER_SEGMENT = {
	"SMB": "Self-Serve Growth",
	"Mid-Market": "Operational Efficiency",
	"Enterprise": "Operational Efficiency",
	"Strategic": "Regulated Enterprise",
}
SEGMENT_TEMPLATE = "Regulated Enterprise Onboarding"
# Days before today on which the daily job is replayed, so the demo has history.
REPLAY_DAYS = (120, 90, 60, 30, 0)


def make_demo_segments(registry, book):
	if registry.get(segments.RECORD):
		return
	defaults.make_default_segment_settings()
	customers = registry.get("Customer", [])
	if not customers:
		return
	for name, description, needs in SEGMENTS:
		if not frappe.db.exists(segments.SEGMENT, name):
			doc = frappe.get_doc(
				{
					"doctype": segments.SEGMENT,
					"segment_name": name,
					"description": description,
					"needs": needs,
				}
			)
			doc.insert(ignore_permissions=True)
			remember(registry, doc)
	_segment_template(registry)
	with recording(customers):  # the book roll-up takes the segments' difference
		for index, name in enumerate(customers):
			tier = frappe.db.get_value("Customer", name, "cs_tier")
			# one customer in seven has no segment yet: the report shows what is unsegmented
			segment = None if index % 7 == 6 else TIER_SEGMENT.get(tier)
			frappe.db.set_value("Customer", name, "cs_segment", segment, update_modified=False)
	move_retention_parts(customers)  # the retention roll-up's parts follow the segments
	today = getdate(nowdate())
	for days in REPLAY_DAYS:
		day = add_days(today, -days)
		segments.plan_touchpoints(day, customers=customers)
		segments.record_touches(day)
	for name in frappe.get_all(segments.RECORD, filters={"customer": ("in", customers)}, pluck="name"):
		remember(registry, frappe._dict(doctype=segments.RECORD, name=name))
	for name in frappe.get_all(
		"ToDo",
		filters={"reference_type": segments.RECORD, "reference_name": ("in", registry[segments.RECORD])},
		pluck="name",
	):
		remember(registry, frappe._dict(doctype="ToDo", name=name))


def _segment_template(registry):
	"""A plan template for the Strategic tier's Regulated Enterprise customers."""
	if frappe.db.exists("Success Plan Template", SEGMENT_TEMPLATE):
		return
	doc = frappe.get_doc(
		{
			"doctype": "Success Plan Template",
			"template_name": SEGMENT_TEMPLATE,
			"enabled": 1,
			"focus": "Onboarding",
			"tier": "Strategic",
			"segment": "Regulated Enterprise",
			"duration_days": 180,
			"description": "Onboarding under audit: security review first, then phased go-live.",
			"objectives": [
				{
					"objective": "Pass the security review",
					"metric": "Open findings",
					"unit": "findings",
					"direction": "Down",
					"default_baseline": 12,
					"default_target": 0,
				}
			],
			"milestones": [
				{"title": "Security review signed off", "offset_days": 30, "owner_role": "CSM"},
			],
		}
	)
	doc.insert(ignore_permissions=True)
	remember(registry, doc)
