"""Plain value types exchanged with the Autotask REST API client.

Frozen dataclasses only: no Django, no I/O. See docs and DESIGN.md section 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


@dataclass(frozen=True, repr=False)
class Credentials:
    """An API user's credentials plus the distributor's integration code (tracking identifier)."""

    username: str
    secret: str
    integration_code: str

    def __repr__(self) -> str:
        # The secret and the integration code never reach logs, tracebacks or error pages.
        return f"Credentials(username={self.username!r}, secret=***, integration_code=***)"

    __str__ = __repr__

    def headers(self) -> dict[str, str]:
        """The three authentication headers Autotask expects on every call but zone discovery."""
        # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Security_Auth.htm
        # ImpersonationResourceId is deliberately absent: the wizard only reads, and on queries
        # that header causes "does not have the adequate permissions" errors.
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
            "Content-Type": "application/json",
        }


@dataclass(frozen=True)
class Zone:
    """Where a tenant's data lives, as zoneInformation reports it."""

    name: str
    url: str  # e.g. "https://webservices15.autotask.net/ATServicesRest/", used exactly as given
    web_url: str  # e.g. "https://ww15.autotask.net/", where the partner logs in
    ci: int | None  # Autotask's id of the tenant database: stable tenant identity

    @property
    def api_base_url(self) -> str:
        """The versioned REST root every entity path is appended to."""
        return f"{self.url}V1.0/"


@dataclass(frozen=True)
class Threshold:
    """API usage in the current rolling window (shared by every integration of the tenant)."""

    limit: int
    timeframe_minutes: int
    current_count: int

    @property
    def usage_ratio(self) -> float:
        """Fraction of the threshold used; Autotask adds latency from 0.5 and suspends at 1.0."""
        if self.limit <= 0:
            return 0.0
        return self.current_count / self.limit


class AccessLevel(IntEnum):
    """Values of entityInformation's userAccessFor* fields.

    Documented as 0/1/2, but real Autotask answers the names "None", "All" and "Restricted"
    (reference, Corrections 1): :meth:`parse` accepts both, case-insensitively.
    """

    NONE = 0
    ALL = 1
    RESTRICTED = 2  # depends on conditions such as "mine", so data may be silently filtered

    @classmethod
    def parse(cls, raw: object) -> AccessLevel | None:
        """The level for a number or a name, or None for anything else (a bool is not a level)."""
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return cls(raw) if raw in cls._value2member_map_ else None
        if isinstance(raw, str):
            return cls.__members__.get(raw.strip().upper())
        return None


@dataclass(frozen=True)
class EntityAccess:
    """What the calling API user may do with one entity (its security level, as seen by the API)."""

    entity: str
    can_query: bool  # what the entity supports at all, for anyone
    can_create: bool
    can_update: bool
    can_delete: bool
    query: AccessLevel  # this user's level for each operation
    create: AccessLevel
    update: AccessLevel
    delete: AccessLevel


@dataclass(frozen=True)
class PicklistValue:
    value: str  # always a string, even for integer fields
    label: str
    is_active: bool


@dataclass(frozen=True)
class FieldInfo:
    name: str
    data_type: str
    is_picklist: bool
    picklist: tuple[PicklistValue, ...]
    # True when an entry of this field's picklist could not be read: the field's picklist is
    # then unknown (empty), while every other field stays usable.
    picklist_unreadable: bool = False


@dataclass(frozen=True)
class Page:
    """One page of a query; next_page_url is None on the last page."""

    items: list[dict[str, Any]]
    next_page_url: str | None
