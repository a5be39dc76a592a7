"""Issue 14, point 4: the lockout pause guards against the same refused credentials, not
against a person fixing them; it says why and until when, where the person clicked."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from wizard.models import StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET, default_sandbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_on")]
HX = {"HTTP_HX_REQUEST": "true"}
USER = "healthy@sandbox.example"


def save(client, tenant, secret: str, username: str = USER) -> None:
    r = client.post(
        f"/t/{tenant.code}/api-user/",
        {"username": username, "secret": secret, "checklist_shown": "", "action": "save"},
    )
    assert r.status_code == 302


def verify(client, tenant, **extra):
    return client.post(f"/t/{tenant.code}/api-user/verify/", follow=not extra, **extra)


def paused(client, tenant) -> None:
    """Two refused Secrets in a row: the tenant is paused."""
    for secret in ("wrong-1", "wrong-2"):
        save(client, tenant, secret)
        verify(client, tenant)
    tenant.refresh_from_db()
    assert tenant.auth_paused_until is not None


def sent(settings) -> int:
    return default_sandbox(settings.AUTOTASK_INTEGRATION_CODE).request_count(USER)


def test_the_same_refused_credentials_stay_paused(settings, owner_client, tenant) -> None:
    paused(owner_client, tenant)
    before = sent(settings)
    save(owner_client, tenant, "wrong-2")  # typed again: not new credentials
    html = verify(owner_client, tenant).content.decode()
    assert sent(settings) == before  # nothing went to Autotask
    assert escape("Autotask refused this API user's credentials twice in a row") in html
    assert "you can verify again in 15 minutes, at" in html


def test_new_credentials_get_one_attempt_and_a_refusal_pauses_again(
    settings, owner_client, tenant
) -> None:
    paused(owner_client, tenant)
    save(owner_client, tenant, "wrong-3")  # a new Secret: one attempt at once
    before = sent(settings)
    verify(owner_client, tenant)
    assert sent(settings) > before  # it was tried
    tenant.refresh_from_db()
    assert tenant.auth_paused_until is not None  # refused too: paused again
    before = sent(settings)
    verify(owner_client, tenant)
    assert sent(settings) == before


def test_a_new_right_secret_is_tried_at_once_and_ends_the_pause(owner_client, tenant) -> None:
    paused(owner_client, tenant)
    save(owner_client, tenant, SANDBOX_SECRET)
    html = verify(owner_client, tenant).content.decode()
    assert "Verified against Autotask" in html
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.auth_failures, tenant.auth_paused_until) == (0, None)
    results = StepProgress.objects.get(tenant=tenant, step_key="api-user").check_results
    assert {r["status"] for r in results} == {"pass"}


def test_a_new_username_gets_one_attempt_too(settings, owner_client, tenant) -> None:
    paused(owner_client, tenant)
    save(owner_client, tenant, "wrong-2", username="ok@sandbox.example")
    tenant.refresh_from_db()
    assert tenant.auth_paused_until is None
    assert tenant.auth_failures == 1  # one more refusal pauses again


def test_the_pause_message_sits_by_the_verify_button_in_a_live_region(owner_client, tenant) -> None:
    paused(owner_client, tenant)
    for r in (verify(owner_client, tenant), verify(owner_client, tenant, **HX)):
        html = r.content.decode()
        feedback = re.search(
            r'<div id="verify-feedback" class="verify-feedback" aria-live="polite">(.*?)</div>',
            html,
            re.S,
        )
        assert feedback is not None
        assert "twice in a row" in feedback.group(1)
        # Right after the Verify button, not only on top of the page.
        assert html.index("Verify again") < html.index('id="verify-feedback"')
        assert "twice in a row" not in html[: html.index('id="verification"')]


def test_the_search_says_it_is_paused_why_and_until_when(owner_client, tenant) -> None:
    paused(owner_client, tenant)
    partial = owner_client.get(f"/t/{tenant.code}/recurring-contract/picker/", {"q": "a"}, **HX)
    page = owner_client.get(f"/t/{tenant.code}/recurring-contract/", {"q": "a"})
    for html in (partial.content.decode(), page.content.decode()):
        assert "The customer search is paused" in html
        assert escape("refused this API user's credentials twice in a row") in html
        assert re.search(r"You can search again in 15 minutes, at \d\d:\d\d UTC", html)
    # The page shows it in the results area, a live region that htmx fills in place.
    html = page.content.decode()
    assert 'id="picker-results" class="picker-results" aria-live="polite"' in html
    results = html[html.index('id="picker-results"') :]
    assert results.index("The customer search is paused") < 300
