"""annual-contract: the Fixed Price contract of each Seat Based Annual customer.

The Fixed Price type must be active in the tenant first (a new Autotask has only Time &
Materials and Recurring Service); then each contract gets the common checks and valid dates.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from wizard.autotask import AutotaskError
from wizard.checks.base import CheckResult
from wizard.checks.contracts import common
from wizard.checks.contracts.common import About
from wizard.checks.contracts.load import FIXED_PRICE, LoadResult, Picklists
from wizard.checks.status import CheckStatus
from wizard.facts import ACTIVATIONS_PATH

FIXED_PRICE_TITLE = "The Fixed Price contract type is active in your Autotask"
DATES_TITLE = "The contract's dates are valid"


def judge_annual(
    loaded: LoadResult,
    rows: Sequence[dict[str, Any]],
    today: datetime.date,
    *,
    time_zone: str,
) -> list[CheckResult]:
    if isinstance(loaded, AutotaskError):
        return [common.load_failed(loaded)]
    available = _fixed_price_available(loaded.picklists)
    results = [available]
    if available.status == CheckStatus.FAIL:
        # No contract can be of a type the tenant does not offer: nothing more to check.
        return results
    if not time_zone:
        results.append(common.time_zone_missing())
    for row in rows:
        out, contract, about = common.check_contract(row, loaded, FIXED_PRICE, today, time_zone)
        results += out
        if contract is not None and time_zone:
            results.append(_dates(about, contract, time_zone))
    return results


def _fixed_price_available(picklists: Picklists) -> CheckResult:
    check_id = "contract.fixed-price-available"
    if "contractType" in picklists.unreadable:
        return About("").unreadable_picklist(check_id, FIXED_PRICE_TITLE, "type")
    if picklists.type_value(FIXED_PRICE) is None:
        return CheckResult(
            check_id,
            CheckStatus.FAIL,
            FIXED_PRICE_TITLE,
            evidence="Autotask lists no active Fixed Price contract type. A new Autotask has "
            "only Time & Materials and Recurring Service active.",
            fix=f"In {ACTIVATIONS_PATH}, activate the Fixed Price contract type (or ask your "
            "Autotask administrator to), then create the annual contracts as Fixed Price and "
            "verify again.",
        )
    return CheckResult(
        check_id, CheckStatus.PASS, FIXED_PRICE_TITLE, evidence="Listed as an active contract type."
    )


def _dates(about: About, contract: dict[str, Any], time_zone: str) -> CheckResult:
    start = common.date_of(contract.get("startDate"), time_zone)
    end = common.date_of(contract.get("endDate"), time_zone)
    if start is None or (end is not None and end < start):
        return about.result(
            "contract.dates",
            CheckStatus.FAIL,
            DATES_TITLE,
            "The start date is missing or after the end date.",
            f"{common.CONTRACTS_EDIT}: correct Start Date and End Date.",
        )
    ends = f", ends {common.day(end)}." if end else ", no end date."
    return about.result(
        "contract.dates",
        CheckStatus.PASS,
        DATES_TITLE,
        f"Starts {common.in_zone(start, time_zone)}{ends}",
    )
