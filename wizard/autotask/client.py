"""The one Autotask REST API client: zone discovery, reads, paging, metadata, limits, retries.

Every HTTP call goes through ``AutotaskClient._send``: one place for the timeout, the overall
deadline, the credential headers (zone origin only), the concurrency caps, bounded reading of
the body, error mapping, retries and logging. Facts and sources: reference/autotask-rest-api.md.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from wizard.autotask import limits
from wizard.autotask.errors import (
    AuthenticationFailed,
    AutotaskError,
    BrokenAnswer,
    DeadlineExceeded,
    NotFound,
    Throttled,
    TimedOut,
    TooManyResults,
    Unavailable,
    UnexpectedValue,
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

logger = logging.getLogger("wizard.autotask")

DEFAULT_ZONE_INFORMATION_URL = (
    "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
)
USER_AGENT = "billing-sync-wizard"
MAX_PAGE_SIZE = 500  # Autotask's page size limit for queries
MAX_BACKOFF_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 30.0

# Operators Autotask documents. A misspelt operator has been seen to be ignored silently (every
# record returned with HTTP 200), so filters are checked before they are sent.
QUERY_OPERATORS = frozenset(
    op.lower()
    for op in (
        *("eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains"),
        *("exist", "notExist", "in", "notIn", "and", "or"),
    )
)

_ENTITY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,99}$")

# Shared by all instances by default so that each username is looked up once per process.
_zone_cache: dict[str, Zone] = {}


def clear_zone_cache() -> None:
    """Forget every discovered zone (tests, or after an operator changes zones)."""
    _zone_cache.clear()


def build_session() -> requests.Session:
    """A session for Autotask: no adapter-level retries (the client retries, counts and logs)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _path(url: str) -> str:
    # Errors and logs name the path only: query strings may carry usernames or paging state.
    return urlsplit(url).path or "/"


def _check_entity(entity: str) -> str:
    if not isinstance(entity, str) or not _ENTITY_NAME.match(entity):
        raise ValueError(f"not an Autotask entity name: {entity!r}")
    return entity


