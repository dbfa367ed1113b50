"""One contract for every storage backend, run against memory, SQLite and PostgreSQL.

``StoreContract`` holds the behaviour all three share; ``DurableStoreContract``
adds what only a durable backend can show (reopening, other connections,
indexes, the engine refusing edits). Each backend subclasses them once and
only says how to open a store and how to run plain SQL against it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pendulum
import pytest

from rectflow import Event, Finding, Inspection, Ledger, Owner
from rectflow._store.base import (
    GENESIS,
    SCHEMA_VERSION,
    AgendaQuery,
    Head,
    Store,
    entry_hash,
)
from rectflow._store.memory import MemoryStore
from rectflow._store.migrations import utc_micros
from rectflow._store.sqlite import SqliteStore
from rectflow.exceptions import (
    ConcurrencyConflict,
    DuplicateId,
    InvalidInput,
    StorageError,
)

try:
    from rectflow._store.postgres import PostgresStore, split_schema
except ImportError:  # no 'postgres' extra: the PostgreSQL tests skip (or fail under CI) via pg_url
    PostgresStore = split_schema = None  # type: ignore[assignment,misc]

SH = "Asia/Shanghai"

QUERIES = (
    AgendaQuery(),
    AgendaQuery(inspection="R0"),
    AgendaQuery(inspection="nope"),
    AgendaQuery(states=frozenset()),
    AgendaQuery(states=frozenset({"assigned", "in_progress", "staged_result", "pending_signoff"})),
    AgendaQuery(states=frozenset({"cancelled"})),
    AgendaQuery(deadline_until=dt.date(2024, 1, 31)),
    AgendaQuery(deadline_until=dt.date(2024, 1, 30)),
    AgendaQuery(deadline_until=dt.date(2023, 1, 1)),
    AgendaQuery(states=frozenset({"in_progress", "assigned"}), deadline_until=dt.date(2024, 2, 10)),
    AgendaQuery(
        inspection="R1", states=frozenset({"staged_result"}), deadline_until=dt.date(2024, 3, 31)
    ),
    AgendaQuery(checkpoint_before=dt.date(2024, 2, 1)),
    AgendaQuery(checkpoint_before=dt.date(2024, 2, 2)),
    AgendaQuery(checkpoint_before=dt.date(2024, 3, 2)),
    AgendaQuery(checkpoint_before=dt.date(2024, 3, 2), deadline_until=dt.date(2024, 3, 1)),
    AgendaQuery(completed_until=pendulum.datetime(2024, 1, 22, 9, 0, 0, 1, tz=SH)),
    AgendaQuery(completed_until=pendulum.datetime(2024, 1, 22, 1, 0, 0, 0, tz="UTC")),
    AgendaQuery(completed_until=pendulum.datetime(2030, 1, 1, tz=SH), inspection="R0"),
    AgendaQuery(
        completed_until=pendulum.datetime(2030, 1, 1, tz=SH), checkpoint_before=dt.date(2030, 1, 1)
    ),
    AgendaQuery(recurring_due_until=dt.date(2024, 3, 1)),
    AgendaQuery(recurring_due_until=dt.date(2024, 2, 29)),
    AgendaQuery(recurring_due_until=dt.date(2024, 3, 1), states=frozenset({"completed"})),
)
"""Each criterion alone (on and just past its boundaries) and combined."""


def next_write(ledger: Ledger, fid: str, name: str, **payload: Any) -> tuple[Event, Finding]:
    """The event and row a writer that reads *fid* now would append (nothing is written)."""
    current = ledger.get(fid)
    at = current.updated_at
    event = Event(fid, name, at, "李主任", "说明", ("e.pdf",), payload)
    after = ledger.workflow.apply(current, event)
    return attrs.evolve(event, version=after.version), after


def open_reference() -> Ledger:
    """A memory ledger with inspection R1, to compute the items of a bulk from."""
    from store_support import open_test_ledger  # noqa: PLC0415

    ledger: Ledger = open_test_ledger(MemoryStore())
    ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05")
    return ledger


def bulk_items(reference: Ledger, n: int) -> list[tuple[Event, Finding, int]]:
    """Add *n* findings to *reference*, fire start and extend on each, and return every append.

    The items interleave findings (all adds, then all starts, then all extends),
    as a batch of several writers' work would.
    """
    items: list[tuple[Event, Finding, int]] = []
    original = reference.store.append

    def record(event: Event, finding: Finding, expected_version: int) -> None:
        items.append((event, finding, expected_version))
        original(event, finding, expected_version)

    reference.store.append = record  # type: ignore[method-assign]
    try:
        ids = [f"B{i:03d}" for i in range(n)]
        for fid in ids:
            reference.add_finding(
                fid,
                inspection="R1",
                title=f"问题 {fid}",
                kind="deadline",
                owner=Owner("张校长", "办公室", "王老师"),
                deadline="2024-03-01",
                actor="整改办",
                at="2024-01-08T09:00:00.5+08:00",
            )
        for fid in ids:
            reference.fire(fid, "start", actor="王老师", at="2024-01-09T09:00:00Z")
        for fid in ids:
            reference.fire(
                fid,
                "extend",
                actor="李主任",
                at="2024-01-10T09:00:00+08:00",
                requested_by="王老师",
                until="2024-04-01",
                reason="等待设备",
            )
    finally:
        del reference.store.append
    return items


def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything a store holds, for before/after comparisons."""
    findings = list(store.findings())
    return (
        store.head(),
        store.inspections(),
        findings,
        [store.history(f.id) for f in findings],
        list(store.chain()),
        store.count(),
    )


