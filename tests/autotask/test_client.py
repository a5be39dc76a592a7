"""AutotaskClient against recorded Autotask answers, served by `responses` at the adapter level."""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from responses import matchers

from tests.autotask.conftest import (
    AUTH_HEADERS,
    BASE,
    INTEGRATION_CODE,
    SECRET,
    USERNAME,
    ZONE_INFORMATION_URL,
    ZONE_URL,
    add_zone,
    payload,
)
from wizard.autotask import (
    AccessLevel,
    AuthenticationFailed,
    AutotaskError,
    BrokenAnswer,
    Credentials,
    EntityAccess,
    IntegrationCodeRejected,
    NotFound,
    PermissionDenied,
    RequestRejected,
    ServerError,
    ThreadLimitExceeded,
    Throttled,
    TimedOut,
    TooManyResults,
    Unavailable,
    UnexpectedValue,
    UnknownUsername,
    Zone,
    build_session,
)

pytestmark = pytest.mark.usefixtures("mocked_responses")

ZONE = Zone(name="America West 2", url=ZONE_URL, web_url="https://ww15.autotask.net/", ci=301944)
THRESHOLD_URL = BASE + "ThresholdInformation"
CREDENTIAL_HEADERS = ("ApiIntegrationCode", "UserName", "Secret", "ImpersonationResourceId")
EVERYTHING = [{"op": "gte", "field": "id", "value": 0}]


def known_zone() -> dict[str, Zone]:
    """A zone cache that already knows the test user, so counts show only the call under test."""
    return {USERNAME: ZONE}


def assert_secret_free(error: BaseException) -> None:
    for text in (str(error), repr(error), repr(error.args)):
        assert SECRET not in text
        assert INTEGRATION_CODE not in text
    if isinstance(error, AutotaskError):
        assert SECRET not in error.user_message
        assert all(SECRET not in e for e in error.errors)
        assert "?" not in error.endpoint


# --------------------------------------------------------------------------------------------
# Zone discovery and headers


def test_zone_lookup_sends_no_credentials(mocked_responses, client):
    add_zone(mocked_responses)

    zone = client.discover_zone()

    assert zone == ZONE
    assert zone.api_base_url == BASE
    sent = mocked_responses.calls[0].request.headers
    assert not any(name in sent for name in CREDENTIAL_HEADERS)
    assert client.calls == 1


def test_every_other_call_sends_the_credential_headers(mocked_responses, client):
    add_zone(mocked_responses)
    mocked_responses.get(
        THRESHOLD_URL,
        json=payload("threshold_information"),
        match=[matchers.header_matcher(AUTH_HEADERS)],
    )

    client.get_threshold()

    sent = mocked_responses.calls[1].request.headers
    assert "ImpersonationResourceId" not in sent


def test_every_call_has_a_timeout(mocked_responses, make_client):
    client = make_client(timeout=7.5)
    add_zone(mocked_responses)
    mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))
    mocked_responses.post(BASE + "Contracts/query/count", json=payload("contracts_query_count"))

    client.get_threshold()
    client.count("Contracts", EVERYTHING)

    assert [c.request.req_kwargs["timeout"] for c in mocked_responses.calls] == [7.5] * 3


def test_the_zone_is_cached_per_username(mocked_responses, make_client):
    add_zone(mocked_responses)
    add_zone(mocked_responses, username="other@fabrikam.example", url=ZONE_URL)

    first, second = make_client(), make_client()
    other = make_client(Credentials("other@fabrikam.example", "another-secret", "CODE"))
    assert first.discover_zone() == second.discover_zone() == ZONE
    other.discover_zone()

    assert len(mocked_responses.calls) == 2
    assert (first.calls, second.calls, other.calls) == (1, 0, 1)


def test_a_zone_cache_can_be_supplied(mocked_responses, make_client):
    mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))
    client = make_client(zone_cache=known_zone())

    client.get_threshold()

    assert client.calls == 1
    assert mocked_responses.calls[0].request.url == THRESHOLD_URL


def test_urls_are_built_from_the_zone_url_exactly(mocked_responses, client):
    # Mixed case as Autotask returns it; nothing lowercased, nothing dropped.
    add_zone(mocked_responses, url="https://webservices15.autotask.net/ATServicesRest/")
    mocked_responses.get(
        "https://webservices15.autotask.net/ATServicesRest/V1.0/Companies/0",
        json=payload("companies_get_0"),
    )

    client.get("Companies", 0)

    assert (
        mocked_responses.calls[1].request.url
        == "https://webservices15.autotask.net/ATServicesRest/V1.0/Companies/0"
    )


