"""What the SQL backends share: the queries, the append, the readers.

:class:`SqlStore` holds the logic that is the same on SQLite and PostgreSQL:
the tables and the statements are the same, only the dialect differs. Each
backend (:mod:`rectflow._store.sqlite`, :mod:`rectflow._store.postgres`) keeps its own
connection and transaction handling and tells this class its dialect:

- ``_PARAM``: the parameter placeholder (``?`` or ``%s``);
- ``_COMPLETED_AT``: the indexed completion column (SQLite keeps integer UTC
  microseconds, PostgreSQL ``timestamptz``);
- ``_day``/``_instant``: how a date and a time are passed to the driver;
- ``_states_in``: how a set of states is matched;
- ``_EVENT_COLUMNS``/``_load_event``: how an event's time is read back;
- ``_chain_tip``/``_insert_event``: where the chain's last ``(seq, hash)`` is
  read (and locked) and how an event is written after it;
- ``_insert_unique``: how an INSERT refuses an existing id
  (:class:`~rectflow.DuplicateId`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar, Final, Generic, Protocol, TypeVar

import attrs

from rectflow import _codec
from rectflow._model import Event, Finding, Inspection
from rectflow._store.base import (
    SCHEMA_VERSION,
    AgendaQuery,
    ChainEntry,
    check_append,
    check_record,
    entry_hash,
    hash_of,
)
from rectflow._store.migrations import Migration, load_finding, pending, utc_micros
from rectflow.exceptions import ConcurrencyConflict, DuplicateId, RectflowError, StorageError

_PAGE: Final = 1000
_BULK_SLICE: Final = 2000
"""Items ``append_many`` encodes and writes at a time, inside its one transaction."""
_T = TypeVar("_T")


class Cursor(Protocol):
    """What the stores use of a DB-API cursor."""

    @property
    def rowcount(self) -> int:
        """Rows the statement changed."""

    def fetchone(self) -> Any:
        """The next row, or None."""

    def fetchall(self) -> list[Any]:
        """The remaining rows."""


class Connection(Protocol):
    """What the stores use of a DB-API connection (sqlite3 or psycopg)."""

    def execute(self, sql: str, params: tuple[Any, ...] = ..., /) -> Cursor:
        """Run one statement."""

    def close(self) -> None:
        """Close the connection."""


_C = TypeVar("_C", bound=Connection)


@attrs.frozen
class EventRow:
    """An event as it is appended to the ``events`` table.

    Attributes:
        event: The event.
        at_text: Its time as ISO text with its offset (as in its JSON).
        at_us: Its time in UTC microseconds.
        data: The event as canonical JSON.
        seq: Its place in the chain.
        prev_hash: The hash of the entry before.
        hash: Its hash.
    """

    event: Event
    at_text: str
    at_us: int
    data: str
    seq: int
    prev_hash: str
    hash: str


class SqlStore(ABC, Generic[_C]):
    """The queries common to the SQL stores; a backend supplies its dialect and connection."""

    _PARAM: ClassVar[str]
    _COMPLETED_AT: ClassVar[str]
    _EVENT_COLUMNS: ClassVar[str]
    _SCHEMA: ClassVar[tuple[str, ...]]

    _conn: _C | None

    def __init__(self) -> None:
        """Set up the lock and the switches (the backend connects afterwards)."""
        self._lock = threading.RLock()
        self._depth = 0
        # Test-only switch for the negative control of the contention test: the
        # UPDATE is last-writer-wins and a duplicate event is silently dropped.
        self._unsafe_no_version_check = False

    # -- transactions

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """A transaction; inside another one it joins that one."""
        with self._lock:
            if self._depth > 0:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self._outermost():
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0

    @abstractmethod
    def _outermost(self) -> AbstractContextManager[None]:
        """Begin, then commit or roll back, the outermost transaction (lock held)."""

    # -- the dialect

    @staticmethod
    @abstractmethod
    def _day(value: dt.date) -> Any:
        """A date as the driver gets it."""

    @staticmethod
    @abstractmethod
    def _instant(value: dt.datetime) -> Any:
        """An aware time as the driver gets it."""

    @classmethod
    def _optional_day(cls, value: dt.date | None) -> Any:
        """A date or None as the driver gets it."""
        return None if value is None else cls._day(value)

    @staticmethod
    @abstractmethod
    def _states_in(states: list[str]) -> tuple[str, list[Any]]:
        """The condition (and its parameters) matching a state among *states*."""

    @staticmethod
    @abstractmethod
    def _load_event(columns: Sequence[Any]) -> Event:
        """An event from the ``_EVENT_COLUMNS`` of its row."""

    @staticmethod
    @abstractmethod
    def _run_step(step: Migration, conn: _C) -> None:
        """Run a migration step's version for this backend."""

    # -- the backend's connection and writes

    @abstractmethod
    def _using(self) -> AbstractContextManager[_C]:
        """The connection, under the lock, with driver errors as StorageError."""

    @abstractmethod
    def _write(self, op: Callable[[_C], _T]) -> _T:
        """Run *op* as one atomic write operation."""

    @abstractmethod
    def _insert_unique(
        self, conn: _C, table: str, row_id: str, insert: str, params: tuple[Any, ...]
    ) -> None:
        """Run *insert* of the row *row_id* into *table*; DuplicateId if the id is taken."""

    @abstractmethod
    def _chain_tip(self, conn: _C) -> tuple[int, str]:
        """The chain's last ``(seq, hash)`` (``(0, GENESIS)`` when empty), for an append."""

    @abstractmethod
    def _insert_event(self, conn: _C, row: EventRow) -> None:
        """Append *row* to the chain."""

    @abstractmethod
    def _insert_events(self, conn: _C, rows: list[EventRow]) -> None:
        """Append *rows* (consecutive, hashed) to the chain in one statement batch."""

    @abstractmethod
    def _executemany(self, conn: _C, statement: str, rows: list[tuple[Any, ...]]) -> int:
        """Run *statement* once per row of parameters; the number of rows changed."""

    @staticmethod
    @abstractmethod
    def _ids_in(ids: list[str]) -> tuple[str, tuple[Any, ...]]:
        """The condition (and its parameters) matching an ``id`` among *ids*."""

    def close(self) -> None:
        """Close the connection (a transaction still open is rolled back)."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                finally:
                    self._conn = None

    # -- schema

    @staticmethod
    def _recorded_version(conn: Connection, where: str) -> int:
        """The version the one-row ``schema_version`` table records (*where* starts the error)."""
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
        if len(rows) != 1:
            raise StorageError(
                f"{where}数据结构版本表损坏 ({where}the schema_version table has {len(rows)} rows)"
            )
        return int(rows[0][0])

    def _create_or_migrate(
        self, conn: _C, found: int | None, driver_error: type[Exception]
    ) -> None:
        """Create the schema in an empty database (*found* None) or migrate it from *found*.

        Runs inside the caller's transaction, holding the backend's schema lock.
        """
        p = self._PARAM
        if found is None:
            for statement in self._SCHEMA:
                conn.execute(statement)
            conn.execute(f"INSERT INTO schema_version (version) VALUES ({p})", (SCHEMA_VERSION,))
            return
        for step in pending(found):
            try:
                self._run_step(step, conn)
            except (RectflowError, driver_error):
                raise
            except Exception as exc:  # a row the step cannot read: refuse, change nothing
                raise StorageError(
                    f"台账数据结构升级到版本 {step.to_version} 失败, 未做任何修改 "
                    f"(migrating the ledger to schema version {step.to_version} failed; "
                    f"nothing was changed): {exc!r}"
                ) from exc
            conn.execute(f"UPDATE schema_version SET version = {p}", (step.to_version,))

    # -- settings

    def get_meta(self, key: str) -> str | None:
        """A ledger-level setting, or None."""
        with self._using() as conn:
            row = conn.execute(
                f"SELECT value FROM ledger_meta WHERE id = {self._PARAM}", (key,)
            ).fetchone()
        return None if row is None else str(row[0])

    def put_meta(self, key: str, value: str) -> None:
        """Record a ledger-level setting once (never overwritten)."""
        p = self._PARAM
        insert = f"INSERT INTO ledger_meta (id, value) VALUES ({p}, {p})"
        self._write(
            lambda conn: self._insert_unique(conn, "ledger_meta", key, insert, (key, value))
        )

    # -- inspections

    def add_inspection(self, inspection: Inspection) -> None:
        """Store a new inspection; :class:`~rectflow.DuplicateId` if its id exists."""
        data = _codec.dumps(_codec.unstructure(inspection))
        p = self._PARAM
        insert = f"INSERT INTO inspections (id, data) VALUES ({p}, {p})"
        self._write(
            lambda conn: self._insert_unique(
                conn, "inspections", inspection.id, insert, (inspection.id, data)
            )
        )

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection, or None."""
        with self._using() as conn:
            row = conn.execute(
                f"SELECT data FROM inspections WHERE id = {self._PARAM}", (inspection_id,)
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
            row = conn.execute(
                f"SELECT data FROM findings WHERE id = {self._PARAM}", (finding_id,)
            ).fetchone()
        return None if row is None else load_finding(row[0])

    def get_with_tip(self, finding_id: str) -> tuple[Finding | None, tuple[int, str]]:
        """The finding's current row (or None) and :meth:`ledger_tip`."""
        with self._lock:
            return self.get(finding_id), self.ledger_tip()

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Append *event* and store *finding* in one transaction, version-checked.

        The chain's tip is read first (PostgreSQL locks it there: every append
        takes its locks in the same order), then the finding's row is inserted
        or moved, then the event is appended.

        Raises:
            DuplicateId: *expected_version* is 0 and the finding exists.
            ConcurrencyConflict: The finding is not at *expected_version*.
            InvalidInput: The arguments do not fit together.
            StorageError: The ledger cannot be written.
        """
        check_append(event, finding, expected_version)
        data = _codec.event_json(event)
        at_text, at_us = _codec.time_text(event.at), utc_micros(event.at)
        columns = self._columns(finding, _codec.finding_json(finding))
        p = self._PARAM
        unsafe = self._unsafe_no_version_check

        def op(conn: _C) -> None:
            last_seq, prev = self._chain_tip(conn)
            if expected_version == 0:
                insert = (
                    "INSERT INTO findings (inspection, version, state, deadline, next_checkpoint,"
                    f" {self._COMPLETED_AT}, recurring_due, data, id)"
                    f" VALUES ({', '.join([p] * len(columns))})"
                )
                self._insert_unique(conn, "findings", finding.id, insert, columns)
            else:
                update = (
                    f"UPDATE findings SET inspection = {p}, version = {p}, state = {p},"
                    f" deadline = {p}, next_checkpoint = {p}, {self._COMPLETED_AT} = {p},"
                    f" recurring_due = {p}, data = {p} WHERE id = {p}"
                )
                params: tuple[Any, ...] = columns
                if not unsafe:
                    update += f" AND version = {p}"
                    params = (*columns, expected_version)
                if conn.execute(update, params).rowcount != 1:
                    found = conn.execute(
                        f"SELECT version FROM findings WHERE id = {p}", (finding.id,)
                    ).fetchone()
                    raise ConcurrencyConflict(
                        finding.id, expected_version, 0 if found is None else int(found[0])
                    )
            seq = last_seq + 1
            digest = hash_of(prev, seq, data)
            self._insert_event(conn, EventRow(event, at_text, at_us, data, seq, prev, digest))

        self._write(op)

    def _columns(self, finding: Finding, data: str) -> tuple[Any, ...]:
        """The ``findings`` columns of *finding* in the order the statements use, id last."""
        completed = None if finding.completed_at is None else self._instant(finding.completed_at)
        return (
            finding.inspection,
            finding.version,
            finding.state,
            self._day(finding.deadline),
            self._optional_day(finding.next_checkpoint),
            completed,
            self._optional_day(finding.recurring_due),
            data,
            finding.id,
        )

    def existing(self, finding_ids: Sequence[str]) -> set[str]:
        """Which of *finding_ids* are findings on the ledger (read in pages)."""
        with self._using() as conn:
            return set(self._versions(conn, list(finding_ids)))

    def _versions(self, conn: _C, ids: list[str]) -> dict[str, int]:
        """The stored version of each of *ids* that exists (read in pages)."""
        found: dict[str, int] = {}
        for start in range(0, len(ids), _PAGE):
            condition, params = self._ids_in(ids[start : start + _PAGE])
            rows = conn.execute(f"SELECT id, version FROM findings WHERE {condition}", params)
            found.update((str(i), int(v)) for i, v in rows.fetchall())
        return found

    def append_many(
        self,
        items: Sequence[tuple[Event, Finding, int]],
        *,
        precondition: Callable[[], None] | None = None,
    ) -> None:
        """Append every item in one atomic write: all or nothing, the bulk path.

        One transaction: the chain's tip is locked and read (*precondition*, if
        any, runs then), the stored versions of the findings
        concerned are read once (under the write lock), every item's version is
        checked against them in order (an item may follow an earlier one of the
        same finding), then each finding's last row is written and the events
        appended with ``executemany``, the chain hashed in one pass. Nothing is
        read back.

        Raises:
            DuplicateId: An item adds a finding that exists (or an earlier item added).
            ConcurrencyConflict: An item's finding is not at its expected version.
            InvalidInput: An item's arguments do not fit together.
            StorageError: The ledger cannot be written.
        """
        batch = list(items)
        for event, finding, expected_version in batch:
            check_append(event, finding, expected_version)
        if not batch:
            return
        if self._unsafe_no_version_check:  # the test-only negative control: one by one

            def one_by_one(conn: _C) -> None:
                self._chain_tip(conn)  # the lock, as in the checked path
                if precondition is not None:
                    precondition()
                for item in batch:
                    self.append(*item)

            self._write(one_by_one)
            return
        last: dict[str, Finding] = {}
        for _, finding, _ in batch:
            last[finding.id] = finding
        p = self._PARAM

        def op(conn: _C) -> None:
            last_seq, prev = self._chain_tip(conn)
            if precondition is not None:  # under the write lock, before any write
                precondition()
            stored = self._versions(conn, list(last))
            current = dict(stored)
            for event, _, expected_version in batch:
                fid = event.finding_id
                if expected_version == 0 and fid in current:
                    raise DuplicateId(fid)
                actual = current.get(fid, 0)
                if actual != expected_version:
                    raise ConcurrencyConflict(fid, expected_version, actual)
                current[fid] = event.version
            # Encoded and written a slice at a time (one transaction all the same): a
            # bulk import never holds every row's JSON, hash and parameters at once.
            ids = list(last)
            for start in range(0, len(ids), _BULK_SLICE):
                inserts, updates = [], []
                for fid in ids[start : start + _BULK_SLICE]:
                    finding = last[fid]
                    row = self._columns(finding, _codec.finding_json(finding))
                    if fid in stored:
                        updates.append((*row, stored[fid]))
                    else:
                        inserts.append(row)
                if inserts:
                    self._executemany(
                        conn,
                        "INSERT INTO findings (inspection, version, state, deadline,"
                        f" next_checkpoint, {self._COMPLETED_AT}, recurring_due, data, id)"
                        f" VALUES ({', '.join([p] * 9)})",
                        inserts,
                    )
                if updates:
                    changed = self._executemany(
                        conn,
                        f"UPDATE findings SET inspection = {p}, version = {p}, state = {p},"
                        f" deadline = {p}, next_checkpoint = {p}, {self._COMPLETED_AT} = {p},"
                        f" recurring_due = {p}, data = {p} WHERE id = {p} AND version = {p}",
                        updates,
                    )
                    if changed != len(updates):  # cannot happen under the write lock
                        raise StorageError(
                            f"批量写入时台账被并发修改 (the ledger changed during a bulk write:"
                            f" {changed} of {len(updates)} rows updated)"
                        )
            at_us: tuple[dt.datetime, int] | None = None  # an import's events share times
            for start in range(0, len(batch), _BULK_SLICE):
                chain: list[EventRow] = []
                for event, _, _ in batch[start : start + _BULK_SLICE]:
                    text = _codec.event_json(event)
                    last_seq += 1
                    digest = hash_of(prev, last_seq, text)
                    if at_us is None or at_us[0] is not event.at:
                        at_us = (event.at, utc_micros(event.at))
                    chain.append(
                        EventRow(
                            event,
                            _codec.time_text(event.at),
                            at_us[1],
                            text,
                            last_seq,
                            prev,
                            digest,
                        )
                    )
                    prev = digest
                self._insert_events(conn, chain)

        self._write(op)

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first."""
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT {self._EVENT_COLUMNS} FROM events"
                f" WHERE finding_id = {self._PARAM} ORDER BY version",
                (finding_id,),
            ).fetchall()
        return tuple(self._load_event(r) for r in rows)

    def findings(self, inspection: str | None = None) -> Iterator[Finding]:
        """Current rows, of one inspection or all, in id order."""
        with self._using() as conn:
            if inspection is None:
                rows = conn.execute("SELECT data FROM findings ORDER BY id").fetchall()
            else:
                rows = conn.execute(
                    f"SELECT data FROM findings WHERE inspection = {self._PARAM} ORDER BY id",
                    (inspection,),
                ).fetchall()
        return (load_finding(r[0]) for r in rows)

    @classmethod
    def select_sql(cls, query: AgendaQuery) -> tuple[str, tuple[Any, ...]] | None:
        """The SQL (and parameters) :meth:`select` runs, or None when nothing can match."""
        p = cls._PARAM
        where: list[str] = []
        params: list[Any] = []
        if query.states is not None:
            if not query.states:
                return None
            condition, values = cls._states_in(sorted(query.states))
            where.append(condition)
            params.extend(values)
        if query.inspection is not None:
            where.append(f"inspection = {p}")
            params.append(query.inspection)
        if query.deadline_until is not None:
            where.append(f"deadline <= {p}")
            params.append(cls._day(query.deadline_until))
        if query.checkpoint_before is not None:
            where.append(f"state = 'staged_result' AND next_checkpoint < {p}")
            params.append(cls._day(query.checkpoint_before))
        if query.completed_until is not None:
            where.append(f"state = 'completed' AND {cls._COMPLETED_AT} <= {p}")
            params.append(cls._instant(query.completed_until))
        if query.recurring_due_until is not None:
            where.append(f"recurring_due <= {p}")
            params.append(cls._day(query.recurring_due_until))
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
        # Sorted here rather than ORDER BY id, which could tempt the planner
        # into walking the primary key instead of the index the WHERE needs.
        rows.sort(key=lambda r: str(r[0]))
        return (load_finding(r[1]) for r in rows)

    def count(self, inspection: str | None = None) -> int:
        """Number of findings."""
        with self._using() as conn:
            if inspection is None:
                row = conn.execute("SELECT count(*) FROM findings").fetchone()
            else:
                row = conn.execute(
                    f"SELECT count(*) FROM findings WHERE inspection = {self._PARAM}",
                    (inspection,),
                ).fetchone()
        return 0 if row is None else int(row[0])

    # -- ledger-level events and rows (issue 8)

    def append_record(self, event: Event, expected_version: int) -> None:
        """Append a ledger-level event to the chain, if the ledger is at *expected_version*.

        Raises:
            ConcurrencyConflict: Another writer appended a ledger-level event first.
            InvalidInput: The event is not the ledger's next one.
            StorageError: The ledger cannot be written.
        """
        check_record(event, expected_version)
        event_json = _codec.unstructure(event)
        at_text, at_us, data = event_json["at"], utc_micros(event.at), _codec.dumps(event_json)
        p = self._PARAM

        def op(conn: _C) -> None:
            last_seq, prev = self._chain_tip(conn)
            found = conn.execute(
                f"SELECT count(*) FROM events WHERE finding_id = {p}", ("",)
            ).fetchone()
            actual = 0 if found is None else int(found[0])
            if actual != expected_version:
                raise ConcurrencyConflict("", expected_version, actual)
            seq = last_seq + 1
            digest = entry_hash(prev, seq, event)
            self._insert_event(conn, EventRow(event, at_text, at_us, data, seq, prev, digest))

        self._write(op)

    def ledger_tip(self) -> tuple[int, str]:
        """The version and hash of the last ledger-level event (``(0, "")`` for none)."""
        with self._using() as conn:
            row = conn.execute(
                "SELECT version, hash FROM events"
                f" WHERE finding_id = {self._PARAM} ORDER BY version DESC LIMIT 1",
                ("",),
            ).fetchone()
        return (0, "") if row is None else (int(row[0]), str(row[1]))

    def ledger_events(self, after: int = 0) -> tuple[Event, ...]:
        """Ledger-level events with a version above *after*, oldest first."""
        p = self._PARAM
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT {self._EVENT_COLUMNS} FROM events"
                f" WHERE finding_id = {p} AND version > {p} ORDER BY version",
                ("", after),
            ).fetchall()
        return tuple(self._load_event(r) for r in rows)

    def replace_inspection(self, inspection: Inspection) -> None:
        """Replace the row of a stored inspection."""
        data = _codec.dumps(_codec.unstructure(inspection))
        p = self._PARAM
        self._write(
            lambda conn: conn.execute(
                f"UPDATE inspections SET data = {p} WHERE id = {p}", (data, inspection.id)
            )
        )

    def put_record(self, kind: str, key: str, data: str) -> None:
        """Insert or replace one row of a ledger-level projection (actors, grants)."""
        p = self._PARAM
        self._write(
            lambda conn: conn.execute(
                f"INSERT INTO ledger_records (kind, id, data) VALUES ({p}, {p}, {p})"
                " ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
                (kind, key, data),
            )
        )

    def records(self, kind: str) -> list[tuple[str, str]]:
        """``(key, data)`` of every projection row of *kind*, by key."""
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT id, data FROM ledger_records WHERE kind = {self._PARAM}", (kind,)
            ).fetchall()
        return sorted((str(k), str(v)) for k, v in rows)

    # -- chain

    def chain_after(self, seq: int, limit: int) -> list[ChainEntry]:
        """At most *limit* committed entries with a ``seq`` above *seq*, by ``seq``."""
        p = self._PARAM
        with self._using() as conn:
            rows = conn.execute(
                f"SELECT seq, prev_hash, hash, {self._EVENT_COLUMNS} FROM events"
                f" WHERE seq > {p} ORDER BY seq LIMIT {p}",
                (seq, limit),
            ).fetchall()
        return [
            ChainEntry(int(s), self._load_event(columns), str(prev_hash), str(hash_))
            for s, prev_hash, hash_, *columns in rows
        ]

    def chain(self) -> Iterator[ChainEntry]:
        """Every stored event with its chain fields, by stored ``seq``, as stored."""
        p = self._PARAM
        after = 0
        while True:
            with self._using() as conn:
                rows = conn.execute(
                    f"SELECT seq, prev_hash, hash, {self._EVENT_COLUMNS} FROM events"
                    f" WHERE seq > {p} ORDER BY seq LIMIT {p}",
                    (after, _PAGE),
                ).fetchall()
            for seq, prev_hash, hash_, *columns in rows:
                yield ChainEntry(int(seq), self._load_event(columns), str(prev_hash), str(hash_))
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])
