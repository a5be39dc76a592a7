"""The request handler: :meth:`Sandbox.handle` answers one request as Autotask would.

``handle`` is a pure ``(method, url, headers, body) -> SandboxResponse`` function over the
state of ``state.py``, so it can be served three ways: in-process through the ``requests``
adapter (``adapter.py``), over HTTP on 127.0.0.1 (``server.py``), or directly from tests.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from wizard.sandbox.entities import ENTITY_CAPABILITIES, ENTITY_FIELDS, JsonDict
from wizard.sandbox.query import Query, QueryError, paginate, parse_next_page, parse_query
from wizard.sandbox.scenarios import (
    LEVEL_NAMES,
    SANDBOX_SECRET,
    Scenario,
    visible_when_restricted,
)
from wizard.sandbox.state import SandboxState
from wizard.sandbox.wire import (
    BROKEN_BODY,
    CODE_INVALID,
    FLAKY_PAGE,
    JSON_TYPE,
    NO_QUERY_RIGHTS,
    REQUEST_THRESHOLD,
    THREAD_EXCEEDED,
    THREAD_LIMIT,
    THRESHOLD_TIMEFRAME_MINUTES,
    THROTTLED,
    ZONE_UNKNOWN,
    Route,
    SandboxResponse,
    errors,
    json_response,
    not_found,
    route_for,
)


class _NoRights(Exception):
    """The user's security level has no query access to the entity."""


