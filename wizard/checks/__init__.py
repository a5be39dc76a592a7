"""Verification: turns Autotask's answers into check results, one module per verifying step.

No views, no database, no HTTP details here: a check gets an AutotaskClient and the partner's
non-secret inputs, and returns CheckResults. ``run`` (engine.py) runs them, for one step or for
the review. The catalogue of ids is docs/checks.md.
"""

from __future__ import annotations

from wizard.checks.base import CheckResult, worst
from wizard.checks.engine import STEP_KEYS, Inputs, Postponed, Unreachable, run
from wizard.checks.status import CheckStatus

__all__ = [
    "STEP_KEYS",
    "CheckResult",
    "CheckStatus",
    "Inputs",
    "Postponed",
    "Unreachable",
    "run",
    "worst",
]
