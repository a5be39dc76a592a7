"""Verification through the views, against the in-process sandbox (as `make run` does)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django.utils.html import escape

from tests.factories import fill_in
from tests.views.conftest import step_url as url
from wizard import services
from wizard.autotask.dates import today_in
from wizard.models import AuditEvent, StepProgress
from wizard.sandbox import SANDBOX_SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sandbox_on")]
HX = {"HTTP_HX_REQUEST": "true"}


def save_credentials(client, tenant, username, secret=SANDBOX_SECRET) -> None:
    r = client.post(
        url(tenant, "api-user"),
        {"username": username, "secret": secret, "checklist_shown": "", "action": "save"},
    )
    assert r.status_code == 302


def progress(tenant, key) -> StepProgress:
    return StepProgress.objects.get(tenant=tenant, step_key=key)


@pytest.mark.parametrize(
    ("scenario", "shown", "state"),
    [
        ("healthy", "hidden from this API user, as expected", "in_progress"),
        ("unknown", "Autotask does not know this API username", "needs_attention"),
        ("wrong-secret", "Autotask rejected the API user&#x27;s credentials", "needs_attention"),
        (
            "code-rejected",
            "Integration Vendor must be &#x27;Rhipe - Cloud Services&#x27;",
            "needs_attention",
        ),
        ("near-threshold", "API usage leaves room for Billing Sync", "in_progress"),
        ("throttled", "Autotask is limiting requests", "in_progress"),
        ("broken", "Autotask sent an answer the wizard cannot read", "in_progress"),
    ],
)
def test_api_user_verification_shows_each_diagnosis(
    owner_client, tenant, scenario, shown, state
) -> None:
    save_credentials(owner_client, tenant, f"{scenario}@sandbox.example")
    r = owner_client.post(url(tenant, "api-user", "verify"), **HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert shown in html
    assert f'value="{SANDBOX_SECRET}"' not in html  # the sandbox page names it; no field holds it
    # The checklist is not ticked yet, so even a clean run leaves the step in progress.
    assert progress(tenant, "api-user").state == state


def test_a_passing_verification_and_a_full_checklist_finish_the_step(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    ids = [i.id for i in progress(tenant, "api-user").step.checklist]
    owner_client.post(
        url(tenant, "api-user"),
        {
            "username": "healthy@sandbox.example",
            "checklist": ids,
            "checklist_shown": "",
            "action": "save",
        },
    )
    r = owner_client.post(url(tenant, "api-user", "verify"), follow=True)
    assert "Verified against Autotask: 5 passed." in r.content.decode()
    assert progress(tenant, "api-user").state == "done"
    events = AuditEvent.objects.filter(tenant=tenant, action="verification_run")
    assert events.count() == 1
    assert events.get().detail == {"counts": {"pass": 5}, "failed": [], "calls": 3}


def test_wrong_then_right_secret_can_be_fixed_and_reverified(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example", "a-wrong-secret")
    owner_client.post(url(tenant, "api-user", "verify"))
    assert progress(tenant, "api-user").state == "needs_attention"
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    assert progress(tenant, "api-user").check_results == []  # old verdict dropped
    owner_client.post(url(tenant, "api-user", "verify"))
    assert {r["status"] for r in progress(tenant, "api-user").check_results} == {"pass"}


def test_contract_step_verification_through_the_picker(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Australia/Sydney", seen="")
    sydney_today = today_in("Australia/Sydney")
    owner_client.post(
        url(tenant, "recurring-contract"),
        {"sync_start": "next", "initial-sync_start": "", "checklist_shown": "", "action": "save"},
    )
    # Search (htmx partial), then the company's contracts, then choose one.
    r = owner_client.get(url(tenant, "recurring-contract", "picker"), {"q": "Wingtip"}, **HX)
    assert "Wingtip Toys" in r.content.decode()
    r = owner_client.get(
        url(tenant, "recurring-contract", "picker"),
        {"company": "106", "company_name": "Wingtip Toys"},
        **HX,
    )
    html = r.content.decode()
    assert "Wingtip - Cloud Services" in html and "Recurring Service" in html
    # Its dates as the partner typed them: from the 1st of next month, in Sydney.
    next_month = (sydney_today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    assert (
        f'<time datetime="{next_month:%Y-%m-%d}">{next_month.day} {next_month:%b %Y}</time>' in html
    )
    owner_client.post(
        url(tenant, "recurring-contract"),
        {
            "add_company_id": "106",
            "add_company_name": "Wingtip Toys",
            "add_contract_id": "2006",
            "add_contract_name": "Wingtip - Cloud Services",
            "action": "add",
        },
    )
    r = owner_client.post(url(tenant, "recurring-contract", "verify"), follow=True)
    html = r.content.decode()
    assert "The contract starts on or before the first day of synced usage" in html
    first = sydney_today.replace(day=1)
    assert f"{first.day} {first:%B %Y}" in html
    assert "Dates are shown in Australia/Sydney time" in html
    assert progress(tenant, "recurring-contract").state == "needs_attention"


def test_the_picker_pages_through_hundreds_of_companies(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    seen: set[str] = set()
    after = 0
    for _ in range(40):
        r = owner_client.get(
            url(tenant, "recurring-contract", "picker"), {"q": "", "after": after}, **HX
        )
        html = r.content.decode()
        seen.update(part.split("<")[0] for part in html.split("data-picker-company>")[1:])
        if "More customers" not in html:
            break
        after = int(html.split("after=")[-1].split('"')[0])
    assert len(seen) > 400  # far more than one Autotask page (500) would give at 20 per page


def test_the_picker_without_javascript_renders_in_the_page(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    r = owner_client.get(url(tenant, "recurring-contract"), {"q": "Acme"})
    html = r.content.decode()
    assert "<html" in html
    assert escape("<b>Acme & Sons</b>") in html
    assert "<b>Acme" not in html


def test_picker_errors_are_explained(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "throttled@sandbox.example")
    r = owner_client.get(url(tenant, "recurring-contract", "picker"), {"q": "x"}, **HX)
    assert "Autotask is limiting requests" in r.content.decode()


def test_verify_without_credentials_says_what_to_do(owner_client, tenant) -> None:
    r = owner_client.post(url(tenant, "security-level", "verify"), follow=True)
    assert "Enter the API user&#x27;s Username and Secret in step 3" in r.content.decode()


def test_verify_without_customers_says_what_to_do(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    r = owner_client.post(url(tenant, "recurring-contract", "verify"), follow=True)
    assert "add at least one customer" in r.content.decode()
    assert progress(tenant, "recurring-contract").check_results == []


def test_a_double_click_starts_one_run(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    StepProgress.objects.filter(tenant=tenant, step_key="api-user").update(
        verification_started_at=timezone.now()
    )
    r = owner_client.post(url(tenant, "api-user", "verify"), follow=True)
    assert "already running" in r.content.decode()
    assert not AuditEvent.objects.filter(tenant=tenant, action="verification_run").exists()


def test_a_stale_run_lock_does_not_block_forever(owner_client, tenant) -> None:
    save_credentials(owner_client, tenant, "healthy@sandbox.example")
    StepProgress.objects.filter(tenant=tenant, step_key="api-user").update(
        verification_started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    owner_client.post(url(tenant, "api-user", "verify"))
    assert AuditEvent.objects.filter(tenant=tenant, action="verification_run").count() == 1
    assert progress(tenant, "api-user").verification_started_at is None


def test_review_reverifies_every_step(owner_client, tenant) -> None:
    fill_in(tenant)
    owner_client.post(url(tenant, "review", "verify"))
    for key in ("api-user", "security-level", "recurring-contract", "review"):
        assert progress(tenant, key).check_results, key
    assert progress(tenant, "review").state == "in_progress"  # checklist not ticked


@pytest.mark.parametrize("who", ["outsider_client", "staff_client"])
def test_verify_and_picker_are_404_for_non_members(request, tenant, who) -> None:
    client = request.getfixturevalue(who)
    assert client.post(url(tenant, "api-user", "verify")).status_code == 404
    assert (
        client.get(url(tenant, "recurring-contract", "picker"), {"q": "a"}, **HX).status_code == 404
    )


def test_steps_without_checks_or_picker_are_404(owner_client, tenant) -> None:
    assert owner_client.post(url(tenant, "account", "verify")).status_code == 404
    assert owner_client.get(url(tenant, "api-user", "picker"), **HX).status_code == 404
