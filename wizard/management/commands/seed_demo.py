"""Demo data for `make run`: a tenant per interesting state, and one user per role.

Idempotent: running it again rebuilds the demo tenants and resets the demo passwords.
Refuses to run with DEBUG off unless --force, so it never seeds a production database by accident.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from wizard import services, steps
from wizard.models import AuditEvent, Membership, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = {
    # username: (description, email)
    "partner": ("Partner user (owner of Northwind IT)", "partner@northwind.example"),
    "colleague": ("Second member of Northwind IT", "colleague@northwind.example"),
    "manager": ("Account manager (distributor staff)", "manager@distributor.example"),
    "admin": ("Admin: may reset wizards; Django admin", "admin@distributor.example"),
}
ACCOUNT_MANAGERS_GROUP = "Account managers"
ADMINS_GROUP = "Wizard admins"

SANDBOX_USERNAME = "healthy@sandbox.example"

# name -> (state description, how far it got)
DEMO_TENANTS = {
    "Northwind IT": "new: the demo partner's own tenant, nothing done yet (no time zone yet)",
    "Blue Yonder MSP": "half way: account, security level and API user done (Pacific/Auckland)",
    "Contoso Managed Services": "stuck: no progress for three weeks on the API user step "
    "(Australia/Sydney)",
    "Fabrikam Networks": "needs attention: a contract that starts after the first usage date "
    "(Australia/Sydney)",
    "Tailspin Cloud": "done: every step finished (America/New_York)",
}
# name -> (the tenant's Autotask time zone, the sandbox API user of a tenant in that zone).
# The sandbox serves each user's dates as its own zone's midnights (docs/sandbox.md).
DEMO_TIME_ZONES = {
    "Blue Yonder MSP": ("Pacific/Auckland", "auckland@sandbox.example"),
    "Contoso Managed Services": ("Australia/Sydney", SANDBOX_USERNAME),
    "Fabrikam Networks": ("Australia/Sydney", SANDBOX_USERNAME),
    "Tailspin Cloud": ("America/New_York", "america@sandbox.example"),
}


class Command(BaseCommand):
    help = "Create demo tenants in several states and demo users (partner, manager, admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow with DEBUG off.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("seed_demo writes known passwords; run it with DEBUG on or --force.")
        with transaction.atomic():
            users = self._users()
            Tenant.objects.filter(name__in=DEMO_TENANTS).delete()
            self._tenants(users)
        self._print()

    def _users(self) -> dict[str, User]:
        managers, _ = Group.objects.get_or_create(name=ACCOUNT_MANAGERS_GROUP)
        admins, _ = Group.objects.get_or_create(name=ADMINS_GROUP)
        admins.permissions.add(
            Permission.objects.get(codename="reset_wizard"),
            Permission.objects.get(codename="view_all_tenants"),
        )
        users: dict[str, User] = {}
        for username, (_desc, email) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
            user.email = email
            user.set_password(DEMO_PASSWORD)
            user.is_staff = username in ("manager", "admin")
            user.is_superuser = username == "admin"
            user.save()
            users[username] = user
        users["manager"].groups.add(managers)
        users["admin"].groups.add(managers, admins)
        return users

    def _tenants(self, users: dict[str, User]) -> None:
        manager, partner = users["manager"], users["partner"]
        northwind = services.tenant_create(
            name="Northwind IT", owner=partner, account_manager=manager
        )
        services.membership_add(
            tenant=northwind, user=users["colleague"], role=Membership.Role.MEMBER, actor=None
        )

        half = services.tenant_create(name="Blue Yonder MSP", account_manager=manager)
        self._account(half)
        self._ticks(half, "security-level")
        self._credentials(half)
        self._verified(half, "security-level")
        self._ticks(half, "api-user")
        self._verified(half, "api-user")

        stuck = services.tenant_create(name="Contoso Managed Services", account_manager=manager)
        self._account(stuck)
        services.step_skip(tenant=stuck, step_key="security-level", user=None)
        services.credentials_save(
            tenant=stuck, user=None, username=self._username(stuck), secret=None
        )
        three_weeks_ago = timezone.now() - datetime.timedelta(days=21)
        Tenant.objects.filter(pk=stuck.pk).update(last_activity_at=three_weeks_ago)
        StepProgress.objects.filter(tenant=stuck).update(updated_at=three_weeks_ago)
        AuditEvent.objects.filter(tenant=stuck).update(created_at=three_weeks_ago)

        attention = services.tenant_create(name="Fabrikam Networks", account_manager=manager)
        self._account(attention)
        self._ticks(attention, "security-level")
        self._credentials(attention)
        for key in ("security-level", "api-user"):
            self._ticks(attention, key)
            self._verified(attention, key)
        # Wingtip Toys' contract starts next month: after the first usage date.
        self._recurring(attention, company_id=106, contract_id=2006)
        self._verified(attention, "recurring-contract")

        done = services.tenant_create(name="Tailspin Cloud", account_manager=users["admin"])
        self._account(done)
        self._credentials(done)
        for key in ("security-level", "api-user"):
            self._ticks(done, key)
            self._verified(done, key)
        self._recurring(done, company_id=101, contract_id=2001)
        self._verified(done, "recurring-contract")
        services.step_answers_save(
            tenant=done,
            step_key="annual-contract",
            user=None,
            changes={"has_annual": "no"},
            seen={},
        )
        self._ticks(done, "annual-contract")
        self._ticks(done, "review")
        self._verified(done, "review")

    # Helpers: each goes through the services, like a partner would.
    def _account(self, tenant: Tenant) -> None:
        services.step_answers_save(
            tenant=tenant, step_key="account", user=None, changes={"branch": "existing"}, seen={}
        )
        time_zone, _username = DEMO_TIME_ZONES[tenant.name]
        services.tenant_time_zone_save(tenant=tenant, user=None, time_zone=time_zone, seen="")
        self._ticks(tenant, "account")

    def _username(self, tenant: Tenant) -> str:
        return DEMO_TIME_ZONES[tenant.name][1]

    def _ticks(self, tenant: Tenant, key: str) -> None:
        branch = "existing"
        items = [i.id for i in steps.STEPS_BY_KEY[key].checklist_for(branch)]
        services.checklist_update(tenant=tenant, step_key=key, user=None, ticked=items)

    def _credentials(self, tenant: Tenant) -> None:
        services.credentials_save(
            tenant=tenant, user=None, username=self._username(tenant), secret=SANDBOX_SECRET
        )

    def _recurring(self, tenant: Tenant, *, company_id: int, contract_id: int) -> None:
        services.step_answers_save(
            tenant=tenant,
            step_key="recurring-contract",
            user=None,
            changes={"sync_start": steps.SYNC_START_NEXT},
            seen={},
        )
        services.answer_list_add(
            tenant=tenant,
            step_key="recurring-contract",
            user=None,
            field="customers",
            item={"company_id": company_id, "contract_id": contract_id},
            key="contract_id",
        )
        self._ticks(tenant, "recurring-contract")

    def _verified(self, tenant: Tenant, key: str) -> None:
        # A real verification against the sandbox, exactly as the partner's click would run it.
        # Without the sandbox there is no Autotask to ask: the step stays "waiting".
        if settings.AUTOTASK_SANDBOX:
            services.step_verify(tenant=tenant, step_key=key, user=None)

    def _print(self) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS("Demo data ready."))
        out.write("Open http://127.0.0.1:8000/ and log in as:")
        for username, (desc, _email) in DEMO_USERS.items():
            out.write(f"  {username:<10} / {DEMO_PASSWORD:<16} {desc}")
        out.write("Demo tenants:")
        for name, desc in DEMO_TENANTS.items():
            out.write(f"  {name:<26} {desc}")
        if settings.AUTOTASK_SANDBOX:
            out.write(
                f"Sandbox Autotask: API username {SANDBOX_USERNAME}, Secret {SANDBOX_SECRET} "
                "(other scenarios, america@ and auckland@ for other time zones among them, are "
                "listed on the API user step)."
            )
