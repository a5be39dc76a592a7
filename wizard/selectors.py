"""Reads: who may see which tenant, and the wizard's progress as the pages show it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from wizard import steps
from wizard.evaluation import Evaluation, evaluate
from wizard.models import AutotaskCredential, Membership, StepProgress, StepState, Tenant
from wizard.steps import Step


def tenants_for_member(user: Any) -> QuerySet[Tenant]:
    if not user.is_authenticated:
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=user).distinct()


def tenant_for_member(user: Any, code: uuid.UUID | str) -> Tenant:
    """The tenant if ``user`` is one of its members; 404 otherwise (never 403: don't confirm
    that someone else's tenant exists)."""
    try:
        return tenants_for_member(user).get(code=code)
    except (Tenant.DoesNotExist, ValueError) as e:
        raise Http404("No such tenant.") from e


def membership_role(user: Any, tenant: Tenant) -> str | None:
    m = Membership.objects.filter(user=user, tenant=tenant).only("role").first()
    return m.role if m else None


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

    def get(self, key: str) -> StepView:
        return next(s for s in self.steps if s.step.key == key)

    @property
    def resume_step(self) -> Step:
        """The first step not yet done or skipped; the review once everything is."""
        for s in self.steps:
            if not s.finished:
                return s.step
        return steps.STEPS[-1]


def wizard_overview(tenant: Tenant) -> WizardOverview:
    rows = {p.step_key: p for p in StepProgress.objects.filter(tenant=tenant)}
    cred = AutotaskCredential.objects.filter(tenant=tenant).only("username").first()
    views = []
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
                    has_credentials=cred is not None,
                ),
            )
        )
    return WizardOverview(
        tenant=tenant,
        steps=tuple(views),
        has_credentials=cred is not None,
        credential_username=cred.username if cred else "",
    )


def tenants_for_staff(user: Any) -> QuerySet[Tenant]:
    """Account managers see the tenants assigned to them; with the permission, all tenants."""
    if not (user.is_authenticated and user.is_staff):
        return Tenant.objects.none()
    if user.has_perm("wizard.view_all_tenants"):
        return Tenant.objects.all()
    return Tenant.objects.filter(account_manager=user)


def dashboard_rows(user: Any) -> list[WizardOverview]:
    tenants = tenants_for_staff(user).select_related("account_manager")
    return [wizard_overview(t) for t in tenants]
