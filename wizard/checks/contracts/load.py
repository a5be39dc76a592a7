"""What the contract steps read: three calls, whatever the number of customers.

The Contracts field metadata (picklists: contract types and statuses differ between tenants,
so labels are resolved, never assumed), the chosen contracts by id, and their companies by id.
Both contract steps share the three reads when the review checks them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from wizard.autotask import AutotaskClient, AutotaskError

RECURRING = "Recurring Service"
FIXED_PRICE = "Fixed Price"
# Documented fallbacks when a tenant's metadata lacks the label (Recurring Service = 7 is
# confirmed by Autotask's ContractServices page; Active = 1 by every client seen).
FALLBACK_VALUES = {("contractType", RECURRING): "7", ("status", "Active"): "1"}


@dataclass(frozen=True)
class Picklists:
    types: dict[str, str]  # value -> label
    statuses: dict[str, str]
    # A picklist with an entry Autotask sent unreadably: the checks that need it are unknown.
    unreadable: frozenset[str] = frozenset()

    def type_value(self, label: str) -> str | None:
        for value, lab in self.types.items():
            if lab.lower() == label.lower():
                return value
        return FALLBACK_VALUES.get(("contractType", label))

    def active_value(self) -> str:
        for value, lab in self.statuses.items():
            if lab.lower() == "active":
                return value
        return FALLBACK_VALUES[("status", "Active")]


def fetch_picklists(client: AutotaskClient) -> Picklists:
    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    fields = {f.name.lower(): f for f in client.entity_fields("Contracts")}

    def values(name: str) -> dict[str, str]:
        f = fields.get(name.lower())
        return {p.value: p.label for p in f.picklist if p.is_active} if f else {}

    unreadable = frozenset(
        name
        for name in ("contractType", "status")
        if getattr(fields.get(name.lower()), "picklist_unreadable", False)
    )
    return Picklists(types=values("contractType"), statuses=values("status"), unreadable=unreadable)


def _fetch(
    client: AutotaskClient, entity: str, ids: Sequence[int], fields: list[str]
) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    # Reference: https://autotask.net/help/developerhelp/content/apis/REST/API_Calls/REST_Advanced_Query_Features.htm
    rows = client.query(
        entity, [{"op": "in", "field": "id", "value": sorted(set(ids))}], include_fields=fields
    )
    return {int(r["id"]): r for r in rows if "id" in r}


CONTRACT_FIELDS = [
    "id",
    "companyID",
    "contractName",
    "contractType",
    "status",
    "startDate",
    "endDate",
]
COMPANY_FIELDS = ["id", "companyName", "isActive"]


def fetch_contracts(client: AutotaskClient, rows: Sequence[dict[str, Any]]) -> dict[int, Any]:
    return _fetch(client, "Contracts", [int(r["contract_id"]) for r in rows], CONTRACT_FIELDS)


def fetch_companies(client: AutotaskClient, rows: Sequence[dict[str, Any]]) -> dict[int, Any]:
    # The companies the partner chose. A contract that belongs to another company fails
    # contract.company anyway, so its real owner is not fetched: one call, any order.
    return _fetch(client, "Companies", [int(r["company_id"]) for r in rows], COMPANY_FIELDS)


@dataclass(frozen=True)
class Loaded:
    picklists: Picklists
    contracts: dict[int, dict[str, Any]]
    companies: dict[int, dict[str, Any]]


# What the checks get: the three answers, or the first error among them.
LoadResult = Loaded | AutotaskError

# The names of the three reads, in Loaded's order.
READS = ("contract-picklists", "contracts", "contract-companies")


def reads(client: AutotaskClient, rows: Sequence[dict[str, Any]]) -> dict[str, Callable[[], Any]]:
    """The three independent reads for these contracts (the engine makes them at once)."""
    return {
        "contract-picklists": partial(fetch_picklists, client),
        "contracts": partial(fetch_contracts, client, rows),
        "contract-companies": partial(fetch_companies, client, rows),
    }


def loaded(answers: Mapping[str, Any]) -> LoadResult:
    """The answers to ``reads`` as one Loaded, or the first error among them."""
    parts = [answers[name] for name in READS]
    error = next((p for p in parts if isinstance(p, AutotaskError)), None)
    return error or Loaded(*parts)