def _check_filters(filters: Sequence[Mapping[str, Any]], *, top: bool = True) -> None:
    if not isinstance(filters, list | tuple) or (top and not filters):
        # Autotask rejects a query without a filter; use {"op": "gte", "field": "id", "value": 0}.
        raise ValueError("filters must be a non-empty list of filter objects")
    for item in filters:
        if not isinstance(item, Mapping):
            raise ValueError(f"a filter must be a mapping, got {type(item).__name__}")
        op = item.get("op")
        if not isinstance(op, str) or op.lower() not in QUERY_OPERATORS:
            raise ValueError(f"unknown Autotask filter operator: {op!r}")
        if op.lower() in ("and", "or"):
            _check_filters(item.get("items") or [], top=True)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count_field(data: Any, key: str) -> int | None:
    """A non-negative integer member of a JSON object, or None."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


class AutotaskClient:
    """Reads one Autotask tenant through the REST API with one API user's credentials."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        zone_information_url: str,
        timeout: float = 15.0,
        session: requests.Session | None = None,
        backoff_factor: float = 0.5,
        max_retries: int = 3,
        zone_cache: MutableMapping[str, Zone] | None = None,
        metadata_cache: MutableMapping[str, Any] | None = None,
        concurrency_key: str | None = None,
        max_response_bytes: int = 5_000_000,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
        limiter: limits.Limiter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``deadline``: seconds, from now, that every call of this client together may take
        (a page a person waits for); None for background work, which only has ``timeout`` per
        call. ``limiter`` holds the concurrency caps (default: this process's own slots)."""
        self.credentials = credentials
        self.zone_information_url = zone_information_url
        self.timeout = timeout
        self.session = session if session is not None else build_session()
        self.backoff_factor = backoff_factor
        self.max_retries = max_retries
        self.zone_cache: MutableMapping[str, Zone] = (
            zone_cache if zone_cache is not None else _zone_cache
        )
        # Per instance by default: picklists differ between tenants that share a zone host.
        self.metadata_cache: MutableMapping[str, Any] = (
            metadata_cache if metadata_cache is not None else {}
        )
        self.concurrency_key = concurrency_key or credentials.username
        self.max_response_bytes = max_response_bytes
        self.max_retry_after = MAX_RETRY_AFTER_SECONDS
        self.calls = 0
        self._sleep = sleep
        self._calls_lock = threading.Lock()
        self._clock = clock
        self.deadline = deadline
        self.deadline_at = None if deadline is None else clock() + deadline
        self.limiter = limiter if limiter is not None else limits.Limiter(clock=clock)

    def __repr__(self) -> str:
        return f"AutotaskClient(username={self.credentials.username!r})"

    # ----------------------------------------------------------------------------------------
    # Public API calls

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Security_Auth.htm
    def discover_zone(self) -> Zone:
        """The zone (API host) of this API user; looked up without credentials, then cached."""
        username = self.credentials.username
        cached = self.zone_cache.get(username)
        if cached is not None:
            return cached
        data = self._send(
            "GET",
            self.zone_information_url,
            params={"user": username},
            authenticated=False,
            endpoint_key=None,  # zoneInformation is exempt from Autotask's thread limit
        )
        zone = self._parse_zone(data, _path(self.zone_information_url))
        self.zone_cache[username] = zone
        return zone

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
    def get_threshold(self) -> Threshold:
        """API usage of the tenant; also the cheapest probe of username, secret and code."""
        url = self._url("ThresholdInformation")
        data = self._send("GET", url, endpoint_key="ThresholdInformation")
        limit = _count_field(data, "externalRequestThreshold")
        timeframe = _count_field(data, "requestThresholdTimeframe")
        current = _count_field(data, "currentTimeframeRequestCount")
        if limit is None or timeframe is None or current is None:
            raise BrokenAnswer(detail="no usage threshold in the answer", endpoint=_path(url))
        return Threshold(limit=limit, timeframe_minutes=timeframe, current_count=current)

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
    def get(self, entity: str, entity_id: int) -> dict[str, Any] | None:
        """One record by id, or None if it does not exist (Autotask says 404 or item null)."""
        if not _is_int(entity_id):
            raise ValueError(f"entity_id must be an int, got {type(entity_id).__name__}")
        url = self._url(_check_entity(entity), str(entity_id))
        try:
            data = self._send("GET", url, endpoint_key=entity)
        except NotFound:
            return None
        if not isinstance(data, dict) or "item" not in data:
            raise BrokenAnswer(detail="no item in the answer", endpoint=_path(url))
        item = data["item"]
        if item is None:
            return None
        if not isinstance(item, dict):
            raise BrokenAnswer(detail="the item is not a record", endpoint=_path(url))
        return item

    # Reference: https://autotask.net/help/developerhelp/content/apis/REST/API_Calls/REST_Advanced_Query_Features.htm
    def query(
        self,
        entity: str,
        filters: list[dict[str, Any]],
        *,
        include_fields: list[str] | None = None,
        max_records: int | None = None,
        max_pages: int = 20,
    ) -> list[dict[str, Any]]:
        """All records matching the filters, following nextPageUrl (same origin only).

        Stops once ``max_records`` are read. Raises TooManyResults rather than silently
        returning a partial list when more than ``max_pages`` pages would be needed.
        """
        if max_records is not None and max_records < 1:
            raise ValueError("max_records must be at least 1")
        if max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        page_size = MAX_PAGE_SIZE if max_records is None else min(max_records, MAX_PAGE_SIZE)
        page = self.query_page(
            entity, filters, include_fields=include_fields, max_records=page_size
        )
        items = list(page.items)
        seen: set[str] = set()
        pages = 1
        while page.next_page_url and (max_records is None or len(items) < max_records):
            if pages >= max_pages:
                raise TooManyResults(endpoint=_path(self._url(entity, "query")))
            if page.next_page_url in seen:
                raise BrokenAnswer(
                    detail="the same page was offered twice", endpoint=_path(page.next_page_url)
                )
            seen.add(page.next_page_url)
            page = self.query_page(
                entity,
                filters,
                include_fields=include_fields,
                max_records=page_size,
                page_url=page.next_page_url,
            )
            items.extend(page.items)
            pages += 1
        return items if max_records is None else items[:max_records]

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
    def query_page(
        self,
        entity: str,
        filters: list[dict[str, Any]],
        *,
        include_fields: list[str] | None = None,
        max_records: int = MAX_PAGE_SIZE,
        page_url: str | None = None,
    ) -> Page:
        """One page: the first, or the one at ``page_url`` that a previous page named.

        Both are POSTs with the same body: Autotask's ``…/query/next?paging=…`` answers a GET
        with HTTP 405 (reference, Corrections 3), so the next page repeats the first request
        with the paging state in the URL. Pass the same arguments as for the first page.
        """
        _check_entity(entity)
        if not 1 <= max_records <= MAX_PAGE_SIZE:
            # Autotask answers HTTP 500 outside 1-500 (reference, Corrections 4).
            raise ValueError(f"max_records must be between 1 and {MAX_PAGE_SIZE}")
        _check_filters(filters)
        body: dict[str, Any] = {"filter": filters, "MaxRecords": max_records}
        if include_fields is not None:
            fields = list(include_fields)
            # Paging past 500 records needs the id among the returned fields.
            if not any(f.lower() == "id" for f in fields):
                fields.insert(0, "id")
            body["IncludeFields"] = fields
        # The credentials go with the next page too: only ever to the zone's own origin.
        url = self._url(entity, "query") if page_url is None else self._same_origin(page_url)
        data = self._send("POST", url, json_body=body, endpoint_key=entity)
        return self._parse_page(data, _path(url))

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
    def count(self, entity: str, filters: list[dict[str, Any]]) -> int:
        """How many records match the filters, without reading them."""
        _check_filters(filters)
        url = self._url(_check_entity(entity), "query", "count")
        data = self._send("POST", url, json_body={"filter": filters}, endpoint_key=entity)
        value = _count_field(data, "queryCount")
        if value is None:
            raise BrokenAnswer(detail="no count in the answer", endpoint=_path(url))
        return value

    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    def entity_information(self, entity: str) -> EntityAccess:
        """What this API user may do with the entity (AccessLevel: none, all, restricted).

        The levels come back as names ("None", "All", "Restricted") although documented as
        0/1/2; both are read. One unreadable level makes this entity's answer a BrokenAnswer,
        so only the checks on this entity become unknown.
        """
        url = self._url(_check_entity(entity), "entityInformation")
        data = self._send("GET", url, endpoint_key=entity)
        info = data.get("info") if isinstance(data, dict) else None
        flags = ("canQuery", "canCreate", "canUpdate", "canDelete")
        if not isinstance(info, dict) or not all(isinstance(info.get(k), bool) for k in flags):
            raise BrokenAnswer(detail="no entity information in the answer", endpoint=_path(url))
        levels: dict[str, AccessLevel] = {}
        for op in ("Query", "Create", "Update", "Delete"):
            raw = info.get(f"userAccessFor{op}")
            level = AccessLevel.parse(raw)
            if level is None:
                # Quote at most a short, printable excerpt: this text reaches the partner.
                shown = repr(raw)[:40] if isinstance(raw, str | int | float) else "nothing"
                raise UnexpectedValue(
                    detail=f"an unreadable permission level for {op.lower()} ({shown})",
                    endpoint=_path(url),
                )
            levels[op.lower()] = level
        return EntityAccess(
            entity=entity,
            can_query=info["canQuery"],
            can_create=info["canCreate"],
            can_update=info["canUpdate"],
            can_delete=info["canDelete"],
            query=levels["query"],
            create=levels["create"],
            update=levels["update"],
            delete=levels["delete"],
        )

    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    def entity_fields(self, entity: str) -> list[FieldInfo]:
        """The entity's fields with their picklists; cached, as metadata calls count too."""
        _check_entity(entity)
        zone = self.discover_zone()
        # Zone hosts are shared by many tenants; ci (else the username) tells tenants apart.
        tenant = str(zone.ci) if zone.ci is not None else f"user:{self.credentials.username}"
        key = f"autotask:fields:{zone.url}:{tenant}:{entity.lower()}"
        cached = self.metadata_cache.get(key)
        if cached is not None:
            return list(cached)
        url = self._url(entity, "entityInformation", "fields")
        data = self._send("GET", url, endpoint_key=entity)
        fields = self._parse_fields(data, _path(url))
        self.metadata_cache[key] = tuple(fields)
        return fields

    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    def picklist_value(self, entity: str, field: str, label: str) -> str | None:
        """The value of the active picklist entry with this label (case-insensitive), if any."""
        wanted = label.strip().casefold()
        for info in self.entity_fields(entity):
            if info.name.casefold() != field.casefold():
                continue
            for choice in info.picklist:
                if choice.is_active and choice.label.strip().casefold() == wanted:
                    return choice.value
            return None
        return None

    # ----------------------------------------------------------------------------------------
    # Plumbing

    def _url(self, entity: str, *parts: str) -> str:
        return self.discover_zone().api_base_url + "/".join((entity, *parts))

    def _same_origin(self, page_url: str) -> str:
        """The absolute next-page URL, refused unless it is on the zone's own origin."""
        zone = self.discover_zone()
        url = urljoin(zone.url, page_url)
        if _origin(url) is None or _origin(url) != _origin(zone.url):
            # Never send the credentials anywhere but the zone host (a spoofed nextPageUrl).
            raise BrokenAnswer(detail="a next-page link to another server", endpoint=_path(url))
        return url

    def _count_call(self) -> None:
        with self._calls_lock:
            self.calls += 1

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never below 0), or None without a deadline."""
        if self.deadline_at is None:
            return None
        return max(0.0, self.deadline_at - self._clock())

    def _call_timeout(self, endpoint: str) -> float:
        """This call's timeout: the per-call timeout, cut to what is left of the deadline."""
        left = self.remaining()
        if left is None:
            return self.timeout
        if left <= 0:
            # Nothing is sent once the deadline has passed: the page answers now.
            raise DeadlineExceeded(endpoint=endpoint)
        return min(self.timeout, left)

    def _send(
        self,
        method: str,
        url: str,
        *,
        endpoint_key: str | None,
        authenticated: bool = True,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        retry: bool = True,
    ) -> Any:
        """One logical call with retries; returns the decoded JSON of a 2xx answer."""
        attempt = 0
        while True:
            try:
                return self._attempt(
                    method,
                    url,
                    endpoint_key=endpoint_key,
                    authenticated=authenticated,
                    params=params,
                    json_body=json_body,
                )
            except AutotaskError as error:
                # Autotask might echo a credential back in its error text; it never leaves here.
                error.redact(self.credentials.secret, self.credentials.integration_code)
                if authenticated and isinstance(error, AuthenticationFailed):
                    # The tenant may have moved zones; look it up afresh on the next attempt
                    # (made by the user, never automatically: failures lock the API user).
                    self.zone_cache.pop(self.credentials.username, None)
                delay = self._retry_delay(error, attempt) if retry else None
                left = self.remaining()
                if delay is not None and left is not None and delay >= left:
                    # A wait that outlasts the deadline would only make the page later.
                    delay = None
                if delay is None:
                    raise
                logger.warning(
                    "Autotask %s %s: %s, retry %d of %d in %.1fs",
                    method,
                    error.endpoint,
                    error.code,
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)
                attempt += 1

    def _retry_delay(self, error: AutotaskError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to give up now."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        if isinstance(error, Throttled) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                # Retrying earlier than Autotask asked would only add to the tenant's usage.
                return None
            return error.retry_after
        return float(min(self.backoff_factor * (2**attempt), MAX_BACKOFF_SECONDS))

    def _attempt(
        self,
        method: str,
        url: str,
        *,
        endpoint_key: str | None,
        authenticated: bool,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
    ) -> Any:
        endpoint = _path(url)
        self._call_timeout(endpoint)  # past the deadline: not even queued for a slot
        slot: AbstractContextManager[None] = (
            self.limiter.slot(
                self.concurrency_key,
                endpoint_key,
                wait=self.remaining(),
                # A slot outlives its call only if the process died holding it; a call takes
                # at most about 3 timeouts (connect, first byte, a slowly read body).
                lease=3 * self.timeout + 5,
                path=endpoint,
            )
            if endpoint_key
            else nullcontext()
        )
        headers = self.credentials.headers() if authenticated else {}
        with slot:
            # Waiting for the slot took time: what is left of the deadline bounds the call.
            timeout = self._call_timeout(endpoint)
            self._count_call()
            started = time.monotonic()
            failure: AutotaskError | None = None
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=timeout,
                    stream=True,  # read the body ourselves, with a size cap
                    allow_redirects=False,  # a redirect would carry the credentials along
                )
            except requests.Timeout as exc:
                self._log(method, endpoint, type(exc).__name__, started)
                if timeout < self.timeout:
                    # Cut short by the deadline, not Autotask's own slowness alone.
                    raise DeadlineExceeded(endpoint=endpoint) from exc
                raise TimedOut(endpoint=endpoint) from exc
            except requests.exceptions.InvalidHeader:
                # Its message quotes the header value, which may be the secret: drop it.
                failure = AuthenticationFailed(
                    "The username, secret or integration code contains characters that cannot "
                    "be sent (such as line breaks or leading spaces). Enter them again.",
                    endpoint=endpoint,
                )
            except requests.RequestException as exc:
                self._log(method, endpoint, type(exc).__name__, started)
                raise Unavailable(endpoint=endpoint) from exc
            if failure is not None:
                self._log(method, endpoint, "InvalidHeader", started)
                raise failure
            try:
                body = self._read_body(response, endpoint, started, timeout)
            finally:
                response.close()
            self._log(method, endpoint, response.status_code, started)
        if not 200 <= response.status_code < 300:
            raise error_from_response(response, endpoint, body=body)
        return self._decode(body, response.status_code, endpoint)

    def _read_body(
        self, response: requests.Response, endpoint: str, started: float, timeout: float
    ) -> bytes:
        """The body, refusing answers over ``max_response_bytes`` or slower than ``timeout``."""
        status = response.status_code
        too_large = BrokenAnswer(detail="the answer is too large", status=status, endpoint=endpoint)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise too_large
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise too_large
                if time.monotonic() > deadline:
                    # requests' timeout is per read; this bounds a server that drips bytes.
                    late = DeadlineExceeded if timeout < self.timeout else TimedOut
                    raise late(status=status, endpoint=endpoint)
                chunks.append(chunk)
        except requests.exceptions.ContentDecodingError as exc:
            raise BrokenAnswer(
                detail="an answer that could not be decoded", status=status, endpoint=endpoint
            ) from exc
        except requests.RequestException as exc:
            self._log("READ", endpoint, type(exc).__name__, started)
            raise Unavailable(status=status, endpoint=endpoint) from exc
        return b"".join(chunks)

    @staticmethod
    def _decode(body: bytes, status: int, endpoint: str) -> Any:
        if not body.strip():
            raise BrokenAnswer(detail="an empty answer", status=status, endpoint=endpoint)
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            html = body.lstrip()[:1].startswith(b"<")
            detail = "an HTML page where data was expected" if html else "malformed data"
            raise BrokenAnswer(detail=detail, status=status, endpoint=endpoint) from exc

    @staticmethod
    def _log(method: str, endpoint: str, outcome: int | str, started: float) -> None:
        # Method, path, status and time only: never headers, query strings or bodies.
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("Autotask %s %s -> %s in %.0f ms", method, endpoint, outcome, elapsed_ms)

    def _parse_zone(self, data: Any, endpoint: str) -> Zone:
        url = data.get("url") if isinstance(data, dict) else None
        origin = _origin(url) if isinstance(url, str) else None
        if not isinstance(url, str) or origin is None or "?" in url or "#" in url:
            raise BrokenAnswer(detail="no usable zone address in the answer", endpoint=endpoint)
        lookup = _origin(self.zone_information_url)
        if lookup is not None and lookup[0] == "https" and origin[0] != "https":
            # Credentials must never go over plain HTTP because the zone lookup said so.
            raise BrokenAnswer(detail="an insecure zone address", endpoint=endpoint)
        assert isinstance(data, dict)
        name, web_url, ci = data.get("zoneName"), data.get("webUrl"), data.get("ci")
        return Zone(
            name=name if isinstance(name, str) else "",
            # Used exactly as given (case included); only a missing trailing slash is added.
            url=url if url.endswith("/") else url + "/",
            web_url=web_url if isinstance(web_url, str) else "",
            ci=ci if _is_int(ci) else None,
        )

    @staticmethod
    def _parse_page(data: Any, endpoint: str) -> Page:
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BrokenAnswer(detail="no list of records in the answer", endpoint=endpoint)
        assert isinstance(data, dict)
        details = data.get("pageDetails")
        next_url = details.get("nextPageUrl") if isinstance(details, dict) else None
        if details is not None and not isinstance(details, dict):
            raise BrokenAnswer(detail="unreadable paging details", endpoint=endpoint)
        if next_url is not None and (not isinstance(next_url, str) or not next_url.strip()):
            raise BrokenAnswer(detail="an unreadable next-page link", endpoint=endpoint)
        return Page(items=items, next_page_url=next_url)

    @staticmethod
    def _parse_fields(data: Any, endpoint: str) -> list[FieldInfo]:
        raw_fields = data.get("fields") if isinstance(data, dict) else None
        if not isinstance(raw_fields, list):
            raise BrokenAnswer(detail="no field list in the answer", endpoint=endpoint)
        # A field description without a name cannot be matched to anything: leave it out
        # rather than lose every other field's metadata with it.
        return [
            AutotaskClient._parse_field(raw)
            for raw in raw_fields
            if isinstance(raw, dict) and isinstance(raw.get("name"), str)
        ]

    @staticmethod
    def _parse_field(raw: dict[str, Any]) -> FieldInfo:
        choices = raw.get("picklistValues") or []
        try:
            picklist = tuple(_parse_choices(choices))
        except ValueError:
            # One malformed entry makes this field's picklist unknown, and nothing else: the
            # checks that need it say so, the others go on (reference, picklists).
            return FieldInfo(
                name=raw["name"],
                data_type=str(raw.get("dataType") or ""),
                is_picklist=bool(raw.get("isPickList")),
                picklist=(),
                picklist_unreadable=True,
            )
        return FieldInfo(
            name=raw["name"],
            data_type=str(raw.get("dataType") or ""),
            is_picklist=bool(raw.get("isPickList")),
            picklist=picklist,
        )


def _parse_choices(choices: Any) -> Iterator[PicklistValue]:
    """The picklist entries; ValueError if any of them cannot be read."""
    if not isinstance(choices, list):
        raise ValueError("picklistValues is not a list")
    for choice in choices:
        if not isinstance(choice, dict):
            raise ValueError("a picklist entry is not an object")
        value, label = choice.get("value"), choice.get("label")
        # Values are documented as strings; an int is accepted and normalised.
        if _is_int(value):
            value = str(value)
        if not isinstance(value, str) or not isinstance(label, str):
            raise ValueError("a picklist entry without a value or a label")
        active = choice.get("isActive", True)
        yield PicklistValue(value=value, label=label, is_active=active is not False)
