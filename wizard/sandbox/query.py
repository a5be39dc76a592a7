"""The query engine: QueryModel filters compiled to predicates, field coercion, paging.

Autotask's query semantics as the reference describes them (sections 3.2 to 3.4): a flat filter
list is an AND, field names match in any case, values are coerced by the field's type and
compared like the SQL behind the API (case-insensitive strings, nulls never compare), and
``MaxRecords`` is the page size, with keyset-paged ``nextPageUrl``s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import quote

from wizard.sandbox.entities import ENTITY_CAPABILITIES, ENTITY_FIELDS, FieldSpec, JsonDict

# Reference: https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/API_Calls/REST_Basic_Query_Calls.htm
MAX_PAGE_SIZE: Final = 500
MAX_RECORDS_RANGE: Final = "maxCountOfRecordsToReturn must be between 1 and 500"


class QueryError(Exception):
    """A malformed query; Autotask reports validation errors as HTTP 500 with errors[]."""


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
            raise QueryError(f"Value '{value}' is not a valid date.") from exc
    else:
        raise QueryError(f"Value '{value}' is not a valid date.")
    # Autotask stores and returns UTC (reference section 3.6).
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _coerce(spec: FieldSpec, value: Any) -> Any:
    """Turn a filter value (or a stored value) into something comparable for the field type."""
    if value is None:
        raise QueryError(f"A value is required for the field {spec.name}.")
    kind = spec.data_type
    if kind == "boolean":
        # Reference: AT-BasicQuery; booleans must be sent as true/false.
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise QueryError(f"Value '{value}' is not valid for the boolean field {spec.name}.")
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
            raise QueryError(f"Value '{value}' is not valid for the field {spec.name}.") from exc
    if kind in ("decimal", "double"):
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"Value '{value}' is not valid for the field {spec.name}.") from exc
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
            raise QueryError(f"Unable to find {name} in the {singular} Entity.")
        return spec

    def compile_all(self, nodes: Any) -> Predicate:
        if not isinstance(nodes, list) or not nodes:
            # Reference: AT-BasicQuery; any query needs at least one filter.
            raise QueryError("A query requires at least one filter expression.")
        # A flat filter list is an implicit AND (reference section 3.2, FIELD-NOTES).
        predicates = [self.compile(node) for node in nodes]
        return lambda row: all(p(row) for p in predicates)

    def compile(self, node: Any) -> Predicate:
        if not isinstance(node, dict):
            raise QueryError("Each filter expression must be an object.")
        node = {str(k).lower(): v for k, v in node.items()}
        op = str(node.get("op", "")).lower()
        if op in ("and", "or"):
            items = node.get("items")
            if not isinstance(items, list) or not items:
                raise QueryError(f"The '{op}' grouping requires items.")
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
            raise QueryError(f"The field {spec.name} is not queryable.")
        name = spec.name
        if op in _PRESENCE_OPS:
            wanted = op == "exist"
            return lambda row: (row.get(name) not in (None, "")) == wanted
        if op in _LIST_OPS:
            values = node.get("value")
            if not isinstance(values, list) or not values:
                raise QueryError(f"The '{op}' operator requires a list of values.")
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
        raise QueryError(f"A value is required for the field {spec.name}.")
    return node["value"]


@dataclass(frozen=True)
class Query:
    entity: str
    model: JsonDict  # normalised: filter, includeFields, maxRecords
    predicate: Predicate
    include: tuple[str, ...] | None
    page_size: int


def parse_query(entity: str, raw: Any) -> Query:
    if not isinstance(raw, dict):
        raise QueryError("The query must be a JSON object.")
    # Clients send both PascalCase and camelCase keys (reference section 3.2).
    model = {str(k).lower(): v for k, v in raw.items()}
    compiler = _Compiler(entity)
    predicate = compiler.compile_all(model.get("filter"))
    include: tuple[str, ...] | None = None
    raw_include = model.get("includefields")
    if raw_include:
        if not isinstance(raw_include, list):
            raise QueryError("IncludeFields must be a list of field names.")
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
        raise QueryError(MAX_RECORDS_RANGE) from exc
    # MaxRecords is the page size; outside 1..500 Autotask answers HTTP 500 with this text
    # (reference, Corrections 4). Whether it still offers a nextPageUrl below 500 is
    # UNCONFIRMED; the sandbox does.
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise QueryError(MAX_RECORDS_RANGE)
    normalised = {
        "filter": model["filter"],
        "includeFields": list(include) if include else [],
        "maxRecords": page_size,
    }
    return Query(entity, normalised, predicate, include, page_size)


def _compact(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


@dataclass(frozen=True)
class Page:
    """One page of matching rows and the URLs of its neighbours (None at either end)."""

    rows: list[JsonDict]
    prev_url: str | None
    next_url: str | None


def paginate(
    rows: Sequence[JsonDict],
    query: Query,
    base_url: str,
    *,
    after: int | None = None,
    before: int | None = None,
) -> Page:
    """The page of ``rows`` (sorted by id) after id ``after`` or before id ``before``."""
    # Reference: section 3.3 and 3.4 of the reference (items + pageDetails, 500 per page).
    size = query.page_size
    if before is not None:
        page = [r for r in rows if r["id"] < before][-size:]
    else:
        page = [r for r in rows if after is None or r["id"] > after][:size]
    has_prev = bool(page) and rows[0]["id"] < page[0]["id"]
    has_next = bool(page) and rows[-1]["id"] > page[-1]["id"]
    return Page(
        page,
        _page_url(base_url, query, before=page[0]["id"]) if has_prev else None,
        _page_url(base_url, query, after=page[-1]["id"]) if has_next else None,
    )


def _page_url(
    base_url: str, query: Query, *, after: int | None = None, before: int | None = None
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
    return f"{base_url}V1.0/{query.entity}/query/next?paging={paging_param}"


def parse_next_page(
    entity: str, raw: Any, paging_text: str
) -> tuple[Query, int | None, int | None]:
    """The query, ``after`` and ``before`` of a ``query/next`` call from its paging state."""
    try:
        paging = json.loads(paging_text)
    except json.JSONDecodeError as exc:
        raise QueryError("The paging state could not be parsed.") from exc
    if not isinstance(paging, dict):
        raise QueryError("The paging state could not be parsed.")
    query = parse_query(entity, raw)
    if isinstance(paging.get("pageSize"), int):
        query = replace(query, page_size=max(1, min(MAX_PAGE_SIZE, paging["pageSize"])))
    after = paging.get("afterId")
    before = paging.get("beforeId")
    return (
        query,
        after if isinstance(after, int) else None,
        before if isinstance(before, int) else None,
    )
