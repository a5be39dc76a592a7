"""The partner's walk with verification against the in-process Autotask sandbox, to done.

As in the demo (`make run`): a wrong Secret first and its fix, the security level verified once
the API user connects, contracts chosen with the picker (one with a proration warning, one that
fails, then the good one), no annual customers, and the review re-verifying everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from tests.browser.conftest import login, shot
from tests.browser.test_walk import (
    assert_same_document,
    htmx_idle,
    mark_page,
    nav_badges,
    save_and_continue,
    state,
    step_path,
)
from wizard import services, steps
from wizard.models import AuditEvent, Tenant
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.browser

HEALTHY = "healthy@sandbox.example"
SLOW = "slow@sandbox.example"
# One wrong attempt only: two in a row pause credential tests for 15 minutes (lockout safety).
WRONG_SECRET = "Wr0ng-Secret-for-the-sandbox"
VERIFY_TIMEOUT_MS = 30_000
SECRET_FAILED = "Autotask accepts the Secret"
PRORATION = "The contract starts on the 1st"
STARTS_IN_TIME = "The contract starts on or before the first day of synced usage"


def nav_badge(page: Page, key: str) -> Any:
    return page.locator(f"#step-nav a[href$='/{key}/'] .badge")


def go_to_step(page: Page, tenant: Tenant, key: str) -> None:
    """Through the side navigation (a plain link: a full page load)."""
    page.locator(f"#step-nav a[href$='/{key}/']").click()
    page.wait_for_url(f"**{step_path(tenant, key)}")
    expect(page.locator("#step-title")).to_have_text(steps.STEPS_BY_KEY[key].title)
    htmx_idle(page)


def assert_no_secret_in_inputs(page: Page) -> None:
    """Neither Secret is in the page's HTML, nor in the live value of any field."""
    html = page.content()
    assert f'value="{SANDBOX_SECRET}"' not in html  # the sandbox table names it, no field holds it
    assert WRONG_SECRET not in html
    values: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map(e => e.value)"
    )
    assert SANDBOX_SECRET not in values and WRONG_SECRET not in values


def save_api_user(page: Page, username: str, secret: str) -> None:
    page.get_by_label("API user Username").fill(username)
    page.get_by_label("API user Secret").fill(secret)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    htmx_idle(page)
    expect(page.locator("#secret-note")).to_contain_text("A Secret is stored.")
    expect(page.get_by_label("API user Secret")).to_have_value("")
    assert_no_secret_in_inputs(page)


def tick_all(page: Page, key: str, branch: str = "") -> None:
    """Tick every checklist box of the step (each saved through htmx as it is clicked)."""
    items = steps.STEPS_BY_KEY[key].checklist_for(branch)
    for item in items:
        box = page.get_by_label(item.text, exact=True)
        if box.is_checked():
            continue
        box.check()
        done = page.locator("fieldset.checklist input[type=checkbox]:checked").count()
        expect(page.locator("#step-status")).to_contain_text(
            f"Checklist: {done} of {len(items)} ticked"
        )
        htmx_idle(page)


