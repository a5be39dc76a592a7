"""Services: what a save stores, what state follows, and the audit trail it leaves."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from wizard import crypto, services, steps
from wizard.models import AuditEvent, AutotaskCredential, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET, default_sandbox

pytestmark = pytest.mark.django_db


def progress(tenant: Tenant, key: str) -> StepProgress:
    return StepProgress.objects.get(tenant=tenant, step_key=key)


def actions(tenant: Tenant) -> list[str]:
    return list(
        AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
    )


def tick_all(tenant: Tenant, key: str, branch: str = "existing") -> None:
    ids = [c.id for c in steps.STEPS_BY_KEY[key].checklist_for(branch)]
    services.checklist_update(tenant=tenant, step_key=key, user=None, ticked=ids)


def test_account_is_done_when_branch_chosen_and_checklist_complete(tenant, owner) -> None:
    services.step_answers_save(
        tenant=tenant, step_key="account", user=owner, changes={"branch": "existing"}, seen={}
    )
    assert progress(tenant, "account").state == "in_progress"
    tick_all(tenant, "account")
    # The time zone is the step's other answer: without it the step is not done.
    assert progress(tenant, "account").state == "in_progress"
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Australia/Sydney", seen="")
    p = progress(tenant, "account")
    assert p.state == "done"
    assert p.updated_by is None  # the last write was by the system helper
    done = AuditEvent.objects.filter(tenant=tenant, action="state_changed").order_by("id").last()
    assert done is not None and done.detail == {"from": "in_progress", "to": "done"}


def test_new_branch_needs_its_extra_checklist_item(tenant) -> None:
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Pacific/Auckland", seen="")
    services.step_answers_save(
        tenant=tenant, step_key="account", user=None, changes={"branch": "new"}, seen={}
    )
    tick_all(tenant, "account", branch="existing")
    assert progress(tenant, "account").state == "in_progress"
    tick_all(tenant, "account", branch="new")
    assert progress(tenant, "account").state == "done"


def test_verifying_step_waits_for_verification_and_cannot_be_done_by_hand(tenant) -> None:
    tick_all(tenant, "security-level")
    p = progress(tenant, "security-level")
    assert p.state == "in_progress"
    assert p.checklist == [c.id for c in steps.STEPS_BY_KEY["security-level"].checklist]


def test_verification_results_drive_the_state(tenant) -> None:
    tick_all(tenant, "security-level")
    services.verification_record(
        tenant=tenant,
        step_key="security-level",
        user=None,
        results=[
            {"id": "access.contracts", "status": "fail", "title": "t", "evidence": "e", "fix": "f"}
        ],
    )
    p = progress(tenant, "security-level")
    assert p.state == "needs_attention"
    assert p.failed_verifications == 1
    services.verification_record(
        tenant=tenant,
        step_key="security-level",
        user=None,
        results=[
            {"id": "access.contracts", "status": "warn", "title": "t", "evidence": "e", "fix": "f"}
        ],
    )
    p = progress(tenant, "security-level")
    assert p.state == "done"
    assert p.failed_verifications == 0
    run = AuditEvent.objects.filter(tenant=tenant, action="verification_run").order_by("id").last()
    assert run is not None and run.detail == {"counts": {"warn": 1}, "failed": []}


def test_changed_answers_clear_old_results(tenant) -> None:
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=None,
        changes={"sync_start": "next"},
        seen={},
    )
    services.verification_record(
        tenant=tenant,
        step_key="recurring-contract",
        user=None,
        results=[{"id": "x", "status": "pass", "title": "", "evidence": "", "fix": ""}],
    )
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=None,
        changes={"sync_start": "most-recent"},
        seen={"sync_start": "next"},
    )
    assert progress(tenant, "recurring-contract").check_results == []


def test_a_colleagues_newer_answer_is_not_overwritten_silently(tenant, owner, member) -> None:
    services.step_answers_save(
        tenant=tenant,
        step_key="recurring-contract",
        user=owner,
        changes={"sync_start": "next"},
        seen={},
    )
    # member's form was rendered before owner saved: it showed "".
    with pytest.raises(services.EditConflict) as e:
        services.step_answers_save(
            tenant=tenant,
            step_key="recurring-contract",
            user=member,
            changes={"sync_start": "most-recent"},
            seen={"sync_start": ""},
        )
    assert e.value.fields == {"sync_start": "next"}
    assert progress(tenant, "recurring-contract").answers["sync_start"] == "next"


def test_colleagues_ticking_different_items_keep_both(tenant, owner, member) -> None:
    services.checklist_update(tenant=tenant, step_key="account", user=owner, ticked=["signed-in"])
    services.checklist_update(
        tenant=tenant, step_key="account", user=member, ticked=["admin-access"], unticked=[]
    )
    assert progress(tenant, "account").checklist == ["signed-in", "admin-access"]


def test_unknown_checklist_ids_are_ignored(tenant) -> None:
    services.checklist_update(tenant=tenant, step_key="account", user=None, ticked=["bogus"])
    assert progress(tenant, "account").checklist == []


def test_list_answers_add_replace_and_remove(tenant) -> None:
    add = {
        "tenant": tenant,
        "step_key": "recurring-contract",
        "user": None,
        "field": "customers",
        "key": "contract_id",
    }
    services.answer_list_add(**add, item={"company_id": 1, "contract_id": 10})
    services.answer_list_add(**add, item={"company_id": 2, "contract_id": 20})
    services.answer_list_add(**add, item={"company_id": 3, "contract_id": 10})
    # The new row takes the place of the one it replaces.
    assert progress(tenant, "recurring-contract").answers["customers"] == [
        {"company_id": 3, "contract_id": 10},
        {"company_id": 2, "contract_id": 20},
    ]
    services.answer_list_remove(
        tenant=tenant,
        step_key="recurring-contract",
        user=None,
        field="customers",
        key="contract_id",
        value="20",
    )
    assert progress(tenant, "recurring-contract").answers["customers"] == [
        {"company_id": 3, "contract_id": 10}
    ]


def test_credentials_are_stored_encrypted_and_audited_without_the_secret(tenant, owner) -> None:
    secret = "S3cr3t-Pl41ntext-Value!"
    services.credentials_save(tenant=tenant, user=owner, username="api@x.example", secret=secret)
    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert secret not in cred.secret_encrypted
    assert crypto.decrypt_secret(cred.secret_encrypted) == secret
    event = AuditEvent.objects.get(tenant=tenant, action="credentials_saved")
    assert event.detail == {"username": "api@x.example", "secret_replaced": True}
    with connection.cursor() as cursor:
        for table in ("wizard_autotaskcredential", "wizard_auditevent", "wizard_stepprogress"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            assert secret not in repr(cursor.fetchall())
    assert secret not in repr(cred) and secret not in str(cred)


def test_a_username_without_a_secret_is_kept_once_with_the_credential(tenant) -> None:
    services.credentials_save(tenant=tenant, user=None, username="api@x.example", secret=None)
    cred = AutotaskCredential.objects.get(tenant=tenant)
    assert (cred.username, cred.secret_encrypted) == ("api@x.example", "")
    # Stored once: not in the step's answers too.
    assert progress(tenant, "api-user").answers == {}
    assert progress(tenant, "api-user").state == "in_progress"
    with pytest.raises(services.CredentialsMissing):
        services.step_verify(tenant=tenant, step_key="api-user", user=None)


def test_new_credentials_invalidate_earlier_verifications(tenant) -> None:
    services.credentials_save(tenant=tenant, user=None, username="a@x.example", secret="one")
    services.verification_record(
        tenant=tenant,
        step_key="security-level",
        user=None,
        results=[{"id": "x", "status": "pass", "title": "", "evidence": "", "fix": ""}],
    )
    services.credentials_save(tenant=tenant, user=None, username="b@x.example", secret=None)
    assert progress(tenant, "security-level").check_results == []
    assert AutotaskCredential.objects.get(tenant=tenant).username == "b@x.example"


def test_skip_only_optional_steps_and_audit_it(tenant, owner) -> None:
    with pytest.raises(services.SkipNotAllowed):
        services.step_skip(tenant=tenant, step_key="api-user", user=owner)
    services.step_skip(tenant=tenant, step_key="security-level", user=owner)
    assert progress(tenant, "security-level").state == "skipped"
    event = AuditEvent.objects.get(tenant=tenant, action="step_skipped")
    assert event.actor == owner
    assert "least privilege" in event.detail["consequence"]
    services.step_unskip(tenant=tenant, step_key="security-level", user=owner)
    assert progress(tenant, "security-level").state == "not_started"
    assert actions(tenant)[-2:] == ["step_unskipped", "state_changed"]


def test_every_write_touches_last_activity(tenant) -> None:
    services.checklist_update(tenant=tenant, step_key="account", user=None, ticked=["signed-in"])
    tenant.refresh_from_db()
    assert tenant.last_activity_at is not None


HEALTHY = "healthy@sandbox.example"


def zone_lookups(settings) -> int:
    sandbox = default_sandbox(settings.AUTOTASK_INTEGRATION_CODE)
    return sandbox.request_count(HEALTHY, "zoneInformation")


def test_the_zone_is_kept_with_the_credential_and_spares_later_lookups(
    tenant, owner, settings
) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    services.credentials_save(tenant=tenant, user=owner, username=HEALTHY, secret=SANDBOX_SECRET)
    before = zone_lookups(settings)
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    assert zone_lookups(settings) == before + 1
    zone = AutotaskCredential.objects.get(tenant=tenant).zone
    assert zone is not None and zone["url"].endswith("/ATServicesRest/")
    # A restart, or the daily re-check a day later: the cache is empty, the stored zone is not.
    cache.clear()
    outcome = services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    assert zone_lookups(settings) == before + 1
    assert {r["status"] for r in outcome.results} == {"pass"}


def test_a_refused_login_or_another_username_forgets_the_zone(tenant, owner, settings) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    services.credentials_save(tenant=tenant, user=owner, username=HEALTHY, secret=SANDBOX_SECRET)
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    assert AutotaskCredential.objects.get(tenant=tenant).zone is not None
    # Autotask refuses the credentials: the tenant may have moved, so look the zone up again.
    services.credentials_save(tenant=tenant, user=owner, username=HEALTHY, secret="not-it-1")
    assert AutotaskCredential.objects.get(tenant=tenant).zone is not None
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    assert AutotaskCredential.objects.get(tenant=tenant).zone is None
    services.credentials_save(tenant=tenant, user=owner, username=HEALTHY, secret=SANDBOX_SECRET)
    services.step_verify(tenant=tenant, step_key="api-user", user=owner)
    assert AutotaskCredential.objects.get(tenant=tenant).zone is not None
    # Another API user may live elsewhere.
    services.credentials_save(
        tenant=tenant, user=owner, username="restricted@sandbox.example", secret=None
    )
    assert AutotaskCredential.objects.get(tenant=tenant).zone is None


def test_a_step_form_is_saved_whole_or_not_at_all(tenant) -> None:
    # A colleague set the time zone after this person's page was shown.
    services.tenant_time_zone_save(tenant=tenant, user=None, time_zone="Pacific/Auckland", seen="")
    submission = services.Submission(
        changes={"branch": "existing"},
        seen={"branch": ""},
        ticked=("signed-in",),
        time_zone=("Australia/Sydney", ""),
    )
    with pytest.raises(services.EditConflict) as conflict:
        services.step_submit(tenant=tenant, step_key="account", user=None, submission=submission)
    assert conflict.value.fields == {"time_zone": "Pacific/Auckland"}
    # The answer and the tick that came before the conflict in the same form were not kept.
    account = progress(tenant, "account")
    assert account.answers == {} and account.checklist == []
    tenant.refresh_from_db()
    assert tenant.time_zone == "Pacific/Auckland"
    # Only the colleague's save is in the trail.
    saved = AuditEvent.objects.filter(tenant=tenant, action="answers_saved", step_key="account")
    assert [e.detail["fields"] for e in saved] == [["time_zone"]]
