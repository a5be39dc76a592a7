"""Test data built the way a partner builds it: through the services, never by hand."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission, User

from tests.conftest import make_user
from wizard import services, steps
from wizard.management.commands.seed_demo import ACCOUNT_MANAGERS_GROUP, ADMINS_GROUP
from wizard.models import StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET

HEALTHY = "healthy@sandbox.example"


def fill_in(
    tenant: Tenant,
    *,
    user: Any = None,
    username: str = HEALTHY,
    secret: str = SANDBOX_SECRET,
    customers: tuple[tuple[int, int], ...] = ((101, 2001),),
    sync_start: str = "next",
    annual: tuple[tuple[int, int], ...] | None = None,
    tick: bool = False,
    time_zone: str = "Australia/Sydney",
) -> Tenant:
    """Answer every step: account (with the sandbox's time zone), credentials, contracts,
    annual contracts (or none)."""
    services.step_answers_save(
        tenant=tenant, step_key="account", user=user, changes={"branch": "existing"}, seen={}
    )
    services.tenant_time_zone_save(
        tenant=tenant, user=user, time_zone=time_zone, seen=tenant.time_zone
    )
    services.credentials_save(tenant=tenant, user=user, username=username, secret=secret)
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=user,
        changes={"sync_start": sync_start},
        seen={},
    )
    for field, key, rows in (
        ("customers", "recurring-contract", customers),
        ("contracts", "annual-contract", annual or ()),
    ):
        for company, contract in rows:
            services.answer_list_add(
                tenant=tenant,
                step_key=key,
                user=user,
                field=field,
                item={"company_id": company, "contract_id": contract},
                key="contract_id",
            )
    services.step_answers_save(
        tenant=tenant,
        step_key="annual-contract",
        user=user,
        changes={"has_annual": "yes" if annual else "no"},
        seen={},
    )
    if tick:
        for step in steps.STEPS:
            answers = StepProgress.objects.get(tenant=tenant, step_key=step.key).answers
            ids = [c.id for c in step.checklist_for(step.branch_of(answers))]
            services.checklist_update(tenant=tenant, step_key=step.key, user=user, ticked=ids)
    return tenant


def make_account_manager(username: str) -> User:
    """Distributor staff in the "Account managers" group (as seed_demo sets them up)."""
    user = make_user(username, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=ACCOUNT_MANAGERS_GROUP)[0])
    return user


def make_wizard_admin(username: str) -> User:
    """Staff who may reset wizards and see every tenant."""
    user = make_user(username, is_staff=True)
    group, _ = Group.objects.get_or_create(name=ADMINS_GROUP)
    group.permissions.add(
        Permission.objects.get(codename="reset_wizard"),
        Permission.objects.get(codename="view_all_tenants"),
    )
    user.groups.add(group)
    return user
