"""Who may see and do what. Every view asks here, first thing; nothing else decides access.

- Partner members (owner, member) see only their own tenant's wizard.
- Account managers are staff: they see the tenants assigned to them, or every tenant with
  the permission wizard.view_all_tenants.
- Admins hold wizard.reset_wizard and may reset a tenant they can see.
- Owners of a tenant, and staff who see it, may invite people to it.
- Staff add partners: an account manager to their own list, staff who see every tenant to
  anyone's.
Anyone else gets a 404, so the existence of a tenant is never confirmed to outsiders.
No view answers before asking here, and nothing is served from a cache ahead of it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from wizard.models import Membership, Tenant

VIEW_ALL = "wizard.view_all_tenants"
RESET = "wizard.reset_wizard"


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


def is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def staff_tenants(user: Any) -> QuerySet[Tenant]:
    if not is_staff(user):
        return Tenant.objects.none()
    if user.has_perm(VIEW_ALL):
        return Tenant.objects.all()
    return Tenant.objects.filter(account_manager=user)


def staff_tenant_or_404(user: Any, code: uuid.UUID | str) -> Tenant:
    try:
        return staff_tenants(user).get(code=code)
    except (Tenant.DoesNotExist, ValueError) as e:
        raise Http404("No such tenant.") from e


def can_reset(user: Any) -> bool:
    return is_staff(user) and bool(user.has_perm(RESET))


def require_reset(user: Any) -> None:
    if not can_reset(user):
        raise PermissionDenied("Only admins may reset a wizard.")


def can_invite(user: Any, tenant: Tenant) -> bool:
    if staff_tenants(user).filter(pk=tenant.pk).exists():
        return True
    return Membership.objects.filter(user=user, tenant=tenant, role=Membership.Role.OWNER).exists()


def can_add_partners(user: Any) -> bool:
    return is_staff(user)


def may_assign_any_manager(user: Any) -> bool:
    """Whether ``user`` may add a partner to another account manager's list.

    Only staff who see every tenant: an account manager who gave a partner to a colleague would
    lose sight of it at once.
    """
    return is_staff(user) and bool(user.has_perm(VIEW_ALL))