@pytest.mark.parametrize(
    "zone_url",
    [
        "webservices15.autotask.net/ATServicesRest/",  # not absolute
        "ftp://webservices15.autotask.net/ATServicesRest/",
        "http://webservices15.autotask.net/ATServicesRest/",  # downgrade from https lookup
        "https://webservices15.autotask.net/ATServicesRest/?x=1",
        None,
    ],
)
def test_an_unusable_zone_url_is_a_broken_answer(mocked_responses, client, zone_url):
    add_zone(mocked_responses, url=zone_url)

    with pytest.raises(BrokenAnswer):
        client.discover_zone()


def test_an_authentication_failure_forgets_the_zone(mocked_responses, client):
    add_zone(mocked_responses)
    mocked_responses.get(THRESHOLD_URL, status=401)

    with pytest.raises(AuthenticationFailed):
        client.get_threshold()

    assert USERNAME not in client.zone_cache


# --------------------------------------------------------------------------------------------
# Reads and their shapes


def test_get_threshold(mocked_responses, make_client):
    mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))

    threshold = make_client(zone_cache=known_zone()).get_threshold()

    assert (threshold.limit, threshold.timeframe_minutes, threshold.current_count) == (
        10000,
        60,
        124,
    )
    assert threshold.usage_ratio == pytest.approx(0.0124)


def test_get_returns_the_item(mocked_responses, make_client):
    mocked_responses.get(BASE + "Companies/0", json=payload("companies_get_0"))

    company = make_client(zone_cache=known_zone()).get("Companies", 0)

    assert company is not None
    assert company["companyName"] == "Contoso Managed Services"


@pytest.mark.parametrize(
    "answer", [{"status": 404, "json": {"errors": []}}, {"json": payload("item_null")}]
)
def test_get_returns_none_for_a_missing_record(mocked_responses, make_client, answer):
    mocked_responses.get(BASE + "Contracts/999", **answer)
    client = make_client(zone_cache=known_zone())

    assert client.get("Contracts", 999) is None
    assert client.calls == 1  # a 404 is an answer, not a reason to retry


def test_query_follows_next_page_urls(mocked_responses, client):
    page1, page2, page3 = (payload(f"companies_query_page{n}") for n in (1, 2, 3))
    add_zone(mocked_responses)
    mocked_responses.post(
        BASE + "Companies/query",
        json=page1,
        match=[
            matchers.header_matcher(AUTH_HEADERS),
            matchers.json_params_matcher(
                {
                    "filter": EVERYTHING,
                    "MaxRecords": 500,
                    "IncludeFields": ["id", "companyName", "isActive"],
                }
            ),
        ],
    )
    # The next pages are POSTed again with the very same body (a GET answers 405).
    same_body = matchers.json_params_matcher(
        {
            "filter": EVERYTHING,
            "MaxRecords": 500,
            "IncludeFields": ["id", "companyName", "isActive"],
        }
    )
    mocked_responses.post(
        page1["pageDetails"]["nextPageUrl"],
        json=page2,
        match=[
            matchers.header_matcher(AUTH_HEADERS),
            matchers.query_string_matcher(page1["pageDetails"]["nextPageUrl"].split("?")[1]),
            same_body,
        ],
    )
    mocked_responses.post(
        page2["pageDetails"]["nextPageUrl"],
        json=page3,
        match=[
            matchers.query_string_matcher(page2["pageDetails"]["nextPageUrl"].split("?")[1]),
            same_body,
        ],
    )

    companies = client.query("Companies", EVERYTHING, include_fields=["companyName", "isActive"])

    assert [c["id"] for c in companies] == [0, 174, 175, 180, 181]
    assert client.calls == 4  # zone, first page, two next pages


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.com/ATServicesRest/V1.0/Companies/query/next?paging=x",
        "http://webservices15.autotask.net/ATServicesRest/V1.0/Companies/query/next?paging=x",
        "https://webservices15.autotask.net:8443/ATServicesRest/V1.0/Companies/query/next",
        "https://webservices15.autotask.net@evil.example.com/V1.0/Companies/query/next",
        "https://webservices15.autotask.net.evil.example.com/V1.0/Companies/query/next",
        "//evil.example.com/V1.0/Companies/query/next",
    ],
)
def test_query_refuses_a_next_page_on_another_origin(mocked_responses, make_client, next_url):
    first = payload("companies_query_page1")
    first["pageDetails"]["nextPageUrl"] = next_url
    mocked_responses.post(BASE + "Companies/query", json=first)
    client = make_client(zone_cache=known_zone())

    with pytest.raises(BrokenAnswer) as caught:
        client.query("Companies", EVERYTHING)

    # Nothing, let alone the credentials, went to the other origin.
    assert len(mocked_responses.calls) == 1
    assert client.calls == 1
    assert "another server" in caught.value.user_message
    assert "?" not in caught.value.endpoint


