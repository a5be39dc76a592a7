"""The checks on answers shaped exactly as real Autotask sends them (reference, Corrections).

The sandbox answers this way too (tests/checks run against it elsewhere); these tests pin the
verdicts to recorded payloads, so a sandbox that drifted back to our own format would not hide
a client that cannot read the real one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from responses import registries

from tests.autotask.conftest import BASE, CREDENTIALS, ZONE_INFORMATION_URL, payload
from wizard.autotask import AutotaskClient, Zone, limits
from wizard.checks import CheckResult, CheckStatus

from .conftest import TODAY, run_annual, run_recurring, verify

SYDNEY = "Australia/Sydney"

ZONE = Zone(
    name="Australia/NZ",
    url="https://webservices15.autotask.net/ATServicesRest/",
    web_url="https://ww15.autotask.net/",
    ci=301944,
)
# The security level the guide describes, as entityInformation reports it: names, and
# Companies Restricted because CRM access is granted per company type.
GUIDE_LEVEL = {
    "Companies": ("Restricted", "None", "None", "None"),
    "Contracts": ("All", "None", "All", "None"),
    "ContractServices": ("All", "All", "All", "None"),
    "Services": ("All", "All", "All", "None"),
    "Products": ("All", "All", "All", "All"),
}


def entity_info(query: Any, create: Any, update: Any, delete: Any) -> dict[str, Any]:
    answer: dict[str, Any] = payload("contracts_entity_information")
    info = answer["info"]
    info.update(
        userAccessForQuery=query,
        userAccessForCreate=create,
        userAccessForUpdate=update,
        userAccessForDelete=delete,
    )
    return answer


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    limits.reset()
    registry = registries.FirstMatchRegistry
    with responses.RequestsMock(assert_all_requests_are_fired=False, registry=registry) as rsps:
        # Every verification signs in first; a test about the sign-in replaces this answer.
        rsps.get(BASE + "ThresholdInformation", json=payload("threshold_information"))
        yield rsps


@pytest.fixture
def client() -> AutotaskClient:
    # The zone is known, so each test sees only the calls it is about; no retries, no sleeps.
    return AutotaskClient(
        CREDENTIALS,
        zone_information_url=ZONE_INFORMATION_URL,
        zone_cache={CREDENTIALS.username: ZONE},
        max_retries=0,
        sleep=lambda _s: None,
    )


def level(mocked: responses.RequestsMock, **overrides: Any) -> None:
    """Register entityInformation for the five entities: the guide's level, with overrides."""
    for entity, rights in GUIDE_LEVEL.items():
        answer = overrides.get(entity, entity_info(*rights))
        if isinstance(answer, dict):
            mocked.get(BASE + f"{entity}/entityInformation", json=answer)
        else:
            status, body, headers = answer
            mocked.get(
                BASE + f"{entity}/entityInformation", status=status, json=body, headers=headers
            )


def costs(mocked: responses.RequestsMock, *unit_costs: Any) -> None:
    items = [{"id": 300 + n, "unitCost": c} for n, c in enumerate(unit_costs)]
    mocked.post(BASE + "Services/query", json={"items": items, "pageDetails": {"count": 1}})


def by_id(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.id: r for r in results}


THROTTLED = (429, payload("threshold_throttled"), {"Retry-After": "1"})


# --- security level ---------------------------------------------------------------------------


def test_the_guides_level_passes_with_companies_restricted_explained(mocked, client) -> None:
    level(mocked)
    costs(mocked, 55.0, 0.0)

    results = by_id(verify(client, "security-level"))

    assert {k: r.status for k, r in results.items()} == {
        "access.companies": CheckStatus.PASS,
        "access.contracts": CheckStatus.PASS,
        "access.contractservices": CheckStatus.PASS,
        "access.services": CheckStatus.PASS,
        "access.products": CheckStatus.PASS,
        "access.least-privilege": CheckStatus.PASS,
        "access.internal-cost": CheckStatus.PASS,
    }
    assert "restricted because CRM access is set per company type" in (
        results["access.companies"].evidence
    )


def test_numbers_still_read_as_documented(mocked, client) -> None:
    level(mocked, Contracts=entity_info(1, 0, 1, 0), Products=entity_info(1, 1, 1, 1))
    costs(mocked, 55.0)

    assert {r.status for r in verify(client, "security-level")} == {CheckStatus.PASS}


def test_unreadable_levels_are_unknown_never_a_pass(mocked, client) -> None:
    odd = {e: entity_info("Mine", "Mine", "Mine", "Mine") for e in GUIDE_LEVEL}
    level(mocked, **odd)

    results = by_id(verify(client, "security-level"))

    for entity in GUIDE_LEVEL:
        assert results[f"access.{entity.lower()}"].status == CheckStatus.UNKNOWN
        assert results[f"access.{entity.lower()}"].error == "unexpected_value"
    least = results["access.least-privilege"]
    assert least.status == CheckStatus.UNKNOWN
    assert "could not be read" in least.evidence
    assert "connection" not in results


