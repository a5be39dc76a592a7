"""The staff dashboard and tenant page: progress across tenants, in SQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import OrderBy
from django.utils import timezone

from wizard import access, steps
from wizard.models import StepProgress, Tenant

# ---------------------------------------------------------------------------------------------
# Staff dashboard. Everything is computed in SQL from the tenant summary (see
# services.tenant_summary_refresh), so a page costs the same few queries at any scale.

HEALTH_CHOICES: tuple[tuple[str, str], ...] = (
    ("on_track", "On track"),
    ("needs_attention", "Needs attention"),
    ("stuck", "Stuck"),
    ("done", "Done"),
    ("not_started", "Not started"),
)
HEALTH_LABELS = dict(HEALTH_CHOICES)
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "progress": ("finished_steps", "name", "id"),
    "-progress": ("-finished_steps", "name", "id"),
    "activity": (F("last_activity_at").asc(nulls_first=True), "id"),
    "-activity": (F("last_activity_at").desc(nulls_last=True), "id"),
    "state": ("health", "name", "id"),
}


def done_index() -> int:
    """``Tenant.current_step_index`` of a tenant with every step done: one past the last."""
    return len(steps.STEPS) + 1


@dataclass(frozen=True)
class DashboardFilter:
    """Validated filters (forms.DashboardFilterForm builds it from the query string)."""

    state: str = ""
    step: str = ""
    manager: str = ""  # a user id, "none" for unassigned, "" for all
    q: str = ""
    sort: str = "name"
    drift: str = ""  # "1": only tenants whose checks drifted since they were done

    def as_query(self, **override: str) -> str:
        values = {
            "state": self.state,
            "step": self.step,
            "manager": self.manager,
            "q": self.q,
            "sort": self.sort,
            "drift": self.drift,
            **override,
        }
        return urlencode({k: v for k, v in values.items() if v})


def stuck_cutoff() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=settings.STUCK_AFTER_DAYS)


def health_expression() -> Case:
    """The dashboard state of a tenant, as SQL. The rule is shown on the dashboard."""
    return Case(
        When(current_step_index=done_index(), then=Value("done")),
        When(last_activity_at__isnull=True, then=Value("not_started")),
        When(
            Q(last_activity_at__lt=stuck_cutoff()) | Q(failed_verifications__gte=3),
            then=Value("stuck"),
        ),
        When(needs_attention=True, then=Value("needs_attention")),
        default=Value("on_track"),
        output_field=CharField(),
    )


def dashboard_queryset(user: Any, f: DashboardFilter) -> QuerySet[Tenant]:
    qs = access.staff_tenants(user).annotate(health=health_expression())
    if f.state:
        qs = qs.filter(health=f.state)
    if f.step == "done":
        qs = qs.filter(current_step_index=done_index())
    elif f.step:
        qs = qs.filter(current_step_index=steps.step_number(f.step))
    if f.manager == "none":
        qs = qs.filter(account_manager__isnull=True)
    elif f.manager:
        qs = qs.filter(account_manager_id=int(f.manager))
    if f.q:
        qs = qs.filter(name__icontains=f.q)
    if f.drift:
        qs = qs.filter(drift_since__isnull=False)
    return qs.select_related("account_manager").order_by(*SORTS[f.sort])


def funnel(qs: QuerySet[Tenant]) -> list[tuple[str, int]]:
    """How many of the filtered tenants reached each step (and finished), in one query."""
    counts = qs.order_by().aggregate(
        **{
            f"s{i}": Count("id", filter=Q(current_step_index__gte=i))
            for i in range(1, done_index())
        },
        done=Count("id", filter=Q(current_step_index=done_index())),
    )
    bars = [(s.title, counts[f"s{i}"]) for i, s in enumerate(steps.STEPS, start=1)]
    return [*bars, ("Finished", counts["done"])]


def managers_for_filter(user: Any) -> QuerySet[Any]:
    ids = access.staff_tenants(user).exclude(account_manager=None).values("account_manager")
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


def step_title_at(index: int) -> str:
    return "Finished" if index >= done_index() else steps.STEPS[index - 1].title


def step_states(tenants: list[Tenant]) -> dict[int, dict[str, str]]:
    """Per-step states of these tenants, in one query."""
    out: dict[int, dict[str, str]] = {t.pk: {} for t in tenants}
    rows = StepProgress.objects.filter(tenant__in=tenants).values_list(
        "tenant_id", "step_key", "state"
    )
    for tenant_id, key, state in rows:
        out[tenant_id][key] = state
    return out


def collapse_repeats(events: Any) -> list[tuple[Any, int]]:
    """Audit events with identical consecutive state changes shown once, with their count.

    Older trails hold such repeats (a re-evaluation that wrote one change twice); new ones
    do not, see services.progress.evaluate_and_save.
    """
    out: list[tuple[Any, int]] = []
    for e in events:
        if out:
            last, count = out[-1]
            if (
                e.action == last.action == "state_changed"
                and e.step_key == last.step_key
                and e.detail == last.detail
            ):
                out[-1] = (last, count + 1)
                continue
        out.append((e, 1))
    return out
