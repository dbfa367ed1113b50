"""The example service's test fixtures: a ledger target on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_URL = os.environ.get("RECTFLOW_PG_URL") or "postgresql://postgres@127.0.0.1:5432/test"


def _pg_reachable() -> str | None:
    """None when the server answers, else why not."""
    try:
        import psycopg  # noqa: PLC0415

        psycopg.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure means: no server here
        return f"no PostgreSQL server reachable at {PG_URL} ({exc}); set RECTFLOW_PG_URL"
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A fresh ledger: a SQLite file, or a schema of its own on the test server (dropped after)."""
    if request.param == "sqlite":
        yield str(tmp_path) + "/service.db"
        return
    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so PostgreSQL tests must run: {reason}")
        pytest.skip(reason)
    import psycopg  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    schema = f"rf_service_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
