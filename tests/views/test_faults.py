"""The fault matrix: every way Autotask can fail us, on every verifying step.

Each fault is served at the HTTP level (responses) in front of the sandbox, which answers
everything else faithfully. Whatever the fault, the page says specifically what happened, and
nothing the partner saved is lost: the step records the failed attempt and nothing else.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
import responses
from django.core.cache import cache

from tests.factories import fill_in
from wizard import services, steps
from wizard.autotask import limits
from wizard.models import AuditEvent, AutotaskCredential, StepProgress
from wizard.sandbox import SANDBOX_SECRET, Sandbox

pytestmark = pytest.mark.django_db

ZONE_URL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
BASE = "https://webservices15.autotask.net/ATServicesRest/"
CODE = "TEST-INTEGRATION-CODE"

FAULTS: dict[str, tuple[Any, str]] = {
    # name: (what the server does, what the page must say)
    "timeout": (requests.exceptions.ReadTimeout("read timed out"), "did not answer in time"),
    "refused": (
        requests.exceptions.ConnectionError("[Errno 111] Connection refused"),
        "could not be reached",
    ),
    "dns": (
        requests.exceptions.ConnectionError("Failed to resolve 'webservices15'"),
        "could not be reached",
    ),
    "500-errors": (
        (
            500,
            {"Content-Type": "application/json"},
            json.dumps({"errors": ["Database maintenance in progress."]}),
        ),
        "Database maintenance in progress.",
    ),
    "500-html": (
        (500, {"Content-Type": "text/html"}, "<html><body><h1>Runtime Error</h1></body></html>"),
        "temporarily unavailable",
    ),
    "502": (
        (502, {"Content-Type": "text/html"}, "<html>Bad gateway</html>"),
        "temporarily unavailable",
    ),
    "503": ((503, {}, ""), "temporarily unavailable"),
    "429": ((429, {"Retry-After": "2"}, ""), "limiting requests"),
    "thread-limit": (
        (
            500,
            {"Content-Type": "application/json"},
            json.dumps(
                {
                    "errors": [
                        "Itgenatr005: The Autotask API thread threshold of 3 threads has been "
                        "exceeded."
                    ]
                }
            ),
        ),
        "thread limit",
    ),
    "malformed-json": (
        (200, {"Content-Type": "application/json"}, '{"items": [ {"id": 1, '),
        "cannot read",
    ),
    "empty-body": ((200, {"Content-Type": "application/json"}, ""), "cannot read"),
    "huge": (
        (
            200,
            {"Content-Type": "application/json"},
            '{"items": [' + ",".join(['{"id": 1, "x": "' + "y" * 1000 + '"}'] * 6000) + "]}",
        ),
        "cannot read",
    ),
    "foreign-next-page": ("foreign", "cannot read"),
}
VERIFYING = [s.key for s in steps.STEPS if s.verifies]


@pytest.fixture
def prepared(settings, tenant, owner, monkeypatch):
    """A tenant with everything saved that every verifying step needs."""
    settings.AUTOTASK_SANDBOX = False
    settings.AUTOTASK_ZONE_INFORMATION_URL = ZONE_URL
    settings.AUTOTASK_BACKOFF_SECONDS = 0
    cache.clear()
    limits.reset()
    fill_in(tenant, user=owner, annual=((101, 2012),))
    for key in ("security-level", "api-user"):
        ids = [c.id for c in steps.STEPS_BY_KEY[key].checklist]
        services.checklist_update(tenant=tenant, step_key=key, user=owner, ticked=ids)
    return tenant


def serve(fault: str, rsps: responses.RequestsMock) -> None:
    sandbox = Sandbox(CODE, base_url=BASE, threshold_latency=False)
    action, _ = FAULTS[fault]

    def normal(request: Any) -> tuple[int, dict[str, str], bytes]:
        answer = sandbox.handle(
            request.method,
            request.url,
            dict(request.headers),
            request.body
            if isinstance(request.body, bytes)
            else (request.body or "").encode() or None,
        )
        return answer.status, answer.headers, answer.body

    def faulty(request: Any) -> tuple[int, dict[str, str], Any]:
        if action == "foreign":
            status, headers, body = normal(request)
            if request.url.endswith("/query") and status == 200:
                data = json.loads(body)
                data["pageDetails"]["nextPageUrl"] = "https://evil.example/steal?x=1"
                return status, headers, json.dumps(data).encode()
            return status, headers, body
        if isinstance(action, Exception):
            raise action
        status, headers, body = action
        return status, headers, body

    rsps.add_callback(responses.GET, ZONE_URL, callback=normal)
    for method in (responses.GET, responses.POST):
        rsps.add_callback(method, re.compile(re.escape(BASE) + ".*"), callback=faulty)


def snapshot(tenant) -> dict[str, Any]:
    rows = {
        p.step_key: (p.answers, p.checklist) for p in StepProgress.objects.filter(tenant=tenant)
    }
    cred = AutotaskCredential.objects.get(tenant=tenant)
    return {"rows": rows, "cred": (cred.username, cred.secret_encrypted)}


@pytest.mark.parametrize("step_key", VERIFYING)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_matrix(prepared, owner_client, fault, step_key) -> None:
    before = snapshot(prepared)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(fault, rsps)
        r = owner_client.post(f"/t/{prepared.code}/{step_key}/verify/", follow=True)
    html = r.content.decode()
    assert r.status_code == 200
    progress = StepProgress.objects.get(tenant=prepared, step_key=step_key)
    # api-user makes no query, and security-level reads a single page on purpose: a foreign
    # nextPageUrl never comes into play there.
    reachable = not (fault == "foreign-next-page" and step_key in ("api-user", "security-level"))
    if reachable:
        expected = FAULTS[fault][1]
        assert expected.replace("'", "&#x27;") in html, (fault, step_key)
        assert progress.state == "in_progress"  # not done, and not blamed on the partner
        assert any(x["status"] == "unknown" and x["error"] for x in progress.check_results)
        assert not any(x["status"] == "fail" for x in progress.check_results)
    # Nothing saved was lost or changed; the run itself is on record.
    assert snapshot(prepared) == before
    assert (
        AuditEvent.objects.filter(
            tenant=prepared, action="verification_run", step_key=step_key
        ).count()
        == 1
    )
    assert progress.verification_started_at is None
    assert SANDBOX_SECRET not in html.replace(f"<code>{SANDBOX_SECRET}</code>", "")


def test_foreign_next_page_never_receives_the_credentials(prepared, owner_client) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve("foreign-next-page", rsps)
        owner_client.post(f"/t/{prepared.code}/recurring-contract/verify/")
        assert not [c for c in rsps.calls if "evil.example" in (c.request.url or "")]
