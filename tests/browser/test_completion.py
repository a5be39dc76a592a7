"""The end of the wizard in a real Chromium: a member finishes the review against the sandbox,
opens the completion page (docs/images/completion.png), prints it without the navigation and
buttons; the account manager reads the same hand-off as JSON. The Secret appears nowhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import login, shot
from tests.browser.test_verify_walk import tick_all, verify
from tests.browser.test_walk import htmx_idle, step_path
from tests.factories import fill_in
from wizard import services, steps
from wizard.models import AuditEvent, Tenant
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.browser

HEALTHY = "healthy@sandbox.example"


def ready_for_review(tenant: Tenant, owner: User) -> None:
    """Every step answered and ticked by the owner, customers chosen with their names; only
    the review is left: its checklist and its verification."""
    fill_in(tenant, user=owner, customers=())
    for company, name, contract, contract_name in (
        (101, "Contoso Ltd", 2001, "Contoso - Managed Cloud"),
        (102, "Fabrikam Inc", 2002, "Fabrikam - Cloud Subscriptions"),
    ):
        services.answer_list_add(
            tenant=tenant,
            step_key="recurring-contract",
            user=owner,
            field="customers",
            item={
                "company_id": company,
                "company_name": name,
                "contract_id": contract,
                "contract_name": contract_name,
            },
            key="contract_id",
        )
    for step in steps.STEPS:
        if step.requires_earlier:
            continue
        answers = tenant.progress.get(step_key=step.key).answers
        ids = [c.id for c in step.checklist_for(step.branch_of(answers))]
        services.checklist_update(tenant=tenant, step_key=step.key, user=owner, ticked=ids)


def test_a_member_finishes_the_review_and_takes_the_hand_off(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    tenant: Tenant,
    owner: User,
    account_manager: User,
    autotask_sandbox: None,
) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(account_manager=account_manager)
    ready_for_review(tenant, owner)
    page = new_context(timezone_id="Australia/Sydney").new_page()
    login(page, live_server, "member")
    page.goto(step_path(tenant, "review"))
    expect(page.locator("#step-title")).to_have_text("Review")
    htmx_idle(page)
    expect(page.get_by_role("link", name="Open the hand-off for Billing Sync")).to_have_count(0)
    # Before the end, the completion page sends the member to the first open step (the
    # security level waits for its verification, which the review makes).
    page.goto(f"/t/{tenant.code}/done/")
    page.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    expect(page.locator(".messages")).to_contain_text("ready once every step is done or skipped")
    page.goto(step_path(tenant, "review"))
    htmx_idle(page)

    # The review: its two boxes (one says the wizard does not verify it), then Verify now.
    billing_code = page.get_by_label(steps.STEPS_BY_KEY["review"].checklist[1].text, exact=True)
    expect(billing_code).to_be_visible()
    tick_all(page, "review")
    verify(page, "review")
    expect(page.locator("#step-status")).to_contain_text("This step is done.")
    expect(page.locator("#step-status")).to_contain_text("Your setup is complete.")

    # The completion page.
    with page.expect_navigation():
        page.get_by_role("link", name="Open the hand-off for Billing Sync").click()
    page.wait_for_url(f"**/t/{tenant.code}/done/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Northwind IT: your Autotask is ready for Billing Sync"
    )
    facts = page.locator("dl.handoff-facts")
    expect(facts).to_contain_text(HEALTHY)
    expect(facts).to_contain_text("Not shown: the wizard never shows it back.")
    expect(facts).to_contain_text(dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_NEXT])
    expect(facts).to_contain_text("(Australia/Sydney, for a sync enabled in the month")
    rows = page.locator("table.handoff-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Contoso Ltd")
    expect(rows.nth(0)).to_contain_text("Contoso - Managed Cloud")
    expect(rows.nth(1)).to_contain_text("2002")
    expect(page.locator("article.handoff")).to_contain_text(
        "Seat Based Annual (Fixed Price contracts): none"
    )
    expect(page.locator("article.handoff")).to_contain_text("does not verify it")
    # The print button appears with JavaScript; the page never holds the Secret.
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    assert SANDBOX_SECRET not in page.content()
    shot(page, "completion")

    # Printed: the content alone, no top bar, no buttons, no back link.
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the review")).to_be_hidden()
    expect(page.locator("table.handoff-table")).to_be_visible()
    page.emulate_media(media="screen")

    # The account manager: the same hand-off as JSON, and mailed once.
    staff = new_context().new_page()
    login(staff, live_server, account_manager.get_username())
    response = staff.goto(f"/api/v1/tenants/{tenant.code}/")
    assert response is not None and response.status == 200
    body = response.json()
    assert SANDBOX_SECRET not in response.text()
    assert body["handoff"]["api_username"] == HEALTHY
    assert [c["contract"]["id"] for c in body["handoff"]["recurring_contracts"]] == [2001, 2002]
    assert AuditEvent.objects.filter(tenant=tenant, action="handoff_mailed").count() == 1


def test_the_completion_page_works_without_javascript(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    tenant: Tenant,
    owner: User,
    autotask_sandbox: None,
) -> None:
    ready_for_review(tenant, owner)
    services.checklist_update(
        tenant=tenant,
        step_key="review",
        user=owner,
        ticked=[i.id for i in steps.STEPS_BY_KEY["review"].checklist],
    )
    services.step_verify(tenant=tenant, step_key="review", user=owner)
    page = new_context(java_script_enabled=False).new_page()
    login(page, live_server, "owner")
    page.goto(f"/t/{tenant.code}/done/")
    expect(page.locator("dl.handoff-facts")).to_contain_text(HEALTHY)
    # Without JavaScript there is no print button that would do nothing.
    expect(page.get_by_role("button", name="Print this page")).to_be_hidden()
