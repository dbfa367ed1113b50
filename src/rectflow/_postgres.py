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
``schema=``); it is created when missing. Schema and migrations:
:mod:`rectflow._migrations`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql

from rectflow import _codec
from rectflow._migrations import (
    POSTGRES_SCHEMA,
    FindingRow,
    from_utc_micros,
    load_event,
    load_finding,
    pending,
    utc_micros,
)
from rectflow._model import Event, Finding, Inspection
from rectflow._store import (
    SCHEMA_VERSION,
    AgendaQuery,
    ChainEntry,
    Head,
    check_append,
    entry_hash,
)
from rectflow.exceptions import ConcurrencyConflict, DuplicateId, RectflowError, StorageError

_T = TypeVar("_T")
_Conn = psycopg.Connection[tuple[Any, ...]]

_PAGE: Final = 1000
_EVENT_COLUMNS: Final = "finding_id, version, name, at, data"
_TABLES: Final = frozenset({"schema_version", "inspections", "findings", "events", "ledger_head"})
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


def _event_row(row: tuple[Any, ...]) -> Event:
    finding_id, version, name, at, data = row
    return load_event(finding_id, version, name, utc_micros(at), data)


class PostgresStore:
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
        conninfo, url_schema = split_schema(url)
        self.schema = schema if schema is not None else url_schema
        if self.schema == "":
            self.schema = None
        self._lock = threading.RLock()
        self._depth = 0
        self._retries = retries
        # Test-only switch for the negative control of the contention test: the
        # UPDATE is last-writer-wins and a duplicate event is silently dropped.
        self._unsafe_no_version_check = False
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
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
        if len(rows) != 1:
            raise StorageError(
                f"数据结构版本表损坏 (the schema_version table has {len(rows)} rows)"
            )
        return int(rows[0][0])

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
            found = self._schema_version(conn)
            if found is None:
                for statement in POSTGRES_SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
                return
            for step in pending(found):
                try:
                    step.postgres(conn)
                except (RectflowError, psycopg.Error):
                    raise
                except Exception as exc:  # a row the step cannot read: refuse, change nothing
                    raise StorageError(
                        f"台账数据结构升级到版本 {step.to_version} 失败, 未做任何修改 "
                        f"(migrating the ledger to schema version {step.to_version} failed; "
                        f"nothing was changed): {exc!r}"
                    ) from exc
                conn.execute("UPDATE schema_version SET version = %s", (step.to_version,))

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
    def _tx(self) -> Iterator[None]:
        with self._lock:
            if self._depth > 0:  # join the outer transaction
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self._using() as conn, conn.transaction():
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0

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

    def close(self) -> None:
        """Close the connection (a transaction still open is rolled back)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    # -- inspections

    def add_inspection(self, inspection: Inspection) -> None:
        """Store a new inspection; :class:`~rectflow.DuplicateId` if its id exists."""
        data = _codec.dumps(_codec.unstructure(inspection))

        def op(conn: _Conn) -> None:
            cur = conn.execute(
                "INSERT INTO inspections (id, data) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING",
                (inspection.id, data),
            )
            if cur.rowcount != 1:
                raise DuplicateId(inspection.id)

        self._write(op)

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection, or None."""
        with self._using() as conn:
            row = conn.execute(
                "SELECT data FROM inspections WHERE id = %s", (inspection_id,)
            ).fetchone()
        return None if row is None else _codec.inspection_from(json.loads(row[0]))

    def inspections(self) -> list[Inspection]:
        """All inspections, in the order they were added."""
        with self._using() as conn:
            rows = conn.execute("SELECT data FROM inspections ORDER BY pos").fetchall()
        return [_codec.inspection_from(json.loads(r[0])) for r in rows]

    # -- findings

    def get(self, finding_id: str) -> Finding | None:
        """The finding's current row, or None."""
        with self._using() as conn:
            row = conn.execute("SELECT data FROM findings WHERE id = %s", (finding_id,)).fetchone()
        return None if row is None else load_finding(row[0])

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Append *event* and store *finding* in one transaction, version-checked.

        Raises:
            DuplicateId: *expected_version* is 0 and the finding exists.
            ConcurrencyConflict: The finding is not at *expected_version*.
            InvalidInput: The arguments do not fit together.
            StorageError: The database cannot be written.
        """
        check_append(event, finding, expected_version)
        row = FindingRow.of(finding)
        event_json = _codec.unstructure(event)
        data = _codec.dumps(event_json)
        columns = (
            row.inspection,
            row.version,
            row.state,
            finding.deadline,
            finding.next_checkpoint,
            row.completed_at_utc,
            finding.recurring_due,
            row.data,
            row.id,
        )
        unsafe = self._unsafe_no_version_check
        at = _utc(event.at)

        def op(conn: _Conn) -> None:
            head = conn.execute(
                "SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE"
            ).fetchone()
            if head is None:
                raise StorageError("ledger_head 行缺失 (the ledger_head row is missing)")
            if expected_version == 0:
                cur = conn.execute(
                    "INSERT INTO findings (inspection, version, state, deadline, next_checkpoint,"
                    " completed_at, recurring_due, data, id)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (id) DO NOTHING",
                    columns,
                )
                if cur.rowcount != 1:
                    raise DuplicateId(row.id)
            else:
                query = (
                    "UPDATE findings SET inspection = %s, version = %s, state = %s, deadline = %s,"
                    " next_checkpoint = %s, completed_at = %s, recurring_due = %s, data = %s"
                    " WHERE id = %s"
                )
                params: tuple[Any, ...] = columns
                if not unsafe:
                    query += " AND version = %s"
                    params = (*columns, expected_version)
                if conn.execute(query, params).rowcount != 1:
                    found = conn.execute(
                        "SELECT version FROM findings WHERE id = %s", (row.id,)
                    ).fetchone()
                    raise ConcurrencyConflict(
                        row.id, expected_version, 0 if found is None else int(found[0])
                    )
            seq, prev = int(head[0]) + 1, str(head[1])
            digest = entry_hash(prev, seq, event)
            cur = conn.execute(
                "INSERT INTO events (finding_id, version, seq, name, at, data, prev_hash, hash)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                + (" ON CONFLICT DO NOTHING" if unsafe else ""),
                (event.finding_id, event.version, seq, event.name, at, data, prev, digest),
            )
            if cur.rowcount == 1:
                conn.execute(
                    "UPDATE ledger_head SET seq = %s, hash = %s WHERE id = 1", (seq, digest)
                )

        self._write(op)

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first."""
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE finding_id = %s ORDER BY version",
                (finding_id,),
            ).fetchall()
        return tuple(_event_row(r) for r in rows)

    def findings(self, inspection: str | None = None) -> Iterator[Finding]:
        """Current rows, of one inspection or all, in id order."""
        with self._using() as conn:
            if inspection is None:
                rows = conn.execute("SELECT data FROM findings ORDER BY id").fetchall()
            else:
                rows = conn.execute(
                    "SELECT data FROM findings WHERE inspection = %s ORDER BY id", (inspection,)
                ).fetchall()
        return (load_finding(r[0]) for r in rows)

    @staticmethod
    def select_sql(query: AgendaQuery) -> tuple[str, tuple[Any, ...]] | None:
        """The SQL (and parameters) :meth:`select` runs, or None when nothing can match."""
        where: list[str] = []
        params: list[Any] = []
        if query.states is not None:
            if not query.states:
                return None
            where.append("state = ANY(%s)")
            params.append(sorted(query.states))
        if query.inspection is not None:
            where.append("inspection = %s")
            params.append(query.inspection)
        if query.deadline_until is not None:
            where.append("deadline <= %s")
            params.append(query.deadline_until)
        if query.checkpoint_before is not None:
            where.append("state = 'staged_result' AND next_checkpoint < %s")
            params.append(query.checkpoint_before)
        if query.completed_until is not None:
            where.append("state = 'completed' AND completed_at <= %s")
            params.append(_utc(query.completed_until))
        if query.recurring_due_until is not None:
            where.append("recurring_due <= %s")
            params.append(query.recurring_due_until)
        text = "SELECT id, data FROM findings"
        if where:
            text += " WHERE " + " AND ".join(where)
        return text, tuple(params)

    def select(self, query: AgendaQuery) -> Iterator[Finding]:
        """Current rows matching *query*, in id order, found through the indexes."""
        statement = self.select_sql(query)
        if statement is None:
            return iter(())
        with self._using() as conn:
            rows = conn.execute(*statement).fetchall()
        rows.sort(key=lambda r: str(r[0]))
        return (load_finding(r[1]) for r in rows)

    def count(self, inspection: str | None = None) -> int:
        """Number of findings."""
        with self._using() as conn:
            if inspection is None:
                row = conn.execute("SELECT count(*) FROM findings").fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM findings WHERE inspection = %s", (inspection,)
                ).fetchone()
        return 0 if row is None else int(row[0])

    # -- chain

    def chain(self) -> Iterator[ChainEntry]:
        """Every stored event with its chain fields, by stored ``seq``, as stored."""
        after = 0
        while True:
            with self._using() as conn:
                rows = conn.execute(
                    f"SELECT seq, prev_hash, hash, {_EVENT_COLUMNS} FROM events"
                    " WHERE seq > %s ORDER BY seq LIMIT %s",
                    (after, _PAGE),
                ).fetchall()
            for seq, prev_hash, hash_, *columns in rows:
                yield ChainEntry(int(seq), _event_row(tuple(columns)), str(prev_hash), str(hash_))
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])

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
