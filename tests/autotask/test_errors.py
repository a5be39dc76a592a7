"""The status/body -> error mapping on its own, the messages, and the secret-free guarantees."""

from __future__ import annotations

import email.utils
import json
import pickle
from typing import Any

import pytest
import requests

from tests.autotask.conftest import CREDENTIALS, INTEGRATION_CODE, SECRET, USERNAME, payload
from wizard.autotask import errors as autotask_errors
from wizard.autotask.error_mapping import error_from_response, parse_retry_after
from wizard.autotask.errors import (
    AuthenticationFailed,
    AutotaskError,
    BrokenAnswer,
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
    UnknownUsername,
)
from wizard.autotask.types import AccessLevel, Threshold

pytestmark = pytest.mark.usefixtures("mocked_responses")

ENDPOINT = "/ATServicesRest/V1.0/Companies/query"


def make_response(
    status: int, body: Any = b"", headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    elif isinstance(body, str):
        body = body.encode()
    response._content = body
    response.headers.update(headers or {})
    return response


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (500, payload("error_zone_unknown"), UnknownUsername),
        (401, b"", AuthenticationFailed),
        (500, payload("error_integration_code_invalid"), IntegrationCodeRejected),
        (500, {"errors": ["IntegrationCode is invalid"]}, IntegrationCodeRejected),
        (500, payload("error_permission_query"), PermissionDenied),
        (
            500,
            {
                "errors": [
                    "The logged in Resource does not have the adequate permissions to "
                    "update this entity type."
                ]
            },
            PermissionDenied,
        ),
        (403, b"", PermissionDenied),
        (429, b"", Throttled),
        (500, payload("error_thread_limit"), ThreadLimitExceeded),
        (429, payload("error_thread_limit"), ThreadLimitExceeded),
        (400, {"errors": ["ITGENATR005"]}, ThreadLimitExceeded),
        (
            503,
            "The Autotask API thread threshold of 3 threads has been exceeded",
            ThreadLimitExceeded,
        ),
        (500, "<!DOCTYPE html><html><body>Server Error</body></html>", Unavailable),
        (500, b"", Unavailable),
        (500, {"message": "An error has occurred."}, Unavailable),
        (502, b"", Unavailable),
        (503, {"errors": ["Service Unavailable"]}, Unavailable),
        (504, "<html>Gateway Time-out</html>", Unavailable),
        (500, payload("error_unexpected_with_error_id"), ServerError),
        (404, b"", NotFound),
        (400, {"errors": ["Invalid query syntax."]}, RequestRejected),
        (405, b"", RequestRejected),
        (301, b"", BrokenAnswer),
    ],
)
def test_error_from_response(status, body, expected):
    error = error_from_response(make_response(status, body), ENDPOINT)

    assert type(error) is expected
    assert error.status == status
    assert error.endpoint == ENDPOINT
    assert error.user_message


def test_the_mapping_keeps_autotask_s_errors_text():
    error = error_from_response(
        make_response(500, payload("error_unexpected_with_error_id")), ENDPOINT
    )

    assert error.errors == payload("error_unexpected_with_error_id")["errors"]
    assert "Error ID: 54634" in error.user_message


def test_the_mapping_can_use_an_already_read_body():
    response = make_response(500, b"")

    error = error_from_response(
        response, ENDPOINT, body=json.dumps(payload("error_zone_unknown")).encode()
    )

    assert isinstance(error, UnknownUsername)


def test_error_objects_in_errors_are_kept_as_text():
    body = {"errors": [{"message": "Picklist value [3] does not exist"}, 42]}

    error = error_from_response(make_response(500, body), ENDPOINT)

    assert error.errors == ["Picklist value [3] does not exist", "42"]


def test_a_429_carries_retry_after():
    error = error_from_response(make_response(429, headers={"Retry-After": "17"}), ENDPOINT)

    assert isinstance(error, Throttled)
    assert error.retry_after == 17.0
    assert "17 seconds" in error.user_message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        (email.utils.formatdate(1_000_030, usegmt=True), 30.0),
        (email.utils.formatdate(999_000, usegmt=True), 0.0),  # in the past
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=1_000_000) == expected


