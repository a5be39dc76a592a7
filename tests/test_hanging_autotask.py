"""The behaviour itself, timed: pages answer within their deadline while Autotask hangs.

The one place with elapsed-time asserts, and only coarse upper bounds against a 60-second
hang (the finding: a Verify and a search each took 63.6 s). The Autotask here is the
standalone sandbox as an operator starts it, `manage.py autotask_sandbox --latency 60`, in its
own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.factories import HEALTHY, fill_in
from wizard.autotask import limits
from wizard.models import StepProgress

pytestmark = [pytest.mark.django_db, pytest.mark.timing]
ROOT = Path(__file__).resolve().parent.parent
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(scope="module")
def hanging_autotask() -> Iterator[str]:
    """`manage.py autotask_sandbox --port 0 --latency 60`; yields its zone lookup URL."""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "autotask_sandbox", "--port", "0", "--latency", "60"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        zone_url = ""
        for line in proc.stdout:
            if "AUTOTASK_ZONE_INFORMATION_URL=" in line:
                zone_url = line.split("=", 1)[1].strip()
                break
        assert zone_url.startswith("http://127.0.0.1:"), "the sandbox did not start"
        yield zone_url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def prepared(settings, hanging_autotask, tenant, owner):
    settings.AUTOTASK_SANDBOX = False
    settings.AUTOTASK_ZONE_INFORMATION_URL = hanging_autotask
    cache.clear()
    limits.reset()
    fill_in(tenant, user=owner)
    return tenant


def requests_seen(zone_url: str) -> int:
    stats_url = zone_url.split("/atservicesrest/")[0] + "/_sandbox/stats"
    with urllib.request.urlopen(stats_url, timeout=5) as answer:  # noqa: S310 - local sandbox
        return int(json.load(answer)["byUser"].get(HEALTHY, 0))


def test_a_verify_answers_within_its_deadline_while_autotask_hangs(
    settings, prepared, owner_client, hanging_autotask
) -> None:
    settings.AUTOTASK_INTERACTIVE_DEADLINE_SECONDS = 1
    before = requests_seen(hanging_autotask)
    threads = set(threading.enumerate())
    started = time.monotonic()

    r = owner_client.post(f"/t/{prepared.code}/api-user/verify/", **HX)

    elapsed = time.monotonic() - started
    assert elapsed < 3, f"the Verify took {elapsed:.1f} s against a 1 s deadline"
    assert "Autotask did not answer in time" in r.content.decode()
    results = StepProgress.objects.get(tenant=prepared, step_key="api-user").check_results
    assert {x["status"] for x in results} == {"unknown"}
    assert requests_seen(hanging_autotask) - before == 1  # no retry
    # 0 threads left behind past the deadline (threads of earlier tests may have ended).
    assert set(threading.enumerate()) - threads == set()


def test_a_search_answers_within_5_seconds_while_autotask_hangs(
    settings, prepared, owner_client, hanging_autotask
) -> None:
    assert settings.AUTOTASK_SEARCH_DEADLINE_SECONDS == 5  # the default, as in production
    threads = set(threading.enumerate())
    started = time.monotonic()

    r = owner_client.get(f"/t/{prepared.code}/recurring-contract/picker/", {"q": "Acme"}, **HX)

    elapsed = time.monotonic() - started
    assert elapsed < 7, f"the search took {elapsed:.1f} s against a 5 s deadline"
    assert "Autotask did not answer in time" in r.content.decode()
    assert set(threading.enumerate()) - threads == set()