def test_query_stops_at_max_records(mocked_responses, make_client):
    mocked_responses.post(
        BASE + "Companies/query",
        json=payload("companies_query_page1"),
        match=[matchers.json_params_matcher({"filter": EVERYTHING, "MaxRecords": 2})],
    )

    companies = make_client(zone_cache=known_zone()).query("Companies", EVERYTHING, max_records=2)

    assert [c["id"] for c in companies] == [0, 174]


def test_query_refuses_to_return_a_silently_truncated_list(mocked_responses, make_client):
    page1, page2 = payload("companies_query_page1"), payload("companies_query_page2")
    mocked_responses.post(BASE + "Companies/query", json=page1)
    mocked_responses.post(page1["pageDetails"]["nextPageUrl"], json=page2)

    with pytest.raises(TooManyResults):
        make_client(zone_cache=known_zone()).query("Companies", EVERYTHING, max_pages=2)


def test_query_detects_a_paging_loop(mocked_responses, make_client):
    page1 = payload("companies_query_page1")
    mocked_responses.post(BASE + "Companies/query", json=page1)
    mocked_responses.post(page1["pageDetails"]["nextPageUrl"], json=page1)

    with pytest.raises(BrokenAnswer):
        make_client(zone_cache=known_zone()).query("Companies", EVERYTHING)


def test_query_page_returns_one_page_and_its_next_link(mocked_responses, make_client):
    page1, page2 = payload("companies_query_page1"), payload("companies_query_page2")
    mocked_responses.post(
        BASE + "Companies/query",
        json=page1,
        match=[matchers.json_params_matcher({"filter": EVERYTHING, "MaxRecords": 2})],
    )
    mocked_responses.post(
        page1["pageDetails"]["nextPageUrl"],
        json=page2,
        match=[matchers.json_params_matcher({"filter": EVERYTHING, "MaxRecords": 2})],
    )
    client = make_client(zone_cache=known_zone())

    first = client.query_page("Companies", EVERYTHING, max_records=2)
    second = client.query_page("Companies", EVERYTHING, max_records=2, page_url=first.next_page_url)

    assert [c["id"] for c in first.items] == [0, 174]
    assert first.next_page_url == page1["pageDetails"]["nextPageUrl"]
    assert [c["id"] for c in second.items] == [175, 180]
    assert second.next_page_url == page2["pageDetails"]["nextPageUrl"]


@pytest.mark.parametrize(
    "filters",
    [
        [],
        [{"op": "noteExist", "field": "endDate"}],  # misspelt: Autotask would return everything
        [{"op": "or", "items": [{"op": "eq", "field": "status", "value": 1}, {"op": "bogus"}]}],
        ["id > 0"],
    ],
)
def test_bad_filters_are_refused_before_any_call(client, filters):
    with pytest.raises(ValueError, match="filter"):
        client.query("Contracts", filters)
    assert client.calls == 0


@pytest.mark.parametrize("entity", ["../Companies", "Companies/0", "", "Companies?x=1"])
def test_bad_entity_names_are_refused(client, entity):
    with pytest.raises(ValueError, match="entity"):
        client.get(entity, 1)
    assert client.calls == 0


def test_count(mocked_responses, make_client):
    contract_filter = [{"op": "eq", "field": "contractType", "value": 7}]
    mocked_responses.post(
        BASE + "Contracts/query/count",
        json=payload("contracts_query_count"),
        match=[
            matchers.header_matcher(AUTH_HEADERS),
            matchers.json_params_matcher({"filter": contract_filter}),
        ],
    )

    assert make_client(zone_cache=known_zone()).count("Contracts", contract_filter) == 7


@pytest.mark.parametrize(
    "fixture",
    [
        # What Autotask really sends: the level names (reference, Corrections 1).
        "contracts_entity_information",
        # What its documentation describes: 0/1/2. Both must read the same.
        "contracts_entity_information_numeric",
    ],
)
def test_entity_information(mocked_responses, make_client, fixture):
    mocked_responses.get(BASE + "Contracts/entityInformation", json=payload(fixture))

    access = make_client(zone_cache=known_zone()).entity_information("Contracts")

    assert access == EntityAccess(
        entity="Contracts",
        can_query=True,
        can_create=True,
        can_update=True,
        can_delete=False,
        query=AccessLevel.ALL,
        create=AccessLevel.NONE,
        update=AccessLevel.RESTRICTED,
        delete=AccessLevel.NONE,
    )


