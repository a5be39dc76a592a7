from __future__ import annotations

from wizard.checks import security_level
from wizard.checks.base import FAIL, PASS, UNKNOWN, WARN


def by_id(results):
    return {r.id: r for r in results}


def test_least_privilege_level_passes_everything(client_for) -> None:
    results = by_id(security_level.run(client_for("healthy")))
    assert {k: r.status for k, r in results.items()} == {
        "access.companies": PASS,
        "access.contracts": PASS,
        "access.contractservices": PASS,
        "access.services": PASS,
        "access.products": PASS,
        "access.least-privilege": PASS,
        "access.internal-cost": PASS,
    }


def test_missing_rights_are_named_with_area_and_checkbox(client_for) -> None:
    results = by_id(security_level.run(client_for("missing-rights")))
    contracts = results["access.contracts"]
    assert contracts.status == FAIL
    assert "edit Contracts" in contracts.evidence
    assert "CONTRACTS" in contracts.fix
    assert "Admin > Account Settings & Users > Resources/Users > Security Levels" in contracts.fix
    services = results["access.services"]
    assert services.status == FAIL
    assert "ADMIN" in services.fix and "Products, Services, & Inventory" in services.fix
    assert results["access.internal-cost"].status == UNKNOWN


def test_restricted_access_is_explained(client_for) -> None:
    check = by_id(security_level.run(client_for("restricted-rights")))["access.contracts"]
    assert check.status == WARN
    assert "without any error" in check.evidence


def test_default_api_user_level_works_but_is_not_least_privilege(client_for) -> None:
    check = by_id(security_level.run(client_for("full-default")))["access.least-privilege"]
    assert check.status == WARN
    assert check.evidence.startswith("Works, but not least privilege")
    assert "delete Companies" in check.evidence


def test_hidden_costs_are_reported_as_an_inference(client_for) -> None:
    check = by_id(security_level.run(client_for("costs-hidden")))["access.internal-cost"]
    assert check.status == WARN
    assert "inference" in check.evidence
    assert "OTHER > Miscellaneous" in check.fix
    assert "Can View Internal Cost and Sensitive Data" in check.fix


def test_a_right_removed_later_is_noticed(client_for, sandbox) -> None:
    sandbox.set_access("healthy@sandbox.example", "Products", delete=0)
    check = by_id(security_level.run(client_for("healthy")))["access.products"]
    assert check.status == FAIL
    assert "INVENTORY" in check.fix


def test_bad_credentials_stop_after_the_first_entity(client_for, sandbox) -> None:
    results = security_level.run(client_for("wrong-secret"))
    assert [r.status for r in results] == [FAIL]
    assert sandbox.request_count() == 2
