"""The Autotask service layer: a REST API client, typed errors and value types.

Imports nothing from Django: all configuration arrives through constructor arguments.
client.py has the public calls, transport.py the one path they are sent through, parsing.py
reads the answers, errors.py and error_mapping.py say what went wrong. Import from here.
"""

from __future__ import annotations

from wizard.autotask.client import (
    AutotaskClient,
    build_session,
    clear_zone_cache,
)
from wizard.autotask.error_mapping import error_from_response
from wizard.autotask.errors import (
    AuthenticationFailed,
    AutotaskError,
    BrokenAnswer,
    Busy,
    DeadlineExceeded,
    IntegrationCodeRejected,
    NotFound,
    PermissionDenied,
    RequestRejected,
    ServerError,
    ThreadLimitExceeded,
    Throttled,
    TimedOut,
    TooManyResults,
    Unavailable,
    UnexpectedValue,
    UnknownUsername,
)
from wizard.autotask.types import (
    AccessLevel,
    Credentials,
    EntityAccess,
    FieldInfo,
    Page,
    PicklistValue,
    Threshold,
    Zone,
)

__all__ = [
    "AccessLevel",
    "AuthenticationFailed",
    "AutotaskClient",
    "AutotaskError",
    "BrokenAnswer",
    "Busy",
    "Credentials",
    "DeadlineExceeded",
    "EntityAccess",
    "FieldInfo",
    "IntegrationCodeRejected",
    "NotFound",
    "Page",
    "PermissionDenied",
    "PicklistValue",
    "RequestRejected",
    "ServerError",
    "ThreadLimitExceeded",
    "Threshold",
    "Throttled",
    "TimedOut",
    "TooManyResults",
    "Unavailable",
    "UnexpectedValue",
    "UnknownUsername",
    "Zone",
    "build_session",
    "clear_zone_cache",
    "error_from_response",
]
