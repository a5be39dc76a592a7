"""Contract dates are read in the tenant's time zone, at month and year edges.

Autotask answers a date-only field with the UTC instant of the tenant's local midnight
(reference, "Corrections (December 2026)" point 2): 1 January 2026 in Auckland (UTC+13 in
summer) is "2025-12-31T11:00:00Z", in Brisbane (UTC+10, no daylight saving)
"2025-12-31T14:00:00Z", in New York in winter (UTC-5) "2026-01-01T05:00:00.000Z". Cutting those
strings to ten characters gave the day before east of UTC; these tests fail on that.

First with recorded answers (``responses``) shaped exactly as Autotask's, then against the
sandbox, whose scenarios answer the same way.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import responses

from wizard import checks
from wizard.autotask import AutotaskClient, Credentials, build_session
from wizard.checks import CheckResult, CheckStatus
from wizard.sandbox import SANDBOX_SECRET, SCENARIOS, Sandbox, install_sandbox

from .conftest import CODE, THRESHOLD, ZONE_URL, run_annual, run_recurring

FIELDS = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "fixtures"
        / "autotask"
        / "contracts_entity_information_fields.json"
    ).read_text(encoding="utf-8")
)

BASE = "https://webservices29.autotask.net/ATServicesRest/"
AUCKLAND, BRISBANE, NEW_YORK = "Pacific/Auckland", "Australia/Brisbane", "America/New_York"


def _page(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": 500,
            "prevPageUrl": None,
            "nextPageUrl": None,
        },
    }


def _autotask(start: str | None, end: str | None, contract_type: int = 7) -> AutotaskClient:
    """Register Autotask's answers for contract #2001 of company #101 and return a client."""
    responses.get(ZONE_URL, json={"zoneName": "Australia/NZ", "url": BASE, "webUrl": "", "ci": 42})
    responses.get(BASE + "V1.0/ThresholdInformation", json=THRESHOLD)
    responses.get(
        BASE + "V1.0/Contracts/entityInformation/fields",
        json=FIELDS,
    )
    contract = {
        "id": 2001,
        "companyID": 101,
        "contractName": "Managed Cloud",
        "contractType": contract_type,
        "status": 1,
        "startDate": start,
        "endDate": end,
    }
    responses.post(BASE + "V1.0/Contracts/query", json=_page([contract]))
    company = {"id": 101, "companyName": "Contoso Ltd", "isActive": True}
    responses.post(BASE + "V1.0/Companies/query", json=_page([company]))
    return AutotaskClient(
        Credentials("api@partner.example", "s3cret-value", "CODE"),
        zone_information_url=ZONE_URL,
        zone_cache={},
        sleep=lambda _s: None,
    )


ROW = [{"company_id": 101, "contract_id": 2001}]


def _by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


# --- recurring contracts, recorded answers -------------------------------------------------------


@responses.activate
def test_auckland_contract_starting_on_new_years_day_starts_on_the_1st() -> None:
    # 1 January 2026, 00:00 NZDT (UTC+13) = 31 December 2025, 11:00 UTC.
    client = _autotask("2025-12-31T11:00:00Z", "2027-12-30T11:00:00Z")
    results = _by_id(
        run_recurring(client, ROW, "next", datetime.date(2026, 1, 15), time_zone=AUCKLAND)
    )
    assert results["contract.start-first-of-month"].status == CheckStatus.PASS
    assert results["contract.start-first-of-month"].evidence.startswith(
        "Starts 1 January 2026 (Pacific/Auckland)"
    )
    # The first usage date of "next invoice" is 1 January: the contract starts on it.
    assert results["contract.start-date"].status == CheckStatus.PASS
    assert results["contract.start-date"].evidence == (
        "Starts 1 January 2026 (Pacific/Auckland); usage is synced from 1 January 2026."
    )
    assert results["contract.end-date"].evidence == "Ends 31 December 2027 (Pacific/Auckland)."


@responses.activate
def test_auckland_contract_starting_on_the_2nd_starts_after_the_first_usage_date() -> None:
    # 2 February 2026 in Auckland is 1 February 11:00 UTC: cut to ten characters it looked
    # like the 1st, a start on time with no proration. Both verdicts were wrong.
    client = _autotask("2026-02-01T11:00:00Z", None)
    results = _by_id(
        run_recurring(client, ROW, "next", datetime.date(2026, 2, 10), time_zone=AUCKLAND)
    )
    assert results["contract.start-date"].status == CheckStatus.FAIL
    assert "starts on 2 February 2026 (Pacific/Auckland)" in results["contract.start-date"].evidence
    assert results["contract.start-first-of-month"].status == CheckStatus.WARN
    assert "the 2nd of the month" in results["contract.start-first-of-month"].evidence
    assert results["contract.end-date"].evidence == "No end date."