def test_codes_are_unique_and_stable():
    classes: list[type[AutotaskError]] = [
        AutotaskError,
        UnknownUsername,
        AuthenticationFailed,
        IntegrationCodeRejected,
        PermissionDenied,
        ThreadLimitExceeded,
        Throttled,
        Unavailable,
        TimedOut,
        BrokenAnswer,
        TooManyResults,
        NotFound,
        RequestRejected,
        ServerError,
    ]
    codes = [cls.code for cls in classes]

    assert len(set(codes)) == len(codes)
    assert UnknownUsername.code == "unknown_username"
    assert issubclass(TimedOut, Unavailable)
    assert all(issubclass(cls, AutotaskError) for cls in classes)


def test_only_transient_errors_are_retryable():
    retryable = {
        cls.__name__
        for cls in vars(autotask_errors).values()
        if isinstance(cls, type) and issubclass(cls, AutotaskError) and cls.retryable
    }

    assert retryable == {"ThreadLimitExceeded", "Throttled", "Unavailable", "TimedOut"}


def test_messages_say_what_to_do():
    assert "not retried: repeated failures lock the API user" in AuthenticationFailed().user_message
    assert "Rhipe - Cloud Services" in AuthenticationFailed().user_message
    assert "must be 'Rhipe - Cloud Services'" in IntegrationCodeRejected().user_message
    assert "5 minutes" in UnknownUsername().user_message
    raw = "The logged in Resource does not have the adequate permissions to query this entity type."
    assert raw in PermissionDenied(errors=[raw]).user_message
    assert "cannot read (an empty answer)" in BrokenAnswer(detail="an empty answer").user_message


def test_errors_pickle_with_their_details():
    error = Throttled(retry_after=42.0, status=429, errors=["slow down"], endpoint=ENDPOINT)

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is Throttled
    assert (copy.retry_after, copy.status, copy.errors, copy.endpoint) == (
        42.0,
        429,
        ["slow down"],
        ENDPOINT,
    )
    assert str(copy) == str(error)


def test_redact_removes_the_secret_everywhere():
    error = ServerError(status=500, errors=[f"bad secret {SECRET}"], endpoint=ENDPOINT)
    assert SECRET in error.user_message  # Autotask's words are quoted before redaction

    error.redact(SECRET, INTEGRATION_CODE)

    for text in (str(error), repr(error), repr(error.args), repr(error.errors)):
        assert SECRET not in text
    assert "***" in error.user_message


def test_redact_ignores_values_too_short_to_matter():
    error = ServerError(errors=["a b c"])

    error.redact("a", "")

    assert error.errors == ["a b c"]


def test_credentials_never_show_the_secret_or_the_code():
    for text in (repr(CREDENTIALS), str(CREDENTIALS), f"{CREDENTIALS}", repr([CREDENTIALS])):
        assert SECRET not in text
        assert INTEGRATION_CODE not in text
        assert USERNAME in text
    assert "secret=***" in repr(CREDENTIALS)


def test_credentials_headers():
    assert CREDENTIALS.headers() == {
        "ApiIntegrationCode": INTEGRATION_CODE,
        "UserName": USERNAME,
        "Secret": SECRET,
        "Content-Type": "application/json",
    }


def test_threshold_usage_ratio():
    assert Threshold(limit=10000, timeframe_minutes=60, current_count=7500).usage_ratio == 0.75
    assert Threshold(limit=0, timeframe_minutes=60, current_count=5).usage_ratio == 0.0


def test_access_levels():
    assert [AccessLevel(n) for n in (0, 1, 2)] == [
        AccessLevel.NONE,
        AccessLevel.ALL,
        AccessLevel.RESTRICTED,
    ]
    assert int(AccessLevel.RESTRICTED) == 2
