"""Reading Autotask's answers: each decoded JSON body becomes a value type, or BrokenAnswer.

Nothing here sends anything: AutotaskClient (client.py) makes the calls and hands the decoded
body and the endpoint's path (for the error) to these functions. An answer that does not have
the documented shape is refused whole, except where one part can fail alone (one field's
picklist, one entity's permission level), which the docstrings say.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from wizard.autotask import types
from wizard.autotask.errors import BrokenAnswer, UnexpectedValue


def origin(url: str) -> tuple[str, str, int] | None:
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


def path(url: str) -> str:
    # Errors and logs name the path only: query strings may carry usernames or paging state.
    return urlsplit(url).path or "/"


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def count_field(data: Any, key: str) -> int | None:
    """A non-negative integer member of a JSON object, or None."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def parse_zone(data: Any, endpoint: str, *, lookup_url: str) -> types.Zone:
    """The zone from zoneInformation; never a plain-HTTP zone when looked up over HTTPS."""
    url = data.get("url") if isinstance(data, dict) else None
    where = origin(url) if isinstance(url, str) else None
    if not isinstance(url, str) or where is None or "?" in url or "#" in url:
        raise BrokenAnswer(detail="no usable zone address in the answer", endpoint=endpoint)
    lookup = origin(lookup_url)
    if lookup is not None and lookup[0] == "https" and where[0] != "https":
        # Credentials must never go over plain HTTP because the zone lookup said so.
        raise BrokenAnswer(detail="an insecure zone address", endpoint=endpoint)
    assert isinstance(data, dict)
    name, web_url, ci = data.get("zoneName"), data.get("webUrl"), data.get("ci")
    return types.Zone(
        name=name if isinstance(name, str) else "",
        # Used exactly as given (case included); only a missing trailing slash is added.
        url=url if url.endswith("/") else url + "/",
        web_url=web_url if isinstance(web_url, str) else "",
        ci=ci if is_int(ci) else None,
    )


def parse_threshold(data: Any, endpoint: str) -> types.Threshold:
    limit = count_field(data, "externalRequestThreshold")
    timeframe = count_field(data, "requestThresholdTimeframe")
    current = count_field(data, "currentTimeframeRequestCount")
    if limit is None or timeframe is None or current is None:
        raise BrokenAnswer(detail="no usage threshold in the answer", endpoint=endpoint)
    return types.Threshold(limit=limit, timeframe_minutes=timeframe, current_count=current)


def parse_item(data: Any, endpoint: str) -> dict[str, Any] | None:
    """The record of a get-by-id answer; None when Autotask says item null."""
    if not isinstance(data, dict) or "item" not in data:
        raise BrokenAnswer(detail="no item in the answer", endpoint=endpoint)
    item = data["item"]
    if item is None:
        return None
    if not isinstance(item, dict):
        raise BrokenAnswer(detail="the item is not a record", endpoint=endpoint)
    return item


def parse_page(data: Any, endpoint: str) -> types.Page:
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
    return types.Page(items=items, next_page_url=next_url)


def parse_entity_access(entity: str, data: Any, endpoint: str) -> types.EntityAccess:
    """The levels come back as names ("None", "All", "Restricted") although documented as
    0/1/2; both are read. One unreadable level makes this entity's answer an UnexpectedValue,
    so only the checks on this entity become unknown."""
    info = data.get("info") if isinstance(data, dict) else None
    flags = ("canQuery", "canCreate", "canUpdate", "canDelete")
    if not isinstance(info, dict) or not all(isinstance(info.get(k), bool) for k in flags):
        raise BrokenAnswer(detail="no entity information in the answer", endpoint=endpoint)
    levels: dict[str, types.AccessLevel] = {}
    for op in ("Query", "Create", "Update", "Delete"):
        raw = info.get(f"userAccessFor{op}")
        level = types.AccessLevel.parse(raw)
        if level is None:
            # Quote at most a short, printable excerpt: this text reaches the partner.
            shown = repr(raw)[:40] if isinstance(raw, str | int | float) else "nothing"
            raise UnexpectedValue(
                detail=f"an unreadable permission level for {op.lower()} ({shown})",
                endpoint=endpoint,
            )
        levels[op.lower()] = level
    return types.EntityAccess(
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


def parse_fields(data: Any, endpoint: str) -> list[types.FieldInfo]:
    raw_fields = data.get("fields") if isinstance(data, dict) else None
    if not isinstance(raw_fields, list):
        raise BrokenAnswer(detail="no field list in the answer", endpoint=endpoint)
    # A field description without a name cannot be matched to anything: leave it out
    # rather than lose every other field's metadata with it.
    return [
        _parse_field(raw)
        for raw in raw_fields
        if isinstance(raw, dict) and isinstance(raw.get("name"), str)
    ]


def _parse_field(raw: dict[str, Any]) -> types.FieldInfo:
    try:
        picklist = tuple(_parse_choices(raw.get("picklistValues") or []))
        unreadable = False
    except ValueError:
        # One malformed entry makes this field's picklist unknown, and nothing else: the
        # checks that need it say so, the others go on (reference, picklists).
        picklist, unreadable = (), True
    return types.FieldInfo(
        name=raw["name"],
        data_type=str(raw.get("dataType") or ""),
        is_picklist=bool(raw.get("isPickList")),
        picklist=picklist,
        picklist_unreadable=unreadable,
    )


def _parse_choices(choices: Any) -> Iterator[types.PicklistValue]:
    """The picklist entries; ValueError if any of them cannot be read."""
    if not isinstance(choices, list):
        raise ValueError("picklistValues is not a list")
    for choice in choices:
        if not isinstance(choice, dict):
            raise ValueError("a picklist entry is not an object")
        value, label = choice.get("value"), choice.get("label")
        # Values are documented as strings; an int is accepted and normalised.
        if is_int(value):
            value = str(value)
        if not isinstance(value, str) or not isinstance(label, str):
            raise ValueError("a picklist entry without a value or a label")
        active = choice.get("isActive", True)
        yield types.PicklistValue(value=value, label=label, is_active=active is not False)
