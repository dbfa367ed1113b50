"""The storage protocol, the hash chain, and the in-memory backend.

Every backend keeps two things: an append-only chain of events (global,
gapless sequence numbers; each entry hashed over its canonical form and the
previous entry's hash) and a current row per finding carrying its version.
:meth:`Store.append` writes both in one transaction, and only if the finding
is still at the version the caller read: never last-writer-wins.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Final, NamedTuple, Protocol, runtime_checkable

import attrs

from rectflow import _codec
from rectflow._model import Event, Finding, Inspection
from rectflow.exceptions import ConcurrencyConflict, DuplicateId, InvalidInput

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first entry."""

SCHEMA_VERSION: Final = 3
"""The schema version of durable stores written by this rectflow.

1: events, current rows, inspections. 2: the current rows carry the agenda's
indexed columns (deadline, next checkpoint, completion time, recurring due day),
events their UTC time, and the event table refuses updates and deletes (see
``rectflow._migrations``).
"""


class Head(NamedTuple):
    """The head of a ledger's chain, ``(count, hash)``: keep it elsewhere.

    A plain tuple too, so a stored ``(count, hash)`` compares equal to it.

    Attributes:
        count: Number of entries in the chain.
        hash: The last entry's hash (``GENESIS`` for an empty chain).
    """

    count: int  # type: ignore[assignment]  # the field deliberately shadows tuple.count
    hash: str


@attrs.frozen
class ChainEntry:
    """One stored event with its place in the chain.

    Attributes:
        seq: Position in the chain, from 1, gapless.
        event: The event.
        prev_hash: The hash of the entry before (``GENESIS`` for the first).
        hash: This entry's hash as stored.
    """

    seq: int
    event: Event
    prev_hash: str
    hash: str


def canonical(seq: int, event: Event) -> str:
    """The canonical text of an event at position *seq* (what is hashed)."""
    data = _codec.unstructure(event)
    data["seq"] = seq
    return _codec.dumps(data)


def entry_hash(prev_hash: str, seq: int, event: Event) -> str:
    """SHA-256 over the previous hash and the event's canonical form."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(seq, event)}".encode()).hexdigest()


@attrs.frozen
class AgendaQuery:
    """Index-backed selections the agenda needs (all optional, ANDed).

    Every backend returns the matching findings in id order; :meth:`matches`
    is the reference meaning of a query.

    Attributes:
        inspection: Only this inspection's findings.
        states: Only findings in these states (an empty set selects nothing).
        deadline_until: Only findings whose deadline is on or before this day.
        checkpoint_before: Only findings in ``staged_result`` whose next
            checkpoint is before this day.
        completed_until: Only findings in ``completed`` signed off at or before
            this (aware) instant.
        recurring_due_until: Only findings whose ``recurring_due`` is on or before this day.
    """

    inspection: str | None = None
    states: frozenset[str] | None = None
    deadline_until: dt.date | None = None
    checkpoint_before: dt.date | None = None
    completed_until: dt.datetime | None = None
    recurring_due_until: dt.date | None = None

    def matches(self, finding: Finding) -> bool:
        """Whether *finding* is selected by this query."""
        f = finding
        if self.inspection is not None and f.inspection != self.inspection:
            return False
        if self.states is not None and f.state not in self.states:
            return False
        if self.deadline_until is not None and f.deadline > self.deadline_until:
            return False
        if self.checkpoint_before is not None and not (
            f.state == "staged_result"
            and f.next_checkpoint is not None
            and f.next_checkpoint < self.checkpoint_before
        ):
            return False
        if self.completed_until is not None and not (
            f.state == "completed"
            and f.completed_at is not None
            and f.completed_at <= self.completed_until
        ):
            return False
        if self.recurring_due_until is not None:
            due = f.recurring_due
            if due is None or due > self.recurring_due_until:
                return False
        return True


def check_append(event: Event, finding: Finding, expected_version: int) -> None:
    """Refuse an :meth:`Store.append` whose arguments do not fit together.

    The event must be the finding's next version: ``expected_version + 1``,
    equal to the new row's version, for the same finding.

    Raises:
        InvalidInput: When they do not fit (a programming error, not a conflict).
    """
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise InvalidInput(
            f"expected_version must be an int, not {expected_version!r}",
            field="expected_version",
            value=expected_version,
        )
    if event.finding_id != finding.id:
        raise InvalidInput(
            f"event for {event.finding_id!r} stored with finding {finding.id!r}",
            field="finding_id",
            value=finding.id,
        )
    if expected_version < 0 or not event.version == finding.version == expected_version + 1:
        raise InvalidInput(
            f"finding {finding.id}: event version {event.version} and row version "
            f"{finding.version} must both be expected_version + 1 = {expected_version + 1}",
            field="version",
            value=event.version,
        )


@runtime_checkable
class Store(Protocol):
    """What a ledger backend provides. Implementations: memory, SQLite, PostgreSQL."""

    def add_inspection(self, inspection: Inspection) -> None:
        """Store a new inspection; :class:`DuplicateId` if its id exists."""

    def get_inspection(self, inspection_id: str) -> Inspection | None:
        """The inspection, or None."""

    def inspections(self) -> list[Inspection]:
        """All inspections, in the order they were added."""

    def get(self, finding_id: str) -> Finding | None:
        """The finding's current row, or None."""

    def append(self, event: Event, finding: Finding, expected_version: int) -> None:
        """Append *event* and store *finding* (its state after the event) atomically.

        *expected_version* is the version the caller read: 0 for a new finding
        (``add``; :class:`DuplicateId` if it exists). When the stored version
        differs, nothing is written and :class:`ConcurrencyConflict` is raised.
        The event's and the row's version must be ``expected_version + 1``
        (:func:`check_append`; :class:`InvalidInput` otherwise). Inside a
        :meth:`transaction`, a refused append writes nothing and leaves the
        transaction usable.
        """

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events, oldest first."""

    def findings(self, inspection: str | None = None) -> Iterator[Finding]:
        """Current rows, of one inspection or all, in id order."""

    def select(self, query: AgendaQuery) -> Iterator[Finding]:
        """Current rows matching *query* (:meth:`AgendaQuery.matches`), in id order.

        Durable backends answer it from indexes rather than a full scan.
        """

    def count(self, inspection: str | None = None) -> int:
        """Number of findings."""

    def chain(self) -> Iterator[ChainEntry]:
        """Every stored event with its chain fields, by stored ``seq``, as stored.

        Nothing is renumbered or re-sorted beyond ``seq``, so that tampering shows.
        """

    def head(self) -> Head:
        """Count and last hash of the chain."""

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all; nests (joins the outer one)."""

    def get_meta(self, key: str) -> str | None:
        """A ledger-level setting (e.g. ``"policy"``), or None."""

    def put_meta(self, key: str, value: str) -> None:
        """Record a ledger-level setting once; it is never overwritten.

        Raises:
            DuplicateId: When *key* is already recorded.
        """

    def close(self) -> None:
        """Release connections and files."""


