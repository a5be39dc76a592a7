"""Staff pages: dashboard, CSV, JSON API, tenant detail, reset and invitations."""

from __future__ import annotations

import csv
import datetime
import io
import re
import time

import pytest
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import login, make_user
from wizard import services, steps
from wizard.models import (
    AuditEvent,
    AutotaskCredential,
    Invitation,
    Membership,
    StepProgress,
    Tenant,
)

pytestmark = pytest.mark.django_db


def tick_all(tenant, key, branch="existing") -> None:
    ids = [c.id for c in steps.STEPS_BY_KEY[key].checklist_for(branch)]
    services.checklist_update(tenant=tenant, step_key=key, user=None, ticked=ids)


def finish_account(tenant) -> None:
    services.step_answers_save(
        tenant=tenant, step_key="account", user=None, changes={"branch": "existing"}, seen={}
    )
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Australia/Sydney", seen="")
    tick_all(tenant, "account")


def fail_verification(tenant, key="api-user") -> None:
    services.verification_record(
        tenant=tenant,
        step_key=key,
        user=None,
        results=[
            {"id": "auth.secret", "status": "fail", "title": "t", "evidence": "e", "fix": "f"}
        ],
    )


@pytest.fixture
def portfolio(admin_user):
    """One tenant per dashboard state."""
    t = {}
    t["new"] = services.tenant_create(name="Alpha New")
    t["track"] = services.tenant_create(name="Bravo On Track")
    finish_account(t["track"])
    t["attention"] = services.tenant_create(name="Charlie Attention")
    finish_account(t["attention"])
    fail_verification(t["attention"])
    t["stuck"] = services.tenant_create(name="Delta Stuck")
    finish_account(t["stuck"])
    Tenant.objects.filter(pk=t["stuck"].pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(days=30)
    )
    t["stuck3"] = services.tenant_create(name="Echo Three Fails")
    finish_account(t["stuck3"])
    for _ in range(3):
        fail_verification(t["stuck3"])
    t["done"] = services.tenant_create(name="Foxtrot Done")
    for key in steps.STEP_KEYS:
        StepProgress.objects.filter(tenant=t["done"], step_key=key).update(state="done")
    services.tenant_summary_refresh(t["done"].pk)
    return t


def names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/manage/t/[^"]+/">([^<]+)</a></td>', html)


def test_dashboard_shows_each_state_and_the_rule(admin_client, portfolio) -> None:
    html = admin_client.get("/manage/").content.decode()
    assert "no progress for 7 days or more, or three failed verifications in a row" in html
    for name, state in [
        ("Alpha New", "Not started"),
        ("Bravo On Track", "On track"),
        ("Charlie Attention", "Needs attention"),
        ("Delta Stuck", "Stuck"),
        ("Echo Three Fails", "Stuck"),
        ("Foxtrot Done", "Done"),
    ]:
        row = re.search(rf">{name}</a>.*?</tr>", html, re.S)
        assert row and f">{state}</span>" in row.group(0), name


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=stuck", ["Delta Stuck", "Echo Three Fails"]),
        ("state=done", ["Foxtrot Done"]),
        ("state=not_started", ["Alpha New"]),
        ("q=charlie", ["Charlie Attention"]),
        (
            "step=security-level",
            ["Bravo On Track", "Charlie Attention", "Delta Stuck", "Echo Three Fails"],
        ),
        ("step=done", ["Foxtrot Done"]),
    ],
)
def test_filters_search_csv_and_api_agree(admin_client, portfolio, query, expected) -> None:
    html = admin_client.get(f"/manage/?{query}").content.decode()
    assert names(html) == expected
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(admin_client.get(f"/manage/export.csv?{query}").streaming_content).decode()
            )
        )
    )
    assert [r[0] for r in rows[1:]] == expected
    api = admin_client.get(f"/api/v1/tenants/?{query}").json()
    assert [r["name"] for r in api["results"]] == expected
    assert api["count"] == len(expected)
    # The funnel counts the same filtered set: everyone reached step 1.
    assert re.search(rf'class="funnel-count">{len(expected)}<', html)


