"""Test configuration: hypothesis profiles, the PostgreSQL server, shared fixtures."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# `ci`: what CI runs (CI=true picks it); `dev`: quick local runs.
# RECTFLOW_HYPOTHESIS_PROFILE overrides either.
settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("RECTFLOW_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# ---- fixtures shared by the storage tests live below this line ----

import contextlib  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import pytest  # noqa: E402

PG_URL = os.environ.get("RECTFLOW_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"
"""The PostgreSQL server the storage tests use (``RECTFLOW_PG_URL`` overrides)."""


def with_schema(url: str, schema: str) -> str:
    """*url* with rectflow's ``schema=`` query parameter added."""
    parts = urlsplit(url)
    query = f"{parts.query}&schema={schema}" if parts.query else f"schema={schema}"
    return urlunsplit(parts._replace(query=query))


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The server's URL; skips when none is reachable, but fails when ``CI`` is set."""
    try:
        import psycopg  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - the postgres extra is missing
        reason = f"psycopg is not installed ({exc}): pip install 'rectflow[postgres]'"
    else:
        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.Error as exc:
            reason = f"no PostgreSQL server reachable at {PG_URL} ({exc}); set RECTFLOW_PG_URL"
        else:
            return PG_URL
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so PostgreSQL tests must run: {reason}")
    pytest.skip(reason)


def drop_pg_schema(url: str, schema: str) -> None:
    """Drop *schema* and everything in it."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh schema name for one test, dropped afterwards."""
    schema = f"rf_test_{uuid.uuid4().hex[:12]}"
    yield schema
    drop_pg_schema(pg_url, schema)


@pytest.fixture
def pg_target(pg_url: str, pg_schema: str) -> str:
    """A ``postgresql://`` URL of a ledger in its own schema (dropped afterwards)."""
    return with_schema(pg_url, pg_schema)


@pytest.fixture
def pg_sql(pg_url: str, pg_schema: str) -> Iterator[Callable[..., list[Any]]]:
    """Run plain SQL in the test's schema on a connection of its own (autocommit)."""
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    conn = psycopg.connect(pg_url, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(pg_schema)))

    def run(statement: str, params: Any = None) -> list[Any]:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []

    yield run
    conn.close()


@pytest.fixture
def sqlite_target(tmp_path: Any) -> str:
    """The path of a ledger file in a fresh directory."""
    return str(tmp_path / "ledger.db")


@pytest.fixture
def sqlite_sql(sqlite_target: str) -> Iterator[Callable[..., list[Any]]]:
    """Run plain SQL on the ledger file (autocommit, a connection of its own)."""
    import sqlite3  # noqa: PLC0415

    conn = sqlite3.connect(sqlite_target, isolation_level=None, timeout=30)

    def run(statement: str, params: Any = ()) -> list[Any]:
        return conn.execute(statement, params).fetchall()

    yield run
    with contextlib.suppress(Exception):
        conn.close()


from store_support import STORAGE_CLOCK_NOW, open_test_ledger, populate_sample  # noqa: E402, F401


@pytest.fixture
def make_ledger() -> Callable[[Any], Any]:
    """:func:`open_test_ledger`: a ledger with the storage tests' settings on any target."""
    return open_test_ledger


@pytest.fixture
def populate() -> Callable[[Any], None]:
    """:func:`populate_sample`: fill a ledger with findings in every state."""
    return populate_sample
