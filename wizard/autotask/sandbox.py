"""A faithful emulator of the subset of the Autotask REST API that the wizard uses.

The core is :meth:`Sandbox.handle`, a pure ``(method, url, headers, body) -> SandboxResponse``
function over mutable in-memory state, so it can be served three ways:

* in-process, through :class:`SandboxAdapter` mounted on a ``requests.Session``
  (:func:`install_sandbox`; the app does this when ``AUTOTASK_SANDBOX=true``);
* as a standalone HTTP server on 127.0.0.1 (:func:`serve`, ``manage.py autotask_sandbox``);
* directly from tests.

The API username picks a scenario (:data:`SCENARIOS`): a healthy tenant, or one of the failure
modes the wizard must tell apart. Every sandbox user's correct secret is :data:`SANDBOX_SECRET`.
Shapes and error texts follow /work/shared/reference/autotask-rest-api.md; where the reference
marks a behaviour UNCONFIRMED, the choice made here is commented as such.

This module imports nothing from Django.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any, Final, Literal, cast
from urllib.parse import parse_qs, quote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from wizard.autotask.dates import today_in
from wizard.autotask.sandbox_data import (
    CANCELLATION,
    CUSTOMER,
    DEFAULT_TIME_ZONE,
    DEMO_CONTRACTS,
    ENTITIES,
    ENTITY_CAPABILITIES,
    ENTITY_FIELDS,
    OWN_COMPANY_NAME,
    Dataset,
    FieldSpec,
    JsonDict,
    build_dataset,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIME_ZONE",
    "DEMO_CONTRACTS",
    "OWN_COMPANY_NAME",
    "SANDBOX_SECRET",
    "SCENARIOS",
    "Access",
    "Sandbox",
    "SandboxAdapter",
    "SandboxResponse",
    "SandboxTimeout",
    "Scenario",
    "default_sandbox",
    "install_sandbox",
    "serve",
    "zone_information_url",
]

logger = logging.getLogger(__name__)

#: The correct secret of every sandbox user (documented in docs/sandbox.md).
SANDBOX_SECRET: Final = "sandbox-secret"
#: Where the in-process sandbox pretends to live; ``.test`` never resolves, so nothing leaks out.
DEFAULT_BASE_URL: Final = "https://webservices-sandbox.autotask.test/ATServicesRest/"
SANDBOX_DOMAIN: Final = "sandbox.example"

# Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/General/ThreadLimiting.htm
THREAD_LIMIT: Final = 3
# Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
MAX_PAGE_SIZE: Final = 500
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

MAX_RECORDS_RANGE: Final = "maxCountOfRecordsToReturn must be between 1 and 500"

_JSON: Final = "application/json; charset=utf-8"
_FLAKY_PAGE: Final = (
    b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
    b"<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your "
    b"request. Please try again later.</p></body></html>"
)
# A body cut off mid-stream, as a dropped proxy connection would deliver it.
_BROKEN_BODY: Final = b'{"items":[{"id":0,"companyName":"Northwind IT Serv'


# --- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """``userAccessFor*`` values of one entity: 0 None, 1 All, 2 Restricted."""

    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    query: int = 0
    create: int = 0
    update: int = 0
    delete: int = 0


_ALL = Access(1, 1, 1, 1)
# How entityInformation spells the levels on the wire (reference, Corrections 1).
_LEVEL_NAMES: Final[Mapping[int, str]] = {0: "None", 1: "All", 2: "Restricted"}

# The least-privilege security level the guide asks for (DESIGN.md section 4, reference 7.4).
# CRM access is set per company type and the guide grants only Customer and Cancellation, so
# Autotask reports Companies as Restricted (reference, Corrections): those types stay visible.
HEALTHY_ACCESS: Final[Mapping[str, Access]] = {
    "Companies": Access(query=2),
    "Contracts": Access(query=1, update=1),
    "ContractServices": Access(query=1, create=1, update=1),
    "ContractServiceUnits": Access(query=1),
    "Services": Access(query=1, create=1, update=1),
    "Products": _ALL,
}
# The default "API User (system)" level: full-admin-equivalent (reference section 4.7).
FULL_ACCESS: Final[Mapping[str, Access]] = dict.fromkeys(ENTITIES, _ALL)
MISSING_RIGHTS_ACCESS: Final[Mapping[str, Access]] = {
    **HEALTHY_ACCESS,
    "Contracts": Access(query=1, update=0),
    "Services": Access(query=0, create=1, update=1),
}
RESTRICTED_ACCESS: Final[Mapping[str, Access]] = {
    **HEALTHY_ACCESS,
    "Contracts": Access(query=2, update=1),
}

Fault = Literal["throttled", "thread-limit", "flaky", "broken"]


@dataclass(frozen=True)
class Scenario:
    """What one sandbox API user simulates, and what the wizard should conclude from it."""

    key: str
    title: str
    description: str
    diagnosis: str
    known_user: bool = True
    secret_rejected: bool = False
    code_rejected: bool = False
    access: Mapping[str, Access] = field(default_factory=lambda: dict(HEALTHY_ACCESS))
    costs_hidden: bool = False
    # How hidden costs come back: null, or 0 (both possible; reference, Corrections).
    hidden_cost: float | None = None
    # Contract type values not active in this tenant: a new Autotask has only Time and
    # Materials and Recurring Service active (help page "ContractsConfigure").
    inactive_contract_types: frozenset[str] = frozenset()
    threshold_start: int = 0
    fault: Fault | None = None
    latency: float = 0.0
    # The tenant's time zone: its date-only fields are served as the UTC instant of local
    # midnight there; ``fractional_dates`` writes them with ".000" seconds (reference,
    # "Corrections (December 2026)" point 2: both forms occur).
    time_zone: str = DEFAULT_TIME_ZONE
    fractional_dates: bool = False

    @property
    def username(self) -> str:
        return f"{self.key}@{SANDBOX_DOMAIN}"


_SCENARIO_LIST: Final = (
    Scenario(
        "healthy",
        "Healthy tenant",
        "Everything is set up as the guide asks: least-privilege rights, contracts, services. "
        "In Australia/Sydney, like every scenario unless it says otherwise.",
        "All connection and permission checks pass; contract checks depend on the contract picked.",
    ),
    Scenario(
        "america",
        "Healthy tenant in New York",
        "As 'healthy', in America/New_York: dates come back as the UTC instant of New York "
        "midnight with fractional seconds (2026-02-01T05:00:00.000Z is 1 February).",
        "Everything as for 'healthy', on the same local dates: read in America/New_York, no "
        "date is a day off.",
        time_zone="America/New_York",
        fractional_dates=True,
    ),
    Scenario(
        "auckland",
        "Healthy tenant in Auckland",
        "As 'healthy', in Pacific/Auckland (UTC+13 in summer): a contract starting 1 February "
        "comes back as 2026-01-31T11:00:00Z.",
        "Everything as for 'healthy', on the same local dates: read in Pacific/Auckland, no "
        "date is a day off.",
        time_zone="Pacific/Auckland",
    ),
    Scenario(
        "unknown",
        "Unknown username",
        "The username does not exist in any Autotask zone (a typo, or not an API user).",
        "Zone lookup fails: 'Autotask does not know this username'; check the API user's "
        "Username (Key) in Admin > Resources/Users.",
        known_user=False,
    ),
    Scenario(
        "wrong-secret",
        "Wrong secret",
        "Autotask answers 401 even to the right secret, as for an expired or changed password.",
        "Authentication failed: the Secret is wrong or expired; generate a new one on the API "
        "user and enter it. Never retried (lockout risk).",
        secret_rejected=True,
    ),
    Scenario(
        "code-rejected",
        "Integration code rejected",
        "The API user is tied to another Integration Vendor, so our integration code is refused.",
        "IntegrationCode is invalid: set the API user's Integration Vendor to "
        "'Rhipe - Cloud Services' (API Tracking Identifier).",
        code_rejected=True,
    ),
    Scenario(
        "missing-rights",
        "Missing rights",
        "A custom security level without Contracts update and without Services query.",
        "Permission check fails naming Contracts > Edit and Services (view) to tick; the "
        "Services query answers 'does not have the adequate permissions'.",
        access=MISSING_RIGHTS_ACCESS,
    ),
    Scenario(
        "restricted-rights",
        "Restricted contract visibility",
        "Contracts query access is Restricted: queries succeed but return no contracts.",
        "Warn that contract visibility is restricted (e.g. 'Mine'); an empty list is not proof "
        "that no contract exists. Set Contracts view to All.",
        access=RESTRICTED_ACCESS,
    ),
    Scenario(
        "full-default",
        "Default API User (system) level",
        "The API user keeps the built-in full-access level: every right on every entity.",
        "Works, but not least privilege: recommend a copied, restricted security level.",
        access=FULL_ACCESS,
    ),
    Scenario(
        "costs-hidden",
        "Costs hidden",
        "The level cannot view internal costs: unitCost comes back null on Services/Products.",
        "Warn: tick 'Can View Internal Cost and Sensitive Data' (inferred from null costs).",
        costs_hidden=True,
    ),
    Scenario(
        "costs-zero",
        "Costs hidden as zero",
        "The level cannot view internal costs, and Autotask answers unitCost 0 instead of null.",
        "Warn 'could not tell': all-zero costs neither prove nor disprove cost visibility.",
        costs_hidden=True,
        hidden_cost=0.0,
    ),
    Scenario(
        "fresh-tenant",
        "New Autotask tenant",
        "Set up as the guide asks, on a new Autotask: only the Time and Materials and Recurring "
        "Service contract types are active, so Fixed Price is not.",
        "Annual step fails 'The Fixed Price contract type is active', naming where to activate "
        "it; everything else passes.",
        inactive_contract_types=frozenset({"3", "4", "6", "8"}),
    ),
    Scenario(
        "near-threshold",
        "Near the API threshold",
        "The tenant already used 6,200 of its 10,000 requests this hour (Autotask adds latency).",
        "Warn that the tenant is at 62% of its hourly API threshold; defer heavy checks.",
        threshold_start=6200,
    ),
    Scenario(
        "throttled",
        "Throttled",
        "Every authenticated call answers HTTP 429 with Retry-After: 1.",
        "Autotask is throttling requests; retry later (unknown result, not a failure).",
        fault="throttled",
    ),
    Scenario(
        "thread-limit",
        "Thread limit exceeded",
        "Every authenticated call answers HTTP 500 Itgenatr005 (thread threshold exceeded).",
        "Too many concurrent calls for this integration; retry later (unknown result).",
        fault="thread-limit",
    ),
    Scenario(
        "slow",
        "Slow zone",
        "Every call takes 2 extra seconds.",
        "All checks pass, slowly; progress stays visible and nothing times out below 2 s.",
        latency=2.0,
    ),
    Scenario(
        "flaky",
        "Flaky network",
        "Every second authenticated call answers HTTP 503 with an HTML page.",
        "Reads are retried and pass; if retries run out, the result is unknown, not failed.",
        fault="flaky",
    ),
    Scenario(
        "broken",
        "Broken answers",
        "Authenticated calls answer HTTP 200 with malformed JSON.",
        "Autotask answered something unreadable; result unknown, try again later.",
        fault="broken",
    ),
)

#: Scenarios by API username; any other username behaves like ``unknown@sandbox.example``.
SCENARIOS: Final[dict[str, Scenario]] = {s.username: s for s in _SCENARIO_LIST}


# --- responses -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SandboxTimeout(TimeoutError):
    """The emulated latency exceeded the caller's read timeout."""


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> SandboxResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SandboxResponse(status, {"Content-Type": _JSON, **(headers or {})}, body)