def test_sorting(admin_client, portfolio) -> None:
    html = admin_client.get("/manage/?sort=-progress").content.decode()
    assert names(html)[0] == "Foxtrot Done"
    html = admin_client.get("/manage/?sort=-name").content.decode()
    assert names(html)[0] == "Foxtrot Done" and names(html)[-1] == "Alpha New"


def test_funnel_counts_tenants_per_step_with_a_text_alternative(admin_client, portfolio) -> None:
    html = admin_client.get("/manage/").content.decode()
    found = re.search(r"<caption>Tenants that reached each step.*?</table>", html, re.S)
    assert found
    table = found.group(0)
    counts = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", table)
    assert counts[0] == ("Your Autotask account", "6")
    assert dict(counts)["Security level for the API user"] == "5"  # all but the new one
    assert dict(counts)["Finished"] == "1"
    assert '<svg role="img"' in html


def test_dashboard_query_count_does_not_grow_with_tenants(admin_client, admin_user) -> None:
    def measure() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/manage/?sort=-progress").status_code == 200
        return len(ctx.captured_queries)

    for i in range(10):
        services.tenant_create(name=f"Tenant {i:03}")
    ten = measure()
    for i in range(10, 200):
        services.tenant_create(name=f"Tenant {i:03}")
    assert measure() == ten


def test_csv_neutralises_formulas_and_holds_no_secret(admin_client, admin_user) -> None:
    t = services.tenant_create(name='=HYPERLINK("http://evil")')
    services.credentials_save(
        tenant=t, user=None, username="u@x.example", secret="CSV-Secret-Value-123"
    )
    body = b"".join(admin_client.get("/manage/export.csv").streaming_content).decode()
    assert "'=HYPERLINK" in body
    assert "CSV-Secret-Value-123" not in body
    assert admin_client.get("/api/v1/tenants/").content.decode().count("CSV-Secret") == 0


def test_api_shape_and_paging(admin_client, admin_user) -> None:
    for i in range(55):
        services.tenant_create(name=f"T{i:02}")
    page1 = admin_client.get("/api/v1/tenants/").json()
    assert page1["count"] == 55 and page1["pages"] == 2 and len(page1["results"]) == 50
    assert page1["next"].endswith("page=2") and page1["previous"] is None
    first = page1["results"][0]
    assert set(first) == {
        "id",
        "name",
        "account_manager",
        "progress",
        "current_step",
        "state",
        "last_activity_at",
        "last_verification",
        "steps",
        "drift",
    }
    assert first["steps"] == dict.fromkeys(steps.STEP_KEYS, "not_started")
    assert first["progress"] == {"finished": 0, "total": 6}
    page2 = admin_client.get(page1["next"]).json()
    assert len(page2["results"]) == 5


def test_tenant_detail_shows_steps_results_audit_members(admin_client, tenant) -> None:
    fail_verification(tenant)
    html = admin_client.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "Northwind IT" in html
    assert "Needs attention" in html and "auth.secret" not in html  # titles, not ids
    assert "owner" in html and "member" in html
    assert "Verification run" in html
    assert "Reset from this step" in html


# --- reset ------------------------------------------------------------------------------------


@pytest.fixture
def progressed(tenant, owner):
    finish_account(tenant)
    services.step_skip(tenant=tenant, step_key="security-level", user=owner)
    services.credentials_save(
        tenant=tenant, user=owner, username="api@x.example", secret="Reset-Secret-Value-9"
    )
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=owner,
        changes={"sync_start": "next"},
        seen={},
    )
    return tenant


def test_reset_confirmation_shows_exactly_what_is_cleared(admin_client, progressed) -> None:
    html = admin_client.get(
        f"/manage/t/{progressed.code}/reset/", {"from_step": "api-user"}
    ).content.decode()
    assert "The stored API credentials of api@x.example are deleted" in html
    for title in ("The API user", "Recurring Service contracts", "Review"):
        assert title in html
    assert "Your Autotask account" not in html
    assert "sync_start" in html


def test_reset_needs_a_reason(admin_client, progressed) -> None:
    r = admin_client.post(
        f"/manage/t/{progressed.code}/reset/", {"from_step": "api-user", "reason": "   "}
    )
    assert "This field is required" in r.content.decode() or "Give a reason" in r.content.decode()
    assert AutotaskCredential.objects.filter(tenant=progressed).exists()


