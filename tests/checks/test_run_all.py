from __future__ import annotations

from wizard import checks
from wizard.sandbox import SCENARIOS

from .conftest import SYDNEY, TODAY

THREE = [
    {"company_id": 101, "contract_id": 2001},
    {"company_id": 102, "contract_id": 2002},
    {"company_id": 103, "contract_id": 2003},
]


def test_full_verification_of_three_customers_stays_within_15_calls(client_for, sandbox) -> None:
    client = client_for("healthy")
    inputs = checks.Inputs(
        today=TODAY,
        customers=THREE,
        sync_start="next",
        annual=[{"company_id": 101, "contract_id": 2012}],
        time_zone=SYDNEY,
    )
    by_step = checks.run(client, inputs)
    assert set(by_step) == {"api-user", "security-level", "recurring-contract", "annual-contract"}
    assert {r.status for rs in by_step.values() for r in rs} == {"pass"}
    assert sandbox.request_count() <= 15
    assert client.calls == sandbox.request_count()


def test_no_connection_means_no_further_calls(client_for, sandbox) -> None:
    by_step = checks.run(
        client_for("wrong-secret"), checks.Inputs(today=TODAY, customers=THREE, sync_start="next")
    )
    assert list(by_step) == ["api-user"]
    assert sandbox.request_count() == 2


def test_each_scenario_has_its_own_diagnosis(client_for) -> None:
    expected = {
        "healthy": set(),
        "america": set(),
        "auckland": set(),
        "unknown": {("auth.username", "fail")},
        "wrong-secret": {("auth.secret", "fail")},
        "code-rejected": {("auth.integration-code", "fail")},
        "missing-rights": {("access.contracts", "fail"), ("access.services", "fail")},
        "restricted-rights": {("access.contracts", "warn"), ("contract.found", "fail")},
        "full-default": {("access.least-privilege", "warn")},
        "costs-hidden": {("access.internal-cost", "warn")},
        "costs-zero": {("access.internal-cost", "warn")},
        "fresh-tenant": set(),
        "near-threshold": {("auth.threshold", "warn")},
        # Transport problems are one "connection" result, not a verdict on the Secret.
        "throttled": {("connection", "unknown")},
        "thread-limit": {("connection", "unknown")},
        "broken": {("connection", "unknown")},
        "flaky": set(),
    }
    for scenario, problems in expected.items():
        # Each partner verifies in its own Autotask's time zone.
        time_zone = SCENARIOS[f"{scenario}@sandbox.example"].time_zone
        inputs = checks.Inputs(
            today=TODAY, customers=THREE[:1], sync_start="next", time_zone=time_zone
        )
        flat = [r for rs in checks.run(client_for(scenario), inputs).values() for r in rs]
        found = {
            (r.id, r.status)
            for r in flat
            if r.status in ("fail", "warn") or (r.status == "unknown" and r.error)
        }
        assert found == problems, scenario
