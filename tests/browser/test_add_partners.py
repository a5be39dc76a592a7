"""An account manager brings partners in, in a real Chromium: one through the form, then 200
from a CSV file (preview, confirm), and the same file again, which changes nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import Page, expect

from tests.browser.conftest import IMAGES, login, shot
from wizard.models import AuditEvent, Invitation, StepProgress, Tenant

pytestmark = pytest.mark.browser

ROWS = 200


def partners_csv(path: Path, manager: str) -> Path:
    lines = ["name,owner_email,account_manager"]
    lines += [f"Imported MSP {i:03},owner{i:03}@msp{i:03}.example,{manager}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts() -> tuple[int, int, int, int]:
    return (
        Tenant.objects.count(),
        Invitation.objects.count(),
        StepProgress.objects.count(),
        AuditEvent.objects.count(),
    )


def test_an_account_manager_adds_one_partner_then_imports_200_twice(
    page: Page, live_server: Any, account_manager: User, tmp_path: Path
) -> None:
    login(page, live_server, account_manager.username)
    page.wait_for_url("**/manage/")

    # One at a time.
    page.get_by_role("link", name="Add partner", exact=True).click()
    expect(page.get_by_role("heading", name="Add a partner")).to_be_visible()
    expect(page.get_by_text("Account manager: you (am_browser)")).to_be_visible()
    page.get_by_label("Partner name").fill("Contoso IT")
    page.get_by_label("First owner's email").fill("jane@contoso.example")
    shot(page, "add-partner")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the partner and send the invitation").click()
    expect(page.locator("h1")).to_have_text("Contoso IT")
    expect(page.get_by_role("status").first).to_contain_text(
        "Contoso IT was added. An invitation went to jane@contoso.example"
    )
    contoso = Tenant.objects.get(name="Contoso IT")
    assert contoso.account_manager == account_manager
    assert contoso.invitations.get().role == "owner"

    # The same name again is refused, with a link to it.
    page.goto("/manage/partners/new/")
    page.get_by_label("Partner name").fill("contoso it")
    page.get_by_label("First owner's email").fill("other@contoso.example")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the partner and send the invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("A partner named 'Contoso IT' exists already")
    expect(page.get_by_role("link", name="Open Contoso IT")).to_be_visible()
    assert Tenant.objects.count() == 1

    # Many at once.
    csv_path = partners_csv(tmp_path / "partners.csv", account_manager.username)
    page.goto("/manage/")
    page.get_by_role("link", name="Import partners (CSV)").click()
    expect(page.get_by_role("heading", name="Import partners")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(csv_path))
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("#import-summary")).to_contain_text(
        f"{ROWS} new partners to create, 0 that exist already and will be skipped, 0 lines with "
        "errors. Nothing is created until you confirm."
    )
    expect(page.locator("table.import-preview tbody tr")).to_have_count(ROWS)
    assert Tenant.objects.count() == 1  # the preview created nothing
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "import-preview.png"), animations="disabled", caret="hide")

    started = time.monotonic()
    with page.expect_navigation():
        page.get_by_role("button", name=f"Confirm: create {ROWS} partners").click()
    seconds = time.monotonic() - started
    print(f"\n{ROWS} partners imported (confirm to dashboard shown) in {seconds:.2f} s")
    page.wait_for_url("**/manage/")
    expect(page.get_by_role("status").first).to_contain_text(
        f"Import done: {ROWS} partners created and their owners invited."
    )
    expect(page.locator("#list-title")).to_contain_text(f"{ROWS + 1} tenants")
    page.get_by_label("Name").fill("Imported MSP 199")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name="Imported MSP 199", exact=True)).to_be_visible()
    after_first = counts()
    assert after_first[:3] == (ROWS + 1, ROWS + 1, (ROWS + 1) * 6)
    assert Tenant.objects.filter(account_manager=account_manager).count() == ROWS + 1
    sent = len(mail.outbox)
    assert sent == ROWS + 1

    # The same file again: everything exists, confirming changes nothing.
    page.goto("/manage/partners/import/")
    page.get_by_label("CSV file").set_input_files(str(csv_path))
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("#import-summary")).to_contain_text(
        f"0 new partners to create, {ROWS} that exist already and will be skipped"
    )
    expect(page.get_by_text("Exists, will be skipped", exact=True)).to_have_count(ROWS)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm (nothing new to create)").click()
    expect(page.get_by_role("status").first).to_contain_text(
        f"Import done: 0 partners created; {ROWS} skipped because they exist already."
    )
    assert counts() == after_first
    assert len(mail.outbox) == sent
