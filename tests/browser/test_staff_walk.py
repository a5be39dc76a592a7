"""Distributor staff in a real Chromium: the account manager's dashboard and tenant detail, an
admin's reset of a stuck tenant (with its reason, audited and mailed), and the partner resuming.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import ConsoleLog, login, shot
from tests.browser.test_walk import nav_badges, step_path
from tests.conftest import make_user
from wizard import services, steps
from wizard.models import AuditEvent, AutotaskCredential, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.browser

HEALTHY = "healthy@sandbox.example"
REASON = "The partner created a second API user by mistake; start again from step 3."


def finish_account(tenant: Tenant, user: User | None) -> None:
    services.step_answers_save(
        tenant=tenant, step_key="account", user=user, changes={"branch": "existing"}, seen={}
    )
    # The sandbox's healthy tenant works in Sydney.
    services.tenant_time_zone_save(tenant=tenant, user=user, time_zone="Australia/Sydney", seen="")
    services.checklist_update(
        tenant=tenant,
        step_key="account",
        user=user,
        ticked=[i.id for i in steps.STEPS_BY_KEY["account"].checklist_for("existing")],
    )


def tick_everything(tenant: Tenant, key: str, user: User) -> None:
    services.checklist_update(
        tenant=tenant,
        step_key=key,
        user=user,
        ticked=[i.id for i in steps.STEPS_BY_KEY[key].checklist],
    )


def make_stuck(tenant: Tenant, owner: User) -> None:
    """Steps 1-3 done and verified against the sandbox, a failing contract on step 4, and then
    nothing for 30 days."""
    finish_account(tenant, owner)
    tick_everything(tenant, "security-level", owner)
    services.credentials_save(tenant=tenant, user=owner, username=HEALTHY, secret=SANDBOX_SECRET)
    tick_everything(tenant, "api-user", owner)
    for key in ("api-user", "security-level"):
        services.step_verify(tenant=tenant, step_key=key, user=owner)
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=owner,
        changes={"sync_start": steps.SYNC_START_NEXT},
        seen={},
    )
    services.answer_list_add(
        tenant=tenant,
        step_key="recurring-contract",
        user=owner,
        field="customers",
        item={
            "company_id": 106,
            "company_name": "Wingtip Toys",
            "contract_id": 2006,
            "contract_name": "Wingtip - Cloud Services",
        },
        key="contract_id",
    )
    services.step_verify(tenant=tenant, step_key="recurring-contract", user=owner)
    month_ago = timezone.now() - datetime.timedelta(days=30)
    Tenant.objects.filter(pk=tenant.pk).update(last_activity_at=month_ago)


@pytest.fixture
def portfolio(
    tenant: Tenant, owner: User, account_manager: User, autotask_sandbox: None
) -> dict[str, Tenant]:
    """The account manager's tenants in several states, and one stuck tenant of someone else."""
    make_stuck(tenant, owner)
    on_track = services.tenant_create(name="Fabrikam Networks", owner=make_user("fabrikam"))
    finish_account(on_track, on_track.memberships.get().user)
    attention = services.tenant_create(name="Adventure MSP", owner=make_user("adventure"))
    finish_account(attention, None)
    services.verification_record(
        tenant=attention,
        step_key="security-level",
        user=None,
        results=[
            {
                "id": "rights.contracts",
                "status": "fail",
                "title": "The API user can edit Contracts",
                "evidence": "Contracts: edit access is None.",
                "fix": "Admin > Security Levels: CONTRACTS.",
                "subject": "",
                "error": "",
            }
        ],
    )
    fresh = services.tenant_create(name="Tailspin Cloud", owner=make_user("tailspin"))
    for t in (tenant, on_track, attention, fresh):
        Tenant.objects.filter(pk=t.pk).update(account_manager=account_manager)
    elsewhere = services.tenant_create(name="Litware Stuck Ltd", owner=make_user("litware"))
    finish_account(elsewhere, None)
    Tenant.objects.filter(pk=elsewhere.pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(days=60)
    )
    return {
        "stuck": tenant,
        "on_track": on_track,
        "attention": attention,
        "fresh": fresh,
        "elsewhere": elsewhere,
    }


def table_rows(page: Page) -> dict[str, str]:
    """Partner name -> its State badge, from the dashboard table."""
    out = {}
    for row in page.locator("table.tenants tbody tr").all():
        cells = row.locator("td")
        if cells.count() < 5:
            continue
        out[cells.nth(0).inner_text().strip()] = cells.nth(4).inner_text().strip()
    return out


def detail_step(page: Page, key: str) -> Any:
    return page.locator("ol.detail-steps > li").nth(steps.STEP_KEYS.index(key))


