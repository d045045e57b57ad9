import frappe
from frappe import _
from frappe.model.document import Document

from customer_success.alerts import engine


class CSPlaybook(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.alerts.doctype.cs_playbook_task.cs_playbook_task import CSPlaybookTask

		description: DF.SmallText | None
		enabled: DF.Check
		kind: DF.Literal["", "Risk", "Expansion", "Advocacy", "Lifecycle"]
		playbook_name: DF.Data
		tasks: DF.Table[CSPlaybookTask]
	# end: auto-generated types

	def validate(self):
		for task in self.tasks:
			if (task.offset_days or 0) < 0:
				frappe.throw(
					_("Row {0}: Due After (Days) must be zero or more (it is {1}).").format(
						task.idx, task.offset_days
					),
					title=_("Invalid Task"),
				)
			if task.assign_to not in engine.TASK_ROLES:
				frappe.throw(
					_("Row {0}: choose Who does the task ({1}).").format(
						task.idx, ", ".join(_(r) for r in engine.TASK_ROLES)
					),
					title=_("Invalid Task"),
				)
