"""Reads: who may see which tenant, and the wizard's progress as the pages show it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import OrderBy
from django.utils import timezone

from wizard import access, crypto, steps
from wizard.evaluation import Evaluation, evaluate
from wizard.models import AutotaskCredential, StepProgress, StepState, Tenant
from wizard.steps import Step

# A verification claims its step for at most this long (services.verification): a run that
# crashed without releasing it blocks nobody after that, and pages stop showing it as running.
VERIFICATION_LOCK_SECONDS = 300


@dataclass(frozen=True)
class StepView:
    step: Step
    number: int
    progress: StepProgress
    evaluation: Evaluation

    @property
    def state(self) -> str:
        return self.progress.state

    @property
    def state_label(self) -> str:
        return StepState(self.progress.state).label

    @property
    def running(self) -> bool:
        """A verification of this step is going on (its claim is not stale)."""
        started = self.progress.verification_started_at
        limit = datetime.timedelta(seconds=VERIFICATION_LOCK_SECONDS)
        return started is not None and timezone.now() - started < limit

    @property
    def finished(self) -> bool:
        return self.progress.state in (StepState.DONE, StepState.SKIPPED)


@dataclass(frozen=True)
class WizardOverview:
    tenant: Tenant
    steps: tuple[StepView, ...]
    has_credentials: bool
    credential_username: str

    @property
    def finished_count(self) -> int:
        return sum(1 for s in self.steps if s.finished)

    @property
    def percent(self) -> int:
        return round(100 * self.finished_count / len(self.steps))

    @property
    def version(self) -> str:
        """selectors.live_version, from the rows this overview already read."""
        moments = [s.progress.updated_at for s in self.steps if s.progress.updated_at]
        return version_of(max(moments, default=None))

    def get(self, key: str) -> StepView:
        return next(s for s in self.steps if s.step.key == key)

    @property
    def resume_step(self) -> Step:
        """The first step not yet done or skipped; the review once everything is."""
        for s in self.steps:
            if not s.finished:
                return s.step
        return steps.STEPS[-1]


FINISHED = (StepState.DONE, StepState.SKIPPED)


def step_facts(tenant: Tenant) -> steps.Facts:
    """What the steps' blockers need beyond their answers (one query)."""
    cred = (
        AutotaskCredential.objects.filter(tenant=tenant)
        .values_list("username", "secret_encrypted")
        .first()
    )
    return steps.Facts(
        username=cred[0] if cred else "",
        has_secret=bool(cred and cred[1]),
        time_zone_set=bool(tenant.time_zone),
    )


def credentials_stamp(tenant: Tenant) -> str:
    """crypto.credentials_stamp of the credentials stored now (one small query), for a form
    that takes a new Secret to carry instead of the Secret."""
    row = (
        AutotaskCredential.objects.filter(tenant=tenant)
        .values_list("username", "secret_encrypted")
        .first()
    )
    return crypto.credentials_stamp(*row) if row else crypto.credentials_stamp(None, None)


def step_checklist(tenant: Tenant, step_key: str) -> list[str]:
    """The ticks stored for one step (one small query)."""
    row = StepProgress.objects.filter(tenant=tenant, step_key=step_key).values_list(
        "checklist", flat=True
    )
    return list(row.first() or [])


def live_version(tenant: Tenant) -> str:
    """What a step page's live updates compare: the last change to any of the tenant's
    progress rows (every write saves one; a verification's start and end touch its row).

    One aggregate query: a page that polls every few seconds costs one index lookup."""
    latest = StepProgress.objects.filter(tenant=tenant).aggregate(latest=Max("updated_at"))
    return version_of(latest["latest"])


def version_of(moment: datetime.datetime | None) -> str:
    return str(int(moment.timestamp() * 1_000_000)) if moment else "0"


def wizard_overview(tenant: Tenant) -> WizardOverview:
    # One query: the progress rows, each with the credential's username and whether a Secret
    # is stored next to it (every page of the wizard starts here). Unordered: the rows go into
    # a dict, and the model's default order would join the tenant table only to sort by name.
    query = (
        StepProgress.objects.filter(tenant=tenant)
        .order_by()
        .annotate(
            credential_username=F("tenant__autotask_credential__username"),
            credential_secret=ExpressionWrapper(
                Q(tenant__autotask_credential__secret_encrypted__gt=""),
                output_field=BooleanField(),
            ),
        )
    )
    rows = {p.step_key: p for p in query}
    if rows:
        first = next(iter(rows.values()))
        facts = steps.Facts(
            username=first.credential_username or "",
            has_secret=bool(first.credential_secret),
            time_zone_set=bool(tenant.time_zone),
        )
    else:  # no progress row yet: the credential on its own
        facts = step_facts(tenant)
    views = []
    unfinished: list[str] = []
    for number, step in enumerate(steps.STEPS, start=1):
        progress = rows.get(step.key) or StepProgress(tenant=tenant, step_key=step.key)
        views.append(
            StepView(
                step=step,
                number=number,
                progress=progress,
                evaluation=evaluate(
                    step,
                    state=progress.state,
                    answers=progress.answers,
                    checklist=progress.checklist,
                    check_results=progress.check_results,
                    facts=facts,
                    unfinished_before=unfinished if step.requires_earlier else (),
                ),
            )
        )
        if progress.state not in FINISHED:
            unfinished.append(step.title)
    return WizardOverview(
        tenant=tenant,
        steps=tuple(views),
        has_credentials=facts.has_secret,
        credential_username=facts.username,
    )


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