def test_one_odd_value_makes_only_that_entity_unknown(mocked, client) -> None:
    level(mocked, Products=entity_info("All", "All", "All", "Everything"))
    costs(mocked, 55.0)

    results = by_id(verify(client, "security-level"))

    assert results["access.products"].status == CheckStatus.UNKNOWN
    assert "permission level for delete" in results["access.products"].evidence
    for entity in ("companies", "contracts", "contractservices", "services"):
        assert results[f"access.{entity}"].status == CheckStatus.PASS
    assert results["access.internal-cost"].status == CheckStatus.PASS
    # No data on Products, so no claim that the level grants nothing extra.
    assert results["access.least-privilege"].status == CheckStatus.UNKNOWN


def test_extra_rights_read_are_reported_even_when_another_entity_is_unread(mocked, client) -> None:
    level(
        mocked,
        Companies=entity_info("All", "All", "All", "All"),
        Products=entity_info("All", "All", "All", "Everything"),
    )
    costs(mocked, 55.0)

    least = by_id(verify(client, "security-level"))["access.least-privilege"]

    assert least.status == CheckStatus.WARN
    assert "delete Companies" in least.evidence


def test_missing_contracts_view_names_the_object_permission(mocked, client) -> None:
    level(mocked, Contracts=entity_info("None", "None", "None", "None"))
    costs(mocked, 55.0)

    check = by_id(verify(client, "security-level"))["access.contracts"]

    assert check.status == CheckStatus.FAIL
    assert "CONTRACTS" in check.fix
    assert "object permissions View: All" in check.fix
    assert "Internal Costs" not in check.fix


def test_missing_companies_view_names_the_crm_types(mocked, client) -> None:
    level(mocked, Companies=entity_info("None", "None", "None", "None"))
    costs(mocked, 55.0)

    check = by_id(verify(client, "security-level"))["access.companies"]

    assert check.status == CheckStatus.FAIL
    assert "CRM set Customer: All and Cancellation: All" in check.fix


def test_all_zero_unit_costs_could_not_tell(mocked, client) -> None:
    level(mocked)
    costs(mocked, 0, 0.0, 0)

    check = by_id(verify(client, "security-level"))["access.internal-cost"]

    assert check.status == CheckStatus.WARN
    assert check.evidence.startswith("Could not tell: every unit cost read (3 of 3")


@pytest.mark.parametrize("unit_costs", [(None, None), (None, 0.0)])
def test_null_or_null_and_zero_costs_are_a_warning(mocked, client, unit_costs) -> None:
    level(mocked)
    costs(mocked, *unit_costs)

    assert (
        by_id(verify(client, "security-level"))["access.internal-cost"].status == CheckStatus.WARN
    )


def test_a_throttled_read_is_a_connection_result_not_a_rights_verdict(mocked, client) -> None:
    level(mocked, Contracts=THROTTLED)
    costs(mocked, 55.0)

    results = verify(client, "security-level")
    ids = [r.id for r in results]

    # The five rights are read at once, as in the review: a throttled read stops no other.
    assert ids == [
        "access.companies",
        "access.contractservices",
        "access.services",
        "access.products",
        "access.least-privilege",
        "access.internal-cost",
        "connection",
    ]
    connection = results[-1]
    assert (connection.status, connection.error) == (CheckStatus.UNKNOWN, "throttled")
    assert "Not read: the rights on Contracts." in connection.evidence
    # Nothing is known about Contracts, so nothing is claimed about extra rights either.
    assert by_id(results)["access.least-privilege"].status == CheckStatus.UNKNOWN


def test_two_throttled_reads_are_one_connection_result(mocked, client) -> None:
    level(mocked, Contracts=THROTTLED, Services=THROTTLED)
    costs(mocked, 55.0)

    results = verify(client, "security-level")
    ids = [r.id for r in results]

    assert ids.count("connection") == 1
    assert "access.contracts" not in ids and "access.services" not in ids
    connection = by_id(results)["connection"]
    assert "the rights on Contracts, the rights on Services" in connection.evidence
    assert by_id(results)["access.least-privilege"].status == CheckStatus.UNKNOWN
    # The cost probe was answered, but it only counts once Services may be viewed.
    cost = by_id(results)["access.internal-cost"]
    assert (cost.status, cost.evidence) == (
        CheckStatus.UNKNOWN,
        "Not checked: the API user's rights on Services could not be read.",
    )


# --- API user ---------------------------------------------------------------------------------


