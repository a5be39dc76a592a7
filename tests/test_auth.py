"""Logging in and resetting a password (wizard/auth.py, django-axes): one throttle for every
login path and every spelling of a username, and a limit on password-reset mails."""

from __future__ import annotations

import datetime
import itertools
import logging
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, make_user
from wizard import auth

pytestmark = pytest.mark.django_db

LOGIN_PATHS = ["/accounts/login/", "/admin/login/"]
# How Django resolves them all to the account "colleague": strip, then NFKC.
SPELLINGS = [" colleague", "colleague ", "\tcolleague", "ｃｏｌｌｅａｇｕｅ"]
CSRF = re.compile(r'"X-CSRFToken": "[^"]*"')
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def fresh_client() -> Client:
    """A client from an address no other request in the test used."""
    return Client(REMOTE_ADDR=next(_addresses))


def post(client: Client, path: str, username: str, password: str) -> tuple[int, str]:
    r = client.post(path, {"username": username, "password": password})
    return r.status_code, r.content.decode()


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def colleague(db):
    # Staff, so that /admin/login/ would let them in, and /manage/ open.
    return make_user("colleague", is_staff=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    # The password-reset counts live in the cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


# --- one throttle for every login path ---------------------------------------------------------


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_the_fifth_failure_locks_and_says_so_on_the_page(colleague, path) -> None:
    c = fresh_client()
    for _ in range(4):
        status, page = post(c, path, "colleague", "wrong")
        assert status == 200 and "Too many failed attempts" not in page
    status, page = post(c, path, "colleague", "wrong")
    assert status == 429
    assert "Too many failed attempts. Wait 15 minutes" in page
    # It is the login page with its form, not a bare error page.
    assert 'name="username"' in page and 'name="password"' in page
    status, page = post(c, path, "colleague", PASSWORD)
    assert status == 429 and "Too many failed attempts" in page
    assert not logged_in(c)


def test_forty_wrong_passwords_at_admin_login_are_throttled(colleague) -> None:
    c = fresh_client()
    statuses = [post(c, "/admin/login/", "colleague", f"guess-{i}")[0] for i in range(40)]
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429] * 36
    # Tries during the lockout are refused without being counted.
    assert AccessAttempt.objects.get(username="colleague").failures_since_start == 5


@pytest.mark.parametrize(("fail_at", "login_at"), list(itertools.permutations(LOGIN_PATHS, 2)))
def test_locked_on_one_login_path_is_locked_on_the_other(colleague, fail_at, login_at) -> None:
    attacker = fresh_client()
    for _ in range(5):
        post(attacker, fail_at, "colleague", "wrong")
    # The right password, from another address, on the other path: still refused.
    victim = fresh_client()
    status, page = post(victim, login_at, "colleague", PASSWORD)
    assert status == 429 and "Too many failed attempts" in page
    assert not logged_in(victim)
    assert victim.get("/manage/")["Location"].startswith("/accounts/login/")


def test_five_failures_from_one_address_lock_that_address_for_every_username(owner) -> None:
    c = fresh_client()
    for i in range(5):
        post(c, LOGIN_PATHS[i % 2], f"guess{i}", "x")
    status, page = post(c, "/accounts/login/", "owner", PASSWORD)
    assert status == 429 and "Too many failed attempts" in page and not logged_in(c)
    # The user themselves, from their own address, is not affected.
    elsewhere = fresh_client()
    assert post(elsewhere, "/accounts/login/", "owner", PASSWORD)[0] == 302
    assert logged_in(elsewhere)


def test_behind_a_proxy_the_throttle_uses_the_forwarded_client_address(owner, settings) -> None:
    settings.NUM_PROXIES = 1
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    for i in range(5):
        attacker.post("/accounts/login/", {"username": f"guess{i}", "password": "x"})
    r = attacker.post("/accounts/login/", {"username": "guess9", "password": "x"})
    assert "Too many failed attempts" in r.content.decode()
    # Another user behind the same proxy is not locked out.
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    r = colleague.post("/accounts/login/", {"username": "owner", "password": PASSWORD})
    assert r.status_code == 302


def test_a_successful_login_does_not_clear_the_count(owner) -> None:
    for _ in range(4):
        post(fresh_client(), "/accounts/login/", "owner", "wrong")
    assert post(fresh_client(), "/accounts/login/", "owner", PASSWORD)[0] == 302
    status, _ = post(fresh_client(), "/accounts/login/", "owner", "wrong")
    assert status == 429


