"""Two people on one tenant at once, in two real browsers (issue 14, "Two people on one tenant").

The owner (A) and a member (B) of the same tenant each have their own browser context (their
own cookies), logged in at the same time. Each scenario is one test on the ``pair`` fixture;
the last one finishes the review: the colleague sees the wizard end without a reload, opens the
completion page, and the account manager reads the same hand-off as JSON.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.browser.conftest import login
from tests.browser.test_completion import ready_for_review
from tests.browser.test_verify_walk import tick_all, verify
from tests.browser.test_walk import assert_same_document, htmx_idle, mark_page, step_path
from wizard import crypto, services, steps
from wizard.models import AutotaskCredential, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.browser

SLOW = "slow@sandbox.example"  # the sandbox user whose every call takes 2 s longer
FIRST = "first@northwind.example"
# A page follows colleagues' changes within about 10 s (one poll); a little slack on a busy CI.
LIVE_MS = 14_000
VERIFY_MS = 40_000
RUNNING = "A verification of this step is already running"
HANDOFF_LINK = "Open the hand-off for Billing Sync"
CREDENTIALS_CHANGED = "A colleague saved new credentials after you opened this page."


@dataclass
class Pair:
    """A and B, each on their own page, on the same tenant."""

    tenant: Tenant
    a: Page  # the owner
    b: Page  # a member

    def open(self, page: Page, key: str) -> None:
        page.goto(step_path(self.tenant, key))
        expect(page.locator("#step-title")).to_have_text(steps.STEPS_BY_KEY[key].title)
        htmx_idle(page)

    def both_open(self, key: str) -> None:
        self.open(self.a, key)
        self.open(self.b, key)


def freeze(page: Page) -> None:
    """Stop the page's live updates (every poll answers "nothing changed"): the page stays as
    it was opened, as a laptop that slept would, so its next Save is a stale page's Save."""

    def unchanged(route: Route) -> None:
        route.fulfill(status=204, body="")

    page.route(re.compile(r"/live/\?v="), unchanged)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    htmx_idle(page)


def conflict_box(page: Page) -> Any:
    return page.locator(".notice.conflict")


@pytest.fixture
def pair(new_context: Callable[..., BrowserContext], live_server: Any, tenant: Tenant) -> Pair:
    a = new_context().new_page()
    b = new_context().new_page()
    login(a, live_server, "owner")
    login(b, live_server, "member")
    return Pair(tenant=tenant, a=a, b=b)


