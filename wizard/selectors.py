"""Reads: who may see which tenant, and the wizard's progress as the pages show it."""

from __future__ import annotations

import datetime
import hashlib
import json
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
from wizard.autotask import dates
from wizard.evaluation import Evaluation, evaluate
from wizard.models import AutotaskCredential, StepProgress, StepState, Tenant, partner_name_key
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
    def all_finished(self) -> bool:
        """Every step done or skipped: the hand-off to Billing Sync is ready."""
        return all(s.finished for s in self.steps)

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
            unfinished.append(step.open_label)
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


# ---------------------------------------------------------------------------------------------
# The hand-off to Billing Sync: what its connection setup asks for, built once here for the
# completion page, the staff tenant page, the JSON API and the account manager's email. It
# holds the API Username and never the Secret (the Secret is not even read).


@dataclass(frozen=True)
class HandoffContract:
    """One customer's Autotask company and the contract Billing Sync maps it to."""

    company_id: int
    company_name: str  # "" when the row was typed by id and no name was ever read
    contract_id: int
    contract_name: str

    def as_json(self) -> dict[str, Any]:
        return {
            "company": {"id": self.company_id, "name": self.company_name or None},
            "contract": {"id": self.contract_id, "name": self.contract_name or None},
        }


@dataclass(frozen=True)
class Handoff:
    tenant_name: str
    api_username: str
    sync_start: str  # a key of steps.SYNC_START_CHOICES
    sync_start_label: str
    # The first day of usage the sync copies, as of the day everything was verified, in the
    # tenant's time zone (it moves on with the month in which the sync is enabled).
    first_usage: datetime.date | None
    time_zone: str
    recurring: tuple[HandoffContract, ...]
    # Seat Based Annual -> Fixed Price contracts; "yes", "no" or "skipped".
    annual_answer: str
    annual: tuple[HandoffContract, ...]
    verified_at: datetime.datetime | None

    @property
    def verified_on(self) -> datetime.date | None:
        """The day of the verification in the tenant's time zone."""
        if self.verified_at is None:
            return None
        return dates.today_in(self.time_zone or "UTC", now=self.verified_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "api_username": self.api_username,
            "sync_start": {"value": self.sync_start, "label": self.sync_start_label},
            "first_usage_date": self.first_usage.isoformat() if self.first_usage else None,
            "time_zone": self.time_zone,
            "recurring_contracts": [c.as_json() for c in self.recurring],
            "annual": {
                "answer": self.annual_answer,
                "contracts": [c.as_json() for c in self.annual],
            },
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
        }

    def digest(self) -> str:
        """What the hand-off says, as a short fingerprint. Left out: the verification time (a
        re-verification that changes nothing is the same hand-off) and the company and
        contract names (labels only: a verification fills in the names of rows typed by id,
        which changes nothing Billing Sync is given)."""
        content = {
            **self.as_json(),
            "verified_at": None,
            "recurring_contracts": [(c.company_id, c.contract_id) for c in self.recurring],
            "annual": [self.annual_answer, [(c.company_id, c.contract_id) for c in self.annual]],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _contracts(rows: Any) -> tuple[HandoffContract, ...]:
    out = []
    for row in rows or ():
        if not isinstance(row, dict):
            continue
        out.append(
            HandoffContract(
                company_id=int(row.get("company_id") or 0),
                company_name=str(row.get("company_name") or ""),
                contract_id=int(row.get("contract_id") or 0),
                contract_name=str(row.get("contract_name") or ""),
            )
        )
    return tuple(out)


def handoff(tenant: Tenant, overview: WizardOverview | None = None) -> Handoff | None:
    """The hand-off to Billing Sync once every step is done or skipped; None before."""
    overview = overview or wizard_overview(tenant)
    if not overview.all_finished:
        return None
    summary = next(s for s in overview.steps if s.step.requires_earlier)
    recurring_step = steps.REGISTRY.asking("sync_start")
    annual_step = steps.REGISTRY.asking("has_annual")
    recurring = overview.get(recurring_step.key).progress
    annual = overview.get(annual_step.key).progress
    sync_start = str(recurring.answers.get("sync_start", ""))
    verified_at = summary.progress.verified_at
    first_usage = None
    if sync_start in dict(steps.SYNC_START_CHOICES) and tenant.time_zone and verified_at:
        first_usage = steps.first_usage_date(
            sync_start, dates.today_in(tenant.time_zone, now=verified_at)
        )
    if annual.state == StepState.SKIPPED:
        annual_answer = "skipped"
    else:
        annual_answer = str(annual.answers.get("has_annual", ""))
    return Handoff(
        tenant_name=tenant.name,
        api_username=overview.credential_username,
        sync_start=sync_start,
        sync_start_label=dict(steps.SYNC_START_CHOICES).get(sync_start, ""),
        first_usage=first_usage,
        time_zone=tenant.time_zone,
        recurring=_contracts(recurring.answers.get(recurring_step.list_field)),
        annual_answer=annual_answer,
        annual=(
            _contracts(annual.answers.get(annual_step.list_field)) if annual_answer == "yes" else ()
        ),
        verified_at=verified_at,
    )


@dataclass(frozen=True)
class ResetNotice:
    """An admin's reset, as the partner is told about it (from Tenant.reset_notice; no query)."""

    whole: bool
    from_title: str
    at: datetime.datetime | None
    reason: str


def reset_notice(tenant: Tenant) -> ResetNotice | None:
    notice = tenant.reset_notice
    if not notice:
        return None
    try:
        at: datetime.datetime | None = datetime.datetime.fromisoformat(str(notice.get("at")))
    except ValueError:
        at = None
    return ResetNotice(
        whole=bool(notice.get("whole")),
        from_title=str(notice.get("from_title", "")),
        at=at,
        reason=str(notice.get("reason", "")),
    )


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


# --- bringing partners in (services/onboarding.py) --------------------------------------------


def account_managers() -> QuerySet[Any]:
    """Who can be a partner's account manager: active staff accounts."""
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


@dataclass(frozen=True)
class StaffDirectory:
    """Active staff by lower-cased username and e-mail, and every staff address (active or not,
    superusers included: none of them may be invited into a partner)."""

    by_username: dict[str, Any]
    by_email: dict[str, list[Any]]
    staff_emails: frozenset[str]


def staff_directory() -> StaffDirectory:
    by_username: dict[str, Any] = {}
    by_email: dict[str, list[Any]] = {}
    for user in account_managers():
        by_username[user.get_username().lower()] = user
        if user.email:
            by_email.setdefault(user.email.lower(), []).append(user)
    emails = (
        get_user_model()
        .objects.filter(Q(is_staff=True) | Q(is_superuser=True))
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return StaffDirectory(by_username, by_email, frozenset(e.lower() for e in emails))


def partners_named(keys: set[str]) -> dict[str, Tenant]:
    """The existing tenant for each of these name keys (models.partner_name_key), if any.

    Tenants added from /manage/ carry their key; those added another way (the Django admin, the
    demo data) do not, and are compared by their name here: one query either way.
    """
    if not keys:
        return {}
    found: dict[str, Tenant] = {}
    qs = Tenant.objects.filter(Q(name_key__in=keys) | Q(name_key__isnull=True)).select_related(
        "account_manager"
    )
    for tenant in qs.order_by("pk"):
        key = tenant.name_key or partner_name_key(tenant.name)
        if key in keys:
            found.setdefault(key, tenant)
    return found
