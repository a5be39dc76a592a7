"""Step pages served again from memory (wizard/page_cache.py): fast, and never stale or leaked.

PAGE_CACHE_VERIFY is on in the tests, so every page served from memory here is also rendered
afresh and compared; a stale page fails the test with PageCacheMismatch. Each test also
checks, through the ``served`` log, whether the page came from memory.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, login
from wizard import page_cache, services
from wizard.autotask.dates import today_in
from wizard.models import AutotaskCredential, Membership, StepProgress, Tenant

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "wizard"}
SECRET = "Pa55-page-cache-secret-0001"


def url(tenant: Tenant, key: str = "account") -> str:
    return f"/t/{tenant.code}/{key}/"


@pytest.fixture(autouse=True)
def _empty_page_cache() -> None:
    caches[page_cache.CACHE_ALIAS].clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per step GET: True when it was answered from memory."""
    log: list[bool] = []
    real = page_cache.lookup

    def spy(request: Any, code: Any, step_key: str) -> Any:
        response = real(request, code, step_key)
        log.append(response is not None)
        return response

    monkeypatch.setattr(page_cache, "lookup", spy)
    return log


def warm(client: Client, path: str, served: list[bool], **extra: Any) -> str:
    """Load a page until it comes from memory, as a browser reloading it would; its HTML."""
    for _ in range(3):
        r = client.get(path, **extra)
        assert r.status_code == 200
        if served[-1]:
            return r.content.decode()
    raise AssertionError(f"{path} was never served from memory")


def test_a_reload_is_answered_from_memory_with_one_query(
    owner_client, tenant, served, settings, django_assert_num_queries
) -> None:
    # The first visit sets the CSRF cookie, the second is kept, the third comes from memory.
    first = owner_client.get(url(tenant)).content.decode()
    owner_client.get(url(tenant))
    settings.PAGE_CACHE_VERIFY = False
    with django_assert_num_queries(1):
        r = owner_client.get(url(tenant))
    assert served == [False, False, True]
    assert r.status_code == 200
    assert "Cookie" in r["Vary"]
    assert "default-src 'self'" in r["Content-Security-Policy"]
    html = r.content.decode()
    assert "Northwind IT" in html and "Step 1 of 6" in html
    # The same page but for the CSRF tokens, which each render masks anew.
    token = re.compile(r"\b[A-Za-z0-9]{64}\b")
    assert token.sub("", html) == token.sub("", first)


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