@responses.activate
def test_brisbane_start_on_the_1st_of_march_is_no_false_proration_warning() -> None:
    # 1 March 2026 in Brisbane (UTC+10) = 28 February 14:00 UTC. The old reading warned "starts
    # on the 28th" and told the partner to move a correct Start Date to 1 February.
    client = _autotask("2026-02-28T14:00:00Z", "2028-02-28T14:00:00Z")
    results = _by_id(
        run_recurring(client, ROW, "next", datetime.date(2026, 3, 5), time_zone=BRISBANE)
    )
    assert results["contract.start-first-of-month"].status == CheckStatus.PASS
    assert results["contract.start-date"].status == CheckStatus.PASS
    assert "Starts 1 March 2026 (Australia/Brisbane)" in results["contract.start-date"].evidence


@responses.activate
def test_brisbane_end_date_on_new_years_day_has_not_passed_on_new_years_day() -> None:
    # Ends 1 January 2026 in Brisbane (2025-12-31T14:00:00Z); today is 1 January there.
    client = _autotask("2024-12-31T14:00:00Z", "2025-12-31T14:00:00Z")
    results = _by_id(
        run_recurring(client, ROW, "next", datetime.date(2026, 1, 1), time_zone=BRISBANE)
    )
    end = results["contract.end-date"]
    assert end.status == CheckStatus.WARN  # ends today: within a month, not "ended"
    assert end.evidence == "It ends on 1 January 2026 (Australia/Brisbane), within a month."
    # And the day after, it has ended.
    responses.reset()
    client = _autotask("2024-12-31T14:00:00Z", "2025-12-31T14:00:00Z")
    results = _by_id(
        run_recurring(client, ROW, "next", datetime.date(2026, 1, 2), time_zone=BRISBANE)
    )
    assert results["contract.end-date"].status == CheckStatus.FAIL
    assert (
        "It ended on 1 January 2026 (Australia/Brisbane)" in results["contract.end-date"].evidence
    )


@responses.activate
def test_new_york_dates_with_fractional_seconds() -> None:
    # Midnight in New York in winter (UTC-5), written as Autotask sometimes does: ".000Z".
    client = _autotask("2026-01-01T05:00:00.000Z", "2026-01-31T05:00:00.000Z")
    results = _by_id(
        run_recurring(client, ROW, "most-recent", datetime.date(2026, 1, 31), time_zone=NEW_YORK)
    )
    # "Most recent invoice" on 31 January copies December's usage: 1 January is too late.
    assert results["contract.start-date"].status == CheckStatus.FAIL
    assert results["contract.start-date"].evidence.startswith(
        "The contract starts on 1 January 2026 (America/New_York); the sync copies usage from "
        "1 December 2025"
    )
    assert results["contract.start-first-of-month"].status == CheckStatus.PASS
    # The last day of the contract is today in New York: not passed yet.
    assert results["contract.end-date"].status == CheckStatus.WARN
    assert "31 January 2026 (America/New_York)" in results["contract.end-date"].evidence


@responses.activate
def test_the_time_zone_decides_the_date() -> None:
    # The same instant, 1 March 2026 00:00 in New York, is 28 February 21:00 in Los Angeles:
    # read in the wrong zone, a correct Start Date looks wrong. The zone must be the tenant's.
    client = _autotask("2026-03-01T05:00:00.000Z", None)
    results = _by_id(
        run_recurring(
            client, ROW, "next", datetime.date(2026, 3, 2), time_zone="America/Los_Angeles"
        )
    )
    assert results["contract.start-first-of-month"].status == CheckStatus.WARN
    assert "28 February 2026 (America/Los_Angeles)" in (
        results["contract.start-first-of-month"].evidence
    )


@responses.activate
def test_timestamps_with_an_offset_and_date_only_values() -> None:
    # Not what Autotask sends today, but a value with an explicit offset is an instant too,
    # and a bare date is a local date already.
    client = _autotask("2026-01-31T13:00:00+00:00", "2027-01-31")
    results = _by_id(
        run_recurring(client, ROW, "next", datetime.date(2026, 2, 1), time_zone="Australia/Sydney")
    )
    assert results["contract.start-date"].evidence.startswith(
        "Starts 1 February 2026 (Australia/Sydney)"
    )
    assert results["contract.end-date"].evidence == "Ends 31 January 2027 (Australia/Sydney)."


@responses.activate
def test_without_a_time_zone_no_date_is_judged() -> None:
    client = _autotask("2026-01-31T13:00:00Z", None)
    results = run_recurring(client, ROW, "next", datetime.date(2026, 2, 1), time_zone="")
    by_id = _by_id(results)
    assert by_id["contract.time-zone"].status == CheckStatus.UNKNOWN
    assert "step 1" in by_id["contract.time-zone"].fix
    assert not {"contract.start-date", "contract.start-first-of-month", "contract.end-date"} & set(
        by_id
    )
    # What needs no date is still checked.
    assert by_id["contract.type"].status == CheckStatus.PASS


# --- annual contracts, recorded answers ----------------------------------------------------------


@responses.activate
def test_annual_dates_in_auckland_across_the_year_edge() -> None:
    # 1 January 2026 to 31 December 2026 in Auckland.
    client = _autotask("2025-12-31T11:00:00Z", "2026-12-30T11:00:00Z", contract_type=3)
    results = _by_id(run_annual(client, ROW, datetime.date(2026, 1, 1), time_zone=AUCKLAND))
    assert results["contract.dates"].status == CheckStatus.PASS
    assert results["contract.dates"].evidence == (
        "Starts 1 January 2026 (Pacific/Auckland), ends 31 December 2026."
    )
    assert results["contract.end-date"].status == CheckStatus.PASS


