"""Invitations: the token stays out of every log, one sign-up per link, staff never join.

Issue 13, findings 4, 8 and 10.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from tests.conftest import PASSWORD, login, make_user
from tests.logcapture import everything_logged, records_kept
from wizard import services
from wizard.logging import redact
from wizard.models import Invitation, Membership

pytestmark = pytest.mark.django_db

SIGNUP = {"username": "newbie", "password1": "Sturdy-pass-4821", "password2": "Sturdy-pass-4821"}


def invite(tenant, email: str, role: str = "member") -> tuple[str, str]:
    """Invite through the service, as the team page does; (link path, token) from the mail."""
    services.invitation_create(
        tenant=tenant,
        email=email,
        role=role,
        user=None,
        accept_url=lambda token: f"http://testserver/invite/{token}/",
    )
    match = re.search(r"http://testserver(/invite/([^/\s]+)/)", str(mail.outbox[-1].body))
    assert match
    return match.group(1), match.group(2)


# --- finding 4: the token reaches no log ------------------------------------------------------


def test_a_forwarded_invitation_leaves_its_token_in_no_log_record(tenant, outsider) -> None:
    link, token = invite(tenant, "invited@example.com", role="owner")
    forwarded_to = login(outsider)
    with everything_logged() as out, records_kept() as kept:
        r = forwarded_to.get(link, follow=True)
        r2 = forwarded_to.post("/invite/")
    assert r.status_code == 403 and r2.status_code == 403
    assert "This invitation is for invited@example.com" in r.content.decode()
    assert not Membership.objects.filter(tenant=tenant, user=outsider).exists()
    assert "Forbidden: /invite/" in out.getvalue()  # the refusal is logged...
    assert token not in out.getvalue()  # ...without the token,
    assert kept.texts and not [t for t in kept.texts if token in t]  # even before redaction
    # The token is in no page address: the link only sets the session and moves on.
    assert r.redirect_chain == [("/invite/", 302)]


def test_the_link_sends_no_referer_and_keeps_the_token_out_of_the_address(client, tenant) -> None:
    link, token = invite(tenant, "new@example.com")
    r = client.get(link)
    assert r.status_code == 302 and r["Location"] == "/invite/"
    assert r["Referrer-Policy"] == "no-referrer"
    page = client.get("/invite/")
    assert page.status_code == 200 and "Create your account" in page.content.decode()
    assert token not in page.content.decode()


def test_the_log_filter_redacts_tokens_wherever_a_path_is_logged() -> None:
    token = "eyJpIjo0Mn0:1vQZlc:Wm9vYmFyYmF6cXV4cXV1eA"
    reset = "MQ/cdr6x1-4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
    for line in (
        f"Forbidden: /invite/{token}/",
        f'"GET /invite/{token}/ HTTP/1.1" 302 0',
        f'"GET /static/app.css HTTP/1.1" 200 9 "https://w.example/invite/{token}/" "Mozilla"',
        f'"GET /accounts/reset/{reset}/ HTTP/1.1" 302 0',
    ):
        cleaned = redact(line)
        assert token not in cleaned and "cdr6x1-4a5b" not in cleaned, cleaned
        assert "***" in cleaned
    # What carries no secret stays readable.
    assert redact('"GET /invite/ HTTP/1.1" 403 12') == '"GET /invite/ HTTP/1.1" 403 12'
    assert redact("/accounts/reset/MQ/set-password/") == "/accounts/reset/MQ/set-password/"


def test_runserver_access_lines_go_through_the_filter() -> None:
    token = "eyJpIjo0Mn0:1vQZlc:Wm9vYmFyYmF6cXV4cXV1eA"
    with everything_logged() as out:
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET /invite/{token}/ HTTP/1.1", 302, 0
        )
    assert "GET /invite/***/ HTTP/1.1" in out.getvalue()
    assert token not in out.getvalue()


def test_gunicorn_access_and_error_logs_go_through_the_filter(tmp_path) -> None:
    import runpy
    from datetime import timedelta
    from types import SimpleNamespace

    from django.conf import settings
    from gunicorn.config import Config

    conf = runpy.run_path(str(settings.BASE_DIR / "config" / "gunicorn_conf.py"))
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    log = conf["logger_class"](cfg)
    token = "eyJpIjo0Mn0:1vQZlc:Wm9vYmFyYmF6cXV4cXV1eA"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/invite/{token}/",
        "PATH_INFO": f"/invite/{token}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://w.example/invite/{token}/",
    }
    resp = SimpleNamespace(status="302 Found", sent=0, headers=[])
    log.access(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=3))
    log.error("Error handling request /invite/%s/", token)
    for handler in log.error_log.handlers + log.access_log.handlers:
        handler.flush()
    access = (tmp_path / "access.log").read_text()
    error = (tmp_path / "error.log").read_text()
    assert '"GET /invite/***/ HTTP/1.1" 302' in access
    assert "Error handling request /invite/***/" in error
    assert token not in access + error


# --- finding 8: one account per invitation ----------------------------------------------------


def test_a_second_sign_up_on_a_used_invitation_is_refused_and_creates_nothing(tenant) -> None:
    link, _token = invite(tenant, "new@example.com")
    first, second = Client(), Client()
    first.get(link)
    second.get(link)  # both opened the link before either signed up
    r = first.post("/invite/", SIGNUP)
    assert r.status_code == 302 and r["Location"] == f"/t/{tenant.code}/"
    r = second.post("/invite/", {**SIGNUP, "username": "another"})
    assert r.status_code == 410
    assert "This invitation was already used. Log in instead." in r.content.decode()
    assert not User.objects.filter(username="another").exists()
    assert Membership.objects.filter(tenant=tenant, user__email="new@example.com").count() == 1


def test_the_sign_up_service_claims_before_it_creates(tenant) -> None:
    invite(tenant, "new@example.com")
    invitation = Invitation.objects.get(email="new@example.com")
    services.invitation_signup(invitation=invitation, username="one", password="Sturdy-pass-4821")
    with pytest.raises(services.InvitationInvalid, match="already used"):
        services.invitation_signup(
            invitation=invitation, username="two", password="Sturdy-pass-4821"
        )
    assert not User.objects.filter(username="two").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == User.objects.get(username="one")


# --- finding 10: staff are never members ------------------------------------------------------


def test_an_account_manager_cannot_invite_themselves(am_client, am_assigned, tenant) -> None:
    r = am_client.post(
        f"/manage/t/{tenant.code}/invite/",
        {"email": am_assigned.email.upper(), "role": "owner"},
        follow=True,
    )
    html = r.content.decode()
    assert "belongs to a staff account" in html
    assert "never members of a partner tenant" in html
    assert not Invitation.objects.exists() and not mail.outbox
    assert not Membership.objects.filter(user=am_assigned).exists()


def test_an_owner_cannot_invite_a_staff_address_either(owner_client, tenant, staff) -> None:
    r = owner_client.post(
        f"/t/{tenant.code}/team/", {"email": staff.email, "role": "member"}, follow=True
    )
    assert "belongs to a staff account" in r.content.decode()
    assert not Invitation.objects.exists()


def test_staff_cannot_accept_an_invitation(tenant) -> None:
    link, _token = invite(tenant, "later-staff@example.com", role="owner")
    # The address became a staff account after the invitation was sent.
    staff = make_user("later-staff", is_staff=True)
    c = Client()
    r = c.get(link, follow=True)
    assert "Log in" in r.content.decode()  # an account with that address exists
    c.post("/accounts/login/", {"username": "later-staff", "password": PASSWORD})
    r = c.post("/invite/")
    assert r.status_code == 403
    html = r.content.decode()
    assert "You are logged in with a staff account (later-staff)" in html
    assert "never members of a partner tenant" in html
    assert not Membership.objects.filter(user=staff).exists()
    assert Invitation.objects.get().accepted_at is None


def test_signing_up_with_a_staff_address_is_refused(tenant) -> None:
    invite(tenant, "boss@example.com", role="owner")
    invitation = Invitation.objects.get()
    make_user("boss", is_staff=True)  # boss@example.com, made staff after the invitation
    with pytest.raises(services.InvitationRefused, match="belongs to a staff account"):
        services.invitation_signup(
            invitation=invitation, username="boss2", password="Sturdy-pass-4821"
        )
    assert not User.objects.filter(username="boss2").exists()


def test_no_service_and_no_admin_form_makes_staff_a_member(tenant, staff) -> None:
    with pytest.raises(services.StaffNotMember, match="never members"):
        services.membership_add(tenant=tenant, user=staff, role="owner", actor=None)
    with pytest.raises(ValidationError, match="never members"):
        Membership(tenant=tenant, user=staff, role="member").full_clean()
    assert not Membership.objects.filter(user=staff).exists()
