"""What ``entityInformation`` tells about the emulated entities: fields, picklists, verbs.

Field names, data types and picklist shapes follow the REST swagger models quoted in
/work/shared/reference/autotask-rest-api.md sections 3.5 and 4. Picklist *values* other than
Recurring Service = 7 are not officially confirmed (reference section 4.2); they are the common
mapping, served as strings exactly as the real API serves them. The query engine
(``query.py``) coerces filter values by these field types.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

JsonDict = dict[str, Any]

# Picklist values as the API serves them: strings, even for integer fields.
# Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
CONTRACT_TYPES: dict[str, str] = {
    "1": "Time and Materials",
    "3": "Fixed Price",
    "4": "Block Hours",
    "6": "Retainer",
    "7": "Recurring Service",
    "8": "Per Ticket",
}
CONTRACT_STATUSES: dict[str, str] = {"0": "Inactive", "1": "Active"}
COMPANY_TYPES: dict[str, str] = {
    "1": "Customer",
    "2": "Lead",
    "3": "Prospect",
    "4": "Dead",
    "6": "Cancellation",
    "7": "Vendor",
    "8": "Partner",
}
# Tenant-defined picklists: plausible values, nothing the wizard may hard-code.
CONTRACT_CATEGORIES: dict[str, str] = {"1": "Standard", "2": "Managed Services", "3": "Cloud"}
BILLING_PREFERENCES: dict[str, str] = {"1": "Manually", "2": "Immediately", "3": "Timesheet"}
# DJAT's fixture carries "m" for a monthly contract although the swagger types it as int32.
CONTRACT_PERIOD_TYPES: dict[str, str] = {
    "m": "Monthly",
    "q": "Quarterly",
    "s": "Semi-Annual",
    "y": "Yearly",
}
SERVICE_PERIOD_TYPES: dict[str, str] = {
    "1": "Monthly",
    "2": "Quarterly",
    "3": "Semi-Annual",
    "4": "Yearly",
}

RECURRING_SERVICE = 7
TIME_AND_MATERIALS = 1
FIXED_PRICE = 3
BLOCK_HOURS = 4
ACTIVE = 1
INACTIVE = 0
CUSTOMER, LEAD, PROSPECT, DEAD, CANCELLATION, VENDOR, PARTNER = 1, 2, 3, 4, 6, 7, 8

# --- field metadata --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One entry of ``entityInformation/fields``; ``data_type`` also drives filter coercion."""

    name: str
    data_type: str  # integer, long, decimal, double, string, datetime, boolean
    length: int = 0
    required: bool = False
    read_only: bool = False
    queryable: bool = True
    reference: str | None = None
    picklist: Mapping[str, str] | None = None
    default_value: str | None = None

    def as_json(self, inactive: Collection[str] = ()) -> JsonDict:
        """The field as entityInformation/fields describes it; ``inactive``: picklist values
        this tenant has not activated (e.g. contract types on a new tenant)."""
        values = [
            {
                "value": value,
                "label": label,
                "isDefaultValue": value == self.default_value,
                "sortOrder": order,
                "parentValue": "",
                "isActive": value not in inactive,
                "isSystem": True,
            }
            for order, (value, label) in enumerate((self.picklist or {}).items(), start=1)
        ]
        return {
            "name": self.name,
            "dataType": self.data_type,
            "length": self.length,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isQueryable": self.queryable,
            "isReference": self.reference is not None,
            "referenceEntityType": self.reference or "",
            "isPickList": self.picklist is not None,
            "picklistValues": values if self.picklist is not None else None,
            "picklistParentValueField": "",
            "isSupportedWebhookField": False,
        }


def _f(name: str, data_type: str, **kwargs: Any) -> FieldSpec:
    return FieldSpec(name, data_type, **kwargs)


_ID = _f("id", "long", required=True, read_only=True)
_UDF = _f("userDefinedFields", "string", read_only=True, queryable=False)