@responses.activate
def test_annual_contract_ending_the_day_it_starts_is_valid_in_brisbane() -> None:
    # Start and end on the same local day (both 2026-01-31T14:00:00Z = 1 February): valid.
    client = _autotask("2026-01-31T14:00:00Z", "2026-01-31T14:00:00Z", contract_type=3)
    results = _by_id(run_annual(client, ROW, datetime.date(2026, 1, 20), time_zone=BRISBANE))
    assert results["contract.dates"].status == CheckStatus.PASS
    responses.reset()
    # An end the day before the start is not.
    client = _autotask("2026-01-31T14:00:00Z", "2026-01-30T14:00:00Z", contract_type=3)
    results = _by_id(run_annual(client, ROW, datetime.date(2026, 1, 20), time_zone=BRISBANE))
    assert results["contract.dates"].status == CheckStatus.FAIL


@responses.activate
def test_annual_without_a_time_zone_asks_for_it() -> None:
    client = _autotask("2026-01-31T14:00:00Z", "2027-01-30T14:00:00Z", contract_type=3)
    results = _by_id(run_annual(client, ROW, datetime.date(2026, 1, 20), time_zone=""))
    assert results["contract.time-zone"].status == CheckStatus.UNKNOWN
    assert "contract.dates" not in results


# --- against the sandbox -------------------------------------------------------------------------

# The sandbox's demo contracts, at the year edge: today is 1 January 2026 in every zone.
NEW_YEAR = datetime.date(2026, 1, 1)


@pytest.fixture
def new_year_sandbox(sandbox: Sandbox) -> Sandbox:
    return Sandbox(CODE, base_url=sandbox.base_url, today=NEW_YEAR, threshold_latency=False)


@pytest.mark.parametrize("scenario", ["healthy", "auckland", "america"])
@pytest.mark.parametrize(
    ("company", "contract", "sync_start", "expected"),
    [
        # Starts 1 January 2026 (the 1st of "this month"): on time for "next", not "most recent".
        (
            107,
            2007,
            "next",
            {
                "contract.start-date": CheckStatus.PASS,
                "contract.start-first-of-month": CheckStatus.PASS,
            },
        ),
        (107, 2007, "most-recent", {"contract.start-date": CheckStatus.FAIL}),
        # Starts on the 15th a year ago: proration, whatever the zone.
        (
            105,
            2005,
            "next",
            {
                "contract.start-first-of-month": CheckStatus.WARN,
                "contract.start-date": CheckStatus.PASS,
            },
        ),
        # Starts 1 February 2026: after both first usage dates.
        (106, 2006, "next", {"contract.start-date": CheckStatus.FAIL}),
        # Ended 30 November 2025: passed.
        (108, 2008, "next", {"contract.end-date": CheckStatus.FAIL}),
        (
            101,
            2001,
            "next",
            {
                "contract.end-date": CheckStatus.PASS,
                "contract.start-first-of-month": CheckStatus.PASS,
            },
        ),
    ],
)
def test_demo_contracts_in_every_zone_at_new_year(
    new_year_sandbox: Sandbox, scenario: str, company, contract, sync_start, expected
) -> None:
    session_client = _sandbox_client(new_year_sandbox, scenario, CODE)
    time_zone = SCENARIOS[f"{scenario}@sandbox.example"].time_zone
    results = _by_id(
        run_recurring(
            session_client,
            [{"company_id": company, "contract_id": contract}],
            sync_start,
            NEW_YEAR,
            time_zone=time_zone,
        )
    )
    assert {k: results[k].status for k in expected} == expected, scenario
    for r in results.values():
        if r.id in ("contract.start-date", "contract.end-date") and "20" in r.evidence:
            assert f"({time_zone})" in r.evidence


def test_review_of_the_american_tenant_passes_with_its_own_zone(new_year_sandbox: Sandbox) -> None:
    client = _sandbox_client(new_year_sandbox, "america", CODE)
    inputs = checks.Inputs(
        today=NEW_YEAR,
        customers=[{"company_id": 101, "contract_id": 2001}],
        sync_start="most-recent",
        annual=[{"company_id": 101, "contract_id": 2012}],
        time_zone=NEW_YORK,
    )
    by_step = checks.run(client, inputs)
    assert {r.status for rs in by_step.values() for r in rs} == {CheckStatus.PASS}


def _sandbox_client(sandbox: Sandbox, scenario: str, code: str) -> AutotaskClient:
    session = build_session()
    install_sandbox(session, sandbox, ZONE_URL)
    return AutotaskClient(
        Credentials(f"{scenario}@sandbox.example", SANDBOX_SECRET, code),
        zone_information_url=ZONE_URL,
        session=session,
        zone_cache={},
        backoff_factor=0,
        sleep=lambda _s: None,
    )