@pytest.mark.parametrize(
    ("raw", "level"),
    [
        ("all", AccessLevel.ALL),
        ("ALL", AccessLevel.ALL),
        (" Restricted ", AccessLevel.RESTRICTED),
        ("none", AccessLevel.NONE),
        (2, AccessLevel.RESTRICTED),
    ],
)
def test_entity_information_reads_levels_in_any_case(mocked_responses, make_client, raw, level):
    answer = payload("contracts_entity_information")
    answer["info"]["userAccessForQuery"] = raw
    mocked_responses.get(BASE + "Contracts/entityInformation", json=answer)

    access = make_client(zone_cache=known_zone()).entity_information("Contracts")

    assert access.query is level


@pytest.mark.parametrize("raw", ["Mine", "", None, 3, -1, True, 1.0, "1", ["All"]])
def test_an_odd_permission_level_is_an_unexpected_value(mocked_responses, make_client, raw):
    answer = payload("contracts_entity_information")
    answer["info"]["userAccessForUpdate"] = raw
    mocked_responses.get(BASE + "Contracts/entityInformation", json=answer)

    with pytest.raises(UnexpectedValue) as caught:
        make_client(zone_cache=known_zone()).entity_information("Contracts")

    assert "permission level for update" in caught.value.user_message
    assert caught.value.code == "unexpected_value"


def test_entity_fields_are_parsed_and_cached(mocked_responses, make_client):
    mocked_responses.get(
        BASE + "Contracts/entityInformation/fields",
        json=payload("contracts_entity_information_fields"),
    )
    client = make_client(zone_cache=known_zone())

    fields = client.entity_fields("Contracts")
    again = client.entity_fields("Contracts")

    assert fields == again
    assert client.calls == 1
    by_name = {f.name: f for f in fields}
    assert by_name["startDate"].data_type == "datetime"
    assert not by_name["startDate"].is_picklist
    assert by_name["startDate"].picklist == ()
    contract_type = by_name["contractType"]
    assert contract_type.is_picklist
    assert ("7", "Recurring Service", True) in [
        (p.value, p.label, p.is_active) for p in contract_type.picklist
    ]


def test_the_metadata_cache_keeps_tenants_apart(mocked_responses, make_client):
    mocked_responses.get(
        BASE + "Contracts/entityInformation/fields",
        json=payload("contracts_entity_information_fields"),
    )
    shared: dict[str, Any] = {}
    other_user = "other@fabrikam.example"
    other_zone = Zone(ZONE.name, ZONE.url, ZONE.web_url, ci=777)
    first = make_client(zone_cache=known_zone(), metadata_cache=shared)
    other = make_client(
        Credentials(other_user, "another-secret", INTEGRATION_CODE),
        zone_cache={other_user: other_zone},
        metadata_cache=shared,
    )

    first.entity_fields("Contracts")
    first.entity_fields("Contracts")
    other.entity_fields("Contracts")

    assert (first.calls, other.calls) == (1, 1)


@pytest.mark.parametrize(
    ("field", "label", "expected"),
    [
        ("contractType", "Recurring Service", "7"),
        ("CONTRACTTYPE", "  recurring service ", "7"),
        ("contractType", "Fixed Price", "3"),
        ("contractType", "Retainer", None),  # inactive in this tenant
        ("contractType", "Subscription", None),
        ("status", "active", "1"),
        ("noSuchField", "Active", None),
    ],
)
def test_picklist_value_by_label(mocked_responses, make_client, field, label, expected):
    mocked_responses.get(
        BASE + "Contracts/entityInformation/fields",
        json=payload("contracts_entity_information_fields"),
    )

    client = make_client(zone_cache=known_zone())

    assert client.picklist_value("Contracts", field, label) == expected


