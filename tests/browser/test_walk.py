"""The partner's walk through the wizard in a real Chromium: htmx, no JavaScript, keyboard only.

Verification against Autotask is not part of these walks: the verifying steps stay at
"Waiting for verification", which is what a partner sees until it runs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, login, shot
from wizard import steps
from wizard.autotask.dates import today_in
from wizard.models import AutotaskCredential, StepProgress, Tenant

pytestmark = pytest.mark.browser

API_USERNAME = "ab1cdef2ghijk3l@northwind.example"
SECRET = "Br0wser-Secret#never-shown-9Q"
EXISTING_INSTRUCTION = "Sign in to Autotask Home with the login you already have."


def step_path(tenant: Tenant, key: str) -> str:
    return f"/t/{tenant.code}/{key}/"


def nav_badges(page: Page) -> dict[str, str]:
    """Step key -> the badge text in the side navigation."""
    out = {}
    for key in steps.STEP_KEYS:
        out[key] = page.locator(f"#step-nav a[href$='/{key}/'] .badge").inner_text().strip()
    return out


def badge(page: Page, key: str) -> str:
    return nav_badges(page)[key]


def checked_boxes(page: Page) -> list[str]:
    boxes = page.locator("fieldset.checklist input[type=checkbox]:checked")
    return sorted(boxes.evaluate_all("els => els.map(e => e.value)"))


def mark_page(page: Page) -> None:
    """Set a marker that a full page load would wipe (to prove htmx did not reload)."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def htmx_idle(page: Page) -> None:
    """Wait until htmx has no request in flight and has settled the last swap.

    New content only gets its htmx behaviour when the swap settles (20 ms later), so a tick
    sent before that would not be saved through htmx.
    """
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def state(tenant: Tenant, key: str) -> str:
    return StepProgress.objects.get(tenant=tenant, step_key=key).state