def test_reset_from_a_step_keeps_earlier_steps_and_audits(
    admin_client, admin_user, progressed, owner_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(
            f"/manage/t/{progressed.code}/reset/",
            {"from_step": "api-user", "reason": "Partner locked out, start over"},
        )
    assert r.status_code == 302
    states = dict(StepProgress.objects.filter(tenant=progressed).values_list("step_key", "state"))
    assert states["account"] == "done"
    assert states["security-level"] == "skipped"
    assert {states[k] for k in ("api-user", "recurring-contract", "annual-contract", "review")} == {
        "not_started"
    }
    assert StepProgress.objects.get(tenant=progressed, step_key="recurring-contract").answers == {}
    assert not AutotaskCredential.objects.filter(tenant=progressed).exists()
    event = AuditEvent.objects.get(tenant=progressed, action="wizard_reset")
    assert event.actor == admin_user
    assert event.detail["reason"] == "Partner locked out, start over"
    assert event.detail["snapshot"]["recurring-contract"]["answers"] == {"sync_start": "next"}
    assert event.detail["snapshot"]["api-user"]["credentials_deleted_for"] == "api@x.example"
    assert "Reset-Secret-Value-9" not in str(event.detail)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.com"]
    assert "Partner locked out, start over" in mail.outbox[0].body
    # The partner resumes at the reset step.
    assert (
        owner_client.get(f"/t/{progressed.code}/")["Location"] == f"/t/{progressed.code}/api-user/"
    )
    html = admin_client.get(f"/manage/t/{progressed.code}/").content.decode()
    assert "Reason: Partner locked out, start over" in html


def test_reset_whole_wizard(admin_client, progressed) -> None:
    admin_client.post(f"/manage/t/{progressed.code}/reset/", {"from_step": "", "reason": "x"})
    assert set(StepProgress.objects.filter(tenant=progressed).values_list("state", flat=True)) == {
        "not_started"
    }


def test_reset_wizard_command(progressed, capsys) -> None:
    from django.core.management import call_command

    call_command(
        "reset_wizard", str(progressed.code), "--from-step", "recurring-contract", "--reason", "cli"
    )
    assert StepProgress.objects.get(tenant=progressed, step_key="api-user").state != "not_started"
    assert StepProgress.objects.get(tenant=progressed, step_key="recurring-contract").answers == {}
    assert (
        AuditEvent.objects.get(tenant=progressed, action="wizard_reset").detail["reason"] == "cli"
    )
    assert "cleared recurring-contract, annual-contract, review" in capsys.readouterr().out


def test_reset_from_django_admin_action(admin_user, progressed) -> None:
    admin_user.is_superuser = True
    admin_user.save()
    client = login(admin_user)
    r = client.post(
        "/admin/wizard/tenant/",
        {
            "action": "reset_wizard",
            "_selected_action": [progressed.pk],
            "from_step": "review",
            "reason": "from admin",
        },
    )
    assert r.status_code == 302
    assert (
        AuditEvent.objects.get(tenant=progressed, action="wizard_reset").detail["reason"]
        == "from admin"
    )


# --- invitations ------------------------------------------------------------------------------


def invite_link() -> str:
    match = re.search(r"http://testserver(/invite/[^/\s]+/)", str(mail.outbox[-1].body))
    assert match
    return match.group(1)


def test_owner_invites_and_a_new_user_signs_up(owner_client, tenant, client) -> None:
    owner_client.post(f"/t/{tenant.code}/team/", {"email": "New@Example.com", "role": "member"})
    link = invite_link()
    assert Invitation.objects.get(tenant=tenant).email == "new@example.com"
    r = client.post(
        link,
        {"username": "newbie", "password1": "Sturdy-pass-4821", "password2": "Sturdy-pass-4821"},
        follow=True,
    )
    assert r.redirect_chain[:2] == [("/invite/", 307), (f"/t/{tenant.code}/", 302)]
    m = Membership.objects.get(tenant=tenant, user__username="newbie")
    assert m.role == "member" and m.user.email == "new@example.com"
    # Works once.
    r = client.get(link, follow=True)
    assert r.status_code == 410 and "already used" in r.content.decode()


def test_members_cannot_invite(member_client, tenant) -> None:
    r = member_client.post(
        f"/t/{tenant.code}/team/", {"email": "x@example.com", "role": "owner"}, follow=True
    )
    assert "Only an owner" in r.content.decode()
    assert not Invitation.objects.exists()


def test_account_manager_invites_an_existing_user_who_logs_in(am_client, tenant, outsider) -> None:
    am_client.post(
        f"/manage/t/{tenant.code}/invite/", {"email": "outsider@example.com", "role": "owner"}
    )
    link = invite_link()
    from django.test import Client

    anon = Client()
    assert "Log in" in anon.get(link, follow=True).content.decode()
    invited = login(outsider)
    r = invited.post(link, follow=True)
    assert (f"/t/{tenant.code}/", 302) in r.redirect_chain
    assert Membership.objects.get(tenant=tenant, user=outsider).role == "owner"


def test_expired_and_forged_invitations_are_refused(
    owner_client, tenant, client, monkeypatch
) -> None:
    owner_client.post(f"/t/{tenant.code}/team/", {"email": "late@example.com", "role": "member"})
    link = invite_link()
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() + 8 * 24 * 3600)  # type: ignore[attr-defined]
    r = client.get(link, follow=True)
    assert r.status_code == 410 and "expired" in r.content.decode()
    monkeypatch.undo()
    r = client.get(link[:-3] + "xx/", follow=True)
    assert r.status_code == 410 and "not valid" in r.content.decode()
    assert not Membership.objects.filter(user__email="late@example.com").exists()


