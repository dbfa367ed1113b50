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

A fire costs two round trips: one statement reads the finding, the chain's
head and the ledger tip; one pipeline (one implicit transaction) locks the head
and, in one statement, moves the finding's row if it is still at the expected
version and the head is still the one the event was hashed after, appends the
event and moves the head (:meth:`PostgresStore.append`).

The connection heals: before each call outside a transaction, a connection the
server has dropped (``pg_terminate_backend``, a restart, an idle timeout) is
noticed without a round trip (the server's farewell is waiting on the socket)
and replaced. A transaction cut by the loss fails with
:class:`~rectflow.StorageError` naming the server's cause; nothing of it is
stored, and the next call reconnects.

Point the store at a schema of its own with ``?schema=name`` in the URL (or
``schema=``); it is created when missing. The queries and the append shared
with SQLite: :mod:`rectflow._store.sql`. Schema and migrations:
:mod:`rectflow._store.migrations`.
"""

from __future__ import annotations

import datetime as dt
import random
import select
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql

from rectflow import _codec
from rectflow._model import Event, Finding
from rectflow._store.base import Head, check_append, hash_of
from rectflow._store.migrations import (
    POSTGRES_SCHEMA,
    Migration,
    from_utc_micros,
    load_event,
    load_finding,
    utc_micros,
)
from rectflow._store.sql import EventRow, SqlStore
from rectflow.exceptions import ConcurrencyConflict, DuplicateId, StorageError

_T = TypeVar("_T")
_Conn = psycopg.Connection[tuple[Any, ...]]

_TABLES: Final = frozenset(
    {"schema_version", "inspections", "findings", "events", "ledger_head", "ledger_records"}
)
_RETRYABLE: Final = (errors.SerializationFailure, errors.DeadlockDetected)


_PIPELINED_ROUNDS: Final = 3
"""Pipelined attempts of an append (each after the head the last one saw) before one by one."""

_LOCK_HEAD: Final = "SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE"

_READ_FOR_FIRE: Final = (
    "SELECT (SELECT data FROM findings WHERE id = %s), h.seq, h.hash, t.version, t.hash"
    " FROM ledger_head h LEFT JOIN LATERAL (SELECT version, hash FROM events"
    " WHERE finding_id = '' ORDER BY version DESC LIMIT 1) t ON true WHERE h.id = 1"
)
"""A fire's read: the finding's row, the chain's head, the ledger tip, in one statement."""

_CHAIN_AFTER: Final = """, chained AS (
  INSERT INTO events (finding_id, version, seq, name, at, data, prev_hash, hash)
  SELECT %s::text, %s::integer, %s::integer, %s::text, %s::timestamptz, %s::text, %s::text,
    %s::text
  FROM moved RETURNING seq
), head AS (
  UPDATE ledger_head SET seq = %s, hash = %s WHERE id = 1 AND EXISTS (SELECT FROM chained)
  RETURNING seq
)
SELECT EXISTS (SELECT FROM head), (SELECT version FROM findings WHERE id = %s)"""
"""The event and the head, written only when the finding's row was (one statement)."""

_HEAD_IS: Final = "EXISTS (SELECT FROM ledger_head WHERE id = 1 AND seq = %s AND hash = %s)"

_MOVE_FOR_FIRE: Final = (
    "WITH moved AS (UPDATE findings SET inspection = %s, version = %s, state = %s,"
    " deadline = %s, next_checkpoint = %s, completed_at = %s, recurring_due = %s, data = %s"
    f" WHERE id = %s AND version = %s AND {_HEAD_IS} RETURNING id)" + _CHAIN_AFTER
)
"""A fire's write: the finding's row moved if at the expected version and the head unmoved."""

_ADD_FOR_FIRE: Final = (
    "WITH moved AS (INSERT INTO findings (inspection, version, state, deadline,"
    " next_checkpoint, completed_at, recurring_due, data, id)"
    " SELECT %s::text, %s::integer, %s::text, %s::date, %s::date, %s::timestamptz, %s::date,"
    f" %s::text, %s::text WHERE {_HEAD_IS} ON CONFLICT (id) DO NOTHING RETURNING id)" + _CHAIN_AFTER
)
"""An add's write: the finding's row inserted unless its id exists, and the head unmoved."""


class _OneByOne(Exception):
    """A pipelined append gave way (serialization failure, deadlock): one by one instead."""


def _dropped(conn: _Conn) -> bool:
    """Whether the server has dropped the idle *conn* (no round trip: what it sent, if anything).

    An idle connection receives nothing unless the server ends it (terminated,
    shut down, timed out: an error, then end of file); what arrived is read,
    and libpq marks the connection bad when it was the end.
    """
    if conn.closed:
        return True
    try:
        for _ in range(4):
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
            if not readable:
                return False
            conn.pgconn.consume_input()
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(conn.closed)


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
            query parameter names the schema to keep the ledger in. Other
            libpq parameters pass through (``connect_timeout``, ``keepalives_idle``,
            ``application_name``, …); a ``connect_timeout`` in the URL wins over
            the argument.
        schema: The schema (overrides the URL's); default: the connection's
            current schema (normally ``public``).
        connect_timeout: Seconds to wait for the server, when connecting and
            when reconnecting.
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
        self._conninfo = conninfo
        self._connect_timeout = max(1, int(connect_timeout))
        self._lock_timeout = f"{int(lock_timeout * 1000)}ms"
        self._closed = False
        # The chain's head as last seen (None: unknown): a fire's write is sent in
        # one pipeline hashed after it, and redone when the head has moved since.
        self._head_hint: tuple[int, str] | None = None
        self._conn: _Conn | None = None
        try:
            self._conn = self._connect()
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
            return "PostgresStore(closed)" if self._closed else "PostgresStore(disconnected)"
        info = self._conn.info
        return f"PostgresStore(host={info.host!r}, dbname={info.dbname!r}, schema={self.schema!r})"

    def _connect(self) -> _Conn:
        """A new connection, set up for the ledger (one round trip after the handshake)."""
        try:
            conninfo = self._conninfo
            if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(conninfo):
                conninfo = psycopg.conninfo.make_conninfo(
                    conninfo, connect_timeout=self._connect_timeout
                )
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise StorageError(
                f"无法连接 PostgreSQL 台账 (cannot connect to the PostgreSQL ledger): {exc}"
            ) from exc
        try:
            conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
            if self.schema is None:
                conn.execute("SELECT set_config('lock_timeout', %s, false)", (self._lock_timeout,))
            else:
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, false),"
                    " set_config('search_path', %s, false)",
                    (self._lock_timeout, sql.Identifier(self.schema).as_string(conn)),
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        """Close the connection (a transaction still open is rolled back); no reconnecting."""
        self._closed = True
        super().close()

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
        """The connection, under the lock, with driver errors as StorageError.

        Outside a transaction a connection the server has dropped (terminated,
        restarted, timed out) is replaced first; inside one, the transaction is
        lost with it and its statement fails.
        """
        with self._lock:
            conn = self._live()
            try:
                yield conn
            except psycopg.Error as exc:
                if conn.closed:
                    raise StorageError(
                        "与 PostgreSQL 台账的连接中断, 下次调用将重新连接 (the connection to the"
                        " PostgreSQL ledger was lost during the call; its transaction is rolled"
                        " back unless the server had committed it; the next call reconnects):"
                        f" {exc}"
                    ) from exc
                raise _storage_error("database", exc) from exc

    def _live(self) -> _Conn:
        """The connection, reconnected when the server dropped it (outside a transaction)."""
        if self._closed:
            raise StorageError("台账已关闭 (the ledger is closed)")
        conn = self._conn
        if conn is not None and (self._depth > 0 or not _dropped(conn)):
            return conn
        if self._depth > 0:  # pragma: no cover - a transaction keeps its connection
            raise StorageError("台账连接已断开 (the connection to the ledger was lost)")
        self._conn = None
        if conn is not None:
            conn.close()
        self._conn = self._connect()
        return self._conn

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

    # -- the fire's path: one read, one pipelined write

    def get_with_tip(self, finding_id: str) -> tuple[Finding | None, tuple[int, str]]:
        """The finding's row (or None) and the ledger tip, in one statement (one round trip).

        The chain's head comes with them: the next :meth:`append` hashes after it.
        """
        with self._using() as conn:
            row = conn.execute(_READ_FOR_FIRE, (finding_id,)).fetchone()
        if row is None:
            raise StorageError("ledger_head 行缺失 (the ledger_head row is missing)")
        data, seq, head_hash, version, tip_hash = row
        self._head_hint = (int(seq), str(head_hash))
        finding = None if data is None else load_finding(data)
        return finding, (0, "") if version is None else (int(version), str(tip_hash))

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Append *event* and store *finding* atomically, version-checked, in one round trip.

        Outside a transaction the whole write is one pipeline, one implicit
        transaction: the head row locked, then one statement that moves (or
        inserts) the finding's row only if it is at *expected_version* and the
        head is the one the event was hashed after, appends the event and moves
        the head. When the head had moved (another writer), it is redone after
        the head the lock returned; after a few such rounds, or inside a
        transaction, the statements run one by one (:class:`SqlStore`).

        Raises:
            DuplicateId: *expected_version* is 0 and the finding exists.
            ConcurrencyConflict: The finding is not at *expected_version*.
            InvalidInput: The arguments do not fit together.
            StorageError: The ledger cannot be written (the cause named).
        """
        check_append(event, finding, expected_version)
        with self._lock:
            if self._depth > 0 or self._unsafe_no_version_check:
                super().append(event, finding, expected_version)
                return
            data = _codec.event_json(event)
            columns = self._columns(finding, _codec.finding_json(finding))
            hint = self._head_hint
            try:
                for _ in range(_PIPELINED_ROUNDS):
                    if hint is None:
                        break
                    hint = self._append_pipelined(event, data, columns, expected_version, hint)
                    if hint is None:
                        return
            except _OneByOne:
                pass
            super().append(event, finding, expected_version)

    def _append_pipelined(
        self,
        event: Event,
        data: str,
        columns: tuple[Any, ...],
        expected_version: int,
        head: tuple[int, str],
    ) -> tuple[int, str] | None:
        """One pipelined attempt after *head*: None when written, else the head as it is.

        Raises:
            DuplicateId: The finding exists (*expected_version* 0).
            ConcurrencyConflict: The finding is not at *expected_version*.
        """
        seq, prev = head[0] + 1, head[1]
        digest = hash_of(prev, seq, data)
        chained = (
            event.finding_id,
            event.version,
            seq,
            event.name,
            _utc(event.at),
            data,
            prev,
            digest,
        )
        if expected_version == 0:
            statement, params = _ADD_FOR_FIRE, (*columns, head[0], head[1])
        else:
            statement, params = _MOVE_FOR_FIRE, (*columns, expected_version, head[0], head[1])
        with self._using() as conn:
            try:
                with conn.pipeline():
                    locked = conn.execute(_LOCK_HEAD)
                    done = conn.execute(
                        statement, (*params, *chained, seq, digest, event.finding_id)
                    )
            except _RETRYABLE as exc:  # rare (one lock order): the one-by-one path retries
                raise _OneByOne from exc
            current = locked.fetchone()
            result = done.fetchone()
        if current is None or result is None:
            raise StorageError("ledger_head 行缺失 (the ledger_head row is missing)")
        written, actual = result
        now = (int(current[0]), str(current[1]))
        if written:
            self._head_hint = (seq, digest)
            return None
        self._head_hint = now
        if now != head:
            return now  # another writer came first: again after its head
        if expected_version == 0:
            raise DuplicateId(event.finding_id)
        raise ConcurrencyConflict(
            event.finding_id, expected_version, 0 if actual is None else int(actual)
        )

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
        head = conn.execute(_LOCK_HEAD).fetchone()
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
            self._head_hint = (row.seq, row.hash)  # a hint only: a rollback may undo it

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
        self._head_hint = (last.seq, last.hash)

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
        self._head_hint = (int(row[0]), str(row[1]))
        return Head(*self._head_hint)


def _utc(value: dt.datetime) -> dt.datetime:
    """A plain UTC ``datetime`` for the driver (no pendulum subclass, no local zone)."""
    return from_utc_micros(utc_micros(value))