def _errors(status: int, *messages: str) -> SandboxResponse:
    # Reference: section 3.3 of the reference; errors come back as {"errors": [...]}.
    return _json(status, {"errors": list(messages)})


def _not_found(url: str) -> SandboxResponse:
    # ASP.NET Web API's default for an unrouted URI; the exact Autotask body is UNCONFIRMED.
    return _json(
        404, {"Message": f"No HTTP resource was found that matches the request URI '{url}'."}
    )


def _visible_when_restricted(entity: str, row: JsonDict) -> bool:
    """What a Restricted level still sees: for Companies, the company types granted All.

    The guide's CRM setting grants Customer and Cancellation, so those stay visible; your own
    company and prospects, vendors and partners do not. Other entities restricted to "Mine"
    show nothing: API users own no records.
    """
    return entity == "Companies" and row.get("companyType") in (CUSTOMER, CANCELLATION)


class _QueryError(Exception):
    """A malformed query; Autotask reports validation errors as HTTP 500 with errors[]."""


class _NoRights(Exception):
    """The user's security level has no query access to the entity."""


# --- routing ---------------------------------------------------------------------------------

RouteKind = Literal[
    "zone", "threshold", "entity_info", "entity_fields", "item", "query", "next", "count", "none"
]


@dataclass(frozen=True)
class _Route:
    kind: RouteKind
    endpoint: str
    entity: str = ""
    item_id: int = 0
    params: Mapping[str, list[str]] = field(default_factory=dict)


