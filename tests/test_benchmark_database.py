"""`make bench` writes 10,000 tenants: it must do so in a database of its own, on SQLite or on
the PostgreSQL server DATABASE_URL names, and never in the database that URL names."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from benchmarks.database import throwaway_database


def test_sqlite_by_default_a_new_file_not_the_projects() -> None:
    for requested in ("", "sqlite:///db.sqlite3"):
        url, drop = throwaway_database(requested)
        path = Path(url.removeprefix("sqlite:///"))
        assert url.startswith("sqlite:///") and url != requested
        assert path.name == "bench.sqlite3" and path.parent.name.startswith("wizard-bench-")
        assert not path.exists()  # empty: the benchmark migrates it
        drop()


@pytest.mark.postgres
def test_postgres_a_new_database_on_the_same_server_dropped_after() -> None:
    import psycopg

    requested = os.environ["DATABASE_URL"]
    url, drop = throwaway_database(requested)
    mine, theirs = urlsplit(url), urlsplit(requested)
    assert (mine.scheme, mine.netloc, mine.query) == (theirs.scheme, theirs.netloc, theirs.query)
    assert mine.path == f"/wizard_bench_{os.getpid()}" != theirs.path
    conninfo = url.replace("postgres://", "postgresql://", 1)
    conn = psycopg.connect(conninfo, autocommit=True)
    tables = conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchone()
    assert tables == (0,)
    # A connection still open, as the run's own at exit: the drop goes through all the same.
    drop()
    conn.close()
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(conninfo).close()


@pytest.mark.postgres
def test_postgres_a_named_database_replaces_a_leftover_of_that_name() -> None:
    """The workers figure names its database (wizard_bench): one a failed run left is replaced."""
    import psycopg

    requested = os.environ["DATABASE_URL"]
    first, drop_first = throwaway_database(requested, name="wizard_bench_named_test")
    second, drop = throwaway_database(requested, name="wizard_bench_named_test")
    assert first == second and urlsplit(second).path == "/wizard_bench_named_test"
    drop()
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(second.replace("postgres://", "postgresql://", 1)).close()
    drop_first()  # already gone: nothing to do, no error
