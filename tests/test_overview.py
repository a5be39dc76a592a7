"""selectors.wizard_overview: the credential facts it joins in, and what it evaluates."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from wizard import selectors, services
from wizard.models import AutotaskCredential, Tenant
from wizard.sandbox import SANDBOX_SECRET


def test_no_credential_means_no_username_and_no_secret(tenant: Tenant) -> None:
    overview = selectors.wizard_overview(tenant)
    assert (overview.has_credentials, overview.credential_username) == (False, "")


def test_a_stored_secret_is_seen_and_an_empty_one_is_not(tenant: Tenant, owner) -> None:
    services.credentials_save(
        tenant=tenant, user=owner, username="api@partner.example", secret=SANDBOX_SECRET
    )
    overview = selectors.wizard_overview(tenant)
    assert (overview.has_credentials, overview.credential_username) == (
        True,
        "api@partner.example",
    )
    AutotaskCredential.objects.filter(tenant=tenant).update(secret_encrypted="")
    overview = selectors.wizard_overview(tenant)
    assert (overview.has_credentials, overview.credential_username) == (
        False,
        "api@partner.example",
    )
    # The api-user step's blockers see the same facts.
    assert "Enter the API user's Secret." in overview.get("api-user").evaluation.blockers


def test_each_tenant_gets_its_own_rows_from_the_shared_query(
    tenant: Tenant, other_tenant: Tenant, owner
) -> None:
    """The joined query is built once per process; each call filters its own copy."""
    services.credentials_save(
        tenant=tenant, user=owner, username="mine@partner.example", secret=SANDBOX_SECRET
    )
    mine, theirs = selectors.wizard_overview(tenant), selectors.wizard_overview(other_tenant)
    assert mine.credential_username == "mine@partner.example"
    assert theirs.credential_username == ""
    assert {s.progress.tenant_id for s in mine.steps} == {tenant.pk}
    assert {s.progress.tenant_id for s in theirs.steps} == {other_tenant.pk}


def test_one_query_and_evaluations_only_when_asked(tenant: Tenant) -> None:
    with CaptureQueriesContext(connection) as queries:
        overview = selectors.wizard_overview(tenant)
    assert len(queries) == 1
    assert all("evaluation" not in vars(s) for s in overview.steps)
    assert overview.get("account").evaluation.state == "not_started"
    assert [("evaluation" in vars(s)) for s in overview.steps].count(True) == 1
