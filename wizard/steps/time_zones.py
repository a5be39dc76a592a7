"""The time zone question of the account step: the list of zones, and a widget that renders
its ~600 options once per process and zone (docs/performance.md)."""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.utils.safestring import SafeString

from wizard.autotask.dates import time_zone_names
from wizard.html import attrs_html, format_html, join_html

# Where most partners are, first: the distributor's home market, then North America.
COMMON_TIME_ZONES: tuple[tuple[str, str], ...] = (
    ("Australia/Sydney", "Sydney, Melbourne, Canberra (Australia/Sydney)"),
    ("Australia/Brisbane", "Brisbane (Australia/Brisbane)"),
    ("Australia/Adelaide", "Adelaide (Australia/Adelaide)"),
    ("Australia/Darwin", "Darwin (Australia/Darwin)"),
    ("Australia/Hobart", "Hobart (Australia/Hobart)"),
    ("Australia/Perth", "Perth (Australia/Perth)"),
    ("Pacific/Auckland", "Auckland, Wellington (Pacific/Auckland)"),
    ("Asia/Singapore", "Singapore (Asia/Singapore)"),
    ("America/New_York", "US Eastern (America/New_York)"),
    ("America/Chicago", "US Central (America/Chicago)"),
    ("America/Denver", "US Mountain (America/Denver)"),
    ("America/Phoenix", "Arizona (America/Phoenix)"),
    ("America/Los_Angeles", "US Pacific (America/Los_Angeles)"),
    ("America/Anchorage", "Alaska (America/Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Pacific/Honolulu)"),
    ("America/Toronto", "Toronto (America/Toronto)"),
    ("America/Vancouver", "Vancouver (America/Vancouver)"),
    ("Europe/London", "London (Europe/London)"),
)


@functools.cache
def time_zone_choices() -> list[Any]:
    """A blank choice, the common zones, then every other IANA zone, each listed once."""
    common = {name for name, _label in COMMON_TIME_ZONES}
    others = [(name, name) for name in time_zone_names() if name not in common]
    return [
        ("", "Choose a time zone"),
        ("Common", list(COMMON_TIME_ZONES)),
        ("All time zones", others),
    ]


def _option(value: str, label: str, selected: bool) -> SafeString:
    # Django's select_option.html, newline included.
    if selected:
        return format_html('\n  <option value="{}" selected>{}</option>\n', value, label)
    return format_html('\n  <option value="{}">{}</option>\n', value, label)


@functools.cache
def _time_zone_values() -> frozenset[str]:
    return frozenset(v for v, _label in _flat_time_zone_choices())


def _flat_time_zone_choices() -> list[tuple[str, str]]:
    out = []
    for value, label in time_zone_choices():
        out += label if isinstance(label, list) else [(value, label)]
    return out


@functools.lru_cache(maxsize=64)
def _time_zone_options(chosen: str) -> SafeString:
    """The ~600 <option>s of time_zone_choices() with ``chosen`` selected, laid out as Django's
    select.html does (tests/views/test_time_zone.py compares the two). One entry per zone in
    use, at most 64 (~25 kB each); a value that is no zone selects nothing and shares one."""
    parts: list[SafeString] = []
    for value, label in time_zone_choices():
        if isinstance(label, list):
            parts.append(format_html('\n  <optgroup label="{}">', value))
            parts += [_option(v, t, v == chosen) for v, t in label]
            parts.append(format_html("\n  </optgroup>{}", ""))
        else:
            parts.append(_option(value, label, value == chosen))
    return join_html(parts)


class TimeZoneSelect(forms.Select):
    """The time zone list, rendered once per process and zone.

    Django renders each <option> through a template of its own: for these ~600 zones that was
    three quarters of the account step's CPU time (docs/performance.md). The list is the same
    for everybody and never changes while the process runs, so it is built once per zone chosen
    and reused. Same HTML as forms.Select; every piece goes through format_html's escaping
    (wizard/html.py).
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        chosen = next(iter(self.format_value(value)), "")
        if chosen not in _time_zone_values():
            chosen = "\x00"  # not a zone: nothing selected, one shared entry
        html_attrs = attrs_html(self.build_attrs(self.attrs, attrs))
        return format_html(
            '<select name="{}"{}>{}\n</select>', name, html_attrs, _time_zone_options(chosen)
        )

    def use_required_attribute(self, initial: Any) -> bool:
        # forms.Select looks at the first choice, but builds all ~600 to get at it.
        first_value = time_zone_choices()[0][0]
        return not self.is_hidden and first_value in (None, "")