def _renamed(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    tenant.name = "Northwind Managed Services"
    tenant.save()
    return "account", "Northwind Managed Services"


def _renamed_in_sql(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
    # A bulk update skips save() and every signal; the page must still notice.
    Tenant.objects.filter(pk=tenant.pk).update(name="Renamed In Bulk")
    return "account", "Renamed In Bulk"


def _colleague_renamed(tenant: Tenant, owner: User, member: User, staff: User) -> tuple[str, str]:
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
    "a verification": _verification,
    "a skip": _skip,
    "a renamed tenant": _renamed,
    "a tenant renamed in bulk": _renamed_in_sql,
    "a renamed colleague": _colleague_renamed,
    "my own new username": _self_renamed,
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_every_change_shows_at_once(
    owner_client, tenant, owner, member, staff, served, change
) -> None:
    # A verification by the colleague first, so that the api-user page names them.
    services.verification_record(
        tenant=tenant,
        step_key="api-user",
        user=member,
        results=[{"id": "auth.user", "status": "pass", "title": "Earlier run", "evidence": "e"}],
    )
    pages = {key: warm(owner_client, url(tenant, key), served) for key in ("account", "api-user")}
    pages["recurring-contract"] = warm(owner_client, url(tenant, "recurring-contract"), served)
    pages["security-level"] = warm(owner_client, url(tenant, "security-level"), served)

    key, expected = CHANGES[change](tenant, owner, member, staff)

    assert expected not in pages[key]
    r = owner_client.get(url(tenant, key))
    assert served[-1] is False, "a page from before the change was served"
    assert expected in r.content.decode()


def test_a_credential_changed_behind_the_services_back_shows_at_once(
    owner_client, tenant, owner, served
) -> None:
    services.credentials_save(tenant=tenant, user=owner, username="api@x.example", secret=SECRET)
    assert 'value="api@x.example"' in warm(owner_client, url(tenant, "api-user"), served)
    # The admin, or a bulk update: no progress row changes, only the credential's.
    AutotaskCredential.objects.filter(tenant=tenant).update(username="api3@x.example")
    r = owner_client.get(url(tenant, "api-user"))
    assert served[-1] is False
    assert 'value="api3@x.example"' in r.content.decode()


def test_a_reset_shows_at_once(owner_client, tenant, owner, staff, served) -> None:
    services.checklist_update(tenant=tenant, step_key="account", user=owner, ticked=["signed-in"])
    before = warm(owner_client, url(tenant), served)
    assert "Checklist: 1 of 2 ticked" in before
    services.wizard_reset(tenant=tenant, from_step=None, reason="stuck on a call", user=staff)
    r = owner_client.get(url(tenant))
    assert served[-1] is False
    assert "Checklist: 0 of 2 ticked" in r.content.decode()


def test_changes_that_show_nowhere_still_end_the_kept_page(
    owner_client, tenant, owner, served
) -> None:
    """Rows are compared whole: even a column the page ignores today makes a fresh render."""
    warm(owner_client, url(tenant), served)
    StepProgress.objects.filter(tenant=tenant).update(verification_started_at=timezone.now())
    owner_client.get(url(tenant))
    assert served[-1] is False
    warm(owner_client, url(tenant), served)
    Membership.objects.filter(tenant=tenant, user=owner).update(role=Membership.Role.MEMBER)
    owner_client.get(url(tenant))
    assert served[-1] is False


def _logged_out_elsewhere(client: Client, user: User, tenant: Tenant) -> None:
    # The same cookies, e.g. a copy someone kept: logging out ends them everywhere.
    copy = Client()
    copy.cookies = client.cookies
    copy.post("/accounts/logout/")


def _password_changed(client: Client, user: User, tenant: Tenant) -> None:
    user.set_password("a-new-password-2026")
    user.save()


def _deactivated(client: Client, user: User, tenant: Tenant) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def _session_expired(client: Client, user: User, tenant: Tenant) -> None:
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))


def _session_deleted(client: Client, user: User, tenant: Tenant) -> None:
    Session.objects.all().delete()


LOGGED_OUT = {
    "logged out with a copy of the cookies": _logged_out_elsewhere,
    "password changed": _password_changed,
    "account deactivated": _deactivated,
    "session expired": _session_expired,
    "session deleted": _session_deleted,
}


@pytest.mark.parametrize("what", LOGGED_OUT, ids=list(LOGGED_OUT))
def test_a_kept_page_is_never_served_to_a_session_that_ended(owner, tenant, served, what) -> None:
    client = login(owner)
    warm(client, url(tenant), served)
    cookies = {k: v.value for k, v in client.cookies.items()}
    LOGGED_OUT[what](client, owner, tenant)
    replay = Client()
    for name, value in cookies.items():
        replay.cookies[name] = value
    r = replay.get(url(tenant))
    assert served[-1] is False
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_a_removed_member_gets_404_not_the_kept_page(member_client, tenant, member, served) -> None:
    warm(member_client, url(tenant), served)
    Membership.objects.filter(tenant=tenant, user=member).delete()
    r = member_client.get(url(tenant))
    assert served[-1] is False
    assert r.status_code == 404


def test_another_session_of_the_same_user_gets_its_own_page(owner, tenant, served) -> None:
    warm(login(owner), url(tenant), served)
    second = login(owner)
    second.get(url(tenant))
    assert served[-1] is False


def test_a_flash_message_is_shown_once_and_never_kept(owner_client, tenant, served) -> None:
    warm(owner_client, url(tenant), served)
    owner_client.post(url(tenant), {"checklist_shown": "", "action": "save"})
    shown = owner_client.get(url(tenant)).content.decode()
    assert "Saved." in shown
    for _ in range(3):
        assert "Saved." not in owner_client.get(url(tenant)).content.decode()
    assert served[-1] is True


def test_a_flash_message_kept_in_the_session_is_shown_too(
    owner_client, tenant, served, settings
) -> None:
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    warm(owner_client, url(tenant), served)
    owner_client.post(url(tenant), {"checklist_shown": "", "action": "save"})
    assert "Saved." in owner_client.get(url(tenant)).content.decode()
    assert served[-1] is False
    assert "Saved." not in warm(owner_client, url(tenant), served)