def test_a_throttled_sign_in_is_not_a_verdict_on_the_secret(mocked, client) -> None:
    mocked.replace(
        responses.GET,
        BASE + "ThresholdInformation",
        status=429,
        json=payload("threshold_throttled"),
    )

    results = verify(client, "api-user")

    assert [(r.id, r.status) for r in results] == [
        ("auth.username", CheckStatus.PASS),
        ("connection", CheckStatus.UNKNOWN),
    ]
    assert results[-1].error == "throttled"


@pytest.mark.parametrize(
    "answer",
    [{"status": 200, "json": payload("item_null")}, {"status": 404, "json": {"errors": []}}],
)
def test_a_hidden_own_company_reads_the_same_for_200_null_and_404(mocked, client, answer) -> None:
    mocked.get(BASE + "Companies/0", **answer)

    company = by_id(verify(client, "api-user"))["auth.company"]

    assert company.status == CheckStatus.PASS
    assert "hidden from this API user, as expected with the guide's CRM setting" in (
        company.evidence
    )
    assert "database id 301944" in company.evidence


# --- contracts --------------------------------------------------------------------------------


def contract_answers(
    mocked: responses.RequestsMock, *, fields: dict[str, Any], contract: dict[str, Any]
) -> None:
    mocked.get(BASE + "Contracts/entityInformation/fields", json=fields)
    mocked.post(BASE + "Contracts/query", json={"items": [contract], "pageDetails": {}})
    company = {"id": contract["companyID"], "companyName": "Contoso Ltd", "isActive": True}
    mocked.post(BASE + "Companies/query", json={"items": [company], "pageDetails": {}})


CONTRACT = {
    "id": 2001,
    "companyID": 101,
    "contractName": "Contoso - Managed Cloud",
    "contractType": 7,
    "status": 1,
    "startDate": "2025-01-01T00:00:00Z",
    "endDate": "2028-12-31T00:00:00Z",
}


def test_one_malformed_status_entry_only_makes_the_status_check_unknown(mocked, client) -> None:
    fields = payload("contracts_entity_information_fields")
    status = next(f for f in fields["fields"] if f["name"] == "status")
    status["picklistValues"].append({"value": None, "label": "Broken"})
    contract_answers(mocked, fields=fields, contract=CONTRACT)

    results = by_id(
        run_recurring(
            client, [{"company_id": 101, "contract_id": 2001}], "next", TODAY, time_zone=SYDNEY
        )
    )

    assert results["contract.status"].status == CheckStatus.UNKNOWN
    assert results["contract.status"].error == "unexpected_value"
    assert results["contract.type"].status == CheckStatus.PASS
    assert results["contract.found"].status == CheckStatus.PASS


def test_a_malformed_type_entry_makes_the_type_checks_unknown(mocked, client) -> None:
    fields = payload("contracts_entity_information_fields")
    types = next(f for f in fields["fields"] if f["name"] == "contractType")
    types["picklistValues"].append("Fixed Price")
    annual = copy.deepcopy(CONTRACT) | {"contractType": 3}
    contract_answers(mocked, fields=fields, contract=annual)

    results = by_id(
        run_annual(client, [{"company_id": 101, "contract_id": 2001}], TODAY, time_zone=SYDNEY)
    )

    assert results["contract.fixed-price-available"].status == CheckStatus.UNKNOWN
    assert results["contract.type"].status == CheckStatus.UNKNOWN
    assert results["contract.status"].status == CheckStatus.PASS


def test_fixed_price_inactive_says_where_to_activate_it(mocked, client) -> None:
    fields = payload("contracts_entity_information_fields")
    types = next(f for f in fields["fields"] if f["name"] == "contractType")
    for value in types["picklistValues"]:
        # A new Autotask: only Time & Materials and Recurring Service are active.
        value["isActive"] = value["label"] in ("Time & Materials", "Recurring Service")
    contract_answers(mocked, fields=fields, contract=CONTRACT)

    results = run_annual(
        client, [{"company_id": 101, "contract_id": 2001}], TODAY, time_zone=SYDNEY
    )

    assert [(r.id, r.status) for r in results] == [
        ("contract.fixed-price-available", CheckStatus.FAIL)
    ]
    assert "Admin > Admin Categories > Activations" in results[0].fix
    assert "Time & Materials and Recurring Service" in results[0].evidence


def test_a_throttled_contract_read_is_a_connection_result(mocked, client) -> None:
    mocked.get(BASE + "Contracts/entityInformation/fields", status=429, json={"errors": []})

    results = run_recurring(
        client, [{"company_id": 101, "contract_id": 2001}], "next", TODAY, time_zone=SYDNEY
    )

    assert [(r.id, r.status, r.error) for r in results] == [
        ("connection", CheckStatus.UNKNOWN, "throttled")
    ]
