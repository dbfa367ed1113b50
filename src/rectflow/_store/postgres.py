"""The PostgreSQL backend: a ledger shared by many writers (the ``postgres`` extra).

One psycopg 3 connection per store, in autocommit mode with explicit
transactions, shared between threads under a lock. Every append takes the
``ledger_head`` row ``FOR UPDATE`` first, so chain appends are serialized and
``seq`` stays gapless (a sequence would leave gaps on rollback), and every
writer takes its locks in the same order (head, then finding), which leaves no
room for deadlocks between appends. The finding's row is moved with a
version-checked ``UPDATE … WHERE id = %s AND version = %s``: a lost update
becomes :class:`~rectflow.ConcurrencyConflict`. Serialization failures and
deadlocks (SQLSTATE 40001/40P01) are retried with bounded, jittered backoff.

Point the store at a schema of its own with ``?schema=name`` in the URL (or
``schema=``); it is created when missing. The queries and the append shared
with SQLite: :mod:`rectflow._store.sql`. Schema and migrations:
:mod:`rectflow._store.migrations`.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql

from rectflow._model import Event
from rectflow._store.base import Head
from rectflow._store.migrations import (
    POSTGRES_SCHEMA,
    Migration,
    from_utc_micros,
    load_event,
    utc_micros,
)
from rectflow._store.sql import EventRow, SqlStore
from rectflow.exceptions import DuplicateId, StorageError

_T = TypeVar("_T")
_Conn = psycopg.Connection[tuple[Any, ...]]

_TABLES: Final = frozenset(
    {"schema_version", "inspections", "findings", "events", "ledger_head", "ledger_records"}
)
_RETRYABLE: Final = (errors.SerializationFailure, errors.DeadlockDetected)


def split_schema(url: str) -> tuple[str, str | None]:
    """Take rectflow's ``schema=`` parameter out of a ``postgresql://`` URL.

    Returns:
        The URL for libpq without it, and the schema (None when absent).
    """
    parts = urlsplit(url)
    if not parts.query:
        return url, None
    schema: str | None = None
    kept: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), schema


def _storage_error(where: str, exc: psycopg.Error) -> StorageError:
    return StorageError(f"PostgreSQL 台账读写失败 (PostgreSQL error on the ledger {where}): {exc}")


class PostgresStore(SqlStore[_Conn]):
    """A ledger in a PostgreSQL database (a schema of it).

    Args:
        url: A ``postgresql://`` URL (or libpq connection string); a ``schema=``
            query parameter names the schema to keep the ledger in.
        schema: The schema (overrides the URL's); default: the connection's
            current schema (normally ``public``).
        connect_timeout: Seconds to wait for the server.
        lock_timeout: Seconds a writer waits for another writer's lock before
            :class:`~rectflow.StorageError`.
        retries: How many times a write is retried after a serialization
            failure or deadlock.

    Raises:
        StorageError: The server cannot be reached or the schema holds
            something else.
        SchemaVersionError: The ledger was written by a newer rectflow.

    Attributes:
        schema: The schema the ledger lives in (None: the current schema).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        connect_timeout: float = 10.0,
        lock_timeout: float = 30.0,
        retries: int = 5,
    ) -> None:
        """Connect, then create or migrate the ledger's tables."""
        super().__init__()
        conninfo, url_schema = split_schema(url)
        self.schema = schema if schema is not None else url_schema
        if self.schema == "":
            self.schema = None
        self._retries = retries
        try:
            self._conn: _Conn | None = psycopg.connect(
                conninfo, autocommit=True, connect_timeout=max(1, int(connect_timeout))
            )
        except psycopg.Error as exc:
            raise StorageError(
                f"无法连接 PostgreSQL 台账 (cannot connect to the PostgreSQL ledger): {exc}"
            ) from exc
        try:
            conn = self._conn
            conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
            conn.execute(
                "SELECT set_config('lock_timeout', %s, false)", (f"{int(lock_timeout * 1000)}ms",)
            )
            if self.schema is not None:
                conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            self._init_schema()
        except psycopg.Error as exc:
            self.close()
            raise _storage_error("schema", exc) from exc
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        """``PostgresStore(host=…, dbname=…, schema=…)`` (no password)."""
        if self._conn is None:
            return "PostgresStore(closed)"
        info = self._conn.info
        return f"PostgresStore(host={info.host!r}, dbname={info.dbname!r}, schema={self.schema!r})"

    # -- schema

    def _schema_version(self, conn: _Conn) -> int | None:
        tables = {
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        if "schema_version" not in tables:
            if tables & _TABLES:
                raise StorageError(
                    "该模式中已有同名的表, 不是 rectflow 台账 "
                    f"(the schema holds tables {sorted(tables & _TABLES)} but no rectflow ledger)"
                )
            return None
        return self._recorded_version(conn, "")

    def _init_schema(self) -> None:
        with self._using() as conn, conn.transaction():
            # Serialize creation and migration between processes opening together.
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"rectflow schema {self.schema or ''}",),
            )
            if self.schema is not None:
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            if conn.execute("SELECT current_schema()").fetchone() in (None, (None,)):
                raise StorageError(
                    "没有可用的模式 (no schema to create the ledger in: check search_path)"
                )
            self._create_or_migrate(conn, self._schema_version(conn), psycopg.Error)

    # -- connection and transactions

    @contextmanager
    def _using(self) -> Iterator[_Conn]:
        """The connection, under the lock, with driver errors as StorageError."""
        with self._lock:
            if self._conn is None:
                raise StorageError("台账已关闭 (the ledger is closed)")
            try:
                yield self._conn
            except psycopg.Error as exc:
                raise _storage_error("database", exc) from exc

    @contextmanager
    def _outermost(self) -> Iterator[None]:
        with self._using() as conn, conn.transaction():
            yield

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all; a nested one joins the outer one.

        A serialization failure or deadlock inside (rare: appends lock in one
        order) rolls the whole block back with :class:`~rectflow.StorageError`
        once the retries of the failing write are spent.
        """
        return self._tx()

    def _write(self, op: Callable[[_Conn], _T]) -> _T:
        """Run one write operation atomically, retrying serialization failures and deadlocks.

        Outside a transaction it runs in its own (retried whole); inside one, in
        a savepoint (retried from the savepoint).
        """
        with self._using() as conn:
            attempt = 0
            while True:
                try:
                    with conn.transaction():
                        return op(conn)
                except _RETRYABLE as exc:  # noqa: PERF203 - a retry loop
                    attempt += 1
                    if attempt > self._retries:
                        raise StorageError(
                            f"写入多次因并发冲突失败 (gave up after {self._retries} retries): {exc}"
                        ) from exc
                    time.sleep(min(0.5, 0.01 * 2**attempt) * random.uniform(0.5, 1.5))  # noqa: S311

    # -- the dialect

    _PARAM = "%s"
    _COMPLETED_AT = "completed_at"
    _EVENT_COLUMNS = "finding_id, version, name, at, data"
    _SCHEMA = POSTGRES_SCHEMA

    @staticmethod
    def _day(value: dt.date) -> dt.date:
        return value

    @staticmethod
    def _instant(value: dt.datetime) -> dt.datetime:
        return _utc(value)

    @staticmethod
    def _states_in(states: list[str]) -> tuple[str, list[Any]]:
        return "state = ANY(%s)", [states]

    @staticmethod
    def _load_event(columns: Sequence[Any]) -> Event:
        finding_id, version, name, at, data = columns
        return load_event(finding_id, version, name, utc_micros(at), data)

    @staticmethod
    def _run_step(step: Migration, conn: _Conn) -> None:
        step.postgres(conn)

    # -- writes

    def _insert_unique(
        self,
        conn: _Conn,
        table: str,  # noqa: ARG002 - SQLite looks the id up in it first
        row_id: str,
        insert: str,
        params: tuple[Any, ...],
    ) -> None:
        if conn.execute(insert + " ON CONFLICT (id) DO NOTHING", params).rowcount != 1:
            raise DuplicateId(row_id)

    def _chain_tip(self, conn: _Conn) -> tuple[int, str]:
        # Locked first: every append takes its locks in the same order.
        head = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE").fetchone()
        if head is None:
            raise StorageError("ledger_head 行缺失 (the ledger_head row is missing)")
        return int(head[0]), str(head[1])

    def _insert_event(self, conn: _Conn, row: EventRow) -> None:
        event = row.event
        cur = conn.execute(
            "INSERT INTO events (finding_id, version, seq, name, at, data, prev_hash, hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            + (" ON CONFLICT DO NOTHING" if self._unsafe_no_version_check else ""),
            (
                event.finding_id,
                event.version,
                row.seq,
                event.name,
                from_utc_micros(row.at_us),
                row.data,
                row.prev_hash,
                row.hash,
            ),
        )
        if cur.rowcount == 1:
            conn.execute(
                "UPDATE ledger_head SET seq = %s, hash = %s WHERE id = 1", (row.seq, row.hash)
            )

    def _insert_events(self, conn: _Conn, rows: list[EventRow]) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO events (finding_id, version, seq, name, at, data, prev_hash, hash)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        row.event.finding_id,
                        row.event.version,
                        row.seq,
                        row.event.name,
                        from_utc_micros(row.at_us),
                        row.data,
                        row.prev_hash,
                        row.hash,
                    )
                    for row in rows
                ],
            )
        last = rows[-1]
        conn.execute(
            "UPDATE ledger_head SET seq = %s, hash = %s WHERE id = 1", (last.seq, last.hash)
        )

    def _executemany(self, conn: _Conn, statement: str, rows: list[tuple[Any, ...]]) -> int:
        with conn.cursor() as cur:
            cur.executemany(statement, rows)
            return cur.rowcount

    @staticmethod
    def _ids_in(ids: list[str]) -> tuple[str, tuple[Any, ...]]:
        return "id = ANY(%s)", (ids,)

    # -- chain

    def head(self) -> Head:
        """Count and last hash of the chain, as the ``ledger_head`` row records them."""
        with self._using() as conn:
            row = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
        if row is None:
            raise StorageError("ledger_head 行缺失 (the ledger_head row is missing)")
        return Head(int(row[0]), str(row[1]))


def _utc(value: dt.datetime) -> dt.datetime:
    """A plain UTC ``datetime`` for the driver (no pendulum subclass, no local zone)."""
    return from_utc_micros(utc_micros(value))
