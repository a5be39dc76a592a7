"""`make bench`: performance figures, each a ratio against a baseline measured in the same run.

These machines are shared and noisy, so no figure is an absolute time: each is compared with a
baseline taken moments before in the same process. Run: python -m benchmarks [figure ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable

# A throwaway SQLite database and test-only secrets: benchmarks never touch real data.
_DB = os.path.join(tempfile.mkdtemp(prefix="wizard-bench-"), "bench.sqlite3")
# Always its own database, whatever DATABASE_URL says: the benchmark writes 10,000 tenants.
os.environ["DATABASE_URL"] = f"sqlite:///{_DB}"
os.environ.setdefault("EMAIL_URL", "locmemmail://")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("SECRET_ENCRYPTION_KEYS", "q5Wz4mN0hZ1rX8dC3vB6nJ2kL9pQ7sT0uY4eR1wA5fI=")
os.environ.setdefault("AUTOTASK_INTEGRATION_CODE", "BENCH-CODE")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

FIGURES: dict[str, Callable[[], None]] = {}


def figure(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        FIGURES[name] = fn
        return fn

    return register


def line(text: str) -> None:
    print(text, flush=True)


@figure("verification")
def full_verification() -> None:
    """1. One tenant, three customers: Autotask calls, and wall time / slowest call."""
    import datetime

    from wizard import checks
    from wizard.autotask import AutotaskClient, Credentials, build_session
    from wizard.autotask.sandbox import SANDBOX_SECRET, Sandbox, install_sandbox

    latency = 0.05
    zone_url = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
    sandbox = Sandbox(
        "BENCH-CODE",
        base_url="https://webservices-sandbox.autotask.test/ATServicesRest/",
        latency=latency,
        threshold_latency=False,
    )
    session = build_session()
    install_sandbox(session, sandbox, zone_url)
    client = AutotaskClient(
        Credentials("healthy@sandbox.example", SANDBOX_SECRET, "BENCH-CODE"),
        zone_information_url=zone_url,
        session=session,
        zone_cache={},
    )
    inputs = checks.Inputs(
        today=datetime.date.today(),
        sync_start="next",
        customers=[
            {"company_id": 101, "contract_id": 2001},
            {"company_id": 102, "contract_id": 2002},
            {"company_id": 103, "contract_id": 2003},
        ],
        annual=[{"company_id": 101, "contract_id": 2012}],
    )
    # Baseline: the slowest single call, measured on its own.
    slowest = 0.0
    probe = AutotaskClient(
        Credentials("healthy@sandbox.example", SANDBOX_SECRET, "BENCH-CODE"),
        zone_information_url=zone_url,
        session=session,
        zone_cache={},
    )
    for call in (
        probe.discover_zone,
        probe.get_threshold,
        lambda: probe.entity_information("Contracts"),
    ):
        start = time.perf_counter()
        call()
        slowest = max(slowest, time.perf_counter() - start)
    sandbox.reset_counts()
    start = time.perf_counter()
    results = checks.run_all(client, inputs)
    wall = time.perf_counter() - start
    statuses = {r.status for rs in results.values() for r in rs}
    line(
        f"verification.calls            {sandbox.request_count():>8}   (target <= 15; "
        f"all checks {'/'.join(sorted(statuses))})"
    )
    line(
        f"verification.wall/slowest     {wall / slowest:>8.2f}   (cold caches; critical path "
        f"in calls; {latency * 1000:.0f} ms injected per call; target <= 4)"
    )
    # Typical run: the zone (cached 12 h) and the contract picklists (cached 1 h, and already
    # fetched by the contract picker) are known; the same client keeps them.
    sandbox.reset_counts()
    start = time.perf_counter()
    checks.run_all(client, inputs)
    warm = time.perf_counter() - start
    line(f"verification.calls.warm       {sandbox.request_count():>8}")
    line(f"verification.wall/slowest.warm{warm / slowest:>8.2f}   (zone and picklists cached)")


@figure("dashboard")
def dashboard() -> None:
    """2. The staff dashboard at 100 and at 10,000 tenants: queries per page and time ratio."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from wizard import steps
    from wizard.models import StepProgress, Tenant

    call_command("migrate", verbosity=0)
    admin = User.objects.create_superuser("bench-admin", "a@x.example", "pw-bench-12345")
    client = Client()
    client.force_login(admin)

    def grow_to(n: int) -> None:
        have = Tenant.objects.count()
        batch = [
            Tenant(name=f"Partner {i:05}", finished_steps=i % 7, current_step_index=(i % 7) + 1)
            for i in range(have, n)
        ]
        created = Tenant.objects.bulk_create(batch, batch_size=2000)
        StepProgress.objects.bulk_create(
            [StepProgress(tenant=t, step_key=k) for t in created for k in steps.STEP_KEYS],
            batch_size=5000,
        )

    def measure() -> tuple[int, float]:
        client.get("/manage/?sort=-progress")  # warm
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/manage/?sort=-progress&page=2")
        assert response.status_code == 200, response.status_code
        queries = len(ctx.captured_queries)
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            client.get("/manage/?sort=-progress&page=2")
            runs.append(time.perf_counter() - start)
        return queries, sorted(runs)[len(runs) // 2]

    grow_to(100)
    q100, t100 = measure()
    grow_to(10_000)
    q10k, t10k = measure()
    line(f"dashboard.queries@100         {q100:>8}")
    line(f"dashboard.queries@10000       {q10k:>8}   (target: same as at 100)")
    line(f"dashboard.time 10000/100      {t10k / t100:>8.2f}   (median of 7; target <= 2)")


def main(argv: list[str]) -> None:
    names = argv or list(FIGURES)
    line(
        f"# python {sys.version.split()[0]}, {os.cpu_count()} CPUs, database "
        f"{os.environ['DATABASE_URL'].split(':')[0]}"
    )
    for name in names:
        FIGURES[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