class MemoryStore:
    """A store in process memory: fast, not durable, same behaviour as the others.

    Thread-safe; writes inside :meth:`transaction` are undone together when it fails.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.RLock()
        self._inspections: dict[str, Inspection] = {}
        self._findings: dict[str, Finding] = {}
        self._events: dict[str, list[Event]] = {}
        self._chain: list[ChainEntry] = []
        self._depth = 0
        self._undo: list[tuple[str, Any]] | None = None
        # Indexes for agenda queries: sorted (key, id) lists per state.
        self._by_deadline: dict[str, list[tuple[dt.date, str]]] = {}
        self._by_checkpoint: list[tuple[dt.date, str]] = []
        self._by_completed: list[tuple[dt.datetime, str]] = []
        self._by_recurring: list[tuple[dt.date, str]] = []
        self._meta: dict[str, str] = {}

    # -- transactions

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._undo = []
            self._depth += 1
            try:
                yield
            except BaseException:
                if outer:
                    self._rollback()
                raise
            finally:
                self._depth -= 1
                if outer:
                    self._undo = None

    def transaction(self) -> AbstractContextManager[None]:
        """All-or-nothing block of writes."""
        return self._tx()

    def _rollback(self) -> None:
        for kind, data in reversed(self._undo or []):
            if kind == "inspection":
                self._inspections.pop(data)
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
                    self._events[finding_id].pop()
                    self._index(old)
                self._chain.pop()

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
            prev = self._chain[-1].hash if self._chain else GENESIS
            seq = len(self._chain) + 1
            self._chain.append(ChainEntry(seq, event, prev, entry_hash(prev, seq, event)))
            self._events.setdefault(event.finding_id, []).append(event)
            if old is not None:
                self._unindex(old)
            self._findings[event.finding_id] = finding
            self._index(finding)
            assert self._undo is not None  # noqa: S101
            self._undo.append(("finding", (event.finding_id, old)))

    def history(self, finding_id: str) -> tuple[Event, ...]:
        """The finding's events."""
        return tuple(self._events.get(finding_id, ()))

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
        return iter(list(self._chain))

    def head(self) -> Head:
        """Count and last hash."""
        if not self._chain:
            return Head(0, GENESIS)
        return Head(len(self._chain), self._chain[-1].hash)

    def close(self) -> None:
        """Nothing to release."""