@pytest.mark.parametrize(
    "bad_entry",
    [{"value": None, "label": "Broken"}, {"value": "9"}, "9", None, ["9", "Broken"]],
)
def test_one_malformed_picklist_entry_only_breaks_its_own_field(
    mocked_responses, make_client, bad_entry
):
    answer = payload("contracts_entity_information_fields")
    by_name = {f["name"]: f for f in answer["fields"]}
    by_name["status"]["picklistValues"].append(bad_entry)
    # A field description without a name cannot be matched to anything: it is left out.
    answer["fields"].append({"label": "no name"})
    mocked_responses.get(BASE + "Contracts/entityInformation/fields", json=answer)
    client = make_client(zone_cache=known_zone())

    fields = {f.name: f for f in client.entity_fields("Contracts")}

    assert fields["status"].picklist_unreadable
    assert fields["status"].picklist == ()
    assert client.picklist_value("Contracts", "status", "Active") is None
    # Every other field reads as before.
    assert not fields["contractType"].picklist_unreadable
    assert client.picklist_value("Contracts", "contractType", "Recurring Service") == "7"
    assert client.calls == 1


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (THRESHOLD_URL, {"externalRequestThreshold": 10000}),
        (BASE + "Companies/0", {"id": 0}),
        (BASE + "Companies/0", {"item": [1, 2]}),
        (BASE + "Companies/query", {"items": {"id": 1}}),
        (BASE + "Companies/query", {"items": [], "pageDetails": {"nextPageUrl": 3}}),
        (BASE + "Contracts/query/count", {"queryCount": "7"}),
        (BASE + "Contracts/entityInformation", {"info": {"canQuery": 1}}),
        (BASE + "Contracts/entityInformation/fields", {"fields": {"name": "x"}}),
        (BASE + "Contracts/entityInformation", ["not", "an", "object"]),
    ],
)
def test_unexpected_shapes_are_broken_answers(mocked_responses, make_client, url, body):
    method = "POST" if "query" in url else "GET"
    mocked_responses.add(method, url, json=body)
    client = make_client(zone_cache=known_zone())
    call = {
        THRESHOLD_URL: client.get_threshold,
        BASE + "Companies/0": lambda: client.get("Companies", 0),
        BASE + "Companies/query": lambda: client.query("Companies", EVERYTHING),
        BASE + "Contracts/query/count": lambda: client.count("Contracts", EVERYTHING),
        BASE + "Contracts/entityInformation": lambda: client.entity_information("Contracts"),
        BASE + "Contracts/entityInformation/fields": lambda: client.entity_fields("Contracts"),
    }[url]

    with pytest.raises(BrokenAnswer):
        call()
    assert client.calls == 1  # a broken answer is not retried


# --------------------------------------------------------------------------------------------
# Status and body -> typed error (every case the reference documents)

HTML_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>Runtime Error</title></head>"
    "<body><h1>Server Error in '/ATServicesRest' Application.</h1></body></html>"
)
# An hour ahead: still in the future when the test runs, however late in the session.
AN_HOUR_AHEAD = email.utils.formatdate(time.time() + 3600, usegmt=True)

ERROR_CASES: list[Any] = [
    pytest.param(
        "zone",
        {"status": 500, "json": payload("error_zone_unknown")},
        UnknownUsername,
        id="500-zone",
    ),
    pytest.param("call", {"status": 401}, AuthenticationFailed, id="401-empty"),
    pytest.param(
        "call",
        {"status": 401, "json": {"errors": ["Unauthorized"]}},
        AuthenticationFailed,
        id="401-errors",
    ),
    pytest.param(
        "call",
        {"status": 500, "json": payload("error_integration_code_invalid")},
        IntegrationCodeRejected,
        id="500-integration-code",
    ),
    pytest.param(
        "call",
        {"status": 500, "json": payload("error_permission_query")},
        PermissionDenied,
        id="500-permission-text",
    ),
    pytest.param("call", {"status": 403}, PermissionDenied, id="403"),
    pytest.param(
        "call", {"status": 429, "headers": {"Retry-After": "120"}}, Throttled, id="429-seconds"
    ),
    pytest.param(
        "call",
        {"status": 429, "headers": {"Retry-After": AN_HOUR_AHEAD}},
        Throttled,
        id="429-http-date",
    ),
    pytest.param(
        "call",
        {"status": 500, "json": payload("error_thread_limit")},
        ThreadLimitExceeded,
        id="thread-limit-500",
    ),
    pytest.param(
        "call",
        {"status": 405, "body": "Itgenatr005 thread threshold exceeded"},
        ThreadLimitExceeded,
        id="thread-limit-405-text",
    ),
    pytest.param(
        "call",
        {"status": 500, "body": HTML_ERROR_PAGE, "content_type": "text/html"},
        Unavailable,
        id="500-html-page",
    ),
    pytest.param("call", {"status": 502, "body": "Bad Gateway"}, Unavailable, id="502"),
    pytest.param("call", {"status": 503}, Unavailable, id="503"),
    pytest.param(
        "call",
        {"status": 504, "body": HTML_ERROR_PAGE, "content_type": "text/html"},
        Unavailable,
        id="504",
    ),
    pytest.param("call", {"status": 500, "json": {"errors": []}}, Unavailable, id="500-no-text"),
    pytest.param(
        "call",
        {"status": 500, "json": payload("error_unexpected_with_error_id")},
        ServerError,
        id="500-error-id",
    ),
    pytest.param(
        "call",
        {"status": 500, "json": {"errors": ["Picklist value [3] does not exist for priority"]}},
        ServerError,
        id="500-unrecognised-text",
    ),
    pytest.param(
        "call",
        {"body": '{"externalRequestThreshold": 10000,', "content_type": "application/json"},
        BrokenAnswer,
        id="malformed-json",
    ),
    pytest.param("call", {"body": ""}, BrokenAnswer, id="empty-body"),
    pytest.param(
        "call",
        {"body": HTML_ERROR_PAGE, "content_type": "text/html"},
        BrokenAnswer,
        id="html-instead-of-json",
    ),
    pytest.param("call", {"body": "OK", "content_type": "text/plain"}, BrokenAnswer, id="text"),
    pytest.param("call", {"json": {"padding": "x" * 2000}}, BrokenAnswer, id="oversized-streamed"),
    pytest.param(
        "call",
        {"json": {"x": 1}, "headers": {"Content-Length": "99999999"}},
        BrokenAnswer,
        id="oversized-declared",
    ),
    pytest.param("call", {"status": 404}, NotFound, id="404"),
    pytest.param(
        "call",
        {"status": 400, "json": {"errors": ["Invalid query syntax."]}},
        RequestRejected,
        id="400",
    ),
    pytest.param(
        "call",
        {"status": 302, "headers": {"Location": "https://evil.example.com/"}},
        BrokenAnswer,
        id="302-not-followed",
    ),
]


