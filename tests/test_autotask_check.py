"""manage.py autotask_check: output and exit status, against the in-process sandbox."""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from wizard.autotask.sandbox import SANDBOX_SECRET, SCENARIOS


@pytest.fixture(autouse=True)
def _sandbox(settings, monkeypatch) -> None:
    settings.AUTOTASK_SANDBOX = True
    cache.clear()
    monkeypatch.setenv("AUTOTASK_SECRET", SANDBOX_SECRET)


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("autotask_check", *args, stdout=out)
    return int(exit_.value.code or 0), out.getvalue()


def test_healthy_user_with_contracts_exits_0() -> None:
    code, out = run(
        "--username",
        "healthy@sandbox.example",
        "--company",
        "101",
        "--contract",
        "2001",
        "--annual-contract",
        "2012",
    )
    assert code == 0
    assert "PASS  auth.company" in out
    assert "PASS  contract.start-date" in out
    assert "annual-contract:" in out
    assert SANDBOX_SECRET not in out


@pytest.mark.parametrize(
    ("scenario", "line"),
    [
        ("unknown", "FAIL  auth.username"),
        ("wrong-secret", "FAIL  auth.secret"),
        ("code-rejected", "FAIL  auth.integration-code"),
        ("missing-rights", "FAIL  access.contracts"),
    ],
)
def test_a_wrong_answer_from_autotask_exits_1(scenario, line) -> None:
    code, out = run("--username", f"{scenario}@sandbox.example")
    assert code == 1
    assert line in out
    assert "Fix:" in out


def test_a_contract_that_starts_too_late_exits_1() -> None:
    code, out = run(
        "--username",
        "healthy@sandbox.example",
        "--company",
        "107",
        "--contract",
        "2007",
        "--sync-start",
        "most-recent",
    )
    assert code == 1
    assert "FAIL  contract.start-date" in out


@pytest.mark.parametrize("scenario", ["throttled", "broken", "thread-limit"])
def test_no_usable_answer_exits_2(scenario) -> None:
    code, out = run("--username", f"{scenario}@sandbox.example")
    assert code == 2
    # A transport problem is a connection result, never a verdict on the Secret.
    assert "????  connection: Autotask answered the wizard's requests" in out
    assert "auth.secret" not in out


def test_unreachable_autotask_exits_2(settings) -> None:
    settings.AUTOTASK_SANDBOX = False
    settings.AUTOTASK_ZONE_INFORMATION_URL = (
        "http://127.0.0.1:9/atservicesrest/v1.0/zoneInformation"
    )
    settings.AUTOTASK_TIMEOUT_SECONDS = 2
    code, out = run("--username", "someone@example.com")
    assert code == 2
    assert "could not be reached" in out


def test_json_output() -> None:
    code, out = run("--username", "near-threshold@sandbox.example", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["steps"]["api-user"][-1]["id"] == "auth.threshold"
    assert data["steps"]["api-user"][-1]["status"] == "warn"
    assert data["calls"] >= 3
    assert SANDBOX_SECRET not in out


def test_the_secret_comes_from_stdin_when_not_in_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("AUTOTASK_SECRET")
    monkeypatch.setattr("sys.stdin", io.StringIO(SANDBOX_SECRET + "\n"))
    code, _ = run("--username", "healthy@sandbox.example")
    assert code == 0


def test_no_secret_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.delenv("AUTOTASK_SECRET")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="AUTOTASK_SECRET"):
        call_command("autotask_check", "--username", "x@y.example")


def test_there_is_no_secret_argument() -> None:
    with pytest.raises(CommandError):
        call_command("autotask_check", "--username", "x@y.example", "--secret", "s")


# The whole catalogue: each sandbox scenario, checked as a partner with one good recurring
# contract (101/2001) and one good annual contract (2012) would be, gets its own diagnosis.
EVERY_SCENARIO = {
    "healthy": (0, "PASS  access.companies"),
    "unknown": (1, "FAIL  auth.username"),
    "wrong-secret": (1, "FAIL  auth.secret"),
    "code-rejected": (1, "FAIL  auth.integration-code"),
    "missing-rights": (1, "FAIL  access.services"),
    "restricted-rights": (1, "WARN  access.contracts"),
    "full-default": (0, "WARN  access.least-privilege"),
    "costs-hidden": (0, "WARN  access.internal-cost"),
    "costs-zero": (0, "Could not tell: every unit cost read"),
    "fresh-tenant": (1, "FAIL  contract.fixed-price-available"),
    "near-threshold": (0, "WARN  auth.threshold"),
    "throttled": (2, "????  connection"),
    "thread-limit": (2, "????  connection"),
    "slow": (0, "PASS  contract.start-date"),
    "flaky": (0, "PASS  contract.start-date"),
    "broken": (2, "????  connection"),
}


def test_every_sandbox_scenario_is_in_the_table() -> None:
    assert {s.key for s in SCENARIOS.values()} == set(EVERY_SCENARIO)


@pytest.mark.parametrize(("scenario", "expected"), list(EVERY_SCENARIO.items()))
def test_each_scenario_gets_its_diagnosis(scenario, expected, settings) -> None:
    if scenario == "slow":
        settings.AUTOTASK_TIMEOUT_SECONDS = 10
    code, out = run(
        "--username",
        f"{scenario}@sandbox.example",
        *("--company", "101", "--contract", "2001", "--annual-contract", "2012"),
    )
    assert (code, expected[1] in out) == (expected[0], True), out