def test_a_stale_page_never_overwrites_a_colleague(pair: Pair, owner: Any) -> None:
    tenant, a, b = pair.tenant, pair.a, pair.b
    services.credentials_save(tenant=tenant, user=owner, username=FIRST, secret="Old-Secret-1")

    # --- The API user: Username and Secret ----------------------------------------------------
    pair.both_open("api-user")
    freeze(a)
    b.get_by_label("API user Username").fill("member@northwind.example")
    b.get_by_label("API user Secret").fill("Member-Secret-22")
    save(b)
    expect(b.locator(".messages")).to_contain_text("Saved.")

    a.get_by_label("API user Username").fill("owner@northwind.example")
    a.get_by_label("API user Secret").fill("Owner-Secret-11")
    save(a)
    expect(a.locator(".messages")).to_contain_text(CREDENTIALS_CHANGED)
    expect(a.locator(".messages")).not_to_contain_text("Saved.")
    box = conflict_box(a)
    expect(box).to_contain_text("API user Username: member@northwind.example")
    expect(box).to_contain_text("API user Secret: new credentials were saved (not shown)")
    expect(box).not_to_contain_text("username:")
    # What A typed is still there; the Secret field is empty, as always.
    expect(a.get_by_label("API user Username")).to_have_value("owner@northwind.example")
    expect(a.get_by_label("API user Secret")).to_have_value("")
    assert "Owner-Secret-11" not in a.content() and "Member-Secret-22" not in a.content()
    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert cred.username == "member@northwind.example"
    assert crypto.decrypt_secret(cred.secret_encrypted) == "Member-Secret-22"

    # --- A tick: A ticks (saved on the click), B unticks, A's stale page is saved -------------
    item = steps.STEPS_BY_KEY["api-user"].checklist[3]  # "Locked is unticked."
    pair.both_open("api-user")
    freeze(a)
    a.get_by_label(item.text, exact=True).check()
    htmx_idle(a)
    pair.open(b, "api-user")
    expect(b.get_by_label(item.text, exact=True)).to_be_checked()
    b.get_by_label(item.text, exact=True).uncheck()
    htmx_idle(b)
    assert item.id not in StepProgress.objects.get(tenant=tenant, step_key="api-user").checklist
    save(a)  # A's page still shows the tick
    assert item.id not in StepProgress.objects.get(tenant=tenant, step_key="api-user").checklist
    expect(a.get_by_label(item.text, exact=True)).not_to_be_checked()
    expect(a.locator(".messages")).to_contain_text(
        f"A colleague changed the checklist after you opened this page, and their change is "
        f"kept: \u201c{item.text}\u201d is not ticked."
    )

    # --- A radio answer, with ticks in the same Save ------------------------------------------
    pair.both_open("recurring-contract")
    freeze(a)
    b.get_by_label(steps.SYNC_START_CHOICES[1][1]).check()  # the next invoice
    save(b)
    expect(b.locator(".messages")).to_contain_text("Saved.")
    a.get_by_label(steps.SYNC_START_CHOICES[0][1]).check()  # the most recent invoice
    a_tick = steps.STEPS_BY_KEY["recurring-contract"].checklist[0]
    # This tick is not saved on the click (its request answers "nothing"): it goes with the Save.
    a.route("**/checklist/", lambda route: route.fulfill(status=204, body=""))
    a.get_by_label(a_tick.text, exact=True).check()
    save(a)
    expect(a.locator(".messages")).to_contain_text("A colleague saved a different answer")
    expect(conflict_box(a)).to_contain_text(
        "Billing Sync will start with: The next invoice (issued next month)"
    )
    expect(conflict_box(a)).not_to_contain_text("sync_start")
    expect(a.get_by_label(steps.SYNC_START_CHOICES[0][1])).to_be_checked()  # A's choice kept
    expect(a.get_by_label(a_tick.text, exact=True)).to_be_checked()
    progress = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract")
    assert progress.answers["sync_start"] == "next"
    assert progress.checklist == []  # nothing of a refused Save is stored
    a.unroute("**/checklist/")

    # --- Contract rows: both type the same contract for different companies ------------------
    pair.both_open("recurring-contract")
    freeze(a)
    b.get_by_label("Autotask company ID").fill("101")
    b.get_by_label("Autotask contract ID").fill("2003")
    b.get_by_role("button", name="Add", exact=True).click()
    htmx_idle(b)
    expect(b.locator("table.grid tbody tr")).to_have_count(1)
    a.get_by_label("Autotask company ID").fill("110")
    a.get_by_label("Autotask contract ID").fill("2003")
    a.get_by_role("button", name="Add", exact=True).click()
    htmx_idle(a)
    expect(conflict_box(a)).to_contain_text(
        "Customers to sync and their Recurring Service contracts: Company #101 / Contract #2003"
    )
    expect(a.locator(".messages")).not_to_contain_text("Saved.")
    expect(a.get_by_label("Autotask company ID")).to_have_value("110")
    rows = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers[
        "customers"
    ]
    assert [(r["company_id"], r["contract_id"]) for r in rows] == [(101, 2003)]


def test_a_colleagues_changes_appear_without_a_reload(pair: Pair, owner: Any) -> None:
    tenant, a, b = pair.tenant, pair.a, pair.b
    pair.both_open("api-user")
    mark_page(b)
    # B is typing a Username (not saved) while A works.
    username = b.get_by_label("API user Username")
    username.fill("typing-in-progress@northwind")
    username.focus()

    item = steps.STEPS_BY_KEY["api-user"].checklist[0]
    a.get_by_label(item.text, exact=True).check()
    htmx_idle(a)
    services.step_skip(tenant=tenant, step_key="security-level", user=owner)  # A, elsewhere

    # Within one poll B sees the tick, the step's state and the navigation change...
    expect(b.get_by_label(item.text, exact=True)).to_be_checked(timeout=LIVE_MS)
    expect(b.locator("#step-status")).to_contain_text("Checklist: 1 of 7 ticked")
    expect(b.locator("#step-nav a[href$='/api-user/'] .badge")).to_have_text("In progress")
    expect(b.locator("#step-nav a[href$='/security-level/'] .badge")).to_have_text("Skipped")
    # ...without a reload, and without losing what B was typing (nor the focus).
    assert_same_document(b)
    expect(username).to_have_value("typing-in-progress@northwind")
    expect(username).to_be_focused()

    # B's own Save then takes only B's change: A's tick stays.
    username.fill("member@northwind.example")
    save(b)
    expect(b.locator(".messages")).to_contain_text("Saved.")
    assert StepProgress.objects.get(tenant=tenant, step_key="api-user").checklist == [item.id]