def test_htmx_requests_and_full_pages_are_kept_apart(owner_client, tenant, served) -> None:
    full = warm(owner_client, url(tenant), served)
    partial = warm(owner_client, url(tenant), served, **HX)
    assert "<html" in full
    assert "<html" not in partial
    assert "<html" in owner_client.get(url(tenant)).content.decode()


def test_pages_with_a_query_string_are_never_kept(owner_client, tenant, served) -> None:
    for _ in range(3):
        owner_client.get(url(tenant, "recurring-contract") + "?q=north")
    assert served == [False, False, False]


def test_the_token_in_a_kept_page_is_accepted(owner, tenant, served) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    html = warm(client, url(tenant), served)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    r = client.post(
        url(tenant),
        {"csrfmiddlewaretoken": token.group(1), "checklist_shown": "", "action": "save"},
    )
    assert r.status_code == 302


def test_a_new_day_renders_afresh(owner_client, tenant, owner, member, staff, served) -> None:
    _answer(tenant, owner, member, staff)  # "next invoice": the usage from this month's 1st
    page = url(tenant, "recurring-contract")
    now = timezone.now()
    # The session outlives the jump in time; only the date changes.
    Session.objects.update(expire_date=now + datetime.timedelta(days=100))
    today = warm(owner_client, page, served)
    in_40_days = now + datetime.timedelta(days=40)
    with mock.patch("django.utils.timezone.now", return_value=in_40_days):
        later = owner_client.get(page).content.decode()
    assert served[-1] is False
    first = today_in("Australia/Sydney", in_40_days).replace(day=1)
    assert first.strftime("%Y-%m-%d") in later
    assert first.strftime("%Y-%m-%d") not in today


def test_the_tenants_new_day_renders_afresh_though_the_servers_date_is_the_same(
    owner_client, tenant, owner, member, staff, served
) -> None:
    # 31 January 2026, 23:50 in Sydney, then 00:05 on 1 February there: the same UTC date
    # (12:50 and 13:05 UTC), but the tenant's month has turned and so has its first usage date.
    _answer(tenant, owner, member, staff)
    page = url(tenant, "recurring-contract")
    before = datetime.datetime(2026, 1, 31, 12, 50, tzinfo=datetime.UTC)
    after = datetime.datetime(2026, 1, 31, 13, 5, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=before):
        january = warm(owner_client, page, served)
    with mock.patch("django.utils.timezone.now", return_value=after):
        february = owner_client.get(page).content.decode()
    assert served[-1] is False
    assert "1 January 2026" in january
    assert "1 February 2026" in february


def test_verification_mode_catches_a_stale_page(owner_client, tenant, served) -> None:
    warm(owner_client, url(tenant), served)
    cache = caches[page_cache.CACHE_ALIAS]
    (key,) = [k for k in cache._cache if ":page:" in k]  # type: ignore[attr-defined]
    user_id, fingerprint, content, headers = cache.get(key.split(":", 2)[2])
    cache.set(key.split(":", 2)[2], (user_id, fingerprint, content + b"<p>stale</p>", headers))
    with pytest.raises(page_cache.PageCacheMismatch):
        owner_client.get(url(tenant))


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
REMOTE_BACKEND = "django.contrib.auth.backends.RemoteUserBackend"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAGE_CACHE", False),
        ("SESSION_ENGINE", "django.contrib.sessions.backends.cached_db"),
        ("AUTHENTICATION_BACKENDS", [MODEL_BACKEND, REMOTE_BACKEND]),
    ],
)
def test_switched_off_by_the_setting_and_by_other_sessions_or_backends(
    owner_client, tenant, served, settings, name, value
) -> None:
    setattr(settings, name, value)
    for _ in range(4):
        assert owner_client.get(url(tenant)).status_code == 200
    assert not any(served)


def test_kept_pages_hold_no_secret_password_hash_or_session(owner, tenant, served) -> None:
    client = login(owner)
    services.credentials_save(tenant=tenant, user=owner, username="api@x.example", secret=SECRET)
    for key in ("account", "security-level", "api-user", "recurring-contract", "review"):
        warm(client, url(tenant, key), served)
    stored = b"".join(caches[page_cache.CACHE_ALIAS]._cache.values())  # type: ignore[attr-defined]
    session = Session.objects.get()
    owner.refresh_from_db()
    assert stored
    for secret in (SECRET, owner.password, session.session_data, PASSWORD):
        assert secret.encode() not in stored
