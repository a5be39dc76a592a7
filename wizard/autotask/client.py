"""The one Autotask REST API client: zone discovery, reads, paging, metadata.

Each public call builds its URL, sends through the one ``_send`` path it inherits from
Transport (transport.py: timeout, deadline, caps, retries, error mapping, logging) and reads
the answer with parsing.py. Facts and sources: reference/autotask-rest-api.md.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import urljoin

import requests

from wizard.autotask import limits, parsing
from wizard.autotask.errors import BrokenAnswer, NotFound, TooManyResults
from wizard.autotask.parsing import origin as _origin
from wizard.autotask.parsing import path as _path
from wizard.autotask.transport import MAX_RETRY_AFTER_SECONDS, Transport, build_session
from wizard.autotask.types import Credentials, EntityAccess, FieldInfo, Page, Threshold, Zone

__all__ = ["AutotaskClient", "build_session", "clear_zone_cache"]

MAX_PAGE_SIZE = 500  # Autotask's page size limit for queries

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


class AutotaskClient(Transport):
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
        endpoint = _path(self.zone_information_url)
        zone = parsing.parse_zone(data, endpoint, lookup_url=self.zone_information_url)
        self.zone_cache[username] = zone
        return zone

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
    def get_threshold(self) -> Threshold:
        """API usage of the tenant; also the cheapest probe of username, secret and code."""
        url = self._url("ThresholdInformation")
        data = self._send("GET", url, endpoint_key="ThresholdInformation")
        return parsing.parse_threshold(data, _path(url))

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
    def get(self, entity: str, entity_id: int) -> dict[str, Any] | None:
        """One record by id, or None if it does not exist (Autotask says 404 or item null)."""
        if not parsing.is_int(entity_id):
            raise ValueError(f"entity_id must be an int, got {type(entity_id).__name__}")
        url = self._url(_check_entity(entity), str(entity_id))
        try:
            data = self._send("GET", url, endpoint_key=entity)
        except NotFound:
            return None
        return parsing.parse_item(data, _path(url))

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
        return parsing.parse_page(data, _path(url))

    # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
    def count(self, entity: str, filters: list[dict[str, Any]]) -> int:
        """How many records match the filters, without reading them."""
        _check_filters(filters)
        url = self._url(_check_entity(entity), "query", "count")
        data = self._send("POST", url, json_body={"filter": filters}, endpoint_key=entity)
        value = parsing.count_field(data, "queryCount")
        if value is None:
            raise BrokenAnswer(detail="no count in the answer", endpoint=_path(url))
        return value

    # Reference: https://ww3.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_EntityInformationCall.htm
    def entity_information(self, entity: str) -> EntityAccess:
        """What this API user may do with the entity (AccessLevel: none, all, restricted).

        Read by parsing.parse_entity_access: names or numbers, and one unreadable level makes
        only this entity's answer unknown.
        """
        url = self._url(_check_entity(entity), "entityInformation")
        data = self._send("GET", url, endpoint_key=entity)
        return parsing.parse_entity_access(entity, data, _path(url))

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
        fields = parsing.parse_fields(data, _path(url))
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
    # Plumbing (the rest is Transport's)

    def _credentials_refused(self) -> None:
        # The tenant may have moved zones; look it up afresh on the next attempt (made by the
        # user, never automatically: failures lock the API user).
        self.zone_cache.pop(self.credentials.username, None)

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
