"""Issue 14, point 7: the customer picker sits with the list and works in place.

Choose adds the row without a reload: the page does not jump, the search stays, and a choice
clicked but not saved elsewhere in the form stays as it was. Typing is debounced, and the
keyboard alone is enough.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import login, shot
from tests.browser.test_walk import (
    assert_same_document,
    focused,
    htmx_idle,
    mark_page,
    step_path,
    tab_to,
)
from tests.factories import fill_in
from wizard import services, steps
from wizard.models import StepProgress

pytestmark = pytest.mark.browser

MOST_RECENT = dict(steps.SYNC_START_CHOICES)[steps.SYNC_START_MOST_RECENT]


def wait_focus(page: Page, selector: str) -> None:
    """Wait until the element matching ``selector`` has the focus (set when htmx settles)."""
    page.wait_for_function(
        "s => !!document.activeElement && document.activeElement.matches(s)", arg=selector
    )


def stored(tenant) -> dict[str, Any]:
    answers: dict[str, Any] = StepProgress.objects.get(
        tenant=tenant, step_key="recurring-contract"
    ).answers
    return answers


def open_step(page: Page, live_server, tenant, owner) -> list[str]:
    """Log in, open the step; return the list of picker/rows requests, as they are sent."""
    login(page, live_server, owner.username)
    page.goto(live_server.url + step_path(tenant, "recurring-contract"))
    htmx_idle(page)
    sent: list[str] = []

    def record(request: Request) -> None:
        if "/picker/" in request.url or "/rows/" in request.url:
            sent.append(request.url)

    page.on("request", record)
    mark_page(page)
    return sent


def test_choose_adds_the_row_in_place_and_keeps_everything_else(
    page: Page, live_server, autotask_sandbox, tenant, owner
) -> None:
    fill_in(tenant, user=owner, customers=((101, 2001),), sync_start=steps.SYNC_START_NEXT)
    # The names an earlier verification read for the typed row (as in test_step_inputs).
    services.list_names_fill(
        tenant=tenant, companies={101: "Contoso Ltd"}, contracts={2001: "Contoso - Managed Cloud"}
    )
    sent = open_step(page, live_server, tenant, owner)

    # The search is by the list, not ~1,800 px below the form.
    list_top = page.locator("#list-rows").bounding_box()
    search_top = page.get_by_label("Find a customer in Autotask").bounding_box()
    assert list_top and search_top and 0 < search_top["y"] - list_top["y"] < 400

    # An unsaved choice elsewhere in the form.
    page.get_by_label(MOST_RECENT).check()

    box = page.get_by_label("Find a customer in Autotask")
    box.scroll_into_view_if_needed()
    # A quick typist: 8 keys 60 ms apart, well inside the 400 ms debounce: one search.
    box.press_sequentially("Tailspin", delay=60)
    link = page.locator("#picker").get_by_role("link", name="Tailspin Toys", exact=True)
    expect(link).to_be_visible()
    htmx_idle(page)
    searches = [u for u in sent if "/picker/" in u]
    assert 1 <= len(searches) <= 2, searches  # a loaded machine may hold one key back
    assert searches[-1].endswith("q=Tailspin")

    link.click()
    expect(page.locator("#picker table caption")).to_contain_text("Contracts of Tailspin Toys")
    htmx_idle(page)
    choose = page.get_by_role("button", name="Choose contract 2003", exact=True)
    choose.scroll_into_view_if_needed()
    table = page.locator("#picker table")
    before = (page.evaluate("window.scrollY"), table.bounding_box())

    choose.click()
    expect(page.locator("#rows-status")).to_have_text(
        "Added Tailspin Toys #103 with Tailspin - Microsoft 365 #2003."
    )
    htmx_idle(page)
    assert_same_document(page)
    rows = page.locator("#list-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Tailspin Toys")
    # Nothing moved, nothing lost: not back to the top, the contracts where they were on the
    # screen (give or take the new row, if the browser does not anchor the scroll), the
    # search, the unsaved choice.
    after = (page.evaluate("window.scrollY"), table.bounding_box())
    assert after[0] > 200, after
    assert before[1] and after[1] and abs(after[1]["y"] - before[1]["y"]) < 60, (before, after)
    expect(page.get_by_label("Find a customer in Autotask")).to_have_value("Tailspin")
    expect(page.locator("#picker table caption")).to_contain_text("Contracts of Tailspin Toys")
    expect(page.get_by_label(MOST_RECENT)).to_be_checked()
    answers = stored(tenant)
    assert answers["sync_start"] == steps.SYNC_START_NEXT  # still unsaved, as the person left it
    assert [(r["company_id"], r["contract_id"]) for r in answers["customers"]] == [
        (101, 2001),
        (103, 2003),
    ]
    wait_focus(page, "#rows-status")  # focus on what happened, announced (aria-live)
    shot(page, "step-recurring-contract-picker")

    # The same company again asks, in place; Keep keeps the listed row.
    page.get_by_role("button", name="Choose contract 2014", exact=True).click()
    question = page.locator("#row-question .collision")
    expect(question).to_contain_text("Tailspin Toys (#103) is already listed with contract #2003")
    wait_focus(page, "#row-question [data-focus-first]")
    page.get_by_role("button", name="Keep contract #2003", exact=True).click()
    expect(question).to_have_count(0)
    expect(page.locator("#rows-status")).to_contain_text("Kept the row already listed")
    assert_same_document(page)
    assert len(stored(tenant)["customers"]) == 2
    expect(page.get_by_label(MOST_RECENT)).to_be_checked()


def test_the_picker_works_with_the_keyboard_alone(
    page: Page, live_server, autotask_sandbox, tenant, owner, console
) -> None:
    # Enter right after typing replaces the debounced search still on its way (hx-sync
    # replace), which htmx reports on the console; that abort is intended.
    console.allow(r"htmx:(sendAbort|afterRequest)")
    fill_in(tenant, user=owner, customers=(), sync_start=steps.SYNC_START_NEXT)
    open_step(page, live_server, tenant, owner)

    tab_to(page, "#picker-q")
    page.keyboard.type("Wingtip")
    page.keyboard.press("Enter")  # searches (its own form): never saves the step form
    link = page.locator("#picker").get_by_role("link", name="Wingtip Toys", exact=True)
    expect(link).to_be_visible()
    htmx_idle(page)
    assert_same_document(page)

    tab_to(page, "#picker-results a[data-picker-company]")
    page.keyboard.press("Enter")
    expect(page.locator("#picker table caption")).to_contain_text("Contracts of Wingtip Toys")
    htmx_idle(page)
    # The link is gone with the swap: the focus is on the first Choose button, not lost.
    wait_focus(page, "#picker-results button[data-rows-action]")
    page.keyboard.press("Enter")
    expect(page.locator("#rows-status")).to_contain_text("Added Wingtip Toys #106")
    wait_focus(page, "#rows-status")
    assert_same_document(page)
    assert [r["contract_id"] for r in stored(tenant)["customers"]] == [2006]
    # The status sits right below the contracts: Shift+Tab is back at their Choose buttons.
    page.keyboard.press("Shift+Tab")
    assert focused(page, "#picker-results button[data-rows-action]")
