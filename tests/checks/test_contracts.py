from __future__ import annotations

import pytest
import responses

from wizard.autotask import AutotaskClient, Credentials
from wizard.checks import CheckStatus

from .conftest import SYDNEY, THRESHOLD, TODAY, ZONE_URL, run_annual, run_recurring


def row(company: int, contract: int) -> dict[str, int]:
    return {"company_id": company, "contract_id": contract}


def statuses(results) -> dict[str, str]:
    return {r.id: r.status for r in results}


def test_good_recurring_contract_passes_every_check(client_for) -> None:
    results = run_recurring(
        client_for("healthy"), [row(101, 2001)], "most-recent", TODAY, time_zone=SYDNEY
    )
    assert statuses(results) == {
        "contract.found": CheckStatus.PASS,
        "company.active": CheckStatus.PASS,
        "contract.type": CheckStatus.PASS,
        "contract.status": CheckStatus.PASS,
        "contract.end-date": CheckStatus.PASS,
        "contract.start-date": CheckStatus.PASS,
        "contract.start-first-of-month": CheckStatus.PASS,
    }
    assert results[0].subject == "Contoso Ltd: contract #2001 “Contoso - Managed Cloud”"


@pytest.mark.parametrize(
    ("company", "contract", "sync_start", "check", "status", "says"),
    [
        (105, 2005, "next", "contract.start-first-of-month", CheckStatus.WARN, "prorates"),
        (106, 2006, "next", "contract.start-date", CheckStatus.FAIL, "1 November 2026"),
        (107, 2007, "next", "contract.start-date", CheckStatus.PASS, "Starts 1 November 2026"),
        (107, 2007, "most-recent", "contract.start-date", CheckStatus.FAIL, "1 October 2026"),
        (108, 2008, "next", "contract.end-date", CheckStatus.FAIL, "ended on"),
        (109, 2009, "next", "contract.status", CheckStatus.FAIL, "Inactive"),
        (110, 2010, "next", "company.active", CheckStatus.FAIL, "inactive"),
        (111, 2011, "next", "contract.type", CheckStatus.FAIL, "Time and Materials"),
        (101, 2002, "next", "contract.company", CheckStatus.FAIL, "company #102"),
        (101, 9999, "next", "contract.found", CheckStatus.FAIL, "no contract #9999"),
    ],
)
def test_each_contract_rule(client_for, company, contract, sync_start, check, status, says) -> None:
    results = run_recurring(
        client_for("healthy"), [row(company, contract)], sync_start, TODAY, time_zone=SYDNEY
    )
    found = [r for r in results if r.id == check]
    assert found, statuses(results)
    assert found[0].status == status
    assert says in found[0].evidence
    if status != CheckStatus.PASS:
        assert found[0].fix


def test_most_recent_start_suggests_the_next_invoice_only_when_it_helps(client_for) -> None:
    late = run_recurring(
        client_for("healthy"), [row(107, 2007)], "most-recent", TODAY, time_zone=SYDNEY
    )
    fix = next(r.fix for r in late if r.id == "contract.start-date")
    assert "1 October 2026 or earlier" in fix and "next invoice" in fix
    later = run_recurring(client_for("healthy"), [row(106, 2006)], "next", TODAY, time_zone=SYDNEY)
    fix = next(r.fix for r in later if r.id == "contract.start-date")
    assert "next invoice" not in fix


def test_three_customers_cost_the_sign_in_and_three_reads(client_for, sandbox) -> None:
    client = client_for("healthy")
    results = run_recurring(
        client, [row(101, 2001), row(102, 2002), row(103, 2003)], "next", TODAY, time_zone=SYDNEY
    )
    assert {r.status for r in results} == {CheckStatus.PASS}
    assert len({r.subject for r in results}) == 3
    # zone, ThresholdInformation (the sign-in), then fields, contracts, companies at once
    assert sandbox.request_count() == 5


def test_restricted_contract_visibility_says_why_it_may_be_missing(client_for) -> None:
    results = run_recurring(
        client_for("restricted-rights"), [row(101, 2001)], "next", TODAY, time_zone=SYDNEY
    )
    assert results[0].id == "contract.found" and results[0].status == CheckStatus.FAIL
    assert "security level may restrict" in results[0].fix


def test_annual_contracts(client_for) -> None:
    results = run_annual(
        client_for("healthy"),
        [row(101, 2012), row(112, 2013), row(111, 2011)],
        TODAY,
        time_zone=SYDNEY,
    )
    assert (
        results[0].id == "contract.fixed-price-available" and results[0].status == CheckStatus.PASS
    )
    by_subject: dict[str, dict[str, str]] = {}
    for r in results[1:]:
        by_subject.setdefault(r.subject.split(":")[0], {})[r.id] = r.status
    assert set(by_subject["Contoso Ltd"].values()) == {CheckStatus.PASS}
    assert by_subject["Coho Winery"]["contract.end-date"] == CheckStatus.FAIL
    assert by_subject["Alpine Ski House"]["contract.type"] == CheckStatus.FAIL


@responses.activate
def test_fixed_price_missing_from_the_tenants_contract_types_fails() -> None:
    base = "https://webservices15.autotask.net/ATServicesRest/"
    responses.get(ZONE_URL, json={"zoneName": "x", "url": base, "webUrl": "", "ci": 1})
    responses.get(base + "V1.0/ThresholdInformation", json=THRESHOLD)
    responses.get(
        base + "V1.0/Contracts/entityInformation/fields",
        json={
            "fields": [
                {
                    "name": "contractType",
                    "dataType": "integer",
                    "isPickList": True,
                    "picklistValues": [
                        {"value": "7", "label": "Recurring Service", "isActive": True},
                        {"value": "3", "label": "Fixed Price", "isActive": False},
                    ],
                },
                {
                    "name": "status",
                    "dataType": "integer",
                    "isPickList": True,
                    "picklistValues": [{"value": "1", "label": "Active", "isActive": True}],
                },
            ]
        },
    )
    responses.post(
        base + "V1.0/Contracts/query",
        json={
            "items": [],
            "pageDetails": {
                "count": 0,
                "requestCount": 500,
                "prevPageUrl": None,
                "nextPageUrl": None,
            },
        },
    )
    responses.post(
        base + "V1.0/Companies/query",
        json={
            "items": [],
            "pageDetails": {
                "count": 0,
                "requestCount": 500,
                "prevPageUrl": None,
                "nextPageUrl": None,
            },
        },
    )
    client = AutotaskClient(
        Credentials("u@x.example", "s3cret-value", "C"),
        zone_information_url=ZONE_URL,
        zone_cache={},
        sleep=lambda _s: None,
    )
    results = run_annual(client, [row(1, 2)], TODAY, time_zone=SYDNEY)
    assert [(r.id, r.status) for r in results] == [
        ("contract.fixed-price-available", CheckStatus.FAIL)
    ]


def test_an_autotask_outage_is_unknown_not_a_verdict(client_for) -> None:
    results = run_recurring(
        client_for("throttled"), [row(101, 2001)], "next", TODAY, time_zone=SYDNEY
    )
    assert [(r.id, r.status, r.error) for r in results] == [("connection", "unknown", "throttled")]
