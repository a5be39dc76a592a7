"""A step's progress row: locked for every write, its state recomputed from the stored facts,
the tenant's dashboard summary kept in line. Skipping and un-skipping."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from wizard import steps
from wizard.evaluation import evaluate
from wizard.models import (
    AuditEvent,
    StepProgress,
    StepState,
    Tenant,
)
from wizard.selectors import FINISHED, step_facts
from wizard.services.audit import Actor, actor_of, audit
from wizard.services.errors import (
    SkipNotAllowed,
)
from wizard.services.handoff import handoff_mail_if_new

logger = logging.getLogger(__name__)


def lock_step(tenant: Tenant, step_key: str) -> StepProgress:
    if step_key not in steps.STEPS_BY_KEY:
        raise KeyError(step_key)
    progress, _ = StepProgress.objects.select_for_update().get_or_create(
        tenant=tenant, step_key=step_key
    )
    return progress


def _unfinished_before(progress: StepProgress) -> list[str]:
    """For a summary step (the review): the titles of the earlier steps still open."""
    step = progress.step
    if not step.requires_earlier:
        return []
    earlier = steps.REGISTRY.before(step.key)
    states = dict(
        StepProgress.objects.filter(
            tenant_id=progress.tenant_id, step_key__in=[s.key for s in earlier]
        ).values_list("step_key", "state")
    )
    return [s.open_label for s in earlier if states.get(s.key) not in FINISHED]


def evaluate_and_save(progress: StepProgress, user: Actor) -> None:
    old_state = progress.state
    result = evaluate(
        progress.step,
        state=progress.state,
        answers=progress.answers,
        checklist=progress.checklist,
        check_results=progress.check_results,
        facts=step_facts(progress.tenant),
        unfinished_before=_unfinished_before(progress),
    )
    if result.state != old_state and progress.pk is not None:
        # The row in hand may be older than the stored one: a caller holding several rows
        # re-evaluates the summary step through finish() before reaching its own copy of it.
        # Only a change of the stored state is a change (else the trail repeats it).
        old_state = (
            StepProgress.objects.filter(pk=progress.pk).values_list("state", flat=True).first()
            or old_state
        )
    progress.state = result.state
    progress.updated_by = actor_of(user)
    progress.save()
    if result.state != old_state:
        audit(
            tenant=progress.tenant,
            user=user,
            action=AuditEvent.Action.STATE_CHANGED,
            step_key=progress.step_key,
            detail={"from": old_state, "to": result.state},
        )


def finish(progress: StepProgress, user: Actor) -> StepProgress:
    """Recompute the state from the stored facts, save, audit a state change, touch the tenant."""
    evaluate_and_save(progress, user)
    # A later summary step (the review) depends on this one: keep its state in line.
    later = [
        s.key
        for s in steps.REGISTRY.steps[steps.REGISTRY.number(progress.step_key) :]
        if s.requires_earlier
    ]
    for summary in StepProgress.objects.select_for_update().filter(
        tenant_id=progress.tenant_id, step_key__in=later
    ):
        if summary.answers or summary.checklist or summary.check_results:
            summary.tenant = progress.tenant
            evaluate_and_save(summary, user)
    tenant_summary_refresh(progress.tenant_id)
    return progress


def tenant_summary_refresh(tenant_id: int, *, touch: bool = True) -> None:
    """Recompute the tenant's dashboard summary from its progress rows (one read, one write)."""
    rows: dict[str, dict[str, Any]] = {
        p["step_key"]: dict(p)
        for p in StepProgress.objects.filter(tenant_id=tenant_id).values(
            "step_key", "state", "failed_verifications"
        )
    }
    finished = [str(rows.get(key, {}).get("state")) in FINISHED for key in steps.STEP_KEYS]
    current = next((i + 1 for i, ok in enumerate(finished) if not ok), len(steps.STEP_KEYS) + 1)
    fields: dict[str, Any] = {
        "finished_steps": sum(finished),
        "current_step_index": current,
        "needs_attention": any(r["state"] == StepState.NEEDS_ATTENTION for r in rows.values()),
        "failed_verifications": max((r["failed_verifications"] for r in rows.values()), default=0),
    }
    if touch:
        fields["last_activity_at"] = timezone.now()
    Tenant.objects.filter(pk=tenant_id).update(**fields)
    if all(finished):
        handoff_mail_if_new(tenant_id)


def clear_results(progress: StepProgress) -> None:
    # Results were for other inputs: they no longer say anything about the new ones.
    progress.check_results = []
    progress.verified_at = None


def step_skip(*, tenant: Tenant, step_key: str, user: Actor) -> StepProgress:
    step = steps.STEPS_BY_KEY[step_key]
    if not step.optional:
        raise SkipNotAllowed(f"'{step.title}' cannot be skipped.")
    return _set_skipped(tenant, step, user, skipped=True)


def step_unskip(*, tenant: Tenant, step_key: str, user: Actor) -> StepProgress:
    return _set_skipped(tenant, steps.STEPS_BY_KEY[step_key], user, skipped=False)


def _set_skipped(tenant: Tenant, step: steps.Step, user: Actor, *, skipped: bool) -> StepProgress:
    with transaction.atomic():
        progress = lock_step(tenant, step.key)
        if (progress.state == StepState.SKIPPED) == skipped:
            return progress
        old = progress.state
        # Un-skipped, the state is recomputed from the stored facts by finish().
        progress.state = StepState.SKIPPED if skipped else StepState.IN_PROGRESS
        action = AuditEvent.Action.STEP_SKIPPED if skipped else AuditEvent.Action.STEP_UNSKIPPED
        detail = {"from": old, "consequence": step.skip_consequence} if skipped else {}
        audit(tenant=tenant, user=user, action=action, step_key=step.key, detail=detail)
        return finish(progress, user)