class StoreContract:
    """The behaviour every backend shares."""

    @pytest.fixture
    def store(self) -> Store:
        """The store under test (each backend's subclass provides it)."""
        raise NotImplementedError

    @pytest.fixture
    def ledger(self, store: Store, make_ledger: Callable[[Any], Ledger]) -> Ledger:
        """A ledger over the store under test."""
        return make_ledger(store)

    @pytest.fixture
    def sample(self, ledger: Ledger, populate: Callable[[Ledger], None]) -> Ledger:
        """The ledger filled with the sample findings."""
        populate(ledger)
        return ledger

    @pytest.fixture
    def reference(
        self, make_ledger: Callable[[Any], Ledger], populate: Callable[[Ledger], None]
    ) -> Ledger:
        """The same sample in the memory backend."""
        ledger = make_ledger(MemoryStore())
        populate(ledger)
        return ledger

    # -- basics

    def test_satisfies_the_protocol(self, store: Store) -> None:
        """The backend implements every method of the Store protocol."""
        assert isinstance(store, Store)

    def test_empty_store(self, store: Store) -> None:
        """A new store has no inspections, findings or events and a genesis head."""
        assert store.head() == Head(0, GENESIS)
        assert tuple(store.head()) == (0, GENESIS)
        assert store.count() == 0
        assert store.count("R1") == 0
        assert list(store.findings()) == []
        assert list(store.chain()) == []
        assert store.inspections() == []
        assert store.get("A") is None
        assert store.get_inspection("R1") is None
        assert store.history("A") == ()
        assert list(store.select(AgendaQuery())) == []

    def test_inspections_round_trip_in_insertion_order(self, store: Store) -> None:
        """Inspections come back equal, in the order they were added (not id order)."""
        added = [
            Inspection(
                "R2",
                "第二轮巡察",
                dt.date(2024, 1, 5),
                28,
                pendulum.datetime(2024, 1, 5, 10, tz=SH),
            ),
            Inspection("R10", "审计", dt.date(2024, 2, 1), None, None),
            Inspection(
                "R1",
                '督查 "quoted"',
                dt.date(2023, 11, 23),
                0,
                pendulum.datetime(2023, 11, 23, tz="UTC"),
            ),
        ]
        for inspection in added:
            store.add_inspection(inspection)
        assert store.inspections() == added
        assert store.get_inspection("R10") == added[1]

    def test_duplicate_inspection_is_refused(self, store: Store) -> None:
        """A second inspection with the same id raises DuplicateId and changes nothing."""
        store.add_inspection(Inspection("R1", "a", dt.date(2024, 1, 5)))
        with pytest.raises(DuplicateId) as info:
            store.add_inspection(Inspection("R1", "b", dt.date(2024, 1, 6)))
        assert info.value.id == "R1"
        assert [i.title for i in store.inspections()] == ["a"]

    def test_findings_events_and_chain_round_trip(self, sample: Ledger, reference: Ledger) -> None:
        """Findings, histories and inspections read back equal to what the memory backend holds."""
        store = sample.store
        assert list(store.findings()) == list(reference.store.findings())
        assert store.inspections() == reference.store.inspections()
        for f in reference.store.findings():
            assert store.get(f.id) == f
            assert store.history(f.id) == reference.store.history(f.id)
        assert store.count() == 8
        assert store.count("R0") == 2

    def test_times_keep_their_offset_and_microseconds(self, sample: Ledger) -> None:
        """Event times come back with the offset and microseconds they were written with."""
        history = sample.history("A")
        assert [e.at.isoformat() for e in history[:3]] == [
            "2024-01-08T09:00:00.123456+08:00",
            "2024-01-09T09:00:00+08:00",
            "2024-01-10T01:00:00+00:00",
        ]
        assert sample.get("1.10").completed_at == pendulum.datetime(2024, 1, 22, 9, 0, 0, 1, tz=SH)

    def test_append_many_writes_all_in_order(self, sample: Ledger, reference: Ledger) -> None:
        """append_many stores several events of one finding in order, same head as one by one."""
        items = []
        for ledger in (sample, reference):
            event, after = next_write(ledger, "A", "spot_check", seed=7)
            items.append((event, after))
        sample.store.append_many([(items[0][0], items[0][1], items[0][1].version - 1)])
        reference.store.append(items[1][0], items[1][1], items[1][1].version - 1)
        assert sample.store.head() == reference.store.head()
        assert sample.store.get("A") == reference.store.get("A")

    def test_append_many_is_all_or_nothing(self, sample: Ledger) -> None:
        """A refused item in append_many leaves nothing of the batch stored."""
        store = sample.store
        before = snapshot(store)
        good, after = next_write(sample, "A", "spot_check", seed=7)
        stale = (good, after, after.version - 1)
        with pytest.raises(ConcurrencyConflict):
            store.append_many([stale, stale])  # the second finds A already moved
        assert snapshot(store) == before
        with store.transaction(), pytest.raises(ConcurrencyConflict):
            store.append_many([stale, stale])
        assert snapshot(store) == before

    # -- the bulk path (issue 10)

    def test_append_many_bulk_equals_one_by_one(
        self, ledger: Ledger, make_ledger: Callable[[Any], Ledger]
    ) -> None:
        """A bulk of adds and moves (several per finding) stores what one-by-one appends store."""
        reference = make_ledger(MemoryStore())
        for target in (ledger, reference):
            target.add_inspection("R1", title="巡察", feedback_at="2024-01-05")
        items = bulk_items(reference, 30)
        ledger.store.append_many(items)
        assert snapshot(ledger.store) == snapshot(reference.store)
        assert ledger.verify()

    def test_append_many_refuses_a_duplicate_add(self, ledger: Ledger) -> None:
        """Adding a finding twice in one bulk, or one that exists, is DuplicateId and stores nothing."""
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05")
        reference = open_reference()
        items = bulk_items(reference, 3)
        adds = [item for item in items if item[2] == 0]
        before = snapshot(ledger.store)
        with pytest.raises(DuplicateId) as info:
            ledger.store.append_many([*adds, adds[1]])
        assert info.value.id == adds[1][0].finding_id
        assert snapshot(ledger.store) == before
        ledger.store.append_many(adds[:1])
        after_one = snapshot(ledger.store)
        with pytest.raises(DuplicateId):
            ledger.store.append_many(adds)
        assert snapshot(ledger.store) == after_one

    def test_append_many_conflict_names_the_versions(self, ledger: Ledger) -> None:
        """A stale item in a bulk is ConcurrencyConflict with the stored version; nothing is stored."""
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05")
        items = bulk_items(open_reference(), 4)
        ledger.store.append_many([item for item in items if item[2] == 0])
        before = snapshot(ledger.store)
        moves = [item for item in items if item[2] > 0]
        twice = [moves[1], moves[0], moves[0]]  # the third finds B000 moved by the second
        with pytest.raises(ConcurrencyConflict) as info:
            ledger.store.append_many(twice)
        assert (info.value.finding_id, info.value.expected, info.value.actual) == ("B000", 1, 2)
        assert snapshot(ledger.store) == before
        with pytest.raises(ConcurrencyConflict) as info:
            ledger.store.append_many([moves[4]])  # extend expects version 2, the row is at 1
        assert (info.value.expected, info.value.actual) == (2, 1)
        assert snapshot(ledger.store) == before

    def test_append_many_refusal_inside_a_transaction_keeps_it_usable(self, ledger: Ledger) -> None:
        """Inside a transaction a refused bulk writes nothing and the rest still commits."""
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05")
        items = bulk_items(open_reference(), 2)
        adds = [item for item in items if item[2] == 0]
        with ledger.store.transaction():
            ledger.store.append_many(adds[:1])
            with pytest.raises(DuplicateId):
                ledger.store.append_many(adds)
            ledger.store.append_many(adds[1:])
        assert ledger.store.count() == 2
        assert ledger.head().count == 3  # the inspection's event and the two adds

    def test_append_many_empty_is_a_no_op(self, store: Store) -> None:
        """An empty bulk stores nothing and raises nothing."""
        store.append_many([])
        assert store.head() == Head(0, GENESIS)

    def test_existing_names_the_ids_on_the_ledger(self, sample: Ledger) -> None:
        """existing() gives which ids are findings (any number, in pages; none for no ids)."""
        store = sample.store
        ids = [f.id for f in store.findings()]
        assert ids
        asked = [f"missing-{i}" for i in range(1200)] + ids + ["", ids[0]]
        assert store.existing(asked) == set(ids)
        assert store.existing([]) == set()
        assert store.existing(["nope"]) == set()

    def test_head_is_identical_across_backends(self, sample: Ledger, reference: Ledger) -> None:
        """The same operations give the same chain head on every backend (hashing is deterministic)."""
        assert sample.head() == reference.head()
        assert sample.head().count == 29  # 27 finding events, 2 inspections

    def test_chain_is_in_seq_order_and_linked(self, sample: Ledger) -> None:
        """The chain comes back by seq, 1..n, each entry linked to and hashed over the previous one."""
        entries = list(sample.store.chain())
        assert [e.seq for e in entries] == list(range(1, 30))
        prev = GENESIS
        for e in entries:
            assert e.prev_hash == prev
            assert e.hash == entry_hash(prev, e.seq, e.event)
            prev = e.hash
        assert sample.head() == Head(29, prev)

    def test_verify_passes_with_anchor(self, sample: Ledger) -> None:
        """An untouched ledger verifies against its own head."""
        result = sample.verify(anchor=sample.head())
        assert result.ok, result.problems
        assert result.head == sample.head()

    def test_findings_in_id_order_and_by_inspection(self, sample: Ledger) -> None:
        """Findings come in code-point id order, optionally of one inspection."""
        assert [f.id for f in sample.store.findings()] == [
            "1.10",
            "1.9",
            "A",
            "B",
            "F",
            "G",
            "H",
            "整改-3",
        ]
        assert [f.id for f in sample.store.findings("R0")] == ["F", "G"]
        assert list(sample.store.findings("nope")) == []

    @pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
    def test_select_matches_the_reference_meaning(self, sample: Ledger, query: AgendaQuery) -> None:
        """select() returns exactly the findings AgendaQuery.matches accepts, in id order."""
        expected = [f.id for f in sample.store.findings() if query.matches(f)]
        assert [f.id for f in sample.store.select(query)] == expected

    def test_select_boundaries(self, sample: Ledger) -> None:
        """Deadlines and completions are inclusive, checkpoints strict, as documented."""
        ids = lambda q: [f.id for f in sample.store.select(q)]  # noqa: E731
        assert ids(AgendaQuery(deadline_until=dt.date(2024, 1, 20))) == ["1.9"]
        assert ids(AgendaQuery(checkpoint_before=dt.date(2024, 2, 1))) == []
        assert ids(AgendaQuery(checkpoint_before=dt.date(2024, 2, 2))) == ["H"]
        exact = pendulum.datetime(2024, 1, 22, 9, 0, 0, 1, tz=SH)
        assert ids(AgendaQuery(completed_until=exact)) == ["1.10"]
        assert ids(AgendaQuery(completed_until=exact - dt.timedelta(microseconds=1))) == []
        assert ids(AgendaQuery(recurring_due_until=dt.date(2024, 3, 1))) == ["A"]
        assert ids(AgendaQuery(recurring_due_until=dt.date(2024, 2, 29))) == []

    def test_ledger_state_filter_uses_select(self, sample: Ledger) -> None:
        """Ledger.findings(state=…) returns the findings in that state."""
        assert [f.id for f in sample.findings(state="staged_result")] == ["B", "H"]

    # -- versions and conflicts

    def test_append_conflict_writes_nothing(self, sample: Ledger) -> None:
        """Two writers read the same version: the second append raises ConcurrencyConflict, nothing written."""
        store = sample.store
        first = next_write(sample, "G", "cancel", reason="重复")
        second = next_write(
            sample, "G", "extend", requested_by="王老师", until="2024-02-20", reason="r"
        )
        store.append(*first, expected_version=3)
        before = snapshot(store)
        with pytest.raises(ConcurrencyConflict) as info:
            store.append(*second, expected_version=3)
        assert (info.value.finding_id, info.value.expected, info.value.actual) == ("G", 3, 4)
        assert snapshot(store) == before
        assert store.get("G").state == "cancelled"

    def test_fire_with_stale_expected_version(self, sample: Ledger) -> None:
        """fire(expected_version=) with a stale version raises ConcurrencyConflict and writes nothing."""
        before = snapshot(sample.store)
        with pytest.raises(ConcurrencyConflict) as info:
            sample.fire("G", "cancel", actor="李主任", reason="重复", expected_version=2)
        assert (info.value.expected, info.value.actual) == (2, 3)
        assert snapshot(sample.store) == before
        assert (
            sample.fire("G", "cancel", actor="李主任", reason="重复", expected_version=3).version
            == 4
        )

    def test_adding_an_existing_finding_is_a_duplicate(self, sample: Ledger) -> None:
        """append(expected_version=0) for an existing finding raises DuplicateId and writes nothing."""
        store = sample.store
        add = store.history("1.9")[0]
        row = sample.workflow.create(add)
        before = snapshot(store)
        with pytest.raises(DuplicateId):
            store.append(add, row, 0)
        assert snapshot(store) == before

    def test_append_to_a_missing_finding_conflicts(self, sample: Ledger) -> None:
        """Appending version 2 of a finding that does not exist raises ConcurrencyConflict(actual=0)."""
        event, after = next_write(sample, "1.9", "start")
        ghost_event = attrs.evolve(event, finding_id="ghost")
        ghost = attrs.evolve(after, id="ghost")
        before = snapshot(sample.store)
        with pytest.raises(ConcurrencyConflict) as info:
            sample.store.append(ghost_event, ghost, 1)
        assert (info.value.finding_id, info.value.expected, info.value.actual) == ("ghost", 1, 0)
        assert snapshot(sample.store) == before

    def test_mismatched_arguments_are_refused(self, sample: Ledger) -> None:
        """An event whose version is not expected_version + 1 is a programming error: InvalidInput."""
        event, after = next_write(sample, "1.9", "start")
        before = snapshot(sample.store)
        with pytest.raises(InvalidInput):
            sample.store.append(event, after, 2)
        with pytest.raises(InvalidInput):
            sample.store.append(attrs.evolve(event, finding_id="A"), after, 1)
        assert snapshot(sample.store) == before

    # -- transactions

    def test_transaction_commits_everything(
        self, ledger: Ledger, populate: Callable[[Ledger], None], reference: Ledger
    ) -> None:
        """Writes inside one transaction are all there after it."""
        with ledger.batch():
            populate(ledger)
        assert snapshot(ledger.store) == snapshot(reference.store)

    def test_transaction_rolls_back_everything(self, sample: Ledger) -> None:
        """An exception inside a transaction undoes every write in it, inspections included."""
        before = snapshot(sample.store)

        def fails_midway() -> None:
            with sample.batch():
                sample.add_inspection(
                    "R9", title="新巡察", feedback_at="2024-01-05", at="2024-01-06T09:00:00+08:00"
                )
                sample.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
                sample.fire("G", "cancel", actor="李主任", reason="重复")
                raise RuntimeError("midway")

        with pytest.raises(RuntimeError, match="midway"):
            fails_midway()
        assert snapshot(sample.store) == before

    def test_nested_transactions_join_the_outer_one(self, sample: Ledger) -> None:
        """A completed inner transaction is still undone when the outer one fails."""
        before = snapshot(sample.store)

        def outer_fails() -> None:
            with sample.batch():
                with sample.batch():
                    sample.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
                assert sample.get("1.9").state == "in_progress"
                raise RuntimeError("outer")

        with pytest.raises(RuntimeError, match="outer"):
            outer_fails()
        assert snapshot(sample.store) == before

    def test_failed_write_inside_a_transaction_leaves_it_usable(self, sample: Ledger) -> None:
        """A refused append inside a transaction writes nothing; it goes on and commits the rest."""
        store = sample.store
        stale = next_write(sample, "G", "cancel", reason="重复")
        with store.transaction():  # the store's own: a ledger batch buffers its fires
            sample.fire("G", "cancel", actor="李主任", reason="重复")
            with pytest.raises(ConcurrencyConflict):
                store.append(*stale, expected_version=3)
            with pytest.raises(DuplicateId):
                store.add_inspection(Inspection("R1", "again", dt.date(2024, 1, 5)))
            sample.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
            assert sample.get("1.9").version == 2  # reads see the batch's own writes
        assert [e.name for e in store.history("G")] == ["add", "start", "extend", "cancel"]
        assert store.get("1.9").state == "in_progress"
        assert sample.head().count == 31
        assert sample.verify().ok

    def test_rollback_then_more_writes_keep_the_chain_gapless(self, sample: Ledger) -> None:
        """After a rolled-back batch the next event takes the next seq: no gap, chain verifies."""

        def rolled_back() -> None:
            with sample.batch():
                sample.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError, match="rolled back"):
            rolled_back()
        sample.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
        assert [e.seq for e in sample.store.chain()][-2:] == [29, 30]
        assert sample.verify(anchor=sample.head()).ok


