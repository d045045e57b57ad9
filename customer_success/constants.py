"""Names used across the rooms: roles, tiers, lifecycle stages, health statuses."""

CSM_ROLE = "Customer Success Manager"
CS_MANAGER_ROLE = "CS Manager"
ROLES = (CSM_ROLE, CS_MANAGER_ROLE)
# The role of the user a product's usage feed signs in as (API key and secret); no desk access.
USAGE_INTEGRATION_ROLE = "CS Usage Integration"

TIERS = ("Strategic", "Enterprise", "Mid-Market", "SMB")
LIFECYCLE_STAGES = ("Onboarding", "Adoption", "Value Realisation", "Renewal", "Expansion", "Churned")
CHURNED = LIFECYCLE_STAGES[-1]  # the stage of a customer who left
HEALTH_STATUSES = ("Green", "Yellow", "Red", "Insufficient Data")
SENTIMENTS = ("Very Positive", "Positive", "Neutral", "Concerned", "Critical")


# The ERPNext doctypes the CSM role is given a rule on whose records the book limits
# (`permissions.erp_book_query`), and their child tables (`permissions.erp_child_query`).
ERP_BOOK_DOCTYPES = (
	"Customer",
	"Sales Order",
	"Sales Invoice",
	"Issue",
	"Project",
	"Contract",
	"Opportunity",
	"Quotation",
	"Contact",
	"Address",
)
ERP_CHILD_DOCTYPES = (
	"Allowed To Transact With",
	"CRM Note",
	"Competitor Detail",
	"Contact Email",
	"Contact Phone",
	"Contract Fulfilment Checklist",
	"Customer Credit Limit",
	"Dynamic Link",
	"Opportunity Item",
	"Opportunity Lost Reason Detail",
	"Packed Item",
	"Party Account",
	"Payment Schedule",
	"Portal User",
	"Pricing Rule Detail",
	"Project User",
	"Quotation Item",
	"Quotation Lost Reason Detail",
	"Sales Invoice Advance",
	"Sales Invoice Item",
	"Sales Invoice Payment",
	"Sales Invoice Timesheet",
	"Sales Order Item",
	"Sales Taxes and Charges",
	"Sales Team",
)
