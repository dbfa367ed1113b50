"""The in-memory backend: fast, not durable, same behaviour as the durable ones."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from rectflow._codec import event_json
from rectflow._model import Event, Finding, Inspection
from rectflow._roles import LEDGER
from rectflow._store.base import (
    GENESIS,
    AgendaQuery,
    ChainEntry,
    Head,
    check_append,
    check_record,
    hash_of,
)
from rectflow.exceptions import ConcurrencyConflict, DuplicateId

_LEDGER_UNDO = frozenset({"record_event", "inspection_row", "row"})


class _Transaction:
    """A memory store's all-or-nothing block: the outermost one undoes its writes on error.

    A class rather than a generator-based context manager: every write enters one.
    """

    __slots__ = ("outer", "store")

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.outer = False

    def __enter__(self) -> None:
        store = self.store
        store._lock.acquire()  # noqa: SLF001 - the store's own helper
        self.outer = store._depth == 0  # noqa: SLF001
        if self.outer:
            store._undo = []  # noqa: SLF001
        store._depth += 1  # noqa: SLF001

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        store = self.store
        try:
            if kind is not None and self.outer:
                store._rollback()  # noqa: SLF001
        finally:
            store._depth -= 1  # noqa: SLF001
            if self.outer:
                store._undo = None  # noqa: SLF001
            store._lock.release()  # noqa: SLF001


class MemoryStore:
    """A store in process memory: fast, not durable, same behaviour as the others.

    Thread-safe; writes inside :meth:`transaction` are undone together when it fails.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.RLock()
        self._inspections: dict[str, Inspection] = {}
        self._findings: dict[str, Finding] = {}
        # A finding's events: the event itself while it has one, then a list.
        self._events: dict[str, Event | list[Event]] = {}
        # The chain as two parallel lists: the events, and their hashes as raw digests
        # (a ChainEntry and a hex string per event cost three times as much).
        self._chain: list[Event] = []
        self._hashes: list[bytes] = []
        self._depth = 0
        self._undo: list[tuple[str, Any]] | None = None
        # Indexes for agenda queries: sorted (key, id) lists per state.
        self._by_deadline: dict[str, list[tuple[dt.date, str]]] = {}
        self._by_checkpoint: list[tuple[dt.date, str]] = []
        self._by_completed: list[tuple[dt.datetime, str]] = []
        self._by_recurring: list[tuple[dt.date, str]] = []
        self._meta: dict[str, str] = {}
        self._rows: dict[tuple[str, str], str] = {}  # ledger_records (issue 8)
        self._ledger: list[Event] = []  # the ledger-level events, in chain order
        self._ledger_seqs: list[int] = []  # and their places in the chain
        self._latest: tuple[int, dt.datetime | None] = (0, None)  # chain scanned, latest time

    # -- transactions

    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing block of writes."""
        return self._tx()

    def _rollback(self, since: int = 0) -> None:
        self._latest = (0, None)  # the chain shrinks: scan it anew
        undo = self._undo or []
        for kind, data in reversed(undo[since:]):
            if kind == "inspection":
                self._inspections.pop(data)
            elif kind in _LEDGER_UNDO:
                self._undo_ledger(kind, data)
            elif kind == "finding":
                finding_id, old = data
                new = self._findings.get(finding_id)
                if new is not None:
                    self._unindex(new)
                if old is None:
                    self._findings.pop(finding_id, None)
                    self._events.pop(finding_id, None)
                else:
                    self._findings[finding_id] = old
                    events = self._events[finding_id]
                    assert isinstance(events, list)  # noqa: S101 - it had two or more
                    events.pop()
                    if len(events) == 1:
                        self._events[finding_id] = events[0]
                    self._index(old)
                self._chain.pop()
                self._hashes.pop()
        del undo[since:]

    def latest_at(self) -> dt.datetime | None:
        """The latest time of any event on the chain (None: no event).

        Only the events appended since the last call are scanned.
        """
        with self._lock:
            scanned, latest = self._latest
            chain = self._chain
            if scanned > len(chain):
                scanned, latest = 0, None
            for event in itertools.islice(chain, scanned, None):
                if latest is None or event.at > latest:
                    latest = event.at
            self._latest = (len(chain), latest)
            return latest

    # -- indexes

    def _index(self, f: Finding) -> None:
        bisect.insort(self._by_deadline.setdefault(f.state, []), (f.deadline, f.id))
        if f.state == "staged_result" and f.next_checkpoint is not None:
            bisect.insort(self._by_checkpoint, (f.next_checkpoint, f.id))
        if f.state == "completed" and f.completed_at is not None:
            bisect.insort(self._by_completed, (f.completed_at, f.id))
        if (due := f.recurring_due) is not None:
            bisect.insort(self._by_recurring, (due, f.id))

    @staticmethod
    def _remove(seq: list[Any], key: Any) -> None:
        i = bisect.bisect_left(seq, key)
        if i < len(seq) and seq[i] == key:
            del seq[i]

    def _unindex(self, f: Finding) -> None:
        self._remove(self._by_deadline.get(f.state, []), (f.deadline, f.id))
        if f.state == "staged_result" and f.next_checkpoint is not None:
            self._remove(self._by_checkpoint, (f.next_checkpoint, f.id))
        if f.state == "completed" and f.completed_at is not None:
            self._remove(self._by_completed, (f.completed_at, f.id))
        if (due := f.recurring_due) is not None:
            self._remove(self._by_recurring, (due, f.id))

    # -- inspections

    def add_inspection(self, inspection: Inspection) -> None:
        """Store a new inspection."""
        with self._tx():
            if inspection.id in self._inspections:
                raise DuplicateId(inspection.id)
            self._inspections[inspection.id] = inspection
            assert self._undo is not None  # noqa: S101
            self._undo.append(("inspection", inspection.id))

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection, or None."""
        return self._inspections.get(inspection_id)

    def inspections(self) -> list[Inspection]:
        """All inspections."""
        return list(self._inspections.values())

    # -- findings

    def get(self, finding_id: str) -> Finding | None:
        """The current row, or None."""
        return self._findings.get(finding_id)

    def get_with_tip(self, finding_id: str) -> tuple[Finding | None, tuple[int, str]]:
        """The current row (or None) and the ledger tip."""
        with self._lock:
            return self._findings.get(finding_id), self.ledger_tip()

    def existing(self, finding_ids: Sequence[str]) -> set[str]:
        """Which of *finding_ids* are findings on the ledger."""
        return {i for i in finding_ids if i in self._findings}

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Append the event and replace the current row, version-checked."""
        check_append(event, finding, expected_version)
        with self._tx():
            old = self._findings.get(event.finding_id)
            actual = 0 if old is None else old.version
            if expected_version == 0 and old is not None:
                raise DuplicateId(event.finding_id)
            if actual != expected_version:
                raise ConcurrencyConflict(event.finding_id, expected_version, actual)
            seq = len(self._chain) + 1
            self._chain_append(event, hash_of(self._tip(), seq, event_json(event)))
            self._store(event, finding)

    def _tip(self) -> str:
        """The last entry's hash (``GENESIS`` for an empty chain)."""
        return self._hashes[-1].hex() if self._hashes else GENESIS

    def _chain_append(self, event: Event, digest: str) -> None:
        self._chain.append(event)
        self._hashes.append(bytes.fromhex(digest))

    def _store(self, event: Event, finding: Finding) -> None:
        """Keep *event* (already chained) and *finding* as its current row, undoably."""
        fid = event.finding_id
        old = self._findings.get(fid)
        if old is None:
            self._events[fid] = event
        else:
            events = self._events[fid]
            if isinstance(events, list):
                events.append(event)
            else:
                self._events[fid] = [events, event]
            self._unindex(old)
        self._findings[fid] = finding
        self._index(finding)
        assert self._undo is not None  # noqa: S101
        self._undo.append(("finding", (fid, old)))

    def append_many(
        self,
        items: Sequence[tuple[Event, Finding, int]],
        *,
        precondition: Callable[[], None] | None = None,
    ) -> None:
        """Append every item, all or nothing: every version is checked before anything is stored.

        The chain is hashed in one pass, each event's JSON encoded once;
        *precondition* runs first, under the store's lock.
        """
        batch = list(items)
        for event, finding, expected_version in batch:
            check_append(event, finding, expected_version)
        with self._tx():
            if precondition is not None:
                precondition()
            current: dict[str, int] = {}
            for event, _, expected_version in batch:
                fid = event.finding_id
                if fid not in current:
                    old = self._findings.get(fid)
                    current[fid] = 0 if old is None else old.version
                actual = current[fid]
                if expected_version == 0 and actual:
                    raise DuplicateId(fid)
                if actual != expected_version:
                    raise ConcurrencyConflict(fid, expected_version, actual)
                current[fid] = event.version
            assert self._undo is not None  # noqa: S101
            prev = self._tip()
            seq = len(self._chain)
            for event, finding, _ in batch:
                seq += 1
                prev = hash_of(prev, seq, event_json(event))
                self._chain_append(event, prev)
                self._store(event, finding)

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events."""
        events = self._events.get(finding_id)
        if events is None:
            return ()
        return tuple(events) if isinstance(events, list) else (events,)

    def findings(self, inspection: str | None = None) -> Iterator[Finding]:
        """Current rows in id order."""
        for key in sorted(self._findings):
            f = self._findings[key]
            if inspection is None or f.inspection == inspection:
                yield f

    def count(self, inspection: str | None = None) -> int:
        """Number of findings."""
        if inspection is None:
            return len(self._findings)
        return sum(1 for f in self._findings.values() if f.inspection == inspection)

    def select(self, query: AgendaQuery) -> Iterator[Finding]:
        """Findings matching *query* in id order, candidates taken from the sorted indexes."""
        with self._lock:
            ids: Iterable[str]
            if query.states is not None and not query.states:
                ids = ()
            elif query.checkpoint_before is not None:
                end = bisect.bisect_left(self._by_checkpoint, (query.checkpoint_before, ""))
                ids = [i for _, i in self._by_checkpoint[:end]]
            elif query.recurring_due_until is not None:
                end = bisect.bisect_right(
                    self._by_recurring, (query.recurring_due_until, "\U0010ffff")
                )
                ids = [i for _, i in self._by_recurring[:end]]
            elif query.completed_until is not None:
                end = bisect.bisect_right(self._by_completed, (query.completed_until, "\U0010ffff"))
                ids = [i for _, i in self._by_completed[:end]]
            else:
                states = query.states if query.states is not None else list(self._by_deadline)
                collected: list[str] = []
                for state in states:
                    index = self._by_deadline.get(state, [])
                    if query.deadline_until is None:
                        collected.extend(i for _, i in index)
                    else:
                        end = bisect.bisect_right(index, (query.deadline_until, "\U0010ffff"))
                        collected.extend(i for _, i in index[:end])
                ids = collected
            found = [self._findings[i] for i in ids]
        return iter(sorted((f for f in found if query.matches(f)), key=lambda f: f.id))

    # -- ledger-level events and rows (issue 8)

    def append_record(self, event: Event, expected_version: int) -> None:
        """Append a ledger-level event to the chain, if the ledger is at *expected_version*."""
        check_record(event, expected_version)
        with self._tx():
            if len(self._ledger) != expected_version:
                raise ConcurrencyConflict(LEDGER, expected_version, len(self._ledger))
            seq = len(self._chain) + 1
            self._chain_append(event, hash_of(self._tip(), seq, event_json(event)))
            self._ledger.append(event)
            self._ledger_seqs.append(seq)
            assert self._undo is not None  # noqa: S101
            self._undo.append(("record_event", None))

    def ledger_tip(self) -> tuple[int, str]:
        """The version and hash of the last ledger-level event (``(0, "")`` for none)."""
        with self._lock:
            if not self._ledger:
                return 0, ""
            return len(self._ledger), self._hashes[self._ledger_seqs[-1] - 1].hex()

    def ledger_events(self, after: int = 0) -> tuple[Event, ...]:
        """Ledger-level events with a version above *after*, oldest first."""
        return tuple(self._ledger[after:])

    def replace_inspection(self, inspection: Inspection) -> None:
        """Replace a stored inspection's row (its id must exist)."""
        with self._tx():
            old = self._inspections[inspection.id]
            self._inspections[inspection.id] = inspection
            assert self._undo is not None  # noqa: S101
            self._undo.append(("inspection_row", old))

    def put_record(self, kind: str, key: str, data: str) -> None:
        """Insert or replace a row of a ledger-level projection (actors, grants)."""
        with self._tx():
            old = self._rows.get((kind, key))
            self._rows[(kind, key)] = data
            assert self._undo is not None  # noqa: S101
            self._undo.append(("row", (kind, key, old)))

    def records(self, kind: str) -> list[tuple[str, str]]:
        """``(key, data)`` of every row of *kind*, by key."""
        return sorted((k, v) for (rk, k), v in self._rows.items() if rk == kind)

    def _undo_ledger(self, kind: str, data: Any) -> None:
        if kind == "record_event":
            self._ledger.pop()
            self._ledger_seqs.pop()
            self._chain.pop()
            self._hashes.pop()
        elif kind == "inspection_row":
            self._inspections[data.id] = data
        else:
            row_kind, key, old = data
            if old is None:
                del self._rows[(row_kind, key)]
            else:
                self._rows[(row_kind, key)] = old

    # -- settings

    def get_meta(self, key: str) -> str | None:
        """A ledger-level setting, or None."""
        return self._meta.get(key)

    def put_meta(self, key: str, value: str) -> None:
        """Record a ledger-level setting once."""
        with self._lock:
            if key in self._meta:
                raise DuplicateId(key)
            self._meta[key] = value

    # -- chain

    def chain(self) -> Iterator[ChainEntry]:
        """Every entry in order."""
        with self._lock:  # a snapshot, taken now
            events, hashes = list(self._chain), list(self._hashes)
        return _entries(events, hashes)

    def chain_after(self, seq: int, limit: int) -> list[ChainEntry]:
        """At most *limit* entries with a ``seq`` above *seq*, by ``seq``."""
        start = max(seq, 0)
        with self._lock:
            events = self._chain[start : start + limit]
            hashes = self._hashes[start : start + limit]
            prev = self._hashes[start - 1].hex() if 0 < start <= len(self._hashes) else GENESIS
        out = []
        for at, (event, digest) in enumerate(zip(events, hashes, strict=True), start=start + 1):
            text = digest.hex()
            out.append(ChainEntry(at, event, prev, text))
            prev = text
        return out

    def head(self) -> Head:
        """Count and last hash."""
        with self._lock:
            return Head(len(self._chain), self._tip())

    def close(self) -> None:
        """Nothing to release."""


def _entries(events: list[Event], hashes: list[bytes]) -> Iterator[ChainEntry]:
    """The chain entries of parallel lists of events and digests."""
    prev = GENESIS
    for seq, (event, digest) in enumerate(zip(events, hashes, strict=True), start=1):
        text = digest.hex()
        yield ChainEntry(seq, event, prev, text)
        prev = text
