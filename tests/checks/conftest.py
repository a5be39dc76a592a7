"""Checks run against the sandbox: a faithful Autotask emulator, in-process, with a fixed date."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

from wizard.autotask import AutotaskClient, Credentials, build_session
from wizard.sandbox import DEFAULT_BASE_URL, SANDBOX_SECRET, Sandbox, install_sandbox

TODAY = datetime.date(2026, 11, 26)
# The sandbox's default tenant time zone (DEFAULT_TIME_ZONE), where TODAY is "today".
SYDNEY = "Australia/Sydney"
CODE = "CHECKS-TEST-CODE"
ZONE_URL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"


@pytest.fixture
def sandbox() -> Sandbox:
    # No injected latency: these tests are about answers, not timing.
    return Sandbox(CODE, base_url=DEFAULT_BASE_URL, today=TODAY, threshold_latency=False)


@pytest.fixture
def client_for(sandbox: Sandbox) -> Callable[..., AutotaskClient]:
    def make(scenario: str, secret: str = SANDBOX_SECRET) -> AutotaskClient:
        session = build_session()
        install_sandbox(session, sandbox, ZONE_URL)
        return AutotaskClient(
            Credentials(f"{scenario}@sandbox.example", secret, CODE),
            zone_information_url=ZONE_URL,
            session=session,
            zone_cache={},
            backoff_factor=0,
            sleep=lambda _s: None,
        )

    return make
