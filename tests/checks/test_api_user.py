from __future__ import annotations

import pytest
import responses

from wizard.autotask import AutotaskClient, Credentials
from wizard.checks import CheckStatus

from .conftest import ZONE_URL, verify


def by_id(results):
    return {r.id: r for r in results}


def test_healthy_user_passes_with_its_own_company_hidden_as_the_guide_sets_it(
    client_for, sandbox
) -> None:
    results = by_id(verify(client_for("healthy"), "api-user"))
    assert {k: r.status for k, r in results.items()} == {
        "auth.username": CheckStatus.PASS,
        "auth.secret": CheckStatus.PASS,
        "auth.integration-code": CheckStatus.PASS,
        "auth.company": CheckStatus.PASS,
        "auth.threshold": CheckStatus.PASS,
    }
    company = results["auth.company"].evidence
    assert "hidden from this API user, as expected with the guide's CRM setting" in company
    assert "database id" in company
    assert "Northwind IT Services" not in company
    assert sandbox.request_count("healthy@sandbox.example") == 3


def test_a_level_that_sees_the_own_company_names_it(client_for) -> None:
    results = by_id(verify(client_for("full-default"), "api-user"))
    assert results["auth.company"].status == CheckStatus.PASS
    assert "Connected to Northwind IT Services" in results["auth.company"].evidence


def test_the_integration_code_check_says_what_it_proves(client_for) -> None:
    result = by_id(verify(client_for("healthy"), "api-user"))["auth.integration-code"]
    assert result.title == (
        "Billing Sync's integration code is accepted with this Username and Secret"
    )
    # The vendor itself is not visible through the API: the checklist asks the partner.
    assert "confirm in the checklist that it is 'Rhipe - Cloud Services'" in result.evidence


def test_unknown_username_is_told_apart_and_stops_early(client_for, sandbox) -> None:
    results = by_id(verify(client_for("unknown"), "api-user"))
    assert results["auth.username"].status == CheckStatus.FAIL
    assert "does not know this API username" in results["auth.username"].evidence
    assert "Admin > Resources (Users)" in results["auth.username"].fix
    assert {results[k].status for k in results if k != "auth.username"} == {CheckStatus.UNKNOWN}
    assert sandbox.request_count() == 1


@pytest.mark.parametrize(
    ("scenario", "secret"), [("wrong-secret", "sandbox-secret"), ("healthy", "not-the-secret")]
)
def test_wrong_secret_fails_once_without_retry_and_lists_causes(
    client_for, sandbox, scenario, secret
) -> None:
    results = by_id(verify(client_for(scenario, secret), "api-user"))
    check = results["auth.secret"]
    assert check.status == CheckStatus.FAIL
    assert "Locked" in check.fix and "Rhipe - Cloud Services" in check.fix
    assert "not retried" in check.evidence
    # zone lookup + exactly one authenticated call: a 401 is never retried (lockout risk)
    assert sandbox.request_count() == 2


def test_rejected_integration_code_names_the_vendor(client_for) -> None:
    results = by_id(verify(client_for("code-rejected"), "api-user"))
    # Autotask's order of checks is undocumented: the Secret is "not checked", not "good".
    assert results["auth.secret"].status == CheckStatus.UNKNOWN
    check = results["auth.integration-code"]
    assert check.status == CheckStatus.FAIL
    assert "'Rhipe - Cloud Services'" in check.fix
    assert "Possible causes" in check.evidence


def test_usage_from_half_the_threshold_warns(client_for) -> None:
    check = by_id(verify(client_for("near-threshold"), "api-user"))["auth.threshold"]
    assert check.status == CheckStatus.WARN
    assert "of 10,000 requests" in check.evidence
    assert "API Activity by Hour" in check.fix


@responses.activate
def test_usage_at_the_threshold_fails() -> None:
    base = "https://webservices15.autotask.net/ATServicesRest/"
    responses.get(
        ZONE_URL,
        json={"zoneName": "West 2", "url": base, "webUrl": "https://ww15.autotask.net/", "ci": 42},
    )
    responses.get(
        base + "V1.0/ThresholdInformation",
        json={
            "externalRequestThreshold": 10000,
            "requestThresholdTimeframe": 60,
            "currentTimeframeRequestCount": 10000,
        },
    )
    responses.get(base + "V1.0/Companies/0", json={"item": {"id": 0, "companyName": "MSP"}})
    client = AutotaskClient(
        Credentials("u@x.example", "s3cret-value", "C"),
        zone_information_url=ZONE_URL,
        zone_cache={},
        sleep=lambda _s: None,
    )
    check = by_id(verify(client, "api-user"))["auth.threshold"]
    assert check.status == CheckStatus.FAIL
    assert "100%" in check.evidence


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        ("throttled", "throttled"),
        ("broken", "broken_answer"),
        ("thread-limit", "thread_limit_exceeded"),
    ],
)
def test_autotask_not_answering_usefully_is_unknown_not_fail(client_for, scenario, code) -> None:
    results = verify(client_for(scenario), "api-user")
    assert not [r for r in results if r.status == CheckStatus.FAIL]
    unknown = [r for r in results if r.status == CheckStatus.UNKNOWN]
    assert unknown and unknown[0].error == code
    assert unknown[0].evidence  # says what happened and what to do


def test_a_flaky_autotask_is_retried_to_a_result(client_for) -> None:
    results = verify(client_for("flaky"), "api-user")
    assert {r.status for r in results} == {CheckStatus.PASS}
