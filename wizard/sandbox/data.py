"""The sandbox tenant's seeded records, relative to ``today`` (a data table).

Everything here is deterministic and relative to a ``today`` date, so the demo never goes stale:
the contracts in ``DEMO_CONTRACTS`` always start, end and straddle the first usage dates the
wizard computes (1st of last month for "most recent invoice", 1st of this month for "next").
The fields and picklist values are those of ``entities.py``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from wizard.autotask.dates import local_date, local_midnight
from wizard.sandbox.entities import (
    ACTIVE,
    BLOCK_HOURS,
    CANCELLATION,
    CUSTOMER,
    DEAD,
    ENTITIES,
    FIXED_PRICE,
    INACTIVE,
    LEAD,
    PARTNER,
    PROSPECT,
    RECURRING_SERVICE,
    TIME_AND_MATERIALS,
    VENDOR,
    JsonDict,
)

OWN_COMPANY_ID = 0
OWN_COMPANY_NAME = "Northwind IT Services"


# --- dates -----------------------------------------------------------------------------------


def month_start(today: date, offset: int) -> date:
    """The 1st of the month ``offset`` months from today's month."""
    index = today.year * 12 + (today.month - 1) + offset
    return date(index // 12, index % 12 + 1, 1)


#: The sandbox tenant's time zone unless a scenario says otherwise: the distributor's home market.
DEFAULT_TIME_ZONE = "Australia/Sydney"


def at_date(
    value: date | None, time_zone: str = DEFAULT_TIME_ZONE, *, fractional: bool = False
) -> str | None:
    """A date as Autotask serialises a date-only field: the UTC instant of local midnight."""
    # Reference: "Corrections (December 2026)" point 2 of the reference: a contract starting
    # 24 February in Sydney is "2020-02-23T13:00:00Z" (DJAT fixture), a US Eastern date
    # "2012-08-27T05:00:00.000Z"; fractional seconds may or may not be present.
    return None if value is None else local_midnight(value, time_zone, fractional=fractional)


def _end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- the demo contracts ----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoContract:
    """A hand-made contract and the rule of the wizard it exercises.

    Dates are rules relative to today: ``start`` is (months from this month, day of month);
    ``end_before`` is a month offset whose 1st the contract ends the day before.
    """

    company_id: int
    name: str
    contract_type: int
    status: int
    start: tuple[int, int]
    end_before: int
    exercises: str
    expected: str

    def start_date(self, today: date) -> date:
        months, day = self.start
        return month_start(today, months) + timedelta(days=day - 1)

    def end_date(self, today: date) -> date:
        return month_start(today, self.end_before) - timedelta(days=1)


DEMO_COMPANIES: dict[int, tuple[str, int, bool]] = {
    # id: (companyName, companyType, isActive)
    101: ("Contoso Ltd", CUSTOMER, True),
    102: ("Fabrikam Inc", CUSTOMER, True),
    103: ("Tailspin Toys", CUSTOMER, True),
    104: ("<b>Acme & Sons</b>", CUSTOMER, True),
    105: ("Adventure Works", CUSTOMER, True),
    106: ("Wingtip Toys", CUSTOMER, True),
    107: ("Fourth Coffee", CUSTOMER, True),
    108: ("Proseware Inc", CUSTOMER, True),
    109: ("Woodgrove Bank", CUSTOMER, True),
    110: ("Litware Inc", CUSTOMER, False),
    111: ("Alpine Ski House", CUSTOMER, True),
    112: ("Coho Winery", CUSTOMER, True),
    113: ("Lucerne Publishing", PROSPECT, True),
    114: ("Contoso Pharmaceuticals", PROSPECT, True),
    115: ("Trey Research", VENDOR, True),
    116: ("Blue Yonder Airlines", LEAD, True),
    117: ("Margie's Travel", DEAD, False),
    118: ("Humongous Insurance", CANCELLATION, False),
    119: ("VanArsdel Ltd", PARTNER, True),
}

GOOD_RECURRING = "Recurring Service, active, starts on the 1st a year ago, ends in 2 years"

DEMO_CONTRACTS: dict[int, DemoContract] = {
    2001: DemoContract(
        101, "Contoso - Managed Cloud", RECURRING_SERVICE, ACTIVE, (-12, 1), 24,
        f"{GOOD_RECURRING}; one of three customers for the 3-customer verification",
        "pass",
    ),
    2002: DemoContract(
        102, "Fabrikam - Cloud Subscriptions", RECURRING_SERVICE, ACTIVE, (-12, 1), 24,
        f"{GOOD_RECURRING}; second customer", "pass",
    ),
    2003: DemoContract(
        103, "Tailspin - Microsoft 365", RECURRING_SERVICE, ACTIVE, (-12, 1), 24,
        f"{GOOD_RECURRING}; third customer", "pass",
    ),
    2004: DemoContract(
        104, 'Managed <i>Cloud</i> & "Licensing"', RECURRING_SERVICE, ACTIVE, (-12, 1), 24,
        "Markup in company and contract names: must be shown escaped", "pass",
    ),
    2005: DemoContract(
        105, "Adventure Works - Cloud", RECURRING_SERVICE, ACTIVE, (-12, 15), 24,
        "Starts on the 15th, not the 1st: the first invoice is prorated", "warn (proration)",
    ),
    2006: DemoContract(
        106, "Wingtip - Cloud Services", RECURRING_SERVICE, ACTIVE, (1, 1), 25,
        "Starts on the 1st of next month, after both possible first usage dates",
        "fail (starts after the first usage date)",
    ),
    2007: DemoContract(
        107, "Fourth Coffee - Cloud", RECURRING_SERVICE, ACTIVE, (0, 1), 24,
        "Starts on the 1st of this month: fine for 'next invoice', too late for 'most recent'",
        "pass with 'next', fail with 'most recent'",
    ),
    2008: DemoContract(
        108, "Proseware - Cloud (old)", RECURRING_SERVICE, ACTIVE, (-24, 1), -1,
        "End date has passed (ended the last day of the month before last)",
        "fail (ended)",
    ),
    2009: DemoContract(
        109, "Woodgrove - Cloud", RECURRING_SERVICE, INACTIVE, (-12, 1), 24,
        "Recurring Service with status Inactive", "fail (inactive)",
    ),
    2010: DemoContract(
        110, "Litware - Cloud", RECURRING_SERVICE, ACTIVE, (-12, 1), 24,
        "Good contract, but its company is inactive", "fail (company inactive)",
    ),
    2011: DemoContract(
        111, "Alpine Ski House - T&M", TIME_AND_MATERIALS, ACTIVE, (-12, 1), 24,
        "Time and Materials: the wrong contract type for Billing Sync",
        "fail (wrong type)",
    ),
    2012: DemoContract(
        101, "Contoso - Seat Based Annual", FIXED_PRICE, ACTIVE, (-3, 1), 9,
        "Fixed Price, active, current year: a good Seat Based Annual contract",
        "pass (annual step)",
    ),
    2013: DemoContract(
        112, "Coho Winery - Annual (expired)", FIXED_PRICE, ACTIVE, (-15, 1), -3,
        "Fixed Price whose end date has passed", "fail (annual step: ended)",
    ),
    2014: DemoContract(
        103, "Tailspin - Project Hours", BLOCK_HOURS, ACTIVE, (-6, 1), 6,
        "Block Hours: neither Recurring Service nor Fixed Price", "fail (wrong type)",
    ),
}  # fmt: skip

# --- generated data --------------------------------------------------------------------------

_PREFIXES = (
    "Blue", "Harbor", "Summit", "Cedar", "Silver", "Granite", "Maple", "River", "Oak", "Pine",
    "Coastal", "Northern", "Golden", "Lakeside", "Redwood", "Valley", "Bright", "Iron", "Clear",
    "Eastside",
)  # fmt: skip
_NOUNS = (
    "Dental", "Legal", "Logistics", "Accounting", "Engineering", "Clinic", "Architects",
    "Bakery", "Motors", "Realty", "Pharmacy", "Consulting", "Builders", "Media", "Foods",
    "Veterinary", "Insurance", "Freight", "Studios", "Labs", "Printing", "Hotels", "Farms",
    "Outfitters", "Electric", "Plumbing", "Academy", "Partners", "Energy", "Health",
)  # fmt: skip
_SUFFIXES = ("Pty Ltd", "LLC", "Group", "& Co", "Ltd")
GENERATED_COMPANY_COUNT = len(_PREFIXES) * len(_NOUNS)  # 600 distinct names
TOTAL_COMPANIES = 1 + len(DEMO_COMPANIES) + GENERATED_COMPANY_COUNT  # 620

_SERVICES: tuple[tuple[str, str, float, float], ...] = (
    # (name, description, unitCost, unitPrice); PC_<SKU> is how Billing Sync names its services.
    ("PC_CFQ7TTC0LF8R", "Microsoft 365 Business Premium", 22.0, 26.4),
    ("PC_CFQ7TTC0LDPB", "Microsoft 365 Business Basic", 6.0, 7.2),
    ("PC_CFQ7TTC0LCHC", "Microsoft 365 Business Standard", 12.5, 15.0),
    ("PC_CFQ7TTC0LFLX", "Microsoft 365 E3", 36.0, 43.2),
    ("PC_CFQ7TTC0LFK5", "Microsoft 365 E5", 57.0, 68.4),
    ("PC_CFQ7TTC0LH18", "Exchange Online (Plan 1)", 4.0, 4.8),
    ("PC_CFQ7TTC0LHSF", "Microsoft Defender for Business", 3.0, 3.6),
    ("PC_CFQ7TTC0LH16", "Teams Phone Standard", 8.0, 9.6),
    ("PC_CFQ7TTC0HDG3", "Power BI Pro", 10.0, 12.0),
    ("PC_CFQ7TTC0LGZW", "Visio Plan 2", 15.0, 18.0),
    ("PC_CFQ7TTC0HCWT", "Project Plan 3", 30.0, 36.0),
    ("PC_CFQ7TTC0LHVK", "Entra ID P1", 6.0, 7.2),
    ("PC_CFQ7TTC0LHWM", "Intune Plan 1", 8.0, 9.6),
    ("PC_AZURE_PLAN", "Azure plan consumption", 0.0, 0.0),
    ("PC_DYN365_BC_ESS", "Dynamics 365 Business Central Essentials", 70.0, 84.0),
    ("PC_ACRONIS_CB", "Acronis Cyber Protect Cloud - per workload", 4.5, 6.0),
    ("PC_DROPBOX_BIZ", "Dropbox Business Standard", 15.0, 18.0),
    ("PC_ADOBE_CCT", "Adobe Creative Cloud for Teams", 72.0, 86.4),
    ("PC_KEEPER_BIZ", "Keeper Business", 3.75, 4.5),
    ("PC_WEBROOT_EP", "Webroot Endpoint Protection", 2.1, 3.0),
    ("Managed Workstation", "Per-seat workstation management", 18.0, 35.0),
    ("Managed Server", "Per-server management", 60.0, 120.0),
    ("Managed Firewall", "Firewall monitoring and updates", 25.0, 55.0),
    ("Backup - Server", "Server image backup", 20.0, 45.0),
    ("Backup - Microsoft 365", "Mailbox and OneDrive backup", 2.0, 4.0),
    ("Email Security", "Inbound filtering and archiving", 1.8, 3.5),
    ("Security Awareness Training", "Phishing simulation per user", 1.5, 3.0),
    ("Help Desk - Unlimited", "Unlimited remote support per user", 30.0, 65.0),
    ("DNS Filtering", "DNS-layer protection per device", 1.2, 2.5),
    ("Password Manager", "Per-user password vault", 2.5, 4.0),
)

_PRODUCTS: tuple[tuple[str, str, str, float, float], ...] = (
    # (name, sku, manufacturer, unitCost, unitPrice)
    ("Business Laptop 14in", "LT-14-BIZ", "Contoso Devices", 780.0, 999.0),
    ("Business Laptop 16in", "LT-16-BIZ", "Contoso Devices", 980.0, 1249.0),
    ("Desktop Mini PC", "PC-MINI-01", "Contoso Devices", 520.0, 699.0),
    ("27in Monitor", "MON-27-QHD", "Fabrikam Displays", 210.0, 299.0),
    ("24in Monitor", "MON-24-FHD", "Fabrikam Displays", 120.0, 179.0),
    ("USB-C Dock", "DOCK-USBC-1", "Fabrikam Displays", 140.0, 199.0),
    ("Wireless Keyboard and Mouse", "KBM-WL-01", "Tailspin Peripherals", 35.0, 59.0),
    ("Headset with Microphone", "HS-USB-02", "Tailspin Peripherals", 45.0, 79.0),
    ("24-port PoE Switch", "SW-24-POE", "Litware Networks", 410.0, 599.0),
    ("Wi-Fi 6 Access Point", "AP-WIFI6-01", "Litware Networks", 160.0, 249.0),
    ("Next-Gen Firewall", "FW-NG-100", "Litware Networks", 690.0, 999.0),
    ("UPS 1500VA", "UPS-1500", "Proseware Power", 280.0, 399.0),
    ("NAS 4-bay", "NAS-4BAY", "Proseware Storage", 450.0, 649.0),
    ("4TB NAS Drive", "HDD-4TB-NAS", "Proseware Storage", 95.0, 139.0),
    ("Rack Server 1U", "SRV-1U-01", "Contoso Devices", 2400.0, 3299.0),
    ("Server RAM 32GB", "RAM-32-ECC", "Contoso Devices", 130.0, 189.0),
    ("Labour - Installation (hour)", "LAB-INSTALL", "Northwind IT Services", 55.0, 140.0),
    ("Cabling - per point", "CAB-POINT", "Northwind IT Services", 40.0, 95.0),
    ("Windows 11 Pro Upgrade", "OS-W11-PRO", "Microsoft", 99.0, 129.0),
    ("Office LTSC Standard", "OFF-LTSC-STD", "Microsoft", 330.0, 429.0),
)


@dataclass
class Dataset:
    """Every seeded record, by entity then id, plus the date and time zone it was built for.

    Date-only fields hold the UTC instant of local midnight in ``time_zone``, as Autotask
    serves them; ``fractional`` writes them with ``.000`` seconds.
    """

    today: date
    records: dict[str, dict[int, JsonDict]] = field(default_factory=dict)
    time_zone: str = DEFAULT_TIME_ZONE
    fractional: bool = False

    def at_date(self, value: date | None) -> str | None:
        return at_date(value, self.time_zone, fractional=self.fractional)


def build_dataset(
    today: date, time_zone: str = DEFAULT_TIME_ZONE, *, fractional: bool = False
) -> Dataset:
    """Build the whole tenant for ``today`` (its local date in ``time_zone``).

    The same date and zone always give the same data; only the serialised dates differ
    between zones, so every scenario sees the same contracts on the same local dates.
    """
    data = Dataset(
        today=today,
        records={entity: {} for entity in ENTITIES},
        time_zone=time_zone,
        fractional=fractional,
    )
    _add_companies(data)
    _add_services_and_products(data)
    _add_contracts(data)
    _add_contract_services(data)
    return data


def _company(company_id: int, name: str, company_type: int, active: bool, today: date) -> JsonDict:
    return {
        "id": company_id,
        "companyName": name,
        "companyNumber": f"C{company_id:05d}",
        "companyType": company_type,
        "isActive": active,
        "ownerResourceID": 29682885,
        "parentCompanyID": None,
        "phone": f"+1 555 01{company_id % 100:02d}",
        "city": ("Seattle", "Portland", "Denver", "Austin", "Boston")[company_id % 5],
        "postalCode": f"{98000 + company_id % 1000}",
        "webAddress": None,
        "createDate": f"{month_start(today, -36 - company_id % 24).isoformat()}T09:30:00Z",
        "lastActivityDate": f"{(today - timedelta(days=company_id % 40)).isoformat()}T12:00:00Z",
        "userDefinedFields": [],
    }


def _add_companies(data: Dataset) -> None:
    companies = data.records["Companies"]
    companies[OWN_COMPANY_ID] = _company(
        OWN_COMPANY_ID, OWN_COMPANY_NAME, PARTNER, True, data.today
    )
    for company_id, (name, company_type, active) in DEMO_COMPANIES.items():
        companies[company_id] = _company(company_id, name, company_type, active, data.today)
    for index in range(GENERATED_COMPANY_COUNT):
        company_type, active = _generated_kind(index)
        name = (
            f"{_PREFIXES[index % len(_PREFIXES)]} {_NOUNS[index // len(_PREFIXES)]} "
            f"{_SUFFIXES[index % len(_SUFFIXES)]}"
        )
        company_id = 1001 + index
        companies[company_id] = _company(company_id, name, company_type, active, data.today)


def _generated_kind(index: int) -> tuple[int, bool]:
    """Mostly active customers, with a sprinkling of every other kind."""
    if index % 25 == 0:
        return CUSTOMER, False
    if index % 25 == 7:
        return PROSPECT, True
    if index % 25 == 13:
        return VENDOR, True
    if index % 50 == 19:
        return LEAD, True
    if index % 50 == 44:
        return DEAD, False
    return CUSTOMER, True


def _add_services_and_products(data: Dataset) -> None:
    created = f"{month_start(data.today, -30).isoformat()}T08:00:00Z"
    for offset, (name, description, cost, price) in enumerate(_SERVICES):
        service_id = 301 + offset
        data.records["Services"][service_id] = {
            "id": service_id,
            "name": name,
            "description": description,
            "invoiceDescription": description,
            "unitCost": cost,
            "unitPrice": price,
            "markupRate": round((price - cost) / cost, 4) if cost else None,
            "periodType": 1,
            "isActive": True,
            "billingCodeID": 29682801,
            "serviceLevelAgreementID": None,
            "vendorCompanyID": 115 if name.startswith("PC_") else None,
            "createDate": created,
            "lastModifiedDate": created,
            "userDefinedFields": [],
        }
    for offset, (name, sku, maker, cost, price) in enumerate(_PRODUCTS):
        product_id = 401 + offset
        data.records["Products"][product_id] = {
            "id": product_id,
            "name": name,
            "description": name,
            "sku": sku,
            "unitCost": cost,
            "unitPrice": price,
            "msrp": round(price * 1.1, 2),
            "markupRate": round((price - cost) / cost, 4),
            "periodType": None,
            "productCategory": 1 + offset % 4,
            "isActive": offset != 15,
            "isSerialized": cost > 100,
            "manufacturerName": maker,
            "manufacturerProductName": name,
            "vendorProductNumber": sku,
            "defaultVendorID": 115,
            "userDefinedFields": [],
        }


def _contract(
    data: Dataset,
    contract_id: int,
    company_id: int,
    name: str,
    contract_type: int,
    status: int,
    start: date,
    end: date,
) -> JsonDict:
    today = data.today
    return {
        "id": contract_id,
        "companyID": company_id,
        "contractName": name,
        "contractNumber": f"CN-{contract_id}",
        "contractType": contract_type,
        "contractCategory": 3 if contract_type == RECURRING_SERVICE else 1,
        "status": status,
        "startDate": data.at_date(start),
        "endDate": data.at_date(end),
        "billingPreference": 2 if contract_type == RECURRING_SERVICE else 1,
        "contractPeriodType": "m" if contract_type == RECURRING_SERVICE else None,
        "isDefaultContract": False,
        "description": None,
        "estimatedRevenue": None,
        "setupFee": None,
        "serviceLevelAgreementID": None,
        "timeReportingRequiresStartAndStopTimes": 0,
        "purchaseOrderNumber": None,
        "lastModifiedDateTime": f"{(today - timedelta(days=contract_id % 90)).isoformat()}"
        "T10:15:00Z",
        "userDefinedFields": [],
    }


def _add_contracts(data: Dataset) -> None:
    contracts = data.records["Contracts"]
    today = data.today
    for contract_id, demo in DEMO_CONTRACTS.items():
        contracts[contract_id] = _contract(
            data,
            contract_id,
            demo.company_id,
            demo.name,
            demo.contract_type,
            demo.status,
            demo.start_date(today),
            demo.end_date(today),
        )
    # Background contracts on generated customers, so contract queries look like a real tenant.
    contract_id = 5001
    for index in range(GENERATED_COMPANY_COUNT):
        company_type, active = _generated_kind(index)
        if company_type != CUSTOMER:
            continue
        company_id = 1001 + index
        if index % 3 == 0:
            start = month_start(today, -(index % 30) - 1)
            end = _end_of_month(month_start(today, 11 + index % 13))
            name = f"Managed Services {company_id}"
            contracts[contract_id] = _contract(
                data, contract_id, company_id, name, RECURRING_SERVICE, ACTIVE, start, end
            )
            contract_id += 1
        if index % 11 == 0:
            start = month_start(today, -(index % 20) - 2)
            end = month_start(today, 12 - index % 20) - timedelta(days=1)
            name = f"Time and Materials {company_id}"
            contracts[contract_id] = _contract(
                data, contract_id, company_id, name, TIME_AND_MATERIALS, ACTIVE, start, end
            )
            contract_id += 1


def _add_contract_services(data: Dataset) -> None:
    """1 to 3 services per Recurring Service contract, and their current unit periods."""
    today = data.today
    services = data.records["Services"]
    service_ids = sorted(services)
    contract_service_id = 7001
    unit_id = 9001
    for contract in data.records["Contracts"].values():
        if contract["contractType"] != RECURRING_SERVICE:
            continue
        for slot in range(1 + contract["id"] % 3):
            service = services[service_ids[(contract["id"] + slot * 7) % len(service_ids)]]
            data.records["ContractServices"][contract_service_id] = {
                "id": contract_service_id,
                "contractID": contract["id"],
                "serviceID": service["id"],
                "unitPrice": service["unitPrice"],
                "unitCost": service["unitCost"],
                "internalCurrencyUnitPrice": service["unitPrice"],
                "internalCurrencyAdjustedPrice": service["unitPrice"],
                "invoiceDescription": service["invoiceDescription"],
                "internalDescription": None,
                "quoteItemID": None,
            }
            # One ContractServiceUnits row per billing period (reference section 4.4); only the
            # last three months are seeded, enough to read current seat counts.
            units = 5 + (contract["id"] * 7 + slot * 3) % 40
            starts = local_date(contract["startDate"], data.time_zone)
            ends = local_date(contract["endDate"], data.time_zone)
            if starts is None or ends is None:
                continue
            for months_back in (-2, -1, 0):
                period_start = month_start(today, months_back)
                if not starts <= _end_of_month(period_start) or period_start > ends:
                    continue
                data.records["ContractServiceUnits"][unit_id] = {
                    "id": unit_id,
                    "contractID": contract["id"],
                    "contractServiceID": contract_service_id,
                    "serviceID": service["id"],
                    "startDate": data.at_date(period_start),
                    "endDate": data.at_date(_end_of_month(period_start)),
                    "units": units,
                    "price": service["unitPrice"],
                    "cost": service["unitCost"],
                    "internalCurrencyPrice": service["unitPrice"],
                    "approveAndPostDate": None,
                    "organizationalLevelAssociationID": None,
                    "vendorCompanyID": service["vendorCompanyID"],
                }
                unit_id += 1
            contract_service_id += 1
