"""Verification: turns Autotask's answers into check results, one module per verifying step.

No views, no database, no HTTP details here: a check gets an AutotaskClient and the partner's
non-secret inputs, and returns CheckResults. The catalogue of ids is docs/checks.md.
"""

from __future__ import annotations

import datetime
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wizard.autotask import AutotaskClient, AutotaskError, EntityAccess
from wizard.checks import api_user, contracts, security_level
from wizard.checks.base import FAIL, PASS, UNKNOWN, WARN, CheckResult, worst

__all__ = [
    "FAIL",
    "PASS",
    "UNKNOWN",
    "WARN",
    "CheckResult",
    "Inputs",
    "Postponed",
    "Unreachable",
    "run_all",
    "run_step",
    "worst",
]


# Zone and sign-in first, then at most this many reads at once (there are ten).
PARALLEL_READS = 10


def worst_of(results: list[dict[str, Any]]) -> str:
    """The worst status among stored results (dicts), as worst() does for CheckResults."""
    statuses = {r.get("status") for r in results}
    for status in (FAIL, WARN, UNKNOWN, PASS):
        if status in statuses:
            return status
    return ""


@dataclass(frozen=True)
class Inputs:
    # Today in the tenant's time zone, and that zone (an IANA name; "" when not set yet, and
    # then no contract date is judged: Autotask's dates only make sense in the tenant's zone).
    today: datetime.date
    customers: list[dict[str, Any]] = field(default_factory=list)
    sync_start: str = ""
    # None: the partner has no annual customers (or skipped the step): nothing to check.
    annual: list[dict[str, Any]] | None = None
    time_zone: str = ""


def run_step(step_key: str, client: AutotaskClient, inputs: Inputs) -> list[CheckResult]:
    if step_key == "api-user":
        return api_user.run(client)
    if step_key == "security-level":
        return security_level.run(client)
    if step_key == "recurring-contract":
        return contracts.run_recurring(
            client, inputs.customers, inputs.sync_start, inputs.today, time_zone=inputs.time_zone
        )
    if step_key == "annual-contract":
        return contracts.run_annual(
            client, inputs.annual or [], inputs.today, time_zone=inputs.time_zone
        )
    if step_key == "review":
        return [r for results in run_all(client, inputs).values() for r in results]
    raise ValueError(f"step {step_key!r} has no checks")


class Unreachable(Exception):
    """Autotask could not be asked (background runs only): nothing was learned."""


class Postponed(Exception):
    """The tenant's API usage is too high to spend more of it now (background runs only)."""

    def __init__(self, usage_ratio: float) -> None:
        super().__init__(f"API usage at {usage_ratio:.0%} of the hourly threshold")
        self.usage_ratio = usage_ratio


def run_all(
    client: AutotaskClient, inputs: Inputs, *, postpone_above: float | None = None
) -> dict[str, list[CheckResult]]:
    """Every step's checks in one go, sharing one client (zone and metadata fetched once).

    Signing in comes first and alone: if Autotask refuses the credentials, nothing else is
    sent (each refused call counts towards locking the API user). After that, the reads do
    not depend on each other, so they run in parallel: a full verification takes three or four
    round trips instead of twelve. The client's cap of 2 calls in flight per endpoint still
    holds (Companies and Contracts have three reads each, so one of each waits its turn).
    """
    connection = api_user.connect(client)
    if not connection.ok:
        if postpone_above is not None and not any(r.status == FAIL for r in connection.results):
            # A background run that could not reach Autotask learned nothing: keep what the
            # last real answer said rather than overwrite it with "could not check".
            raise Unreachable(next((r.evidence for r in connection.results if r.error), ""))
        return {"api-user": connection.results}
    if (
        postpone_above is not None
        and connection.threshold is not None
        and connection.threshold.usage_ratio > postpone_above
    ):
        # Autotask slows every call from 50 % and suspends the API at 100 %, for every
        # integration of the tenant: a routine re-check must not push it further.
        raise Postponed(connection.threshold.usage_ratio)
    rows = [*inputs.customers, *(inputs.annual or [])]
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        company = pool.submit(api_user.fetch_company, client)
        accesses = {
            need.entity: pool.submit(client.entity_information, need.entity)
            for need in security_level.NEEDS
        }
        costs = pool.submit(security_level.fetch_costs, client)
        if rows:
            picklists = pool.submit(contracts.fetch_picklists, client)
            contract_rows = pool.submit(contracts.fetch_contracts, client, rows)
            companies = pool.submit(contracts.fetch_companies, client, rows)

    out: dict[str, list[CheckResult]] = {"api-user": api_user.finish(connection, company.result())}
    fetched: security_level.Fetched = {k: _value(f) for k, f in accesses.items()}
    services_access = fetched.get("Services")
    # The cost probe ran speculatively; its answer only counts if Services may be viewed.
    cost_answer = _value(costs) if isinstance(services_access, EntityAccess) else None
    out["security-level"] = security_level.judge(fetched, cost_answer)
    if rows:
        loaded: contracts.LoadResult
        parts = [_value(picklists), _value(contract_rows), _value(companies)]
        error = next((p for p in parts if isinstance(p, AutotaskError)), None)
        loaded = error or contracts.Loaded(*parts)
        if inputs.customers and inputs.sync_start:
            out["recurring-contract"] = contracts.judge_recurring(
                loaded,
                inputs.customers,
                inputs.sync_start,
                inputs.today,
                time_zone=inputs.time_zone,
            )
        if inputs.annual:
            out["annual-contract"] = contracts.judge_annual(
                loaded, inputs.annual, inputs.today, time_zone=inputs.time_zone
            )
    return out


def _value(future: Future[Any]) -> Any:
    """The future's result, or the AutotaskError it raised (other errors propagate)."""
    try:
        return future.result()
    except AutotaskError as e:
        return e
