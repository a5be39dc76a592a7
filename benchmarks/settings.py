"""The project's settings with the benchmark's URLconf (benchmarks/urls.py), for the gunicorn
that ``python -m benchmarks gunicorn`` starts. Nothing else differs from config.settings."""

from __future__ import annotations

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
