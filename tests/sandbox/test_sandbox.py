"""The Autotask sandbox answers like the documented API (reference/autotask-rest-api.md)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from wizard.autotask.dates import local_date
from wizard.sandbox import (
    CODE_INVALID,
    DEFAULT_BASE_URL,
    DEMO_CONTRACTS,
    MAX_RECORDS_RANGE,
    NO_QUERY_RIGHTS,
    SANDBOX_SECRET,
    SCENARIOS,
    THREAD_EXCEEDED,
    ZONE_UNKNOWN,
    Sandbox,
    SandboxAdapter,
    default_sandbox,
    install_sandbox,
    sandbox_session,
    serve,
    zone_information_url,
)
from wizard.sandbox.data import TOTAL_COMPANIES

CODE = "TEST-INTEGRATION-CODE"
ZONE_URL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
TODAY = date(2025, 3, 20)
SYDNEY = "Australia/Sydney"
HEALTHY = "healthy@sandbox.example"
# The query engine's tests read every company: the guide's level hides all but customers.
ALL_COMPANIES = "full-default@sandbox.example"
EVERYTHING = [{"op": "gte", "field": "id", "value": 0}]


class SleepRecorder:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def sandbox(sleeps: SleepRecorder) -> Sandbox:
    return Sandbox(CODE, base_url=DEFAULT_BASE_URL, sleep=sleeps, today=TODAY)


@pytest.fixture
def session(sandbox: Sandbox) -> Iterator[requests.Session]:
    with requests.Session() as s:
        install_sandbox(s, sandbox, ZONE_URL)
        yield s


def auth(username: str = HEALTHY, secret: str = SANDBOX_SECRET, code: str = CODE) -> dict[str, str]:
    return {"ApiIntegrationCode": code, "UserName": username, "Secret": secret}


def api(path: str) -> str:
    return f"{DEFAULT_BASE_URL}V1.0/{path}"


def query(
    session: requests.Session,
    entity: str,
    filters: Sequence[Any],
    username: str = ALL_COMPANIES,
    **extra: Any,
) -> requests.Response:
    return session.post(
        api(f"{entity}/query"), headers=auth(username), json={"filter": filters, **extra}
    )


def ids(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# --- zone discovery and authentication -----------------------------------------------------------


def test_zone_information_needs_no_credentials(session: requests.Session) -> None:
    r = session.get(ZONE_URL, params={"user": HEALTHY})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"zoneName", "url", "webUrl", "ci"}
    assert body["url"] == DEFAULT_BASE_URL
    assert body["url"].endswith("ATServicesRest/")
    assert body["webUrl"] == "https://ww-sandbox.autotask.test/"
    assert isinstance(body["ci"], int)


@pytest.mark.parametrize("user", ["unknown@sandbox.example", "nobody@example.com", ""])
def test_zone_information_for_unknown_user_is_500(session: requests.Session, user: str) -> None:
    r = session.get(ZONE_URL, params={"user": user})
    assert r.status_code == 500
    assert r.json() == {"errors": [ZONE_UNKNOWN]}


def test_paths_are_case_insensitive(session: requests.Session) -> None:
    upper = "https://webservices.autotask.net/ATServicesRest/V1.0/ZoneInformation"
    assert session.get(upper, params={"user": HEALTHY}).status_code == 200
    lower = "https://webservices-sandbox.autotask.test/atservicesrest/v1.0/thresholdinformation"
    assert session.get(lower, headers=auth()).status_code == 200


@pytest.mark.parametrize("missing", ["ApiIntegrationCode", "UserName", "Secret"])
def test_missing_auth_header_is_invalid_integration_code(
    session: requests.Session, missing: str
) -> None:
    headers = auth()
    del headers[missing]
    r = session.get(api("ThresholdInformation"), headers=headers)
    assert r.status_code == 500
    assert r.json() == {"errors": [CODE_INVALID]}


def test_wrong_integration_code(session: requests.Session) -> None:
    r = session.get(api("ThresholdInformation"), headers=auth(code="SOMEONE-ELSES-CODE"))
    assert r.status_code == 500
    assert r.json() == {"errors": ["IntegrationCode is invalid."]}


def test_wrong_secret_is_401_with_empty_body(session: requests.Session) -> None:
    r = session.get(api("ThresholdInformation"), headers=auth(secret="not-it"))
    assert r.status_code == 401
    assert r.content == b""


def test_header_names_and_usernames_are_case_insensitive(session: requests.Session) -> None:
    headers = {
        "apiintegrationcode": CODE,
        "username": "Healthy@Sandbox.Example",
        "secret": SANDBOX_SECRET,
    }
    assert session.get(api("ThresholdInformation"), headers=headers).status_code == 200


def test_unknown_path_is_404(session: requests.Session) -> None:
    assert session.get(api("Tickets/query"), headers=auth()).status_code == 404


# --- every scenario ------------------------------------------------------------------------------


def _threshold(session: requests.Session, username: str) -> requests.Response:
    return session.get(api("ThresholdInformation"), headers=auth(username))


def check_healthy(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    r = _threshold(session, HEALTHY)
    assert r.status_code == 200
    assert r.json() == {
        "externalRequestThreshold": 10000,
        "requestThresholdTimeframe": 60,
        "currentTimeframeRequestCount": 1,
    }
    # The guide's CRM setting hides the partner's own company (type Partner), as in Autotask.
    assert session.get(api("Companies/0"), headers=auth()).json() == {"item": None}
    info = session.get(api("Companies/entityInformation"), headers=auth()).json()["info"]
    assert info["userAccessForQuery"] == "Restricted"
    visible = ids(query(session, "Companies", EVERYTHING, HEALTHY, MaxRecords=500))
    assert 0 not in visible and 113 not in visible  # own company, a prospect
    assert {101, 118} <= set(visible)  # a customer, a cancellation


def check_costs_zero(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "costs-zero@sandbox.example"
    r = query(session, "Services", EVERYTHING, user, IncludeFields=["unitCost"])
    assert {item["unitCost"] for item in r.json()["items"]} == {0}


def check_fresh_tenant(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "fresh-tenant@sandbox.example"
    fields = session.get(api("Contracts/entityInformation/fields"), headers=auth(user)).json()
    types = next(f for f in fields["fields"] if f["name"] == "contractType")["picklistValues"]
    active = {v["label"] for v in types if v["isActive"]}
    assert active == {"Time and Materials", "Recurring Service"}


def check_unknown(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "unknown@sandbox.example"
    assert session.get(ZONE_URL, params={"user": user}).status_code == 500
    r = _threshold(session, user)
    assert (r.status_code, r.json()) == (500, {"errors": [ZONE_UNKNOWN]})


def check_wrong_secret(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "wrong-secret@sandbox.example"
    assert session.get(ZONE_URL, params={"user": user}).status_code == 200
    r = _threshold(session, user)
    assert (r.status_code, r.content) == (401, b"")


def check_code_rejected(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    r = _threshold(session, "code-rejected@sandbox.example")
    assert (r.status_code, r.json()) == (500, {"errors": [CODE_INVALID]})


def check_missing_rights(
    session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder
) -> None:
    user = "missing-rights@sandbox.example"
    assert _threshold(session, user).status_code == 200
    r = query(session, "Services", EVERYTHING, user)
    assert (r.status_code, r.json()) == (500, {"errors": [NO_QUERY_RIGHTS]})
    info = session.get(api("Contracts/entityInformation"), headers=auth(user)).json()["info"]
    assert (info["userAccessForQuery"], info["userAccessForUpdate"]) == ("All", "None")
    assert query(session, "Contracts", EVERYTHING, user).status_code == 200


def check_restricted_rights(
    session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder
) -> None:
    user = "restricted-rights@sandbox.example"
    info = session.get(api("Contracts/entityInformation"), headers=auth(user)).json()["info"]
    assert info["userAccessForQuery"] == "Restricted"
    assert ids(query(session, "Contracts", EVERYTHING, user)) == []
    count = session.post(
        api("Contracts/query/count"), headers=auth(user), json={"filter": EVERYTHING}
    )
    assert count.json() == {"queryCount": 0}
    # Companies stay as the guide sets them: customers visible, the own company not.
    assert ids(query(session, "Companies", [{"op": "eq", "field": "id", "value": 0}], user)) == []


def check_full_default(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "full-default@sandbox.example"
    for entity in ("Companies", "Contracts", "ContractServices", "Services", "Products"):
        info = session.get(api(f"{entity}/entityInformation"), headers=auth(user)).json()["info"]
        rights = [info[f"userAccessFor{verb}"] for verb in ("Query", "Create", "Update", "Delete")]
        assert rights == ["All", "All", "All", "All"], entity


def check_costs_hidden(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "costs-hidden@sandbox.example"
    for entity in ("Services", "Products"):
        items = query(session, entity, EVERYTHING, user).json()["items"]
        assert items
        assert all(item["unitCost"] is None for item in items)
        assert all(item["unitPrice"] is not None for item in items)
    visible = query(session, "Services", EVERYTHING).json()["items"]
    assert all(item["unitCost"] is not None for item in visible)


def check_near_threshold(
    session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder
) -> None:
    r = _threshold(session, "near-threshold@sandbox.example")
    assert r.status_code == 200
    assert r.json()["currentTimeframeRequestCount"] == 6201
    # Autotask slows a tenant above 50 % of its threshold by 0.5 s per request.
    assert sleeps.calls == [0.5]


def check_throttled(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    r = _threshold(session, "throttled@sandbox.example")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert isinstance(r.json()["errors"][0], str)


def check_thread_limit(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    user = "thread-limit@sandbox.example"
    for path in ("ThresholdInformation", "Companies/0"):
        r = session.get(api(path), headers=auth(user))
        assert (r.status_code, r.json()) == (500, {"errors": [THREAD_EXCEEDED]})
    assert THREAD_EXCEEDED.startswith("Itgenatr005: ")


def check_slow(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    assert _threshold(session, "slow@sandbox.example").status_code == 200
    assert sleeps.calls == [2.0]


def check_flaky(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    statuses = [_threshold(session, "flaky@sandbox.example") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 503, 200, 503]
    assert statuses[1].headers["Content-Type"].startswith("text/html")
    assert statuses[1].text.lstrip().startswith("<!DOCTYPE html>")


def check_broken(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    r = _threshold(session, "broken@sandbox.example")
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()


def _start_of_2001(session: requests.Session, user: str) -> str:
    one = [{"op": "eq", "field": "id", "value": 2001}]
    return str(query(session, "Contracts", one, user).json()["items"][0]["startDate"])


def check_america(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    # 1 March 2024 in New York (EST, UTC-5), with fractional seconds.
    assert _start_of_2001(session, "america@sandbox.example") == "2024-03-01T05:00:00.000Z"


def check_auckland(session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder) -> None:
    # 1 March 2024 in Auckland (NZDT, UTC+13): the instant falls on the day before in UTC.
    assert _start_of_2001(session, "auckland@sandbox.example") == "2024-02-29T11:00:00Z"


ScenarioCheck = Callable[[requests.Session, Sandbox, SleepRecorder], None]
SCENARIO_CHECKS: dict[str, ScenarioCheck] = {
    "healthy": check_healthy,
    "america": check_america,
    "auckland": check_auckland,
    "unknown": check_unknown,
    "wrong-secret": check_wrong_secret,
    "code-rejected": check_code_rejected,
    "missing-rights": check_missing_rights,
    "restricted-rights": check_restricted_rights,
    "full-default": check_full_default,
    "costs-hidden": check_costs_hidden,
    "near-threshold": check_near_threshold,
    "throttled": check_throttled,
    "thread-limit": check_thread_limit,
    "slow": check_slow,
    "flaky": check_flaky,
    "broken": check_broken,
    "costs-zero": check_costs_zero,
    "fresh-tenant": check_fresh_tenant,
}


def test_every_scenario_is_checked_and_described() -> None:
    assert {s.key for s in SCENARIOS.values()} == set(SCENARIO_CHECKS)
    for username, scenario in SCENARIOS.items():
        assert username == f"{scenario.key}@sandbox.example"
        assert scenario.title
        assert scenario.description
        assert scenario.diagnosis


@pytest.mark.parametrize("key", list(SCENARIO_CHECKS))
def test_scenario(
    key: str, session: requests.Session, sandbox: Sandbox, sleeps: SleepRecorder
) -> None:
    SCENARIO_CHECKS[key](session, sandbox, sleeps)
    # The checks above assert on the answers; this proves they went to the sandbox as this
    # scenario's user, not to some other one.
    assert sandbox.request_count(f"{key}@sandbox.example") > 0


def test_unlisted_username_is_unknown(session: requests.Session) -> None:
    r = _threshold(session, "someone@partner.example")
    assert (r.status_code, r.json()) == (500, {"errors": [ZONE_UNKNOWN]})


def test_healthy_rights_are_least_privilege(session: requests.Session) -> None:
    expected = {
        # Level names on the wire, as real Autotask answers (reference, Corrections 1).
        "Companies": ["Restricted", "None", "None", "None"],
        "Contracts": ["All", "None", "All", "None"],
        "ContractServices": ["All", "All", "All", "None"],
        "ContractServiceUnits": ["All", "None", "None", "None"],
        "Services": ["All", "All", "All", "None"],
        "Products": ["All", "All", "All", "All"],
    }
    for entity, rights in expected.items():
        info = session.get(api(f"{entity}/entityInformation"), headers=auth()).json()["info"]
        assert [
            info[f"userAccessFor{v}"] for v in ("Query", "Create", "Update", "Delete")
        ] == rights
        assert set(info) == {
            "name", "canCreate", "canDelete", "canQuery", "canUpdate",
            "userAccessForCreate", "userAccessForDelete", "userAccessForQuery",
            "userAccessForUpdate", "hasUserDefinedFields", "supportsWebhookCallouts",
        }  # fmt: skip


# --- queries -------------------------------------------------------------------------------------


def test_paging_collects_every_company_on_the_same_origin(session: requests.Session) -> None:
    r = query(session, "Companies", EVERYTHING)
    collected: list[int] = []
    pages = 0
    while True:
        assert r.status_code == 200
        body = r.json()
        pages += 1
        details = body["pageDetails"]
        assert set(details) == {"count", "requestCount", "prevPageUrl", "nextPageUrl"}
        assert details["count"] == len(body["items"]) <= 500
        collected += [item["id"] for item in body["items"]]
        if details["nextPageUrl"] is None:
            break
        next_url = details["nextPageUrl"]
        assert urlsplit(next_url).netloc == urlsplit(DEFAULT_BASE_URL).netloc
        assert next_url.startswith(DEFAULT_BASE_URL)
        assert urlsplit(next_url).path.endswith("/Companies/query/next")
        assert list(parse_qs(urlsplit(next_url).query)) == ["paging"]
        # A next page is the first request again: POST, same body (reference, Corrections 3).
        r = session.post(next_url, headers=auth(ALL_COMPANIES), json={"filter": EVERYTHING})
    assert pages >= 2
    assert len(collected) == len(set(collected)) == TOTAL_COMPANIES == 620
    assert details["prevPageUrl"] is not None
    previous = session.post(
        details["prevPageUrl"], headers=auth(ALL_COMPANIES), json={"filter": EVERYTHING}
    )
    previous = previous.json()
    assert len(previous["items"]) == 500


def test_max_records_is_the_page_size(session: requests.Session) -> None:
    r = query(session, "Companies", [{"op": "lt", "field": "id", "value": 106}], MaxRecords=4)
    details = r.json()["pageDetails"]
    assert (details["count"], details["requestCount"]) == (4, 4)
    body = {"filter": [{"op": "lt", "field": "id", "value": 106}], "MaxRecords": 4}
    second = session.post(details["nextPageUrl"], headers=auth(ALL_COMPANIES), json=body).json()
    assert [i["id"] for i in second["items"]] == [104, 105]
    assert second["pageDetails"]["nextPageUrl"] is None


@pytest.mark.parametrize("max_records", [0, 501, 5000, -1, "many"])
def test_max_records_outside_1_to_500_is_an_error(session: requests.Session, max_records) -> None:
    # Reference, Corrections 4: HTTP 500 with this text, not a silently clamped page.
    r = query(session, "Companies", EVERYTHING, MaxRecords=max_records)
    assert (r.status_code, r.json()) == (500, {"errors": [MAX_RECORDS_RANGE]})


def test_a_next_page_answers_get_with_405(session: requests.Session) -> None:
    first = query(session, "Companies", EVERYTHING).json()
    r = session.get(first["pageDetails"]["nextPageUrl"], headers=auth(ALL_COMPANIES))
    assert r.status_code == 405
    assert "does not support http method 'GET'" in r.json()["Message"]


def test_and_or_groups(session: requests.Session) -> None:
    filters = [
        {"op": "eq", "field": "contractType", "value": 7},
        {
            "op": "or",
            "items": [
                {"op": "eq", "field": "companyID", "value": 101},
                {"op": "and", "items": [
                    {"op": "eq", "field": "companyID", "value": 109},
                    {"op": "eq", "field": "status", "value": 0},
                ]},
            ],
        },
    ]  # fmt: skip
    assert ids(query(session, "Contracts", filters)) == [2001, 2009]


def test_text_operators_are_case_insensitive(session: requests.Session) -> None:
    def names(op: str, value: str) -> list[str]:
        r = query(session, "Companies", [{"op": op, "field": "CompanyName", "value": value}])
        return [item["companyName"] for item in r.json()["items"]]

    assert names("contains", "contoso") == ["Contoso Ltd", "Contoso Pharmaceuticals"]
    assert names("beginsWith", "FABRIKAM") == ["Fabrikam Inc"]
    assert names("endsWith", "sons</b>") == ["<b>Acme & Sons</b>"]
    assert names("eq", "tailspin toys") == ["Tailspin Toys"]


def test_list_and_presence_operators(session: requests.Session) -> None:
    assert ids(
        query(session, "Companies", [{"op": "in", "field": "id", "value": [0, 102, 9999]}])
    ) == [0, 102]
    not_in = ids(query(session, "Contracts", [
        {"op": "notIn", "field": "contractType", "value": ["7", "1"]},
        {"op": "lt", "field": "id", "value": 3000},
    ]))  # fmt: skip
    assert not_in == [2012, 2013, 2014]
    assert ids(query(session, "Companies", [{"op": "exist", "field": "webAddress"}])) == []
    missing = query(session, "Companies", [{"op": "notExist", "field": "parentCompanyID"}])
    assert len(missing.json()["items"]) == 500
    inactive = [
        {"op": "noteq", "field": "isActive", "value": True},
        {"op": "lt", "field": "id", "value": 200},
    ]
    assert ids(query(session, "Companies", inactive)) == [110, 117, 118]


def test_date_comparisons(session: requests.Session) -> None:
    # TODAY is 2025-03-20: "most recent invoice" bills usage from 2025-02-01.
    first_usage = "2025-02-01T00:00:00Z"
    filters = [
        {"op": "eq", "field": "contractType", "value": 7},
        {"op": "lte", "field": "startDate", "value": first_usage},
        {"op": "gte", "field": "endDate", "value": "2025-02-01"},
        {"op": "in", "field": "id", "value": list(DEMO_CONTRACTS)},
    ]
    assert ids(query(session, "Contracts", filters)) == [2001, 2002, 2003, 2004, 2005, 2009, 2010]
    later = [{"op": "gt", "field": "startDate", "value": "2025-02-01T00:00:00.000000Z"},
             {"op": "in", "field": "id", "value": list(DEMO_CONTRACTS)}]  # fmt: skip
    assert ids(query(session, "Contracts", later)) == [2006, 2007]


def test_get_query_with_search_parameter(session: requests.Session) -> None:
    search = json.dumps(
        {"filter": [{"op": "eq", "field": "id", "value": 101}], "IncludeFields": ["companyName"]}
    )
    r = session.get(api("Companies/query"), params={"search": search}, headers=auth(ALL_COMPANIES))
    assert r.json()["items"] == [{"id": 101, "companyName": "Contoso Ltd"}]


def test_query_errors(session: requests.Session) -> None:
    unknown_field = query(session, "Companies", [{"op": "eq", "field": "nope", "value": 1}])
    assert unknown_field.status_code == 500
    assert "nope" in unknown_field.json()["errors"][0]
    no_filter = query(session, "Companies", [])
    assert no_filter.status_code == 500
    bad_boolean = query(session, "Companies", [{"op": "eq", "field": "isActive", "value": 1}])
    assert bad_boolean.status_code == 500
    not_json = session.post(api("Companies/query"), headers=auth(), data=b"{nope")
    assert not_json.status_code == 500
    assert not_json.json()["errors"]


def test_misspelt_operator_matches_everything(session: requests.Session) -> None:
    # Emulates the reported Autotask quirk: an unknown op is ignored, not rejected.
    r = query(session, "Companies", [{"op": "noteExist", "field": "companyName"}])
    assert r.status_code == 200
    assert len(r.json()["items"]) == 500


def test_query_count(session: requests.Session) -> None:
    def count(entity: str, filters: Sequence[Any]) -> int:
        r = session.post(
            api(f"{entity}/query/count"), headers=auth(ALL_COMPANIES), json={"filter": filters}
        )
        assert r.status_code == 200
        return int(r.json()["queryCount"])

    assert count("Companies", EVERYTHING) == 620
    assert count("Contracts", [{"op": "in", "field": "id", "value": list(DEMO_CONTRACTS)}]) == 14
    search = json.dumps({"filter": [{"op": "eq", "field": "contractType", "value": 3}]})
    r = session.get(api("Contracts/query/count"), params={"search": search}, headers=auth())
    assert r.json() == {"queryCount": 2}


def test_company_by_id(session: requests.Session) -> None:
    own = session.get(api("Companies/0"), headers=auth(ALL_COMPANIES))
    assert own.json()["item"]["companyName"] == "Northwind IT Services"
    # A missing id is HTTP 200 with a null item (reference, Corrections 4).
    missing = session.get(api("Companies/424242"), headers=auth())
    assert missing.status_code == 200
    assert missing.json() == {"item": None}


def test_dates_are_the_instant_of_local_midnight(session: requests.Session) -> None:
    # Reference, Corrections point 2: Autotask serves a date-only field as the UTC instant of
    # the tenant's local midnight. The default tenant is in Sydney (AEDT, UTC+11 in March,
    # AEST, UTC+10 in winter).
    contract = query(session, "Contracts", [{"op": "eq", "field": "id", "value": 2005}]).json()[
        "items"
    ][0]
    assert contract["startDate"] == "2024-03-14T13:00:00Z"  # 15 March 2024 in Sydney
    assert contract["endDate"] == "2027-02-27T13:00:00Z"  # 28 February 2027 in Sydney
    winter = query(session, "Contracts", [{"op": "eq", "field": "id", "value": 2014}]).json()[
        "items"
    ][0]
    assert winter["startDate"] == "2024-08-31T14:00:00Z"  # 1 September 2024, AEST


def test_every_zone_sees_the_same_local_dates(sandbox: Sandbox) -> None:
    zones = {s.time_zone for s in SCENARIOS.values()}
    assert {"Australia/Sydney", "America/New_York", "Pacific/Auckland"} <= zones
    local = {
        tz: {
            c["id"]: (local_date(c["startDate"], tz), local_date(c["endDate"], tz))
            for c in sandbox.records("Contracts", tz)
        }
        for tz in zones
    }
    first = local.pop("Australia/Sydney")
    assert first[2001] == (date(2024, 3, 1), date(2027, 2, 28))
    for tz, dates in local.items():
        assert dates == first, tz


# --- metadata ------------------------------------------------------------------------------------


FIELD_KEYS = {
    "name", "dataType", "length", "isRequired", "isReadOnly", "isQueryable", "isReference",
    "referenceEntityType", "isPickList", "picklistValues",
}  # fmt: skip
PICKLIST_KEYS = {
    "value",
    "label",
    "isDefaultValue",
    "sortOrder",
    "parentValue",
    "isActive",
    "isSystem",
}


def picklist(session: requests.Session, entity: str, field_name: str) -> dict[str, str]:
    fields = session.get(api(f"{entity}/entityInformation/fields"), headers=auth()).json()["fields"]
    (wanted,) = [f for f in fields if f["name"] == field_name]
    assert wanted["isPickList"] is True
    return {v["label"]: v["value"] for v in wanted["picklistValues"]}


def test_picklist_values_are_strings(session: requests.Session) -> None:
    assert picklist(session, "Contracts", "contractType") == {
        "Time and Materials": "1",
        "Fixed Price": "3",
        "Block Hours": "4",
        "Retainer": "6",
        "Recurring Service": "7",
        "Per Ticket": "8",
    }
    assert picklist(session, "Contracts", "status") == {"Active": "1", "Inactive": "0"}
    assert picklist(session, "Companies", "companyType") == {
        "Customer": "1",
        "Lead": "2",
        "Prospect": "3",
        "Dead": "4",
        "Cancellation": "6",
        "Vendor": "7",
        "Partner": "8",
    }
    for entity in (
        "Companies",
        "Contracts",
        "ContractServices",
        "ContractServiceUnits",
        "Services",
        "Products",
    ):
        fields = session.get(api(f"{entity}/entityInformation/fields"), headers=auth()).json()[
            "fields"
        ]
        for f in fields:
            assert set(f) >= FIELD_KEYS
            for value in f["picklistValues"] or []:
                assert isinstance(value["value"], str)
                assert set(value) >= PICKLIST_KEYS


# --- seeded data ---------------------------------------------------------------------------------


def test_seeded_contracts_follow_today(sandbox: Sandbox) -> None:
    contracts = {c["id"]: c for c in sandbox.records("Contracts")}
    companies = {c["id"]: c for c in sandbox.records("Companies")}
    start = {cid: str(local_date(contracts[cid]["startDate"], SYDNEY)) for cid in DEMO_CONTRACTS}
    end = {cid: str(local_date(contracts[cid]["endDate"], SYDNEY)) for cid in DEMO_CONTRACTS}
    assert start[2001] == "2024-03-01"  # the 1st, a year ago
    assert start[2005] == "2024-03-15"  # mid-month: proration
    assert start[2006] == "2025-04-01"  # after both first usage dates
    assert start[2007] == "2025-03-01"  # this month: only "next invoice" works
    assert end[2008] < "2025-02-01"
    assert contracts[2009]["status"] == 0
    assert companies[contracts[2010]["companyID"]]["isActive"] is False
    assert contracts[2011]["contractType"] == 1
    assert contracts[2012]["contractType"] == 3
    assert end[2012] > "2025-03-20"
    assert contracts[2013]["contractType"] == 3
    assert end[2013] < "2025-03-20"
    good = [cid for cid in (2001, 2002, 2003) if companies[contracts[cid]["companyID"]]["isActive"]]
    assert {companies[contracts[c]["companyID"]]["companyName"] for c in good} == {
        "Contoso Ltd", "Fabrikam Inc", "Tailspin Toys",
    }  # fmt: skip
    assert any(c["companyName"] == "<b>Acme & Sons</b>" for c in companies.values())


def test_seeded_companies_are_mostly_active_customers(sandbox: Sandbox) -> None:
    companies = sandbox.records("Companies")
    assert len(companies) == 620
    active_customers = [c for c in companies if c["companyType"] == 1 and c["isActive"]]
    assert len(active_customers) > 450
    kinds = {c["companyType"] for c in companies}
    assert {1, 3, 7} <= kinds
    assert any(not c["isActive"] for c in companies if c["companyType"] == 1)
    assert len(sandbox.records("Services")) >= 24
    assert len(sandbox.records("Products")) >= 12


def test_seed_is_deterministic() -> None:
    one = Sandbox(CODE, base_url=DEFAULT_BASE_URL, today=TODAY)
    two = Sandbox(CODE, base_url=DEFAULT_BASE_URL, today=TODAY)
    for entity in ("Companies", "Contracts", "ContractServices", "ContractServiceUnits"):
        assert one.records(entity) == two.records(entity)


def test_contract_services_and_units(session: requests.Session) -> None:
    services = query(
        session, "ContractServices", [{"op": "eq", "field": "contractID", "value": 2001}]
    )
    assert services.json()["items"]
    units = query(
        session, "ContractServiceUnits", [{"op": "eq", "field": "contractID", "value": 2001}]
    )
    assert all(u["units"] > 0 for u in units.json()["items"])
    later = query(
        session, "ContractServiceUnits", [{"op": "eq", "field": "contractID", "value": 2006}]
    )
    assert later.json()["items"] == []


# --- threshold, thread limit, latency ------------------------------------------------------------


def test_threshold_count_grows_with_requests(session: requests.Session) -> None:
    for _ in range(3):
        query(session, "Companies", [{"op": "eq", "field": "id", "value": 0}], HEALTHY)
    r = session.get(api("ThresholdInformation"), headers=auth())
    assert r.json()["currentTimeframeRequestCount"] == 4


def test_thread_limit_with_four_concurrent_calls() -> None:
    sandbox = Sandbox(CODE, base_url=DEFAULT_BASE_URL, latency=0.5, today=TODAY)
    barrier = threading.Barrier(4)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def call() -> None:
        with requests.Session() as s:
            install_sandbox(s, sandbox, ZONE_URL)
            barrier.wait()
            r = s.get(api("ThresholdInformation"), headers=auth())
            with lock:
                results.append(r)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 200, 200, 500]
    (refused,) = [r for r in results if r.status_code == 500]
    assert refused.json() == {"errors": [THREAD_EXCEEDED]}
    # Slots are released: a later call goes through.
    with requests.Session() as s:
        install_sandbox(s, sandbox, ZONE_URL)
        assert s.get(api("ThresholdInformation"), headers=auth()).status_code == 200


def test_global_latency_and_read_timeout(sleeps: SleepRecorder) -> None:
    sandbox = Sandbox(CODE, base_url=DEFAULT_BASE_URL, latency=0.25, sleep=sleeps, today=TODAY)
    with requests.Session() as s:
        install_sandbox(s, sandbox, ZONE_URL)
        s.get(ZONE_URL, params={"user": HEALTHY})
        s.get(api("ThresholdInformation"), headers=auth())
        assert sleeps.calls == [0.25, 0.25]
        with pytest.raises(requests.exceptions.ReadTimeout):
            s.get(api("ThresholdInformation"), headers=auth("slow@sandbox.example"), timeout=1)
        assert sleeps.calls[-1] == 1


def test_zone_lookup_is_slow_like_the_user_but_never_near_the_threshold(
    sandbox: Sandbox, session: requests.Session, sleeps: SleepRecorder
) -> None:
    sandbox.set_latency("slow@sandbox.example", 0.5)
    assert session.get(ZONE_URL, params={"user": "slow@sandbox.example"}).status_code == 200
    # The zone lookup is no API call: a tenant near its threshold finds its zone at once.
    near = session.get(ZONE_URL, params={"user": "near-threshold@sandbox.example"})
    assert near.status_code == 200
    assert sleeps.calls == [2.5]


# --- counters and mutations ----------------------------------------------------------------------


def test_request_counter(session: requests.Session, sandbox: Sandbox) -> None:
    session.get(ZONE_URL, params={"user": HEALTHY})
    session.get(api("ThresholdInformation"), headers=auth())
    query(session, "Companies", EVERYTHING, HEALTHY)
    session.get(api("Companies/0"), headers=auth())
    session.get(api("ThresholdInformation"), headers=auth("slow@sandbox.example"))
    assert sandbox.request_count() == 5
    assert sandbox.request_count(HEALTHY) == 4
    assert sandbox.request_count(endpoint="ThresholdInformation") == 2
    assert sandbox.request_count(HEALTHY, "companies") == 2
    assert sandbox.request_count(endpoint="Companies/query") == 1
    assert sandbox.request_count(endpoint="zoneInformation") == 1
    sandbox.reset_counts()
    assert sandbox.request_count() == 0


def test_expire_secret_then_restore(session: requests.Session, sandbox: Sandbox) -> None:
    assert session.get(api("ThresholdInformation"), headers=auth()).status_code == 200
    sandbox.expire_secret(HEALTHY)
    r = session.get(api("ThresholdInformation"), headers=auth())
    assert (r.status_code, r.content) == (401, b"")
    sandbox.restore_secret(HEALTHY)
    assert session.get(api("ThresholdInformation"), headers=auth()).status_code == 200


def test_set_access(session: requests.Session, sandbox: Sandbox) -> None:
    sandbox.set_access(HEALTHY, "Companies", query=0)
    info = session.get(api("Companies/entityInformation"), headers=auth()).json()["info"]
    assert info["userAccessForQuery"] == "None"
    r = query(session, "Companies", EVERYTHING, HEALTHY)
    assert (r.status_code, r.json()) == (500, {"errors": [NO_QUERY_RIGHTS]})
    assert session.get(api("Companies/0"), headers=auth()).status_code == 500
    sandbox.set_access(HEALTHY, "contracts", update=0)
    info = session.get(api("Contracts/entityInformation"), headers=auth()).json()["info"]
    assert (info["userAccessForQuery"], info["userAccessForUpdate"]) == ("All", "None")
    with pytest.raises(ValueError, match="0, 1 or 2"):
        sandbox.set_access(HEALTHY, "Contracts", query=5)


def test_end_contract(session: requests.Session, sandbox: Sandbox) -> None:
    sandbox.end_contract(2001, on=date(2025, 1, 31))
    contract = query(session, "Contracts", [{"op": "eq", "field": "id", "value": 2001}]).json()[
        "items"
    ][0]
    assert contract["endDate"] == "2025-01-30T13:00:00Z"  # 31 January in Sydney
    # Every tenant gets the change, as its own local midnight.
    assert _start_of_2001(session, "america@sandbox.example").endswith(".000Z")
    american = query(
        session,
        "Contracts",
        [{"op": "eq", "field": "id", "value": 2001}],
        "america@sandbox.example",
    ).json()["items"][0]
    assert american["endDate"] == "2025-01-31T05:00:00.000Z"
    sandbox.update_record("Companies", 102, isActive=False)
    filters = [
        {"op": "eq", "field": "isActive", "value": False},
        {"op": "eq", "field": "id", "value": 102},
    ]
    assert ids(query(session, "Companies", filters)) == [102]


# --- transport helpers ---------------------------------------------------------------------------


def test_install_sandbox_mounts_only_the_two_origins(sandbox: Sandbox) -> None:
    with requests.Session() as s:
        install_sandbox(s, sandbox, ZONE_URL)
        assert isinstance(s.get_adapter(ZONE_URL), SandboxAdapter)
        assert isinstance(s.get_adapter(DEFAULT_BASE_URL + "V1.0/Companies/0"), SandboxAdapter)
        look_alike = "https://webservices.autotask.net.evil.example/x"
        assert not isinstance(s.get_adapter(look_alike), SandboxAdapter)


def test_adapter_builds_a_proper_response(session: requests.Session) -> None:
    r = session.get(ZONE_URL, params={"user": HEALTHY})
    assert r.reason == "OK"
    assert r.url.startswith(ZONE_URL)
    assert r.request.method == "GET"
    assert r.headers["content-type"].startswith("application/json")
    assert r.encoding == "utf-8"


def test_default_sandbox_is_one_per_process() -> None:
    seen: list[Sandbox] = []

    def grab() -> None:
        seen.append(default_sandbox("PROCESS-CODE"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 1
    assert seen[0].base_url == "https://webservices-sandbox.autotask.test/ATServicesRest/"
    assert seen[0].integration_code == "PROCESS-CODE"


def test_sandbox_session_mounts_the_process_sandbox_of_the_code() -> None:
    with requests.Session() as s:
        mounted = sandbox_session(s, "SESSION-CODE", ZONE_URL)
        assert mounted is default_sandbox("SESSION-CODE")
        assert isinstance(s.get_adapter(ZONE_URL), SandboxAdapter)
        zone = s.get(ZONE_URL, params={"user": HEALTHY}).json()
        assert zone["url"] == DEFAULT_BASE_URL
        r = s.get(api("Companies/101"), headers=auth(code="SESSION-CODE"))
        assert r.json()["item"]["companyName"] == "Contoso Ltd"
        assert mounted.request_count(HEALTHY, "Companies") == 1


# --- standalone server ---------------------------------------------------------------------------


def http(
    method: str, url: str, headers: dict[str, str] | None = None, payload: Any = None
) -> tuple[int, bytes]:
    """A real HTTP call through urllib: independent of any requests/responses mocking."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def test_standalone_server_over_http() -> None:
    sandbox = Sandbox(CODE, base_url=DEFAULT_BASE_URL, today=TODAY)
    server, thread = serve(sandbox)
    try:
        port = server.server_address[1]
        assert server.server_address[0] == "127.0.0.1"
        zone_url = zone_information_url(server)
        assert zone_url == f"http://127.0.0.1:{port}/atservicesrest/v1.0/zoneInformation"
        status, body = http("GET", f"{zone_url}?user=healthy%40sandbox.example")
        assert status == 200
        base = json.loads(body)["url"]
        assert base == f"http://127.0.0.1:{port}/ATServicesRest/"
        every = auth(ALL_COMPANIES)
        status, body = http("POST", f"{base}V1.0/Companies/query", every, {"filter": EVERYTHING})
        assert status == 200
        next_url = json.loads(body)["pageDetails"]["nextPageUrl"]
        assert next_url.startswith(base)
        assert http("GET", next_url, every)[0] == 405
        status, body = http("POST", next_url, every, {"filter": EVERYTHING})
        assert json.loads(body)["pageDetails"]["count"] == 120
        assert http("GET", f"{base}V1.0/ThresholdInformation", auth(secret="x")) == (401, b"")
        status, body = http("GET", f"{zone_url}?user=nobody%40example.com")
        assert (status, json.loads(body)) == (500, {"errors": [ZONE_UNKNOWN]})
        status, body = http("GET", f"http://127.0.0.1:{port}/_sandbox/stats")
        stats = json.loads(body)
        assert stats["total"] == 6  # the refused GET of the next page counts too
        assert stats["byEndpoint"]["Companies/query"] == 3
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_caller_that_hangs_up_is_a_log_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The app gives up on a hanging Autotask at its deadline; the sandbox then writes its late
    answer to a closed socket, which must not print a traceback per request."""
    import socket
    import struct
    import time

    sandbox = Sandbox(CODE, base_url=DEFAULT_BASE_URL, today=TODAY)
    sandbox.set_latency(HEALTHY, 0.3)
    server, thread = serve(sandbox)
    caplog.set_level("INFO", logger="wizard.sandbox.server")
    try:
        port = server.server_address[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"GET /atservicesrest/v1.0/zoneInformation?user=healthy%40sandbox.example "
                b"HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            # Close with a reset, as a caller whose timeout fired: the answer meets a dead socket.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 5
        while "hung up before its answer" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert "127.0.0.1 hung up before its answer" in caplog.text
    assert "Traceback" not in capsys.readouterr().err


def test_serve_refuses_other_interfaces(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="127.0.0.1"):
        serve(sandbox, host="0.0.0.0")


# --- the pure core and the docs ------------------------------------------------------------------


def test_handle_is_usable_without_requests(sandbox: Sandbox) -> None:
    answer = sandbox.handle("GET", ZONE_URL + "?user=healthy%40sandbox.example", {}, None)
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["url"] == DEFAULT_BASE_URL
    body = json.dumps({"filter": [{"op": "eq", "field": "id", "value": 101}]}).encode()
    answer = sandbox.handle("POST", api("Companies/query/count"), auth(), body)
    assert (answer.status, answer.json()) == (200, {"queryCount": 1})


def test_costs_can_be_hidden_for_one_user(session: requests.Session, sandbox: Sandbox) -> None:
    sandbox.set_costs_hidden(HEALTHY)
    items = query(session, "Products", EVERYTHING, HEALTHY).json()["items"]
    assert {item["unitCost"] for item in items} == {None}


def test_docs_list_every_scenario_and_demo_contract() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "sandbox.md").read_text(encoding="utf-8")
    for username in SCENARIOS:
        assert f"`{username}`" in docs
    for contract_id in DEMO_CONTRACTS:
        assert f"| {contract_id} |" in docs
    assert SANDBOX_SECRET in docs
