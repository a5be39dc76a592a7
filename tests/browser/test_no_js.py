"""Issue 14, point 5: the account and recurring-contract steps end to end with JavaScript off.

Every button is a plain form post and redirect, every search a plain GET, every company a
plain link; each comes back to where the person was (#customers) with what they chose.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import login
from tests.browser.test_walk import EXISTING_INSTRUCTION, checked_boxes, state, step_path
from tests.factories import fill_in
from wizard import steps
from wizard.models import StepProgress, Tenant

pytestmark = pytest.mark.browser

NEXT = dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_NEXT]


def no_js_page(new_context: Callable[..., BrowserContext], live_server, user: str) -> Page:
    page = new_context(java_script_enabled=False).new_page()
    login(page, live_server, user)
    return page


def click_and_load(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_account_step_without_javascript(
    new_context: Callable[..., BrowserContext], live_server, tenant: Tenant
) -> None:
    page = no_js_page(new_context, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")

    # "Save and continue" with nothing chosen says what is needed, and stays.
    click_and_load(page, "Save and continue →")
    expect(page.locator("#step-form .error[role=alert]")).to_contain_text(
        "This step needs an answer before you continue."
    )
    assert page.url.endswith(step_path(tenant, "account"))
    assert state(tenant, "account") == "not_started"

    # "new" first, saved: its own checklist item shows, and gets ticked.
    page.get_by_label("Your Autotask's time zone").select_option("Australia/Sydney")
    page.get_by_label("I need a new Autotask account").check()
    click_and_load(page, "Save")
    expect(page.locator(".messages")).to_contain_text("Saved.")
    page.get_by_label("Our Autotask account has been created.").check()

    # The walk of the issue: switch to "existing", tick, save, all in one submit.
    page.get_by_label("We already use Autotask").check()
    page.get_by_label("I can sign in to Autotask Home.").check()
    page.get_by_label("I can open the Admin menu in Autotask.").check()
    click_and_load(page, "Save and continue →")
    page.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    expect(page.locator("body")).not_to_contain_text("is not one of the available choices")

    progress = StepProgress.objects.get(tenant=tenant, step_key="account")
    assert progress.answers["branch"] == "existing"
    assert progress.checklist == ["signed-in", "admin-access"]
    assert progress.state == "done"

    # "Save and continue" on an optional step with nothing done: left for later, said so.
    click_and_load(page, "Save and continue →")
    page.wait_for_url(f"**{step_path(tenant, 'api-user')}")
    expect(page.locator(".messages")).to_contain_text("for later")

    page.goto(step_path(tenant, "account"))
    expect(page.get_by_label("We already use Autotask")).to_be_checked()
    expect(page.get_by_text(EXISTING_INSTRUCTION)).to_be_visible()
    assert checked_boxes(page) == ["admin-access", "signed-in"]
    expect(page.locator("#step-status")).to_contain_text("This step is done.")


def test_recurring_contract_step_without_javascript(
    new_context: Callable[..., BrowserContext],
    live_server,
    autotask_sandbox: None,
    tenant: Tenant,
    owner,
) -> None:
    fill_in(tenant, user=owner, customers=(), sync_start="")
    page = no_js_page(new_context, live_server, owner.username)
    page.goto(step_path(tenant, "recurring-contract"))

    # The sync start is clicked but not saved; the search (a plain GET) must not save it.
    page.get_by_label(NEXT).check()
    box = page.get_by_label("Find a customer in Autotask")
    box.fill("Tail")
    with page.expect_navigation():
        box.press("Enter")  # Enter in the search box searches, never saves the step form
    assert page.url.endswith("?q=Tail#customers")
    expect(page.get_by_label("Find a customer in Autotask")).to_have_value("Tail")
    assert StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers.get(
        "sync_start", ""
    ) in ("", None)

    # The company (a plain link), then its contracts, then Choose (a post of the whole form).
    with page.expect_navigation():
        page.locator("#picker").get_by_role("link", name="Tailspin Toys", exact=True).click()
    assert page.url.endswith("#customers")
    expect(page.locator("#picker table caption")).to_contain_text("Contracts of Tailspin Toys")
    page.get_by_label(NEXT).check()
    click_and_load(page, "Choose contract 2003")
    assert "#customers" in page.url and "company=103" in page.url
    # Said where the person clicked (the page came back there), not on top.
    expect(page.locator("#rows-status")).to_contain_text(
        "Added Tailspin Toys #103 with Tailspin - Microsoft 365 #2003."
    )
    rows = page.locator("#list-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Tailspin Toys")
    expect(page.get_by_label("Find a customer in Autotask")).to_have_value("Tail")
    expect(page.get_by_label(NEXT)).to_be_checked()  # the other submitted value, kept
    answers = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers
    assert answers["sync_start"] == steps.SYNC_START_NEXT

    # A typed row for the same company asks; "Keep" keeps the listed one, and says so.
    page.get_by_label("Autotask company ID").fill("103")
    page.get_by_label("Autotask contract ID").fill("2014")
    click_and_load(page, "Add")
    expect(page.locator("#row-question .collision")).to_contain_text(
        "Tailspin Toys (#103) is already listed with contract #2003 (Tailspin - Microsoft 365)."
    )
    click_and_load(page, "Keep contract #2003")
    expect(page.locator("#rows-status")).to_contain_text("Kept the row already listed")
    expect(rows).to_have_count(1)

    # Tick the checklist, save, verify: the step is done.
    for item in steps.STEPS_BY_KEY["recurring-contract"].checklist:
        page.get_by_label(item.text).check()
    click_and_load(page, "Save")
    expect(page.locator(".messages")).to_contain_text("Saved.")
    with page.expect_navigation():
        page.locator("#verification").get_by_role("button", name="Verify now").click()
    expect(page.locator(".messages")).to_contain_text("Verified against Autotask")
    expect(page.locator("#step-status")).to_contain_text("This step is done.")
    assert state(tenant, "recurring-contract") == "done"
