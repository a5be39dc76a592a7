from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up (for the load balancer's liveness probe)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """The database answers (readiness: take this instance out of rotation if not)."""
    if not database_ready(timeout=settings.READYZ_TIMEOUT_SECONDS):
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# The probe runs in a thread of its own, on a connection of its own, so that the answer comes
# within the timeout whatever the database does: a connection that was accepted but never
# answered would otherwise hold the request (and a gunicorn thread) for as long as the socket
# lives. One probe at a time per process: concurrent requests wait for the same one, and a
# probe that is stuck is not joined by another every time the load balancer asks.


@dataclass
class _Probe:
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


_lock = threading.Lock()
_inflight: _Probe | None = None


def database_ready(*, timeout: float, alias: str = "default") -> bool:
    global _inflight
    with _lock:
        probe = _inflight
        if probe is None:
            probe = _inflight = _Probe()
            threading.Thread(
                target=_run, args=(probe, alias), name="readyz-probe", daemon=True
            ).start()
    if not probe.done.wait(timeout):
        logger.warning("readiness check: the database did not answer within %.1f s", timeout)
        return False
    return probe.ok


def _run(probe: _Probe, alias: str) -> None:
    global _inflight
    conn = connections.create_connection(alias)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        probe.ok = True
    except Exception:  # any database failure means "not ready"; details go to the log only
        logger.exception("readiness check: the database did not answer")
    finally:
        conn.close()
        with _lock:
            _inflight = None
        probe.done.set()
