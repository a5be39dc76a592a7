"""security-level: does the API user have the rights Billing Sync needs, and no more?

Autotask has no API for security levels. What it does expose is, per entity, the calling
user's access (entityInformation userAccessFor*: 0 none, 1 all, 2 restricted), which is the
security level seen from the API. Cost visibility has no such flag: it is inferred from
whether unitCost comes back on Services, and reported as an inference.
Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wizard.autotask import (
    AccessLevel,
    AutotaskClient,
    AutotaskError,
    EntityAccess,
    PermissionDenied,
)
from wizard.checks.base import FAIL, PASS, UNKNOWN, WARN, CheckResult, from_error

LEVELS_PATH = "Admin > Account Settings & Users > Resources/Users > Security Levels"
OPERATIONS = ("query", "create", "update", "delete")
VERBS = {"query": "view", "create": "add", "update": "edit", "delete": "delete"}


@dataclass(frozen=True)
class Need:
    entity: str
    label: str
    operations: tuple[str, ...]
    area: str
    boxes: str


# What Billing Sync needs (view Companies; view and update Contracts and Services; Products),
# each with the area and checkbox of the guide that grants it.
NEEDS: tuple[Need, ...] = (
    Need("Companies", "Companies", ("query",), "CRM", "Customer: All and Cancellation: All"),
    Need(
        "Contracts",
        "Contracts",
        ("query", "update"),
        "CONTRACTS",
        "Can modify contract Internal Costs",
    ),
    Need(
        "ContractServices",
        "Services on contracts",
        ("query", "create", "update"),
        "CONTRACTS",
        "Service/Bundle on contract changes",
    ),
    Need(
        "Services",
        "Services",
        ("query", "create", "update"),
        "ADMIN",
        "Products, Services, & Inventory",
    ),
    Need(
        "Products",
        "Products",
        ("query", "create", "update", "delete"),
        "INVENTORY",
        "Products: View, Add, Edit and Delete",
    ),
)


def _level(access: EntityAccess, operation: str) -> int:
    return int(getattr(access, operation))


def _check_entity(need: Need, access: EntityAccess) -> CheckResult:
    check_id = f"access.{need.entity.lower()}"
    title = f"The API user can {' and '.join(VERBS[o] for o in need.operations)} {need.label}"
    missing = [o for o in need.operations if _level(access, o) == AccessLevel.NONE]
    restricted = [o for o in need.operations if _level(access, o) == AccessLevel.RESTRICTED]
    if missing:
        return CheckResult(
            check_id,
            FAIL,
            title,
            evidence=f"Autotask reports no right to {', '.join(VERBS[o] for o in missing)} "
            f"{need.label} for this API user.",
            fix=f"In {LEVELS_PATH}, open the API user's level; in {need.area} set "
            f"{need.boxes}. Save, then verify again.",
        )
    if restricted:
        return CheckResult(
            check_id,
            WARN,
            title,
            evidence=f"Access to {need.label} is restricted (e.g. only records the user owns) "
            f"for: {', '.join(VERBS[o] for o in restricted)}. Autotask then returns "
            "fewer records without any error, so Billing Sync may silently miss some.",
            fix=f"In {LEVELS_PATH}, open the API user's level; in {need.area}, grant "
            f"{need.boxes} without restriction (All, not Mine or a line of business).",
        )
    return CheckResult(
        check_id,
        PASS,
        title,
        evidence=f"Autotask grants {', '.join(VERBS[o] for o in need.operations)}.",
    )


def _least_privilege(accesses: dict[str, EntityAccess]) -> CheckResult:
    title = "The API user has no more rights than Billing Sync needs"
    extra: list[str] = []
    for need in NEEDS:
        access = accesses.get(need.entity)
        if access is None:
            continue
        for op in OPERATIONS:
            if op not in need.operations and _level(access, op) != AccessLevel.NONE:
                extra.append(f"{VERBS[op]} {need.label}")
    if not extra:
        return CheckResult(
            "access.least-privilege",
            PASS,
            title,
            evidence="No rights beyond the ones Billing Sync uses.",
        )
    return CheckResult(
        "access.least-privilege",
        WARN,
        title,
        evidence="Works, but not least privilege: the API user may also "
        + ", ".join(extra)
        + ". This is what the default 'API User (system)' level allows.",
        fix="Follow step 2: copy the API user level, click No Permissions in every area, grant "
        "only the listed rights, and give the copy to the API user.",
    )


COST_TITLE = "Internal costs are visible to the API user (inferred)"


def fetch_costs(client: AutotaskClient) -> list[dict[str, Any]]:
    """A few Services with their unitCost: the only window on cost visibility."""
    return client.query(
        "Services",
        [{"op": "gte", "field": "id", "value": 0}],
        include_fields=["id", "unitCost"],
        max_records=10,
        max_pages=1,
    )


def judge_costs(services: list[dict[str, Any]] | AutotaskError) -> CheckResult:
    if isinstance(services, AutotaskError):
        return from_error("access.internal-cost", COST_TITLE, services)
    if not services:
        # Not a reason to hold the step back: Billing Sync creates the services itself.
        return CheckResult(
            "access.internal-cost",
            WARN,
            COST_TITLE,
            evidence="No Services to look at yet, so cost visibility cannot be inferred. Make "
            "sure the level has Can View Internal Cost and Sensitive Data.",
            fix=f"In {LEVELS_PATH}, open the API user's level; under OTHER > Miscellaneous tick "
            "Can View Internal Cost and Sensitive Data.",
        )
    with_cost = [s for s in services if s.get("unitCost") is not None]
    if with_cost:
        return CheckResult(
            "access.internal-cost",
            PASS,
            COST_TITLE,
            evidence=f"Unit costs came back on {len(with_cost)} of {len(services)} services "
            "read, so the level appears to include Can View Internal Cost and "
            "Sensitive Data.",
        )
    return CheckResult(
        "access.internal-cost",
        WARN,
        COST_TITLE,
        evidence=f"None of the {len(services)} services read came back with a unit cost. "
        "Autotask does not say why; the usual cause is a level without Can View "
        "Internal Cost and Sensitive Data (an inference, not a certainty).",
        fix=f"In {LEVELS_PATH}, open the API user's level; under OTHER > Miscellaneous tick "
        "Can View Internal Cost and Sensitive Data.",
    )


Fetched = dict[str, EntityAccess | AutotaskError]


def _per_entity(accesses: Fetched) -> list[CheckResult]:
    results: list[CheckResult] = []
    for need in NEEDS:
        answer = accesses.get(need.entity)
        if answer is None:
            continue
        if isinstance(answer, AutotaskError):
            title = f"The API user's rights on {need.label}"
            results.append(from_error(f"access.{need.entity.lower()}", title, answer))
        else:
            results.append(_check_entity(need, answer))
    return results


def judge(
    accesses: Fetched, services: list[dict[str, Any]] | AutotaskError | None
) -> list[CheckResult]:
    """Results from what Autotask answered (``services`` None: the cost probe was not run)."""
    results = _per_entity(accesses)
    granted = {k: v for k, v in accesses.items() if isinstance(v, EntityAccess)}
    results.append(_least_privilege(granted))
    services_access = granted.get("Services")
    if services_access is not None and services_access.query != AccessLevel.NONE:
        results.append(judge_costs(services if services is not None else []))
    else:
        why = (
            "the API user's rights on Services could not be read."
            if isinstance(accesses.get("Services"), AutotaskError)
            else "the API user cannot view Services."
        )
        results.append(
            CheckResult("access.internal-cost", UNKNOWN, COST_TITLE, evidence=f"Not checked: {why}")
        )
    return results


def run(client: AutotaskClient) -> list[CheckResult]:
    """One call after another, stopping at the first sign that nothing would work."""
    accesses: Fetched = {}
    for need in NEEDS:
        try:
            # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
            accesses[need.entity] = client.entity_information(need.entity)
        except AutotaskError as e:
            accesses[need.entity] = e
            if not isinstance(e, PermissionDenied):
                # Bad credentials or an unavailable Autotask: every entity would answer the
                # same, so stop rather than spend calls (and risk a lockout) on the rest.
                return _per_entity(accesses)
    services: list[dict[str, Any]] | AutotaskError | None = None
    services_access = accesses.get("Services")
    if isinstance(services_access, EntityAccess) and services_access.query != AccessLevel.NONE:
        try:
            services = fetch_costs(client)
        except AutotaskError as e:
            services = e
    return judge(accesses, services)
