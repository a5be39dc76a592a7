from __future__ import annotations

import datetime
import functools
from typing import Any

from django import template
from django.conf import settings
from django.forms import BoundField
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

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
def cached_url(viewname: str, *args: Any) -> str:
    """``{% url %}`` for links a page repeats: the step page has a dozen (the navigation, its
    forms), and each reverse() costs more than the rest of the link. The URL of a name and its
    arguments never changes while the process runs, so it is worked out once; everything
    reverse() depends on is in the key. Escaped like ``{% url %}`` (autoescape)."""
    return _reverse(get_urlconf(), get_script_prefix(), viewname, tuple(str(a) for a in args))


@functools.lru_cache(maxsize=4096)
def _reverse(urlconf: str | None, prefix: str, viewname: str, args: tuple[str, ...]) -> str:
    # The prefix is in the key only: reverse() reads the same thread-local one.
    return reverse(viewname, urlconf=urlconf, args=args)


@register.simple_tag
def step_instructions(step: Step, branch: str) -> str:
    """The step's instructions for the partner's branch (templates/wizard/_instructions.html).

    They are made only from the step registry, which is code: the same for every tenant and
    user, and new only with a release, which starts new processes. So each step's and branch's
    are rendered once per process and kept with the very Step they came from. Nothing a user
    or the database changes is kept, and nothing is shared between processes (a fragment
    cache in Redis outlived deploys). In DEBUG they render every time, so edits show at once.
    """
    if settings.DEBUG:
        return _render_instructions(step, branch)
    kept = _INSTRUCTIONS.get((step.key, branch))
    if kept is None or kept[0] is not step:  # a registry built in a test brings other Steps
        if len(_INSTRUCTIONS) > 256:  # steps x branches: a few dozen at most
            _INSTRUCTIONS.clear()
        kept = _INSTRUCTIONS[(step.key, branch)] = (step, _render_instructions(step, branch))
    return kept[1]


_INSTRUCTIONS: dict[tuple[str, str], tuple[Step, str]] = {}


def _render_instructions(step: Step, branch: str) -> str:
    sections = step.sections_for(branch) if branch else step.sections
    # The engine's output is marked safe (everything in it escaped), so the tag keeps it as is.
    return render_to_string("wizard/_instructions.html", {"sections": sections, "branch": branch})


@register.simple_tag
def step_nav(overview: WizardOverview, tenant: Tenant, current: Step) -> list[tuple[Any, ...]]:
    """The navigation's rows as plain values (url, number, title, optional, state, state label,
    current): the template unpacks each row once instead of looking up seven attributes and
    comparing keys twice, per step, on every page."""
    return [
        (
            cached_url("wizard:step", tenant.code, s.step.key),
            str(s.number),
            s.step.title,
            s.step.optional,
            s.state,
            s.state_label,
            s.step.key == current.key,
        )
        for s in overview.steps
    ]
