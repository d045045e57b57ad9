import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt, getdate, nowdate

from customer_success.renewals import engine
from customer_success.renewals import service as renewals

# Taken from the contract when the renewal is made, never changed afterwards.
CHECKPOINT_FIELDS = (
	"checkpoint",
	"due_date",
	"todo",
	"signal_status",
	"signal_score",
	"signal_trend",
	"signal_on",
)
TERM_FIELDS = (
	"source_type",
	"contract",
	"subscription",
	"customer",
	"end_date",
	"contract_start",
	"revenue_at_stake",
	"revenue_basis",
	"currency",
)
# What the CSM records on a checkpoint: final once the renewal is closed.
CALL_FIELDS = ("call", "expected_amount", "note", "recorded_on", "recorded_by")


class Renewal(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		from customer_success.renewals.doctype.renewal_checkpoint.renewal_checkpoint import RenewalCheckpoint

		auto_closed: DF.Check
		change_amount: DF.Currency
		change_type: DF.Literal["", "Expansion", "Flat", "Contraction", "Unknown"]
		checkpoints: DF.Table[RenewalCheckpoint]
		churn_note: DF.SmallText | None
		churn_reason: DF.Literal[
			"",
			"Price",
			"Budget Cut",
			"Competitor",
			"Product Fit",
			"Low Adoption",
			"Poor Support",
			"Champion Left",
			"Acquired or Merged",
			"Went out of Business",
			"Other",
		]
		closed_by: DF.Link | None
		closed_on: DF.Date | None
		contract: DF.Link | None
		contract_start: DF.Date | None
		csm: DF.Link | None
		currency: DF.Link | None
		customer: DF.Link | None
		customer_name: DF.Data | None
		disagreement: DF.Check
		end_date: DF.Date | None
		expected_amount: DF.Currency
		latest_call: DF.Literal["", "Will Renew", "At Risk", "Will Churn"]
		renewed_amount: DF.Currency
		renewed_contract: DF.Link | None
		renewed_order: DF.Link | None
		renewed_subscription: DF.Link | None
		revenue_at_stake: DF.Currency
		revenue_basis: DF.Data | None
		signal_score: DF.Float
		signal_status: DF.Literal["", "Green", "Yellow", "Red", "Insufficient Data"]
		signal_trend: DF.Float
		source_type: DF.Literal["Contract", "Subscription"]
		status: DF.Literal["Open", "Renewed", "Churned", "Cancelled"]
		subscription: DF.Link | None
		term_key: DF.Data | None
		weighted_revenue: DF.Currency

	# end: auto-generated types
	def validate(self):
		if self.is_new():
			self.set_from_source()
		else:
			self.keep_stored_fields()
		self.validate_checkpoints()
		self.set_latest_call()
		self.set_forecast()

	def on_update(self):
		renewals.close_todos([row.todo for row in self.checkpoints if row.call and row.todo])

	def set_from_source(self):
		self.source_type = self.source_type or engine.CONTRACT
		if self.source_type == engine.SUBSCRIPTION:
			self.contract = None
			self.set_from_subscription()
		else:
			self.subscription = None
			self.set_from_contract()
		if frappe.db.exists("Renewal", {"term_key": self.term_key}):
			frappe.throw(
				_("{0} {1} already has a renewal for the term ending {2}.").format(
					_(self.source_type),
					self.contract or self.subscription,
					frappe.format(self.end_date, "Date"),
				),
				frappe.DuplicateEntryError,
			)
		self.csm = self.csm or frappe.db.get_value("Customer", self.customer, "cs_owner")
		# a new renewal is open, worth what its source is, with the standard checkpoints: whatever
		# else was sent (a made-up outcome, worth or recording) is not taken
		renewals.prepare_new_renewal(self)

	def set_from_subscription(self):
		from customer_success.renewals import queries

		term = renewals.subscription_term(self.subscription) if self.subscription else None
		if not term or term.status not in engine.LIVE_SUBSCRIPTION_STATUSES:
			frappe.throw(
				_("Subscription must be a customer's subscription that is not cancelled or completed."),
				title=_("Invalid Subscription"),
			)
		if not term.term_end:
			frappe.throw(
				_(
					"Subscription {0} has no End Date and bills more often than yearly: it has no renewal term."
				).format(self.subscription)
			)
		self.customer = term.customer
		self.end_date = term.term_end
		self.contract_start = term.term_start
		self.term_key = queries.subscription_term_key(self.subscription, self.end_date)

	def set_from_contract(self):
		contract = frappe.db.get_value(
			"Contract",
			self.contract,
			["party_type", "party_name", "start_date", "end_date", "docstatus"],
			as_dict=True,
		)
		if not self.contract or not contract or contract.docstatus != 1 or contract.party_type != "Customer":
			frappe.throw(
				_("Contract must be a submitted contract with a customer."), title=_("Invalid Contract")
			)
		if not contract.end_date:
			frappe.throw(_("Contract {0} has no End Date: it has nothing to renew.").format(self.contract))
		self.customer = contract.party_name
		self.end_date = contract.end_date
		self.contract_start = contract.start_date
		self.term_key = f"{self.contract}|{getdate(self.end_date)}"

	def keep_stored_fields(self):
		"""The term and the outcome never come from a save: only the actions set the outcome."""
		before = self.get_doc_before_save()
		if not before:
			return
		for fieldname in (*TERM_FIELDS, "term_key"):
			self.set(fieldname, before.get(fieldname))
		if not self.flags.outcome_action:
			for fieldname in engine.OUTCOME_FIELDS:
				self.set(fieldname, before.get(fieldname))
		stored = {row.name: row for row in before.checkpoints}
		if {row.name for row in self.checkpoints} != set(stored):
			frappe.throw(
				_(
					"Checkpoints are set by the renewal itself: record a call on them, do not add or remove any."
				),
				title=_("Checkpoints"),
			)
		closed = before.status != engine.OPEN
		for row in self.checkpoints:
			old = stored[row.name]
			for fieldname in CHECKPOINT_FIELDS:
				row.set(fieldname, old.get(fieldname))
			if closed:
				# a closed renewal's calls are its history: a save never rewrites them
				for fieldname in CALL_FIELDS:
					row.set(fieldname, old.get(fieldname))
			elif renewals.call_changed(row, old):
				# a changed call (its amount or note too) is a new recording: dated and signed again
				# below, by whoever saves it
				row.recorded_on = row.recorded_by = None
			else:
				# who recorded a call, and when, is never written by a save
				row.recorded_on, row.recorded_by = old.get("recorded_on"), old.get("recorded_by")

	def validate_checkpoints(self):
		today = getdate(nowdate())
		for row in self.checkpoints:
			row.currency = self.currency
			if row.call and row.call not in engine.CALLS:
				frappe.throw(
					_("Row {0}: CSM's Call must be Will Renew, At Risk or Will Churn.").format(row.idx)
				)
			if flt(row.expected_amount) < 0:
				frappe.throw(_("Row {0}: Expected Amount cannot be negative.").format(row.idx))
			if row.call and not row.recorded_on:
				if self.status != engine.OPEN:
					frappe.throw(_("Renewal {0} is closed: its checkpoints are final.").format(self.name))
				row.recorded_on = today
				row.recorded_by = frappe.session.user
				if not row.signal_on:
					row.update(
						renewals.signal_values(self.customer_history(), min(getdate(row.due_date), today))
					)
			elif not row.call:
				row.recorded_on = row.recorded_by = None

	def customer_history(self):
		from frappe.utils import add_days

		from customer_success.renewals import queries

		today = getdate(nowdate())
		return queries.health_history([self.customer], add_days(today, -800), today).get(self.customer, [])

	def set_latest_call(self):
		latest = engine.latest_call([row.as_dict() for row in self.checkpoints])
		self.latest_call = latest.call if latest else None
		self.expected_amount = flt(latest.expected_amount) if latest else 0

	def set_forecast(self):
		health = (
			frappe.db.get_value(
				"Customer",
				self.customer,
				["cs_owner", "cs_health_status", "cs_health_score", "cs_health_trend"],
				as_dict=True,
			)
			or {}
		)
		self.csm = health.get("cs_owner") or self.csm
		self.signal_status = health.get("cs_health_status")
		self.signal_score = health.get("cs_health_score")
		self.signal_trend = health.get("cs_health_trend")
		self.disagreement = int(engine.is_disagreement(self.latest_call, self.signal_status))
		renewed = None if self.change_type == engine.UNKNOWN else self.renewed_amount
		self.weighted_revenue = engine.expected_revenue(
			self.revenue_at_stake, self.signal_status, self.status, renewed
		)
