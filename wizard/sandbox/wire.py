"""What travels on the wire: Autotask's limits and texts, the routes, the answers.

Shapes and error texts follow /work/shared/reference/autotask-rest-api.md; where the reference
marks a behaviour UNCONFIRMED, the choice made here is commented as such.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

from wizard.sandbox.entities import ENTITY_BY_LOWER

# Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/General/ThreadLimiting.htm
THREAD_LIMIT: Final = 3
# Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
REQUEST_THRESHOLD: Final = 10_000
THRESHOLD_TIMEFRAME_MINUTES: Final = 60

ZONE_UNKNOWN: Final = "Zone information could not be determined"
CODE_INVALID: Final = "IntegrationCode is invalid."
NO_QUERY_RIGHTS: Final = (
    "The logged in Resource does not have the adequate permissions to query this entity type."
)
THREAD_EXCEEDED: Final = (
    f"Itgenatr005: The Autotask API thread threshold of {THREAD_LIMIT} threads has been exceeded."
)
# The 429 body is UNCONFIRMED (reference section 5.4); clients must rely on status + Retry-After.
THROTTLED: Final = "The API request rate is being limited. Retry after 1 second."

JSON_TYPE: Final = "application/json; charset=utf-8"
FLAKY_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    b"request. Please try again later.</p></body></html>"
)
# A body cut off mid-stream, as a dropped proxy connection would deliver it.
BROKEN_BODY: Final = b'{"items":[{"id":0,"companyName":"Northwind IT Serv'


@dataclass(frozen=True)
class SandboxResponse:
    """One answer, before the adapter or the server turn it into an HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SandboxTimeout(TimeoutError):
    """The emulated latency exceeded the caller's read timeout."""


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> SandboxResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SandboxResponse(status, {"Content-Type": JSON_TYPE, **(headers or {})}, body)


def errors(status: int, *messages: str) -> SandboxResponse:
    # Reference: section 3.3 of the reference; errors come back as {"errors": [...]}.
    return json_response(status, {"errors": list(messages)})


def not_found(url: str) -> SandboxResponse:
    # ASP.NET Web API's default for an unrouted URI; the exact Autotask body is UNCONFIRMED.
    return json_response(
        404, {"Message": f"No HTTP resource was found that matches the request URI '{url}'."}
    )


# --- routing ---------------------------------------------------------------------------------

RouteKind = Literal[
    "zone", "threshold", "entity_info", "entity_fields", "item", "query", "next", "count", "none"
]


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    endpoint: str
    entity: str = ""
    item_id: int = 0
    params: Mapping[str, list[str]] = field(default_factory=dict)


def route_for(url: str) -> Route:
    """Map a URL to an endpoint; ``atservicesrest`` and ``v1.0`` match in any case."""
    # Reference: section 1.1 of the reference; clients use both atservicesrest/v1.0 and
    # ATServicesRest/V1.0, and zoneInformation returns the mixed-case form.
    parts = urlsplit(url)
    params = parse_qs(parts.query, keep_blank_values=True)
    segments = [s for s in parts.path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if "atservicesrest" not in lowered:
        return Route("none", "unknown")
    rest = lowered[lowered.index("atservicesrest") + 1 :]
    if not rest or rest[0] != "v1.0":
        return Route("none", "unknown")
    rest = rest[1:]
    if rest == ["zoneinformation"]:
        return Route("zone", "zoneInformation", params=params)
    if rest == ["thresholdinformation"]:
        return Route("threshold", "ThresholdInformation")
    if not rest or rest[0] not in ENTITY_BY_LOWER:
        return Route("none", "unknown")
    entity = ENTITY_BY_LOWER[rest[0]]
    tail = rest[1:]
    simple: dict[tuple[str, ...], tuple[RouteKind, str]] = {
        ("entityinformation",): ("entity_info", "entityInformation"),
        ("entityinformation", "fields"): ("entity_fields", "entityInformation/fields"),
        ("query",): ("query", "query"),
        ("query", "next"): ("next", "query"),
        ("query", "count"): ("count", "query/count"),
    }
    if tuple(tail) in simple:
        kind, suffix = simple[tuple(tail)]
        return Route(kind, f"{entity}/{suffix}", entity, params=params)
    if len(tail) == 1 and tail[0].isdigit():
        return Route("item", f"{entity}/{{id}}", entity, int(tail[0]), params)
    return Route("none", "unknown")
