"""Several workers on one PostgreSQL database share the queue (real processes, real locks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from wizard import services
from wizard.models import AuditEvent, Tenant
from wizard.sandbox import SANDBOX_SECRET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[1]


def ready_tenant(name: str) -> Tenant:
    tenant = services.tenant_create(name=name)
    services.credentials_save(
        tenant=tenant, user=None, username="slow@sandbox.example", secret=SANDBOX_SECRET
    )
    return tenant


def test_two_workers_share_the_queue_and_never_verify_a_tenant_twice_at_once() -> None:
    from django_tasks_db.models import DBTaskResult

    from wizard.tasks import reverify_tenant

    tenants = [ready_tenant(f"Tenant {i}") for i in range(4)]
    # The same tenant queued three times: the three must never overlap.
    for tenant in [*tenants, tenants[0], tenants[0]]:
        reverify_tenant.using(backend="database").enqueue(tenant.pk)
    assert DBTaskResult.objects.count() == 6

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TASKS_BACKEND": "database",
        "AUTOTASK_SANDBOX": "true",
        "LOG_LEVEL": "WARNING",
    }
    cmd = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--batch",
        "--no-startup-delay",
        "--interval",
        "0.1",
        "--no-reload",
        "--backend",
        "database",
    ]
    workers = [
        subprocess.Popen(
            [*cmd, "--worker-id", f"w{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [w.communicate(timeout=240)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs

    results = list(DBTaskResult.objects.all())
    assert {r.status for r in results} == {"SUCCESSFUL"}, outputs
    used = {wid for r in results for wid in r.worker_ids}
    assert used == {"w0", "w1"}  # both workers took tasks from the one queue
    statuses = [r.return_value["status"] for r in results]
    assert statuses.count("verified") + statuses.count("skipped") == 6
    # Every run of a tenant is a complete, separate run: never two at the same time.
    for tenant in tenants:
        runs = AuditEvent.objects.filter(
            tenant=tenant, action="verification_run", step_key="review"
        ).order_by("created_at")
        assert runs.count() >= 1
    first = Tenant.objects.get(pk=tenants[0].pk)
    mine = [r for r in results if r.return_value["tenant"] == str(first.code)]
    assert len(mine) == 3
    for r in mine:
        if r.return_value["status"] == "skipped":
            assert "already running" in r.return_value["detail"]
    # The verifications that did run for this tenant never overlapped in time.
    ran = sorted(
        (r.started_at, r.finished_at) for r in mine if r.return_value["status"] == "verified"
    )
    for (_s1, end1), (start2, _e2) in zip(ran, ran[1:], strict=False):
        assert end1 <= start2
