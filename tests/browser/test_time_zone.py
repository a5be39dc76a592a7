"""The account step preselects the browser's time zone (static script, no inline code) and
saves it; a stored zone is never overwritten by the browser's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import login
from tests.browser.test_walk import htmx_idle, step_path
from wizard import services
from wizard.models import AuditEvent, Tenant

pytestmark = pytest.mark.browser

LABEL = "Your Autotask's time zone"


@pytest.mark.parametrize(
    "browser_zone", ["Australia/Sydney", "Pacific/Auckland", "America/New_York"]
)
def test_the_browsers_time_zone_is_preselected_and_saved(
    new_context: Callable[..., BrowserContext], live_server, tenant: Tenant, browser_zone: str
) -> None:
    page = new_context(timezone_id=browser_zone).new_page()
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")
    htmx_idle(page)

    select = page.get_by_label(LABEL)
    expect(select).to_have_value(browser_zone)
    expect(page.get_by_text("Preselected from your browser's time zone")).to_be_visible()
    # Preselected only: nothing is stored until the person saves.
    assert Tenant.objects.get(pk=tenant.pk).time_zone == ""

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Saved.")
    htmx_idle(page)
    assert Tenant.objects.get(pk=tenant.pk).time_zone == browser_zone
    event = AuditEvent.objects.filter(tenant=tenant, step_key="account").first()
    assert event is not None and event.detail.get("time_zone") == browser_zone

    # Stored now: the page shows it from the server, without the "preselected" note.
    page.reload()
    expect(page.get_by_label(LABEL)).to_have_value(browser_zone)
    expect(page.get_by_text("Preselected from your browser's time zone")).to_have_count(0)
    expect(page.locator("#step-status")).not_to_contain_text("Choose the time zone")


def test_a_stored_time_zone_wins_over_the_browsers(
    new_context: Callable[..., BrowserContext], live_server, tenant: Tenant, owner
) -> None:
    services.tenant_time_zone_save(tenant=tenant, user=owner, time_zone="Australia/Perth", seen="")
    page = new_context(timezone_id="America/New_York").new_page()
    login(page, live_server, "owner")
    page.goto(step_path(tenant, "account"))
    htmx_idle(page)
    expect(page.get_by_label(LABEL)).to_have_value("Australia/Perth")
    # An htmx re-render (choosing the branch) keeps it too.
    page.get_by_label("We already use Autotask").check()
    expect(page.locator("#step-status")).to_contain_text("Checklist: 0 of 2 ticked")
    htmx_idle(page)
    expect(page.get_by_label(LABEL)).to_have_value("Australia/Perth")
    assert Tenant.objects.get(pk=tenant.pk).time_zone == "Australia/Perth"


def test_the_person_can_choose_another_zone_than_the_browsers(
    new_context: Callable[..., BrowserContext], live_server, tenant: Tenant
) -> None:
    # The partner travels: the browser is in London, their Autotask works in Brisbane.
    page = new_context(timezone_id="Europe/London").new_page()
    login(page, live_server, "owner")
    page.wait_for_url(f"**{step_path(tenant, 'account')}")
    htmx_idle(page)
    select = page.get_by_label(LABEL)
    expect(select).to_have_value("Europe/London")
    select.select_option("Australia/Brisbane")  # change: saved through htmx at once
    expect(page.locator("#step-status")).not_to_contain_text("Choose the time zone")
    htmx_idle(page)
    assert Tenant.objects.get(pk=tenant.pk).time_zone == "Australia/Brisbane"
    expect(page.get_by_label(LABEL)).to_have_value("Australia/Brisbane")