@pytest.mark.parametrize(("where", "answer", "expected"), ERROR_CASES)
def test_status_and_body_map_to_a_typed_error(
    mocked_responses, make_client, where, answer, expected
):
    client = make_client(max_retries=0, max_response_bytes=1000)
    if where == "zone":
        mocked_responses.get(ZONE_INFORMATION_URL, **answer)
        call = client.discover_zone
        endpoint = "/atservicesrest/v1.0/zoneInformation"
    else:
        client.zone_cache[USERNAME] = ZONE
        mocked_responses.get(THRESHOLD_URL, **answer)
        call = client.get_threshold
        endpoint = "/ATServicesRest/V1.0/ThresholdInformation"

    with pytest.raises(AutotaskError) as caught:
        call()

    error = caught.value
    assert type(error) is expected
    assert error.endpoint == endpoint
    assert error.user_message
    assert error.code == expected.code
    assert client.calls == 1
    assert_secret_free(error)
    if expected is Throttled:
        http_date = "GMT" in answer["headers"]["Retry-After"]
        if http_date:
            # Computed at import, so some of the hour may have passed by now.
            assert error.retry_after is not None and 0 < error.retry_after <= 3600
        else:
            assert error.retry_after == 120
    if expected is ServerError:
        assert error.errors[0] in error.user_message  # Autotask's own words, shown as is


def test_the_authentication_message_names_the_causes_and_the_lockout(mocked_responses, make_client):
    mocked_responses.get(THRESHOLD_URL, status=401)

    with pytest.raises(AuthenticationFailed) as caught:
        make_client(zone_cache=known_zone()).get_threshold()

    message = caught.value.user_message
    for cause in ("Secret is wrong", "inactive or locked", "Rhipe - Cloud Services"):
        assert cause in message
    assert "not retried: repeated failures lock the API user" in message


def test_the_integration_code_message_names_the_vendor(mocked_responses, make_client):
    mocked_responses.get(THRESHOLD_URL, status=500, json=payload("error_integration_code_invalid"))

    with pytest.raises(IntegrationCodeRejected) as caught:
        make_client(zone_cache=known_zone()).get_threshold()

    assert "must be 'Rhipe - Cloud Services'" in caught.value.user_message
    assert "Possible causes" in caught.value.user_message


# --------------------------------------------------------------------------------------------
# Retries


@pytest.mark.ordered_responses
def test_a_read_is_retried_after_a_503(mocked_responses, make_client, sleeps):
    first = mocked_responses.get(THRESHOLD_URL, status=503)
    second = mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))
    client = make_client(zone_cache=known_zone())

    client.get_threshold()

    assert (first.call_count, second.call_count) == (1, 1)
    assert client.calls == 2
    assert sleeps == [0.5]


