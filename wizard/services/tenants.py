"""Tenants and their members: creation, membership (never staff), the time zone."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from wizard import steps
from wizard.autotask.dates import is_time_zone, today_in
from wizard.models import (
    STAFF_NEVER_MEMBERS,
    AuditEvent,
    Membership,
    StepProgress,
    Tenant,
)
from wizard.services.audit import Actor, audit
from wizard.services.errors import (
    EditConflict,
    StaffNotMember,
)
from wizard.services.progress import clear_results, evaluate_and_save, tenant_summary_refresh

logger = logging.getLogger(__name__)


def tenant_create(
    *, name: str, owner: Any = None, account_manager: Any = None, time_zone: str = ""
) -> Tenant:
    """A new tenant with one progress row per step (so later writes only ever lock rows)."""
    if time_zone and not is_time_zone(time_zone):
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    with transaction.atomic():
        tenant = Tenant.objects.create(
            name=name, account_manager=account_manager, time_zone=time_zone
        )
        StepProgress.objects.bulk_create(
            [StepProgress(tenant=tenant, step_key=key) for key in steps.STEP_KEYS]
        )
        if owner is not None:
            membership_add(tenant=tenant, user=owner, role=Membership.Role.OWNER, actor=None)
    return tenant


def is_staff_account(user: Any) -> bool:
    return bool(user.is_staff or user.is_superuser)


def membership_add(*, tenant: Tenant, user: Any, role: str, actor: Actor) -> Membership:
    if is_staff_account(user):
        raise StaffNotMember(f"{user.get_username()} is a staff account. {STAFF_NEVER_MEMBERS}")
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    audit(
        tenant=tenant,
        user=actor,
        action=AuditEvent.Action.MEMBER_ADDED,
        detail={"user": user.get_username(), "role": role},
    )
    return membership


def tenant_time_zone_save(*, tenant: Tenant, user: Actor, time_zone: str, seen: str) -> Tenant:
    """Store the time zone the tenant's Autotask works in (an IANA name; "" unsets it).

    ``seen`` is the value the user's form showed: EditConflict, storing nothing, if a
    colleague saved another one meanwhile. Contract results were read in the old zone, so
    they are cleared, and the steps' states follow (the zone is an input of the account and
    contract steps). ValueError for a name zoneinfo does not know.
    """
    if time_zone and not is_time_zone(time_zone):
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    with transaction.atomic():
        row = Tenant.objects.select_for_update().get(pk=tenant.pk)
        stored = row.time_zone
        if stored == time_zone:
            return row
        if stored != (seen or ""):
            raise EditConflict({"time_zone": stored})
        row.time_zone = time_zone
        row.save(update_fields=["time_zone"])
        tenant.time_zone = time_zone
        audit(
            tenant=row,
            user=user,
            action=AuditEvent.Action.ANSWERS_SAVED,
            step_key=steps.REGISTRY.asking("time_zone").key,
            detail={"fields": ["time_zone"], "time_zone": time_zone, "previous": stored},
        )
        rows = {p.step_key: p for p in StepProgress.objects.select_for_update().filter(tenant=row)}
        # Every step, in wizard order (a summary step sees the others' new states): the zone is
        # an input of some steps' blockers, and results read in the old zone no longer hold.
        for step in steps.REGISTRY:
            progress = rows.get(step.key)
            if progress is None:
                continue
            progress.tenant = row
            if step.reads_dates and progress.check_results:
                clear_results(progress)
            evaluate_and_save(progress, user)
        tenant_summary_refresh(row.pk)
    return row


def tenant_today(tenant: Tenant) -> datetime.date:
    """Today in the tenant's time zone (UTC until one is set: shown with a request to set it)."""
    return today_in(tenant.time_zone or "UTC", timezone.now())
