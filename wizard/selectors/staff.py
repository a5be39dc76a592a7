"""Bringing partners in (services/onboarding.py): staff accounts and existing partners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Q,
    QuerySet,
)

from wizard.models import Tenant, partner_name_key

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
