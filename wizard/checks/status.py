"""A check's status: the one type for it, in the checks, the pages, the command and the database.

TextChoices gives each status a stored value ("fail"...), a label for the page and a place in
the order: the members are declared worst first, so ``list(CheckStatus)`` is the order the
results page groups them in and the order ``worst()`` ranks them by. It comes from Django's
models package but touches no database: checks/ stays free of models and I/O.
"""

from __future__ import annotations

from django.db import models


class CheckStatus(models.TextChoices):
    # Worst first: the order matters (results grouping, worst()).
    FAIL = "fail", "Failed"
    WARN = "warn", "Warnings"
    UNKNOWN = "unknown", "Could not be checked"
    PASS = "pass", "Passed"

    def counted(self, n: int) -> str:
        """``n`` results of this status in words, for a summary: "1 warning", "2 failed"."""
        singular, plural = _WORDS[self]
        return f"{n} {singular if n == 1 else plural}"


# (singular, plural) for the summary after a run ("3 passed, 1 warning").
_WORDS: dict[CheckStatus, tuple[str, str]] = {
    CheckStatus.FAIL: ("failed", "failed"),
    CheckStatus.WARN: ("warning", "warnings"),
    CheckStatus.UNKNOWN: ("could not be checked", "could not be checked"),
    CheckStatus.PASS: ("passed", "passed"),
}