@pytest.mark.ordered_responses
def test_a_query_post_is_retried_as_a_read(mocked_responses, make_client, sleeps):
    mocked_responses.post(BASE + "Companies/query", status=502)
    mocked_responses.post(BASE + "Companies/query", status=504)
    mocked_responses.post(BASE + "Companies/query", json=payload("companies_query_page3"))
    client = make_client(zone_cache=known_zone())

    assert [c["id"] for c in client.query("Companies", EVERYTHING)] == [181]
    assert client.calls == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.ordered_responses
def test_a_401_is_never_retried(mocked_responses, make_client, sleeps):
    rsp = mocked_responses.get(THRESHOLD_URL, status=401)
    client = make_client(zone_cache=known_zone())

    with pytest.raises(AuthenticationFailed):
        client.get_threshold()

    assert rsp.call_count == 1
    assert client.calls == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": payload("error_integration_code_invalid")},
        {"status": 500, "json": payload("error_permission_query")},
        {"status": 500, "json": payload("error_unexpected_with_error_id")},
        {"status": 403},
        {"status": 400, "json": {"errors": ["Invalid query syntax."]}},
    ],
)
def test_business_errors_and_other_4xx_are_not_retried(
    mocked_responses, make_client, sleeps, answer
):
    mocked_responses.get(THRESHOLD_URL, **answer)
    client = make_client(zone_cache=known_zone())

    with pytest.raises(AutotaskError):
        client.get_threshold()

    assert client.calls == 1
    assert sleeps == []


@pytest.mark.ordered_responses
@pytest.mark.parametrize(
    ("retry_after", "expected_sleep"),
    [("2", 2.0), ("http-date:+10", 10.0)],
)
def test_a_429_waits_as_long_as_retry_after_says(
    mocked_responses, make_client, sleeps, retry_after, expected_sleep
):
    if retry_after.startswith("http-date:"):
        # Built when the test runs, not at import: collection may be long before.
        retry_after = email.utils.formatdate(time.time() + expected_sleep, usegmt=True)
    mocked_responses.get(THRESHOLD_URL, status=429, headers={"Retry-After": retry_after})
    mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))
    client = make_client(zone_cache=known_zone())

    client.get_threshold()

    assert client.calls == 2
    assert sleeps == [pytest.approx(expected_sleep, abs=3)]


def test_a_429_asking_for_a_long_wait_is_not_retried_early(mocked_responses, make_client, sleeps):
    mocked_responses.get(THRESHOLD_URL, status=429, headers={"Retry-After": "3600"})
    client = make_client(zone_cache=known_zone())

    with pytest.raises(Throttled) as caught:
        client.get_threshold()

    assert caught.value.retry_after == 3600
    assert "60 minutes" in caught.value.user_message
    assert client.calls == 1
    assert sleeps == []


@pytest.mark.ordered_responses
def test_the_thread_limit_is_retried(mocked_responses, make_client, sleeps):
    mocked_responses.get(THRESHOLD_URL, status=500, json=payload("error_thread_limit"))
    mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))
    client = make_client(zone_cache=known_zone())

    client.get_threshold()

    assert client.calls == 2
    assert sleeps == [0.5]


def test_retries_give_up_with_exponential_backoff(mocked_responses, make_client, sleeps):
    rsp = mocked_responses.get(THRESHOLD_URL, status=503)
    client = make_client(zone_cache=known_zone())

    with pytest.raises(Unavailable):
        client.get_threshold()

    assert rsp.call_count == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_timeout_becomes_timed_out_after_retries(mocked_responses, make_client, sleeps):
    def time_out(request):
        raise requests.exceptions.ReadTimeout("read timed out")

    rsp = mocked_responses.add_callback("GET", THRESHOLD_URL, callback=time_out)
    client = make_client(zone_cache=known_zone(), max_retries=2)

    with pytest.raises(TimedOut) as caught:
        client.get_threshold()

    assert isinstance(caught.value, Unavailable)
    assert rsp.call_count == 3
    assert sleeps == [0.5, 1.0]


def test_a_connection_error_becomes_unavailable(mocked_responses, make_client, sleeps):
    rsp = mocked_responses.get(
        THRESHOLD_URL, body=requests.exceptions.ConnectionError("connection refused")
    )
    client = make_client(zone_cache=known_zone())

    with pytest.raises(Unavailable) as caught:
        client.get_threshold()

    assert type(caught.value) is Unavailable
    assert rsp.call_count == 4


def test_a_zone_lookup_failure_is_not_cached(mocked_responses, client):
    mocked_responses.get(ZONE_INFORMATION_URL, status=500, json=payload("error_zone_unknown"))

    with pytest.raises(UnknownUsername):
        client.discover_zone()

    assert client.calls == 1  # the answer is definite: not retried
    assert USERNAME not in client.zone_cache