def test_the_lockout_ends_15_minutes_after_the_last_counted_failure(owner) -> None:
    for _ in range(5):
        post(fresh_client(), "/accounts/login/", "owner", "wrong")
    assert post(fresh_client(), "/accounts/login/", "owner", PASSWORD)[0] == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=14))
    assert post(fresh_client(), "/accounts/login/", "owner", PASSWORD)[0] == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    c = fresh_client()
    assert post(c, "/accounts/login/", "owner", PASSWORD)[0] == 302 and logged_in(c)


def test_a_lockout_elsewhere_than_a_login_form_still_gets_a_clear_page(rf, owner) -> None:
    request = rf.post("/somewhere/")
    request.user = AnonymousUser()
    r = auth.lockout_response(request, None, None)
    assert r.status_code == 429
    assert auth.THROTTLED in r.content.decode()


# --- the username as Django resolves it --------------------------------------------------------


@pytest.mark.parametrize("path", LOGIN_PATHS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_reaches_the_same_account(colleague, path, spelling) -> None:
    # The premise: Django logs these in as "colleague", so they must share its count.
    c = fresh_client()
    assert post(c, path, spelling, PASSWORD)[0] == 302
    assert c.session["_auth_user_id"] == str(colleague.pk)


@pytest.mark.parametrize("path", LOGIN_PATHS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_locked_username_is_locked_in_every_spelling(colleague, path, spelling) -> None:
    attacker = fresh_client()
    for _ in range(12):
        post(attacker, "/accounts/login/", "colleague", "wrong")
    c = fresh_client()
    status, page = post(c, path, spelling, PASSWORD)
    assert status == 429 and "Too many failed attempts" in page
    assert not logged_in(c)


@pytest.mark.parametrize("path", LOGIN_PATHS)
def test_failures_in_different_spellings_add_up(colleague, path) -> None:
    for spelling in [*SPELLINGS, "Colleague"]:
        post(fresh_client(), path, spelling, "wrong")
    (attempts,) = AccessAttempt.objects.values_list("username", flat=True).distinct()
    assert attempts == "colleague"
    c = fresh_client()
    assert post(c, path, "colleague", PASSWORD)[0] == 429 and not logged_in(c)


def test_failed_logins_store_and_log_no_password(colleague, caplog) -> None:
    with caplog.at_level(logging.DEBUG):
        for _ in range(6):
            post(fresh_client(), "/admin/login/", "colleague", "hunter2-typed-password")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    stored = "".join(AccessAttempt.objects.values_list("post_data", flat=True))
    # Axes did log and store the failures, with the password masked.
    assert "AXES" in logged and "password=********************" in stored
    for text in (logged, stored):
        assert "hunter2-typed-password" not in text


# --- password-reset mails ----------------------------------------------------------------------


def reset(client: Client, email: str) -> str:
    r = client.post("/accounts/password_reset/", {"email": email})
    assert r.status_code == 302
    return str(r["Location"])


def test_thirty_reset_requests_send_three_mails_to_one_address(owner) -> None:
    c = fresh_client()
    answers = {reset(c, "owner@example.com" if i % 2 else "OWNER@example.com") for i in range(30)}
    assert answers == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == auth.RESET_MAILS_PER_ADDRESS == 3
    assert {m.to[0] for m in mail.outbox} == {"owner@example.com"}


def test_reset_requests_from_many_clients_still_send_three_mails(owner) -> None:
    answers = {reset(fresh_client(), "owner@example.com") for _ in range(30)}
    assert answers == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == 3


def test_one_client_gets_ten_reset_requests_an_hour(db) -> None:
    for i in range(12):
        make_user(f"user{i}")
    c = fresh_client()
    answers = {reset(c, f"user{i}@example.com") for i in range(12)}
    assert answers == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == auth.RESET_REQUESTS_PER_CLIENT == 10
    # Another client is not affected.
    reset(fresh_client(), "user11@example.com")
    assert mail.outbox[-1].to == ["user11@example.com"] and len(mail.outbox) == 11


def test_a_limited_reset_looks_like_any_other(owner) -> None:
    c = fresh_client()
    first = c.post("/accounts/password_reset/", {"email": "owner@example.com"}, follow=True)
    for _ in range(5):
        reset(c, "owner@example.com")
    limited = c.post("/accounts/password_reset/", {"email": "owner@example.com"}, follow=True)
    unknown = c.post("/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True)
    assert len(mail.outbox) == 3
    # Identical but for the CSRF token, which is masked afresh on every page.
    pages = {CSRF.sub("", r.content.decode()) for r in (first, limited, unknown)}
    assert len(pages) == 1 and "Check your email" in pages.pop()
