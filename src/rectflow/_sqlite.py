"""The SQLite backend: the embedded default, durable in one file.

One connection per store (``isolation_level=None``: rectflow issues ``BEGIN
IMMEDIATE``/``COMMIT``/``ROLLBACK`` itself), shared between threads under a
lock. The file is in WAL mode with ``synchronous=FULL``: a committed event
survives a power cut. Every write transaction starts with ``BEGIN IMMEDIATE``,
so writers from other processes queue on the busy timeout instead of failing
half-way, and the version-checked ``UPDATE findings … WHERE id = ? AND version
= ?`` turns a lost update into :class:`~rectflow.ConcurrencyConflict`.

Schema and migrations: :mod:`rectflow._migrations`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, Final

from rectflow import _codec
from rectflow._migrations import (
    SQLITE_SCHEMA,
    FindingRow,
    load_event,
    load_finding,
    pending,
    utc_micros,
)
from rectflow._model import Event, Finding, Inspection
from rectflow._store import (
    GENESIS,
    SCHEMA_VERSION,
    AgendaQuery,
    ChainEntry,
    Head,
    check_append,
    entry_hash,
)
from rectflow.exceptions import ConcurrencyConflict, DuplicateId, RectflowError, StorageError

_PAGE: Final = 1000
_EVENT_COLUMNS: Final = "finding_id, version, name, at_us, data"


def _storage_error(path: str, exc: sqlite3.Error) -> StorageError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StorageError(
            f"台账文件 {path} 正被其他写入者占用, 请稍后重试 "
            f"(the ledger file is locked by another writer; try again): {text}"
        )
    return StorageError(f"台账文件 {path} 读写失败 (SQLite error on the ledger file): {text}")


class SqliteStore:
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
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._depth = 0
        # Test-only switch for the negative control of the contention test: the
        # UPDATE is last-writer-wins and a duplicate event is silently dropped.
        self._unsafe_no_version_check = False
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
                f"(cannot switch the ledger file to WAL mode: got {mode!r})"
            )
        conn.execute("PRAGMA synchronous = FULL")

    def _schema_version(self, conn: sqlite3.Connection) -> int | None:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "schema_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise StorageError(
                    f"{self.path} 不是 rectflow 台账 (not a rectflow ledger: it has other tables)"
                )
            return None
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
        if len(rows) != 1:
            raise StorageError(
                f"{self.path}: 数据结构版本表损坏 (the schema_version table has {len(rows)} rows)"
            )
        return int(rows[0][0])

    def _init_schema(self) -> None:
        with self._using() as conn:
            found = self._schema_version(conn)
            if found is not None:
                pending(found)  # a newer schema is refused before anything is written
                if found == SCHEMA_VERSION:
                    return
        with self._tx(), self._using() as conn:
            found = self._schema_version(conn)  # again, now holding the write lock
            if found is None:
                for statement in SQLITE_SCHEMA:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                return
            for step in pending(found):
                try:
                    step.sqlite(conn)
                except (RectflowError, sqlite3.Error):
                    raise
                except Exception as exc:  # a row the step cannot read: refuse, change nothing
                    raise StorageError(
                        f"台账数据结构升级到版本 {step.to_version} 失败, 未做任何修改 "
                        f"(migrating the ledger to schema version {step.to_version} failed; "
                        f"nothing was changed): {exc!r}"
                    ) from exc
                conn.execute("UPDATE schema_version SET version = ?", (step.to_version,))

    # -- connection and transactions

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, with SQLite errors as StorageError."""
        with self._lock:
            if self._conn is None:
                raise StorageError(f"台账 {self.path} 已关闭 (the ledger is closed)")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise _storage_error(self.path, exc) from exc

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # the connection may be gone
                conn.execute("ROLLBACK")

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
            with self._using() as conn:
                conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._rollback(conn)
                raise
            self._depth = 0
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
        with self._atomic() as conn:
            if conn.execute("SELECT 1 FROM inspections WHERE id = ?", (inspection.id,)).fetchone():
                raise DuplicateId(inspection.id)
            conn.execute("INSERT INTO inspections (id, data) VALUES (?, ?)", (inspection.id, data))

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection, or None."""
        with self._using() as conn:
            row = conn.execute(
                "SELECT data FROM inspections WHERE id = ?", (inspection_id,)
            ).fetchone()
        return None if row is None else _codec.inspection_from(json.loads(row[0]))

    def inspections(self) -> list[Inspection]:
        """All inspections, in the order they were added."""
        with self._using() as conn:
            rows = conn.execute("SELECT data FROM inspections ORDER BY pos").fetchall()
        return [_codec.inspection_from(json.loads(data)) for (data,) in rows]

    # -- findings

    def get(self, finding_id: str) -> Finding | None:
        """The finding's current row, or None."""
        with self._using() as conn:
            row = conn.execute("SELECT data FROM findings WHERE id = ?", (finding_id,)).fetchone()
        return None if row is None else load_finding(row[0])

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Append *event* and store *finding* in one transaction, version-checked.

        Raises:
            DuplicateId: *expected_version* is 0 and the finding exists.
            ConcurrencyConflict: The finding is not at *expected_version*.
            InvalidInput: The arguments do not fit together.
            StorageError: The file cannot be written.
        """
        check_append(event, finding, expected_version)
        row = FindingRow.of(finding)
        event_json = _codec.unstructure(event)
        data = _codec.dumps(event_json)
        at_us = utc_micros(event.at)
        columns = (
            row.inspection,
            row.version,
            row.state,
            row.deadline,
            row.next_checkpoint,
            row.completed_at_us,
            row.recurring_due,
            row.data,
        )
        unsafe = self._unsafe_no_version_check
        with self._atomic() as conn:
            if expected_version == 0:
                if conn.execute("SELECT 1 FROM findings WHERE id = ?", (row.id,)).fetchone():
                    raise DuplicateId(row.id)
                conn.execute(
                    "INSERT INTO findings (inspection, version, state, deadline, next_checkpoint,"
                    " completed_at_us, recurring_due, data, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*columns, row.id),
                )
            else:
                sql = (
                    "UPDATE findings SET inspection = ?, version = ?, state = ?, deadline = ?,"
                    " next_checkpoint = ?, completed_at_us = ?, recurring_due = ?, data = ?"
                    " WHERE id = ?"
                )
                params: tuple[Any, ...] = (*columns, row.id)
                if not unsafe:
                    sql += " AND version = ?"
                    params = (*params, expected_version)
                if conn.execute(sql, params).rowcount != 1:
                    found = conn.execute(
                        "SELECT version FROM findings WHERE id = ?", (row.id,)
                    ).fetchone()
                    raise ConcurrencyConflict(
                        row.id, expected_version, 0 if found is None else int(found[0])
                    )
            last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, str(last[1]))
            verb = "INSERT OR IGNORE" if unsafe else "INSERT"
            conn.execute(
                f"{verb} INTO events (finding_id, version, seq, name, at, at_us, data,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.finding_id,
                    event.version,
                    seq,
                    event.name,
                    event_json["at"],
                    at_us,
                    data,
                    prev,
                    entry_hash(prev, seq, event),
                ),
            )

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first."""
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE finding_id = ? ORDER BY version",
                (finding_id,),
            ).fetchall()
        return tuple(load_event(*r) for r in rows)

    def findings(self, inspection: str | None = None) -> Iterator[Finding]:
        """Current rows, of one inspection or all, in id order."""
        with self._using() as conn:
            if inspection is None:
                rows = conn.execute("SELECT data FROM findings ORDER BY id").fetchall()
            else:
                rows = conn.execute(
                    "SELECT data FROM findings WHERE inspection = ? ORDER BY id", (inspection,)
                ).fetchall()
        return (load_finding(data) for (data,) in rows)

    @staticmethod
    def select_sql(query: AgendaQuery) -> tuple[str, tuple[Any, ...]] | None:
        """The SQL (and parameters) :meth:`select` runs, or None when nothing can match."""
        where: list[str] = []
        params: list[Any] = []
        if query.states is not None:
            if not query.states:
                return None
            states = sorted(query.states)
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        if query.inspection is not None:
            where.append("inspection = ?")
            params.append(query.inspection)
        if query.deadline_until is not None:
            where.append("deadline <= ?")
            params.append(query.deadline_until.isoformat())
        if query.checkpoint_before is not None:
            where.append("state = 'staged_result' AND next_checkpoint < ?")
            params.append(query.checkpoint_before.isoformat())
        if query.completed_until is not None:
            where.append("state = 'completed' AND completed_at_us <= ?")
            params.append(utc_micros(query.completed_until))
        if query.recurring_due_until is not None:
            where.append("recurring_due <= ?")
            params.append(query.recurring_due_until.isoformat())
        sql = "SELECT id, data FROM findings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql, tuple(params)

    def select(self, query: AgendaQuery) -> Iterator[Finding]:
        """Current rows matching *query*, in id order, found through the indexes."""
        statement = self.select_sql(query)
        if statement is None:
            return iter(())
        with self._using() as conn:
            rows = conn.execute(*statement).fetchall()
        # Sorted here rather than ORDER BY id, which could tempt the planner
        # into walking the primary key instead of the index the WHERE needs.
        rows.sort(key=lambda r: str(r[0]))
        return (load_finding(data) for _, data in rows)

    def count(self, inspection: str | None = None) -> int:
        """Number of findings."""
        with self._using() as conn:
            if inspection is None:
                row = conn.execute("SELECT COUNT(*) FROM findings").fetchone()
            else:
                row = conn.execute(
                    "SELECT COUNT(*) FROM findings WHERE inspection = ?", (inspection,)
                ).fetchone()
        return int(row[0])

    # -- chain

    def chain(self) -> Iterator[ChainEntry]:
        """Every stored event with its chain fields, by stored ``seq``, as stored."""
        after = 0
        while True:
            with self._using() as conn:
                rows = conn.execute(
                    f"SELECT seq, prev_hash, hash, {_EVENT_COLUMNS} FROM events"
                    " WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, _PAGE),
                ).fetchall()
            for seq, prev_hash, hash_, *columns in rows:
                yield ChainEntry(int(seq), load_event(*columns), str(prev_hash), str(hash_))
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])

    def head(self) -> Head:
        """Count and last hash of the chain."""
        with self._using() as conn:
            count, last = conn.execute(
                "SELECT (SELECT COUNT(*) FROM events),"
                " (SELECT hash FROM events ORDER BY seq DESC LIMIT 1)"
            ).fetchone()
        return Head(int(count), GENESIS if last is None else str(last))
