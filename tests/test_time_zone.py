"""The tenant's time zone: stored, audited, the partner's "today", and every date read in it."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command

from tests.factories import fill_in
from wizard import checks, selectors, services
from wizard.autotask import limits
from wizard.models import AuditEvent, AutotaskCredential, StepProgress, Tenant
from wizard.sandbox import Sandbox
from wizard.sandbox import adapter as sandbox_adapter
from wizard.steps import time_zone_needed

pytestmark = pytest.mark.django_db

# 31 January 2026, 13:30 UTC: 1 February in Sydney, 31 January in New York.
MONTH_EDGE = datetime.datetime(2026, 1, 31, 13, 30, tzinfo=datetime.UTC)


@pytest.fixture
def sandbox(settings, monkeypatch) -> Sandbox:
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


def at(monkeypatch, instant: datetime.datetime) -> None:
    """Move the app's and the sandbox's clocks to ``instant``."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: instant)
    monkeypatch.setattr("wizard.autotask.dates._now", lambda: instant)


def state(tenant: Tenant, key: str) -> str:
    return StepProgress.objects.get(tenant=tenant, step_key=key).state


def results(tenant: Tenant, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = StepProgress.objects.get(
        tenant=tenant, step_key=key
    ).check_results
    return found


# --- storing it ----------------------------------------------------------------------------------


def test_saving_the_time_zone_is_audited_and_clears_results_read_in_the_old_one(
    tenant, owner, sandbox
) -> None:
    fill_in(tenant, user=owner, tick=True)
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    services.step_verify(tenant=tenant, step_key="recurring-contract", user=owner)
    assert results(tenant, "recurring-contract") and state(tenant, "recurring-contract") == "done"

    services.tenant_time_zone_save(
        tenant=tenant, user=owner, time_zone="Pacific/Auckland", seen="Australia/Sydney"
    )
    tenant.refresh_from_db()
    assert tenant.time_zone == "Pacific/Auckland"
    event = AuditEvent.objects.filter(tenant=tenant, action="answers_saved").first()
    assert event is not None and event.actor == owner and event.step_key == "account"
    assert event.detail == {
        "fields": ["time_zone"],
        "time_zone": "Pacific/Auckland",
        "previous": "Australia/Sydney",
    }
    # Contract dates must be read again in the new zone; the API user's results still hold.
    assert results(tenant, "recurring-contract") == []
    assert state(tenant, "recurring-contract") == "in_progress"
    assert results(tenant, "api-user")


def test_a_colleagues_time_zone_is_not_overwritten_silently(tenant, owner, member) -> None:
    services.tenant_time_zone_save(tenant=tenant, user=member, time_zone="Australia/Perth", seen="")
    with pytest.raises(services.EditConflict) as conflict:
        services.tenant_time_zone_save(
            tenant=tenant, user=owner, time_zone="America/New_York", seen=""
        )
    assert conflict.value.fields == {"time_zone": "Australia/Perth"}
    tenant.refresh_from_db()
    assert tenant.time_zone == "Australia/Perth"
    # The same value twice is no conflict, and no second audit event.
    services.tenant_time_zone_save(tenant=tenant, user=owner, time_zone="Australia/Perth", seen="")
    assert AuditEvent.objects.filter(tenant=tenant, action="answers_saved").count() == 1


@pytest.mark.parametrize("bad", ["Sydney", "Australia/Atlantis", "localtime", "../../etc/passwd"])
def test_only_iana_zones_are_stored(tenant, bad) -> None:
    with pytest.raises(ValueError, match="Unknown time zone"):
        services.tenant_time_zone_save(tenant=tenant, user=None, time_zone=bad, seen="")
    tenant.refresh_from_db()
    assert tenant.time_zone == ""


def test_the_account_step_needs_the_time_zone(tenant) -> None:
    fill_in(tenant, tick=True, time_zone="")
    assert state(tenant, "account") == "in_progress"
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Australia/Sydney", seen="")
    assert state(tenant, "account") == "done"


# --- no time zone yet ----------------------------------------------------------------------------


def test_without_a_time_zone_contract_steps_ask_for_it_and_call_nobody(tenant, sandbox) -> None:
    fill_in(tenant, tick=True, time_zone="", annual=((101, 2012),))
    view = selectors.wizard_overview(tenant)
    assert time_zone_needed() in view.get("recurring-contract").evaluation.blockers
    assert time_zone_needed() in view.get("annual-contract").evaluation.blockers
    sandbox.reset_counts()
    for key in ("recurring-contract", "annual-contract"):
        with pytest.raises(services.NothingToVerify, match="time zone in step 1"):
            services.step_verify(tenant=tenant, step_key=key, user=None)
    assert sandbox.request_count() == 0


def test_the_review_without_a_time_zone_judges_no_date(tenant, sandbox) -> None:
    fill_in(tenant, tick=True, time_zone="")
    services.step_verify(tenant=tenant, step_key="review", user=None)
    contract_results = {r["id"]: r["status"] for r in results(tenant, "recurring-contract")}
    assert contract_results["contract.time-zone"] == "unknown"
    assert contract_results["contract.type"] == "pass"
    assert "contract.start-date" not in contract_results
    assert results(tenant, "api-user")[0]["status"] == "pass"


# --- the partner's today -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_zone", "today"),
    [
        ("Australia/Sydney", datetime.date(2026, 2, 1)),
        ("Pacific/Auckland", datetime.date(2026, 2, 1)),
        ("America/New_York", datetime.date(2026, 1, 31)),
        ("", datetime.date(2026, 1, 31)),  # UTC until one is set (and no date is judged)
    ],
)
def test_today_is_the_tenants_today(tenant, monkeypatch, time_zone, today) -> None:
    at(monkeypatch, MONTH_EDGE)
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone=time_zone, seen="")
    tenant.refresh_from_db()
    assert services.tenant_today(tenant) == today
    inputs = services.verification_inputs(tenant)
    assert (inputs.today, inputs.time_zone) == (today, time_zone)


