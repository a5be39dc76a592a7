"""Facts about Autotask and Billing Sync that several layers quote: one source for each.

Names and menu paths are written exactly as Autotask shows them. Plain constants, no imports,
so the lowest layer (wizard/autotask/) can use them too.
"""

from __future__ import annotations

# The Integration Vendor the distributor's integration code belongs to (the guide's words).
VENDOR_NAME = "Rhipe - Cloud Services"
DEFAULT_LEVEL_NAME = "API User (system) (API-only)"
SUGGESTED_LEVEL_NAME = "Crayon Integration"

# Menu paths.
USERS_PATH = "Admin > Resources (Users)"
LEVELS_PATH = "Admin > Account Settings & Users > Resources/Users > Security Levels"
API_ACTIVITY_PATH = (
    "Admin > Extensions & Integrations > Other Extensions & Tools > API Activity by Hour"
)
# Reference: https://ww15.autotask.net/help/content/3_Features/6_Contracts/AdminGeneral/ContractsConfigure.htm
# "only two are activated for all customers by default: Time & Materials, and Recurring Service
# contracts. You can enable all others on the Admin > Admin Categories > Activations page."
ACTIVATIONS_PATH = "Admin > Admin Categories > Activations"
BILLING_SYNC_CONNECTIONS_PATH = "Billing Sync > Configurations > Connections"

API_USER_HELP_URL = (
    "https://autotask.net/help/content/4_admin/1CompanySettings_Users/ResourcesUsersHR/"
    "Resources/API_User_Add_Edit.htm"
)
CONTRACTS_CONFIGURE_HELP_URL = (
    "https://ww15.autotask.net/help/content/3_Features/6_Contracts/AdminGeneral/"
    "ContractsConfigure.htm"
)
