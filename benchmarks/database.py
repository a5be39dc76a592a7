"""The benchmark's own database, never the one DATABASE_URL names: the figures write 10,000
tenants. Kept apart from benchmarks/__main__.py, which sets Django up when imported."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


def throwaway_database(requested: str, name: str = "") -> tuple[str, Callable[[], None]]:
    """(the URL of a new, empty database, how to drop it).

    A new SQLite file by default; when ``requested`` is a PostgreSQL URL, a new database
    ``name`` (``wizard_bench_<pid>`` if none is given) on that server, with the same user and
    options, so the figures can be taken on both engines. psycopg.OperationalError if that
    server cannot be reached."""
    if not requested.startswith(("postgres://", "postgresql://")):
        folder = tempfile.mkdtemp(prefix="wizard-bench-")
        return f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}", lambda: None

    import psycopg
    from psycopg import sql

    parts = urlsplit(requested)
    name = name or f"wizard_bench_{os.getpid()}"
    # The server's maintenance database, to create and drop ours from outside it.
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        # FORCE: the run's own Django connection may still be open when it ends.
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), drop
