"""Typed Autotask errors, each with a plain-English ``user_message`` a page can show as is.

Which answer becomes which error is decided in one place, error_mapping.py. Each class says
whether a read may be retried after it and whether it is about getting an answer at all
(``transport``) rather than what Autotask said about this user or record.

No error ever carries a request header, a query string or the API secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

VENDOR_NAME = "Rhipe - Cloud Services"

# Raw Autotask text is quoted in messages; keep it readable and bounded.
_MAX_QUOTED_ERRORS = 3
_MAX_QUOTED_CHARS = 300


def _quote(errors: Sequence[str]) -> str:
    shown = [
        e if len(e) <= _MAX_QUOTED_CHARS else e[:_MAX_QUOTED_CHARS] + "…"
        for e in errors[:_MAX_QUOTED_ERRORS]
    ]
    return " ".join(f"“{e.strip()}”" for e in shown)


class AutotaskError(Exception):
    """Base class: anything that went wrong talking to Autotask."""

    code: ClassVar[str] = "autotask_error"
    # Whether a read may safely be sent again after this error (the client decides how often).
    retryable: ClassVar[bool] = False
    # Whether this is about getting an answer at all (throttled, thread limit, timeout,
    # unreachable, unreadable), as opposed to what Autotask said about this user or record.
    # Checks report these as one "connection" result, never as a verdict on a setting.
    transport: ClassVar[bool] = False

    def __init__(
        self,
        user_message: str | None = None,
        *,
        status: int | None = None,
        errors: Sequence[str] = (),
        endpoint: str = "",
    ) -> None:
        self.status = status
        self.errors: list[str] = [str(e) for e in errors]
        self.endpoint = endpoint
        self.user_message = user_message or self.default_message()
        super().__init__(self.user_message)

    def default_message(self) -> str:
        if self.errors:
            return f"Autotask reported an error: {_quote(self.errors)}"
        return "Something went wrong while talking to Autotask. Try again in a few minutes."

    def __str__(self) -> str:
        return self.user_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, "
            f"endpoint={self.endpoint!r}, user_message={self.user_message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep status/errors/endpoint when pickled (e.g. by a task queue); Exception's default
        # only replays args.
        return (_restore, (type(self), self.__dict__.copy()))

    def redact(self, *values: str) -> None:
        """Blank out the given strings (the secret) wherever Autotask might have echoed them."""
        for value in values:
            if len(value) < 4:
                # Replacing very short strings would garble the message and hides nothing.
                continue
            self.user_message = self.user_message.replace(value, "***")
            self.errors = [e.replace(value, "***") for e in self.errors]
        self.args = (self.user_message,)


def _restore(cls: type[AutotaskError], state: dict[str, Any]) -> AutotaskError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (error.user_message,)
    return error


class UnknownUsername(AutotaskError):
    code = "unknown_username"

    def default_message(self) -> str:
        return (
            "Autotask does not know this API username. Copy the Username exactly as shown on the "
            "API user in Autotask (Admin > Resources (Users)); it looks like an email address. "
            "A newly created API user can take up to 5 minutes to become available."
        )


class AuthenticationFailed(AutotaskError):
    code = "authentication_failed"

    def default_message(self) -> str:
        return (
            "Autotask rejected the API user's credentials. Possible causes: the Secret is wrong "
            "(it cannot be viewed again in Autotask; generate a new one if in doubt); the API "
            "user is inactive or locked (check Active is ticked and Locked is not); the API user's "
            f"Integration Vendor is not '{VENDOR_NAME}'. Fix the cause, then check again. "
            "The call was not retried: repeated failures lock the API user."
        )


class IntegrationCodeRejected(AutotaskError):
    code = "integration_code_rejected"

    def default_message(self) -> str:
        return (
            "Autotask rejected the integration code sent for this API user. The API user's "
            f"Integration Vendor must be '{VENDOR_NAME}'. Possible causes: another vendor, or a "
            "custom (internal) integration, is selected on the API user; the API user was changed "
            "a few minutes ago and the change is not active yet. Open the API user in Autotask "
            f"(Admin > Resources (Users)), select '{VENDOR_NAME}' as Integration Vendor, save, "
            "then check again."
        )


class PermissionDenied(AutotaskError):
    code = "permission_denied"

    def default_message(self) -> str:
        said = f" Autotask said: {_quote(self.errors)}" if self.errors else ""
        return (
            "The API user's security level does not allow this request."
            f"{said} Add the missing permission to the security level, then check again."
        )


class ThreadLimitExceeded(AutotaskError):
    code = "thread_limit_exceeded"
    transport = True
    retryable = True

    def default_message(self) -> str:
        return (
            "Too many requests were running at once for this integration (Autotask's thread "
            "limit). Wait a minute, then try again."
        )


class Throttled(AutotaskError):
    code = "throttled"
    transport = True
    retryable = True

    def __init__(
        self,
        user_message: str | None = None,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        errors: Sequence[str] = (),
        endpoint: str = "",
    ) -> None:
        self.retry_after = retry_after
        super().__init__(user_message, status=status, errors=errors, endpoint=endpoint)

    def default_message(self) -> str:
        when = "in a few minutes"
        if self.retry_after is not None:
            minutes = max(1, round(self.retry_after / 60))
            seconds = round(self.retry_after)
            when = (
                f"in about {seconds} second{'s' if seconds != 1 else ''}"
                if self.retry_after < 90
                else f"in about {minutes} minutes"
            )
        return (
            "Autotask is limiting requests: the tenant is at its API usage threshold, which every "
            f"integration of the tenant shares. Try again {when}."
        )


class Unavailable(AutotaskError):
    code = "unavailable"
    transport = True
    retryable = True

    def default_message(self) -> str:
        return (
            "Autotask could not be reached or is temporarily unavailable. "
            "Try again in a few minutes."
        )


class TimedOut(Unavailable):
    code = "timed_out"

    def default_message(self) -> str:
        return (
            "Autotask did not answer in time. Try again in a few minutes; nothing you saved is "
            "lost."
        )


class DeadlineExceeded(TimedOut):
    """The request a person waits for spent its overall budget for Autotask (see the client's
    ``deadline``). Never retried: there is no time left, and the page must answer now."""

    code = "deadline_exceeded"
    retryable = False

    def default_message(self) -> str:
        return (
            "Autotask did not answer in time, so this could not be checked. Try again later; "
            "nothing you saved is lost."
        )


class Busy(Unavailable):
    """Every slot of the tenant's concurrency cap stayed taken until the request's deadline."""

    code = "busy"
    retryable = False

    def default_message(self) -> str:
        return (
            "Autotask is still busy with earlier requests for your organisation, so this could "
            "not be checked in time. Try again in a minute; nothing you saved is lost."
        )


class BrokenAnswer(AutotaskError):
    code = "broken_answer"
    transport = True

    def __init__(
        self,
        user_message: str | None = None,
        *,
        detail: str = "",
        status: int | None = None,
        errors: Sequence[str] = (),
        endpoint: str = "",
    ) -> None:
        # detail says what was wrong with the answer, for the default message and the logs.
        self.detail = detail
        super().__init__(user_message, status=status, errors=errors, endpoint=endpoint)

    def default_message(self) -> str:
        what = f" ({self.detail})" if self.detail else ""
        return (
            f"Autotask sent an answer the wizard cannot read{what}. Try again in a few minutes; "
            "if it keeps happening, contact support."
        )


class UnexpectedValue(BrokenAnswer):
    """One value in an otherwise readable answer is not one Autotask documents or was seen to
    send (a permission level that is neither a known number nor a known name). Only what
    depends on that value is unknown; it says nothing about the connection."""

    code = "unexpected_value"
    transport = False


class TooManyResults(AutotaskError):
    code = "too_many_results"

    def default_message(self) -> str:
        return (
            "Autotask has more matching records than the wizard reads in one go. "
            "Narrow the search, then try again."
        )


class NotFound(AutotaskError):
    code = "not_found"

    def default_message(self) -> str:
        return "Autotask has no such record."


class RequestRejected(AutotaskError):
    """A 4xx other than 401/403/404/429: the request itself was refused."""

    code = "request_rejected"

    def default_message(self) -> str:
        said = f" Autotask said: {_quote(self.errors)}" if self.errors else ""
        return f"Autotask refused the request (HTTP {self.status}).{said}"


class ServerError(AutotaskError):
    """HTTP 500 with an errors[] text the wizard does not recognise: show Autotask's words."""

    code = "server_error"

    def default_message(self) -> str:
        return (
            f"Autotask reported an error: {_quote(self.errors)} "
            "If the text does not tell you what to change, try again later or contact support "
            "with this message."
        )