# --------------------------------------------------------------------------------------------
# Concurrency


def test_at_most_two_calls_per_endpoint_are_in_flight(mocked_responses, make_client):
    lock = threading.Lock()
    in_flight = {"Companies": 0, "Contracts": 0}
    most = {"Companies": 0, "Contracts": 0}
    release = threading.Event()

    def slow(entity: str) -> Callable[[Any], Any]:
        def callback(request):
            with lock:
                in_flight[entity] += 1
                most[entity] = max(most[entity], in_flight[entity])
            if entity == "Companies":
                release.wait(timeout=5)
            with lock:
                in_flight[entity] -= 1
            return 200, {}, json.dumps(payload("companies_get_0"))

        return callback

    mocked_responses.add_callback("GET", BASE + "Companies/0", callback=slow("Companies"))
    mocked_responses.add_callback("GET", BASE + "Contracts/0", callback=slow("Contracts"))
    client = make_client(zone_cache=known_zone())
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(client.get("Companies", 0)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()

    try:
        deadline = time.monotonic() + 5
        while in_flight["Companies"] < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # room for a wrongly admitted third call to show up
        assert in_flight["Companies"] == 2
        # Another endpoint is not held up by the busy one.
        assert client.get("Contracts", 0) is not None
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=5)

    assert most == {"Companies": 2, "Contracts": 1}
    assert len(results) == 6
    assert client.calls == 7


def test_the_concurrency_key_separates_tenants(mocked_responses, make_client):
    entered = threading.Barrier(3, timeout=5)

    def callback(request):
        entered.wait()  # only passes if three calls are in flight at once
        return 200, {}, json.dumps(payload("companies_get_0"))

    mocked_responses.add_callback("GET", BASE + "Companies/0", callback=callback)
    clients = [
        make_client(zone_cache=known_zone(), concurrency_key="tenant-a"),
        make_client(zone_cache=known_zone(), concurrency_key="tenant-a"),
        make_client(zone_cache=known_zone(), concurrency_key="tenant-b"),
    ]
    errors: list[BaseException] = []

    def run(c):
        try:
            c.get("Companies", 0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert errors == []


# --------------------------------------------------------------------------------------------
# The secret never leaks


def test_the_secret_never_reaches_errors_or_logs(mocked_responses, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    echoed = {"errors": [f"Login failed for secret {SECRET} and code {INTEGRATION_CODE}"]}
    add_zone(mocked_responses)
    mocked_responses.get(THRESHOLD_URL, json=payload("threshold_information"))
    mocked_responses.get(BASE + "Companies/0", status=500, json=echoed)
    mocked_responses.get(BASE + "Contracts/0", status=503)
    mocked_responses.get(BASE + "Services/0", status=401)
    client = make_client(max_retries=1)

    client.get_threshold()
    raised: list[AutotaskError] = []
    for entity in ("Companies", "Contracts", "Services"):
        with pytest.raises(AutotaskError) as caught:
            client.get(entity, 0)
        raised.append(caught.value)

    for error in raised:
        assert_secret_free(error)
    assert "***" in raised[0].user_message
    assert caplog.records, "the client logs its calls"
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert INTEGRATION_CODE not in record.getMessage()
    assert SECRET not in caplog.text
    logged = [r.getMessage() for r in caplog.records if r.name == "wizard.autotask"]
    assert any("GET /ATServicesRest/V1.0/ThresholdInformation -> 200" in m for m in logged)
    assert not any("user=" in m for m in logged)  # no query strings


@pytest.mark.parametrize("secret", [" leading-space-secret", "line\nbreak-secret"])
def test_an_unsendable_secret_is_reported_without_quoting_it(make_client, secret):
    client = make_client(Credentials(USERNAME, secret, INTEGRATION_CODE), zone_cache=known_zone())

    with pytest.raises(AuthenticationFailed) as caught:
        client.get_threshold()

    error = caught.value
    for text in (str(error), repr(error), repr(error.args)):
        assert secret not in text
    assert error.__cause__ is None
    assert error.__context__ is None


def test_the_client_repr_hides_the_credentials(client):
    assert SECRET not in repr(client)
    assert SECRET not in repr(vars(client))
    assert INTEGRATION_CODE not in repr(vars(client))


def test_build_session_carries_no_credentials_and_no_adapter_retries():
    session = build_session()

    assert not any(name in session.headers for name in CREDENTIAL_HEADERS)
    adapter = session.get_adapter("https://webservices15.autotask.net/")
    assert isinstance(adapter, HTTPAdapter)
    assert adapter.max_retries.total == 0