class DurableStoreContract(StoreContract):
    """What a durable backend adds: reopening, other connections, indexes, engine-enforced append-only."""

    @pytest.fixture
    def target(self) -> str:
        """Where the store lives (each backend's subclass provides it)."""
        raise NotImplementedError

    @pytest.fixture
    def open_store(self, target: str) -> Iterator[Callable[[], Store]]:
        """Open another store on the same target; closed after the test."""
        opened: list[Store] = []

        def open_() -> Store:
            opened.append(self.store_class(target))
            return opened[-1]

        yield open_
        for s in opened:
            s.close()

    @pytest.fixture
    def store(self, open_store: Callable[[], Store]) -> Store:
        """The store under test."""
        return open_store()

    @pytest.fixture
    def raw(self) -> Callable[..., list[Any]]:
        """Plain SQL against the store (each backend's subclass provides it)."""
        raise NotImplementedError

    store_class: Callable[[str], Store]
    placeholder = "?"

    def explain(
        self, raw: Callable[..., list[Any]], statement: str, params: tuple[Any, ...]
    ) -> str:
        """The plan of *statement* as text."""
        raise NotImplementedError

    def test_reopening_keeps_everything(
        self, sample: Ledger, open_store: Callable[[], Store], make_ledger: Callable[[Any], Ledger]
    ) -> None:
        """Closing and reopening gives back the same findings, histories, chain and head; it verifies."""
        before = snapshot(sample.store)
        anchor = sample.head()
        sample.close()
        again = make_ledger(open_store())
        assert snapshot(again.store) == before
        assert again.verify(anchor=anchor).ok

    def test_schema_version_is_recorded(self, store: Store, raw: Callable[..., list[Any]]) -> None:
        """The store records the schema version this rectflow writes."""
        assert raw("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]

    def test_other_connections_see_committed_writes_only(
        self, sample: Ledger, open_store: Callable[[], Store]
    ) -> None:
        """A second connection sees a batch's writes only once it commits."""
        other = open_store()
        with sample.batch():
            sample.fire("1.9", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
            assert other.get("1.9").state == "assigned"
            assert other.head().count == 29
        assert other.get("1.9").state == "in_progress"
        assert other.head() == sample.head()

    def test_version_check_holds_across_connections(
        self, sample: Ledger, open_store: Callable[[], Store]
    ) -> None:
        """Two connections write from the same read: the second gets ConcurrencyConflict, not last-writer-wins."""
        other = open_store()
        mine = next_write(sample, "G", "cancel", reason="重复")
        theirs = next_write(
            sample, "G", "extend", requested_by="王老师", until="2024-02-20", reason="r"
        )
        other.append(*theirs, expected_version=3)
        with pytest.raises(ConcurrencyConflict) as info:
            sample.store.append(*mine, expected_version=3)
        assert (info.value.expected, info.value.actual) == (3, 4)
        assert sample.store.get("G") == theirs[1]
        assert [e.name for e in sample.store.history("G")][-1] == "extend"

    def test_events_are_append_only_in_the_engine(
        self, sample: Ledger, raw: Callable[..., list[Any]]
    ) -> None:
        """Plain UPDATE and DELETE on the event table are refused by the database itself."""
        for statement in (
            "UPDATE events SET name = 'x' WHERE seq = 1",
            "UPDATE events SET data = data",
            "DELETE FROM events WHERE seq = 27",
            "DELETE FROM events",
        ):
            with pytest.raises(Exception, match="append-only"):
                raw(statement)
        assert sample.verify().ok

    @pytest.mark.parametrize(
        "query",
        [q for q in QUERIES if q != AgendaQuery()],
        ids=[f"q{n}" for n, q in enumerate(QUERIES) if q != AgendaQuery()],
    )
    def test_select_uses_an_index(
        self, sample: Ledger, raw: Callable[..., list[Any]], query: AgendaQuery
    ) -> None:
        """Every agenda query with a criterion is answered through an index, not a table scan."""
        statement = type(sample.store).select_sql(query)  # type: ignore[attr-defined]
        if statement is None:
            assert query.states == frozenset()
            return
        plan = self.explain(raw, *statement)
        self.assert_indexed(plan)

    def assert_indexed(self, plan: str) -> None:
        """*plan* reads the findings through an index."""
        raise NotImplementedError

    def test_closed_store_raises_storage_error(self, store: Store) -> None:
        """Using a closed store raises StorageError; closing twice is harmless."""
        store.close()
        store.close()
        with pytest.raises(StorageError):
            store.get("A")
        with pytest.raises(StorageError):
            store.add_inspection(Inspection("R1", "a", dt.date(2024, 1, 5)))


class TestMemoryStore(StoreContract):
    """The reference backend."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """A fresh memory store."""
        s = MemoryStore()
        yield s
        s.close()


class TestSqliteStore(DurableStoreContract):
    """The embedded default."""

    store_class = SqliteStore

    @pytest.fixture
    def target(self, sqlite_target: str) -> str:
        """A file in a fresh directory."""
        return sqlite_target

    @pytest.fixture
    def raw(self, sqlite_sql: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        """Plain SQL on the file."""
        return sqlite_sql

    def explain(
        self, raw: Callable[..., list[Any]], statement: str, params: tuple[Any, ...]
    ) -> str:
        """EXPLAIN QUERY PLAN as text."""
        return "\n".join(str(r[-1]) for r in raw(f"EXPLAIN QUERY PLAN {statement}", params))

    def assert_indexed(self, plan: str) -> None:
        """An index search (not a scan of the table or of a whole index)."""
        assert "SEARCH findings USING" in plan, plan
        assert "SCAN" not in plan, plan

    def test_pragmas(self, store: SqliteStore) -> None:
        """The file is in WAL mode with synchronous=FULL and a busy timeout."""
        with store._using() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
            assert conn.isolation_level is None

    def test_times_are_stored_explicitly(
        self, sample: Ledger, raw: Callable[..., list[Any]]
    ) -> None:
        """Event times are ISO text with their offset plus UTC microseconds; completion in UTC microseconds."""
        at, at_us = raw("SELECT at, at_us FROM events WHERE finding_id <> '' ORDER BY seq")[0]
        assert at == "2024-01-08T09:00:00.123456+08:00"
        assert at_us == utc_micros(pendulum.datetime(2024, 1, 8, 1, 0, 0, 123456, tz="UTC"))
        [(completed,)] = raw("SELECT completed_at_us FROM findings WHERE id = '1.10'")
        assert completed == utc_micros(pendulum.datetime(2024, 1, 22, 1, 0, 0, 1, tz="UTC"))

    def test_garbage_file_is_a_storage_error(self, tmp_path: Any) -> None:
        """A file that is not a database, a directory, or a foreign database raise StorageError."""
        junk = tmp_path / "junk.db"
        junk.write_bytes(b"this is not a database at all" * 100)
        with pytest.raises(StorageError):
            SqliteStore(junk)
        with pytest.raises(StorageError):
            SqliteStore(tmp_path)
        foreign = tmp_path / "foreign.db"
        conn = sqlite3.connect(foreign)
        conn.execute("CREATE TABLE t (x)")
        conn.close()
        with pytest.raises(StorageError, match="not a rectflow ledger"):
            SqliteStore(foreign)

    def test_ledger_open_picks_sqlite(self, sqlite_target: str) -> None:
        """Ledger.open(path) opens a SqliteStore on that file."""
        with Ledger.open(sqlite_target) as ledger:
            assert isinstance(ledger.store, SqliteStore)
            assert ledger.store.path == sqlite_target

    def test_busy_writer_times_out_with_storage_error(
        self, sqlite_target: str, raw: Callable[..., list[Any]]
    ) -> None:
        """A writer blocked past its busy timeout by another process's transaction gets StorageError."""
        store = SqliteStore(sqlite_target, timeout=0.2)
        raw("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageError, match="locked"):
                store.add_inspection(Inspection("R1", "a", dt.date(2024, 1, 5)))
        finally:
            raw("ROLLBACK")
            store.close()


@pytest.mark.postgres
class TestPostgresStore(DurableStoreContract):
    """The shared engine."""

    store_class = PostgresStore

    @pytest.fixture
    def target(self, pg_target: str) -> str:
        """A URL pointing at a schema of the test's own."""
        return pg_target

    @pytest.fixture
    def raw(self, pg_sql: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        """Plain SQL in the test's schema."""
        return pg_sql

    def explain(
        self, raw: Callable[..., list[Any]], statement: str, params: tuple[Any, ...]
    ) -> str:
        """EXPLAIN with sequential scans priced out (the tables are tiny)."""
        raw("SET enable_seqscan = off")
        try:
            return "\n".join(str(r[0]) for r in raw(f"EXPLAIN {statement}", params))
        finally:
            raw("RESET enable_seqscan")

    def assert_indexed(self, plan: str) -> None:
        """An index searched with a condition, never a sequential scan."""
        assert "Index Cond" in plan, plan
        assert "Seq Scan" not in plan, plan

    def test_schema_parameter_is_stripped_from_the_url(self) -> None:
        """The schema= query parameter is taken out of the URL before libpq sees it."""
        assert split_schema("postgresql://u@h:5432/db?schema=s1&sslmode=disable") == (
            "postgresql://u@h:5432/db?sslmode=disable",
            "s1",
        )
        assert split_schema("postgresql://u@h/db") == ("postgresql://u@h/db", None)
        assert split_schema("postgresql://u@h/db?options=-csearch_path%3Dx")[1] is None

    def test_store_lives_in_its_schema(
        self, sample: Ledger, pg_url: str, pg_schema: str, pg_sql: Callable[..., list[Any]]
    ) -> None:
        """The tables are created in the schema the URL names, nowhere else."""
        rows = pg_sql(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'ledger_head'"
            " AND table_schema = %s",
            (pg_schema,),
        )
        assert rows == [(pg_schema,)]
        assert pg_sql("SELECT seq FROM ledger_head") == [(29,)]

    def test_schema_with_odd_characters(
        self, pg_url: str, pg_sql: Callable[..., list[Any]]
    ) -> None:
        """A schema name that needs quoting works (it is passed as an identifier)."""
        schema = "rf Test-Ü"
        store = PostgresStore(pg_url, schema=schema)
        try:
            store.add_inspection(Inspection("R1", "a", dt.date(2024, 1, 5)))
            assert store.get_inspection("R1") is not None
        finally:
            store.close()
            pg_sql('DROP SCHEMA "rf Test-Ü" CASCADE')

    def test_serialization_failures_and_deadlocks_are_retried(
        self, store: PostgresStore, raw: Callable[..., list[Any]]
    ) -> None:
        """A write failing with 40001/40P01 is rolled back and retried; past the retries, StorageError."""
        from psycopg import errors  # noqa: PLC0415

        raw("CREATE TABLE scratch (attempt int)")
        failures = [errors.SerializationFailure("40001"), errors.DeadlockDetected("40P01")]
        attempts = []

        def flaky(conn: Any) -> str:
            attempts.append(len(attempts))
            conn.execute("INSERT INTO scratch VALUES (%s)", (attempts[-1],))
            if failures:
                raise failures.pop(0)
            return "done"

        assert store._write(flaky) == "done"
        assert raw("SELECT attempt FROM scratch") == [(2,)]  # the two failed attempts left nothing

        def always(conn: Any) -> None:
            raise errors.SerializationFailure("40001")

        with pytest.raises(StorageError, match="gave up after 5 retries"):
            store._write(always)

    def test_unreachable_server_is_a_storage_error(self) -> None:
        """A server that does not answer raises StorageError."""
        with pytest.raises(StorageError, match="cannot connect"):
            PostgresStore("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)

    def test_ledger_open_picks_postgres(self, pg_target: str, pg_schema: str) -> None:
        """Ledger.open("postgresql://…?schema=…") opens a PostgresStore in that schema."""
        with Ledger.open(pg_target) as ledger:
            assert isinstance(ledger.store, PostgresStore)
            assert ledger.store.schema == pg_schema