ENTITY_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "Companies": (
        _ID,
        _f("companyName", "string", length=100, required=True),
        _f("companyNumber", "string", length=50),
        _f("companyType", "integer", required=True, picklist=COMPANY_TYPES, default_value="1"),
        _f("isActive", "boolean", required=True),
        _f("ownerResourceID", "integer", required=True, reference="Resource"),
        _f("parentCompanyID", "integer", reference="Company"),
        _f("phone", "string", length=25, required=True),
        _f("city", "string", length=50),
        _f("postalCode", "string", length=20),
        _f("webAddress", "string", length=255),
        _f("createDate", "datetime", read_only=True),
        _f("lastActivityDate", "datetime", read_only=True),
        _UDF,
    ),
    "Contracts": (
        _ID,
        _f("companyID", "integer", required=True, reference="Company"),
        _f("contractName", "string", length=100, required=True),
        _f("contractNumber", "string", length=50),
        _f("contractType", "integer", required=True, picklist=CONTRACT_TYPES),
        _f("contractCategory", "integer", picklist=CONTRACT_CATEGORIES),
        _f("status", "integer", required=True, picklist=CONTRACT_STATUSES, default_value="1"),
        _f("startDate", "datetime", required=True),
        _f("endDate", "datetime", required=True),
        _f("billingPreference", "integer", picklist=BILLING_PREFERENCES),
        _f("contractPeriodType", "string", read_only=True, picklist=CONTRACT_PERIOD_TYPES),
        _f("isDefaultContract", "boolean", required=True),
        _f("description", "string", length=2000),
        _f("estimatedRevenue", "decimal"),
        _f("setupFee", "decimal"),
        _f("serviceLevelAgreementID", "integer"),
        _f("timeReportingRequiresStartAndStopTimes", "integer", required=True),
        _f("purchaseOrderNumber", "string", length=50),
        _f("lastModifiedDateTime", "datetime", read_only=True),
        _UDF,
    ),
    "ContractServices": (
        _ID,
        _f("contractID", "integer", required=True, reference="Contract"),
        _f("serviceID", "integer", required=True, reference="Service"),
        _f("unitPrice", "decimal", required=True),
        _f("unitCost", "decimal"),
        _f("internalCurrencyUnitPrice", "decimal", read_only=True),
        _f("internalCurrencyAdjustedPrice", "decimal", read_only=True),
        _f("invoiceDescription", "string", length=1000),
        _f("internalDescription", "string", length=100),
        _f("quoteItemID", "long", reference="QuoteItem"),
    ),
    "ContractServiceUnits": (
        _ID,
        _f("contractID", "integer", read_only=True, reference="Contract"),
        _f("contractServiceID", "integer", read_only=True, reference="ContractService"),
        _f("serviceID", "integer", read_only=True, reference="Service"),
        _f("startDate", "datetime", read_only=True),
        _f("endDate", "datetime", read_only=True),
        _f("units", "integer", read_only=True),
        _f("price", "decimal", read_only=True),
        _f("cost", "decimal", read_only=True),
        _f("internalCurrencyPrice", "decimal", read_only=True),
        _f("approveAndPostDate", "datetime", read_only=True),
        _f("organizationalLevelAssociationID", "integer", read_only=True),
        _f("vendorCompanyID", "integer", read_only=True, reference="Company"),
    ),
    "Services": (
        _ID,
        _f("name", "string", length=150, required=True),
        _f("description", "string", length=400),
        _f("invoiceDescription", "string", length=1000),
        _f("unitCost", "decimal"),
        _f("unitPrice", "decimal", required=True),
        _f("markupRate", "decimal"),
        _f("periodType", "integer", required=True, picklist=SERVICE_PERIOD_TYPES),
        _f("isActive", "boolean", required=True),
        _f("billingCodeID", "integer", required=True, reference="BillingCode"),
        _f("serviceLevelAgreementID", "integer"),
        _f("vendorCompanyID", "integer", reference="Company"),
        _f("createDate", "datetime", read_only=True),
        _f("lastModifiedDate", "datetime", read_only=True),
        _UDF,
    ),
    "Products": (
        _ID,
        _f("name", "string", length=100, required=True),
        _f("description", "string", length=2000),
        _f("sku", "string", length=50),
        _f("unitCost", "decimal"),
        _f("unitPrice", "decimal"),
        _f("msrp", "decimal"),
        _f("markupRate", "decimal"),
        _f("periodType", "integer", picklist=SERVICE_PERIOD_TYPES),
        _f("productCategory", "integer"),
        _f("isActive", "boolean", required=True),
        _f("isSerialized", "boolean", required=True),
        _f("manufacturerName", "string", length=100),
        _f("manufacturerProductName", "string", length=100),
        _f("vendorProductNumber", "string", length=50),
        _f("defaultVendorID", "integer", reference="Company"),
        _UDF,
    ),
}


@dataclass(frozen=True)
class EntityCapabilities:
    """The entity-level ``can*`` flags of ``entityInformation`` (not the user's rights)."""

    singular: str
    can_create: bool
    can_update: bool
    can_delete: bool
    has_udfs: bool


# Verbs per entity from the swagger collection (reference section 3.1 and 4).
ENTITY_CAPABILITIES: dict[str, EntityCapabilities] = {
    "Companies": EntityCapabilities("Company", True, True, False, True),
    "Contracts": EntityCapabilities("Contract", True, True, False, True),
    "ContractServices": EntityCapabilities("ContractService", True, True, True, False),
    "ContractServiceUnits": EntityCapabilities("ContractServiceUnit", False, False, False, False),
    "Services": EntityCapabilities("Service", True, True, False, True),
    "Products": EntityCapabilities("Product", True, True, True, True),
}
ENTITIES: tuple[str, ...] = tuple(ENTITY_CAPABILITIES)

#: Entity names by their lower-case spelling: paths and field names match in any case.
ENTITY_BY_LOWER: Final = {name.lower(): name for name in ENTITIES}
