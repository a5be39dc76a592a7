"""Autotask dates, read as the dates the partner typed.

Autotask stores a date-only field (a contract's Start Date, End Date) as the UTC instant of the
tenant's local midnight: a contract that starts on 1 February in Sydney comes back as
``2026-01-31T13:00:00Z``, one that starts on 27 August in New York as
``2012-08-27T04:00:00.000Z``. Fractional seconds may or may not be there. Cutting the string to
its first ten characters therefore gives the day before for every tenant east of UTC, and no
single rounding rule fits UTC-10 to UTC+14 (more than 24 hours): the date is the local date of
that instant in the tenant's time zone.

Reference: /work/shared/reference/autotask-rest-api.md, "Corrections (December 2026)" point 2
and section 3.6 (DJAT fixture ``2020-02-23T13:00:00Z`` for a contract starting 24 February in
Sydney).

Pure functions, no Django, no I/O.
"""

from __future__ import annotations

import datetime
import re
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC = datetime.UTC

# .NET writes up to seven fractional digits; Python 3.11's parser wants at most six.
_FRACTION = re.compile(r"(\.\d{6})\d+")
# Names in the IANA database that are not places: a partner never means one of these.
_NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError (with the name) if there is no such zone."""
    if not is_time_zone(name):
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. Australia/Sydney).")
    return ZoneInfo(name)


def is_time_zone(name: Any) -> bool:
    """True for a zone name the wizard accepts (as zoneinfo knows it, e.g. Australia/Sydney)."""
    if not isinstance(name, str) or not name or name in _NOT_PLACES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every zone name the wizard accepts, sorted."""
    return tuple(sorted(available_timezones() - _NOT_PLACES))


def parse(value: Any) -> datetime.datetime | datetime.date | None:
    """An Autotask date or datetime as Python sees it; None for empty or unreadable values.

    ``2026-01-31T13:00:00Z``, ``2012-08-27T05:00:00.000Z``, ``...+10:00`` give aware
    datetimes; ``2026-01-31`` gives a date; a timestamp without offset gives a naive datetime.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime | datetime.date):
        return value
    text = _FRACTION.sub(r"\1", str(value).strip())
    try:
        if len(text) == 10:
            return datetime.date.fromisoformat(text)
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def local_date(value: Any, time_zone: str | ZoneInfo) -> datetime.date | None:
    """The date a partner in ``time_zone`` sees for an Autotask date value.

    An instant (``Z`` or an offset) is converted to the zone and its date taken. A value without
    an offset, or a date alone, is already a local date and is taken as it is.
    """
    parsed = parse(value)
    if parsed is None:
        return None
    if not isinstance(parsed, datetime.datetime):
        return parsed
    if parsed.tzinfo is None:
        return parsed.date()
    tz = zone(time_zone) if isinstance(time_zone, str) else time_zone
    return parsed.astimezone(tz).date()


def _now() -> datetime.datetime:
    """The current instant (one seam for tests that move the clock)."""
    return datetime.datetime.now(UTC)


def today_in(time_zone: str | ZoneInfo, now: datetime.datetime | None = None) -> datetime.date:
    """Today's date in ``time_zone`` (at ``now``, an aware datetime, if given)."""
    tz = zone(time_zone) if isinstance(time_zone, str) else time_zone
    return (now or _now()).astimezone(tz).date()


def local_midnight(
    day: datetime.date, time_zone: str | ZoneInfo, *, fractional: bool = False
) -> str:
    """``day``'s local midnight in ``time_zone`` as Autotask serialises it: a UTC instant.

    ``fractional`` adds ``.000`` before the ``Z``, as some Autotask answers do.
    """
    tz = zone(time_zone) if isinstance(time_zone, str) else time_zone
    instant = datetime.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S") + (".000Z" if fractional else "Z")