def verify(page: Page, key: str, button: str = "Verify now") -> None:
    """Click the step's verify button and wait for its results (swapped in by htmx)."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/{key}/verify/"),
        timeout=VERIFY_TIMEOUT_MS,
    ) as info:
        page.locator("#verification").get_by_role("button", name=button, exact=True).click()
    assert info.value.status == 200
    htmx_idle(page)
    expect(page.locator(".messages")).to_contain_text("Verified against Autotask")


def groups(page: Page) -> list[str]:
    """The result group headings, e.g. ["Failed (1)", "Passed (1)"]."""
    return [t.strip() for t in page.locator("#verification h3.result-group").all_inner_texts()]


def pick_contract(page: Page, search: str, company: str, contract_id: int) -> None:
    """Search a company (as you type), open its contracts, choose one (a plain form post)."""
    mark_page(page)
    box = page.get_by_label("Find a customer in Autotask")
    box.fill("")
    box.press_sequentially(search, delay=40)
    link = page.locator("#picker").get_by_role("link", name=company, exact=True)
    expect(link).to_be_visible()
    htmx_idle(page)
    link.click()
    expect(page.locator("#picker table caption")).to_contain_text(f"Contracts of {company}")
    htmx_idle(page)
    assert_same_document(page)  # the search and the company's contracts came through htmx
    # Choose adds the row in place (htmx): no reload, and it says what it added.
    page.get_by_role("button", name=f"Choose contract {contract_id}", exact=True).click()
    expect(page.locator("#rows-status")).to_contain_text(f"Added {company} #")
    assert_same_document(page)
    rows = page.locator("table.grid:has(caption:text('Customers added')) tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{contract_id}")
    expect(rows.first).to_contain_text(company)
    htmx_idle(page)


def remove_contract(page: Page, contract_id: int) -> None:
    page.get_by_role("button", name=f"Remove contract {contract_id}", exact=True).click()
    expect(page.get_by_role("button", name=f"Remove contract {contract_id}")).to_have_count(0)
    htmx_idle(page)


def test_partner_walk_with_verification_to_done(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    tenant: Tenant,
    autotask_sandbox: None,
) -> None:
    # The partner's browser is in Sydney, like the sandbox's healthy tenant.
    page = new_context(timezone_id="Australia/Sydney").new_page()
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")

    # 1. Account: the time zone comes preselected from the browser; the existing-account
    # branch (its autosave carries the time zone along) and its two ticks.
    expect(page.get_by_label("Your Autotask's time zone")).to_have_value("Australia/Sydney")
    page.get_by_label("We already use Autotask").check()
    expect(page.locator("#step-status")).to_contain_text("Checklist: 0 of 2 ticked")
    htmx_idle(page)
    assert Tenant.objects.get(pk=tenant.pk).time_zone == "Australia/Sydney"
    tick_all(page, "account", "existing")
    expect(nav_badge(page, "account")).to_have_text("Done")
    save_and_continue(page, tenant, "security-level")

    # 2. Security level: every box ticked; it waits for the API user to connect.
    tick_all(page, "security-level")
    expect(page.locator("#step-status")).to_contain_text("Waiting for verification")
    expect(page.locator("#verification")).to_contain_text("Verification starts once")
    save_and_continue(page, tenant, "api-user")

    # 3. API user: a wrong Secret first. The failed check says what to do.
    save_api_user(page, HEALTHY, WRONG_SECRET)
    verify(page, "api-user")
    assert groups(page) == ["Failed (1)", "Could not be checked (3)", "Passed (1)"]
    failed = page.locator("#verification li.result-fail")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text(SECRET_FAILED)
    expect(failed.locator(".fix")).to_contain_text("How to fix:")
    expect(failed.locator(".fix")).to_contain_text("generate a new one, save it, and enter it here")
    expect(nav_badge(page, "api-user")).to_have_text("Needs attention")
    expect(page.locator("#step-status")).to_contain_text("Fix the failed checks below")
    assert state(tenant, "api-user") == "needs_attention"
    assert_no_secret_in_inputs(page)
    shot(page, "verify-api-user-failed")

    # The right Secret: the old verdict is dropped (it was about other credentials).
    save_api_user(page, HEALTHY, SANDBOX_SECRET)
    expect(page.locator("#verification .result")).to_have_count(0)
    expect(nav_badge(page, "api-user")).to_have_text("In progress")
    tick_all(page, "api-user")
    expect(page.locator("#step-status")).to_contain_text("Waiting for verification")
    verify(page, "api-user", "Verify now")
    assert groups(page) == ["Passed (5)"]
    expect(page.locator("#verification .result-fail")).to_have_count(0)
    expect(nav_badge(page, "api-user")).to_have_text("Done")
    expect(page.locator("#step-status")).to_contain_text("This step is done.")
    expect(page.locator("#verification").get_by_role("button", name="Verify again")).to_be_visible()
    page.get_by_text("Show what passed").click()
    expect(page.locator("#verification li.result-pass").first).to_be_visible()
    expect(page.locator("#verification")).to_contain_text("hidden from this API user, as expected")
    assert_no_secret_in_inputs(page)
    shot(page, "verify-api-user-passed")

    # Back to the security level: now it can be verified.
    go_to_step(page, tenant, "security-level")
    verify(page, "security-level")
    assert not any(g.startswith("Failed") for g in groups(page)), groups(page)
    expect(nav_badge(page, "security-level")).to_have_text("Done")
    expect(page.locator("#step-status")).to_contain_text("This step is done.")

    # 4. Recurring Service contracts: the next invoice, then contracts from the picker.
    go_to_step(page, tenant, "recurring-contract")
    page.get_by_label(dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_NEXT]).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.locator("p.computed")).to_contain_text("First day of usage")
    htmx_idle(page)

    # Adventure Works' contract starts on the 15th: a proration warning, not a failure.
    pick_contract(page, "Adventure", "Adventure Works", 2005)
    verify(page, "recurring-contract")
    assert groups(page)[0] == "Warnings (1)", groups(page)
    assert [g.split(" (")[0] for g in groups(page)] == ["Warnings", "Passed"], groups(page)
    warning = page.locator("#verification li.result-warn")
    expect(warning).to_contain_text(PRORATION)
    expect(warning).to_contain_text("(Australia/Sydney), the 15th of the month")
    expect(page.locator("#verification")).to_contain_text(
        "Dates are shown in Australia/Sydney time"
    )
    expect(warning.locator(".fix")).to_contain_text("Set Start Date to the 1st")
    expect(nav_badge(page, "recurring-contract")).to_have_text("In progress")  # checklist open
    shot(page, "verify-contract-warning")

    # Wingtip Toys' contract starts next month: it fails.
    remove_contract(page, 2005)
    pick_contract(page, "Wingtip", "Wingtip Toys", 2006)
    verify(page, "recurring-contract")
    assert groups(page)[0] == "Failed (1)", groups(page)
    expect(page.locator("#verification li.result-fail")).to_contain_text(STARTS_IN_TIME)
    expect(nav_badge(page, "recurring-contract")).to_have_text("Needs attention")

    # Contoso Ltd's contract is right; "Contoso" also matches a Prospect, not listed.
    remove_contract(page, 2006)
    pick_contract(page, "Contoso", "Contoso Ltd", 2001)
    expect(page.locator("#picker")).not_to_contain_text("Contoso Pharmaceuticals")
    tick_all(page, "recurring-contract")
    verify(page, "recurring-contract")
    assert [g.split(" (")[0] for g in groups(page)] == ["Passed"], groups(page)
    expect(nav_badge(page, "recurring-contract")).to_have_text("Done")
    save_and_continue(page, tenant, "annual-contract")

    # 5. Seat Based Annual: none, so nothing to check and no checklist.
    page.get_by_label("No, none of our customers has annual seat subscriptions").check()
    save_and_continue(page, tenant, "review")
    expect(nav_badge(page, "annual-contract")).to_have_text("Done")
    assert state(tenant, "annual-contract") == "done"

    # 6. Review: tick, verify everything again.
    tick_all(page, "review")
    verify(page, "review")
    assert not any(g.startswith(("Failed", "Could not")) for g in groups(page)), groups(page)
    expect(page.locator("#step-status")).to_contain_text("This step is done.")
    expect(page.locator("label[for=wizard-progress]")).to_have_text("6 of 6 steps finished")
    expect(page.locator("#wizard-progress")).to_have_attribute("value", "6")
    assert set(nav_badges(page).values()) == {"Done"}
    runs = AuditEvent.objects.filter(tenant=tenant, action=AuditEvent.Action.VERIFICATION_RUN)
    assert runs.filter(step_key="review").count() == 1
    for key in ("security-level", "api-user", "recurring-contract"):
        verified = tenant.progress.get(step_key=key).verified_at
        review_run = runs.get(step_key="review").created_at
        assert verified is not None and verified <= review_run, key
        assert abs((review_run - verified).total_seconds()) < 30, key  # re-verified by the review
    shot(page, "step-review-done")

    # Log out and in again: everything done, so the wizard resumes at the review.
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'review')}")
    assert set(nav_badges(page).values()) == {"Done"}
    assert_no_secret_in_inputs(page)


def test_verify_shows_progress_and_runs_once(
    page: Page, live_server: Any, tenant: Tenant, owner: Any, autotask_sandbox: None
) -> None:
    # The "slow" sandbox user: every Autotask call takes 2 s longer.
    services.credentials_save(tenant=tenant, user=owner, username=SLOW, secret=SANDBOX_SECRET)
    login(page, live_server, "owner")
    page.goto(step_path(tenant, "api-user"))
    htmx_idle(page)
    verify_posts: list[Request] = []
    page.on(
        "request",
        lambda r: (
            verify_posts.append(r) if r.method == "POST" and r.url.endswith("/verify/") else None
        ),
    )
    button = page.locator("#verification").get_by_role("button", name="Verify now")
    indicator = page.locator("#verify-progress")
    expect(indicator).to_be_hidden()

    with page.expect_response(
        lambda r: r.url.endswith("/api-user/verify/"), timeout=VERIFY_TIMEOUT_MS
    ):
        button.click()
        expect(indicator).to_be_visible()
        expect(indicator).to_have_text("Checking your Autotask…")
        expect(button).to_be_disabled()
        # The page does not block meanwhile: it answers and a field can take the focus.
        username = page.get_by_label("API user Username")
        username.focus()
        assert page.evaluate("document.activeElement.id") == username.get_attribute("id")
        # A second click does nothing: the button is disabled, and a submit that gets through
        # anyway (Enter, script) is dropped by hx-sync while the first run is in flight.
        button.click(force=True)
        page.locator("#verification form").evaluate("f => f.requestSubmit()")
        expect(indicator).to_be_visible()
    htmx_idle(page)

    expect(page.locator(".messages")).to_contain_text("Verified against Autotask: 5 passed.")
    expect(indicator).to_be_hidden()
    expect(page.locator("#verification").get_by_role("button", name="Verify again")).to_be_enabled()
    assert len(verify_posts) == 1, [r.url for r in verify_posts]
    runs = AuditEvent.objects.filter(
        tenant=tenant, step_key="api-user", action=AuditEvent.Action.VERIFICATION_RUN
    )
    assert runs.count() == 1
