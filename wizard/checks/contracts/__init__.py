"""recurring-contract and annual-contract: the contracts Billing Sync will write into.

load.py reads them (three calls, whatever the number of customers), common.py has the checks
every contract gets, recurring.py and annual.py what each kind adds.
Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/Entities/ContractsEntity.htm
"""

from __future__ import annotations

from wizard.checks.contracts.annual import judge_annual
from wizard.checks.contracts.common import names_from_subject
from wizard.checks.contracts.load import (
    Loaded,
    LoadResult,
    Picklists,
    fetch_companies,
    fetch_contracts,
    fetch_picklists,
    loaded,
    reads,
)
from wizard.checks.contracts.recurring import judge_recurring

__all__ = [
    "LoadResult",
    "Loaded",
    "Picklists",
    "fetch_companies",
    "fetch_contracts",
    "fetch_picklists",
    "judge_annual",
    "judge_recurring",
    "loaded",
    "names_from_subject",
    "reads",
]
