"""Ledger.batch buffers its writes: reads see them, the store gets them in bulk, all or nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from rectflow import ConcurrencyConflict, Event, Finding, Ledger, MemoryStore, RuleViolation
from rectflow import _writer as writer_module
from rectflow._store.sqlite import SqliteStore
from store_support import open_test_ledger, populate_sample

AT = "2024-01-09T09:00:00+08:00"


def fire_all(ledger: Ledger) -> None:
    """Start 1.9 and extend G: two events on two findings."""
    ledger.fire("1.9", "start", actor="王老师", at=AT)
    ledger.fire(
        "G",
        "extend",
        actor="李主任",
        at="2024-01-24T10:00:00+08:00",
        requested_by="王老师",
        until="2024-02-20",
        reason="等待设备",
    )


@pytest.fixture(params=["memory", "sqlite"])
def sample(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Ledger]:
    """The sample ledger in memory or in a SQLite file."""
    target = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "l.db")
    ledger: Ledger = open_test_ledger(target)
    populate_sample(ledger)
    yield ledger
    ledger.close()


def test_batch_stores_what_single_fires_store(sample: Ledger) -> None:
    """A batch ends with the same head, rows and histories as the same fires made one by one."""
    reference: Ledger = open_test_ledger(MemoryStore())
    populate_sample(reference)
    fire_all(reference)
    with sample.batch():
        fire_all(sample)
    assert sample.head() == reference.head()
    assert list(sample.findings()) == list(reference.findings())
    assert sample.history("G") == reference.history("G")
    assert sample.verify()


def test_reads_inside_a_batch_see_its_writes(sample: Ledger) -> None:
    """get, `in`, history, findings and the agenda inside the batch show the batch's own events."""
    assert "1.9" in {item.finding_id for item in sample.agenda().items}  # overdue
    with sample.batch():
        assert sample.store.get("1.9").state == "assigned"  # type: ignore[union-attr]
        sample.fire("1.9", "start", actor="王老师", at=AT)
        assert sample.store.get("1.9").state == "assigned"  # type: ignore[union-attr]  # buffered
        assert sample.get("1.9").state == "in_progress"
        assert sample.get("1.9").version == 2
        sample.fire("1.9", "cancel", actor="李主任", at=AT, reason="重复")  # builds on the buffer
        assert "1.9" in sample
        assert "1.9" not in {item.finding_id for item in sample.agenda().items}  # cancelled
        assert [e.name for e in sample.history("1.9")] == ["add", "start", "cancel"]
        assert {f.id for f in sample.findings(state="cancelled")} >= {"1.9"}
    assert sample.get("1.9").state == "cancelled"


def test_failure_inside_a_batch_stores_nothing(sample: Ledger) -> None:
    """An exception out of the block drops the buffered and the flushed writes alike."""
    before = (sample.head(), list(sample.findings()))

    def failing() -> None:
        with sample.batch():
            fire_all(sample)
            sample.head()  # a read hands the buffer to the store (inside the transaction)
            sample.fire("1.9", "cancel", actor="李主任", at=AT, reason="重复")
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        failing()
    assert (sample.head(), list(sample.findings())) == before
    fire_all(sample)  # the ledger goes on
    assert sample.verify()


def test_a_refused_fire_inside_a_batch_buffers_nothing(sample: Ledger) -> None:
    """A fire that breaks a rule raises at once; the batch goes on and commits the rest."""
    with sample.batch():
        sample.fire("1.9", "start", actor="王老师", at=AT)
        with pytest.raises(RuleViolation):
            sample.fire("1.9", "stage", actor="王老师", at=AT, note="", evidence=[])
        assert sample.get("1.9").version == 2
    assert [e.name for e in sample.history("1.9")] == ["add", "start"]


def test_conflict_with_another_writer_fails_the_whole_batch() -> None:
    """A finding moved behind the batch's back is ConcurrencyConflict at the flush; nothing stays."""
    ledger: Ledger = open_test_ledger(MemoryStore())
    populate_sample(ledger)
    before = (ledger.head(), list(ledger.findings()))
    stored = ledger.get("1.9")
    other_event = Event("1.9", "start", stored.updated_at, "王老师", version=2)  # type: ignore[arg-type]
    other_row = ledger.workflow.apply(stored, other_event)

    def racing() -> None:
        with ledger.batch():
            fire_all(ledger)
            ledger.store.append(other_event, other_row, 1)  # another writer, straight in

    with pytest.raises(ConcurrencyConflict) as info:
        racing()
    assert (info.value.finding_id, info.value.expected, info.value.actual) == ("1.9", 1, 2)
    assert "1.9" in str(info.value)
    assert (ledger.head(), list(ledger.findings())) == before


def test_every_buffered_event_passes_the_admit_gate(sample: Ledger) -> None:
    """The gate (Writer.admit) sees every event of a batch with the finding before it, and can refuse one."""
    seen: list[tuple[str, str, int | None]] = []

    def admit(event: Event, before: Finding | None) -> None:
        seen.append((event.finding_id, event.name, None if before is None else before.version))
        if event.name == "cancel":
            raise RuleViolation("admit", "refused", finding_id=event.finding_id, event=event.name)

    sample._writer.admit = admit  # type: ignore[method-assign]
    with sample.batch():
        fire_all(sample)
        with pytest.raises(RuleViolation):
            sample.fire("1.9", "cancel", actor="李主任", at=AT, reason="重复")
    assert seen == [("1.9", "start", 1), ("G", "extend", 3), ("1.9", "cancel", 2)]
    assert sample.get("1.9").state == "in_progress"


def test_a_long_batch_is_flushed_in_bulks_and_stays_atomic(
    sample: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the bulk size the buffer goes to the store early; a later failure still undoes it all."""
    monkeypatch.setattr(writer_module, "_FLUSH_EVERY", 1)
    before, extensions = sample.head(), sample.get("G").extensions

    def failing() -> None:
        with sample.batch():
            fire_all(sample)
            assert sample.store.get("G").extensions == extensions + 1  # type: ignore[union-attr]
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing()
    assert sample.head() == before


def test_sqlite_batch_runs_no_statement_per_fire(tmp_path: Any) -> None:
    """On SQLite, fires inside a batch run no SQL until the batch hands its buffer over."""
    store = SqliteStore(tmp_path / "l.db")
    ledger: Ledger = open_test_ledger(store)
    populate_sample(ledger)
    statements: list[str] = []
    conn = store._conn
    assert isinstance(conn, sqlite3.Connection)
    with ledger.batch():
        conn.set_trace_callback(statements.append)
        ledger.fire("1.9", "start", actor="王老师", at=AT)
        during = len(statements)
    conn.set_trace_callback(None)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    reads_during = statements[:during]
    assert all("findings" in s or "events" in s for s in reads_during)
    assert not [s for s in reads_during if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 2  # one UPDATE of the row, one INSERT of the event, at the end
    ledger.close()
