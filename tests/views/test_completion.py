"""The end of the wizard: the completion page with the hand-off to Billing Sync, the same
hand-off for staff (tenant page, JSON API, the account manager's email), never the Secret."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.cache import cache

from tests.factories import fill_in
from wizard import selectors, services, steps
from wizard.autotask import limits
from wizard.autotask.dates import today_in
from wizard.models import AuditEvent, Tenant
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.django_db

HEALTHY = "healthy@sandbox.example"
CONTOSO = {
    "company_id": 101,
    "contract_id": 2001,
    "company_name": "Contoso Ltd",
    "contract_name": "Contoso - Managed Cloud",
}
CONTOSO_ANNUAL = {
    "company_id": 101,
    "contract_id": 2012,
    "company_name": "Contoso Ltd",
    "contract_name": "Contoso - Seat Based Annual",
}


@pytest.fixture(autouse=True)
def _sandbox(settings) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    limits.reset()


def finish(tenant: Tenant, *, annual: bool = False, user=None) -> Tenant:
    """Answer every step with picker-chosen rows (names included), tick, verify the review."""
    fill_in(tenant, user=user, customers=(), tick=True)
    services.answer_list_add(
        tenant=tenant,
        step_key="recurring-contract",
        user=user,
        field="customers",
        item=CONTOSO,
        key="contract_id",
    )
    if annual:
        services.step_answers_save(
            tenant=tenant,
            step_key="annual-contract",
            user=user,
            changes={"has_annual": "yes"},
            seen={"has_annual": "no"},
        )
        services.answer_list_add(
            tenant=tenant,
            step_key="annual-contract",
            user=user,
            field="contracts",
            item=CONTOSO_ANNUAL,
            key="contract_id",
        )
        annual_step = steps.STEPS_BY_KEY["annual-contract"]
        services.checklist_update(
            tenant=tenant,
            step_key="annual-contract",
            user=user,
            ticked=[i.id for i in annual_step.checklist_for("yes")],
        )
    services.step_verify(tenant=tenant, step_key="review", user=user)
    tenant.refresh_from_db()
    assert tenant.current_step_index == len(steps.STEPS) + 1, [
        (p.step_key, p.state, p.check_results and [r["id"] for r in p.check_results][:3])
        for p in tenant.progress.all()
    ]
    return tenant


def done_url(tenant: Tenant) -> str:
    return f"/t/{tenant.code}/done/"


# --- the completion page ------------------------------------------------------------------


def test_the_completion_page_holds_what_billing_sync_asks_for(owner_client, tenant) -> None:
    finish(tenant, annual=True)
    r = owner_client.get(done_url(tenant))
    assert r.status_code == 200
    html = r.content.decode()
    assert "your Autotask is ready for Billing Sync" in html
    assert "Billing Sync &gt; Configurations &gt; Connections" in html
    # The API Username, and a plain word about the Secret, never the Secret itself.
    assert f"<code>{HEALTHY}</code>" in html
    assert "Not shown: the wizard never shows it back." in html
    assert SANDBOX_SECRET not in html
    # The sync start and the first day of usage, in the tenant's time zone.
    assert dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_NEXT] in html
    first = steps.first_usage_date(steps.SYNC_START_NEXT, today_in("Australia/Sydney"))
    assert f'<time datetime="{first.isoformat()}">' in html
    assert "Australia/Sydney" in html
    # Every customer -> company -> contract, ids and names; the annual Fixed Price ones.
    for text in ("Contoso Ltd", ">101<", "Contoso - Managed Cloud", ">2001<"):
        assert text in html, text
    assert "Seat Based Annual: Autotask company and Fixed Price contract" in html
    assert "Contoso - Seat Based Annual" in html and ">2012<" in html
    # When it was verified, and what the wizard does not verify.
    verified = tenant.progress.get(step_key="review").verified_at
    assert f'datetime="{verified.isoformat()}"' in html
    assert "Billing Code of type Recurring Contract" in html
    assert "does not verify it" in html
    # Printable: its print button is JavaScript's (hidden without it), the print CSS hides the rest.
    assert "data-print hidden" in html and "js/print.js" in html


def test_without_annual_customers_the_page_says_none(member_client, tenant) -> None:
    finish(tenant)
    html = member_client.get(done_url(tenant)).content.decode()
    assert "none: no customer has annual seat subscriptions" in html
    assert "Fixed Price contract</th>" not in html


def test_before_the_end_the_page_sends_the_partner_to_the_open_step(owner_client, tenant) -> None:
    fill_in(tenant, tick=True)  # everything answered, nothing verified
    r = owner_client.get(done_url(tenant), follow=True)
    assert r.redirect_chain[-1][0] == f"/t/{tenant.code}/security-level/"
    html = r.content.decode()
    assert "ready once every step is done or skipped" in html
    assert HEALTHY not in html.split('id="step-title"')[0]  # no hand-off data on the way


def test_the_completion_page_is_for_members_only(
    owner_client, member_client, outsider_client, staff_client, client, tenant
) -> None:
    finish(tenant)
    assert owner_client.get(done_url(tenant)).status_code == 200
    assert member_client.get(done_url(tenant)).status_code == 200
    assert outsider_client.get(done_url(tenant)).status_code == 404
    assert staff_client.get(done_url(tenant)).status_code == 404
    anonymous = client.get(done_url(tenant))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert owner_client.post(done_url(tenant)).status_code == 405


def test_the_review_links_to_the_completion_page_once_done(owner_client, tenant) -> None:
    fill_in(tenant, tick=True)
    review = owner_client.get(f"/t/{tenant.code}/review/").content.decode()
    assert done_url(tenant) not in review
    finish(tenant)
    review = owner_client.get(f"/t/{tenant.code}/review/").content.decode()
    assert "Your setup is complete." in review
    assert f'href="{done_url(tenant)}"' in review


def test_the_billing_code_is_a_checklist_item_that_says_it_is_not_verified(
    owner_client, tenant
) -> None:
    review = steps.STEPS_BY_KEY["review"]
    item = next(i for i in review.checklist if i.id == "billing-code-recurring-contract")
    assert "Billing Code of type Recurring Contract" in item.text
    assert "not verified by the wizard" in item.text
    html = owner_client.get(f"/t/{tenant.code}/review/").content.decode()
    assert item.text in html


# --- the same hand-off for staff ------------------------------------------------------------


def test_the_staff_tenant_page_shows_the_hand_off(am_client, tenant) -> None:
    page = am_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "Ready once every step is done or skipped." in page
    finish(tenant)
    page = am_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "Hand-off to Billing Sync" in page
    assert f"<code>{HEALTHY}</code>" in page and "Contoso - Managed Cloud" in page
    assert SANDBOX_SECRET not in page


def test_the_api_has_the_hand_off_once_done_and_never_the_secret(am_client, tenant) -> None:
    url = f"/api/v1/tenants/{tenant.code}/"
    before = am_client.get(url)
    assert before.status_code == 200
    assert before.json()["handoff"] is None
    assert before.json()["id"] == str(tenant.code)
    finish(tenant, annual=True)
    r = am_client.get(url)
    assert SANDBOX_SECRET not in r.content.decode()
    body = r.json()
    assert body["state"] == "done"
    handoff = body["handoff"]
    verified = tenant.progress.get(step_key="review").verified_at
    first = steps.first_usage_date(steps.SYNC_START_NEXT, today_in("Australia/Sydney", verified))
    assert handoff == {
        "api_username": HEALTHY,
        "sync_start": {
            "value": steps.SYNC_START_NEXT,
            "label": dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_NEXT],
        },
        "first_usage_date": first.isoformat(),
        "time_zone": "Australia/Sydney",
        "recurring_contracts": [
            {
                "company": {"id": 101, "name": "Contoso Ltd"},
                "contract": {"id": 2001, "name": "Contoso - Managed Cloud"},
            }
        ],
        "annual": {
            "answer": "yes",
            "contracts": [
                {
                    "company": {"id": 101, "name": "Contoso Ltd"},
                    "contract": {"id": 2012, "name": "Contoso - Seat Based Annual"},
                }
            ],
        },
        "verified_at": verified.isoformat(),
    }
    assert "secret" not in json.dumps(handoff).lower()


def test_the_api_detail_is_staff_only_and_404s_unseen_tenants(
    am_client, owner_client, tenant, am_other
) -> None:
    from tests.conftest import login

    url = f"/api/v1/tenants/{tenant.code}/"
    assert login(am_other).get(url).status_code == 404
    assert owner_client.get(url).status_code == 404
    assert am_client.get("/api/v1/tenants/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- the account manager's email ------------------------------------------------------------


def test_the_account_manager_is_mailed_the_hand_off_once(
    tenant, am_assigned, owner, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        finish(tenant, user=owner)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [am_assigned.email]
    assert message.subject == (
        "Northwind IT finished the Autotask setup: the hand-off to Billing Sync"
    )
    body = message.body
    assert f"API Username: {HEALTHY}" in body
    assert "The Secret is not in this email." in body
    assert SANDBOX_SECRET not in body and SANDBOX_SECRET not in message.subject
    assert "- Contoso Ltd (company #101) -> Contoso - Managed Cloud (contract #2001)\n" in body
    assert "Seat Based Annual (Fixed Price contracts): none" in body
    assert dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_NEXT] in body
    assert f"/manage/t/{tenant.code}/" in body
    assert "Billing Code of type Recurring Contract" in body
    sent = AuditEvent.objects.get(tenant=tenant, action=AuditEvent.Action.HANDOFF_MAILED)
    assert sent.detail == {"to": "account manager", "sent": True}

    # Re-verified (by a person, then by the daily job): the same hand-off, no second mail.
    with django_capture_on_commit_callbacks(execute=True):
        services.step_verify(tenant=tenant, step_key="review", user=owner)
        services.step_verify(tenant=tenant, step_key="review", user=None, background=True)
        services.checklist_update(
            tenant=tenant, step_key="review", user=owner, unticked=["secret-at-hand"]
        )
        services.checklist_update(
            tenant=tenant, step_key="review", user=owner, ticked=["secret-at-hand"]
        )
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(tenant=tenant, action="handoff_mailed").count() == 1

    # Names read from Autotask later (rows typed by id get theirs, a company renamed) are
    # labels, not a new hand-off: no second mail.
    services.list_names_fill(tenant=tenant, companies={101: "Contoso Limited"})
    assert "Contoso Limited" in str(selectors.handoff(tenant))
    with django_capture_on_commit_callbacks(execute=True):
        services.handoff_mail_if_new(tenant.pk)
    assert len(mail.outbox) == 1

    # A changed setup that finishes again is a new hand-off: mailed again.
    with django_capture_on_commit_callbacks(execute=True):
        services.step_answers_save(
            tenant=tenant,
            step_key="recurring-contract",
            user=owner,
            changes={"sync_start": steps.SYNC_START_MOST_RECENT},
            seen={"sync_start": steps.SYNC_START_NEXT},
        )
        assert len(mail.outbox) == 1  # not finished now: nothing to hand off
        services.step_verify(tenant=tenant, step_key="review", user=owner)
    assert len(mail.outbox) == 2
    assert dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_MOST_RECENT] in mail.outbox[1].body


def test_no_account_manager_no_mail(tenant, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        finish(tenant)
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(tenant=tenant, action="handoff_mailed").exists()


def test_the_selector_is_none_until_done(tenant) -> None:
    assert selectors.handoff(tenant) is None
    fill_in(tenant, tick=True)
    assert selectors.handoff(tenant) is None
    finish(tenant)
    handoff = selectors.handoff(tenant)
    assert handoff is not None
    assert handoff.api_username == HEALTHY
    assert [c.contract_id for c in handoff.recurring] == [2001]
    assert handoff.annual_answer == "no" and handoff.annual == ()


def test_rows_typed_by_id_are_mailed_by_id(
    tenant, am_assigned, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        fill_in(tenant, tick=True)  # rows typed by id: no names
        services.step_verify(tenant=tenant, step_key="review", user=None)
    assert "- company #101 -> contract #2001\n" in mail.outbox[0].body
