"""A faithful emulator of the subset of the Autotask REST API that the wizard uses.

The core is :meth:`Sandbox.handle`, a pure ``(method, url, headers, body) -> SandboxResponse``
function over mutable in-memory state, so it can be served three ways:

* in-process, through :class:`SandboxAdapter` mounted on a ``requests.Session``
  (:func:`sandbox_session`; the client factory does this when ``AUTOTASK_SANDBOX=true``);
* as a standalone HTTP server on 127.0.0.1 (:func:`serve`, ``manage.py autotask_sandbox``);
* directly from tests.

The modules, in the order a request meets them (docs/sandbox.md):

* ``scenarios``: which API user simulates what (:data:`SCENARIOS`, :data:`SANDBOX_SECRET`);
* ``entities`` and ``data``: what ``entityInformation`` describes, and the seeded records;
* ``wire``: routes, answers and Autotask's texts; ``query``: filters, coercion and paging;
* ``state``: rights, faults, usage and data overrides; ``handler``: :class:`Sandbox` itself;
* ``adapter``: the ``requests`` transport; ``server``: the standalone server.

This package imports nothing from Django and nothing from the rest of the app but the pure
``wizard.autotask.dates``; the app imports it at one point only, the client factory (and the
context processor that lists the scenarios while the sandbox is on).
"""

from __future__ import annotations

from wizard.sandbox.adapter import (
    DEFAULT_BASE_URL,
    SandboxAdapter,
    default_sandbox,
    install_sandbox,
    sandbox_session,
)
from wizard.sandbox.data import DEFAULT_TIME_ZONE, DEMO_CONTRACTS, OWN_COMPANY_NAME
from wizard.sandbox.handler import Sandbox
from wizard.sandbox.query import MAX_RECORDS_RANGE
from wizard.sandbox.scenarios import SANDBOX_SECRET, SCENARIOS, Access, Scenario
from wizard.sandbox.server import serve, zone_information_url
from wizard.sandbox.wire import (
    CODE_INVALID,
    NO_QUERY_RIGHTS,
    THREAD_EXCEEDED,
    ZONE_UNKNOWN,
    SandboxResponse,
    SandboxTimeout,
)

__all__ = [
    "CODE_INVALID",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIME_ZONE",
    "DEMO_CONTRACTS",
    "MAX_RECORDS_RANGE",
    "NO_QUERY_RIGHTS",
    "OWN_COMPANY_NAME",
    "SANDBOX_SECRET",
    "SCENARIOS",
    "THREAD_EXCEEDED",
    "ZONE_UNKNOWN",
    "Access",
    "Sandbox",
    "SandboxAdapter",
    "SandboxResponse",
    "SandboxTimeout",
    "Scenario",
    "default_sandbox",
    "install_sandbox",
    "sandbox_session",
    "serve",
    "zone_information_url",
]
