"""The audit trail: append-only, written only here (the admin cannot add or change it)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from wizard.models import (
    AuditEvent,
    Tenant,
)

logger = logging.getLogger(__name__)


Actor = AbstractBaseUser | AnonymousUser | None
logger = logging.getLogger(__name__)


def actor_of(user: Actor) -> Any:
    return user if user is not None and user.is_authenticated else None


def audit_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Append several entries at once (a partner import): one INSERT instead of one per row."""
    return AuditEvent.objects.bulk_create(events)


def audit(
    *, tenant: Tenant, user: Actor, action: str, step_key: str = "", detail: dict[str, Any] | None
) -> AuditEvent:
    return AuditEvent.objects.create(
        tenant=tenant, actor=actor_of(user), action=action, step_key=step_key, detail=detail or {}
    )
