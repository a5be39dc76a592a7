"""The checks every chosen contract gets, recurring or annual, and what they share.

``today`` and every contract date are dates in the tenant's time zone, ``time_zone`` (an IANA
name such as "Australia/Sydney"). Without one ("") the date rules are not judged at all.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from wizard import steps
from wizard.autotask import AutotaskError
from wizard.autotask.dates import local_date
from wizard.checks.base import RETRY_LATER, CheckResult, connection_result, from_error
from wizard.checks.contracts.load import Loaded
from wizard.checks.status import CheckStatus

ENDING_SOON_DAYS = 31
# Where the partner edits a contract: named in words, not as a menu path, because the guide
# gives none and Autotask's contract menus differ by version.
CONTRACTS_EDIT = "Open the contract in Autotask and edit it"
TIME_ZONE_TITLE = "Your Autotask's time zone is known"


@dataclass(frozen=True)
class About:
    """Results about one thing (a customer's contract): each names it as its subject."""

    subject: str

    def result(
        self, check_id: str, status: CheckStatus, title: str, evidence: str, fix: str = ""
    ) -> CheckResult:
        return CheckResult(
            check_id, status, title, evidence=evidence, fix=fix, subject=self.subject
        )

    def unreadable_picklist(self, check_id: str, title: str, field: str) -> CheckResult:
        return CheckResult(
            check_id,
            CheckStatus.UNKNOWN,
            title,
            evidence=f"Autotask's list of contract {field} values had an entry the wizard cannot "
            "read, so this could not be checked.",
            fix=RETRY_LATER,
            subject=self.subject,
            error="unexpected_value",
        )


def date_of(value: Any, time_zone: str) -> datetime.date | None:
    # Autotask sends a date-only field as the UTC instant of the tenant's local midnight
    # ("2026-01-31T13:00:00Z" is 1 February in Sydney): the date is that instant's local date.
    return local_date(value, time_zone)


def day(d: datetime.date) -> str:
    return f"{d.day} {d:%B %Y}"


def in_zone(d: datetime.date, time_zone: str) -> str:
    """A contract date with the zone it is read in, e.g. "1 February 2026 (Australia/Sydney)"."""
    return f"{day(d)} ({time_zone})"


def time_zone_missing() -> CheckResult:
    """Dates cannot be judged without the tenant's zone: say so once, instead of guessing."""
    return CheckResult(
        "contract.time-zone",
        CheckStatus.UNKNOWN,
        TIME_ZONE_TITLE,
        evidence="Contract dates were not checked: Autotask sends each date as the moment of "
        "your local midnight in UTC, so the date depends on your time zone, which is not set.",
        fix=f"Choose your Autotask's time zone in {steps.ref('account')}, then verify again.",
    )


def load_failed(error: AutotaskError) -> CheckResult:
    if error.transport:
        # Throttled, timed out, unreadable: nothing learned about the contracts themselves.
        return connection_result(error, unread="the contracts and their companies")
    return from_error("contract.found", "The contracts can be read", error)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _subject(
    row: dict[str, Any], contract: dict[str, Any] | None, companies: dict[int, dict[str, Any]]
) -> str:
    company = companies.get(int(row["company_id"]), {})
    company_name = company.get("companyName") or f"company #{row['company_id']}"
    name = (contract or {}).get("contractName")
    contract_part = f"contract #{row['contract_id']}" + (f" “{name}”" if name else "")
    return f"{company_name}: {contract_part}"


# _subject's shape, read back: the names Autotask gave a contract and its company.
_SUBJECT = re.compile(r"^(?P<company>.+): contract #(?P<id>\d+)(?: “(?P<name>.+)”)?$", re.S)


def names_from_subject(subject: str) -> tuple[int, str, str] | None:
    """(contract id, company name, contract name) from a contract result's subject, the
    names "" where Autotask gave none; None for any other subject."""
    m = _SUBJECT.match(subject)
    if m is None:
        return None
    company = m["company"]
    if company.startswith("company #"):
        company = ""
    return int(m["id"]), company, m["name"] or ""


FOUND_TITLE = "The contract exists and the API user can see it"
ACTIVE_TITLE = "The customer is active in Autotask"
STATUS_TITLE = "The contract is active"
END_TITLE = "The contract's end date has not passed"


def check_contract(
    row: dict[str, Any],
    loaded: Loaded,
    expected_type: str,
    today: datetime.date,
    time_zone: str,
) -> tuple[list[CheckResult], dict[str, Any] | None, About]:
    """Checks every chosen contract needs, whatever its kind (dates only with a time zone).

    Returns the results, the contract (None if Autotask has none by that id) and its subject.
    """
    contract = loaded.contracts.get(int(row["contract_id"]))
    about = About(_subject(row, contract, loaded.companies))
    if contract is None:
        missing = about.result(
            "contract.found",
            CheckStatus.FAIL,
            FOUND_TITLE,
            f"Autotask returned no contract #{row['contract_id']}.",
            "Check the contract id in Autotask. If it is right, the API user's security level "
            f"may restrict which contracts it sees ({steps.ref('security-level')}).",
        )
        return [missing], None, about
    out = [about.result("contract.found", CheckStatus.PASS, FOUND_TITLE, "Found.")]
    owner_id = _int_or_none(contract.get("companyID"))
    if owner_id != int(row["company_id"]):
        out.append(
            about.result(
                "contract.company",
                CheckStatus.FAIL,
                "The contract belongs to this customer",
                f"The contract belongs to company #{contract.get('companyID')}, not "
                f"#{row['company_id']}.",
                "Pick the contract of this customer, or the customer of this contract.",
            )
        )
    company = loaded.companies.get(owner_id if owner_id is not None else int(row["company_id"]))
    if company is not None and company.get("isActive") is False:
        out.append(
            about.result(
                "company.active",
                CheckStatus.FAIL,
                ACTIVE_TITLE,
                f"{company.get('companyName')} is inactive in Autotask.",
                "In Autotask, open the company and tick Active, or pick another customer.",
            )
        )
    elif company is not None:
        out.append(about.result("company.active", CheckStatus.PASS, ACTIVE_TITLE, "Active."))
    out.append(_type(about, contract, loaded, expected_type))
    out.append(_status(about, contract, loaded))
    if time_zone:
        out.append(_end_date(about, contract, today, time_zone))
    return out, contract, about


def _type(
    about: About, contract: dict[str, Any], loaded: Loaded, expected_type: str
) -> CheckResult:
    title = f"The contract type is {expected_type}"
    types = loaded.picklists
    actual = str(contract.get("contractType", ""))
    label = types.types.get(actual, f"type {actual}")
    if "contractType" in types.unreadable:
        return about.unreadable_picklist("contract.type", title, "type")
    if actual != types.type_value(expected_type):
        return about.result(
            "contract.type",
            CheckStatus.FAIL,
            title,
            f"The contract is a {label} contract.",
            f"Create a new contract of type {expected_type} for this customer (the type of an "
            "existing contract cannot be changed), then pick it here.",
        )
    return about.result("contract.type", CheckStatus.PASS, title, f"{label}.")


def _status(about: About, contract: dict[str, Any], loaded: Loaded) -> CheckResult:
    types = loaded.picklists
    status = str(contract.get("status", ""))
    if "status" in types.unreadable:
        return about.unreadable_picklist("contract.status", STATUS_TITLE, "status")
    if status != types.active_value():
        return about.result(
            "contract.status",
            CheckStatus.FAIL,
            STATUS_TITLE,
            f"Its status is {types.statuses.get(status, status or 'empty')}.",
            f"{CONTRACTS_EDIT}: set Status to Active.",
        )
    return about.result("contract.status", CheckStatus.PASS, STATUS_TITLE, "Active.")


def _end_date(
    about: About, contract: dict[str, Any], today: datetime.date, time_zone: str
) -> CheckResult:
    end = date_of(contract.get("endDate"), time_zone)
    if end is not None and end < today:
        return about.result(
            "contract.end-date",
            CheckStatus.FAIL,
            END_TITLE,
            f"It ended on {in_zone(end, time_zone)}. Billing Sync does not offer contracts past "
            "their end date.",
            f"{CONTRACTS_EDIT}: move the End Date into the future, or renew the contract and "
            "pick the new one.",
        )
    if end is not None and (end - today).days <= ENDING_SOON_DAYS:
        return about.result(
            "contract.end-date",
            CheckStatus.WARN,
            END_TITLE,
            f"It ends on {in_zone(end, time_zone)}, within a month.",
            "Extend or renew it before then, or syncing stops.",
        )
    evidence = f"Ends {in_zone(end, time_zone)}." if end else "No end date."
    return about.result("contract.end-date", CheckStatus.PASS, END_TITLE, evidence)
