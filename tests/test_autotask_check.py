"""manage.py autotask_check: output and exit status, against the in-process sandbox."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from wizard.sandbox import SANDBOX_SECRET, SCENARIOS


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
    "america": (0, "Dates in America/New_York time."),
    "auckland": (0, "Dates in Pacific/Auckland time."),
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


# --- time zones ----------------------------------------------------------------------------------


def _edge(monkeypatch, instant: datetime.datetime) -> None:
    """Move the clock of the command and of the sandbox to ``instant``."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: instant)
    monkeypatch.setattr("wizard.autotask.dates._now", lambda: instant)


# 31 January 2026, 13:30 UTC: already 1 February in Sydney and Auckland, still 31 January in
# New York. Where the month has turned, "next invoice" copies usage from 1 February.
MONTH_EDGE = datetime.datetime(2026, 1, 31, 13, 30, tzinfo=datetime.UTC)
# 31 December 2025, 11:30 UTC: New Year's Day in Auckland, New Year's Eve elsewhere.
YEAR_EDGE = datetime.datetime(2025, 12, 31, 11, 30, tzinfo=datetime.UTC)


@pytest.mark.parametrize("instant", [MONTH_EDGE, YEAR_EDGE], ids=["month-edge", "year-edge"])
@pytest.mark.parametrize(
    ("scenario", "time_zone"),
    [
        ("healthy", "Australia/Sydney"),
        ("america", "America/New_York"),
        ("auckland", "Pacific/Auckland"),
        # The default: the sandbox user's own zone.
        ("healthy", ""),
        ("america", ""),
    ],
)
@pytest.mark.parametrize("sync_start", ["next", "most-recent"])
def test_a_partner_set_up_as_the_guide_says_exits_0_in_any_time_zone(
    monkeypatch, instant, scenario, time_zone, sync_start
) -> None:
    _edge(monkeypatch, instant)
    args = ["--username", f"{scenario}@sandbox.example", "--sync-start", sync_start]
    if time_zone:
        args += ["--time-zone", time_zone]
    code, out = run(*args, "--company", "101", "--contract", "2001", "--annual-contract", "2012")
    assert code == 0, out
    assert "WARN" not in out and "FAIL" not in out
    expected_zone = time_zone or SCENARIOS[f"{scenario}@sandbox.example"].time_zone
    assert f"Dates in {expected_zone} time." in out


def test_the_first_of_this_month_is_the_partners_month(monkeypatch) -> None:
    # Contract 2007 starts on the 1st of the sandbox tenant's current month. At MONTH_EDGE that
    # is 1 February in Sydney, and "next invoice" copies usage from 1 February there: it passes.
    # With the server's (UTC) date, the first usage date would have been 1 January.
    _edge(monkeypatch, MONTH_EDGE)
    code, out = run(
        "--username",
        "healthy@sandbox.example",
        "--company",
        "107",
        "--contract",
        "2007",
        "--format",
        "json",
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["time_zone"] == "Australia/Sydney"
    start = next(r for r in data["steps"]["recurring-contract"] if r["id"] == "contract.start-date")
    assert start["evidence"] == (
        "Starts 1 February 2026 (Australia/Sydney); usage is synced from 1 February 2026."
    )


def test_a_wrong_time_zone_shows_in_the_dates(monkeypatch) -> None:
    # Sydney's midnights read in Los Angeles fall on the evening before: the tool reports it
    # (a proration warning), which is why the zone must be the partner's own.
    _edge(monkeypatch, MONTH_EDGE)
    code, out = run(
        "--username",
        "healthy@sandbox.example",
        "--time-zone",
        "America/Los_Angeles",
        "--company",
        "101",
        "--contract",
        "2001",
    )
    assert code == 0
    assert "WARN  contract.start-first-of-month" in out


def test_time_zone_is_validated() -> None:
    with pytest.raises(CommandError, match="not an IANA time zone"):
        call_command(
            "autotask_check", "--username", "healthy@sandbox.example", "--time-zone", "Sydney"
        )


def test_contracts_need_a_time_zone_outside_the_sandbox_users() -> None:
    with pytest.raises(CommandError, match="--time-zone"):
        call_command(
            "autotask_check",
            "--username",
            "api@partner.example",
            "--company",
            "101",
            "--contract",
            "2001",
        )