@pytest.mark.parametrize(
    ("time_zone", "username"),
    [
        ("Australia/Sydney", "healthy@sandbox.example"),
        ("Pacific/Auckland", "auckland@sandbox.example"),
        ("America/New_York", "america@sandbox.example"),
    ],
)
def test_a_contract_starting_this_month_passes_at_the_month_edge_in_every_zone(
    tenant, sandbox, monkeypatch, time_zone, username
) -> None:
    # Contract 2007 starts on the 1st of the tenant's current month: right for "next invoice".
    # At MONTH_EDGE that month is February in Sydney and Auckland, January in New York.
    at(monkeypatch, MONTH_EDGE)
    fill_in(tenant, username=username, customers=((107, 2007),), time_zone=time_zone, tick=True)
    services.step_verify(tenant=tenant, step_key="recurring-contract", user=None)
    by_id = {r["id"]: r for r in results(tenant, "recurring-contract")}
    assert by_id["contract.start-date"]["status"] == "pass", by_id["contract.start-date"]
    assert by_id["contract.start-first-of-month"]["status"] == "pass"
    month = "February" if time_zone != "America/New_York" else "January"
    assert by_id["contract.start-date"]["evidence"] == (
        f"Starts 1 {month} 2026 ({time_zone}); usage is synced from 1 {month} 2026."
    )


def test_the_daily_recheck_reads_dates_in_the_tenants_zone(tenant, sandbox, monkeypatch) -> None:
    at(monkeypatch, MONTH_EDGE)
    fill_in(tenant, customers=((107, 2007),), tick=True)
    services.step_verify(tenant=tenant, step_key="review", user=None)
    out = io.StringIO()
    call_command("verify_tenants", "--concurrency", "1", stdout=out)
    statuses = {r["id"]: r["status"] for r in results(tenant, "recurring-contract")}
    assert statuses["contract.start-date"] == "pass"
    assert not Tenant.objects.get(pk=tenant.pk).drift_checks


# --- reset and demo data -------------------------------------------------------------------------


def test_a_reset_from_the_account_step_forgets_the_time_zone(tenant, owner) -> None:
    fill_in(tenant, user=owner)
    plan = services.reset_plan(tenant, "account")
    assert "time_zone" in plan.steps[0]["answers"]
    services.wizard_reset(tenant=tenant, from_step="account", reason="start over", user=owner)
    tenant.refresh_from_db()
    assert tenant.time_zone == ""
    event = AuditEvent.objects.get(tenant=tenant, action="wizard_reset")
    assert event.detail["snapshot"]["account"]["answers"]["time_zone"] == "Australia/Sydney"
    # A reset from a later step keeps it.
    fill_in(tenant, user=owner)
    services.wizard_reset(tenant=tenant, from_step="api-user", reason="new user", user=owner)
    tenant.refresh_from_db()
    assert tenant.time_zone == "Australia/Sydney"


def test_seed_demo_tenants_have_time_zones_and_verify_in_them(sandbox) -> None:
    call_command("seed_demo", "--force", stdout=io.StringIO())
    zones = dict(Tenant.objects.values_list("name", "time_zone"))
    assert zones == {
        "Northwind IT": "",
        "Blue Yonder MSP": "Pacific/Auckland",
        "Contoso Managed Services": "Australia/Sydney",
        "Fabrikam Networks": "Australia/Sydney",
        "Tailspin Cloud": "America/New_York",
    }
    done = Tenant.objects.get(name="Tailspin Cloud")
    assert done.current_step_index == 7
    assert AutotaskCredential.objects.get(tenant=done).username == "america@sandbox.example"
    attention = Tenant.objects.get(name="Fabrikam Networks")
    assert state(attention, "recurring-contract") == "needs_attention"
    evidence = next(
        r["evidence"]
        for r in results(attention, "recurring-contract")
        if r["id"] == "contract.start-date"
    )
    assert "(Australia/Sydney)" in evidence


def test_checks_inputs_default_to_no_time_zone() -> None:
    # A caller that forgets the zone gets no date verdict, never a UTC guess.
    assert checks.Inputs(today=datetime.date(2026, 1, 1)).time_zone == ""
