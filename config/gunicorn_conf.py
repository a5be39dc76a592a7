"""gunicorn's settings for the wizard: ``gunicorn -c config/gunicorn_conf.py``.

Threaded workers: a request that waits on Autotask holds a thread, not a whole process. What
bounds those threads is the per-tenant cap and the page deadlines (AUTOTASK_* settings): one
tenant whose Autotask hangs holds at most AUTOTASK_MAX_CONCURRENT_PER_TENANT threads in calls,
and any thread at most AUTOTASK_INTERACTIVE_DEADLINE_SECONDS. The other threads keep serving
/healthz and other tenants (docs/operations.md#gunicorn-behind-a-reverse-proxy).

Environment: GUNICORN_BIND (127.0.0.1:8000), WEB_CONCURRENCY (worker processes, 2),
GUNICORN_THREADS (threads per worker, 8).
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from wizard.logging import RedactSecretsFilter

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A worker accepts a connection only while one of its threads is free. gunicorn's default
# (1000) lets a worker whose threads all wait on a hanging Autotask take /healthz anyway and
# queue it behind them; this way the kernel hands it to a worker with a free thread.
worker_connections = threads
# No keep-alive: it needs connections beyond the threads (above). The proxy in front keeps
# its own keep-alive with browsers.
keepalive = 0
# A gthread worker's main loop reports in every second, however long a request takes; this
# only catches a worker that is truly stuck. Pages end by their deadline (20 s at most).
timeout = 60
graceful_timeout = 30


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's access log writes each request line and Referer, and its error log the path
    of a failed request: the redacting filter (wizard/logging.py) goes on their handlers too, so
    invitation and password-reset tokens never reach those logs."""

    def setup(self, cfg: Any) -> None:
        # Runs again on every reload (HUP), which builds new handlers.
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecretsFilter())


logger_class = RedactingLogger
