"""The storage protocol, the hash chain, and the in-memory backend.

Every backend keeps two things: an append-only chain of events (global,
gapless sequence numbers; each entry hashed over its canonical form and the
previous entry's hash) and a current row per finding carrying its version.
:meth:`Store.append` writes both in one transaction, and only if the finding
is still at the version the caller read: never last-writer-wins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Final, NamedTuple, Protocol, runtime_checkable

import attrs

from rectflow import _codec
from rectflow._model import Event, Finding, Inspection
from rectflow.exceptions import InvalidInput

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first entry."""

SCHEMA_VERSION: Final = 4
"""The schema version of durable stores written by this rectflow.

1: events, current rows, inspections. 2: the current rows carry the agenda's
indexed columns (deadline, next checkpoint, completion time, recurring due day),
events their UTC time, and the event table refuses updates and deletes (see
``rectflow._store.migrations``). 3: ``ledger_meta`` (the recorded policy).
4: ``ledger_records`` (actors and role grants) and ledger-level events in the
chain: inspections already stored get their ``add_inspection`` event.
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
    return canonical_of(seq, _codec.event_json(event))


def canonical_of(seq: int, data: str) -> str:
    """:func:`canonical` from the event's stored JSON (:func:`rectflow._codec.event_json`).

    The canonical form is the event's JSON with ``"seq"`` added; with sorted keys
    it sits just before ``"version"``, the last key, whose value is an integer,
    so it is spliced in rather than the whole event encoded again.
    """
    cut = data.rfind(',"version":')
    return f'{data[:cut]},"seq":{seq}{data[cut:]}'


def entry_hash(prev_hash: str, seq: int, event: Event) -> str:
    """SHA-256 over the previous hash and the event's canonical form."""
    return hash_of(prev_hash, seq, _codec.event_json(event))


def hash_of(prev_hash: str, seq: int, data: str) -> str:
    """:func:`entry_hash` from the event's stored JSON (encoded once for row and hash)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_of(seq, data)}".encode()).hexdigest()


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


def check_record(event: Event, expected_version: int) -> None:
    """Refuse an :meth:`Store.append_record` whose arguments do not fit together.

    The event must be a ledger-level one (``finding_id`` empty) at version
    ``expected_version + 1``.

    Raises:
        InvalidInput: When they do not fit.
    """
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise InvalidInput(
            f"expected_version must be an int, not {expected_version!r}",
            field="expected_version",
            value=expected_version,
        )
    if event.finding_id != "" or event.version != expected_version + 1 or expected_version < 0:
        raise InvalidInput(
            f"a ledger-level event needs an empty finding_id and version {expected_version + 1},"
            f" not {event.finding_id!r} at {event.version}",
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

    def get_with_tip(self, finding_id: str) -> tuple[Finding | None, tuple[int, str]]:
        """The finding's current row (or None) and :meth:`ledger_tip`, read together.

        What :meth:`rectflow.Ledger.fire` reads before it writes: PostgreSQL
        answers both in one round trip.
        """

    def existing(self, finding_ids: Sequence[str]) -> set[str]:
        """Which of *finding_ids* are findings on the ledger (one read for many ids)."""

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

    def append_many(
        self,
        items: Sequence[tuple[Event, Finding, int]],
        *,
        precondition: Callable[[], None] | None = None,
    ) -> None:
        """Append many ``(event, finding, expected_version)`` at once, all or nothing.

        The same checks as :meth:`append` for each item, in order (an item may
        follow an earlier item of the same finding); the first refusal raises its
        error and nothing of *items* is stored. *precondition* is called once under
        the store's write lock before anything is written (what it raises refuses
        the whole bulk): the ledger re-checks there what it admitted earlier. The
        bulk path of imports and of :meth:`rectflow.Ledger.batch`.
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

    def chain_after(self, seq: int, limit: int) -> list[ChainEntry]:
        """At most *limit* committed entries with a ``seq`` above *seq*, by ``seq``.

        The event cursor (:meth:`rectflow.Ledger.events_since`): a page of the
        chain read by its sequence number, so that a reader in another process
        resumes where it stopped.
        """

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all; nests (joins the outer one)."""

    def append_record(self, event: Event, expected_version: int) -> None:
        """Append a ledger-level event (inspection, actor, role, report) to the chain.

        Its ``finding_id`` is empty and its ``version`` is ``expected_version + 1``,
        the ledger's own count of such events (:func:`check_record`); when another
        writer appended one first, :class:`ConcurrencyConflict` and nothing written.
        """

    def ledger_tip(self) -> tuple[int, str]:
        """The version and hash of the last ledger-level event (``(0, "")`` for none).

        A cheap probe: while it is unchanged no ledger-level event was appended or
        rolled back, so a state replayed from :meth:`ledger_events` is current.
        """

    def ledger_events(self, after: int = 0) -> tuple[Event, ...]:
        """The ledger-level events with a version above *after*, oldest first."""

    def replace_inspection(self, inspection: Inspection) -> None:
        """Replace the row of an inspection already stored (a change recorded in the chain)."""

    def put_record(self, kind: str, key: str, data: str) -> None:
        """Insert or replace one row of a ledger-level projection (``actor``, ``grant``)."""

    def records(self, kind: str) -> list[tuple[str, str]]:
        """``(key, data)`` of every projection row of *kind*, by key."""

    def get_meta(self, key: str) -> str | None:
        """A ledger-level setting (e.g. ``"policy"``), or None."""

    def put_meta(self, key: str, value: str) -> None:
        """Record a ledger-level setting once; it is never overwritten.

        Raises:
            DuplicateId: When *key* is already recorded.
        """

    def close(self) -> None:
        """Release connections and files."""
