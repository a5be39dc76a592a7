"""Live updates of an open step page (GET /t/<uuid>/<step>/live/?v=, polled by htmx).

204 while nothing changed since the version the page was made from; otherwise the parts that
follow colleagues' changes (navigation, state, checklist, results, the poller itself), each
marked hx-swap-oob, and never the form's inputs.
"""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wizard import services
from wizard.models import StepProgress, Tenant

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
RUNNING = "A verification of this step is already running"


def url(tenant: Tenant, key: str, action: str = "") -> str:
    return f"/t/{tenant.code}/{key}/" + (f"{action}/" if action else "")


def poller(html: str) -> tuple[str, int]:
    """The page's poller: (its URL with the version, seconds between polls)."""
    m = re.search(r'id="live-updates" hx-get="([^"]+)" hx-trigger="every (\d+)s"', html)
    assert m, "the page has no live-updates poller"
    return unescape(m.group(1)), int(m.group(2))


def test_nothing_changed_is_204_and_costs_one_query(owner_client, tenant) -> None:
    live, every = poller(owner_client.get(url(tenant, "account")).content.decode())
    assert every == 10
    with CaptureQueriesContext(connection) as queries:
        r = owner_client.get(live, **HX)
    assert r.status_code == 204 and r.content == b""
    progress = [q["sql"] for q in queries if "wizard_stepprogress" in q["sql"]]
    assert len(progress) == 1, progress


def test_a_colleagues_tick_comes_back_as_fragments(owner_client, member, tenant) -> None:
    live, _ = poller(owner_client.get(url(tenant, "account")).content.decode())
    services.checklist_update(tenant=tenant, step_key="account", user=member, ticked=["signed-in"])
    r = owner_client.get(live, **HX)
    assert r.status_code == 200
    html = r.content.decode()
    for part in ("step-nav", "step-status", "checklist-box", "live-updates"):
        assert re.search(rf'id="{part}"[^>]*hx-swap-oob="true"', html), part
    assert "Checklist: 1 of 2 ticked" in html
    assert re.search(r'value="signed-in"[^>]*checked', html)
    assert 'name="checklist_shown" value="signed-in"' in html
    # Never the inputs someone may be typing in: they stay as they are on the page.
    assert 'name="branch"' not in html and 'name="time_zone"' not in html
    # The new poller asks from the new version on: nothing more has changed since.
    new_live, _ = poller(html)
    assert new_live != live
    assert owner_client.get(new_live, **HX).status_code == 204


def test_a_colleagues_step_state_reaches_the_navigation(owner_client, member, tenant) -> None:
    live, _ = poller(owner_client.get(url(tenant, "recurring-contract")).content.decode())
    services.step_skip(tenant=tenant, step_key="security-level", user=member)
    html = owner_client.get(live, **HX).content.decode()
    nav = html[html.index('id="step-nav"') : html.index("</nav>")]
    assert re.search(r'href="[^"]*/security-level/".*?badge-skipped">Skipped<', nav, re.S)


def test_results_are_sent_only_when_they_changed(owner_client, member, tenant) -> None:
    """A colleague's tick leaves the results as they are on the page (an opened "Show what
    passed" stays open); a new verification sends them."""
    services.credentials_save(tenant=tenant, user=None, username="a@x.example", secret="s")
    live, _ = poller(owner_client.get(url(tenant, "api-user")).content.decode())
    services.checklist_update(
        tenant=tenant, step_key="api-user", user=member, ticked=["user-created"]
    )
    html = owner_client.get(live, **HX).content.decode()
    assert "Checklist: 1 of 7 ticked" in html
    assert 'id="verification"' not in html
    live, _ = poller(html)
    services.verification_record(
        tenant=tenant,
        step_key="api-user",
        user=member,
        results=[{"id": "auth.user", "status": "pass", "title": "Autotask knows the user"}],
    )
    html = owner_client.get(live, **HX).content.decode()
    assert re.search(r'id="verification"[^>]*hx-swap-oob="true"', html)
    assert "Autotask knows the user" in html


def test_already_running_turns_into_the_results(owner_client, member_client, tenant) -> None:
    services.credentials_save(tenant=tenant, user=None, username="a@x.example", secret="s")
    # A colleague's verification holds the step (as services.step_verify's claim does).
    StepProgress.objects.filter(tenant=tenant, step_key="api-user").update(
        verification_started_at=timezone.now(), updated_at=timezone.now()
    )
    # The second Verify: no second run, the notice in the results' place, quick polls.
    r = member_client.post(url(tenant, "api-user", "verify"), **HX)
    html = r.content.decode()
    assert RUNNING in html[html.index('id="verification"') :]
    live, every = poller(html)
    assert every == 2
    assert member_client.get(live, **HX).status_code == 204

    # The colleague's run ends: its results are recorded and the claim released.
    services.verification_record(
        tenant=tenant,
        step_key="api-user",
        user=None,
        results=[{"id": "auth.user", "status": "pass", "title": "Autotask knows the user"}],
    )
    StepProgress.objects.filter(tenant=tenant, step_key="api-user").update(
        verification_started_at=None, updated_at=timezone.now()
    )
    html = member_client.get(live, **HX).content.decode()
    assert re.search(r'id="verification"[^>]*hx-swap-oob="true"', html)
    assert "Autotask knows the user" in html
    assert RUNNING not in html
    assert poller(html)[1] == 10


def test_without_javascript_the_notice_is_on_the_reloaded_page(owner_client, tenant) -> None:
    services.credentials_save(tenant=tenant, user=None, username="a@x.example", secret="s")
    StepProgress.objects.filter(tenant=tenant, step_key="api-user").update(
        verification_started_at=timezone.now()
    )
    r = owner_client.post(url(tenant, "api-user", "verify"), follow=True)
    html = r.content.decode()
    assert RUNNING in html
    assert "Reload this page in a few seconds" in html  # inside <noscript>


def test_a_stale_claim_is_not_shown_as_running(owner_client, tenant) -> None:
    services.credentials_save(tenant=tenant, user=None, username="a@x.example", secret="s")
    StepProgress.objects.filter(tenant=tenant, step_key="api-user").update(
        verification_started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert RUNNING not in owner_client.get(url(tenant, "api-user")).content.decode()


def test_a_plain_request_is_sent_to_the_step(owner_client, tenant) -> None:
    r = owner_client.get(url(tenant, "account", "live") + "?v=0")
    assert r.status_code == 302 and r.url == url(tenant, "account")


@pytest.mark.parametrize("who", ["outsider_client", "staff_client"])
def test_only_members_get_anything(request, tenant, who) -> None:
    client = request.getfixturevalue(who)
    for v in ("0", "x"):
        assert client.get(url(tenant, "account", "live") + f"?v={v}", **HX).status_code == 404


def test_anonymous_is_sent_to_log_in(client, tenant) -> None:
    r = client.get(url(tenant, "account", "live") + "?v=0", **HX)
    assert r.status_code == 302 and "/accounts/login/" in r.url


def test_unknown_step_is_404(owner_client, tenant) -> None:
    assert owner_client.get(url(tenant, "nope", "live"), **HX).status_code == 404
