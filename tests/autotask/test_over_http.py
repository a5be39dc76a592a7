"""The client and the sandbox over real HTTP: the standalone server in a thread on 127.0.0.1.

Nothing is mocked here: requests opens sockets, the sandbox parses real HTTP requests.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from wizard import checks
from wizard.autotask import (
    AuthenticationFailed,
    AutotaskClient,
    Credentials,
    IntegrationCodeRejected,
    ThreadLimitExceeded,
    UnknownUsername,
)
from wizard.sandbox import SANDBOX_SECRET, Sandbox, serve, zone_information_url

CODE = "OVER-HTTP-CODE"
TODAY = datetime.date(2026, 11, 26)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(
        CODE, base_url="http://placeholder/ATServicesRest/", today=TODAY, threshold_latency=False
    )
    httpd, _thread = serve(sandbox)
    yield sandbox, zone_information_url(httpd)
    httpd.shutdown()
    httpd.server_close()


def client(
    server: tuple[Sandbox, str], scenario: str, secret: str = SANDBOX_SECRET, code: str = CODE
) -> AutotaskClient:
    _sandbox, url = server
    return AutotaskClient(
        Credentials(f"{scenario}@sandbox.example", secret, code),
        zone_information_url=url,
        zone_cache={},
        timeout=5,
        backoff_factor=0,
        sleep=lambda _s: None,
    )


def test_zone_then_authenticated_calls_over_http(server) -> None:
    c = client(server, "healthy")
    zone = c.discover_zone()
    assert zone.url.startswith("http://127.0.0.1:")
    assert zone.url.endswith("/ATServicesRest/")
    # The guide's CRM level hides the partner's own company: HTTP 200 {"item": null}.
    assert c.get("Companies", 0) is None
    own = client(server, "full-default").get("Companies", 0)
    assert own is not None
    assert own["companyName"] == "Northwind IT Services"
    assert c.get_threshold().limit == 10000


def test_paging_over_http_reads_every_company(server) -> None:
    c = client(server, "healthy")
    companies = c.query("Companies", [{"op": "gte", "field": "id", "value": 0}])
    assert len(companies) > 500
    assert len({x["id"] for x in companies}) == len(companies)
    assert c.calls >= 3  # zone + at least two pages


@pytest.mark.parametrize(
    ("scenario", "kwargs", "error"),
    [
        ("unknown", {}, UnknownUsername),
        ("healthy", {"secret": "wrong"}, AuthenticationFailed),
        ("healthy", {"code": "NOT-OURS"}, IntegrationCodeRejected),
        ("thread-limit", {}, ThreadLimitExceeded),
    ],
)
def test_errors_over_http_are_typed(server, scenario, kwargs, error) -> None:
    with pytest.raises(error):
        client(server, scenario, **kwargs).get_threshold()


def test_full_verification_over_http_counts_its_calls(server) -> None:
    sandbox, _url = server
    sandbox.reset_counts()
    c = client(server, "healthy")
    inputs = checks.Inputs(
        today=TODAY,
        time_zone="Australia/Sydney",
        sync_start="next",
        customers=[
            {"company_id": 101, "contract_id": 2001},
            {"company_id": 102, "contract_id": 2002},
            {"company_id": 103, "contract_id": 2003},
        ],
    )
    by_step = checks.run(c, inputs)
    assert {r.status for rs in by_step.values() for r in rs} == {"pass"}
    assert sandbox.request_count() == c.calls <= 15