def save_and_continue(page: Page, tenant: Tenant, to_key: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**{step_path(tenant, to_key)}")
    expect(page.locator("#step-title")).to_have_text(steps.STEPS_BY_KEY[to_key].title)
    htmx_idle(page)


def back(page: Page, tenant: Tenant, to_key: str) -> None:
    page.get_by_role("button", name="Back").click()
    page.wait_for_url(f"**{step_path(tenant, to_key)}")
    expect(page.locator("#step-title")).to_have_text(steps.STEPS_BY_KEY[to_key].title)
    htmx_idle(page)


def tick(page: Page, label: str, expected_status: str) -> None:
    """Tick one checklist box; htmx saves it and updates the status without a reload."""
    page.get_by_label(label, exact=True).check()
    expect(page.locator("#step-status")).to_contain_text(expected_status)
    htmx_idle(page)


def test_partner_walk(
    new_context: Callable[..., BrowserContext],
    live_server,
    tenant: Tenant,
    other_tenant: Tenant,
    console: ConsoleLog,
) -> None:
    # A partner in Sydney, the distributor's home market (the browser's time zone matters).
    page = new_context(timezone_id="Australia/Sydney").new_page()
    # Log in through the form; a partner with one tenant lands on its first unfinished step.
    page.goto("/accounts/login/")
    shot(page, "login")
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")
    expect(page.locator("#step-title")).to_have_text("Your Autotask account")
    expect(page.locator("#wizard-progress")).to_have_attribute("value", "0")

    # Step 1: the branch radio re-renders the step through htmx (no reload).
    mark_page(page)
    page.get_by_label("We already use Autotask").check()
    expect(page.get_by_text(EXISTING_INSTRUCTION)).to_be_visible()  # only on that branch
    expect(page.locator("#step-status")).to_contain_text("Checklist: 0 of 2 ticked")
    expect(page.locator("#step-nav a[href$='/account/'] .badge")).to_have_text("In progress")
    htmx_idle(page)
    assert_same_document(page)
    assert state(tenant, "account") == "in_progress"

    # Each tick saves at once and updates the status and the side navigation.
    tick(page, "I can sign in to Autotask Home.", "Checklist: 1 of 2 ticked")
    assert badge(page, "account") == "In progress"
    tick(page, "I can open the Admin menu in Autotask.", "Checklist: 2 of 2 ticked")
    expect(page.locator("#step-nav a[href$='/account/'] .badge")).to_have_text("Done")
    expect(page.locator("#step-status")).to_contain_text("This step is done.")
    expect(page.locator("label[for=wizard-progress]")).to_have_text("1 of 6 steps finished")
    assert_same_document(page)
    assert state(tenant, "account") == "done"
    shot(page, "step-account")
    save_and_continue(page, tenant, "security-level")

    # Step 2: some boxes ticked; the step then waits for verification against Autotask.
    tick(page, f"I copied '{steps.DEFAULT_LEVEL_NAME}'.", "Checklist: 1 of 10 ticked")
    tick(page, "I named the copy and noted the name.", "Checklist: 2 of 10 ticked")
    tick(page, "I clicked No Permissions in every area first.", "Checklist: 3 of 10 ticked")
    expect(page.locator("#step-status")).to_contain_text("Waiting for verification")
    expect(page.locator("#step-nav a[href$='/security-level/'] .badge")).to_have_text("In progress")
    security_ticks = checked_boxes(page)
    assert security_ticks == ["level-copied", "level-named", "no-permissions"]
    shot(page, "step-security-level")
    save_and_continue(page, tenant, "api-user")

    # Step 3: a typed username survives Back and Next.
    page.get_by_label("API user Username").fill(API_USERNAME)
    back(page, tenant, "security-level")
    assert checked_boxes(page) == security_ticks
    save_and_continue(page, tenant, "api-user")
    expect(page.get_by_label("API user Username")).to_have_value(API_USERNAME)
    expect(page.locator("#step-status")).to_contain_text("Enter the API user's Secret.")
    shot(page, "step-api-user")
    save_and_continue(page, tenant, "recurring-contract")

    # Step 4: the sync start and a contract row typed (not even added) survive Back and Next.
    page.get_by_label(steps.SYNC_START_CHOICES[0][1]).check()
    page.get_by_label("Autotask company ID").fill("101")
    page.get_by_label("Autotask contract ID").fill("2001")
    back(page, tenant, "api-user")
    expect(page.get_by_label("API user Username")).to_have_value(API_USERNAME)
    save_and_continue(page, tenant, "recurring-contract")
    expect(page.get_by_label(steps.SYNC_START_CHOICES[0][1])).to_be_checked()
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("#101")
    expect(rows.first).to_contain_text("#2001")
    expect(page.get_by_label("Autotask company ID")).to_have_value("")

    # The computed first day of usage, for each choice of sync start, in the tenant's time zone
    # (preselected from the browser's, and saved with the branch's autosave in step 1).
    time_zone = Tenant.objects.get(pk=tenant.pk).time_zone
    assert time_zone == "Australia/Sydney"
    today = today_in(time_zone)
    for value, label in steps.SYNC_START_CHOICES:
        page.get_by_label(label).check()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messages")).to_contain_text("Saved.")
        htmx_idle(page)
        expected = steps.first_usage_date(value, today)
        computed = page.locator("p.computed")
        expect(computed).to_contain_text("First day of usage")
        expect(computed.locator("time")).to_have_attribute("datetime", expected.isoformat())
    assert steps.first_usage_date(steps.SYNC_START_NEXT, today) == today.replace(day=1)
    expect(page.locator("#step-status")).to_contain_text("Waiting for verification")
    assert_same_document(page)  # steps 1 to 4 all through htmx, without a page load
    shot(page, "step-recurring-contract")
    save_and_continue(page, tenant, "annual-contract")

    # Step 5: skipped, with its consequence stated before and after.
    consequence = steps.STEPS_BY_KEY["annual-contract"].skip_consequence
    expect(page.locator("form.skip")).to_contain_text(consequence)
    shot(page, "step-annual-contract")
    with page.expect_navigation():
        page.get_by_role("button", name="Skip this step").click()
    page.wait_for_url(f"**{step_path(tenant, 'review')}")
    expect(page.locator(".messages")).to_contain_text("Skipped: Seat Based Annual contracts.")
    expect(page.locator(".messages")).to_contain_text(consequence)
    assert badge(page, "annual-contract") == "Skipped"
    shot(page, "step-review")
    page.locator("#step-nav a[href$='/annual-contract/']").click()
    page.wait_for_url(f"**{step_path(tenant, 'annual-contract')}")
    expect(page.locator(".notice")).to_contain_text("You skipped this step.")
    expect(page.locator(".notice")).to_contain_text(consequence)
    assert state(tenant, "annual-contract") == "skipped"

    owner_badges = nav_badges(page)
    assert owner_badges == {
        "account": "Done",
        "security-level": "In progress",
        "api-user": "In progress",
        "recurring-contract": "In progress",
        "annual-contract": "Skipped",
        "review": "Not started",
    }

    # Log out from the top bar; logging back in resumes at the first unfinished step.
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(step_path(tenant, "account"))
    assert "/accounts/login/" in page.url  # really logged out
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    assert checked_boxes(page) == security_ticks

    # A colleague (member of the same tenant) sees the same progress and answers.
    colleague = new_context().new_page()
    login(colleague, live_server, "member")
    colleague.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    assert nav_badges(colleague) == owner_badges
    assert checked_boxes(colleague) == security_ticks
    colleague.goto(step_path(tenant, "account"))
    expect(colleague.get_by_label("We already use Autotask")).to_be_checked()
    colleague.goto(step_path(tenant, "api-user"))
    expect(colleague.get_by_label("API user Username")).to_have_value(API_USERNAME)
    colleague.goto(step_path(tenant, "recurring-contract"))
    expect(colleague.get_by_label(steps.SYNC_START_CHOICES[1][1])).to_be_checked()
    expect(colleague.locator("table.grid tbody tr")).to_have_count(1)

    # Someone from another tenant gets a 404 for every URL of this one.
    console.allow(rf"status of 404 .* @ {live_server.url}/t/{tenant.code}/")
    outsider = new_context().new_page()
    login(outsider, live_server, "outsider")
    outsider.wait_for_url(f"**{step_path(other_tenant, 'account')}")
    for path in (f"/t/{tenant.code}/", step_path(tenant, "account")):
        response = outsider.goto(path)
        assert response is not None and response.status == 404, path
        expect(outsider.get_by_role("heading", name="Not Found")).to_be_visible()
        assert "Northwind IT" not in outsider.content()


def test_secret_is_never_rendered_back(page: Page, live_server, tenant: Tenant) -> None:
    login(page, live_server, "owner")
    page.goto(step_path(tenant, "api-user"))
    secret_field = page.get_by_label("API user Secret")
    expect(secret_field).to_have_attribute("type", "password")
    page.get_by_label("API user Username").fill(API_USERNAME)
    secret_field.fill(SECRET)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    expect(page.get_by_text("A Secret is stored.")).to_be_visible()
    htmx_idle(page)
    assert AutotaskCredential.objects.filter(tenant=tenant, username=API_USERNAME).exists()

    assert SECRET not in page.content()
    expect(page.get_by_label("API user Secret")).to_have_value("")
    # htmx keeps page snapshots for its history cache in localStorage.
    assert SECRET not in page.evaluate("JSON.stringify(window.localStorage)")
    page.reload()
    assert SECRET not in page.content()
    save_and_continue(page, tenant, "recurring-contract")
    back(page, tenant, "api-user")
    assert SECRET not in page.content()
    expect(page.get_by_label("API user Username")).to_have_value(API_USERNAME)


def test_walk_without_javascript(
    new_context: Callable[..., BrowserContext], live_server, tenant: Tenant
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")

    # Without JavaScript nothing is preselected: the partner picks the time zone from the list.
    zone = page.get_by_label("Your Autotask's time zone")
    expect(zone).to_have_value("")
    expect(page.locator("[data-time-zone-note]")).to_be_hidden()
    zone.select_option("Pacific/Auckland")
    # Choose the branch and save: a plain form post and redirect.
    page.get_by_label("We already use Autotask").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    assert Tenant.objects.get(pk=tenant.pk).time_zone == "Pacific/Auckland"
    expect(page.get_by_label("Your Autotask's time zone")).to_have_value("Pacific/Auckland")
    expect(page.get_by_text(EXISTING_INSTRUCTION)).to_be_visible()
    expect(page.locator("#step-status")).to_contain_text("Checklist: 0 of 2 ticked")

    # Tick the checklist (not saved yet without htmx) and save with the step's form.
    page.get_by_label("I can sign in to Autotask Home.").check()
    page.get_by_label("I can open the Admin menu in Autotask.").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    assert state(tenant, "account") == "done"
    assert badge(page, "account") == "Done"

    # Progress persists: a fresh load (and a fresh login) shows it.
    page.goto(f"/t/{tenant.code}/")
    page.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    page.goto(step_path(tenant, "account"))
    expect(page.get_by_label("We already use Autotask")).to_be_checked()
    assert checked_boxes(page) == ["admin-access", "signed-in"]
    expect(page.locator("#step-status")).to_contain_text("This step is done.")


def focused(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        )
    )


def tab_to(page: Page, selector: str, limit: int = 60) -> int:
    """Press Tab until the element matching ``selector`` has the focus; return the presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return presses
    pytest.fail(f"{selector} never got the focus after {limit} Tab presses", pytrace=False)


def test_account_step_with_the_keyboard_only(page: Page, live_server, tenant: Tenant) -> None:
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")
    account = steps.STEPS_BY_KEY["account"]

    # The first radio of the group takes the focus on Tab; Space chooses it (htmx re-renders).
    tab_to(page, "input[name=branch]")
    assert focused(page, "#id_branch_0")
    page.keyboard.press("Space")
    expect(page.get_by_text(account.checklist[0].text)).to_be_visible()  # the "new" branch
    expect(page.locator("#step-status")).to_contain_text("Checklist: 0 of 3 ticked")
    htmx_idle(page)
    # htmx swapped the whole step: the focus must stay on the radio, not fall back to <body>.
    assert focused(page, "#id_branch_0"), "focus was lost after the htmx swap"

    items = account.checklist_for("new")
    for n, item in enumerate(items, start=1):
        tab_to(page, f"input[type=checkbox][value='{item.id}']", limit=10)
        page.keyboard.press("Space")
        expect(page.locator("#step-status")).to_contain_text(
            f"Checklist: {n} of {len(items)} ticked"
        )
        htmx_idle(page)

    tab_to(page, "button[value=next]", limit=10)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{step_path(tenant, 'security-level')}")
    assert state(tenant, "account") == "done"
    assert badge(page, "account") == "Done"
