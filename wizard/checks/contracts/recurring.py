"""recurring-contract: the Recurring Service contract of each customer Billing Sync writes into.

Besides the checks every contract gets (common.py): it must start by the first day of synced
usage (billing in arrears), and preferably on the 1st, or Autotask prorates the first period.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from wizard.autotask import AutotaskError
from wizard.checks.base import CheckResult
from wizard.checks.contracts import common
from wizard.checks.contracts.common import About
from wizard.checks.contracts.load import RECURRING, LoadResult
from wizard.checks.status import CheckStatus
from wizard.steps import SYNC_START_MOST_RECENT, first_usage_date

START_TITLE = "The contract starts on or before the first day of synced usage"
FIRST_TITLE = "The contract starts on the 1st"


def judge_recurring(
    loaded: LoadResult,
    rows: Sequence[dict[str, Any]],
    sync_start: str,
    today: datetime.date,
    *,
    time_zone: str,
) -> list[CheckResult]:
    if isinstance(loaded, AutotaskError):
        return [common.load_failed(loaded)]
    first_usage = first_usage_date(sync_start, today)
    results: list[CheckResult] = [] if time_zone else [common.time_zone_missing()]
    for row in rows:
        out, contract, about = common.check_contract(row, loaded, RECURRING, today, time_zone)
        results += out
        if contract is not None and time_zone:
            start = common.date_of(contract.get("startDate"), time_zone)
            results.append(_start(about, start, first_usage, sync_start, time_zone))
            if start is not None:
                results.append(_first_of_month(about, start, time_zone))
    return results


def _start(
    about: About,
    start: datetime.date | None,
    first_usage: datetime.date,
    sync_start: str,
    time_zone: str,
) -> CheckResult:
    usage_from = common.day(first_usage)
    if start is None or start > first_usage:
        when = f"starts on {common.in_zone(start, time_zone)}" if start else "has no start date"
        later = (
            ", or start the sync with the next invoice."
            if sync_start == SYNC_START_MOST_RECENT
            else "."
        )
        return about.result(
            "contract.start-date",
            CheckStatus.FAIL,
            START_TITLE,
            f"The contract {when}; the sync copies usage from {usage_from} (billing in arrears).",
            f"{common.CONTRACTS_EDIT}: set Start Date to {usage_from} or earlier{later}",
        )
    return about.result(
        "contract.start-date",
        CheckStatus.PASS,
        START_TITLE,
        f"Starts {common.in_zone(start, time_zone)}; usage is synced from {usage_from}.",
    )


def _first_of_month(about: About, start: datetime.date, time_zone: str) -> CheckResult:
    starts = common.in_zone(start, time_zone)
    if start.day != 1:
        return about.result(
            "contract.start-first-of-month",
            CheckStatus.WARN,
            FIRST_TITLE,
            f"It starts on {starts}, the {_ordinal(start.day)} of the month, so Autotask "
            "prorates the first period and adds prorated line items.",
            f"Set Start Date to the 1st ({common.day(start.replace(day=1))}).",
        )
    return about.result(
        "contract.start-first-of-month",
        CheckStatus.PASS,
        FIRST_TITLE,
        f"Starts {starts}: no prorated line items.",
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
