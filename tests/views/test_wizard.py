"""The partner's wizard through HTTP, as owner, member, outsider, staff and anonymous."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from tests.conftest import login
from wizard import services, steps
from wizard.models import AuditEvent, AutotaskCredential, Membership, StepProgress, Tenant

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def url(tenant: Tenant, key: str = "", action: str = "") -> str:
    parts = [f"/t/{tenant.code}/"]
    if key:
        parts.append(f"{key}/")
    if action:
        parts.append(f"{action}/")
    return "".join(parts)


def state(tenant: Tenant, key: str) -> str:
    return StepProgress.objects.get(tenant=tenant, step_key=key).state


def every_url(tenant: Tenant) -> list[tuple[str, str]]:
    out = [("get", url(tenant))]
    for key in steps.STEP_KEYS:
        out += [
            ("get", url(tenant, key)),
            ("post", url(tenant, key)),
            ("post", url(tenant, key, "checklist")),
            ("post", url(tenant, key, "skip")),
            ("post", url(tenant, key, "unskip")),
        ]
    return out


@pytest.mark.parametrize("key", steps.STEP_KEYS)
def test_full_page_shows_the_step_navigation_and_progress(owner_client, tenant, key) -> None:
    r = owner_client.get(url(tenant, key))
    html = r.content.decode()
    assert r.status_code == 200
    assert "<html" in html
    step = steps.STEPS_BY_KEY[key]
    assert f"Step {steps.step_number(key)} of 6" in html
    assert escape(step.phase) in html
    assert 'aria-current="step"' in html
    assert html.count('class="nav-step') == 6
    assert '<progress id="wizard-progress" value="0" max="6">' in html
    for item in step.checklist_for(""):
        assert escape(item.text) in html


REFUSED = {
    "account": {"checklist_shown": "", "time_zone": "Nowhere/Else"},
    "api-user": {"checklist_shown": "", "username": "not a username", "secret": ""},
}


@pytest.mark.parametrize("key", steps.STEP_KEYS)
def test_the_step_form_and_its_inputs_post_to_the_steps_own_url(owner_client, tenant, key) -> None:
    """The page, its htmx partial and a form shown again with errors: every form and input
    that saves the step sends it to this step's URL (an empty action would post to whatever
    URL the page was loaded from)."""
    own = url(tenant, key)
    pages = [owner_client.get(own).content.decode(), owner_client.get(own, **HX).content.decode()]
    if key in REFUSED:
        refused = owner_client.post(own, REFUSED[key])
        assert refused.status_code == 200 and 'class="errorlist' in refused.content.decode()
        pages.append(refused.content.decode())
    for html in pages:
        assert f'<form id="step-form" class="step-form" method="post" action="{own}"' in html
        assert f'hx-post="{own}" hx-target="#wizard"' in html
        assert 'action=""' not in html and 'hx-post=""' not in html
        if key == "account":
            assert html.count(f'hx-post="{own}" hx-trigger="change"') == 2


def test_htmx_gets_only_the_wizard_partial_and_the_url_to_push(owner_client, tenant) -> None:
    r = owner_client.get(url(tenant, "api-user"), **HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="wizard"')
    assert r.headers["HX-Push-Url"] == url(tenant, "api-user")


def test_body_carries_the_csrf_token_for_htmx(owner_client, tenant) -> None:
    html = owner_client.get(url(tenant, "account")).content.decode()
    assert re.search(
        r"<body hx-headers='\{&quot;X-CSRFToken&quot;: &quot;\w+&quot;\}'>|"
        r"<body hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'>",
        html,
    )


def test_resume_lands_on_the_first_unfinished_step(owner_client, tenant) -> None:
    assert owner_client.get(url(tenant))["Location"] == url(tenant, "account")
    owner_client.post(
        url(tenant, "account"),
        {
            "branch": "existing",
            "initial-branch": "",
            "time_zone": "Australia/Sydney",
            "initial-time_zone": "",
            "checklist": ["signed-in", "admin-access"],
            "checklist_shown": "",
            "action": "next",
        },
    )
    assert state(tenant, "account") == "done"
    assert owner_client.get(url(tenant))["Location"] == url(tenant, "security-level")
    owner_client.post(url(tenant, "security-level", "skip"))
    assert owner_client.get(url(tenant))["Location"] == url(tenant, "api-user")


def test_next_saves_and_moves_on_back_saves_and_moves_back(owner_client, tenant) -> None:
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Australia/Sydney", seen="")
    r = owner_client.post(
        url(tenant, "recurring-contract"),
        {
            "sync_start": "next",
            "initial-sync_start": "",
            "checklist": ["type-recurring"],
            "checklist_shown": "",
            "action": "next",
        },
    )
    assert r["Location"] == url(tenant, "annual-contract")
    r = owner_client.post(
        url(tenant, "annual-contract"),
        {"has_annual": "yes", "initial-has_annual": "", "checklist_shown": "", "action": "back"},
    )
    assert r["Location"] == url(tenant, "recurring-contract")
    p = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract")
    assert p.answers == {"sync_start": "next"}
    assert p.checklist == ["type-recurring"]
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert re.search(r'value="next"[^>]*checked', html)
    assert "First day of usage the sync will copy" in html
    html = owner_client.get(url(tenant, "annual-contract")).content.decode()
    assert re.search(r'value="yes"[^>]*checked', html)


def test_invalid_input_is_explained_and_kept_in_the_form(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "api-user"),
        {"username": "not a username", "secret": "", "checklist_shown": "", "action": "next"},
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert "does not look like an Autotask API username" in html
    assert 'value="not a username"' in html
    assert StepProgress.objects.get(tenant=tenant, step_key="api-user").answers == {}


def test_whitespace_secret_is_refused(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "api-user"),
        {"username": "api@x.example", "secret": "   ", "checklist_shown": "", "action": "save"},
    )
    assert "The Secret cannot be only spaces." in r.content.decode()
    assert not AutotaskCredential.objects.filter(tenant=tenant).exists()


def test_the_secret_is_never_rendered_back(owner_client, tenant) -> None:
    secret = "Xy9-very-secret-value"
    owner_client.post(
        url(tenant, "api-user"),
        {"username": "api@x.example", "secret": secret, "checklist_shown": "", "action": "save"},
    )
    html = owner_client.get(url(tenant, "api-user")).content.decode()
    assert secret not in html
    assert "A Secret is stored. Leave this empty to keep it" in html
    assert 'value="api@x.example"' in html
    # Saving again with the field empty keeps the stored Secret.
    owner_client.post(
        url(tenant, "api-user"),
        {"username": "api@x.example", "secret": "", "checklist_shown": "", "action": "save"},
    )
    from wizard import crypto

    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert crypto.decrypt_secret(cred.secret_encrypted) == secret


def test_contract_rows_are_added_and_removed(owner_client, tenant) -> None:
    base = {"sync_start": "next", "initial-sync_start": "next", "checklist_shown": ""}
    owner_client.post(
        url(tenant, "recurring-contract"),
        {**base, "add_company_id": "101", "add_contract_id": "1001", "action": "add"},
    )
    owner_client.post(
        url(tenant, "recurring-contract"),
        {**base, "add_company_id": "102", "add_contract_id": "1005", "action": "add"},
    )
    html = owner_client.get(url(tenant, "recurring-contract")).content.decode()
    assert "#1001" in html and "#1005" in html
    owner_client.post(url(tenant, "recurring-contract"), {**base, "action": "remove:1001"})
    p = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract")
    assert p.answers["customers"] == [
        {"company_id": 102, "contract_id": 1005, "company_name": "", "contract_name": ""}
    ]


def test_half_a_contract_row_is_refused(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "recurring-contract"),
        {"add_company_id": "101", "checklist_shown": "", "action": "add"},
    )
    assert "give both its Autotask company ID and its contract ID" in r.content.decode()


def test_checklist_tick_is_saved_on_click_with_htmx(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "account", "checklist"), {"item": "signed-in", "checklist": "signed-in"}, **HX
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert 'id="step-nav"' in html and 'hx-swap-oob="true"' in html
    assert "Checklist: 1 of 2 ticked" in html
    assert StepProgress.objects.get(tenant=tenant, step_key="account").checklist == ["signed-in"]
    owner_client.post(url(tenant, "account", "checklist"), {"item": "signed-in"}, **HX)
    assert StepProgress.objects.get(tenant=tenant, step_key="account").checklist == []
    assert (
        list(
            AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
        ).count("checklist_ticked")
        == 1
    )


def test_checklist_tick_without_javascript_redirects_back(owner_client, tenant) -> None:
    r = owner_client.post(
        url(tenant, "account", "checklist"), {"item": "signed-in", "checklist": "signed-in"}
    )
    assert r.status_code == 302 and r["Location"] == url(tenant, "account")


def test_forged_checklist_item_is_refused(owner_client, tenant) -> None:
    r = owner_client.post(url(tenant, "account", "checklist"), {"item": "<script>"})
    assert r.status_code == 400


def test_form_submit_only_applies_this_users_checklist_changes(
    owner_client, member_client, tenant
) -> None:
    # Both pages were rendered with nothing ticked; member ticks one item meanwhile.
    member_client.post(
        url(tenant, "account", "checklist"), {"item": "admin-access", "checklist": "admin-access"}
    )
    owner_client.post(
        url(tenant, "account"),
        {"checklist": ["signed-in"], "checklist_shown": "", "action": "save"},
    )
    assert StepProgress.objects.get(tenant=tenant, step_key="account").checklist == [
        "signed-in",
        "admin-access",
    ]


def test_conflicting_answer_from_a_colleague_is_shown_not_overwritten(
    owner_client, member_client, tenant
) -> None:
    member_client.post(
        url(tenant, "recurring-contract"),
        {"sync_start": "next", "initial-sync_start": "", "checklist_shown": "", "action": "save"},
    )
    r = owner_client.post(
        url(tenant, "recurring-contract"),
        {
            "sync_start": "most-recent",
            "initial-sync_start": "",
            "checklist_shown": "",
            "action": "save",
        },
    )
    html = r.content.decode()
    assert "A colleague saved a different answer" in html
    assert re.search(r'value="most-recent"[^>]*checked', html)  # the user's own choice kept
    assert (
        StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers["sync_start"]
        == "next"
    )
    # Saving again (the form now carries the colleague's value as seen) keeps the user's.
    r = owner_client.post(
        url(tenant, "recurring-contract"),
        {
            "sync_start": "most-recent",
            "initial-sync_start": "next",
            "checklist_shown": "",
            "action": "save",
        },
    )
    assert (
        StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers["sync_start"]
        == "most-recent"
    )


@pytest.mark.parametrize("key", ["security-level", "annual-contract"])
def test_optional_steps_can_be_skipped_with_the_consequence_stated(
    owner_client, tenant, key
) -> None:
    page = owner_client.get(url(tenant, key)).content.decode()
    consequence = escape(steps.STEPS_BY_KEY[key].skip_consequence)
    assert consequence in page
    r = owner_client.post(url(tenant, key, "skip"), follow=True)
    assert state(tenant, key) == "skipped"
    assert "Skipped:" in r.content.decode()
    owner_client.post(url(tenant, key, "unskip"))
    assert state(tenant, key) != "skipped"


@pytest.mark.parametrize("key", ["account", "api-user", "recurring-contract", "review"])
def test_required_steps_cannot_be_skipped(owner_client, tenant, key) -> None:
    assert "Skip this step" not in owner_client.get(url(tenant, key)).content.decode()
    r = owner_client.post(url(tenant, key, "skip"), follow=True)
    assert "cannot be skipped" in r.content.decode()
    assert state(tenant, key) == "not_started"


def test_verifying_steps_say_waiting_for_verification(owner_client, tenant) -> None:
    ids = [c.id for c in steps.STEPS_BY_KEY["security-level"].checklist]
    owner_client.post(
        url(tenant, "security-level"), {"checklist": ids, "checklist_shown": "", "action": "save"}
    )
    html = owner_client.get(url(tenant, "security-level")).content.decode()
    assert "Waiting for verification" in html
    assert state(tenant, "security-level") == "in_progress"


def test_a_second_member_sees_the_same_progress(owner_client, member_client, tenant) -> None:
    owner_client.post(
        url(tenant, "account"),
        {
            "branch": "existing",
            "initial-branch": "",
            "time_zone": "Australia/Sydney",
            "initial-time_zone": "",
            "checklist": ["signed-in", "admin-access"],
            "checklist_shown": "",
            "action": "next",
        },
    )
    html = member_client.get(url(tenant, "account")).content.decode()
    assert re.search(r'value="existing"[^>]*checked', html)
    assert "1 of 6 steps finished" in html
    assert member_client.get(url(tenant))["Location"] == url(tenant, "security-level")


@pytest.mark.parametrize("who", ["outsider_client", "staff_client"])
def test_non_members_get_404_on_every_url(request, tenant, other_tenant, who) -> None:
    client: Client = request.getfixturevalue(who)
    for method, u in every_url(tenant):
        r = getattr(client, method)(u)
        assert r.status_code == 404, (method, u, r.status_code)
    assert StepProgress.objects.filter(tenant=tenant).exclude(state="not_started").count() == 0


def test_anonymous_users_are_sent_to_log_in(client, tenant) -> None:
    for method, u in every_url(tenant):
        r = getattr(client, method)(u)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), u


def test_unknown_step_and_malformed_tenant_are_404(owner_client, tenant) -> None:
    assert owner_client.get(url(tenant, "connect")).status_code == 404
    assert owner_client.get("/t/not-a-uuid/account/").status_code == 404
    assert owner_client.get("/t/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_home_sends_a_partner_to_their_wizard_and_staff_to_the_dashboard(
    owner_client, staff_client, tenant
) -> None:
    assert owner_client.get("/")["Location"] == url(tenant)
    assert staff_client.get("/")["Location"] == "/manage/"


def test_login_logout_and_password_reset(client, owner, tenant) -> None:
    from tests.conftest import PASSWORD

    r = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD}, follow=True)
    assert r.redirect_chain[-1][0] == url(tenant, "account")
    r = client.post("/accounts/logout/", follow=True)
    assert "Log in" in r.content.decode()
    r = client.post("/accounts/password_reset/", {"email": "owner@example.com"}, follow=True)
    assert "Check your email" in r.content.decode()
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+)", str(mail.outbox[0].body))
    assert link
    r = client.get(link.group(1), follow=True)
    assert "Choose a new password" in r.content.decode()


def test_wrong_password_says_so(client, owner) -> None:
    r = client.post("/accounts/login/", {"username": "owner", "password": "nope"})
    assert "Your username and password didn't match" in r.content.decode()


def test_health_endpoints(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_pages_send_a_strict_content_security_policy(owner_client, tenant) -> None:
    r = owner_client.get(url(tenant, "account"))
    assert "unsafe-inline" not in r["Content-Security-Policy"]
    assert "script-src 'self'" in r["Content-Security-Policy"]
    assert "style=" not in r.content.decode()
    assert "<script>" not in r.content.decode()


# ---------------------------------------------------------------------------------------------
# Every load renders afresh: whatever changed, by whom and by which path, shows at once, and a
# session that ended or a membership that was removed is refused. (These held for the page
# cache of ADR 0007 too; they stay now that every request renders, see ADR 0011.)

SECRET = "Pa55-step-page-secret-0001"


def _answer(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    # The first usage date is shown in the tenant's time zone, so it needs one.
    services.tenant_time_zone_save(
        tenant=tenant, user=member, time_zone="Australia/Sydney", seen=""
    )
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=member,
        changes={"sync_start": "next"},
        seen={"sync_start": ""},
    )
    return "recurring-contract", "First day of usage the sync will copy"


def _time_zone(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.tenant_time_zone_save(
        tenant=tenant, user=member, time_zone="Pacific/Auckland", seen=""
    )
    return "account", '<option value="Pacific/Auckland" selected>'


def _tick(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.checklist_update(tenant=tenant, step_key="account", user=member, ticked=["signed-in"])
    return "account", "Checklist: 1 of 2 ticked"


def _credential(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.credentials_save(tenant=tenant, user=member, username="api2@x.example", secret=SECRET)
    return "api-user", 'value="api2@x.example"'


def _credential_in_bulk(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.credentials_save(tenant=tenant, user=member, username="api2@x.example", secret=SECRET)
    # The admin, or a bulk update: no progress row changes, only the credential's.
    AutotaskCredential.objects.filter(tenant=tenant).update(username="api3@x.example")
    return "api-user", 'value="api3@x.example"'


def _verification(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.verification_record(
        tenant=tenant,
        step_key="api-user",
        user=member,
        results=[
            {"id": "auth.secret", "status": "fail", "title": "Secret refused", "evidence": "e"}
        ],
    )
    return "api-user", "Secret refused"


def _skip(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.step_skip(tenant=tenant, step_key="security-level", user=member)
    return "security-level", "Skipped"


def _renamed_in_bulk(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    # A bulk update skips save() and every signal; the page must still show it.
    Tenant.objects.filter(pk=tenant.pk).update(name="Renamed In Bulk")
    return "account", "Renamed In Bulk"


def _colleague_renamed(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    services.verification_record(
        tenant=tenant,
        step_key="api-user",
        user=member,
        results=[{"id": "auth.user", "status": "pass", "title": "Earlier run", "evidence": "e"}],
    )
    member.username = "member-renamed"
    member.save()
    return "api-user", "by member-renamed"


def _self_renamed(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    owner.username = "owner-renamed"
    owner.save()
    return "account", "owner-renamed"


CHANGES: dict[str, Callable[[Tenant, User, User, User], tuple[str, str]]] = {
    "a colleague's answer": _answer,
    "a colleague's time zone": _time_zone,
    "a colleague's tick": _tick,
    "a new API user": _credential,
    "a credential changed in bulk": _credential_in_bulk,
    "a verification": _verification,
    "a skip": _skip,
    "a tenant renamed in bulk": _renamed_in_bulk,
    "a renamed colleague": _colleague_renamed,
    "my own new username": _self_renamed,
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_every_change_shows_at_the_next_load(
    owner_client, tenant, owner, member, staff, change
) -> None:
    pages = {key: owner_client.get(url(tenant, key)).content.decode() for key in steps.STEP_KEYS}
    key, expected = CHANGES[change](tenant, owner, member, staff)
    assert expected not in pages[key]
    r = owner_client.get(url(tenant, key))
    assert expected in r.content.decode()


def test_a_reset_shows_at_the_next_load(owner_client, tenant, owner, staff) -> None:
    services.checklist_update(tenant=tenant, step_key="account", user=owner, ticked=["signed-in"])
    assert "Checklist: 1 of 2 ticked" in owner_client.get(url(tenant, "account")).content.decode()
    services.wizard_reset(tenant=tenant, from_step=None, reason="stuck on a call", user=staff)
    assert "Checklist: 0 of 2 ticked" in owner_client.get(url(tenant, "account")).content.decode()


def _logged_out_elsewhere(client: Client, user: User) -> None:
    # The same cookies, e.g. a copy someone kept: logging out ends them everywhere.
    copy = Client()
    copy.cookies = client.cookies
    copy.post("/accounts/logout/")


def _password_changed(client: Client, user: User) -> None:
    user.set_password("a-new-password-2026")
    user.save()


def _deactivated(client: Client, user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def _session_expired(client: Client, user: User) -> None:
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))


def _session_deleted(client: Client, user: User) -> None:
    Session.objects.all().delete()


LOGGED_OUT: dict[str, Callable[[Client, User], None]] = {
    "logged out with a copy of the cookies": _logged_out_elsewhere,
    "password changed": _password_changed,
    "account deactivated": _deactivated,
    "session expired": _session_expired,
    "session deleted": _session_deleted,
}


@pytest.mark.parametrize("what", LOGGED_OUT, ids=list(LOGGED_OUT))
def test_a_session_that_ended_is_sent_to_log_in(owner, tenant, what) -> None:
    client = login(owner)
    assert client.get(url(tenant, "account")).status_code == 200
    cookies = {k: v.value for k, v in client.cookies.items()}
    LOGGED_OUT[what](client, owner)
    replay = Client()
    for name, value in cookies.items():
        replay.cookies[name] = value
    r = replay.get(url(tenant, "account"))
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_a_removed_member_gets_404_at_the_next_load(member_client, tenant, member) -> None:
    assert member_client.get(url(tenant, "account")).status_code == 200
    Membership.objects.filter(tenant=tenant, user=member).delete()
    assert member_client.get(url(tenant, "account")).status_code == 404


def test_a_flash_message_is_shown_once(owner_client, tenant) -> None:
    owner_client.post(url(tenant, "account"), {"checklist_shown": "", "action": "save"})
    assert "Saved." in owner_client.get(url(tenant, "account")).content.decode()
    for _ in range(2):
        assert "Saved." not in owner_client.get(url(tenant, "account")).content.decode()


def test_the_date_shown_turns_with_the_tenants_month_not_the_servers(
    owner_client, tenant, owner, member, staff
) -> None:
    # 31 January 2026, 23:50 in Sydney, then 00:05 on 1 February there: the same UTC date
    # (12:50 and 13:05 UTC), but the tenant's month has turned and so has its first usage date.
    _answer(tenant, owner, member, staff)
    page = url(tenant, "recurring-contract")
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(days=3650))
    before = datetime.datetime(2026, 1, 31, 12, 50, tzinfo=datetime.UTC)
    after = datetime.datetime(2026, 1, 31, 13, 5, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=before):
        january = owner_client.get(page).content.decode()
    with mock.patch("django.utils.timezone.now", return_value=after):
        february = owner_client.get(page).content.decode()
    assert "1 January 2026" in january
    assert "1 February 2026" in february


def test_no_template_keeps_a_fragment_across_deploys() -> None:
    """A ``{% cache %}`` fragment keyed without the release outlives a deploy in a shared cache
    (Redis): partners would read the old step text for as long as it lives. Pages render whole."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    cached = [p.name for p in root.rglob("*.html") if re.search(r"{%\s*cache\b", p.read_text())]
    assert cached == []
