"""Verification: turns Autotask's answers into check results, one module per verifying step.

No views, no database, no HTTP details here: a check gets an AutotaskClient and the partner's
non-secret inputs, and returns CheckResults. The catalogue of ids is docs/checks.md.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from wizard.autotask import AutotaskClient
from wizard.checks import api_user, contracts, security_level
from wizard.checks.base import FAIL, PASS, UNKNOWN, WARN, CheckResult, worst

__all__ = [
    "FAIL",
    "PASS",
    "UNKNOWN",
    "WARN",
    "CheckResult",
    "Inputs",
    "run_all",
    "run_step",
    "worst",
]


def worst_of(results: list[dict[str, Any]]) -> str:
    """The worst status among stored results (dicts), as worst() does for CheckResults."""
    statuses = {r.get("status") for r in results}
    for status in (FAIL, WARN, UNKNOWN, PASS):
        if status in statuses:
            return status
    return ""


@dataclass(frozen=True)
class Inputs:
    today: datetime.date
    customers: list[dict[str, Any]] = field(default_factory=list)
    sync_start: str = ""
    # None: the partner has no annual customers (or skipped the step): nothing to check.
    annual: list[dict[str, Any]] | None = None


def run_step(step_key: str, client: AutotaskClient, inputs: Inputs) -> list[CheckResult]:
    if step_key == "api-user":
        return api_user.run(client)
    if step_key == "security-level":
        return security_level.run(client)
    if step_key == "recurring-contract":
        return contracts.run_recurring(client, inputs.customers, inputs.sync_start, inputs.today)
    if step_key == "annual-contract":
        return contracts.run_annual(client, inputs.annual or [], inputs.today)
    if step_key == "review":
        return [r for results in run_all(client, inputs).values() for r in results]
    raise ValueError(f"step {step_key!r} has no checks")


def run_all(client: AutotaskClient, inputs: Inputs) -> dict[str, list[CheckResult]]:
    """Every step's checks in one go, sharing one client (zone and metadata fetched once)."""
    out: dict[str, list[CheckResult]] = {"api-user": api_user.run(client)}
    if worst(out["api-user"]) == FAIL or any(
        r.status == UNKNOWN for r in out["api-user"] if r.id in ("auth.username", "auth.secret")
    ):
        # Nothing else can work without a connection; don't spend calls finding that out.
        return out
    out["security-level"] = security_level.run(client)
    if inputs.customers and inputs.sync_start:
        out["recurring-contract"] = contracts.run_recurring(
            client, inputs.customers, inputs.sync_start, inputs.today
        )
    if inputs.annual:
        out["annual-contract"] = contracts.run_annual(client, inputs.annual, inputs.today)
    return out