def test_a_failed_invitation_email_creates_nothing_and_says_so(
    owner_client, tenant, monkeypatch
) -> None:
    from django.core.mail.backends.locmem import EmailBackend

    def broken(*_args, **_kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    r = owner_client.post(
        f"/t/{tenant.code}/team/", {"email": "x@example.com", "role": "member"}, follow=True
    )
    assert "could not be sent, so no invitation was created" in r.content.decode()
    assert not Invitation.objects.exists()


def test_a_forwarded_invitation_does_not_admit_someone_else(owner_client, tenant, outsider) -> None:
    owner_client.post(f"/t/{tenant.code}/team/", {"email": "invited@example.com", "role": "member"})
    link = invite_link()
    r = login(outsider).post(link, follow=True)
    assert r.status_code == 403
    assert "This invitation is for invited@example.com" in r.content.decode()
    assert not Membership.objects.filter(tenant=tenant, user=outsider).exists()


def test_expired_invitations_are_not_listed_as_pending(owner_client, tenant) -> None:
    owner_client.post(
        f"/t/{tenant.code}/team/", {"email": "old@example.com", "role": "member"}, follow=True
    )
    Invitation.objects.update(created_at=timezone.now() - datetime.timedelta(days=8))
    assert "old@example.com" not in owner_client.get(f"/t/{tenant.code}/team/").content.decode()


def test_csv_neutralises_the_account_manager_column_too(admin_client, tenant) -> None:
    evil = make_user("@SUM(1+1)", is_staff=True)
    Tenant.objects.filter(pk=tenant.pk).update(account_manager=evil)
    body = b"".join(admin_client.get("/manage/export.csv").streaming_content).decode()
    assert ',"\'@SUM(1+1)",' in body


def test_an_account_without_email_cannot_take_an_invitation(owner_client, tenant) -> None:
    owner_client.post(f"/t/{tenant.code}/team/", {"email": "invited@example.com", "role": "member"})
    link = invite_link()
    nomail = make_user("nomail")
    nomail.email = ""
    nomail.save()
    # As docs/security.md and docs/manage.md say: refused like any other address, by name.
    for r in (login(nomail).get(link, follow=True), login(nomail).post(link, follow=True)):
        assert r.status_code == 403
        assert (
            "This invitation is for invited@example.com, but you are logged in as nomail."
            in r.content.decode()
        )
    assert not Membership.objects.filter(tenant=tenant, user=nomail).exists()
