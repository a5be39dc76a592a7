"""The Autotask service layer: a REST API client, typed errors and value types.

Imports nothing from Django: all configuration arrives through constructor arguments.
"""

from __future__ import annotations

from wizard.autotask.client import (
    DEFAULT_ZONE_INFORMATION_URL,
    AutotaskClient,
    build_session,
    clear_zone_cache,
)
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
    error_from_response,
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
    "DEFAULT_ZONE_INFORMATION_URL",
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
