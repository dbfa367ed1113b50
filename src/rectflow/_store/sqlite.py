"""The SQLite backend: the embedded default, durable in one file.

One connection per store (``isolation_level=None``: rectflow issues ``BEGIN
IMMEDIATE``/``COMMIT``/``ROLLBACK`` itself), shared between threads under a
lock. The file is in WAL mode with ``synchronous=FULL``: a committed event
survives a power cut. Every write transaction starts with ``BEGIN IMMEDIATE``,
so writers from other processes queue on the busy timeout instead of failing
half-way, and the version-checked ``UPDATE findings … WHERE id = ? AND version
= ?`` turns a lost update into :class:`~rectflow.ConcurrencyConflict`.

The queries and the append shared with PostgreSQL: :mod:`rectflow._store.sql`.
Schema and migrations: :mod:`rectflow._store.migrations`.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, TypeVar

from rectflow._model import Event
from rectflow._store.base import GENESIS, SCHEMA_VERSION, Head
from rectflow._store.migrations import (
    SQLITE_SCHEMA,
    Migration,
    from_utc_micros,
    load_event,
    pending,
    utc_micros,
)
from rectflow._store.sql import EventRow, SqlStore
from rectflow.exceptions import DuplicateId, StorageError

_T = TypeVar("_T")


def _storage_error(path: str, exc: sqlite3.Error) -> StorageError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StorageError(
            f"台账文件 {path} 正被其他写入者占用, 请稍后重试 "
            f"(the ledger file {path} is locked by another writer; try again): {text}"
        )
    return StorageError(
        f"台账文件 {path} 读写失败 (SQLite error on the ledger file {path}): {text}"
    )


class SqliteStore(SqlStore[sqlite3.Connection]):
    """A ledger in a SQLite file.

    Args:
        path: The database file (created when missing).
        timeout: Seconds a writer waits for another process's write
            transaction before giving up with :class:`~rectflow.StorageError`.

    Raises:
        StorageError: The file cannot be opened, is not a rectflow ledger, or
            cannot be switched to WAL mode.
        SchemaVersionError: The ledger was written by a newer rectflow.

    Attributes:
        path: The database file.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        """Open (creating or migrating) the ledger file at *path*."""
        super().__init__()
        self.path = os.fspath(path)
        self._latest: tuple[tuple[int, str] | None, dt.datetime | None] | None = None
        try:
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise _storage_error(self.path, exc) from exc
        try:
            self._configure(self._conn, timeout)
            self._init_schema()
        except sqlite3.Error as exc:
            self.close()
            raise _storage_error(self.path, exc) from exc
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        """``SqliteStore('path')``."""
        return f"SqliteStore({self.path!r})"

    # -- schema

    def _configure(self, conn: sqlite3.Connection, timeout: float) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        if mode != "wal" and self.path not in ("", ":memory:"):
            raise StorageError(
                f"台账文件 {self.path} 无法使用 WAL 模式 "
                f"(cannot switch the ledger file {self.path} to WAL mode: got {mode!r})"
            )
        conn.execute("PRAGMA synchronous = FULL")

    def _schema_version(self, conn: sqlite3.Connection) -> int | None:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "schema_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise StorageError(
                    f"{self.path} 不是 rectflow 台账"
                    f" ({self.path} is not a rectflow ledger: it has other tables)"
                )
            return None
        return self._recorded_version(conn, f"{self.path}: ")

    def _init_schema(self) -> None:
        with self._using() as conn:
            found = self._schema_version(conn)
            if found is not None:
                pending(found)  # a newer schema is refused before anything is written
                if found == SCHEMA_VERSION:
                    return
        with self._tx(), self._using() as conn:
            # Again, now holding the write lock.
            self._create_or_migrate(conn, self._schema_version(conn), sqlite3.Error)

    # -- connection and transactions

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, with SQLite errors as StorageError."""
        with self._lock:
            if self._conn is None:
                raise StorageError(f"台账 {self.path} 已关闭 (the ledger {self.path} is closed)")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc) from exc

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # the connection may be gone
                conn.execute("ROLLBACK")

    @contextmanager
    def _outermost(self) -> Iterator[None]:
        with self._using() as conn:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._rollback(conn)
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback(conn)
            raise _storage_error(self.path, exc) from exc

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together (``BEGIN IMMEDIATE`` … ``COMMIT``) or not at all.

        A transaction inside another one joins it.
        """
        return self._tx()

    @contextmanager
    def _atomic(self) -> Iterator[sqlite3.Connection]:
        """One write operation: its own transaction, or a savepoint inside the caller's."""
        with self._lock:
            if self._depth == 0:
                with self._tx(), self._using() as conn:
                    yield conn
                return
            with self._using() as conn:
                conn.execute("SAVEPOINT rectflow_op")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO rectflow_op")
                    conn.execute("RELEASE rectflow_op")
                    raise
                conn.execute("RELEASE rectflow_op")

    # -- the dialect

    _PARAM = "?"
    _COMPLETED_AT = "completed_at_us"
    _EVENT_COLUMNS = "finding_id, version, name, at_us, data"
    _SCHEMA = SQLITE_SCHEMA

    @staticmethod
    def _day(value: dt.date) -> str:
        return value.isoformat()

    @staticmethod
    def _instant(value: dt.datetime) -> int:
        return utc_micros(value)

    @staticmethod
    def _states_in(states: list[str]) -> tuple[str, list[Any]]:
        return f"state IN ({', '.join('?' * len(states))})", states

    @staticmethod
    def _load_event(columns: Sequence[Any]) -> Event:
        return load_event(*columns)

    @staticmethod
    def _run_step(step: Migration, conn: sqlite3.Connection) -> None:
        step.sqlite(conn)

    # -- writes

    def _write(self, op: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run one write operation in :meth:`_atomic`."""
        with self._atomic() as conn:
            return op(conn)

    def _insert_unique(
        self,
        conn: sqlite3.Connection,
        table: str,
        row_id: str,
        insert: str,
        params: tuple[Any, ...],
    ) -> None:
        # Looked up first: the write lock (BEGIN IMMEDIATE) is held.
        if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone():
            raise DuplicateId(row_id)
        conn.execute(insert, params)

    def _chain_tip(self, conn: sqlite3.Connection) -> tuple[int, str]:
        last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS) if last is None else (int(last[0]), str(last[1]))

    def _insert_event(self, conn: sqlite3.Connection, row: EventRow) -> None:
        verb = "INSERT OR IGNORE" if self._unsafe_no_version_check else "INSERT"
        conn.execute(
            f"{verb} INTO events (finding_id, version, seq, name, at, at_us, data,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _event_params(row),
        )

    def _insert_events(self, conn: sqlite3.Connection, rows: list[EventRow]) -> None:
        conn.executemany(
            "INSERT INTO events (finding_id, version, seq, name, at, at_us, data,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_event_params(row) for row in rows],
        )

    def _executemany(
        self, conn: sqlite3.Connection, statement: str, rows: list[tuple[Any, ...]]
    ) -> int:
        return conn.executemany(statement, rows).rowcount

    @staticmethod
    def _ids_in(ids: list[str]) -> tuple[str, tuple[Any, ...]]:
        return f"id IN ({', '.join('?' * len(ids))})", tuple(ids)

    # -- chain

    def head(self) -> Head:
        """Count and last hash of the chain."""
        with self._using() as conn:
            count, last = conn.execute(
                "SELECT (SELECT COUNT(*) FROM events),"
                " (SELECT hash FROM events ORDER BY seq DESC LIMIT 1)"
            ).fetchone()
        return Head(int(count), GENESIS if last is None else str(last))

    def latest_at(self) -> dt.datetime | None:
        """The latest time of any event on the chain (None: no event), in UTC.

        Scans the events once per state of the chain (its last seq and hash).
        """
        with self._using() as conn:
            tip = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            key = None if tip is None else (int(tip[0]), str(tip[1]))
            cached = self._latest
            if cached is not None and cached[0] == key:
                return cached[1]
            row = conn.execute("SELECT MAX(at_us) FROM events").fetchone()
        latest = None if row is None or row[0] is None else from_utc_micros(int(row[0]))
        self._latest = (key, latest)
        return latest


def _event_params(row: EventRow) -> tuple[Any, ...]:
    """The ``events`` columns of *row*, in the INSERT's order."""
    event = row.event
    return (
        event.finding_id,
        event.version,
        row.seq,
        event.name,
        row.at_text,
        row.at_us,
        row.data,
        row.prev_hash,
        row.hash,
    )
