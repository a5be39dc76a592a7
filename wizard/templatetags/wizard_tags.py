from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from typing import Any

from django import template
from django.conf import settings
from django.forms import BoundField
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django_htmx.jinja import htmx_script

from wizard.html import format_html, join_html
from wizard.links import reverse_html, url_html
from wizard.models import Tenant
from wizard.selectors import WizardOverview
from wizard.steps import Step

register = template.Library()


@register.filter
def ago(value: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """A past moment relative to now: "just now" under a minute (``timesince`` alone would
    say "0 minutes"), else "3 hours ago"."""
    if value is None:
        return ""
    now = now or timezone.now()
    if now - value < datetime.timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, now)} ago"


@register.filter
def hidden_initial(field: BoundField) -> SafeString:
    """The hidden "value as shown" input of a field rendered choice by choice."""
    return field.as_hidden(only_initial=True)


@register.simple_tag
def cached_url(viewname: str, *args: Any) -> SafeString:
    """``{% url %}`` for links a page repeats: worked out and escaped once per process
    (wizard/links.py)."""
    return url_html(viewname, *args)


@register.simple_tag
def cached_static(path: str) -> SafeString:
    """``{% static %}`` for the files every page links (base.html): the URL of a static file
    is fixed while the process runs (the manifest of hashed names is read once, at start), so
    it is worked out once per file and storage settings, and escaped once, as ``{% static %}``
    is on every page."""
    return _static(path, settings.STATIC_URL, str(settings.STORAGES.get("staticfiles")))


@functools.lru_cache(maxsize=64)
def _static(path: str, static_url: str, storage: str) -> SafeString:
    # The settings are in the key only: a test that changes them gets a new storage object.
    return format_html("{}", static(path))


@register.simple_tag
def cached_htmx_script() -> SafeString:
    """django-htmx's ``{% htmx_script %}``, worked out once per process and settings: its
    ``<script>`` tags (and, in DEBUG, its debug script) depend only on the static files'
    URLs and DEBUG. No nonce: the CSP allows scripts from 'self' (wizard/middleware.py)."""
    return _htmx_script(
        settings.DEBUG, settings.STATIC_URL, str(settings.STORAGES.get("staticfiles"))
    )


@functools.lru_cache(maxsize=8)
def _htmx_script(debug: bool, static_url: str, storage: str) -> SafeString:
    # The settings are in the key only, as for _static.
    return htmx_script()


def _kept(
    part: str, step: Step, variant: tuple[Any, ...], template_name: str, **context: Any
) -> str:
    """A part of the step page made only from the step registry, rendered once per process.

    The registry is code: the same for every tenant and user, and new only with a release,
    which starts new processes. So each part is rendered once per step and ``variant`` and
    kept with the very Step it came from. Nothing a user or the database changes is kept, and
    nothing is shared between processes (a fragment cache in Redis outlived deploys). In DEBUG
    it renders every time, so edits show at once. The engine's output is marked safe
    (everything in it escaped), so the tags keep it as it is.
    """
    if settings.DEBUG:
        return render_to_string(template_name, {"step": step, **context})
    key = (part, step.key, variant)
    kept = _KEPT.get(key)
    if kept is None or kept[0] is not step:  # a registry built in a test brings other Steps
        if len(_KEPT) > 256:  # parts x steps x branches: a few dozen at most
            _KEPT.clear()
        html = render_to_string(template_name, {"step": step, **context})
        kept = _KEPT[key] = (step, html)
    return kept[1]


_KEPT: dict[tuple[str, str, tuple[Any, ...]], tuple[Step, str]] = {}


@register.simple_tag
def step_instructions(step: Step, branch: str) -> str:
    """The step's instructions for the partner's branch (templates/wizard/_instructions.html),
    rendered once per process (_kept)."""
    sections = step.sections_for(branch) if branch else step.sections
    return _kept(
        "instructions",
        step,
        (branch,),
        "wizard/_instructions.html",
        sections=sections,
        branch=branch,
    )


