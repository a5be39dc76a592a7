"""recurring-contract and annual-contract: the contracts Billing Sync will write into.

Three calls cover any number of customers: the Contracts field metadata (picklists: contract
types and statuses differ between tenants, so labels are resolved, never assumed), the chosen
contracts by id, and their companies by id.
Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/Entities/ContractsEntity.htm
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wizard.autotask import AutotaskClient, AutotaskError
from wizard.autotask.dates import local_date
from wizard.checks.base import (
    FAIL,
    PASS,
    RETRY_LATER,
    UNKNOWN,
    WARN,
    CheckResult,
    connection_result,
    from_error,
)
from wizard.facts import ACTIVATIONS_PATH
from wizard.steps import SYNC_START_MOST_RECENT, first_usage_date

RECURRING = "Recurring Service"
FIXED_PRICE = "Fixed Price"
FIXED_PRICE_TITLE = "The Fixed Price contract type is active in your Autotask"
# Documented fallbacks when a tenant's metadata lacks the label (Recurring Service = 7 is
# confirmed by Autotask's ContractServices page; Active = 1 by every client seen).
FALLBACK_VALUES = {("contractType", RECURRING): "7", ("status", "Active"): "1"}
ENDING_SOON_DAYS = 31
# Where the partner edits a contract: named in words, not as a menu path, because the guide
# gives none and Autotask's contract menus differ by version.
CONTRACTS_EDIT = "Open the contract in Autotask and edit it"


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


def _picklists(client: AutotaskClient) -> Picklists:
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


def _unreadable_picklist(check_id: str, title: str, field: str, subject: str) -> CheckResult:
    return CheckResult(
        check_id,
        UNKNOWN,
        title,
        evidence=f"Autotask's list of contract {field} values had an entry the wizard cannot "
        "read, so this could not be checked.",
        fix=RETRY_LATER,
        subject=subject,
        error="unexpected_value",
    )


def _date(value: Any, time_zone: str) -> datetime.date | None:
    # Autotask sends a date-only field as the UTC instant of the tenant's local midnight
    # ("2026-01-31T13:00:00Z" is 1 February in Sydney): the date is that instant's local date.
    return local_date(value, time_zone)


def _in(d: datetime.date, time_zone: str) -> str:
    """A contract date with the zone it is read in, e.g. "1 February 2026 (Australia/Sydney)"."""
    return f"{_day(d)} ({time_zone})"


TIME_ZONE_TITLE = "Your Autotask's time zone is known"


def _time_zone_missing() -> CheckResult:
    """Dates cannot be judged without the tenant's zone: say so once, instead of guessing."""
    return CheckResult(
        "contract.time-zone",
        UNKNOWN,
        TIME_ZONE_TITLE,
        evidence="Contract dates were not checked: Autotask sends each date as the moment of "
        "your local midnight in UTC, so the date depends on your time zone, which is not set.",
        fix="Choose your Autotask's time zone in step 1 (Your Autotask account), then verify "
        "again.",
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _day(d: datetime.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _fetch(
    client: AutotaskClient, entity: str, ids: Sequence[int], fields: list[str]
) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = client.query(
        entity, [{"op": "in", "field": "id", "value": sorted(set(ids))}], include_fields=fields
    )
    return {int(r["id"]): r for r in rows if "id" in r}


@dataclass(frozen=True)
class Loaded:
    picklists: Picklists
    contracts: dict[int, dict[str, Any]]
    companies: dict[int, dict[str, Any]]


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


def fetch_picklists(client: AutotaskClient) -> Picklists:
    return _picklists(client)


def load(client: AutotaskClient, rows: Sequence[dict[str, Any]]) -> Loaded:
    """The three independent reads, one after another (run_all makes them in parallel)."""
    return Loaded(
        fetch_picklists(client), fetch_contracts(client, rows), fetch_companies(client, rows)
    )


LoadResult = Loaded | AutotaskError


def _subject(
    row: dict[str, Any], contract: dict[str, Any] | None, companies: dict[int, dict[str, Any]]
) -> str:
    company = companies.get(int(row["company_id"]), {})
    company_name = company.get("companyName") or f"company #{row['company_id']}"
    name = (contract or {}).get("contractName")
    contract_part = f"contract #{row['contract_id']}" + (f" “{name}”" if name else "")
    return f"{company_name}: {contract_part}"


def _common(
    row: dict[str, Any],
    loaded: Loaded,
    expected_type: str,
    today: datetime.date,
    time_zone: str,
) -> tuple[list[CheckResult], dict[str, Any] | None, str]:
    """Checks every chosen contract needs, whatever its kind (dates only with a time zone)."""
    contract = loaded.contracts.get(int(row["contract_id"]))
    subject = _subject(row, contract, loaded.companies)
    if contract is None:
        return (
            [
                CheckResult(
                    "contract.found",
                    FAIL,
                    "The contract exists and the API user can see it",
                    evidence=f"Autotask returned no contract #{row['contract_id']}.",
                    fix="Check the contract id in Autotask. If it is right, the API user's "
                    "security level may restrict which contracts it sees (step 2).",
                    subject=subject,
                )
            ],
            None,
            subject,
        )
    out = [
        CheckResult(
            "contract.found",
            PASS,
            "The contract exists and the API user can see it",
            evidence="Found.",
            subject=subject,
        )
    ]
    owner_id = _int_or_none(contract.get("companyID"))
    if owner_id != int(row["company_id"]):
        out.append(
            CheckResult(
                "contract.company",
                FAIL,
                "The contract belongs to this customer",
                evidence=f"The contract belongs to company #{contract.get('companyID')}, not "
                f"#{row['company_id']}.",
                fix="Pick the contract of this customer, or the customer of this contract.",
                subject=subject,
            )
        )
    company = loaded.companies.get(owner_id if owner_id is not None else int(row["company_id"]))
    if company is not None and company.get("isActive") is False:
        out.append(
            CheckResult(
                "company.active",
                FAIL,
                "The customer is active in Autotask",
                evidence=f"{company.get('companyName')} is inactive in Autotask.",
                fix="In Autotask, open the company and tick Active, or pick another customer.",
                subject=subject,
            )
        )
    elif company is not None:
        out.append(
            CheckResult(
                "company.active",
                PASS,
                "The customer is active in Autotask",
                evidence="Active.",
                subject=subject,
            )
        )

    types = loaded.picklists
    actual_type = str(contract.get("contractType", ""))
    type_label = types.types.get(actual_type, f"type {actual_type}")
    if "contractType" in types.unreadable:
        title = f"The contract type is {expected_type}"
        out.append(_unreadable_picklist("contract.type", title, "type", subject))
    elif actual_type != types.type_value(expected_type):
        out.append(
            CheckResult(
                "contract.type",
                FAIL,
                f"The contract type is {expected_type}",
                evidence=f"The contract is a {type_label} contract.",
                fix=f"Create a new contract of type {expected_type} for this customer (the type "
                "of an existing contract cannot be changed), then pick it here.",
                subject=subject,
            )
        )
    else:
        out.append(
            CheckResult(
                "contract.type",
                PASS,
                f"The contract type is {expected_type}",
                evidence=f"{type_label}.",
                subject=subject,
            )
        )

    status = str(contract.get("status", ""))
    if "status" in types.unreadable:
        out.append(
            _unreadable_picklist("contract.status", "The contract is active", "status", subject)
        )
    elif status != types.active_value():
        out.append(
            CheckResult(
                "contract.status",
                FAIL,
                "The contract is active",
                evidence=f"Its status is {types.statuses.get(status, status or 'empty')}.",
                fix=f"{CONTRACTS_EDIT}: set Status to Active.",
                subject=subject,
            )
        )
    else:
        out.append(
            CheckResult(
                "contract.status",
                PASS,
                "The contract is active",
                evidence="Active.",
                subject=subject,
            )
        )

    if not time_zone:
        return out, contract, subject
    end = _date(contract.get("endDate"), time_zone)
    if end is not None and end < today:
        out.append(
            CheckResult(
                "contract.end-date",
                FAIL,
                "The contract's end date has not passed",
                evidence=f"It ended on {_in(end, time_zone)}. Billing Sync does not offer "
                "contracts past their end date.",
                fix=f"{CONTRACTS_EDIT}: move the End Date into the future, or renew "
                "the contract and pick the new one.",
                subject=subject,
            )
        )
    elif end is not None and (end - today).days <= ENDING_SOON_DAYS:
        out.append(
            CheckResult(
                "contract.end-date",
                WARN,
                "The contract's end date has not passed",
                evidence=f"It ends on {_in(end, time_zone)}, within a month.",
                fix="Extend or renew it before then, or syncing stops.",
                subject=subject,
            )
        )
    else:
        out.append(
            CheckResult(
                "contract.end-date",
                PASS,
                "The contract's end date has not passed",
                evidence=f"Ends {_in(end, time_zone)}." if end else "No end date.",
                subject=subject,
            )
        )
    return out, contract, subject


def _load_failed(error: AutotaskError) -> CheckResult:
    if error.transport:
        # Throttled, timed out, unreadable: nothing learned about the contracts themselves.
        return connection_result(error, unread="the contracts and their companies")
    return from_error("contract.found", "The contracts can be read", error)


def _load_or_error(client: AutotaskClient, rows: Sequence[dict[str, Any]]) -> LoadResult:
    try:
        return load(client, rows)
    except AutotaskError as e:
        return e


# ``today`` and every contract date are dates in the tenant's time zone, ``time_zone`` (an IANA
# name such as "Australia/Sydney"). Without one ("") the date rules are not judged at all.


def run_recurring(
    client: AutotaskClient,
    rows: Sequence[dict[str, Any]],
    sync_start: str,
    today: datetime.date,
    *,
    time_zone: str,
) -> list[CheckResult]:
    return judge_recurring(
        _load_or_error(client, rows), rows, sync_start, today, time_zone=time_zone
    )


def run_annual(
    client: AutotaskClient,
    rows: Sequence[dict[str, Any]],
    today: datetime.date,
    *,
    time_zone: str,
) -> list[CheckResult]:
    return judge_annual(_load_or_error(client, rows), rows, today, time_zone=time_zone)


def judge_recurring(
    loaded: LoadResult,
    rows: Sequence[dict[str, Any]],
    sync_start: str,
    today: datetime.date,
    *,
    time_zone: str,
) -> list[CheckResult]:
    if isinstance(loaded, AutotaskError):
        return [_load_failed(loaded)]
    first_usage = first_usage_date(sync_start, today)
    results: list[CheckResult] = [] if time_zone else [_time_zone_missing()]
    for row in rows:
        out, contract, subject = _common(row, loaded, RECURRING, today, time_zone)
        results += out
        if contract is None or not time_zone:
            continue
        start = _date(contract.get("startDate"), time_zone)
        if start is None or start > first_usage:
            when = f"starts on {_in(start, time_zone)}" if start else "has no start date"
            results.append(
                CheckResult(
                    "contract.start-date",
                    FAIL,
                    "The contract starts on or before the first day of synced usage",
                    evidence=f"The contract {when}; the sync copies usage from "
                    f"{_day(first_usage)} (billing in arrears).",
                    fix=f"{CONTRACTS_EDIT}: set Start Date to {_day(first_usage)} "
                    "or earlier"
                    + (
                        ", or start the sync with the next invoice."
                        if sync_start == SYNC_START_MOST_RECENT
                        else "."
                    ),
                    subject=subject,
                )
            )
        else:
            results.append(
                CheckResult(
                    "contract.start-date",
                    PASS,
                    "The contract starts on or before the first day of synced usage",
                    evidence=f"Starts {_in(start, time_zone)}; usage is synced from "
                    f"{_day(first_usage)}.",
                    subject=subject,
                )
            )
        if start is not None and start.day != 1:
            results.append(
                CheckResult(
                    "contract.start-first-of-month",
                    WARN,
                    "The contract starts on the 1st",
                    evidence=f"It starts on {_in(start, time_zone)}, the "
                    f"{_ordinal(start.day)} of the month, so Autotask prorates the first period "
                    "and adds prorated line items.",
                    fix=f"Set Start Date to the 1st ({_day(start.replace(day=1))}).",
                    subject=subject,
                )
            )
        elif start is not None:
            results.append(
                CheckResult(
                    "contract.start-first-of-month",
                    PASS,
                    "The contract starts on the 1st",
                    evidence=f"Starts {_in(start, time_zone)}: no prorated line items.",
                    subject=subject,
                )
            )
    return results


def judge_annual(
    loaded: LoadResult,
    rows: Sequence[dict[str, Any]],
    today: datetime.date,
    *,
    time_zone: str,
) -> list[CheckResult]:
    if isinstance(loaded, AutotaskError):
        return [_load_failed(loaded)]
    results: list[CheckResult] = []
    if "contractType" in loaded.picklists.unreadable:
        results.append(
            _unreadable_picklist(
                "contract.fixed-price-available", FIXED_PRICE_TITLE, "type", subject=""
            )
        )
    elif loaded.picklists.type_value(FIXED_PRICE) is None:
        results.append(
            CheckResult(
                "contract.fixed-price-available",
                FAIL,
                FIXED_PRICE_TITLE,
                evidence="Autotask lists no active Fixed Price contract type. A new Autotask "
                "has only Time & Materials and Recurring Service active.",
                fix=f"In {ACTIVATIONS_PATH}, activate the Fixed Price contract type (or ask "
                "your Autotask administrator to), then create the annual contracts as Fixed "
                "Price and verify again.",
            )
        )
        return results
    else:
        results.append(
            CheckResult(
                "contract.fixed-price-available",
                PASS,
                FIXED_PRICE_TITLE,
                evidence="Listed as an active contract type.",
            )
        )
    if not time_zone:
        results.append(_time_zone_missing())
    for row in rows:
        out, contract, subject = _common(row, loaded, FIXED_PRICE, today, time_zone)
        results += out
        if contract is None or not time_zone:
            continue
        start = _date(contract.get("startDate"), time_zone)
        end = _date(contract.get("endDate"), time_zone)
        if start is None or (end is not None and end < start):
            results.append(
                CheckResult(
                    "contract.dates",
                    FAIL,
                    "The contract's dates are valid",
                    evidence="The start date is missing or after the end date.",
                    fix=f"{CONTRACTS_EDIT}: correct Start Date and End Date.",
                    subject=subject,
                )
            )
        else:
            results.append(
                CheckResult(
                    "contract.dates",
                    PASS,
                    "The contract's dates are valid",
                    evidence=f"Starts {_in(start, time_zone)}"
                    + (f", ends {_day(end)}." if end else ", no end date."),
                    subject=subject,
                )
            )
    return results