_ENTITY_BY_LOWER: Final = {name.lower(): name for name in ENTITIES}


def _route(url: str) -> _Route:
    """Map a URL to an endpoint; ``atservicesrest`` and ``v1.0`` match in any case."""
    # Reference: section 1.1 of the reference; clients use both atservicesrest/v1.0 and
    # ATServicesRest/V1.0, and zoneInformation returns the mixed-case form.
    parts = urlsplit(url)
    params = parse_qs(parts.query, keep_blank_values=True)
    segments = [s for s in parts.path.split("/") if s]
    lowered = [s.lower() for s in segments]
    if "atservicesrest" not in lowered:
        return _Route("none", "unknown")
    rest = lowered[lowered.index("atservicesrest") + 1 :]
    if not rest or rest[0] != "v1.0":
        return _Route("none", "unknown")
    rest = rest[1:]
    if rest == ["zoneinformation"]:
        return _Route("zone", "zoneInformation", params=params)
    if rest == ["thresholdinformation"]:
        return _Route("threshold", "ThresholdInformation")
    if not rest or rest[0] not in _ENTITY_BY_LOWER:
        return _Route("none", "unknown")
    entity = _ENTITY_BY_LOWER[rest[0]]
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
        return _Route(kind, f"{entity}/{suffix}", entity, params=params)
    if len(tail) == 1 and tail[0].isdigit():
        return _Route("item", f"{entity}/{{id}}", entity, int(tail[0]), params)
    return _Route("none", "unknown")


# --- queries ---------------------------------------------------------------------------------

Predicate = Callable[[JsonDict], bool]
_COMPARISONS: Final = {"eq", "noteq", "gt", "gte", "lt", "lte"}
_TEXT_OPS: Final = {"beginswith", "endswith", "contains"}
_LIST_OPS: Final = {"in", "notin"}
_PRESENCE_OPS: Final = {"exist", "notexist"}


def _parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise _QueryError(f"Value '{value}' is not a valid date.") from exc
    else:
        raise _QueryError(f"Value '{value}' is not a valid date.")
    # Autotask stores and returns UTC (reference section 3.6).
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _coerce(spec: FieldSpec, value: Any) -> Any:
    """Turn a filter value (or a stored value) into something comparable for the field type."""
    if value is None:
        raise _QueryError(f"A value is required for the field {spec.name}.")
    kind = spec.data_type
    if kind == "boolean":
        # Reference: AT-BasicQuery; booleans must be sent as true/false.
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _QueryError(f"Value '{value}' is not valid for the boolean field {spec.name}.")
    if kind == "datetime":
        return _parse_datetime(value)
    if spec.picklist is not None and kind == "string":
        return str(value).casefold()
    if kind in ("integer", "long", "short"):
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        except (TypeError, ValueError) as exc:
            raise _QueryError(f"Value '{value}' is not valid for the field {spec.name}.") from exc
    if kind in ("decimal", "double"):
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise _QueryError(f"Value '{value}' is not valid for the field {spec.name}.") from exc
    # Strings compare case-insensitively, like the SQL collation behind the API.
    return str(value).casefold()