@register.simple_tag
def step_heading(step: Step, number: int, count: int) -> str:
    """The step's heading: "Step 2 of 6", its title, summary and why
    (templates/wizard/_step_heading.html), rendered once per process (_kept)."""
    return _kept(
        "heading",
        step,
        (number, count),
        "wizard/_step_heading.html",
        number=number,
        count=count,
    )


# The navigation's row, one per step. Rows a page repeats are built in Python, as Django's
# admin builds its change list's cells (``items_for_result``), for a tenth of the template
# engine's cost per value (ADR 0013). Every value is escaped as ``{{ }}`` escapes it
# (wizard/html.py). The page's structure stays in the templates; only what repeats inside an
# element is here.
NAV_ROW = (
    '\n      <li class="nav-step state-{state}{current_class}">'
    '\n        <a href="{url}" id="nav-step-{number}"{aria_current}>'
    '\n          <span class="num" aria-hidden="true">{number}</span>'
    '\n          <span class="label">{title}{optional}</span>'
    '\n          <span class="badge badge-{state}">{state_label}</span>'
    "\n        </a>"
    "\n      </li>"
    "\n    "
)
CURRENT_CLASS = format_html(" current")
ARIA_CURRENT = format_html(' aria-current="step"')
OPTIONAL = format_html(" <small>(optional)</small>")
NOTHING = format_html("")


@register.simple_tag
def step_nav(overview: WizardOverview, tenant: Tenant, current: Step) -> SafeString:
    """The navigation's ``<li>`` rows: one per step, the current one marked (NAV_ROW)."""
    urlconf, prefix, code = get_urlconf(), get_script_prefix(), str(tenant.code)
    rows = []
    for s in overview.steps:
        here = s.step.key == current.key
        rows.append(
            format_html(
                NAV_ROW,
                state=s.state,
                current_class=CURRENT_CLASS if here else NOTHING,
                url=reverse_html(urlconf, prefix, "wizard:step", (code, s.step.key)),
                number=s.number,
                aria_current=ARIA_CURRENT if here else NOTHING,
                title=s.step.title,
                optional=OPTIONAL if s.step.optional else NOTHING,
                state_label=s.state_label,
            )
        )
    return join_html(rows)


# A checklist item: a box that saves on each click with htmx (the form's Save without it).
CHECK_ROW = (
    '\n      <div class="check">'
    '\n        <input type="checkbox" name="checklist" value="{id}" id="id_checklist_{n}"{checked}'
    '\n               hx-post="{url}" hx-trigger="change" hx-include="this"'
    """\n               hx-vals='{{"item": "{id}"}}' hx-swap="none">"""
    '\n        <label for="id_checklist_{n}">{text}</label>'
    "\n      </div>"
)
CHECKED = format_html(" checked")


@register.simple_tag
def checklist_rows(rows: list[tuple[Any, bool]], tenant: Tenant, step: Step) -> SafeString:
    """The checklist's boxes (CHECK_ROW), from (item, ticked) pairs."""
    url = cached_url("wizard:checklist", tenant.code, step.key)
    return join_html(
        format_html(
            CHECK_ROW,
            id=item.id,
            n=n,
            checked=CHECKED if ticked else NOTHING,
            url=url,
            text=item.text,
        )
        for n, (item, ticked) in enumerate(rows)
    )


@register.simple_tag
def radio_rows(field: BoundField) -> SafeString:
    """A radio field's choices, each in a ``<div class="radio">`` with its label after the
    button. Django's widget makes each button (``BoundWidget.tag``); only the wrapper is here."""
    return join_html(
        format_html(
            '<div class="radio">{} <label for="{}">{}</label></div>',
            radio.tag(),
            radio.id_for_label,
            radio.choice_label,
        )
        for radio in field
    )


@register.simple_tag
def list_items(values: Iterable[Any]) -> SafeString:
    """``<li>`` for each value, escaped (a list's rows, as the other rows here)."""
    return join_html(format_html("<li>{}</li>", v) for v in values)
