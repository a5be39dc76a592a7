"""Check results: what the wizard tells the partner about one thing it verified.

Every check has a stable id (documented in docs/checks.md), a status, a plain title, the
evidence (what Autotask answered) and the fix (where to click in Autotask). Results are stored
as plain dicts on the step (StepProgress.check_results), so they must stay JSON-friendly:
``as_dict()`` writes one, ``CheckResult.from_dict()`` reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Self

from wizard import steps
from wizard.autotask import (
    AuthenticationFailed,
    AutotaskError,
    IntegrationCodeRejected,
    PermissionDenied,
    UnknownUsername,
)
from wizard.checks.status import CheckStatus

# Errors that are Autotask's verdict on the credentials (a failed check), as opposed to
# Autotask not answering usefully (an unknown result: nothing was learned).
CREDENTIAL_ERRORS = (UnknownUsername, AuthenticationFailed, IntegrationCodeRejected)
# Their codes, as a result's ``error`` carries them: what counts towards the lockout pause.
CREDENTIAL_ERROR_CODES = frozenset(e.code for e in CREDENTIAL_ERRORS)


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: CheckStatus
    title: str
    evidence: str = ""
    fix: str = ""
    # What the check is about when it runs once per item (a customer's contract), else "".
    subject: str = ""
    # For unknown results: the error code of why Autotask could not be asked.
    error: str = ""

    def __post_init__(self) -> None:
        # A plain "pass" becomes CheckStatus.PASS; anything else is refused here, not on a page.
        object.__setattr__(self, "status", CheckStatus(self.status))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Self:
        """A result stored by ``as_dict()`` (keys it does not know are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in known})

    @property
    def refused_credentials(self) -> bool:
        """Autotask refused the credentials (counts towards locking the API user)."""
        return self.error in CREDENTIAL_ERROR_CODES


def from_error(
    check_id: str, title: str, error: AutotaskError, *, subject: str = ""
) -> CheckResult:
    """Turn an Autotask error into a result: a verdict (fail) or "could not tell" (unknown)."""
    if isinstance(error, CREDENTIAL_ERRORS):
        status = CheckStatus.FAIL
        fix = f"Fix the API user's credentials in {steps.ref('api-user')}, then verify again."
    elif isinstance(error, PermissionDenied):
        status = CheckStatus.FAIL
        level = steps.ref("security-level")
        fix = f"Add the missing right to the API user's security level ({level})."
    else:
        status, fix = CheckStatus.UNKNOWN, RETRY_LATER
    return CheckResult(
        check_id,
        status,
        title,
        evidence=error.user_message,
        fix=fix,
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
        CheckStatus.UNKNOWN,
        CONNECTION_TITLE,
        evidence=evidence,
        fix=RETRY_LATER,
        error=error.code,
    )


def worst(results: Iterable[CheckResult | Mapping[str, Any]]) -> CheckStatus | None:
    """The worst status among results, or stored results (dicts); None when there are none.

    None, not "pass": no results means nothing was verified, which is no verdict at all.
    """
    statuses = {
        r.status if isinstance(r, CheckResult) else CheckStatus(r["status"]) for r in results
    }
    return next((s for s in CheckStatus if s in statuses), None)
