"""The sandbox's scenarios: which API user simulates which tenant, and with what rights.

The API username picks a scenario (:data:`SCENARIOS`): a healthy tenant, or one of the failure
modes the wizard must tell apart. Every sandbox user's correct secret is :data:`SANDBOX_SECRET`.
docs/sandbox.md lists them with what the wizard should conclude (a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from wizard.sandbox.data import DEFAULT_TIME_ZONE
from wizard.sandbox.entities import CANCELLATION, CUSTOMER, ENTITIES, JsonDict

#: The correct secret of every sandbox user (documented in docs/sandbox.md).
SANDBOX_SECRET: Final = "sandbox-secret"
SANDBOX_DOMAIN: Final = "sandbox.example"


@dataclass(frozen=True)
class Access:
    """``userAccessFor*`` values of one entity: 0 None, 1 All, 2 Restricted."""

    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    query: int = 0
    create: int = 0
    update: int = 0
    delete: int = 0


_ALL = Access(1, 1, 1, 1)
# How entityInformation spells the levels on the wire (reference, Corrections 1).
LEVEL_NAMES: Final[Mapping[int, str]] = {0: "None", 1: "All", 2: "Restricted"}

# The least-privilege security level the guide asks for (DESIGN.md section 4, reference 7.4).
# CRM access is set per company type and the guide grants only Customer and Cancellation, so
# Autotask reports Companies as Restricted (reference, Corrections): those types stay visible.
HEALTHY_ACCESS: Final[Mapping[str, Access]] = {
    "Companies": Access(query=2),
    "Contracts": Access(query=1, update=1),
    "ContractServices": Access(query=1, create=1, update=1),
    "ContractServiceUnits": Access(query=1),
    "Services": Access(query=1, create=1, update=1),
    "Products": _ALL,
}
# The default "API User (system)" level: full-admin-equivalent (reference section 4.7).
FULL_ACCESS: Final[Mapping[str, Access]] = dict.fromkeys(ENTITIES, _ALL)
MISSING_RIGHTS_ACCESS: Final[Mapping[str, Access]] = {
    **HEALTHY_ACCESS,
    "Contracts": Access(query=1, update=0),
    "Services": Access(query=0, create=1, update=1),
}
RESTRICTED_ACCESS: Final[Mapping[str, Access]] = {
    **HEALTHY_ACCESS,
    "Contracts": Access(query=2, update=1),
}

Fault = Literal["throttled", "thread-limit", "flaky", "broken"]


@dataclass(frozen=True)
class Scenario:
    """What one sandbox API user simulates, and what the wizard should conclude from it."""

    key: str
    title: str
    description: str
    diagnosis: str
    known_user: bool = True
    secret_rejected: bool = False
    code_rejected: bool = False
    access: Mapping[str, Access] = field(default_factory=lambda: dict(HEALTHY_ACCESS))
    costs_hidden: bool = False
    # How hidden costs come back: null, or 0 (both possible; reference, Corrections).
    hidden_cost: float | None = None
    # Contract type values not active in this tenant: a new Autotask has only Time and
    # Materials and Recurring Service active (help page "ContractsConfigure").
    inactive_contract_types: frozenset[str] = frozenset()
    threshold_start: int = 0
    fault: Fault | None = None
    latency: float = 0.0
    # The tenant's time zone: its date-only fields are served as the UTC instant of local
    # midnight there; ``fractional_dates`` writes them with ".000" seconds (reference,
    # "Corrections (December 2026)" point 2: both forms occur).
    time_zone: str = DEFAULT_TIME_ZONE
    fractional_dates: bool = False

    @property
    def username(self) -> str:
        return f"{self.key}@{SANDBOX_DOMAIN}"


_SCENARIO_LIST: Final = (
    Scenario(
        "healthy",
        "Healthy tenant",
        "Everything is set up as the guide asks: least-privilege rights, contracts, services. "
        "In Australia/Sydney, like every scenario unless it says otherwise.",
        "All connection and permission checks pass; contract checks depend on the contract picked.",
    ),
    Scenario(
        "america",
        "Healthy tenant in New York",
        "As 'healthy', in America/New_York: dates come back as the UTC instant of New York "
        "midnight with fractional seconds (2026-02-01T05:00:00.000Z is 1 February).",
        "Everything as for 'healthy', on the same local dates: read in America/New_York, no "
        "date is a day off.",
        time_zone="America/New_York",
        fractional_dates=True,
    ),
    Scenario(
        "auckland",
        "Healthy tenant in Auckland",
        "As 'healthy', in Pacific/Auckland (UTC+13 in summer): a contract starting 1 February "
        "comes back as 2026-01-31T11:00:00Z.",
        "Everything as for 'healthy', on the same local dates: read in Pacific/Auckland, no "
        "date is a day off.",
        time_zone="Pacific/Auckland",
    ),
    Scenario(
        "unknown",
        "Unknown username",
        "The username does not exist in any Autotask zone (a typo, or not an API user).",
        "Zone lookup fails: 'Autotask does not know this username'; check the API user's "
        "Username (Key) in Admin > Resources/Users.",
        known_user=False,
    ),
    Scenario(
        "wrong-secret",
        "Wrong secret",
        "Autotask answers 401 even to the right secret, as for an expired or changed password.",
        "Authentication failed: the Secret is wrong or expired; generate a new one on the API "
        "user and enter it. Never retried (lockout risk).",
        secret_rejected=True,
    ),
    Scenario(
        "code-rejected",
        "Integration code rejected",
        "The API user is tied to another Integration Vendor, so our integration code is refused.",
        "IntegrationCode is invalid: set the API user's Integration Vendor to "
        "'Rhipe - Cloud Services' (API Tracking Identifier).",
        code_rejected=True,
    ),
    Scenario(
        "missing-rights",
        "Missing rights",
        "A custom security level without Contracts update and without Services query.",
        "Permission check fails naming Contracts > Edit and Services (view) to tick; the "
        "Services query answers 'does not have the adequate permissions'.",
        access=MISSING_RIGHTS_ACCESS,
    ),
    Scenario(
        "restricted-rights",
        "Restricted contract visibility",
        "Contracts query access is Restricted: queries succeed but return no contracts.",
        "Warn that contract visibility is restricted (e.g. 'Mine'); an empty list is not proof "
        "that no contract exists. Set Contracts view to All.",
        access=RESTRICTED_ACCESS,
    ),
    Scenario(
        "full-default",
        "Default API User (system) level",
        "The API user keeps the built-in full-access level: every right on every entity.",
        "Works, but not least privilege: recommend a copied, restricted security level.",
        access=FULL_ACCESS,
    ),
    Scenario(
        "costs-hidden",
        "Costs hidden",
        "The level cannot view internal costs: unitCost comes back null on Services/Products.",
        "Warn: tick 'Can View Internal Cost and Sensitive Data' (inferred from null costs).",
        costs_hidden=True,
    ),
    Scenario(
        "costs-zero",
        "Costs hidden as zero",
        "The level cannot view internal costs, and Autotask answers unitCost 0 instead of null.",
        "Warn 'could not tell': all-zero costs neither prove nor disprove cost visibility.",
        costs_hidden=True,
        hidden_cost=0.0,
    ),
    Scenario(
        "fresh-tenant",
        "New Autotask tenant",
        "Set up as the guide asks, on a new Autotask: only the Time and Materials and Recurring "
        "Service contract types are active, so Fixed Price is not.",
        "Annual step fails 'The Fixed Price contract type is active', naming where to activate "
        "it; everything else passes.",
        inactive_contract_types=frozenset({"3", "4", "6", "8"}),
    ),
    Scenario(
        "near-threshold",
        "Near the API threshold",
        "The tenant already used 6,200 of its 10,000 requests this hour (Autotask adds latency).",
        "Warn that the tenant is at 62% of its hourly API threshold; defer heavy checks.",
        threshold_start=6200,
    ),
    Scenario(
        "throttled",
        "Throttled",
        "Every authenticated call answers HTTP 429 with Retry-After: 1.",
        "Autotask is throttling requests; retry later (unknown result, not a failure).",
        fault="throttled",
    ),
    Scenario(
        "thread-limit",
        "Thread limit exceeded",
        "Every authenticated call answers HTTP 500 Itgenatr005 (thread threshold exceeded).",
        "Too many concurrent calls for this integration; retry later (unknown result).",
        fault="thread-limit",
    ),
    Scenario(
        "slow",
        "Slow zone",
        "Every call takes 2 extra seconds.",
        "All checks pass, slowly; progress stays visible and nothing times out below 2 s.",
        latency=2.0,
    ),
    Scenario(
        "flaky",
        "Flaky network",
        "Every second authenticated call answers HTTP 503 with an HTML page.",
        "Reads are retried and pass; if retries run out, the result is unknown, not failed.",
        fault="flaky",
    ),
    Scenario(
        "broken",
        "Broken answers",
        "Authenticated calls answer HTTP 200 with malformed JSON.",
        "Autotask answered something unreadable; result unknown, try again later.",
        fault="broken",
    ),
)

#: Scenarios by API username; any other username behaves like ``unknown@sandbox.example``.
SCENARIOS: Final[dict[str, Scenario]] = {s.username: s for s in _SCENARIO_LIST}


def visible_when_restricted(entity: str, row: JsonDict) -> bool:
    """What a Restricted level still sees: for Companies, the company types granted All.

    The guide's CRM setting grants Customer and Cancellation, so those stay visible; your own
    company and prospects, vendors and partners do not. Other entities restricted to "Mine"
    show nothing: API users own no records.
    """
    return entity == "Companies" and row.get("companyType") in (CUSTOMER, CANCELLATION)
