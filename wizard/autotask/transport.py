"""The one path every Autotask HTTP call takes: ``Transport._send``.

One place for the timeout, the overall deadline, the credential headers, the concurrency caps,
bounded reading of the body, error mapping, retries and logging. AutotaskClient (client.py)
is a Transport: its public calls build the URL and read the answer (parsing.py), and send
through here. Facts and sources: reference/autotask-rest-api.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from wizard.autotask import limits
from wizard.autotask.error_mapping import error_from_response
from wizard.autotask.errors import (
    AuthenticationFailed,
    AutotaskError,
    BrokenAnswer,
    DeadlineExceeded,
    Throttled,
    TimedOut,
    Unavailable,
)
from wizard.autotask.parsing import path as _path
from wizard.autotask.types import Credentials

logger = logging.getLogger("wizard.autotask")

USER_AGENT = "billing-sync-wizard"
MAX_BACKOFF_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 30.0


def build_session() -> requests.Session:
    """A session for Autotask: no adapter-level retries (the client retries, counts and logs)."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    adapter = HTTPAdapter(max_retries=0, pool_connections=4, pool_maxsize=8)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Transport:
    """Sends one API user's calls: limits, deadline, retries, error mapping, logging.

    A base class with no constructor of its own: AutotaskClient's sets these attributes (see
    its docstring for ``deadline`` and ``limiter``).
    """

    credentials: Credentials
    timeout: float
    session: requests.Session
    backoff_factor: float
    max_retries: int
    concurrency_key: str
    max_response_bytes: int
    max_retry_after: float
    calls: int
    deadline: float | None
    deadline_at: float | None
    limiter: limits.Limiter
    _sleep: Callable[[float], None]
    _clock: Callable[[], float]
    _calls_lock: threading.Lock

    def _credentials_refused(self) -> None:
        """Called when Autotask answers 401 to an authenticated call (the client forgets the
        zone, which may have moved)."""

    def _count_call(self) -> None:
        with self._calls_lock:
            self.calls += 1

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never below 0), or None without a deadline."""
        if self.deadline_at is None:
            return None
        return max(0.0, self.deadline_at - self._clock())

    def _call_timeout(self, endpoint: str) -> float:
        """This call's timeout: the per-call timeout, cut to what is left of the deadline."""
        left = self.remaining()
        if left is None:
            return self.timeout
        if left <= 0:
            # Nothing is sent once the deadline has passed: the page answers now.
            raise DeadlineExceeded(endpoint=endpoint)
        return min(self.timeout, left)

    def _send(
        self,
        method: str,
        url: str,
        *,
        endpoint_key: str | None,
        authenticated: bool = True,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        retry: bool = True,
    ) -> Any:
        """One logical call with retries; returns the decoded JSON of a 2xx answer."""
        attempt = 0
        while True:
            try:
                return self._attempt(
                    method,
                    url,
                    endpoint_key=endpoint_key,
                    authenticated=authenticated,
                    params=params,
                    json_body=json_body,
                )
            except AutotaskError as error:
                # Autotask might echo a credential back in its error text; it never leaves here.
                error.redact(self.credentials.secret, self.credentials.integration_code)
                if authenticated and isinstance(error, AuthenticationFailed):
                    self._credentials_refused()
                delay = self._retry_delay(error, attempt) if retry else None
                left = self.remaining()
                if delay is not None and left is not None and delay >= left:
                    # A wait that outlasts the deadline would only make the page later.
                    delay = None
                if delay is None:
                    raise
                logger.warning(
                    "Autotask %s %s: %s, retry %d of %d in %.1fs",
                    method,
                    error.endpoint,
                    error.code,
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)
                attempt += 1

    def _retry_delay(self, error: AutotaskError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to give up now."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        if isinstance(error, Throttled) and error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                # Retrying earlier than Autotask asked would only add to the tenant's usage.
                return None
            return error.retry_after
        return float(min(self.backoff_factor * (2**attempt), MAX_BACKOFF_SECONDS))

    def _attempt(
        self,
        method: str,
        url: str,
        *,
        endpoint_key: str | None,
        authenticated: bool,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
    ) -> Any:
        endpoint = _path(url)
        self._call_timeout(endpoint)  # past the deadline: not even queued for a slot
        slot: AbstractContextManager[None] = (
            self.limiter.slot(
                self.concurrency_key,
                endpoint_key,
                wait=self.remaining(),
                # A slot outlives its call only if the process died holding it; a call takes
                # at most about 3 timeouts (connect, first byte, a slowly read body).
                lease=3 * self.timeout + 5,
                path=endpoint,
            )
            if endpoint_key
            else nullcontext()
        )
        headers = self.credentials.headers() if authenticated else {}
        with slot:
            # Waiting for the slot took time: what is left of the deadline bounds the call.
            timeout = self._call_timeout(endpoint)
            self._count_call()
            started = time.monotonic()
            failure: AutotaskError | None = None
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=timeout,
                    stream=True,  # read the body ourselves, with a size cap
                    allow_redirects=False,  # a redirect would carry the credentials along
                )
            except requests.Timeout as exc:
                self._log(method, endpoint, type(exc).__name__, started)
                if timeout < self.timeout:
                    # Cut short by the deadline, not Autotask's own slowness alone.
                    raise DeadlineExceeded(endpoint=endpoint) from exc
                raise TimedOut(endpoint=endpoint) from exc
            except requests.exceptions.InvalidHeader:
                # Its message quotes the header value, which may be the secret: drop it.
                failure = AuthenticationFailed(
                    "The username, secret or integration code contains characters that cannot "
                    "be sent (such as line breaks or leading spaces). Enter them again.",
                    endpoint=endpoint,
                )
            except requests.RequestException as exc:
                self._log(method, endpoint, type(exc).__name__, started)
                raise Unavailable(endpoint=endpoint) from exc
            if failure is not None:
                self._log(method, endpoint, "InvalidHeader", started)
                raise failure
            try:
                body = self._read_body(response, endpoint, started, timeout)
            finally:
                response.close()
            self._log(method, endpoint, response.status_code, started)
        if not 200 <= response.status_code < 300:
            raise error_from_response(response, endpoint, body=body)
        return self._decode(body, response.status_code, endpoint)

    def _read_body(
        self, response: requests.Response, endpoint: str, started: float, timeout: float
    ) -> bytes:
        """The body, refusing answers over ``max_response_bytes`` or slower than ``timeout``."""
        status = response.status_code
        too_large = BrokenAnswer(detail="the answer is too large", status=status, endpoint=endpoint)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise too_large
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise too_large
                if time.monotonic() > deadline:
                    # requests' timeout is per read; this bounds a server that drips bytes.
                    late = DeadlineExceeded if timeout < self.timeout else TimedOut
                    raise late(status=status, endpoint=endpoint)
                chunks.append(chunk)
        except requests.exceptions.ContentDecodingError as exc:
            raise BrokenAnswer(
                detail="an answer that could not be decoded", status=status, endpoint=endpoint
            ) from exc
        except requests.RequestException as exc:
            self._log("READ", endpoint, type(exc).__name__, started)
            raise Unavailable(status=status, endpoint=endpoint) from exc
        return b"".join(chunks)

    @staticmethod
    def _decode(body: bytes, status: int, endpoint: str) -> Any:
        if not body.strip():
            raise BrokenAnswer(detail="an empty answer", status=status, endpoint=endpoint)
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            html = body.lstrip()[:1].startswith(b"<")
            detail = "an HTML page where data was expected" if html else "malformed data"
            raise BrokenAnswer(detail=detail, status=status, endpoint=endpoint) from exc

    @staticmethod
    def _log(method: str, endpoint: str, outcome: int | str, started: float) -> None:
        # Method, path, status and time only: never headers, query strings or bodies.
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("Autotask %s %s -> %s in %.0f ms", method, endpoint, outcome, elapsed_ms)
