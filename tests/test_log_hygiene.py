"""Nothing that lets someone in is ever logged: a full walk, with every log line captured.

Every logger at DEBUG, every line the configured handlers write (tests/logcapture.py), through
a whole walk: log in (once wrongly), every step with a real sandbox Secret and verifications,
an invitation (forwarded, forged, then signed up), a password reset, the staff pages, the CSV,
the JSON API, the admin, a reset and a logout. Then no line may hold the Secret, the integration
code, a password, an invitation token or a password-reset token. The goal figure in
docs/security.md ("0 tokens, Secrets or passwords in any log line") is this test.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from tests.conftest import PASSWORD, make_user
from tests.logcapture import everything_logged, records_kept
from wizard import steps
from wizard.models import Membership, StepProgress
from wizard.sandbox import SANDBOX_SECRET

pytestmark = pytest.mark.django_db

SIGNUP_PASSWORD = "Signup-pass-7315-unique"
NEW_PASSWORD = "Reset-pass-9047-unique"
WRONG_PASSWORD = "Wrong-pass-2286-unique"


def last_link(pattern: str) -> re.Match[str]:
    match = re.search(pattern, str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match


def test_a_full_walk_logs_no_token_secret_or_password(
    settings, owner, tenant, outsider, django_capture_on_commit_callbacks
) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    statuses: dict[str, int] = {}

    def hit(name: str, response: Any) -> Any:
        statuses[name] = response.status_code
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    with everything_logged() as out, records_kept() as kept:
        # Log in, once with a wrong password.
        partner = Client()
        hit(
            "login.wrong",
            partner.post("/accounts/login/", {"username": "owner", "password": WRONG_PASSWORD}),
        )
        hit("login", partner.post("/accounts/login/", {"username": "owner", "password": PASSWORD}))
        base = f"/t/{tenant.code}"
        hit(
            "account",
            partner.post(
                f"{base}/account/",
                {
                    "branch": "existing",
                    "checklist": ["signed-in", "admin-access"],
                    "checklist_shown": "",
                    "action": "next",
                },
                follow=True,
            ),
        )
        hit(
            "credentials",
            partner.post(
                f"{base}/api-user/",
                {
                    "username": "healthy@sandbox.example",
                    "secret": SANDBOX_SECRET,
                    "checklist": [i.id for i in steps.STEPS_BY_KEY["api-user"].checklist],
                    "checklist_shown": "",
                    "action": "save",
                },
                follow=True,
            ),
        )
        for key in ("api-user", "security-level"):
            hit(f"verify.{key}", partner.post(f"{base}/{key}/verify/", follow=True))
        hit(
            "contract",
            partner.post(
                f"{base}/recurring-contract/",
                {
                    "sync_start": "next",
                    "add_company_id": "101",
                    "add_contract_id": "2001",
                    "checklist_shown": "",
                    "action": "add",
                },
                follow=True,
            ),
        )
        hit(
            "picker",
            partner.get(
                f"{base}/recurring-contract/picker/", {"q": "Contoso"}, HTTP_HX_REQUEST="true"
            ),
        )
        hit("verify.recurring", partner.post(f"{base}/recurring-contract/verify/", follow=True))
        hit("skip.annual", partner.post(f"{base}/annual-contract/skip/", follow=True))
        hit("verify.review", partner.post(f"{base}/review/verify/", follow=True))
        for key in steps.STEP_KEYS:
            hit(f"step.{key}", partner.get(f"{base}/{key}/"))

        # An invitation: forwarded to someone else, forged, then used by the right person.
        hit(
            "invite",
            partner.post(
                f"{base}/team/", {"email": "new@example.com", "role": "owner"}, follow=True
            ),
        )
        invite = last_link(r"http://testserver(/invite/([^/\s]+)/)")
        invitation_link, invitation_token = invite.group(1), invite.group(2)
        forwarded = Client()
        forwarded.force_login(outsider)
        hit("invite.forwarded", forwarded.get(invitation_link, follow=True))
        hit("invite.forged", Client().get(invitation_link[:-4] + "xx/", follow=True))
        hit("invite.put", Client().put(invitation_link))
        newcomer = Client()
        hit("invite.open", newcomer.get(invitation_link, follow=True))
        hit(
            "invite.signup",
            newcomer.post(
                "/invite/",
                {
                    "username": "newcomer",
                    "password1": SIGNUP_PASSWORD,
                    "password2": SIGNUP_PASSWORD,
                },
            ),
        )

        # A password reset, with a wrong token first.
        anonymous = Client()
        hit("reset.ask", anonymous.post("/accounts/password_reset/", {"email": owner.email}))
        reset = last_link(r"http://testserver(/accounts/reset/([^/\s]+)/([^/\s]+)/)")
        reset_link, reset_token = reset.group(1), reset.group(3)
        hit("reset.forged", anonymous.get(reset_link.replace(reset_token, "x" + reset_token[1:])))
        r = hit("reset.open", anonymous.get(reset_link, follow=True))
        hit(
            "reset.set",
            anonymous.post(
                r.redirect_chain[-1][0],
                {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            ),
        )

        # Staff: dashboard, tenant page, CSV, API, admin, a bad filter, an invitation, a reset.
        staff = Client()
        admin = make_user("root", is_staff=True, is_superuser=True)
        hit(
            "staff.login",
            staff.post("/accounts/login/", {"username": "root", "password": PASSWORD}),
        )
        for url in (
            "/manage/",
            f"/manage/t/{tenant.code}/",
            "/manage/export.csv",
            "/api/v1/tenants/",
            f"/api/v1/tenants/{tenant.code}/",
            "/api/v1/tenants/?q=a%00b",
            "/manage/?state=bogus",
            f"/admin/wizard/tenant/{tenant.pk}/change/",
            "/admin/wizard/autotaskcredential/",
            "/admin/wizard/auditevent/",
            "/admin/wizard/invitation/",
            "/admin/wizard/auditevent/add/",
        ):
            hit(url, staff.get(url))
        hit(
            "staff.invite",
            staff.post(f"/manage/t/{tenant.code}/invite/", {"email": admin.email, "role": "owner"}),
        )
        with django_capture_on_commit_callbacks(execute=True):
            hit(
                "staff.reset",
                staff.post(
                    f"/manage/t/{tenant.code}/reset/",
                    {"from_step": "review", "reason": "log hygiene"},
                    follow=True,
                ),
            )
        hit("logout", partner.post("/accounts/logout/"))

    # The walk did what it says (else the search below would prove nothing).
    results = StepProgress.objects.get(tenant=tenant, step_key="api-user").check_results
    assert results and {r["status"] for r in results} == {"pass"}
    assert statuses["login"] == 302 and statuses["login.wrong"] == 200
    assert statuses["invite.forwarded"] == 403 and statuses["invite.forged"] == 410
    assert statuses["invite.put"] == 405 and statuses["invite.signup"] == 302
    assert Membership.objects.filter(tenant=tenant, user__username="newcomer").exists()
    assert statuses["reset.set"] == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert statuses["/api/v1/tenants/?q=a%00b"] == 400 and statuses["/manage/?state=bogus"] == 400
    assert statuses["/admin/wizard/auditevent/add/"] == 403

    logged = out.getvalue()

    # Everything that should be logged was: the Autotask calls, the refusals.
    assert "Autotask GET" in logged
    assert "Forbidden: /invite/" in logged
    assert "Method Not Allowed (PUT): /invite/***/" in logged
    assert "Bad Request: /api/v1/tenants/" in logged
    never = {
        "the Secret": SANDBOX_SECRET,
        "the integration code": settings.AUTOTASK_INTEGRATION_CODE,
        "the login password": PASSWORD,
        "a wrong password": WRONG_PASSWORD,
        "the sign-up password": SIGNUP_PASSWORD,
        "the new password": NEW_PASSWORD,
        "the invitation token": invitation_token,
        "the password-reset token": reset_token,
    }
    for what, value in never.items():
        assert value not in logged, f"{what} is in the log"
    # Not even before the redacting filter, except where a request path is the message itself
    # (Django's "Method Not Allowed (PUT): /invite/<token>/"): those the filter redacts above.
    raw = [t for t in kept.texts if "Method Not Allowed (PUT)" not in t]
    for what, value in never.items():
        assert not [t for t in raw if value in t], f"{what} is in a log record"
