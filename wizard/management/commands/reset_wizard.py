"""Reset a tenant's wizard from the command line (the same service the dashboard uses)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wizard import services, steps
from wizard.models import Tenant


class Command(BaseCommand):
    help = "Reset a tenant's wizard, whole or from one step on, with a reason (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="The tenant's UUID or exact name.")
        parser.add_argument("--from-step", choices=steps.STEP_KEYS, default=None)
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        ref = options["tenant"]
        try:
            lookup = {"code": uuid.UUID(ref)}
        except ValueError:
            lookup = {"name": ref}
        matches = list(Tenant.objects.filter(**lookup)[:2])
        if len(matches) != 1:
            raise CommandError(f"No single tenant with UUID or name {ref!r}.")
        tenant = matches[0]
        try:
            plan = services.wizard_reset(
                tenant=tenant,
                from_step=options["from_step"],
                reason=options["reason"],
                user=None,
            )
        except services.ResetRefused as e:
            raise CommandError(str(e)) from e
        cleared = ", ".join(s["key"] for s in plan.steps)
        self.stdout.write(f"Reset {tenant.name} ({tenant.code}): cleared {cleared}.")
        if plan.deletes_credentials:
            self.stdout.write(f"Deleted the stored credentials of {plan.credential_username}.")
