"""Check results: what the wizard tells the partner about one thing it verified.

Every check has a stable id (documented in docs/checks.md), a status, a plain title, the
evidence (what Autotask answered) and the fix (where to click in Autotask). Results are stored
as plain dicts on the step (StepProgress.check_results), so they must stay JSON-friendly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from wizard.autotask import (
    AuthenticationFailed,
    AutotaskError,
    IntegrationCodeRejected,
    PermissionDenied,
    UnknownUsername,
)

PASS, WARN, FAIL, UNKNOWN = "pass", "warn", "fail", "unknown"
STATUS_ORDER = (FAIL, WARN, UNKNOWN, PASS)

# Errors that are Autotask's verdict on the credentials (a failed check), as opposed to
# Autotask not answering usefully (an unknown result: nothing was learned).
CREDENTIAL_ERRORS = (UnknownUsername, AuthenticationFailed, IntegrationCodeRejected)


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: str
    title: str
    evidence: str = ""
    fix: str = ""
    # What the check is about when it runs once per item (a customer's contract), else "".
    subject: str = ""
    # For unknown results: the error code of why Autotask could not be asked.
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_error(
    check_id: str, title: str, error: AutotaskError, *, subject: str = ""
) -> CheckResult:
    """Turn an Autotask error into a result: a verdict (fail) or "could not tell" (unknown)."""
    if isinstance(error, CREDENTIAL_ERRORS):
        return CheckResult(
            check_id,
            FAIL,
            title,
            evidence=error.user_message,
            fix="Fix the API user's credentials in step 3 (The API user), then verify again.",
            subject=subject,
            error=error.code,
        )
    if isinstance(error, PermissionDenied):
        return CheckResult(
            check_id,
            FAIL,
            title,
            evidence=error.user_message,
            fix="Add the missing right to the API user's security level (step 2).",
            subject=subject,
            error=error.code,
        )
    return CheckResult(
        check_id,
        UNKNOWN,
        title,
        evidence=error.user_message,
        fix=RETRY_LATER,
        subject=subject,
        error=error.code,
    )


CONNECTION_ID = "connection"
CONNECTION_TITLE = "Autotask answered the wizard's requests"
RETRY_LATER = "Nothing to change in Autotask for this: verify again later."


def connection_result(error: AutotaskError, *, unread: str = "") -> CheckResult:
    """Autotask could not be asked usefully (throttled, thread limit, timeout, unreadable).

    That says nothing about the Secret or a right, so it is reported once, on its own, rather
    than as the result of whichever check happened to make the call.
    """
    evidence = error.user_message
    if unread:
        evidence += f" Not read: {unread}."
    return CheckResult(
        CONNECTION_ID,
        UNKNOWN,
        CONNECTION_TITLE,
        evidence=evidence,
        fix=RETRY_LATER,
        error=error.code,
    )


def worst(results: list[CheckResult]) -> str:
    statuses = {r.status for r in results}
    for status in STATUS_ORDER:
        if status in statuses:
            return status
    return PASS
