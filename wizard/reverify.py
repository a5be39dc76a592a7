"""Scheduled re-verification and drift: a setup that was right in March breaks in May.

A re-verification is the review's full run (services.step_verify on "review"). Comparing the
stored results before and after it tells what drifted: checks that passed and now fail. The
tenant then carries the drifted checks (the dashboard filters on them), the audit trail
records the episode, and the tenant's owners and account manager get one email when it starts
and one when it is over, never one per check or per run.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from wizard import checks, services, steps
from wizard.errors import UserFacingError
from wizard.models import AuditEvent, Membership, Tenant
from wizard.services.mail import send_template

logger = logging.getLogger(__name__)

# Above this share of the hourly API threshold, a routine re-check waits for a later run.
POSTPONE_ABOVE = 0.5


@dataclass
class ReverifyOutcome:
    tenant: str
    # verified | drifted | recovered | postponed | unreachable | skipped | stopped
    status: str
    drifted: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""
    calls: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "status": self.status,
            "drifted": self.drifted,
            "detail": self.detail,
            "calls": self.calls,
        }


Key = tuple[str, str, str]  # step, check id, subject


def _by_check(by_step: dict[str, list[dict[str, Any]]], run_step: str) -> dict[Key, Any]:
    """The run's results keyed by step, check and subject; the review's own copy left out."""
    return {
        (step_key, r.get("id", ""), r.get("subject", "")): r
        for step_key, results in by_step.items()
        if step_key != run_step
        for r in results
    }


def tenant_reverify(*, tenant: Tenant) -> ReverifyOutcome:
    """Re-verify one tenant against Autotask and record drift or recovery."""
    name = str(tenant.code)
    refused_at = (
        Tenant.objects.filter(pk=tenant.pk).values_list("credentials_refused_at", flat=True).first()
    )
    if refused_at is not None:
        # Sending the same refused Secret every day only adds failed logins towards the API
        # user's lockout: nothing is sent until someone saves new credentials.
        return ReverifyOutcome(name, "stopped", detail=stopped_reason(refused_at))
    review = next(s.key for s in steps.STEPS if s.requires_earlier)
    try:
        outcome = services.step_verify(
            tenant=tenant,
            step_key=review,
            user=None,
            postpone_above=POSTPONE_ABOVE,
            background=True,
        )
    except checks.Unreachable as e:
        # Not a verdict: the stored results (and any drift episode) stay as they were.
        return ReverifyOutcome(name, "unreachable", detail=str(e))
    except checks.Postponed as e:
        services.audit(
            tenant=tenant,
            user=None,
            action=AuditEvent.Action.REVERIFICATION_POSTPONED,
            detail={"usage": round(e.usage_ratio, 2)},
        )
        return ReverifyOutcome(name, "postponed", detail=str(e))
    except UserFacingError as e:
        # Already running, no credentials, paused, nothing to check, an unreadable Secret.
        return ReverifyOutcome(name, "skipped", detail=e.message)
    before = {k: v for k, v in outcome.previous.items() if k[0] != review}
    after = _by_check(outcome.by_step, review)
    newly_failing = [
        {"step": key[0], "id": key[1], "subject": key[2], "title": result.get("title", "")}
        for key, result in after.items()
        if result.get("status") == checks.CheckStatus.FAIL
        and before.get(key, {}).get("status") == checks.CheckStatus.PASS
    ]
    still_failing = {key for key, r in after.items() if r.get("status") == checks.CheckStatus.FAIL}
    return _record_drift(tenant, newly_failing, still_failing, calls=outcome.calls)


def _record_drift(
    tenant: Tenant, newly_failing: list[dict[str, Any]], still_failing: set[Key], *, calls: int
) -> ReverifyOutcome:
    name = str(tenant.code)
    with transaction.atomic():
        row = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if row.drift_since is None:
            if not newly_failing:
                return ReverifyOutcome(name, "verified", calls=calls)
            _episode_edge(row, newly_failing, start=True)
            return ReverifyOutcome(name, "drifted", drifted=newly_failing, calls=calls)
        # An episode is under way: it ends when none of its checks fails any more. Checks
        # that drift meanwhile join it quietly (one alert per episode, not per check).
        known = {(d["step"], d["id"], d["subject"]) for d in row.drift_checks}
        extra = [d for d in newly_failing if (d["step"], d["id"], d["subject"]) not in known]
        remaining = [
            d
            for d in row.drift_checks + extra
            if (d["step"], d["id"], d["subject"]) in still_failing
        ]
        if remaining:
            if extra:
                row.drift_checks = row.drift_checks + extra
                row.save(update_fields=["drift_checks"])
            return ReverifyOutcome(name, "drifted", drifted=remaining, calls=calls)
        recovered = row.drift_checks
        _episode_edge(row, recovered, start=False)
        return ReverifyOutcome(name, "recovered", drifted=recovered, calls=calls)


def _episode_edge(row: Tenant, checks_: list[dict[str, Any]], *, start: bool) -> None:
    """A drift episode starts or ends: stored on the tenant, audited, mailed after commit."""
    row.drift_checks, row.drift_since = (checks_, timezone.now()) if start else ([], None)
    row.save(update_fields=["drift_checks", "drift_since"])
    action = AuditEvent.Action.DRIFT_DETECTED if start else AuditEvent.Action.DRIFT_RECOVERED
    services.audit(tenant=row, user=None, action=action, detail={"checks": checks_})
    transaction.on_commit(lambda: _mail(row, checks_, recovered=not start))


def _recipients(tenant: Tenant) -> list[str]:
    emails = set(
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if tenant.account_manager is not None and tenant.account_manager.email:
        emails.add(tenant.account_manager.email)
    return sorted(emails)


def _mail(tenant: Tenant, drifted: list[dict[str, Any]], *, recovered: bool) -> None:
    to = _recipients(tenant)
    if not to:
        return
    first = min(drifted, key=lambda d: steps.STEP_KEYS.index(d["step"]))["step"]
    # Partners open their wizard; staff get 404 there, so they get their own page.
    partner_link = settings.SITE_URL + reverse("wizard:step", args=[tenant.code, first])
    staff_link = settings.SITE_URL + reverse("manage:tenant", args=[tenant.code])
    lines = [
        f"{steps.STEPS_BY_KEY[d['step']].title}: {d['title']}"
        + (f" ({d['subject']})" if d["subject"] else "")
        for d in drifted
    ]
    context = {
        "tenant": tenant,
        "recovered": recovered,
        "lines": lines,
        "partner_link": partner_link,
        "staff_link": staff_link,
    }
    # A mail server failure is logged; it must not undo or abort the re-verification.
    send_template("drift", context, to)


def stopped_reason(refused_at: datetime.datetime) -> str:
    """Why the daily re-check sends nothing for a tenant (also shown to staff)."""
    return (
        f"Autotask refused the stored credentials on {refused_at:%d %b %Y %H:%M} UTC. The daily "
        "re-check sends nothing until someone saves new credentials on the API user step "
        "(or a verification by a person succeeds)."
    )


def tenants_to_reverify(*, include_unfinished: bool = False) -> list[Tenant]:
    """Finished tenants with stored credentials, and those in a drift episode (so that their
    recovery is noticed); every tenant with credentials if asked."""
    qs = Tenant.objects.filter(autotask_credential__isnull=False)
    if not include_unfinished:
        qs = qs.filter(Q(current_step_index=len(steps.STEPS) + 1) | Q(drift_since__isnull=False))
    return list(qs.order_by(F("last_verified_at").asc(nulls_first=True), "id"))
