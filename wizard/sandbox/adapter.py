"""The in-process transport: a ``requests`` adapter that answers from a :class:`Sandbox`.

This is how the app meets the sandbox (ADR 0005): with ``AUTOTASK_SANDBOX=true`` the client
factory calls :func:`sandbox_session`, which mounts the process-wide sandbox on the zone lookup
origin and on the sandbox's own origin. The production client runs unchanged; no socket opens.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http import HTTPStatus
from io import BytesIO
from typing import Any, Final, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from wizard.sandbox.handler import Sandbox
from wizard.sandbox.wire import SandboxTimeout

#: Where the in-process sandbox pretends to live; ``.test`` never resolves, so nothing leaks out.
DEFAULT_BASE_URL: Final = "https://webservices-sandbox.autotask.test/ATServicesRest/"


class SandboxAdapter(BaseAdapter):
    """A ``requests`` transport that answers from a :class:`Sandbox` without any network."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__()
        self.sandbox = sandbox

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        body = request.body
        raw_body = body.encode() if isinstance(body, str) else body
        try:
            result = self.sandbox.handle(
                request.method or "GET",
                request.url or "",
                dict(request.headers),
                raw_body,
                timeout=read_timeout,
            )
        except SandboxTimeout as exc:
            raise requests.exceptions.ReadTimeout(str(exc), request=request) from exc
        response = requests.Response()
        response.status_code = result.status
        response.headers = CaseInsensitiveDict(result.headers)
        response.raw = BytesIO(result.body)
        response.url = request.url or ""
        response.request = request
        response.reason = HTTPStatus(result.status).phrase
        response.encoding = get_encoding_from_headers(response.headers)
        # requests types this as HTTPAdapter; any adapter with send() serves (digest auth re-sends).
        response.connection = cast(Any, self)
        return response

    def close(self) -> None:
        """Nothing to release: no sockets are ever opened."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def install_sandbox(session: requests.Session, sandbox: Sandbox, zone_information_url: str) -> None:
    """Serve the zone lookup host and the sandbox's zone host from ``sandbox`` in-process."""
    adapter = SandboxAdapter(sandbox)
    # The trailing slash keeps look-alike hosts (webservices.autotask.net.evil) on the network.
    session.mount(_origin(zone_information_url), adapter)
    session.mount(_origin(sandbox.base_url), adapter)


_DEFAULTS: dict[str, Sandbox] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_sandbox(integration_code: str) -> Sandbox:
    """The process-wide sandbox for this integration code (created on first use)."""
    with _DEFAULTS_LOCK:
        sandbox = _DEFAULTS.get(integration_code)
        if sandbox is None:
            sandbox = Sandbox(integration_code, base_url=DEFAULT_BASE_URL)
            _DEFAULTS[integration_code] = sandbox
        return sandbox


def sandbox_session(
    session: requests.Session, integration_code: str, zone_information_url: str
) -> Sandbox:
    """Answer ``session``'s Autotask calls from this process's sandbox for ``integration_code``.

    The one point where the app wires the sandbox in (the client factory, when
    ``AUTOTASK_SANDBOX`` is on). Returns the sandbox, whose state tests may change.
    """
    sandbox = default_sandbox(integration_code)
    install_sandbox(session, sandbox, zone_information_url)
    return sandbox
