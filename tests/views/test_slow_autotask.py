"""A slow or hanging Autotask: pages answer by their deadline, say why, and lose nothing.

Against the standalone sandbox over real HTTP (the server `manage.py autotask_sandbox` runs),
with one API user made to hang. Deadlines here are a fraction of a second and the hang is
seconds long, so what is asserted is what the partner sees and what the sandbox received,
never how long it took (that is tests/test_hanging_autotask.py, marked ``timing``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.factories import HEALTHY, fill_in
from tests.views.conftest import step_url as url
from wizard import reverify, services
from wizard.autotask import limits
from wizard.models import AutotaskCredential, StepProgress
from wizard.sandbox import Sandbox, serve, zone_information_url
from wizard.sandbox import adapter as sandbox_adapter

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
CODE = "TEST-INTEGRATION-CODE"
LATE = "Autotask did not answer in time"
NOTHING_LOST = "nothing you saved is lost"


@pytest.fixture
def standalone(settings) -> Iterator[Sandbox]:
    """The standalone sandbox on 127.0.0.1, and the app pointed at it over HTTP."""
    sandbox = Sandbox(CODE, base_url="http://placeholder/ATServicesRest/", threshold_latency=False)
    httpd, _thread = serve(sandbox)
    settings.AUTOTASK_SANDBOX = False
    settings.AUTOTASK_ZONE_INFORMATION_URL = zone_information_url(httpd)
    cache.clear()
    limits.reset()
    yield sandbox
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def prepared(tenant, owner):
    fill_in(tenant, user=owner)
    return tenant


def test_a_verify_against_a_hanging_autotask_answers_unknown_at_its_deadline(
    settings, standalone, prepared, owner_client
) -> None:
    settings.AUTOTASK_INTERACTIVE_DEADLINE_SECONDS = 0.5
    standalone.set_latency(HEALTHY, 5)
    answers_before = StepProgress.objects.get(
        tenant=prepared, step_key="recurring-contract"
    ).answers

    r = owner_client.post(url(prepared, "api-user", "verify"), **HX)

    html = r.content.decode()
    assert r.status_code == 200
    assert (
        "Verified against Autotask: 1 could not be checked. Autotask did not answer in time, so "
        "some checks could not be made. Try again later; nothing you saved is lost."
    ) in html
    results = StepProgress.objects.get(tenant=prepared, step_key="api-user").check_results
    assert [(x["id"], x["status"], x["error"]) for x in results] == [
        ("connection", "unknown", "deadline_exceeded")
    ]
    assert LATE in results[0]["evidence"] and NOTHING_LOST in results[0]["evidence"]
    # Nothing saved is lost: credentials and answers as they were; the step is not failed.
    assert AutotaskCredential.objects.filter(tenant=prepared, username=HEALTHY).exists()
    step = StepProgress.objects.get(tenant=prepared, step_key="recurring-contract")
    assert step.answers == answers_before
    assert StepProgress.objects.get(tenant=prepared, step_key="api-user").state == "in_progress"
    # One zone lookup, not retried.
    assert standalone.request_count(HEALTHY) == 1


def test_a_search_against_a_hanging_autotask_answers_at_its_deadline(
    settings, standalone, prepared, owner_client
) -> None:
    settings.AUTOTASK_SEARCH_DEADLINE_SECONDS = 0.5
    standalone.set_latency(HEALTHY, 5)

    r = owner_client.get(url(prepared, "recurring-contract", "picker"), {"q": "Acme"}, **HX)

    html = r.content.decode()
    assert r.status_code == 200
    # In the results area, a live region (aria-live="polite"), where the search was typed.
    assert f'<p class="error picker-error">{LATE}' in html
    assert NOTHING_LOST in html
    assert standalone.request_count(HEALTHY) == 1


def test_a_verify_waits_for_a_busy_tenant_no_longer_than_its_deadline(
    settings, standalone, prepared, owner_client
) -> None:
    # Every slot of the tenant is taken (by other requests, in this or another worker).
    settings.AUTOTASK_INTERACTIVE_DEADLINE_SECONDS = 0.3
    settings.AUTOTASK_MAX_CONCURRENT_PER_TENANT = 1
    held = limits.Limiter(limits.LOCAL, per_tenant=1).slot(
        str(prepared.code), "Other", wait=None, lease=60
    )
    with held:
        # The zone is known from an earlier run: the first call needs a slot.
        cred = AutotaskCredential.objects.get(tenant=prepared)
        cred.zone = {"name": "Sandbox", "url": standalone.base_url, "web_url": "", "ci": 1}
        cred.save()
        r = owner_client.post(url(prepared, "api-user", "verify"), **HX)

    html = r.content.decode()
    assert "Autotask is still busy with earlier requests for your organisation" in html
    assert "Autotask did not answer in time, so some checks could not be made" in html
    results = StepProgress.objects.get(tenant=prepared, step_key="api-user").check_results
    assert {x["error"] for x in results if x["status"] == "unknown"} == {"busy"}
    assert standalone.request_count(HEALTHY) == 0


def test_another_tenants_search_is_not_held_up_by_a_hanging_one(
    settings, standalone, prepared, other_tenant, owner_client, outsider_client, outsider
) -> None:
    settings.AUTOTASK_SEARCH_DEADLINE_SECONDS = 0.5
    settings.AUTOTASK_MAX_CONCURRENT_PER_TENANT = 1
    fill_in(other_tenant, user=outsider, username="full-default@sandbox.example")
    standalone.set_latency(HEALTHY, 5)
    with limits.Limiter(limits.LOCAL, per_tenant=1).slot(
        str(prepared.code), "Companies", wait=None, lease=60
    ):
        r = outsider_client.get(
            url(other_tenant, "recurring-contract", "picker"), {"q": "Acme"}, **HX
        )

    html = r.content.decode()
    assert 'aria-label="Matching active customers"' in html
    assert LATE not in html and "busy" not in html


def test_the_picker_search_is_debounced_and_stale_searches_are_replaced(
    standalone, prepared, owner_client
) -> None:
    html = owner_client.get(url(prepared, "recurring-contract")).content.decode()

    field = re.search(r'<input type="search" id="picker-q"[^>]*>', html)
    assert field is not None
    # One search 400 ms after the last keystroke, not one per key...
    assert 'hx-trigger="input changed delay:400ms, search"' in field.group(0)
    # ...and a newer search aborts one still running, so a stale answer never lands last.
    # (The box sits by the list inside the step form, but belongs to the GET form #picker-search:
    # both sync on that form.)
    assert 'form="picker-search"' in field.group(0)
    assert 'hx-sync="#picker-search:replace"' in field.group(0)
    form = re.search(r'<form id="picker-search" method="get"[^>]*>', html)
    assert form is not None and 'hx-sync="this:replace"' in form.group(0)


# --- retries: background work only ------------------------------------------------------------


@pytest.fixture
def flaky(settings, monkeypatch, tenant, owner):
    """The in-process sandbox, fresh: its flaky user fails every second call per endpoint."""
    settings.AUTOTASK_SANDBOX = True
    sandbox = Sandbox(CODE, base_url="https://webservices-sandbox.autotask.test/ATServicesRest/")
    monkeypatch.setattr(sandbox_adapter, "default_sandbox", lambda _code: sandbox)
    settings.AUTOTASK_BACKOFF_SECONDS = 0
    cache.clear()
    limits.reset()
    fill_in(tenant, user=owner, username="flaky@sandbox.example")
    return sandbox


def api_user_results(tenant) -> list[tuple[str, str, str]]:
    results = StepProgress.objects.get(tenant=tenant, step_key="api-user").check_results
    return [(r["id"], r["status"], r["error"]) for r in results if r["status"] != "pass"]


def test_a_verify_a_person_waits_for_is_not_retried(flaky, tenant, owner) -> None:
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)  # 2nd call fails

    assert api_user_results(tenant) == [("connection", "unknown", "unavailable")]
    assert flaky.request_count("flaky@sandbox.example", "ThresholdInformation") == 2


def test_background_reverification_still_retries(flaky, tenant) -> None:
    first = reverify.tenant_reverify(tenant=tenant)
    second = reverify.tenant_reverify(tenant=tenant)  # each endpoint's 2nd call fails once

    assert (first.status, second.status) == ("verified", "verified")
    assert api_user_results(tenant) == []
    # The second run's first try failed and was tried again.
    assert flaky.request_count("flaky@sandbox.example", "ThresholdInformation") == 3
