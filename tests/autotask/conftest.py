"""Fixtures for the Autotask client tests: recorded payloads, a mocked transport, a fake sleep."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers, registries

from wizard.autotask import limits
from wizard.autotask.client import AutotaskClient, clear_zone_cache
from wizard.autotask.types import Credentials

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "autotask"

ZONE_INFORMATION_URL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
ZONE_URL = "https://webservices15.autotask.net/ATServicesRest/"
BASE = ZONE_URL + "V1.0/"
USERNAME = "billingsync@contoso-msp.example"
SECRET = "Sup3r$ecret#Value-7Q"
INTEGRATION_CODE = "RHIPE27CHARINTEGRATIONCODE1"

CREDENTIALS = Credentials(username=USERNAME, secret=SECRET, integration_code=INTEGRATION_CODE)
AUTH_HEADERS = {
    "ApiIntegrationCode": INTEGRATION_CODE,
    "UserName": USERNAME,
    "Secret": SECRET,
    "Content-Type": "application/json",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ordered_responses: serve the registered mocks strictly in order (retries)"
    )


def payload(name: str) -> Any:
    """A recorded Autotask JSON payload from tests/fixtures/autotask/."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    # The zone cache and the concurrency slots are process-wide by design.
    clear_zone_cache()
    limits.reset()
    yield
    clear_zone_cache()
    limits.reset()


@pytest.fixture
def mocked_responses(request: pytest.FixtureRequest) -> Iterator[responses.RequestsMock]:
    """Every outbound call must be mocked, and every mock must be used.

    Client test modules apply it to every test with ``pytestmark``; it is not autouse so that
    other modules here (the sandbox's own HTTP server tests) keep their real transport.
    """
    ordered = request.node.get_closest_marker("ordered_responses") is not None
    registry = registries.OrderedRegistry if ordered else registries.FirstMatchRegistry
    with responses.RequestsMock(assert_all_requests_are_fired=True, registry=registry) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the client asked to sleep for (nothing really sleeps)."""
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Callable[..., AutotaskClient]:
    def make(credentials: Credentials = CREDENTIALS, **kwargs: Any) -> AutotaskClient:
        kwargs.setdefault("zone_information_url", ZONE_INFORMATION_URL)
        kwargs.setdefault("sleep", sleeps.append)
        return AutotaskClient(credentials, **kwargs)

    return make


@pytest.fixture
def client(make_client: Callable[..., AutotaskClient]) -> AutotaskClient:
    return make_client()


def add_zone(rsps: responses.RequestsMock, username: str = USERNAME, **overrides: Any) -> Any:
    """Register the zone lookup for ``username``; returns the registered mock."""
    return rsps.get(
        ZONE_INFORMATION_URL,
        json={**payload("zone_information"), **overrides},
        match=[matchers.query_param_matcher({"user": username})],
    )
