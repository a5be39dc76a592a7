"""Autotask dates read as the dates the partner typed (wizard.autotask.dates)."""

from __future__ import annotations

import datetime

import pytest

from wizard.autotask.dates import (
    is_time_zone,
    local_date,
    local_midnight,
    parse,
    time_zone_names,
    today_in,
)

D = datetime.date


@pytest.mark.parametrize(
    ("value", "time_zone", "expected"),
    [
        # Reference, Corrections point 2: the DJAT fixture, 24 February 2020 in Sydney.
        ("2020-02-23T13:00:00Z", "Australia/Sydney", D(2020, 2, 24)),
        # The project phase of the same section: 27 August 2012, US Eastern (EDT, UTC-4 then).
        ("2012-08-27T05:00:00.000Z", "America/New_York", D(2012, 8, 27)),
        ("2012-08-27T04:00:00.000Z", "America/New_York", D(2012, 8, 27)),
        # UTC+13 (Auckland in summer), UTC+10 (Brisbane), UTC-5 (New York in winter), at year
        # and month edges.
        ("2025-12-31T11:00:00Z", "Pacific/Auckland", D(2026, 1, 1)),
        ("2025-12-31T14:00:00Z", "Australia/Brisbane", D(2026, 1, 1)),
        ("2026-01-01T05:00:00Z", "America/New_York", D(2026, 1, 1)),
        ("2026-02-28T14:00:00Z", "Australia/Brisbane", D(2026, 3, 1)),
        ("2026-01-31T11:00:00Z", "Pacific/Tongatapu", D(2026, 2, 1)),
        ("2026-02-01T05:00:00Z", "America/Bogota", D(2026, 2, 1)),
        # Fractional seconds of any length (.NET writes up to seven digits).
        ("2019-06-22T02:00:00.000000Z", "UTC", D(2019, 6, 22)),
        ("2026-01-31T13:00:00.0000000Z", "Australia/Sydney", D(2026, 2, 1)),
        ("2026-01-31T13:00:00.5Z", "Australia/Sydney", D(2026, 2, 1)),
        # An explicit offset is an instant too.
        ("2026-02-01T00:00:00+11:00", "Australia/Sydney", D(2026, 2, 1)),
        ("2026-01-31T13:00:00+00:00", "Australia/Sydney", D(2026, 2, 1)),
        # A date alone, or a time without offset, is a local date already.
        ("2026-02-01", "Pacific/Auckland", D(2026, 2, 1)),
        ("2026-02-01T00:00:00", "America/New_York", D(2026, 2, 1)),
        (D(2026, 2, 1), "Pacific/Auckland", D(2026, 2, 1)),
    ],
)
def test_local_date(value: object, time_zone: str, expected: datetime.date) -> None:
    assert local_date(value, time_zone) == expected


@pytest.mark.parametrize("value", [None, "", "soon", "2026-13-01T00:00:00Z", 42])
def test_nothing_readable_is_no_date(value: object) -> None:
    assert local_date(value, "Australia/Sydney") is None


def test_parse_keeps_what_the_value_says() -> None:
    assert parse("2026-02-01") == D(2026, 2, 1)
    aware = parse("2026-01-31T13:00:00Z")
    assert isinstance(aware, datetime.datetime) and aware.utcoffset() == datetime.timedelta(0)
    naive = parse("2026-01-31T13:00:00")
    assert isinstance(naive, datetime.datetime) and naive.tzinfo is None


@pytest.mark.parametrize(
    ("day", "time_zone", "fractional", "expected"),
    [
        (D(2026, 2, 1), "Australia/Sydney", False, "2026-01-31T13:00:00Z"),  # AEDT
        (D(2026, 7, 1), "Australia/Sydney", False, "2026-06-30T14:00:00Z"),  # AEST
        (D(2026, 1, 1), "Pacific/Auckland", False, "2025-12-31T11:00:00Z"),
        (D(2026, 1, 1), "America/New_York", True, "2026-01-01T05:00:00.000Z"),
        (D(2026, 7, 1), "America/New_York", True, "2026-07-01T04:00:00.000Z"),
    ],
)
def test_local_midnight_round_trips(
    day: datetime.date, time_zone: str, fractional: bool, expected: str
) -> None:
    assert local_midnight(day, time_zone, fractional=fractional) == expected
    assert local_date(expected, time_zone) == day


def test_today_in_a_zone() -> None:
    # 31 January 2026, 13:30 UTC: already 1 February in Sydney and Auckland, still 31 January
    # in New York and in UTC.
    now = datetime.datetime(2026, 1, 31, 13, 30, tzinfo=datetime.UTC)
    assert today_in("Australia/Sydney", now) == D(2026, 2, 1)
    assert today_in("Pacific/Auckland", now) == D(2026, 2, 1)
    assert today_in("America/New_York", now) == D(2026, 1, 31)
    assert today_in("UTC", now) == D(2026, 1, 31)


def test_time_zone_names() -> None:
    names = time_zone_names()
    assert list(names) == sorted(names)
    assert {"Australia/Sydney", "Pacific/Auckland", "America/New_York", "UTC"} <= set(names)
    assert "localtime" not in names and "Factory" not in names
    assert all(is_time_zone(n) for n in ("Australia/Sydney", "America/Bogota", "UTC"))
    for bad in ("", "Sydney", "Australia/Atlantis", "../etc/passwd", "localtime", None, 10):
        assert not is_time_zone(bad)