def _stored(spec: FieldSpec, value: Any) -> Any:
    return None if value is None else _coerce(spec, value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "noteq":
        return bool(left != right)
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


class _Compiler:
    """Compile a QueryModel ``filter`` into a predicate, validating it against the fields."""

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self.fields = {spec.name.lower(): spec for spec in ENTITY_FIELDS[entity]}

    def field(self, name: Any) -> FieldSpec:
        spec = self.fields.get(str(name).lower())
        if spec is None:
            # Field names are case-insensitive (reference section 3.2); the text is UNCONFIRMED.
            singular = ENTITY_CAPABILITIES[self.entity].singular
            raise _QueryError(f"Unable to find {name} in the {singular} Entity.")
        return spec

    def compile_all(self, nodes: Any) -> Predicate:
        if not isinstance(nodes, list) or not nodes:
            # Reference: AT-BasicQuery; any query needs at least one filter.
            raise _QueryError("A query requires at least one filter expression.")
        # A flat filter list is an implicit AND (reference section 3.2, FIELD-NOTES).
        predicates = [self.compile(node) for node in nodes]
        return lambda row: all(p(row) for p in predicates)

    def compile(self, node: Any) -> Predicate:
        if not isinstance(node, dict):
            raise _QueryError("Each filter expression must be an object.")
        node = {str(k).lower(): v for k, v in node.items()}
        op = str(node.get("op", "")).lower()
        if op in ("and", "or"):
            items = node.get("items")
            if not isinstance(items, list) or not items:
                raise _QueryError(f"The '{op}' grouping requires items.")
            predicates = [self.compile(item) for item in items]
            if op == "and":
                return lambda row: all(p(row) for p in predicates)
            return lambda row: any(p(row) for p in predicates)
        if op not in _COMPARISONS | _TEXT_OPS | _LIST_OPS | _PRESENCE_OPS:
            # FIELD-NOTES saw a misspelt operator ("noteExist") silently match every record
            # with HTTP 200 (reference section 3.2, UNCONFIRMED beyond that report). Emulated on
            # purpose so that a client which does not check its operators finds out in tests.
            return lambda row: True
        if node.get("udf") is True:
            return self._udf(op, str(node.get("field", "")), node.get("value"))
        spec = self.field(node.get("field", ""))
        if not spec.queryable:
            raise _QueryError(f"The field {spec.name} is not queryable.")
        name = spec.name
        if op in _PRESENCE_OPS:
            wanted = op == "exist"
            return lambda row: (row.get(name) not in (None, "")) == wanted
        if op in _LIST_OPS:
            values = node.get("value")
            if not isinstance(values, list) or not values:
                raise _QueryError(f"The '{op}' operator requires a list of values.")
            accepted = {_coerce(spec, v) for v in values}
            if op == "in":
                return lambda row: (v := _stored(spec, row.get(name))) is not None and v in accepted
            return lambda row: (v := _stored(spec, row.get(name))) is not None and v not in accepted
        if op in _TEXT_OPS:
            needle = str(_require(node, spec)).casefold()
            test: Callable[[str], bool] = {
                "beginswith": lambda text: text.startswith(needle),
                "endswith": lambda text: text.endswith(needle),
                "contains": lambda text: needle in text,
            }[op]
            return lambda row: row.get(name) is not None and test(str(row[name]).casefold())
        target = _coerce(spec, _require(node, spec))
        # SQL semantics: a null never compares, not even with noteq.
        return lambda row: (
            (v := _stored(spec, row.get(name))) is not None and _compare(op, v, target)
        )

    def _udf(self, op: str, name: str, value: Any) -> Predicate:
        lowered = name.lower()

        def udf_value(row: JsonDict) -> str | None:
            for udf in row.get("userDefinedFields") or []:
                if str(udf.get("name", "")).lower() == lowered:
                    return None if udf.get("value") in (None, "") else str(udf["value"])
            return None

        if op in _PRESENCE_OPS:
            return lambda row: (udf_value(row) is not None) == (op == "exist")
        needle = "" if value is None else str(value).casefold()
        return lambda row: (
            (v := udf_value(row)) is not None
            and (
                _compare(op, v.casefold(), needle) if op in _COMPARISONS else needle in v.casefold()
            )
        )


def _require(node: Mapping[str, Any], spec: FieldSpec) -> Any:
    if "value" not in node or node["value"] is None:
        raise _QueryError(f"A value is required for the field {spec.name}.")
    return node["value"]


@dataclass(frozen=True)
class _Query:
    entity: str
    model: JsonDict  # normalised: filter, includeFields, maxRecords
    predicate: Predicate
    include: tuple[str, ...] | None
    page_size: int


def _parse_query(entity: str, raw: Any) -> _Query:
    if not isinstance(raw, dict):
        raise _QueryError("The query must be a JSON object.")
    # Clients send both PascalCase and camelCase keys (reference section 3.2).
    model = {str(k).lower(): v for k, v in raw.items()}
    compiler = _Compiler(entity)
    predicate = compiler.compile_all(model.get("filter"))
    include: tuple[str, ...] | None = None
    raw_include = model.get("includefields")
    if raw_include:
        if not isinstance(raw_include, list):
            raise _QueryError("IncludeFields must be a list of field names.")
        names = [
            compiler.fields[n.lower()].name
            for n in map(str, raw_include)
            if n.lower() in compiler.fields
        ]
        # id is always returned: paging beyond 500 records needs it (reference section 3.4).
        include = tuple(dict.fromkeys(["id", *names]))
    raw_max: Any = model.get("maxrecords")
    try:
        page_size = MAX_PAGE_SIZE if raw_max in (None, "") else int(raw_max)
    except (TypeError, ValueError) as exc:
        raise _QueryError(MAX_RECORDS_RANGE) from exc
    # MaxRecords is the page size; outside 1..500 Autotask answers HTTP 500 with this text
    # (reference, Corrections 4). Whether it still offers a nextPageUrl below 500 is
    # UNCONFIRMED; the sandbox does.
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _QueryError(MAX_RECORDS_RANGE)
    normalised = {
        "filter": model["filter"],
        "includeFields": list(include) if include else [],
        "maxRecords": page_size,
    }
    return _Query(entity, normalised, predicate, include, page_size)


def _compact(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


# --- the sandbox -----------------------------------------------------------------------------


class Sandbox:
    """An in-memory Autotask tenant per scenario user, behind :meth:`handle`.

    All scenario users share one seeded data set but have separate rights, usage counters
    and faults, as if each were its own tenant. Each sees the data in its own time zone: the
    same local dates, served as the UTC instants of its local midnights. State is guarded by
    one lock, so the sandbox can serve many threads at once (the standalone server is threaded).
    """

    def __init__(
        self,
        integration_code: str,
        *,
        base_url: str,
        latency: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
        today: date | None = None,
        threshold_latency: bool = True,
    ) -> None:
        self.integration_code = integration_code
        self.base_url = base_url
        self.latency = latency
        self.threshold_latency = threshold_latency
        self._sleep = sleep
        self._fixed_today = today
        self._lock = threading.RLock()
        # One data set per (time zone, date style): the same records, dates serialised as
        # that tenant's Autotask would. Built when a scenario of that zone first asks.
        self._datasets: dict[tuple[str, bool], Dataset] = {}
        # Fields changed through update_record, replayed onto every data set (also those
        # built later or reseeded), so every scenario sees the same change.
        self._overrides: dict[tuple[str, int], dict[str, Any]] = {}
        self._access: dict[tuple[str, str], Access] = {}
        self._expired: set[str] = set()
        self._costs_hidden: dict[str, bool] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._usage: dict[str, deque[float]] = {}
        self._flaky_calls: Counter[str] = Counter()
        self._in_flight: Counter[tuple[str, str, str]] = Counter()
        # Per user: extra seconds on every answer (a hanging Autotask for one tenant), and the
        # most authenticated calls ever in flight at once (what a concurrency cap let through).
        self._extra_latency: dict[str, float] = {}
        self._user_in_flight: Counter[str] = Counter()
        self._peak_in_flight: Counter[str] = Counter()

    # -- configuration -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        # zoneInformation's url always ends with "/" (reference section 1.2).
        self._base_url = value if value.endswith("/") else value + "/"

    @property
    def web_url(self) -> str:
        """The web UI host: ``webservicesN`` becomes ``wwN`` (reference section 1.1)."""
        parts = urlsplit(self.base_url)
        host = parts.netloc
        if host.lower().startswith("webservices"):
            host = "ww" + host[len("webservices") :]
        return f"{parts.scheme}://{host}/"

    @property
    def today(self) -> date:
        """Today in the default time zone (see :meth:`today_in`)."""
        return self.today_in(DEFAULT_TIME_ZONE)

    def today_in(self, time_zone: str) -> date:
        """The tenant's today: the fixed date if one was given, else the date in that zone."""
        return self._fixed_today or today_in(time_zone)

    def scenario_for(self, username: str) -> Scenario | None:
        """The scenario of a username (case-insensitive), or None for an unknown user."""
        return SCENARIOS.get(username.strip().lower())

    def access_for(self, username: str, entity: str) -> Access:
        user = username.strip().lower()
        with self._lock:
            override = self._access.get((user, entity))
        if override is not None:
            return override
        scenario = self.scenario_for(user)
        if scenario is None:
            return Access()
        return scenario.access.get(entity, Access())

    # -- mutations, for drift tests --------------------------------------------------------------

    def expire_secret(self, username: str) -> None:
        """From now on the user's secret is rejected with 401, as after a password expiry."""
        with self._lock:
            self._expired.add(username.strip().lower())

    def restore_secret(self, username: str) -> None:
        with self._lock:
            self._expired.discard(username.strip().lower())

    def set_access(
        self,
        username: str,
        entity: str,
        *,
        query: int | None = None,
        create: int | None = None,
        update: int | None = None,
        delete: int | None = None,
    ) -> None:
        """Change the user's rights on one entity (0 None, 1 All, 2 Restricted)."""
        canonical = _ENTITY_BY_LOWER.get(entity.lower())
        if canonical is None:
            raise ValueError(f"Unknown entity {entity!r}; choose one of {', '.join(ENTITIES)}.")
        changes = {"query": query, "create": create, "update": update, "delete": delete}
        for name, level in changes.items():
            if level is not None and level not in (0, 1, 2):
                raise ValueError(f"{name} must be 0, 1 or 2, not {level!r}.")
        current = self.access_for(username, canonical)
        updated = replace(current, **{k: v for k, v in changes.items() if v is not None})
        with self._lock:
            self._access[(username.strip().lower(), canonical)] = updated

    def set_latency(self, username: str, seconds: float) -> None:
        """Add ``seconds`` to every answer to this user, the zone lookup included (0 undoes it)."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        with self._lock:
            self._extra_latency[username.strip().lower()] = seconds

    def peak_in_flight(self, username: str) -> int:
        """The most authenticated calls of this user that were ever answered at the same time."""
        with self._lock:
            return self._peak_in_flight[username.strip().lower()]

    def set_costs_hidden(self, username: str, hidden: bool = True) -> None:
        with self._lock:
            self._costs_hidden[username.strip().lower()] = hidden

    def end_contract(self, contract_id: int, on: date) -> None:
        """Set a contract's end date, e.g. to yesterday to make a passing contract fail."""
        self.update_record("Contracts", contract_id, endDate=on)

    def update_record(self, entity: str, record_id: int, **fields: Any) -> None:
        """Overwrite fields of a seeded record, for every scenario (kept across reseeds).

        A ``datetime.date`` value is a date-only field: each tenant gets it as the UTC
        instant of its own local midnight.
        """
        canonical = _ENTITY_BY_LOWER.get(entity.lower(), entity)
        with self._lock:
            if record_id not in self._data().records[canonical]:
                raise KeyError(f"{canonical} {record_id} does not exist in the sandbox.")
            key = (canonical, record_id)
            self._overrides[key] = {**self._overrides.get(key, {}), **fields}
            for dataset in self._datasets.values():
                self._apply_overrides(dataset, {key: fields})

    def records(self, entity: str, time_zone: str = DEFAULT_TIME_ZONE) -> list[JsonDict]:
        """A copy of every record of an entity as a tenant in ``time_zone`` gets it, by id."""
        with self._lock:
            rows = self._data(time_zone).records[_ENTITY_BY_LOWER.get(entity.lower(), entity)]
            return [dict(rows[i]) for i in sorted(rows)]

    # -- counters --------------------------------------------------------------------------------

    def request_count(self, username: str | None = None, endpoint: str | None = None) -> int:
        """Requests received, optionally for one username and/or endpoint.

        ``endpoint`` is case-insensitive and matches itself and everything under it:
        ``"Companies"`` counts ``Companies/query``, ``Companies/{id}``, ...
        """
        user = None if username is None else username.strip().lower()
        wanted = None if endpoint is None else endpoint.strip("/").lower()
        with self._lock:
            items = list(self._counts.items())
        return sum(
            count
            for (who, where), count in items
            if (user is None or who == user)
            and (
                wanted is None or where.lower() == wanted or where.lower().startswith(wanted + "/")
            )
        )

    def reset_counts(self) -> None:
        """Forget request counts and threshold usage (not faults, rights or data)."""
        with self._lock:
            self._counts.clear()
            self._usage.clear()
            self._peak_in_flight.clear()

    def stats(self) -> JsonDict:
        with self._lock:
            by_user: Counter[str] = Counter()
            by_endpoint: Counter[str] = Counter()
            in_flight: Counter[str] = Counter()
            for (_code, _user, where), count in self._in_flight.items():
                if count:
                    in_flight[where] += count
            for (who, where), count in self._counts.items():
                by_user[who] += count
                by_endpoint[where] += count
            return {
                "total": sum(self._counts.values()),
                "byUser": dict(sorted(by_user.items())),
                "byEndpoint": dict(sorted(by_endpoint.items())),
                "inFlight": dict(in_flight),
                "peakInFlight": dict(sorted(self._peak_in_flight.items())),
            }

    # -- the request handler -----------------------------------------------------------------------

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        timeout: float | None = None,
    ) -> SandboxResponse:
        """Answer one HTTP request as Autotask would.

        ``timeout`` is the caller's read timeout: if the emulated latency is longer, the
        sandbox waits ``timeout`` seconds and raises :class:`SandboxTimeout`.
        """
        method = method.upper()
        route = _route(url)
        lower = {k.lower(): v for k, v in headers.items()}
        if route.kind == "zone":
            username = (route.params.get("user") or [""])[0].strip()
            self._count(username, route.endpoint)
            scenario = self.scenario_for(username)
            extra = self._extra_latency.get(username.lower(), 0.0)
            self._delay(self.latency + extra + (scenario.latency if scenario else 0.0), timeout)
            return self._zone(username, scenario)
        username = lower.get("username", "").strip()
        self._count(username, route.endpoint)
        if route.kind == "none":
            return _not_found(url)
        code = lower.get("apiintegrationcode", "")
        # Reference: section 2.2 of the reference; a missing or wrong integration code is HTTP 500
        # "IntegrationCode is invalid." (the status for missing headers is UNCONFIRMED).
        if not code or not username or "secret" not in lower or code != self.integration_code:
            self._delay(self.latency, timeout)
            return _errors(500, CODE_INVALID)
        # Each sandbox API user stands for one partner's Autotask database, and the limit is
        # counted per database: two partners verified side by side do not share slots.
        slot = (code, username.lower(), route.endpoint)
        # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/General/ThreadLimiting.htm
        # 3 threads per (tracking identifier, object endpoint) within one Autotask database;
        # the sandbox's endpoint is the entity plus the operation (UNCONFIRMED; N8N's error
        # names the method).
        user = username.lower()
        with self._lock:
            if self._in_flight[slot] >= THREAD_LIMIT:
                return _errors(500, THREAD_EXCEEDED)
            self._in_flight[slot] += 1
            self._user_in_flight[user] += 1
            self._peak_in_flight[user] = max(self._peak_in_flight[user], self._user_in_flight[user])
        try:
            scenario = self.scenario_for(username)
            self._delay(self._latency_for(username, scenario), timeout)
            return self._authenticated(
                method, url, route, username, lower["secret"], scenario, body
            )
        finally:
            with self._lock:
                self._in_flight[slot] -= 1
                self._user_in_flight[user] -= 1

    def _authenticated(
        self,
        method: str,
        url: str,
        route: _Route,
        username: str,
        secret: str,
        scenario: Scenario | None,
        body: bytes | None,
    ) -> SandboxResponse:
        user = username.lower()
        if scenario is None or not scenario.known_user:
            # Reference: section 2.2; an unknown username answers like the zone lookup.
            return _errors(500, ZONE_UNKNOWN)
        with self._lock:
            expired = user in self._expired
        if secret != SANDBOX_SECRET or scenario.secret_rejected or expired:
            # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Security_Auth.htm
            # "Failed authentication ... will result in the return of a 401 error"; body empty.
            return SandboxResponse(401, {"Content-Length": "0"}, b"")
        if scenario.code_rejected:
            # A vendor/code mismatch has no documented answer; the likeliest is this one.
            return _errors(500, CODE_INVALID)
        self._record_usage(user)
        if scenario.fault == "throttled":
            # Reference: section 5.4; the status and Retry-After are what clients rely on.
            return _json(429, {"errors": [THROTTLED]}, {"Retry-After": "1"})
        if scenario.fault == "thread-limit":
            return _errors(500, THREAD_EXCEEDED)
        if scenario.fault == "flaky":
            # Every second call to each endpoint fails, so a retry of a call finds the next
            # one good even while other endpoints are called in parallel.
            with self._lock:
                self._flaky_calls[f"{user}|{route.endpoint}"] += 1
                failing = self._flaky_calls[f"{user}|{route.endpoint}"] % 2 == 0
            if failing:
                return SandboxResponse(503, {"Content-Type": "text/html"}, _FLAKY_PAGE)
        if scenario.fault == "broken":
            return SandboxResponse(200, {"Content-Type": _JSON}, _BROKEN_BODY)
        return self._dispatch(method, url, route, user, scenario, body)

    def _dispatch(
        self,
        method: str,
        url: str,
        route: _Route,
        user: str,
        scenario: Scenario,
        body: bytes | None,
    ) -> SandboxResponse:
        # query/next is POST only, with the first request's body: a GET answers 405
        # (reference, Corrections 3).
        allowed = {"query": ("GET", "POST"), "count": ("GET", "POST"), "next": ("POST",)}.get(
            route.kind, ("GET",)
        )
        if method not in allowed:
            return _json(
                405, {"Message": f"The requested resource does not support http method '{method}'."}
            )
        if route.kind == "threshold":
            return self._threshold(user, scenario)
        if route.kind == "entity_info":
            return self._entity_information(route.entity, user)
        if route.kind == "entity_fields":
            inactive = scenario.inactive_contract_types if route.entity == "Contracts" else ()
            fields = [
                spec.as_json(inactive if spec.name == "contractType" else ())
                for spec in ENTITY_FIELDS[route.entity]
            ]
            return _json(200, {"fields": fields})
        if route.kind == "item":
            return self._item(route.entity, route.item_id, user, scenario)
        try:
            raw = self._query_model(method, route, body)
            if route.kind == "next":
                return self._next_page(route, raw, user, scenario)
            query = _parse_query(route.entity, raw)
            if route.kind == "count":
                return self._count_query(query, user)
            return self._page(query, user, scenario, after=None, before=None)
        except _QueryError as exc:
            return _errors(500, str(exc))

    # -- endpoints ---------------------------------------------------------------------------------

    def _zone(self, username: str, scenario: Scenario | None) -> SandboxResponse:
        # Reference: section 1.2 of the reference (SW ZoneInformationResultModel, APIGRATE README).
        if not username or scenario is None or not scenario.known_user:
            return _errors(500, ZONE_UNKNOWN)
        # ci identifies the database; each scenario user stands for its own tenant.
        ci = 100_000 + zlib.crc32(username.lower().encode()) % 900_000
        return _json(
            200,
            {"zoneName": "Sandbox", "url": self.base_url, "webUrl": self.web_url, "ci": ci},
        )

    def _threshold(self, user: str, scenario: Scenario) -> SandboxResponse:
        # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
        return _json(
            200,
            {
                "externalRequestThreshold": REQUEST_THRESHOLD,
                "requestThresholdTimeframe": THRESHOLD_TIMEFRAME_MINUTES,
                "currentTimeframeRequestCount": scenario.threshold_start + self._used(user),
            },
        )

    def _entity_information(self, entity: str, user: str) -> SandboxResponse:
        # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
        caps = ENTITY_CAPABILITIES[entity]
        access = self.access_for(user, entity)
        return _json(
            200,
            {
                "info": {
                    "name": caps.singular,
                    "canCreate": caps.can_create,
                    "canDelete": caps.can_delete,
                    "canQuery": True,
                    "canUpdate": caps.can_update,
                    # Names, not the documented numbers (reference, Corrections 1).
                    "userAccessForCreate": _LEVEL_NAMES[access.create],
                    "userAccessForDelete": _LEVEL_NAMES[access.delete],
                    "userAccessForQuery": _LEVEL_NAMES[access.query],
                    "userAccessForUpdate": _LEVEL_NAMES[access.update],
                    "hasUserDefinedFields": caps.has_udfs,
                    "supportsWebhookCallouts": entity == "Companies",
                }
            },
        )

    def _item(self, entity: str, item_id: int, user: str, scenario: Scenario) -> SandboxResponse:
        access = self.access_for(user, entity)
        if access.query == 0:
            return _errors(500, NO_QUERY_RIGHTS)
        with self._lock:
            row = self._data_of(scenario).records[entity].get(item_id)
        if row is None or (access.query == 2 and not _visible_when_restricted(entity, row)):
            # A missing (or, for a restricted level, invisible) id is HTTP 200 with
            # {"item": null} (reference, Corrections 4); a 404 is also possible, and the client
            # reads both the same way.
            return _json(200, {"item": None})
        return _json(200, {"item": self._present(entity, row, user, scenario, None)})

    def _query_model(self, method: str, route: _Route, body: bytes | None) -> Any:
        if method == "GET":
            search = (route.params.get("search") or [""])[0]
            if not search:
                raise _QueryError("The search parameter is required.")
            text = search
        else:
            text = (body or b"").decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _QueryError("The query could not be parsed as JSON.") from exc

    def _matching(self, query: _Query, user: str) -> list[JsonDict]:
        access = self.access_for(user, query.entity)
        if access.query == 0:
            raise _NoRights
        with self._lock:
            rows = self._data_of(self.scenario_for(user)).records[query.entity]
            snapshot = [rows[i] for i in sorted(rows)]
        if access.query == 2:
            # Restricted visibility returns fewer records rather than an error (reference
            # section 4.9): see _visible_when_restricted.
            snapshot = [row for row in snapshot if _visible_when_restricted(query.entity, row)]
        return [row for row in snapshot if query.predicate(row)]

    def _count_query(self, query: _Query, user: str) -> SandboxResponse:
        try:
            return _json(200, {"queryCount": len(self._matching(query, user))})
        except _NoRights:
            return _errors(500, NO_QUERY_RIGHTS)

    def _page(
        self,
        query: _Query,
        user: str,
        scenario: Scenario,
        *,
        after: int | None,
        before: int | None,
    ) -> SandboxResponse:
        # Reference: section 3.3 and 3.4 of the reference (items + pageDetails, 500 per page).
        try:
            rows = self._matching(query, user)
        except _NoRights:
            return _errors(500, NO_QUERY_RIGHTS)
        size = query.page_size
        if before is not None:
            page = [r for r in rows if r["id"] < before][-size:]
        else:
            page = [r for r in rows if after is None or r["id"] > after][:size]
        has_prev = bool(page) and rows[0]["id"] < page[0]["id"]
        has_next = bool(page) and rows[-1]["id"] > page[-1]["id"]
        items = [self._present(query.entity, r, user, scenario, query.include) for r in page]
        return _json(
            200,
            {
                "items": items,
                "pageDetails": {
                    "count": len(items),
                    "requestCount": size,
                    "prevPageUrl": self._page_url(query, before=page[0]["id"])
                    if has_prev
                    else None,
                    "nextPageUrl": self._page_url(query, after=page[-1]["id"])
                    if has_next
                    else None,
                },
            },
        )

    def _page_url(
        self, query: _Query, *, after: int | None = None, before: int | None = None
    ) -> str:
        # Autotask's nextPageUrl is an absolute URL on the zone host, ".../query/next?paging=...",
        # that the client POSTs again with the first request's body (reference, Corrections 3).
        # The sandbox's paging state is keyset-based, which keeps the URL short (KELVIN#66).
        paging: JsonDict = {"pageSize": query.page_size}
        if after is not None:
            paging["afterId"] = after
        if before is not None:
            paging["beforeId"] = before
        paging_param = quote(_compact(paging), safe="")
        return f"{self.base_url}V1.0/{query.entity}/query/next?paging={paging_param}"

    def _next_page(self, route: _Route, raw: Any, user: str, scenario: Scenario) -> SandboxResponse:
        paging_text = (route.params.get("paging") or [""])[0]
        try:
            paging = json.loads(paging_text)
        except json.JSONDecodeError as exc:
            raise _QueryError("The paging state could not be parsed.") from exc
        if not isinstance(paging, dict):
            raise _QueryError("The paging state could not be parsed.")
        query = _parse_query(route.entity, raw)
        if isinstance(paging.get("pageSize"), int):
            query = replace(query, page_size=max(1, min(MAX_PAGE_SIZE, paging["pageSize"])))
        after = paging.get("afterId")
        before = paging.get("beforeId")
        return self._page(
            query,
            user,
            scenario,
            after=after if isinstance(after, int) else None,
            before=before if isinstance(before, int) else None,
        )

    def _present(
        self,
        entity: str,
        row: JsonDict,
        user: str,
        scenario: Scenario,
        include: Sequence[str] | None,
    ) -> JsonDict:
        item = dict(row)
        with self._lock:
            hidden = self._costs_hidden.get(user, scenario.costs_hidden)
        if hidden:
            # What Autotask returns without "Can View Internal Cost" is UNCONFIRMED (reference
            # section 4.10); null is the sandbox's choice, from which the wizard can infer it.
            for name in ("unitCost", "cost"):
                if name in item and entity != "Companies":
                    item[name] = scenario.hidden_cost
        if include is not None:
            item = {name: item.get(name) for name in include}
        return item

    # -- helpers -----------------------------------------------------------------------------------

    def _data(self, time_zone: str = DEFAULT_TIME_ZONE, fractional: bool = False) -> Dataset:
        """The data set of a tenant in ``time_zone``, reseeded when its local date moved on
        (only if ``today`` is not fixed), so "this month" is always the tenant's month."""
        with self._lock:
            key = (time_zone, fractional)
            today = self.today_in(time_zone)
            dataset = self._datasets.get(key)
            if dataset is None or dataset.today != today:
                dataset = build_dataset(today, time_zone, fractional=fractional)
                self._apply_overrides(dataset, self._overrides)
                self._datasets[key] = dataset
            return dataset

    def _data_of(self, scenario: Scenario | None) -> Dataset:
        if scenario is None:
            return self._data()
        return self._data(scenario.time_zone, scenario.fractional_dates)

    @staticmethod
    def _apply_overrides(
        dataset: Dataset, overrides: Mapping[tuple[str, int], Mapping[str, Any]]
    ) -> None:
        for (entity, record_id), fields in overrides.items():
            records = dataset.records[entity]
            if record_id not in records:
                continue
            values = {
                name: dataset.at_date(value)
                if isinstance(value, date) and not isinstance(value, datetime)
                else value
                for name, value in fields.items()
            }
            # Copy on write: readers iterate snapshots without holding the lock.
            records[record_id] = {**records[record_id], **values}

    def _count(self, username: str, endpoint: str) -> None:
        with self._lock:
            self._counts[(username.lower(), endpoint)] += 1

    def _record_usage(self, user: str) -> None:
        with self._lock:
            self._usage.setdefault(user, deque()).append(time.monotonic())

    def _used(self, user: str) -> int:
        """Authenticated requests of this user in the rolling threshold window."""
        horizon = time.monotonic() - THRESHOLD_TIMEFRAME_MINUTES * 60
        with self._lock:
            window = self._usage.get(user)
            if window is None:
                return 0
            while window and window[0] < horizon:
                window.popleft()
            return len(window)

    def _latency_for(self, username: str, scenario: Scenario | None) -> float:
        with self._lock:
            seconds = self.latency + self._extra_latency.get(username.lower(), 0.0)
        if scenario is None:
            return seconds
        seconds += scenario.latency
        if self.threshold_latency and scenario.known_user:
            # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
            # from 50 % of the threshold Autotask adds 0.5 s per request, from 75 % 1 s.
            share = (scenario.threshold_start + self._used(username.lower())) / REQUEST_THRESHOLD
            seconds += 1.0 if share >= 0.75 else 0.5 if share >= 0.5 else 0.0
        return seconds

    def _delay(self, seconds: float, timeout: float | None) -> None:
        if seconds <= 0:
            return
        if timeout is not None and seconds > timeout:
            self._sleep(timeout)
            raise SandboxTimeout(f"The sandbox did not answer within {timeout} s.")
        self._sleep(seconds)


# --- in-process transport ----------------------------------------------------------------------


class SandboxAdapter(BaseAdapter):
    """A ``requests`` transport that answers from a :class:`Sandbox` without any network."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__()
        self.sandbox = sandbox

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        body = request.body
        raw_body = body.encode() if isinstance(body, str) else body
        try:
            result = self.sandbox.handle(
                request.method or "GET",
                request.url or "",
                dict(request.headers),
                raw_body,
                timeout=read_timeout,
            )
        except SandboxTimeout as exc:
            raise requests.exceptions.ReadTimeout(str(exc), request=request) from exc
        response = requests.Response()
        response.status_code = result.status
        response.headers = CaseInsensitiveDict(result.headers)
        response.raw = BytesIO(result.body)
        response.url = request.url or ""
        response.request = request
        response.reason = HTTPStatus(result.status).phrase
        response.encoding = get_encoding_from_headers(response.headers)
        # requests types this as HTTPAdapter; any adapter with send() serves (digest auth re-sends).
        response.connection = cast(Any, self)
        return response

    def close(self) -> None:
        """Nothing to release: no sockets are ever opened."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def install_sandbox(session: requests.Session, sandbox: Sandbox, zone_information_url: str) -> None:
    """Serve the zone lookup host and the sandbox's zone host from ``sandbox`` in-process."""
    adapter = SandboxAdapter(sandbox)
    # The trailing slash keeps look-alike hosts (webservices.autotask.net.evil) on the network.
    session.mount(_origin(zone_information_url), adapter)
    session.mount(_origin(sandbox.base_url), adapter)


_DEFAULTS: dict[str, Sandbox] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_sandbox(integration_code: str) -> Sandbox:
    """The process-wide sandbox for this integration code (created on first use)."""
    with _DEFAULTS_LOCK:
        sandbox = _DEFAULTS.get(integration_code)
        if sandbox is None:
            sandbox = Sandbox(integration_code, base_url=DEFAULT_BASE_URL)
            _DEFAULTS[integration_code] = sandbox
        return sandbox


# --- standalone server ---------------------------------------------------------------------------


class _SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox


class _SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AutotaskSandbox/1.0"

    def _answer(self) -> None:
        server = cast(_SandboxServer, self.server)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "GET" and urlsplit(self.path).path.rstrip("/") == "/_sandbox/stats":
            result = _json(200, server.sandbox.stats())
        else:
            port = server.server_address[1]
            url = f"http://127.0.0.1:{port}{self.path}"
            result = server.sandbox.handle(self.command, url, dict(self.headers.items()), body)
        self.send_response(result.status)
        for name, value in result.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        self.wfile.write(result.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line carries no credentials (they travel in headers), so it may be logged.
        logger.info("sandbox %s %s", self.address_string(), format % args)


def serve(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``sandbox`` over HTTP on 127.0.0.1 in a daemon thread.

    The sandbox's ``base_url`` becomes ``http://127.0.0.1:<port>/ATServicesRest/`` so that zone
    answers and nextPageUrls point back at this server. Stop it with ``server.shutdown()``.
    """
    if host not in ("127.0.0.1", "localhost"):
        # The sandbox accepts any caller with the right headers: never expose it on a network.
        raise ValueError("The Autotask sandbox only listens on 127.0.0.1.")
    server = _SandboxServer(("127.0.0.1", port), _SandboxRequestHandler)
    server.sandbox = sandbox
    sandbox.base_url = f"http://127.0.0.1:{server.server_address[1]}/ATServicesRest/"
    thread = threading.Thread(target=server.serve_forever, name="autotask-sandbox", daemon=True)
    thread.start()
    return server, thread


def zone_information_url(server: ThreadingHTTPServer) -> str:
    """The AUTOTASK_ZONE_INFORMATION_URL that points the app at a standalone sandbox."""
    return f"http://127.0.0.1:{server.server_address[1]}/atservicesrest/v1.0/zoneInformation"
