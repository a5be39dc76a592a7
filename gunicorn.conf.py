"""Gunicorn's settings. Gunicorn reads ./gunicorn.conf.py by itself when started from the
checkout (docs/operations.md); everything else stays on its command line.

Only the logger is set here: gunicorn's access log writes each request line and Referer, and its
error log the path of a failed request, so the redacting filter (wizard/logging.py) goes on its
handlers too. Invitation and password-reset tokens and credentials never reach those logs.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from wizard.logging import RedactSecretsFilter


class RedactingLogger(Logger):  # type: ignore[misc]
    def setup(self, cfg: Any) -> None:
        # Runs again on every reload (HUP), which builds new handlers.
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecretsFilter())


logger_class = RedactingLogger
