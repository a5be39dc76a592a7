"""The one way checks are run, for one step or for all of them (the review).

Signing in comes first and alone (api_user.connect: the zone lookup, then ThresholdInformation):
if Autotask refuses the credentials, nothing else is sent, because each refused call counts
towards locking the API user. After that, the reads the asked steps need do not depend on each
other, so they are made at once in a thread pool, and each step is judged from the answers. A
step verified on its own therefore takes the same two round trips (three with the zone lookup)
as the review, however many reads it makes. The client's caps still hold: 2 calls in flight per
endpoint and ``MAX_CONCURRENT_PER_TENANT`` per tenant (wizard/autotask/limits.py).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wizard.autotask import AutotaskClient, AutotaskError
from wizard.checks import api_user, contracts, security_level
from wizard.checks.base import CheckResult
from wizard.checks.status import CheckStatus

API_USER = "api-user"
SECURITY_LEVEL = "security-level"
RECURRING = "recurring-contract"
ANNUAL = "annual-contract"
# The steps that have checks, in the wizard's order (the review runs them all).
STEP_KEYS = (API_USER, SECURITY_LEVEL, RECURRING, ANNUAL)

# At most this many reads at once (the review has ten; the client's caps apply on top).
PARALLEL_READS = 10


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


class Unreachable(Exception):
    """Autotask could not be asked (background runs only): nothing was learned."""


class Postponed(Exception):
    """The tenant's API usage is too high to spend more of it now (background runs only)."""

    def __init__(self, usage_ratio: float) -> None:
        super().__init__(f"API usage at {usage_ratio:.0%} of the hourly threshold")
        self.usage_ratio = usage_ratio


def run(
    client: AutotaskClient,
    inputs: Inputs,
    steps: Iterable[str] = STEP_KEYS,
    *,
    background: bool = False,
    postpone_above: float | None = None,
) -> dict[str, list[CheckResult]]:
    """The results of each asked step that has something to check, keyed by step.

    A contract step without its inputs (customers and a sync start; annual contracts) is left
    out. ``background``: a run nobody waits for (the daily re-check): when Autotask cannot be
    asked at all it raises Unreachable instead of returning "could not check" results, so the
    last real answers stay. ``postpone_above`` (background runs only): a share of the hourly
    API threshold above which the run raises Postponed after signing in, before any other call.
    """
    if postpone_above is not None and not background:
        raise ValueError("postpone_above is for background runs: a person waits for an answer")
    asked = _asked(steps, inputs)
    connection = api_user.connect(client)
    if not connection.ok:
        return _not_connected(connection, asked, background=background)
    usage = connection.threshold.usage_ratio if connection.threshold else 0.0
    if postpone_above is not None and usage > postpone_above:
        # Autotask slows every call from 50 % and suspends the API at 100 %, for every
        # integration of the tenant: a routine re-check must not push it further.
        raise Postponed(usage)
    answers = _read_all(_reads(client, inputs, asked))
    judges: dict[str, Callable[[], list[CheckResult]]] = {
        API_USER: lambda: api_user.finish(connection, answers[api_user.COMPANY]),
        SECURITY_LEVEL: lambda: security_level.judge_answers(answers),
        RECURRING: lambda: contracts.judge_recurring(
            contracts.loaded(answers),
            inputs.customers,
            inputs.sync_start,
            inputs.today,
            time_zone=inputs.time_zone,
        ),
        ANNUAL: lambda: contracts.judge_annual(
            contracts.loaded(answers), inputs.annual or [], inputs.today, time_zone=inputs.time_zone
        ),
    }
    return {key: judges[key]() for key in asked}


def _asked(steps: Iterable[str], inputs: Inputs) -> list[str]:
    """The asked steps that have something to check, in the wizard's order."""
    wanted = set(steps)
    unknown = wanted.difference(STEP_KEYS)
    if unknown:
        raise ValueError(f"no checks for step(s) {sorted(unknown)}")
    ready = {
        API_USER: True,
        SECURITY_LEVEL: True,
        RECURRING: bool(inputs.customers and inputs.sync_start),
        ANNUAL: bool(inputs.annual),
    }
    return [key for key in STEP_KEYS if key in wanted and ready[key]]


def _not_connected(
    connection: api_user.Connection, asked: list[str], *, background: bool
) -> dict[str, list[CheckResult]]:
    """The sign-in failed: nothing else was sent, and its results say why."""
    if background and not any(r.status == CheckStatus.FAIL for r in connection.results):
        # A background run that could not reach Autotask learned nothing: keep what the last
        # real answer said rather than overwrite it with "could not check".
        raise Unreachable(next((r.evidence for r in connection.results if r.error), ""))
    if API_USER in asked:
        # The sign-in is the api-user step's own check: its results belong there.
        return {API_USER: connection.results}
    # Another step verified on its own: it shows the sign-in's failure (a refused credential
    # or one connection result), the reason it has no verdict of its own.
    failed = [r for r in connection.results if r.error]
    return {key: list(failed) for key in asked}


Reads = Mapping[str, Callable[[], Any]]


def _reads(client: AutotaskClient, inputs: Inputs, asked: list[str]) -> Reads:
    """Every read the asked steps need, by name; the contract steps share theirs."""
    reads: dict[str, Callable[[], Any]] = {}
    if API_USER in asked:
        reads.update(api_user.reads(client))
    if SECURITY_LEVEL in asked:
        reads.update(security_level.reads(client))
    rows = [
        *(inputs.customers if RECURRING in asked else []),
        *((inputs.annual or []) if ANNUAL in asked else []),
    ]
    if rows:
        # One Contracts query and one Companies query for both steps' contracts together.
        reads.update(contracts.reads(client, rows))
    return reads


def _read_all(reads: Reads) -> dict[str, Any]:
    """Each read's answer, or the AutotaskError it raised (other errors propagate)."""
    if not reads:
        return {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(reads))) as pool:
        futures = {name: pool.submit(read) for name, read in reads.items()}
    return {name: _value(future) for name, future in futures.items()}


def _value(future: Future[Any]) -> Any:
    try:
        return future.result()
    except AutotaskError as e:
        return e
