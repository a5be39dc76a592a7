"""Two colleagues at once, with real threads on PostgreSQL (row locks are real there).

Deselected on SQLite (see tests/conftest.py): SQLite serialises whole-database writes, so
these races cannot happen there and the tests would prove nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from wizard import checks, services
from wizard.models import AuditEvent, StepProgress, Tenant
from wizard.sandbox import SANDBOX_SECRET
from wizard.services.credentials import record_auth_outcome

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs in threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(len(jobs))
    out: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            out[i] = job()
        except Exception as e:  # collected and asserted on by the test
            out[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_two_colleagues_saving_different_fields_lose_nothing(tenant, owner, member) -> None:
    for _ in range(5):
        StepProgress.objects.filter(tenant=tenant, step_key="annual-contract").update(answers={})
        race(
            lambda: services.answer_list_add(
                tenant=tenant,
                step_key="annual-contract",
                user=owner,
                field="contracts",
                item={"company_id": 1, "contract_id": 11},
                key="contract_id",
            ),
            lambda: services.step_answers_save(
                tenant=tenant,
                step_key="annual-contract",
                user=member,
                changes={"has_annual": "yes"},
                seen={"has_annual": ""},
            ),
        )
        answers = StepProgress.objects.get(tenant=tenant, step_key="annual-contract").answers
        assert answers["has_annual"] == "yes"
        assert answers["contracts"] == [{"company_id": 1, "contract_id": 11}]


def test_two_colleagues_ticking_at_once_keep_both_ticks(tenant, owner, member) -> None:
    for _ in range(5):
        StepProgress.objects.filter(tenant=tenant, step_key="account").update(checklist=[])
        race(
            lambda: services.checklist_update(
                tenant=tenant, step_key="account", user=owner, ticked=["signed-in"]
            ),
            lambda: services.checklist_update(
                tenant=tenant, step_key="account", user=member, ticked=["admin-access"]
            ),
        )
        assert StepProgress.objects.get(tenant=tenant, step_key="account").checklist == [
            "signed-in",
            "admin-access",
        ]


def test_the_same_field_at_once_is_a_conflict_not_a_silent_loss(tenant, owner, member) -> None:
    results = race(
        lambda: services.step_answers_save(
            tenant=tenant,
            step_key="recurring-contract",
            user=owner,
            changes={"sync_start": "next"},
            seen={"sync_start": ""},
        ),
        lambda: services.step_answers_save(
            tenant=tenant,
            step_key="recurring-contract",
            user=member,
            changes={"sync_start": "most-recent"},
            seen={"sync_start": ""},
        ),
    )
    conflicts = [r for r in results if isinstance(r, services.EditConflict)]
    assert len(conflicts) == 1
    stored = StepProgress.objects.get(tenant=tenant, step_key="recurring-contract").answers
    winner = "next" if conflicts[0] is results[1] else "most-recent"
    assert stored["sync_start"] == winner
    assert conflicts[0].fields == {"sync_start": winner}


def test_a_double_submitted_verification_runs_once(settings, tenant, owner, monkeypatch) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    services.credentials_save(
        tenant=tenant, user=owner, username="healthy@sandbox.example", secret=SANDBOX_SECRET
    )
    real = checks.run
    runs: list[int] = []

    def slow_run(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        time.sleep(0.5)  # hold the claim while the second click arrives
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "run", slow_run)
    results = race(
        lambda: services.step_verify(tenant=tenant, step_key="api-user", user=owner),
        lambda: services.step_verify(tenant=tenant, step_key="api-user", user=owner),
    )
    assert len(runs) == 1
    assert sum(isinstance(r, services.VerificationInProgress) for r in results) == 1
    assert AuditEvent.objects.filter(tenant=tenant, action="verification_run").count() == 1


def test_simultaneous_rejected_logins_both_count(tenant) -> None:
    race(
        lambda: record_auth_outcome(tenant, rejected=True, accepted=False),
        lambda: record_auth_outcome(tenant, rejected=True, accepted=False),
    )
    tenant.refresh_from_db()
    assert tenant.auth_failures == 2
    assert tenant.auth_paused_until is not None


def test_verification_makes_no_autotask_call_inside_a_transaction(
    settings, tenant, owner, monkeypatch
) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    services.credentials_save(
        tenant=tenant, user=owner, username="healthy@sandbox.example", secret=SANDBOX_SECRET
    )
    from wizard.autotask import client as client_module

    real_send = client_module.AutotaskClient._send
    seen: list[bool] = []

    def watching(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(connection.in_atomic_block)
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(client_module.AutotaskClient, "_send", watching)
    services.step_verify(tenant=tenant, step_key="review", user=owner)
    assert seen and not any(seen)
    assert Tenant.objects.get(pk=tenant.pk).last_verification_status == "pass"


def test_parallel_sign_ups_on_one_invitation_make_one_account(tenant) -> None:
    """Four browsers submit the sign-up form of the same link at the same instant."""
    import re

    from django.contrib.auth.models import User
    from django.core import mail
    from django.test import Client

    from wizard.models import Membership

    services.invitation_create(
        tenant=tenant,
        email="shared@example.com",
        role="owner",
        user=None,
        accept_url=lambda token: f"http://testserver/invite/{token}/",
    )
    match = re.search(r"http://testserver(/invite/[^/\s]+/)", str(mail.outbox[-1].body))
    assert match
    browsers = [Client() for _ in range(4)]
    for browser in browsers:
        assert browser.get(match.group(1))["Location"] == "/invite/"

    def sign_up(i: int) -> Callable[[], Any]:
        return lambda: browsers[i].post(
            "/invite/",
            {
                "username": f"racer{i}",
                "password1": "Sturdy-pass-4821",
                "password2": "Sturdy-pass-4821",
            },
        )

    results = race(*[sign_up(i) for i in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.status_code for r in results) == [302, 410, 410, 410]
    for r in results:
        if r.status_code == 410:
            assert "This invitation was already used" in r.content.decode()
    assert User.objects.filter(username__startswith="racer").count() == 1
    assert Membership.objects.filter(tenant=tenant, user__username__startswith="racer").count() == 1
    assert User.objects.get(username__startswith="racer").email == "shared@example.com"


def test_two_imports_of_one_file_at_once_add_each_partner_once(db) -> None:
    """Two people (or one double click) confirm the same import at the same instant: the
    unique name lets one create the partners; the other creates nothing and is told so."""
    from django.core import mail

    from tests.factories import make_account_manager
    from wizard.models import Invitation

    am = make_account_manager("am_race")
    content = "name,owner_email,account_manager\n" + "".join(
        f"Race MSP {i},o{i}@race{i}.example,am_race\n" for i in range(50)
    )
    expected = services.import_plan(content=content, importer=am).fingerprint()

    def confirm() -> Any:
        return services.import_run(content=content, importer=am, accept_url=str, expected=expected)

    for _ in range(3):
        results = race(confirm, confirm)
        done = [r for r in results if isinstance(r, services.ImportResult)]
        refused = [r for r in results if isinstance(r, services.ImportChanged)]
        assert len(done) + len(refused) == 2, results
        assert Tenant.objects.filter(name__startswith="Race MSP").count() == 50
        assert Invitation.objects.count() == 50 and len(mail.outbox) == 50
        assert sum(len(r.created) for r in done) == 50
        for r in refused:  # the new preview says they all exist now
            assert len(r.plan.existing) == 50 and not r.plan.new
        Tenant.objects.all().delete()
        mail.outbox.clear()


def test_two_people_adding_one_partner_at_once_add_it_once(db) -> None:
    from tests.factories import make_account_manager

    am = make_account_manager("am_race")

    def add() -> Any:
        return services.partner_add(
            name="Race IT",
            owner_email="o@race.example",
            account_manager=am,
            user=am,
            accept_url=str,
        )

    for _ in range(3):
        results = race(add, add)
        assert sum(isinstance(r, Tenant) for r in results) == 1, results
        assert sum(isinstance(r, services.PartnerExists) for r in results) == 1, results
        assert Tenant.objects.filter(name="Race IT").count() == 1
        Tenant.objects.all().delete()
