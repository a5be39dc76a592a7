"""Trust: secrets at rest and in transit through the app, production settings, lockout.

Login throttling and password-reset limits are in tests/test_auth.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client

from wizard import crypto, services, steps
from wizard.logging import RedactSecretsFilter, redact
from wizard.models import AuditEvent, AutotaskCredential, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET, default_sandbox

ROOT = Path(__file__).resolve().parents[1]
PROD_ENV = {
    "PATH": os.environ["PATH"],
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60 + "-production-like-key-for-the-check-only-0123456789",
    "SECRET_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "AUTOTASK_INTEGRATION_CODE": "PROD-CODE",
    "ALLOWED_HOSTS": "wizard.example.com",
    "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
    "DATABASE_URL": "sqlite:////tmp/wizard-deploy-check.sqlite3",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_in_production() -> None:
    result = manage("check", "--deploy", env=PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "SECRET_ENCRYPTION_KEYS", "AUTOTASK_INTEGRATION_CODE", "EMAIL_URL"]
)
def test_a_missing_secret_stops_start_up_naming_it(name) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != name}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"The environment variable {name} is required" in result.stderr


def test_a_malformed_encryption_key_stops_start_up_without_echoing_it() -> None:
    result = manage("check", env={**PROD_ENV, "SECRET_ENCRYPTION_KEYS": "not-a-key-but-secret"})
    assert result.returncode != 0
    assert "SECRET_ENCRYPTION_KEYS holds a value that is not a Fernet key" in result.stderr
    assert "not-a-key-but-secret" not in result.stderr


@pytest.mark.parametrize("name", ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "STATIC_MANIFEST"])
def test_empty_optional_settings_mean_the_default(name) -> None:
    result = manage("check", "--deploy", env={**PROD_ENV, name: ""})
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_a_malformed_encryption_key_is_refused_without_echoing_it(settings) -> None:
    settings.SECRET_ENCRYPTION_KEYS = ["not-a-fernet-key-but-secret"]
    with pytest.raises(ImproperlyConfigured) as e:
        crypto.encrypt_secret("x")
    assert "not-a-fernet-key-but-secret" not in str(e.value)
    assert "Fernet" in str(e.value)


@pytest.mark.django_db
def test_production_headers(client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = False
    r = client.get("/accounts/login/", secure=True)
    assert r["Strict-Transport-Security"].startswith("max-age=31536000")
    assert r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Content-Type-Options"] == "nosniff"
    csp = r["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


@pytest.mark.django_db
def test_rotate_secret_keys_reencrypts_with_the_newest_key(settings, tenant, capsys) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRET_ENCRYPTION_KEYS = [old]
    services.credentials_save(
        tenant=tenant, user=None, username="a@x.example", secret="Rotate-Me-123"
    )
    settings.SECRET_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_secret_keys")
    token = AutotaskCredential.objects.get(tenant=tenant).secret_encrypted
    assert Fernet(new.encode()).decrypt(token.encode()) == b"Rotate-Me-123"
    settings.SECRET_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt_secret(token) == "Rotate-Me-123"
    assert "Re-encrypted 1 secret(s)" in capsys.readouterr().out


def test_log_filter_redacts_credentials() -> None:
    assert (
        redact("headers={'Secret': 'abc123', 'UserName': 'u'}")
        == "headers={'Secret': '***', 'UserName': 'u'}"
    )
    assert redact("POST secret=hunter2&x=1") == "POST secret=***&x=1"
    assert "gAAAAA" not in redact("token gAAAAABlongfernettokenvalue0123456789012345678901234567")
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "sent %s", ({"Secret": "p4ss"},), None
    )
    RedactSecretsFilter().filter(record)
    assert "p4ss" not in record.getMessage()


# --- the full walk: the plaintext Secret is nowhere ------------------------------------------


@pytest.mark.django_db
def test_the_secret_is_found_nowhere_after_a_full_walk(
    settings, owner, tenant, caplog, django_capture_on_commit_callbacks
) -> None:
    """Walk every step with a real (sandbox) Secret, then search everything for it."""
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    caplog.set_level(logging.DEBUG)
    secret = SANDBOX_SECRET
    c = Client()
    c.force_login(owner)
    bodies: list[str] = []

    def keep(r) -> None:
        content = b"".join(r.streaming_content) if r.streaming else r.content
        bodies.append(content.decode())

    base = f"/t/{tenant.code}"
    keep(
        c.post(
            f"{base}/account/",
            {
                "branch": "existing",
                "time_zone": "Australia/Sydney",
                "checklist": ["signed-in", "admin-access"],
                "checklist_shown": "",
                "action": "next",
            },
            follow=True,
        )
    )
    keep(
        c.post(
            f"{base}/api-user/",
            {
                "username": "healthy@sandbox.example",
                "secret": secret,
                "checklist": [i.id for i in steps.STEPS_BY_KEY["api-user"].checklist],
                "checklist_shown": "",
                "action": "save",
            },
            follow=True,
        )
    )
    for key in ("api-user", "security-level"):
        keep(c.post(f"{base}/{key}/verify/", follow=True))
    keep(
        c.post(
            f"{base}/recurring-contract/",
            {
                "sync_start": "next",
                "add_company_id": "101",
                "add_contract_id": "2001",
                "checklist_shown": "",
                "action": "add",
            },
            follow=True,
        )
    )
    keep(c.get(f"{base}/recurring-contract/", {"q": "Contoso"}))
    keep(c.post(f"{base}/recurring-contract/verify/", follow=True))
    keep(c.post(f"{base}/annual-contract/skip/", follow=True))
    keep(c.post(f"{base}/review/verify/", follow=True))
    for key in steps.STEP_KEYS:
        keep(c.get(f"{base}/{key}/", HTTP_HX_REQUEST="true"))
    keep(c.get(f"{base}/team/"))
    # Staff views of the same tenant.
    staff = Client()
    from tests.conftest import make_user

    admin = make_user("root", is_staff=True, is_superuser=True)
    staff.force_login(admin)
    for url in (
        "/manage/",
        f"/manage/t/{tenant.code}/",
        "/manage/export.csv",
        "/api/v1/tenants/",
        f"/admin/wizard/tenant/{tenant.pk}/change/",
        "/admin/wizard/autotaskcredential/",
        "/admin/wizard/auditevent/",
    ):
        keep(staff.get(url))
    with django_capture_on_commit_callbacks(execute=True):
        keep(
            staff.post(
                f"/manage/t/{tenant.code}/reset/",
                {"from_step": "review", "reason": "check"},
                follow=True,
            )
        )

    the_walk_worked = StepProgress.objects.get(tenant=tenant, step_key="api-user").check_results
    assert the_walk_worked and {r["status"] for r in the_walk_worked} == {"pass"}
    # The sandbox's own help text names the demo Secret on the API user page; that is public
    # demo text, so it is removed before searching (the field itself must never hold it).
    public = f"<code>{secret}</code>"
    for body in bodies:
        assert secret not in body.replace(public, ""), body[:300]
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.__dict__)
    for event in AuditEvent.objects.all():
        assert secret not in str(event.detail)
    for message in mail.outbox:
        assert secret not in message.body
    with connection.cursor() as cursor:
        for model in (Tenant, StepProgress, AuditEvent, AutotaskCredential):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608
            assert secret not in repr(cursor.fetchall())


@pytest.mark.django_db
def test_an_error_page_shows_nothing_of_the_request(owner, tenant, monkeypatch) -> None:
    def boom(**_kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(services.answers, "credentials_save", boom)
    c = Client(raise_request_exception=False)
    c.force_login(owner)
    r = c.post(
        f"/t/{tenant.code}/api-user/",
        {
            "username": "a@x.example",
            "secret": "Leak-Me-Not-42",
            "checklist_shown": "",
            "action": "save",
        },
    )
    assert r.status_code == 500
    assert "Leak-Me-Not-42" not in r.content.decode()
    assert "Nothing you saved is lost" in r.content.decode()


# --- lockout safety --------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_wrong_secrets_pause_credential_tests(settings, owner_client, tenant) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    sandbox = default_sandbox(settings.AUTOTASK_INTEGRATION_CODE)
    base = f"/t/{tenant.code}/api-user"
    owner_client.post(
        f"{base}/",
        {
            "username": "healthy@sandbox.example",
            "secret": "wrong-1",
            "checklist_shown": "",
            "action": "save",
        },
    )
    owner_client.post(f"{base}/verify/")
    owner_client.post(
        f"{base}/",
        {
            "username": "healthy@sandbox.example",
            "secret": "wrong-2",
            "checklist_shown": "",
            "action": "save",
        },
    )
    owner_client.post(f"{base}/verify/")
    before = sandbox.request_count("healthy@sandbox.example")
    # The same refused Secret typed again is not new credentials: the pause holds.
    owner_client.post(
        f"{base}/",
        {
            "username": "healthy@sandbox.example",
            "secret": "wrong-2",
            "checklist_shown": "",
            "action": "save",
        },
    )
    r = owner_client.post(f"{base}/verify/", follow=True)
    html = r.content.decode()
    assert "refused this API user&#x27;s credentials twice in a row" in html
    assert "Security tab, untick Locked" in html
    assert sandbox.request_count("healthy@sandbox.example") == before  # nothing sent
    # The pause also covers the pickers, and says so.
    r = owner_client.get(
        f"/t/{tenant.code}/recurring-contract/picker/", {"q": "a"}, HTTP_HX_REQUEST="true"
    )
    assert "The customer search is paused" in r.content.decode()
    # New credentials get one attempt at once; the right Secret works, the counter restarts.
    owner_client.post(
        f"{base}/",
        {
            "username": "healthy@sandbox.example",
            "secret": SANDBOX_SECRET,
            "checklist_shown": "",
            "action": "save",
        },
    )
    owner_client.post(f"{base}/verify/")
    tenant.refresh_from_db()
    assert tenant.auth_failures == 0
    assert {
        r["status"]
        for r in StepProgress.objects.get(tenant=tenant, step_key="api-user").check_results
    } == {"pass"}
