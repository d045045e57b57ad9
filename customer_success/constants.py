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
