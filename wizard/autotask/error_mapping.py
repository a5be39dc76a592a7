"""The one mapping from a non-success HTTP answer to a typed error (errors.py).

Autotask reports most business, validation and permission failures as HTTP 500 with a JSON
``{"errors": [...]}`` body, so the mapping reads the text as well as the status. Cases the public
sources could not confirm (see reference/autotask-rest-api.md section 2.2) degrade to
``ServerError``, which shows Autotask's own words instead of guessing a diagnosis.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import requests

from wizard.autotask import errors
from wizard.autotask.errors import AutotaskError

# Autotask's wording, matched case-insensitively as substrings.
ZONE_UNKNOWN_TEXT = "zone information could not be determined"
INTEGRATION_CODE_TEXT = "integrationcode is invalid"
PERMISSION_TEXT = "does not have the adequate permissions"
THREAD_LIMIT_TEXTS = ("itgenatr005", "thread threshold")

_MAX_SNIFFED_BYTES = 20_000


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; parsedate gives naive for "-0000"
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def extract_errors(body: bytes) -> list[str] | None:
    """Autotask's ``errors[]`` texts, or None when the body is not that JSON shape."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("errors"), list):
        return None
    texts: list[str] = []
    for item in data["errors"]:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict) and isinstance(item.get("message"), str):
            texts.append(item["message"])
        else:
            texts.append(json.dumps(item))
    return texts


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body"))


def error_from_response(
    response: requests.Response, endpoint: str, *, body: bytes | None = None
) -> AutotaskError:
    """The one mapping from a non-success HTTP answer to a typed error.

    ``body`` is the already (boundedly) read body; when omitted, ``response.content`` is used.
    """
    status = response.status_code
    raw = response.content if body is None else body
    raw = raw or b""
    texts = extract_errors(raw) or []
    context: dict[str, Any] = {"status": status, "errors": texts, "endpoint": endpoint}

    # The thread limit can arrive with any status, so it is recognised before the status.
    sniff = (" ".join(texts) + " " + raw[:_MAX_SNIFFED_BYTES].decode("utf-8", "replace")).lower()
    if any(marker in sniff for marker in THREAD_LIMIT_TEXTS):
        return errors.ThreadLimitExceeded(**context)

    joined = " ".join(texts).lower()
    if status == 401:
        return errors.AuthenticationFailed(**context)
    if status == 403:
        return errors.PermissionDenied(**context)
    if status == 404:
        return errors.NotFound(**context)
    if status == 429:
        return errors.Throttled(
            retry_after=parse_retry_after(response.headers.get("Retry-After")), **context
        )
    if 500 <= status < 600 and texts:
        if ZONE_UNKNOWN_TEXT in joined:
            return errors.UnknownUsername(**context)
        if INTEGRATION_CODE_TEXT in joined:
            return errors.IntegrationCodeRejected(**context)
        if PERMISSION_TEXT in joined:
            return errors.PermissionDenied(**context)
        if status in (502, 503, 504):
            return errors.Unavailable(**context)
        return errors.ServerError(**context)
    if 500 <= status < 600:
        # Gateways, maintenance pages, HTML error pages, empty bodies: transient as far as we know.
        return errors.Unavailable(**context)
    if 400 <= status < 500:
        return errors.RequestRejected(**context)
    if 300 <= status < 400:
        # Redirects are never followed: custom credential headers would go along to the new host.
        return errors.BrokenAnswer(detail=f"an unexpected redirect (HTTP {status})", **context)
    if _looks_like_html(raw):
        return errors.BrokenAnswer(detail="an HTML page where data was expected", **context)
    return errors.BrokenAnswer(detail=f"an unexpected HTTP status {status}", **context)
