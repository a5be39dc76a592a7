"""security-level: does the API user have the rights Billing Sync needs, and no more?

Autotask has no API for security levels. What it does expose is, per entity, the calling
user's access (entityInformation userAccessFor*: "None", "All", "Restricted"; documented as
0/1/2, and both are read), which is the
security level seen from the API. Cost visibility has no such flag: it is inferred from
whether unitCost comes back on Services, and reported as an inference.
Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from wizard.autotask import (
    AccessLevel,
    AutotaskClient,
    AutotaskError,
    EntityAccess,
)
from wizard.checks.base import (
    CheckResult,
    connection_result,
    from_error,
)
from wizard.checks.status import CheckStatus
from wizard.facts import LEVELS_PATH
from wizard.steps import DEFAULT_LEVEL_NAME
from wizard.steps.security_level import NEEDS, Need

OPERATIONS = ("query", "create", "update", "delete")
VERBS = {"query": "view", "create": "add", "update": "edit", "delete": "delete"}


def _level(access: EntityAccess, operation: str) -> AccessLevel:
    return AccessLevel(getattr(access, operation))


def _check_entity(need: Need, access: EntityAccess) -> CheckResult:
    check_id = f"access.{need.entity.lower()}"
    title = f"The API user can {' and '.join(VERBS[o] for o in need.operations)} {need.label}"
    missing = [o for o in need.operations if _level(access, o) == AccessLevel.NONE]
    restricted = [o for o in need.operations if _level(access, o) == AccessLevel.RESTRICTED]
    if missing:
        return CheckResult(
            check_id,
            CheckStatus.FAIL,
            title,
            evidence=f"Autotask reports no right to {', '.join(VERBS[o] for o in missing)} "
            f"{need.label} for this API user.",
            fix=f"In {LEVELS_PATH}, open the API user's level; in {need.area} set "
            f"{need.grants}. Save, then verify again.",
        )
    if restricted and need.restricted_expected:
        return CheckResult(
            check_id,
            CheckStatus.PASS,
            title,
            evidence=f"Autotask grants {', '.join(VERBS[o] for o in need.operations)}. "
            + need.restricted_expected,
        )
    if restricted:
        return CheckResult(
            check_id,
            CheckStatus.WARN,
            title,
            evidence=f"Access to {need.label} is restricted (e.g. only some organizations' "
            f"records) for: {', '.join(VERBS[o] for o in restricted)}. Autotask then returns "
            "fewer records without any error, so Billing Sync may silently miss some.",
            fix=f"In {LEVELS_PATH}, open the API user's level; in {need.area}, set "
            f"{need.grants} (All, not Mine or Organizations).",
        )
    return CheckResult(
        check_id,
        CheckStatus.PASS,
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
    if extra:
        return CheckResult(
            "access.least-privilege",
            CheckStatus.WARN,
            title,
            evidence="Works, but not least privilege: the API user may also "
            + ", ".join(extra)
            + ". This is what the default 'API User (system)' level allows.",
            fix=f"Follow the security level step: copy the '{DEFAULT_LEVEL_NAME}' level, click "
            "No Permissions in every area, grant only the listed rights, and give the copy to "
            "the API user.",
        )
    unread = [need.label for need in NEEDS if need.entity not in accesses]
    if unread:
        # No data is no verdict: a right that could not be read may be one too many.
        return CheckResult(
            "access.least-privilege",
            CheckStatus.UNKNOWN,
            title,
            evidence=f"Not checked: the rights on {', '.join(unread)} could not be read.",
        )
    return CheckResult(
        "access.least-privilege",
        CheckStatus.PASS,
        title,
        evidence="No rights beyond the ones Billing Sync uses.",
    )


COST_TITLE = "Internal costs are visible to the API user (inferred)"


def fetch_costs(client: AutotaskClient) -> list[dict[str, Any]]:
    """A few Services with their unitCost: the only window on cost visibility."""
    # Reference: https://autotask.net/help/developerhelp/content/apis/REST/API_Calls/REST_Advanced_Query_Features.htm
    return client.query(
        "Services",
        [{"op": "gte", "field": "id", "value": 0}],
        include_fields=["id", "unitCost"],
        max_records=10,
        max_pages=1,
    )


COST_FIX = (
    f"In {LEVELS_PATH}, open the API user's level; under OTHER > Miscellaneous tick "
    "Can View Internal Cost and Sensitive Data."
)


def judge_costs(services: list[dict[str, Any]]) -> CheckResult:
    if not services:
        # Not a reason to hold the step back: Billing Sync creates the services itself.
        return CheckResult(
            "access.internal-cost",
            CheckStatus.WARN,
            COST_TITLE,
            evidence="No Services to look at yet, so cost visibility cannot be inferred. Make "
            "sure the level has Can View Internal Cost and Sensitive Data.",
            fix=COST_FIX,
        )
    costs = [s.get("unitCost") for s in services]
    shown = [c for c in costs if isinstance(c, int | float) and not isinstance(c, bool)]
    if any(c != 0 for c in shown):
        return CheckResult(
            "access.internal-cost",
            CheckStatus.PASS,
            COST_TITLE,
            evidence=f"Unit costs came back on {sum(1 for c in shown if c != 0)} of "
            f"{len(services)} services read, so the level appears to include Can View "
            "Internal Cost and Sensitive Data.",
        )
    if shown:
        # Autotask does not document what a level without the right gets: zero and null are
        # both possible (reference, Corrections). All zeros prove nothing either way.
        return CheckResult(
            "access.internal-cost",
            CheckStatus.WARN,
            COST_TITLE,
            evidence=f"Could not tell: every unit cost read ({len(shown)} of {len(services)} "
            "services) is 0. That is what a level without Can View Internal Cost and "
            "Sensitive Data may get, and also what services with no cost entered look like.",
            fix=COST_FIX + " If it is ticked, enter a unit cost on one service and verify again.",
        )
    return CheckResult(
        "access.internal-cost",
        CheckStatus.WARN,
        COST_TITLE,
        evidence=f"None of the {len(services)} services read came back with a unit cost. "
        "Autotask does not say why; the usual cause is a level without Can View "
        "Internal Cost and Sensitive Data (an inference, not a certainty).",
        fix=COST_FIX,
    )


Fetched = dict[str, EntityAccess | AutotaskError]


def _connection(errors: list[tuple[str, AutotaskError]]) -> list[CheckResult]:
    """One result for every read that got no usable answer (none if all were answered)."""
    if not errors:
        return []
    return [connection_result(errors[0][1], unread=", ".join(what for what, _ in errors))]


def _per_entity(accesses: Fetched) -> tuple[list[CheckResult], list[tuple[str, AutotaskError]]]:
    """Each right read, and the reads that got no usable answer (for one connection result)."""
    results: list[CheckResult] = []
    unanswered: list[tuple[str, AutotaskError]] = []
    for need in NEEDS:
        answer = accesses.get(need.entity)
        if answer is None:
            continue
        if isinstance(answer, AutotaskError) and answer.transport:
            # Throttled, timed out, unreadable: nothing learned about this right.
            unanswered.append((f"the rights on {need.label}", answer))
        elif isinstance(answer, AutotaskError):
            # A permission error is a verdict; an odd value is unknown for this entity only.
            title = f"The API user's rights on {need.label}"
            results.append(from_error(f"access.{need.entity.lower()}", title, answer))
        else:
            results.append(_check_entity(need, answer))
    return results, unanswered


def judge(
    accesses: Fetched, services: list[dict[str, Any]] | AutotaskError | None
) -> list[CheckResult]:
    """Results from what Autotask answered (``services`` None: the cost probe was not run)."""
    results, unanswered = _per_entity(accesses)
    granted = {k: v for k, v in accesses.items() if isinstance(v, EntityAccess)}
    results.append(_least_privilege(granted))
    services_access = granted.get("Services")
    if services_access is not None and services_access.query != AccessLevel.NONE:
        if isinstance(services, AutotaskError) and services.transport:
            unanswered.append(("the unit costs of Services", services))
        elif isinstance(services, AutotaskError):
            results.append(from_error("access.internal-cost", COST_TITLE, services))
        else:
            results.append(judge_costs(services if services is not None else []))
    else:
        why = (
            "the API user's rights on Services could not be read."
            if isinstance(accesses.get("Services"), AutotaskError)
            else "the API user cannot view Services."
        )
        results.append(
            CheckResult(
                "access.internal-cost",
                CheckStatus.UNKNOWN,
                COST_TITLE,
                evidence=f"Not checked: {why}",
            )
        )
    return results + _connection(unanswered)


COSTS = "costs"


def _rights(entity: str) -> str:
    return f"rights:{entity}"


def reads(client: AutotaskClient) -> dict[str, Callable[[], Any]]:
    """The five rights and the cost probe: six independent reads, made at once."""
    out: dict[str, Callable[[], Any]] = {
        # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
        _rights(need.entity): partial(client.entity_information, need.entity)
        for need in NEEDS
    }
    # Sent with the rights, before it is known whether the API user may view Services: one
    # round trip fewer, and its answer only counts if it may (judge_answers).
    out[COSTS] = partial(fetch_costs, client)
    return out


def judge_answers(answers: Mapping[str, Any]) -> list[CheckResult]:
    """The step's results from the answers to ``reads`` (each a value or an AutotaskError)."""
    fetched: Fetched = {need.entity: answers[_rights(need.entity)] for need in NEEDS}
    services_access = fetched.get("Services")
    cost_answer = answers[COSTS] if isinstance(services_access, EntityAccess) else None
    return judge(fetched, cost_answer)
