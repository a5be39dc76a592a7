from __future__ import annotations

from wizard.checks import CheckStatus

from .conftest import verify


def by_id(results):
    return {r.id: r for r in results}


def test_least_privilege_level_passes_everything(client_for) -> None:
    results = by_id(verify(client_for("healthy"), "security-level"))
    assert {k: r.status for k, r in results.items()} == {
        "access.companies": CheckStatus.PASS,
        "access.contracts": CheckStatus.PASS,
        "access.contractservices": CheckStatus.PASS,
        "access.services": CheckStatus.PASS,
        "access.products": CheckStatus.PASS,
        "access.least-privilege": CheckStatus.PASS,
        "access.internal-cost": CheckStatus.PASS,
    }


def test_missing_rights_are_named_with_area_and_checkbox(client_for) -> None:
    results = by_id(verify(client_for("missing-rights"), "security-level"))
    contracts = results["access.contracts"]
    assert contracts.status == CheckStatus.FAIL
    assert "edit Contracts" in contracts.evidence
    assert "CONTRACTS" in contracts.fix
    assert "Admin > Account Settings & Users > Resources/Users > Security Levels" in contracts.fix
    services = results["access.services"]
    assert services.status == CheckStatus.FAIL
    assert "ADMIN" in services.fix and "Products, Services, & Inventory" in services.fix
    assert results["access.internal-cost"].status == CheckStatus.UNKNOWN


def test_restricted_access_is_explained(client_for) -> None:
    check = by_id(verify(client_for("restricted-rights"), "security-level"))["access.contracts"]
    assert check.status == CheckStatus.WARN
    assert "without any error" in check.evidence


def test_default_api_user_level_works_but_is_not_least_privilege(client_for) -> None:
    check = by_id(verify(client_for("full-default"), "security-level"))["access.least-privilege"]
    assert check.status == CheckStatus.WARN
    assert check.evidence.startswith("Works, but not least privilege")
    assert "delete Companies" in check.evidence


def test_hidden_costs_are_reported_as_an_inference(client_for) -> None:
    check = by_id(verify(client_for("costs-hidden"), "security-level"))["access.internal-cost"]
    assert check.status == CheckStatus.WARN
    assert "inference" in check.evidence
    assert "OTHER > Miscellaneous" in check.fix
    assert "Can View Internal Cost and Sensitive Data" in check.fix


def test_a_right_removed_later_is_noticed(client_for, sandbox) -> None:
    sandbox.set_access("healthy@sandbox.example", "Products", delete=0)
    check = by_id(verify(client_for("healthy"), "security-level"))["access.products"]
    assert check.status == CheckStatus.FAIL
    assert "INVENTORY" in check.fix


def test_bad_credentials_stop_at_the_sign_in(client_for, sandbox) -> None:
    results = verify(client_for("wrong-secret"), "security-level")
    assert [(r.id, r.status, r.error) for r in results] == [
        ("auth.secret", CheckStatus.FAIL, "authentication_failed")
    ]
    # The zone and one refused ThresholdInformation: no right is asked with a refused Secret.
    assert sandbox.request_count() == 2
    assert sandbox.request_count(endpoint="Companies") == 0


def test_a_missing_right_does_not_hide_the_others(client_for, sandbox) -> None:
    sandbox.set_access("healthy@sandbox.example", "Companies", query=0, create=0, update=0)
    results = by_id(verify(client_for("healthy"), "security-level"))
    assert results["access.companies"].status == CheckStatus.FAIL
    assert {results[f"access.{e}"].status for e in ("contracts", "products")} == {CheckStatus.PASS}
    assert results["access.least-privilege"].status == CheckStatus.PASS
    assert results["access.internal-cost"].status == CheckStatus.PASS
