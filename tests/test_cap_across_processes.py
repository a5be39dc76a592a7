"""The per-tenant Autotask cap holds across worker processes that share a cache.

Two real processes, each with 4 threads calling one tenant's Autotask (the standalone sandbox,
every answer 0.3 s late), share a database cache in a SQLite file: nothing else connects them,
as with gunicorn workers sharing Redis. The sandbox counts how many calls it answered at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.sandbox import Sandbox, serve, zone_information_url

ROOT = Path(__file__).resolve().parent.parent
USER = "healthy@sandbox.example"
CODE = "TEST-INTEGRATION-CODE"

# One worker process: its own client, limiter and slot store, as services.autotask_client builds
# them; four threads read four entities of the same tenant at once.
WORKER = """
import os, sys, threading, time, django
django.setup()
from wizard import services
print("ready", flush=True)
while not os.path.exists(os.environ["AT_GO"]):  # both workers start calling together
    time.sleep(0.01)
errors = []
def read(entity):
    try:
        services.autotask_client(os.environ["AT_USER"], "sandbox-secret", scope="tenant-a",
                                 purpose="background").entity_information(entity)
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=read, args=(e,))
           for e in ("Companies", "Contracts", "Services", "Products")]
for t in threads: t.start()
for t in threads: t.join()
print("errors:", errors)
sys.exit(1 if errors else 0)
"""


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(CODE, base_url="http://placeholder/ATServicesRest/", threshold_latency=False)
    sandbox.set_latency(USER, 0.3)
    httpd, _thread = serve(sandbox)
    yield sandbox, zone_information_url(httpd)
    httpd.shutdown()
    httpd.server_close()


def run_workers(zone_url: str, cache_url: str, database: Path) -> None:
    go = database.with_suffix(".go")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "CACHE_URL": cache_url,
        "AUTOTASK_SANDBOX": "false",
        "AUTOTASK_ZONE_INFORMATION_URL": zone_url,
        "AUTOTASK_INTEGRATION_CODE": CODE,
        "AUTOTASK_MAX_CONCURRENT_PER_TENANT": "2",
        "AT_USER": USER,
        "AT_GO": str(go),
        "LOG_LEVEL": "ERROR",
    }
    if cache_url.startswith("dbcache://"):
        subprocess.run(
            [sys.executable, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True
        )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    go.touch()
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, out[-2000:]


def test_two_workers_sharing_the_cache_share_the_cap(sandbox, tmp_path) -> None:
    box, zone_url = sandbox

    run_workers(zone_url, "dbcache://autotask_slots", tmp_path / "shared.sqlite3")

    assert box.request_count(USER) >= 8  # every read was made
    assert box.peak_in_flight(USER) == 2


def test_with_the_local_memory_cache_each_worker_caps_on_its_own(sandbox, tmp_path) -> None:
    box, zone_url = sandbox

    run_workers(zone_url, "locmemcache://", tmp_path / "local.sqlite3")

    # The documented degradation: 2 per worker, so up to 4 with two workers.
    assert box.peak_in_flight(USER) == 4
