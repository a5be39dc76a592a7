"""Re-verify tenants against Autotask: the daily drift watch (see docs/operations.md).

With TASKS_BACKEND=database the tenants are queued for the workers (`manage.py db_worker`);
otherwise they are verified here, with at most --concurrency tenants at a time.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from wizard import reverify
from wizard.models import Tenant
from wizard.tasks import reverify_tenant


class Command(BaseCommand):
    help = "Re-verify finished tenants (or --all, or one --tenant) and report drift."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--all",
            action="store_true",
            help="Every tenant with stored credentials, finished or not.",
        )
        which.add_argument("--tenant", help="One tenant, by UUID or exact name.")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=4,
            help="Tenants verified at once when running here (default 4).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        tenants = self._tenants(options)
        if settings.TASKS_BACKEND == "database":
            for tenant in tenants:
                reverify_tenant.enqueue(tenant.pk)
            self.stdout.write(f"Queued {len(tenants)} tenant(s) for the workers.")
            return
        concurrency = options["concurrency"]
        if connection.vendor == "sqlite" and concurrency > 1:
            # SQLite allows one writer at a time: parallel tenants would only wait for the
            # lock (or fail with "database is locked").
            self.stderr.write("SQLite: verifying one tenant at a time.")
            concurrency = 1
        start = time.perf_counter()

        def one(tenant: Tenant) -> reverify.ReverifyOutcome:
            try:
                return reverify.tenant_reverify(tenant=tenant)
            finally:
                # Each worker thread has its own database connection: give it back.
                connection.close()

        if concurrency == 1:
            outcomes = [reverify.tenant_reverify(tenant=t) for t in tenants]
        else:
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                outcomes = list(pool.map(one, tenants))
        counts = Counter(o.status for o in outcomes)
        for o in outcomes:
            if o.status in ("drifted", "recovered", "postponed", "unreachable", "stopped"):
                what = ", ".join(d["title"] for d in o.drifted) or o.detail
                self.stdout.write(f"  {o.status:<9} {o.tenant}  {what}")
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
        self.stdout.write(
            f"Re-verified {len(tenants)} tenant(s) in {time.perf_counter() - start:.1f}s: "
            f"{summary}."
        )

    def _tenants(self, options: dict[str, Any]) -> list[Tenant]:
        ref = options["tenant"]
        if ref:
            try:
                lookup: dict[str, Any] = {"code": uuid.UUID(ref)}
            except ValueError:
                lookup = {"name": ref}
            matches = list(Tenant.objects.filter(**lookup)[:2])
            if len(matches) != 1:
                raise CommandError(f"No single tenant with UUID or name {ref!r}.")
            return matches
        return reverify.tenants_to_reverify(include_unfinished=options["all"])
