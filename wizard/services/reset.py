"""Reset (admins): the whole wizard, or a step and every later one (earlier steps stay as they
are). The partner is told on the wizard's pages until a member dismisses the notice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from wizard import checks, steps
from wizard.models import (
    AuditEvent,
    AutotaskCredential,
    Membership,
    StepProgress,
    StepState,
    Tenant,
)
from wizard.services.audit import Actor, actor_of, audit
from wizard.services.errors import (
    ResetRefused,
)
from wizard.services.mail import send_template
from wizard.services.progress import tenant_summary_refresh

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResetPlan:
    from_step: str
    steps: list[dict[str, Any]]
    deletes_credentials: bool
    credential_username: str


def _credential_step() -> str:
    """The step that asks for the API user's Username and Secret (kept in AutotaskCredential)."""
    return steps.REGISTRY.asking("username").key


def _zone_step() -> str:
    """The step that asks for the time zone (kept on the tenant)."""
    return steps.REGISTRY.asking("time_zone").key


def reset_plan(tenant: Tenant, from_step: str | None) -> ResetPlan:
    """Exactly what a reset from ``from_step`` (None: the whole wizard) would clear."""
    start = from_step or steps.STEP_KEYS[0]
    if start not in steps.STEPS_BY_KEY:
        raise ResetRefused(f"Unknown step {start!r}.")
    keys = steps.STEP_KEYS[steps.STEP_KEYS.index(start) :]
    rows = {p.step_key: p for p in StepProgress.objects.filter(tenant=tenant, step_key__in=keys)}
    cred = AutotaskCredential.objects.filter(tenant=tenant).first()
    zone_step, credential_step = _zone_step(), _credential_step()
    plan_steps = []
    for key in keys:
        p = rows.get(key)
        plan_steps.append(
            {
                "key": key,
                "title": steps.STEPS_BY_KEY[key].title,
                "state": p.state if p else StepState.NOT_STARTED,
                "state_label": StepState(p.state if p else StepState.NOT_STARTED).label,
                # The time zone is the account step's answer, though kept on the tenant.
                "answers": sorted(
                    [
                        *(p.answers if p else []),
                        *(["time_zone"] if key == zone_step and tenant.time_zone else []),
                    ]
                ),
                "checklist": len(p.checklist) if p else 0,
                "results": len(p.check_results) if p else 0,
            }
        )
    return ResetPlan(
        from_step=start,
        steps=plan_steps,
        deletes_credentials=credential_step in keys and cred is not None,
        credential_username=cred.username if cred else "",
    )


def wizard_reset(
    *, tenant: Tenant, from_step: str | None, reason: str, user: Actor, resume_url: str = ""
) -> ResetPlan:
    """Reset the wizard from a step on, with a reason; audited and mailed to the owners."""
    reason = reason.strip()
    if not reason:
        raise ResetRefused("Give a reason: the partner and the audit trail will see it.")
    plan = reset_plan(tenant, from_step)
    keys = [s["key"] for s in plan.steps]
    with transaction.atomic():
        rows = list(
            StepProgress.objects.select_for_update().filter(tenant=tenant, step_key__in=keys)
        )
        # What was there, for the audit trail: answers are non-secret by construction (the
        # Secret lives only in AutotaskCredential) and results are summarised, not copied.
        snapshot = {
            p.step_key: {
                "state": p.state,
                "answers": p.answers,
                "checklist": p.checklist,
                "results": checks.worst(p.check_results) or "",
                "verified_at": p.verified_at.isoformat() if p.verified_at else None,
            }
            for p in rows
        }
        for p in rows:
            p.state = StepState.NOT_STARTED
            p.answers, p.checklist, p.check_results = {}, [], []
            p.verified_at = None
            p.failed_verifications = 0
            p.verification_started_at = None
            p.updated_by = actor_of(user)
            p.save()
        # A reset starts a new setup: an old drift episode no longer means anything. The
        # partner is told on every step page until a member dismisses it.
        notice = {
            "whole": from_step is None,
            "from_step": plan.from_step,
            "from_title": steps.STEPS_BY_KEY[plan.from_step].title,
            "at": timezone.now().isoformat(),
            "reason": reason,
        }
        Tenant.objects.filter(pk=tenant.pk).update(
            drift_checks=[], drift_since=None, reset_notice=notice
        )
        tenant.reset_notice = notice
        if plan.deletes_credentials:
            AutotaskCredential.objects.filter(tenant=tenant).delete()
            snapshot[_credential_step()]["credentials_deleted_for"] = plan.credential_username
        zone_step = _zone_step()
        if zone_step in snapshot:
            old_zone = Tenant.objects.filter(pk=tenant.pk).values_list("time_zone", flat=True)[0]
            snapshot[zone_step]["answers"] = {
                **snapshot[zone_step]["answers"],
                "time_zone": old_zone,
            }
            Tenant.objects.filter(pk=tenant.pk).update(time_zone="")
            tenant.time_zone = ""
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.WIZARD_RESET,
            step_key=plan.from_step,
            detail={"reason": reason, "from_step": plan.from_step, "snapshot": snapshot},
        )
        tenant_summary_refresh(tenant.pk)
        transaction.on_commit(
            lambda: _mail_owners_about_reset(
                tenant, plan, reason, user, resume_url, whole=from_step is None
            )
        )
    return plan


def _mail_owners_about_reset(
    tenant: Tenant, plan: ResetPlan, reason: str, user: Actor, resume_url: str, *, whole: bool
) -> None:
    owners = list(
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not owners:
        return
    who = user.get_username() if user is not None and user.is_authenticated else "An admin"
    context = {
        "who": who,
        "tenant": tenant,
        "title": steps.STEPS_BY_KEY[plan.from_step].title,
        "whole": whole,
        "reason": reason,
        "cleared": ", ".join(s["title"] for s in plan.steps),
        "deletes_credentials": plan.deletes_credentials,
        "resume_url": resume_url,
    }
    send_template("reset", context, owners)


def reset_notice_dismiss(*, tenant: Tenant, user: Actor) -> None:
    """A member has read the reset notice: hide it for the whole team, and say so in the trail."""
    with transaction.atomic():
        row = Tenant.objects.select_for_update().only("reset_notice").get(pk=tenant.pk)
        notice = row.reset_notice
        tenant.reset_notice = {}
        if not notice:
            return  # a colleague dismissed it first
        Tenant.objects.filter(pk=tenant.pk).update(reset_notice={})
        audit(
            tenant=tenant,
            user=user,
            action=AuditEvent.Action.RESET_NOTICE_DISMISSED,
            step_key=str(notice.get("from_step", "")),
            detail={"reset_at": notice.get("at")},
        )