class Sandbox(SandboxState):
    """An in-memory Autotask tenant per scenario user, behind :meth:`handle`.

    The tenants' state and the methods tests change it with are :class:`SandboxState`'s; this
    class answers requests from it, from many threads at once (the standalone server is
    threaded).
    """

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
        route = route_for(url)
        lower = {k.lower(): v for k, v in headers.items()}
        if route.kind == "zone":
            username = (route.params.get("user") or [""])[0].strip()
            self._count(username, route.endpoint)
            scenario = self.scenario_for(username)
            # The zone lookup is not an API call: it counts towards no threshold.
            self._delay(self._latency_for(username, scenario, threshold=False), timeout)
            return self._zone(username, scenario)
        username = lower.get("username", "").strip()
        self._count(username, route.endpoint)
        if route.kind == "none":
            return not_found(url)
        code = lower.get("apiintegrationcode", "")
        # Reference: section 2.2 of the reference; a missing or wrong integration code is HTTP 500
        # "IntegrationCode is invalid." (the status for missing headers is UNCONFIRMED).
        if not code or not username or "secret" not in lower or code != self.integration_code:
            self._delay(self.latency, timeout)
            return errors(500, CODE_INVALID)
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
                return errors(500, THREAD_EXCEEDED)
            self._in_flight[slot] += 1
            self._user_in_flight[user] += 1
            self._peak_in_flight[user] = max(self._peak_in_flight[user], self._user_in_flight[user])
        try:
            scenario = self.scenario_for(username)
            self._delay(self._latency_for(username, scenario), timeout)
            return self._authenticated(method, route, username, lower["secret"], scenario, body)
        finally:
            with self._lock:
                self._in_flight[slot] -= 1
                self._user_in_flight[user] -= 1

    def _authenticated(
        self,
        method: str,
        route: Route,
        username: str,
        secret: str,
        scenario: Scenario | None,
        body: bytes | None,
    ) -> SandboxResponse:
        user = username.lower()
        if scenario is None or not scenario.known_user:
            # Reference: section 2.2; an unknown username answers like the zone lookup.
            return errors(500, ZONE_UNKNOWN)
        with self._lock:
            expired = user in self._expired
        if secret != SANDBOX_SECRET or scenario.secret_rejected or expired:
            # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Security_Auth.htm
            # "Failed authentication ... will result in the return of a 401 error"; body empty.
            return SandboxResponse(401, {"Content-Length": "0"}, b"")
        if scenario.code_rejected:
            # A vendor/code mismatch has no documented answer; the likeliest is this one.
            return errors(500, CODE_INVALID)
        self._record_usage(user)
        if scenario.fault == "throttled":
            # Reference: section 5.4; the status and Retry-After are what clients rely on.
            return json_response(429, {"errors": [THROTTLED]}, {"Retry-After": "1"})
        if scenario.fault == "thread-limit":
            return errors(500, THREAD_EXCEEDED)
        if scenario.fault == "flaky":
            # Every second call to each endpoint fails, so a retry of a call finds the next
            # one good even while other endpoints are called in parallel.
            with self._lock:
                self._flaky_calls[f"{user}|{route.endpoint}"] += 1
                failing = self._flaky_calls[f"{user}|{route.endpoint}"] % 2 == 0
            if failing:
                return SandboxResponse(503, {"Content-Type": "text/html"}, FLAKY_PAGE)
        if scenario.fault == "broken":
            return SandboxResponse(200, {"Content-Type": JSON_TYPE}, BROKEN_BODY)
        return self._dispatch(method, route, user, scenario, body)

    def _dispatch(
        self,
        method: str,
        route: Route,
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
            return json_response(
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
            return json_response(200, {"fields": fields})
        try:
            if route.kind == "item":
                return self._item(route.entity, route.item_id, user, scenario)
            raw = self._query_model(method, route, body)
            if route.kind == "next":
                paging = (route.params.get("paging") or [""])[0]
                query, after, before = parse_next_page(route.entity, raw, paging)
                return self._page(query, user, scenario, after=after, before=before)
            query = parse_query(route.entity, raw)
            if route.kind == "count":
                return json_response(200, {"queryCount": len(self._matching(query, user))})
            return self._page(query, user, scenario)
        except QueryError as exc:
            return errors(500, str(exc))
        except _NoRights:
            return errors(500, NO_QUERY_RIGHTS)

    # -- endpoints ---------------------------------------------------------------------------------

    def _zone(self, username: str, scenario: Scenario | None) -> SandboxResponse:
        # Reference: section 1.2 of the reference (SW ZoneInformationResultModel, APIGRATE README).
        if not username or scenario is None or not scenario.known_user:
            return errors(500, ZONE_UNKNOWN)
        # ci identifies the database; each scenario user stands for its own tenant.
        ci = 100_000 + zlib.crc32(username.lower().encode()) % 900_000
        return json_response(
            200,
            {"zoneName": "Sandbox", "url": self.base_url, "webUrl": self.web_url, "ci": ci},
        )

    def _threshold(self, user: str, scenario: Scenario) -> SandboxResponse:
        # Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/General_Topics/REST_Thresholds_Limits.htm
        return json_response(
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
        return json_response(
            200,
            {
                "info": {
                    "name": caps.singular,
                    "canCreate": caps.can_create,
                    "canDelete": caps.can_delete,
                    "canQuery": True,
                    "canUpdate": caps.can_update,
                    # Names, not the documented numbers (reference, Corrections 1).
                    "userAccessForCreate": LEVEL_NAMES[access.create],
                    "userAccessForDelete": LEVEL_NAMES[access.delete],
                    "userAccessForQuery": LEVEL_NAMES[access.query],
                    "userAccessForUpdate": LEVEL_NAMES[access.update],
                    "hasUserDefinedFields": caps.has_udfs,
                    "supportsWebhookCallouts": entity == "Companies",
                }
            },
        )

    def _item(self, entity: str, item_id: int, user: str, scenario: Scenario) -> SandboxResponse:
        access = self.access_for(user, entity)
        if access.query == 0:
            raise _NoRights
        with self._lock:
            row = self._data_of(scenario).records[entity].get(item_id)
        if row is None or (access.query == 2 and not visible_when_restricted(entity, row)):
            # A missing (or, for a restricted level, invisible) id is HTTP 200 with
            # {"item": null} (reference, Corrections 4); a 404 is also possible, and the client
            # reads both the same way.
            return json_response(200, {"item": None})
        return json_response(200, {"item": self._present(entity, row, user, scenario, None)})

    def _query_model(self, method: str, route: Route, body: bytes | None) -> Any:
        if method == "GET":
            search = (route.params.get("search") or [""])[0]
            if not search:
                raise QueryError("The search parameter is required.")
            text = search
        else:
            text = (body or b"").decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise QueryError("The query could not be parsed as JSON.") from exc

    def _matching(self, query: Query, user: str) -> list[JsonDict]:
        access = self.access_for(user, query.entity)
        if access.query == 0:
            raise _NoRights
        with self._lock:
            rows = self._data_of(self.scenario_for(user)).records[query.entity]
            snapshot = [rows[i] for i in sorted(rows)]
        if access.query == 2:
            # Restricted visibility returns fewer records rather than an error (reference
            # section 4.9): see visible_when_restricted.
            snapshot = [row for row in snapshot if visible_when_restricted(query.entity, row)]
        return [row for row in snapshot if query.predicate(row)]

    def _page(
        self,
        query: Query,
        user: str,
        scenario: Scenario,
        *,
        after: int | None = None,
        before: int | None = None,
    ) -> SandboxResponse:
        page = paginate(
            self._matching(query, user), query, self.base_url, after=after, before=before
        )
        items = [self._present(query.entity, r, user, scenario, query.include) for r in page.rows]
        return json_response(
            200,
            {
                "items": items,
                "pageDetails": {
                    "count": len(items),
                    "requestCount": query.page_size,
                    "prevPageUrl": page.prev_url,
                    "nextPageUrl": page.next_url,
                },
            },
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