def test_two_verify_at_once_and_already_running_turns_into_results(
    pair: Pair, owner: Any, autotask_sandbox: None
) -> None:
    tenant, a, b = pair.tenant, pair.a, pair.b
    services.credentials_save(tenant=tenant, user=owner, username=SLOW, secret=SANDBOX_SECRET)
    pair.both_open("api-user")
    mark_page(b)

    a.locator("#verification").get_by_role("button", name="Verify now").click()
    # A's run holds the step (it takes several slow Autotask calls).
    a.wait_for_function("() => document.querySelector('#verify-progress.htmx-request')")
    _wait_until(
        lambda: (
            StepProgress.objects.get(tenant=tenant, step_key="api-user").verification_started_at
            is not None
        )
    )
    b.locator("#verification").get_by_role("button", name="Verify now").click()
    htmx_idle(b)
    notice = b.locator("#verification .verification-running")
    expect(notice).to_contain_text(RUNNING)

    # A gets the results of the one run...
    expect(a.locator(".messages")).to_contain_text("Verified against Autotask", timeout=VERIFY_MS)
    # ...and on B's page the notice turns into the same results, without a reload.
    expect(notice).to_have_count(0, timeout=LIVE_MS)
    expect(b.locator("#verification")).to_contain_text("Last verified")
    expect(b.locator("#verification .result-group").first).to_be_visible()
    assert_same_document(b)
    runs = StepProgress.objects.get(tenant=tenant, step_key="api-user")
    assert runs.check_results and runs.verification_started_at is None


def test_one_finishes_the_review_and_the_other_takes_the_hand_off(
    pair: Pair,
    owner: Any,
    account_manager: Any,
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    autotask_sandbox: None,
) -> None:
    tenant = pair.tenant
    Tenant.objects.filter(pk=tenant.pk).update(account_manager=account_manager)
    ready_for_review(tenant, owner)
    pair.both_open("review")
    expect(pair.b.get_by_role("link", name=HANDOFF_LINK)).to_have_count(0)
    mark_page(pair.b)

    # A ticks the review's boxes and verifies; B only watches.
    tick_all(pair.a, "review")
    verify(pair.a, "review")
    expect(pair.a.locator("#step-status")).to_contain_text("Your setup is complete.")
    expect(pair.b.locator("#step-status")).to_contain_text(
        "Your setup is complete.", timeout=LIVE_MS
    )
    assert_same_document(pair.b)  # followed live, not reloaded

    # B opens the completion page from the live status: what Billing Sync asks for.
    with pair.b.expect_navigation():
        pair.b.get_by_role("link", name=HANDOFF_LINK).click()
    pair.b.wait_for_url(f"**/t/{tenant.code}/done/")
    facts = pair.b.locator("dl.handoff-facts")
    expect(facts).to_contain_text("healthy@sandbox.example")
    rows = pair.b.locator("table.handoff-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Contoso - Managed Cloud")
    assert SANDBOX_SECRET not in pair.b.content()

    # The account manager: the same hand-off, as JSON for the distributor's tooling.
    staff = new_context().new_page()
    login(staff, live_server, account_manager.get_username())
    response = staff.goto(f"/api/v1/tenants/{tenant.code}/")
    assert response is not None and response.status == 200
    assert SANDBOX_SECRET not in response.text()
    handoff = response.json()["handoff"]
    assert handoff["api_username"] == "healthy@sandbox.example"
    assert [c["company"]["id"] for c in handoff["recurring_contracts"]] == [101, 102]
    assert handoff["verified_at"] is not None


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the condition")
