"""The standalone server: the sandbox over HTTP on 127.0.0.1 (``manage.py autotask_sandbox``).

Useful to watch the wizard talk to "Autotask" over a real socket, to poke the emulated API with
curl, and for tests that need several processes to share one Autotask.
"""

from __future__ import annotations

import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import urlsplit

from wizard.sandbox.handler import Sandbox
from wizard.sandbox.wire import json_response

logger = logging.getLogger(__name__)


class _SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A caller that stopped waiting (the app's deadline, against a scenario that answers
        # after 60 s) has closed its end before the answer: routine here, so one log line
        # instead of socketserver's traceback on stderr for each.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            logger.info("sandbox: %s hung up before its answer", client_address[0])
            return
        super().handle_error(request, client_address)


class _SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AutotaskSandbox/1.0"

    def _answer(self) -> None:
        server = cast(_SandboxServer, self.server)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.command == "GET" and urlsplit(self.path).path.rstrip("/") == "/_sandbox/stats":
            result = json_response(200, server.sandbox.stats())
        else:
            port = server.server_address[1]
            url = f"http://127.0.0.1:{port}{self.path}"
            result = server.sandbox.handle(self.command, url, dict(self.headers.items()), body)
        self.send_response(result.status)
        for name, value in result.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        self.wfile.write(result.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line carries no credentials (they travel in headers), so it may be logged.
        logger.info("sandbox %s %s", self.address_string(), format % args)


def serve(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``sandbox`` over HTTP on 127.0.0.1 in a daemon thread.

    The sandbox's ``base_url`` becomes ``http://127.0.0.1:<port>/ATServicesRest/`` so that zone
    answers and nextPageUrls point back at this server. Stop it with ``server.shutdown()``.
    """
    if host not in ("127.0.0.1", "localhost"):
        # The sandbox accepts any caller with the right headers: never expose it on a network.
        raise ValueError("The Autotask sandbox only listens on 127.0.0.1.")
    server = _SandboxServer(("127.0.0.1", port), _SandboxRequestHandler)
    server.sandbox = sandbox
    sandbox.base_url = f"http://127.0.0.1:{server.server_address[1]}/ATServicesRest/"
    thread = threading.Thread(target=server.serve_forever, name="autotask-sandbox", daemon=True)
    thread.start()
    return server, thread


def zone_information_url(server: ThreadingHTTPServer) -> str:
    """The AUTOTASK_ZONE_INFORMATION_URL that points the app at a standalone sandbox."""
    return f"http://127.0.0.1:{server.server_address[1]}/atservicesrest/v1.0/zoneInformation"
