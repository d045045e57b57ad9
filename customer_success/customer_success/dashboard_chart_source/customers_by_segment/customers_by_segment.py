"""Active customers per tier or per lifecycle stage, scoped as the number cards are: a CSM's
chart counts her book, a CS Manager's the team."""

import frappe
from frappe import _
from frappe.utils import escape_html

from customer_success.constants import LIFECYCLE_STAGES, TIERS
from customer_success.customer_success.api import scope_label
from customer_success.permissions import book_of

# chart -> (Customer field, its values in order, the chart's title)
SEGMENTS = {
	"Customers by Tier": ("cs_tier", TIERS),
	"Customers by Lifecycle Stage": ("cs_lifecycle_stage", LIFECYCLE_STAGES),
}


@frappe.whitelist()
def get(chart_name: str | None = None, **kwargs) -> dict:
	frappe.has_permission("Customer", "read", throw=True)
	if chart_name not in SEGMENTS:
		frappe.throw(_("Chart {0} does not count customers by segment.").format(escape_html(str(chart_name))))
	field, values = SEGMENTS[chart_name]
	csm = book_of()
	counts = segment_counts(field, csm)
	present = [value for value in values if counts.get(value)]
	return {
		"labels": [_(value) for value in present],
		"datasets": [{"name": _("Customers"), "values": [counts[value] for value in present]}],
		"label": _("{0} ({1})").format(_(chart_name), scope_label(csm)),
	}


def segment_counts(field: str, csm: str | None) -> dict[str, int]:
	from customer_success.customer_success import book_counts

	if book_counts.usable():
		return book_counts.segment_counts(field, csm)
	filters = {"disabled": 0, field: ("is", "set")}
	if csm:
		filters["cs_owner"] = csm
	rows = frappe.get_list(
		"Customer",
		fields=[f"{field} as segment", "count(name) as count"],
		filters=filters,
		group_by=field,
		order_by=field,
	)
	return {row.segment: int(row.count) for row in rows}
