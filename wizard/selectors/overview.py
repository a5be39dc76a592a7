"""The wizard's progress as the partner's pages show it: one overview per page."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import TypedDict

from django.db.models import F, Max, QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django_stubs_ext import WithAnnotations

from wizard import crypto, steps
from wizard.evaluation import Evaluation, evaluate
from wizard.models import AutotaskCredential, StepProgress, StepState, Tenant
from wizard.steps import Step

# A verification claims its step for at most this long (services.verification): a run that
# crashed without releasing it blocks nobody after that, and pages stop showing it as running.
VERIFICATION_LOCK_SECONDS = 300

# A state's label by its value: a dict lookup, where StepState(value).label goes through the
# enum's machinery (every page shows one per step).
STATE_LABELS: dict[str, str] = dict(StepState.choices)


@dataclass(frozen=True)
class StepView:
    step: Step
    number: int
    progress: StepProgress
    facts: steps.Facts
    # The open labels of the earlier steps not finished (for a step that requires them).
    unfinished_before: tuple[str, ...]

    @functools.cached_property
    def evaluation(self) -> Evaluation:
        """What still stands between this step and "done". Worked out when first asked: a
        step page shows its own step's, the review every step's."""
        return evaluate(
            self.step,
            state=self.progress.state,
            answers=self.progress.answers,
            checklist=self.progress.checklist,
            check_results=self.progress.check_results,
            facts=self.facts,
            unfinished_before=self.unfinished_before,
        )

    @property
    def state(self) -> str:
        return self.progress.state

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.progress.state]

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

    @functools.cached_property
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


def _credential_row(tenant: Tenant) -> tuple[str, str] | None:
    """The stored (username, encrypted Secret), or None (one small query)."""
    return (
        AutotaskCredential.objects.filter(tenant=tenant)
        .values_list("username", "secret_encrypted")
        .first()
    )


def step_facts(tenant: Tenant) -> steps.Facts:
    """What the steps' blockers need beyond their answers (one query)."""
    cred = _credential_row(tenant)
    return steps.Facts(
        username=cred[0] if cred else "",
        has_secret=bool(cred and cred[1]),
        time_zone_set=bool(tenant.time_zone),
    )


def credentials_stamp(tenant: Tenant) -> str:
    """crypto.credentials_stamp of the credentials stored now (one small query), for a form
    that takes a new Secret to carry instead of the Secret."""
    row = _credential_row(tenant)
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


class _CredentialFacts(TypedDict):
    credential_username: str | None
    credential_secret_length: int | None


@functools.cache
def _progress_with_credential() -> QuerySet[WithAnnotations[StepProgress, _CredentialFacts]]:
    """Every progress row with its tenant's credential's username and the length of its stored
    Secret (0 or NULL: none) joined in. Built once per process, as a class-based view keeps its
    ``queryset``: each page filters a clone of it, so the joins and expressions are resolved
    once, not on every page. Unordered: the rows go into a dict, and the model's default order
    would join the tenant table only to sort by name."""
    return StepProgress.objects.order_by().annotate(
        credential_username=F("tenant__autotask_credential__username"),
        credential_secret_length=Length("tenant__autotask_credential__secret_encrypted"),
    )


def wizard_overview(tenant: Tenant) -> WizardOverview:
    # One query: the progress rows, each with the credential's username and whether a Secret
    # is stored next to it (every page of the wizard starts here).
    query = _progress_with_credential().filter(tenant_id=tenant.pk)
    rows = {p.step_key: p for p in query}
    if rows:
        first = next(iter(rows.values()))
        facts = steps.Facts(
            username=first.credential_username or "",
            has_secret=bool(first.credential_secret_length),
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
                facts=facts,
                unfinished_before=tuple(unfinished) if step.requires_earlier else (),
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
