"""Where a step page's time goes: ``python -m benchmarks.profile_step [step] [options]``.

Serves the step page, the baseline member page (benchmarks/urls.py) and ``/healthz`` through
Django's WSGI handler in this one process, with no server and no network, and prints the CPU
time of each (best of 15 rounds) and the queries each makes. Options: ``-v`` prints their SQL,
``--calls`` the function calls per request, ``--profile`` the top of a cProfile of the step
page. docs/performance.md ("Where the time goes") was written from its output.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("DEBUG", "false")

# Importing the benchmarks sets up Django on a throwaway database; everything Django after it.
from benchmarks.__main__ import _session_cookie  # noqa: E402


class Browser:
    """Requests through the WSGI handler, keeping the cookies the pages set (CSRF)."""

    def __init__(self, cookie: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.app = WSGIHandler()
        self.cookies = dict([cookie.split("=", 1)])

    def get(self, path: str) -> tuple[int, bytes]:
        status: list[str] = []

        def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status.append(s)
            for name, value in headers:
                if name == "Set-Cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";")[0]
            return lambda data: None

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        response = self.app(environ, start_response)
        body = b"".join(response)
        response.close()
        return int(status[0].split()[0]), body


def cpu_ms(fn: Callable[[], object], n: int) -> float:
    """The best of 15 rounds: the machine is shared, the least disturbed round is closest."""
    rounds = []
    for _ in range(15):
        start = time.process_time()
        for _ in range(n // 15):
            fn()
        rounds.append((time.process_time() - start) / (n // 15) * 1000)
    return min(rounds)


def calls_per_request(fn: Callable[[], object], n: int = 20) -> int:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    total: int = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
    return round(total / n)


def queries_of(fn: Callable[[], object]) -> list[str]:
    from django.db import connection

    seen: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        fn()
    return seen


def main(argv: list[str]) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from wizard import services

    step_key = next((a for a in argv if not a.startswith("-")), "account")
    call_command("migrate", verbosity=0)
    browser = Browser(_session_cookie("profile-partner"))
    owner = User.objects.get(username="profile-partner")
    tenant = services.tenant_create(name="Profile Partner", owner=owner)
    pages = {
        "step": f"/t/{tenant.code}/{step_key}/",
        "auth": f"/bench/t/{tenant.code}/",
        "bare": "/healthz",
    }
    status, body = browser.get(pages["step"])  # sets the CSRF cookie, as in a browser
    if status != 200 or b"Profile Partner" not in body:
        raise RuntimeError(f"{pages['step']} answered {status}, not the step page")
    for path in pages.values():
        for _ in range(20):  # warm: templates compiled, connection open
            status, _body = browser.get(path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
    n = 300
    print(f"# {step_key} step, CPU ms per request, best of 15 x {n // 15} (in process, no server)")
    cpu = {}
    for name, path in pages.items():
        queries = queries_of(lambda path=path: browser.get(path))  # type: ignore[misc]
        cpu[name] = cpu_ms(lambda path=path: browser.get(path), n)  # type: ignore[misc]
        print(f"{name:<5} {cpu[name]:6.2f} ms   {len(queries)} queries   {path}")
        if "-v" in argv:
            for sql in queries:
                print("      ", sql[:160])
    if "--calls" in argv:
        # Function calls per request: a count, so the same from one minute to the next on a
        # shared machine where time alone moves by +-40 %.
        for name, path in pages.items():
            print(f"{name:<5} {calls_per_request(lambda path=path: browser.get(path)):8,} calls")  # type: ignore[misc]
    extra = cpu["step"] - cpu["auth"]
    print(f"step/auth {cpu['auth'] / cpu['step']:.2f}   the step's own work {extra:.2f} ms")
    if "--profile" in argv:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            browser.get(pages["step"])
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(50)
            print(out.getvalue())


if __name__ == "__main__":
    main(sys.argv[1:])