def test_account_manager_and_admin_reset_a_stuck_tenant(
    new_context: Callable[..., BrowserContext],
    live_server: Any,
    portfolio: dict[str, Tenant],
    wizard_admin: User,
    console: ConsoleLog,
) -> None:
    stuck = portfolio["stuck"]

    # The account manager lands on the dashboard: their four tenants, the funnel, the states.
    am = new_context().new_page()
    login(am, live_server, "am_browser")
    am.wait_for_url("**/manage/")
    expect(am.get_by_role("heading", name="Partner progress")).to_be_visible()
    expect(am.locator("#list-title")).to_contain_text("4 tenants")
    assert table_rows(am) == {
        "Adventure MSP": "Needs attention",
        "Fabrikam Networks": "On track",
        "Northwind IT": "Stuck",
        "Tailspin Cloud": "Not started",
    }
    funnel = am.locator(".funnel table tbody tr")
    expect(funnel).to_have_count(len(steps.STEPS) + 1)
    expect(funnel.first).to_contain_text("4")  # all four reached step 1
    expect(am.locator(".funnel svg rect.funnel-bar")).to_have_count(len(steps.STEPS) + 1)
    shot(am, "dashboard")

    # Filter: State = Stuck. Only the stuck tenant; someone else's stuck tenant is not listed.
    am.get_by_label("State", exact=True).select_option("stuck")
    with am.expect_navigation():
        am.get_by_role("button", name="Apply").click()
    assert "state=stuck" in am.url
    expect(am.get_by_label("State", exact=True)).to_have_value("stuck")
    expect(am.locator("#list-title")).to_contain_text("1 tenant")
    assert table_rows(am) == {"Northwind IT": "Stuck"}
    assert "Litware" not in am.content()

    # The tenant's detail: steps and their results, members, the audit trail; no reset.
    with am.expect_navigation():
        am.get_by_role("link", name="Northwind IT", exact=True).click()
    am.wait_for_url(f"**/manage/t/{stuck.code}/")
    expect(am.get_by_role("heading", name="Northwind IT", level=1)).to_be_visible()
    expect(am.locator("p.muted").first).to_contain_text("3 of 6 steps finished")
    contract = detail_step(am, "recurring-contract")
    expect(contract.locator("summary .badge")).to_have_text("Needs attention")
    expect(contract.locator("details")).to_have_attribute("open", "")  # open by itself
    expect(contract).to_contain_text("The contract starts on or before the first day")
    expect(detail_step(am, "api-user").locator("summary .badge")).to_have_text("Done")
    expect(am.locator("ol.audit")).to_contain_text("Verification run")
    expect(am.get_by_role("button", name="Reset from this step…")).to_have_count(0)
    expect(am.get_by_role("button", name="Reset the whole wizard…")).to_have_count(0)
    shot(am, "tenant-detail")
    # Even by URL, an account manager may not reset.
    console.allow(rf"status of 403 .* @ {live_server.url}/manage/t/{stuck.code}/reset/")
    response = am.goto(f"/manage/t/{stuck.code}/reset/?from_step=api-user")
    assert response is not None and response.status == 403

    # The admin opens the stuck tenant and resets it from the API user step.
    admin = new_context().new_page()
    login(admin, live_server, "wizard_admin")
    admin.wait_for_url("**/manage/")
    expect(admin.locator("#list-title")).to_contain_text("5 tenants")  # sees every tenant
    with admin.expect_navigation():
        admin.get_by_role("link", name="Northwind IT", exact=True).click()
    api_user = detail_step(admin, "api-user")
    api_user.locator("summary").click()
    with admin.expect_navigation():
        api_user.get_by_role("button", name="Reset from this step…").click()
    admin.wait_for_url(f"**/manage/t/{stuck.code}/reset/?from_step=api-user")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Reset from “The API user”")
    plan = admin.locator(".card table.grid tbody tr")
    expect(plan).to_have_count(4)
    cleared = [r.locator("td").first.inner_text() for r in plan.all()]
    assert cleared == [s.title for s in steps.STEPS[2:]]
    expect(plan.nth(0)).to_contain_text("Done")
    expect(plan.nth(1)).to_contain_text("Needs attention")
    notice = admin.locator(".card p.notice")
    expect(notice).to_contain_text(f"The stored API credentials of {HEALTHY} are deleted.")
    expect(notice).to_contain_text("must enter the Username and Secret again")
    shot(admin, "reset-confirm")

    # Without a reason: the browser refuses to send the form (the field is required)...
    reason = admin.get_by_label("Reason")
    admin.get_by_role("button", name="Reset", exact=True).click()
    assert reason.evaluate("e => e.validity.valueMissing")
    assert "/reset/" in admin.url
    # ...and only spaces get past the browser but not the server.
    reason.fill("   ")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Reset", exact=True).click()
    expect(admin.locator(".errorlist")).to_contain_text("This field is required.")
    assert AutotaskCredential.objects.filter(tenant=stuck).exists()
    assert not AuditEvent.objects.filter(tenant=stuck, action="wizard_reset").exists()

    # With a reason: done, audited, mailed to the owner.
    admin.get_by_label("Reason").fill(REASON)
    with admin.expect_navigation():
        admin.get_by_role("button", name="Reset", exact=True).click()
    admin.wait_for_url(f"**/manage/t/{stuck.code}/")
    expect(admin.locator(".messages")).to_contain_text("Reset from 'The API user'.")
    expect(admin.locator(".messages")).to_contain_text("owners")
    latest = admin.locator("ol.audit > li").first
    expect(latest).to_contain_text("Wizard reset")
    expect(latest).to_contain_text(f"Reason: {REASON}")
    expect(latest).to_contain_text("wizard_admin")
    expect(detail_step(admin, "api-user").locator("summary .badge")).to_have_text("Not started")
    expect(detail_step(admin, "security-level").locator("summary .badge")).to_have_text("Done")
    assert not AutotaskCredential.objects.filter(tenant=stuck).exists()
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert REASON in str(mail.outbox[0].body)

    # The partner comes back: the wizard resumes at the reset step, earlier steps still done.
    partner = new_context().new_page()
    login(partner, live_server, "owner")
    partner.wait_for_url(f"**{step_path(stuck, 'api-user')}")
    assert nav_badges(partner) == {
        "account": "Done",
        "security-level": "Done",
        "api-user": "Not started",
        "recurring-contract": "Not started",
        "annual-contract": "Not started",
        "review": "Not started",
    }
    expect(partner.get_by_label("API user Username")).to_have_value("")
    expect(partner.locator("#verification")).to_contain_text(
        "Save the Username and Secret above, then verify."
    )
    assert StepProgress.objects.get(tenant=stuck, step_key="recurring-contract").answers == {}
