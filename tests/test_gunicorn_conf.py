"""config/gunicorn_conf.py: the threads a hanging Autotask cannot all take.

The finding: 2 workers x 4 threads, 8 hanging searches of one tenant, and /healthz waited
60.6 s. The figure itself is `make bench` (hang.healthz.p99); this checks the settings behind it.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "config" / "gunicorn_conf.py"


def test_workers_are_threaded_and_take_no_connection_without_a_free_thread() -> None:
    conf = runpy.run_path(str(CONF))

    assert conf["worker_class"] == "gthread"
    # gunicorn's default (1000) queued /healthz behind a worker's busy threads.
    assert conf["worker_connections"] == conf["threads"]
    assert conf["keepalive"] == 0
    # More threads than one tenant's 8 hanging searches can hold.
    assert conf["workers"] * conf["threads"] > 8
    assert conf["bind"].startswith("127.0.0.1:")


def test_gunicorn_accepts_the_config() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "--check-config"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "No keepalived connections" not in result.stderr
