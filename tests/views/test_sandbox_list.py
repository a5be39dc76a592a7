"""The sandbox's scenario list on the API user step: shown while the sandbox is on, else never."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.utils.html import escape

from wizard.context_processors import sandbox as sandbox_context
from wizard.models import Tenant
from wizard.sandbox import SANDBOX_SECRET, SCENARIOS

pytestmark = pytest.mark.django_db


def api_user_page(client: Client, tenant: Tenant, *, htmx: bool = False) -> str:
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(f"/t/{tenant.code}/api-user/", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("htmx", [False, True], ids=["full page", "htmx swap"])
def test_sandbox_on_lists_every_scenario_and_the_secret(
    settings, owner_client, tenant: Tenant, htmx: bool
) -> None:
    settings.AUTOTASK_SANDBOX = True
    html = api_user_page(owner_client, tenant, htmx=htmx)
    assert "Sandbox: API usernames to try" in html
    assert f"<code>{SANDBOX_SECRET}</code>" in html
    for username, scenario in SCENARIOS.items():
        assert f"<tr><td><code>{username}</code></td><td>{escape(scenario.title)}</td></tr>" in html


def test_sandbox_off_shows_no_scenario_and_no_secret(
    settings, owner_client, tenant: Tenant
) -> None:
    settings.AUTOTASK_SANDBOX = False
    html = api_user_page(owner_client, tenant)
    assert "Sandbox: API usernames to try" not in html
    assert SANDBOX_SECRET not in html
    assert "healthy@sandbox.example" not in html


def test_context_processor_gives_the_list_only_while_the_sandbox_is_on(settings) -> None:
    request = RequestFactory().get("/")
    settings.AUTOTASK_SANDBOX = False
    assert sandbox_context(request) == {"AUTOTASK_SANDBOX": False}
    settings.AUTOTASK_SANDBOX = True
    on = sandbox_context(request)
    assert on["AUTOTASK_SANDBOX"] is True
    assert on["sandbox_secret"] == SANDBOX_SECRET
    assert [s.username for s in on["sandbox_scenarios"]] == list(SCENARIOS)
