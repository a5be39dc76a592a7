"""Drift watch: break a finished tenant in the sandbox, re-verify, see it flagged and mailed
once; fix it, see it recover."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command

from tests.factories import fill_in
from wizard import reverify, services
from wizard.autotask import limits
from wizard.models import AuditEvent, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET, Sandbox
from wizard.sandbox import adapter as sandbox_adapter

pytestmark = pytest.mark.django_db

USER = "healthy@sandbox.example"


@pytest.fixture
def sandbox(settings, monkeypatch) -> Sandbox:
    """A private sandbox per test, so breaking it cannot leak into other tests."""
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    limits.reset()
    box = Sandbox(
        settings.AUTOTASK_INTEGRATION_CODE,
        base_url="https://webservices-sandbox.autotask.test/ATServicesRest/",
        threshold_latency=False,
    )
    monkeypatch.setattr(sandbox_adapter, "default_sandbox", lambda _code: box)
    return box


def finished_tenant(name: str, owner, manager=None, username: str = USER) -> Tenant:
    """A tenant that completed the wizard for real, against the sandbox."""
    tenant = services.tenant_create(name=name, owner=owner, account_manager=manager)
    fill_in(tenant, username=username, tick=True)
    services.step_verify(tenant=tenant, step_key="review", user=None)
    tenant.refresh_from_db()
    assert tenant.current_step_index == 7, [(p.step_key, p.state) for p in tenant.progress.all()]
    return tenant


@pytest.fixture
def manager(db):
    from tests.conftest import make_user

    return make_user("am", is_staff=True)


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("verify_tenants", "--concurrency", "1", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("breakage", "drifted_id"),
    [
        ("expire_secret", "auth.secret"),
        ("remove_right", "access.contracts"),
        ("end_contract", "contract.end-date"),
    ],
)
def test_breaking_a_finished_tenant_is_noticed_mailed_once_and_recovers(
    sandbox, owner, manager, django_capture_on_commit_callbacks, breakage, drifted_id
) -> None:
    tenant = finished_tenant("Tailspin Cloud", owner, manager)
    undo = {
        "expire_secret": (
            lambda: sandbox.expire_secret(USER),
            lambda: sandbox.restore_secret(USER),
        ),
        "remove_right": (
            lambda: sandbox.set_access(USER, "Contracts", update=0),
            lambda: sandbox.set_access(USER, "Contracts", update=1),
        ),
        "end_contract": (
            lambda: sandbox.end_contract(
                2001, on=sandbox.today.replace(day=1) - __import__("datetime").timedelta(days=1)
            ),
            lambda: sandbox.update_record("Contracts", 2001, endDate=None),
        ),
    }[breakage]
    undo[0]()
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command()
    tenant.refresh_from_db()
    assert "1 drifted" in out
    assert [d["id"] for d in tenant.drift_checks] == [drifted_id]
    assert tenant.needs_attention
    event = AuditEvent.objects.get(tenant=tenant, action="drift_detected")
    assert event.detail["checks"][0]["id"] == drifted_id
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["am@example.com", "owner@example.com"]
    assert "needs attention" in mail.outbox[0].subject
    assert f"/t/{tenant.code}/" in mail.outbox[0].body
    assert SANDBOX_SECRET not in mail.outbox[0].body
    # Still broken on the next run: no second email (and, for a refused Secret, no request).
    calls_before = sandbox.request_count()
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command()
    assert len(mail.outbox) == 1
    if breakage == "expire_secret":
        assert "1 stopped" in out
        assert sandbox.request_count() == calls_before
    # The dashboard filters on drift.
    from tests.conftest import login

    manager.is_superuser = True
    manager.save()
    html = login(manager).get("/manage/?drift=1").content.decode()
    assert "Tailspin Cloud" in html and ">Drift</span>" in html
    # Fixed: recovery is recorded and mailed, the drift cleared. (An expired Secret was
    # refused twice by now, so credential tests pause; let those 15 minutes pass.)
    undo[1]()
    Tenant.objects.filter(pk=tenant.pk).update(auth_paused_until=None)
    if breakage == "expire_secret":
        # The partner saves a new Secret: the daily re-check starts again.
        services.credentials_save(tenant=tenant, user=owner, username=USER, secret=SANDBOX_SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command()
    tenant.refresh_from_db()
    assert "1 recovered" in out
    assert tenant.drift_since is None and tenant.drift_checks == []
    assert AuditEvent.objects.filter(tenant=tenant, action="drift_recovered").count() == 1
    assert len(mail.outbox) == 2 and "healthy again" in mail.outbox[1].subject
    assert "Tailspin Cloud" not in login(manager).get("/manage/?drift=1").content.decode()


def test_a_healthy_tenant_is_just_verified(sandbox, owner) -> None:
    tenant = finished_tenant("Fine", owner)
    out = run_command("--tenant", str(tenant.code))
    assert "Re-verified 1 tenant(s)" in out and "1 verified" in out
    assert not mail.outbox


def test_busy_tenants_are_postponed_not_verified(sandbox, owner) -> None:
    tenant = finished_tenant("Busy", owner, username="near-threshold@sandbox.example")
    before = list(
        StepProgress.objects.filter(tenant=tenant).values_list("check_results", flat=True)
    )
    out = run_command("--tenant", "Busy")
    assert "1 postponed" in out
    assert (
        list(StepProgress.objects.filter(tenant=tenant).values_list("check_results", flat=True))
        == before
    )
    assert AuditEvent.objects.filter(tenant=tenant, action="reverification_postponed").exists()


def test_which_tenants_are_reverified(sandbox, owner) -> None:
    done = finished_tenant("Done", owner)
    half = services.tenant_create(name="Half")
    services.credentials_save(tenant=half, user=None, username=USER, secret=SANDBOX_SECRET)
    services.tenant_create(name="No credentials")
    assert [t.name for t in reverify.tenants_to_reverify()] == ["Done"]
    assert {t.name for t in reverify.tenants_to_reverify(include_unfinished=True)} == {
        "Done",
        "Half",
    }
    Tenant.objects.filter(pk=done.pk).update(
        current_step_index=3, drift_since="2026-01-01T00:00:00Z"
    )
    assert [t.name for t in reverify.tenants_to_reverify()] == ["Done"]  # recovery watched


def test_the_task_runs_through_the_task_backend(sandbox, owner) -> None:
    from wizard.tasks import reverify_tenant

    tenant = finished_tenant("Task", owner)
    result = reverify_tenant.enqueue(tenant.pk)
    assert result.return_value is not None
    assert result.return_value["status"] == "verified"


def test_unknown_tenant_and_bad_concurrency_are_errors() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No single tenant"):
        call_command("verify_tenants", "--tenant", "nobody")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("verify_tenants", "--concurrency", "0")


def test_an_unreachable_autotask_is_not_read_as_recovery(
    sandbox, owner, manager, django_capture_on_commit_callbacks, monkeypatch, settings
) -> None:
    tenant = finished_tenant("Outage", owner, manager)
    sandbox.set_access(USER, "Contracts", update=0)
    with django_capture_on_commit_callbacks(execute=True):
        run_command()
    tenant.refresh_from_db()
    assert tenant.drift_since is not None
    before = list(
        StepProgress.objects.filter(tenant=tenant).values_list("check_results", flat=True)
    )
    # Autotask goes away (timeouts): the run learns nothing and changes nothing.
    import requests

    def down(*_a, **_k):
        raise requests.exceptions.ConnectTimeout("down")

    monkeypatch.setattr(requests.Session, "request", down)
    settings.AUTOTASK_BACKOFF_SECONDS = 0
    cache.clear()  # the zone must be looked up again, and fails too
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command()
    tenant.refresh_from_db()
    assert "1 unreachable" in out
    assert tenant.drift_since is not None
    assert (
        list(StepProgress.objects.filter(tenant=tenant).values_list("check_results", flat=True))
        == before
    )
    assert len(mail.outbox) == 1  # the drift alert only, no false "healthy again"


def test_a_mail_failure_does_not_stop_the_run(
    sandbox, owner, manager, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from django.core.mail.backends.locmem import EmailBackend

    tenant = finished_tenant("Mailless", owner, manager)
    other = finished_tenant("Other", owner, manager)
    sandbox.expire_secret(USER)

    def broken(*_args, **_kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", broken)
    with django_capture_on_commit_callbacks(execute=True):
        out = run_command()
    assert "2 drifted" in out
    for t in (tenant, other):
        t.refresh_from_db()
        assert t.drift_since is not None


def test_the_alert_links_partners_and_staff_to_their_own_pages(
    sandbox, owner, manager, django_capture_on_commit_callbacks
) -> None:
    tenant = finished_tenant("Links", owner, manager)
    sandbox.expire_secret(USER)
    with django_capture_on_commit_callbacks(execute=True):
        run_command()
    body = mail.outbox[0].body
    assert f"Partners: http://127.0.0.1:8000/t/{tenant.code}/api-user/" in body
    assert f"Account managers: http://127.0.0.1:8000/manage/t/{tenant.code}/" in body


def test_a_reset_ends_a_drift_episode(
    sandbox, owner, manager, django_capture_on_commit_callbacks
) -> None:
    tenant = finished_tenant("Reset", owner, manager)
    sandbox.expire_secret(USER)
    with django_capture_on_commit_callbacks(execute=True):
        run_command()
        services.wizard_reset(tenant=tenant, from_step="api-user", reason="new user", user=None)
    tenant.refresh_from_db()
    assert tenant.drift_since is None and tenant.drift_checks == []


def test_a_refused_secret_stops_the_daily_recheck_until_new_credentials(
    sandbox, owner, manager
) -> None:
    from tests.conftest import login

    tenant = finished_tenant("Refused", owner, manager)
    sandbox.expire_secret(USER)
    assert "1 drifted" in run_command("--tenant", "Refused")
    tenant.refresh_from_db()
    assert tenant.credentials_refused_at is not None

    # Day after day, the same refused Secret is never sent again.
    calls = sandbox.request_count()
    for _ in range(3):
        assert "1 stopped" in run_command("--tenant", "Refused")
    assert sandbox.request_count() == calls
    outcome = reverify.tenant_reverify(tenant=tenant)
    assert outcome.status == "stopped"
    assert "until someone saves new credentials" in outcome.detail
    assert tenant.auth_failures <= 1  # one failed login, not one a day

    # Staff see why, on the dashboard and the tenant page.
    manager.is_superuser = True
    manager.save()
    staff = login(manager)
    assert "Re-check stopped" in staff.get("/manage/").content.decode()
    page = staff.get(f"/manage/t/{tenant.code}/").content.decode()
    assert "Daily re-check stopped since" in page

    # New credentials: the re-check runs again.
    sandbox.restore_secret(USER)
    services.credentials_save(tenant=tenant, user=owner, username=USER, secret=SANDBOX_SECRET)
    tenant.refresh_from_db()
    assert tenant.credentials_refused_at is None
    assert "Re-check stopped" not in staff.get("/manage/").content.decode()
    assert "1 stopped" not in run_command("--tenant", "Refused")
    assert sandbox.request_count() > calls


def test_a_person_verifying_successfully_also_restarts_the_recheck(sandbox, owner) -> None:
    tenant = finished_tenant("Unlocked", owner)
    sandbox.expire_secret(USER)
    run_command("--tenant", "Unlocked")
    tenant.refresh_from_db()
    assert tenant.credentials_refused_at is not None
    # The partner unlocks the API user in Autotask and verifies by hand.
    sandbox.restore_secret(USER)
    Tenant.objects.filter(pk=tenant.pk).update(auth_paused_until=None)
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    tenant.refresh_from_db()
    assert tenant.credentials_refused_at is None
