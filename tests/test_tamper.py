"""Tampering with plain SQL: verify() names each edited, deleted, reordered or truncated entry.

The sample ledger has 29 events (see ``populate_sample``): its two inspections'
events at 1 and 2, then 27 findings' events. Each test takes the
head as an anchor, closes the ledger, changes the event table behind
rectflow's back (after dropping the append-only triggers, as an attacker with
SQL access would), reopens it and checks the ``(position, kind)`` of every
positional problem ``verify`` reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from rectflow import Ledger
from rectflow._codec import dumps, event_from, unstructure
from rectflow._store.base import ChainEntry, Head, entry_hash
from rectflow._store.memory import MemoryStore
from rectflow._views.verify import Verification, verify_chain


@attrs.define
class Backend:
    """A durable backend as the attacker sees it.

    Attributes:
        name: ``sqlite`` or ``postgres``.
        target: What ``Ledger.open`` takes.
        raw: Runs plain SQL.
        ph: The driver's placeholder.
        shift_time: SQL moving the stored time of event ``seq = {ph}`` by one second.
        unguard: SQL dropping the append-only triggers.
        time_columns: The columns holding an event's time.
    """

    name: str
    target: str
    raw: Callable[..., list[Any]]
    ph: str
    shift_time: str
    unguard: tuple[str, ...]
    time_columns: tuple[str, ...]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each durable backend, with the sample ledger written to it."""
    if request.param == "sqlite":
        b = Backend(
            "sqlite",
            request.getfixturevalue("sqlite_target"),
            request.getfixturevalue("sqlite_sql"),
            "?",
            "UPDATE events SET at_us = at_us + 1000000 WHERE seq = ?",
            ("DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"),
            ("at", "at_us"),
        )
    else:
        b = Backend(
            "postgres",
            request.getfixturevalue("pg_target"),
            request.getfixturevalue("pg_sql"),
            "%s",
            "UPDATE events SET at = at + interval '1 second' WHERE seq = %s",
            ("ALTER TABLE events DISABLE TRIGGER USER",),
            ("at",),
        )
    make_ledger = request.getfixturevalue("make_ledger")
    with make_ledger(b.target) as ledger:
        request.getfixturevalue("populate")(ledger)
    return b


@pytest.fixture
def anchor(backend: Backend, make_ledger: Callable[[Any], Ledger]) -> Head:
    """The head before tampering (what a careful user keeps elsewhere)."""
    with make_ledger(backend.target) as ledger:
        head = ledger.head()
    assert head.count == 29
    for statement in backend.unguard:
        backend.raw(statement)
    return head


def verify(
    backend: Backend, make_ledger: Callable[[Any], Ledger], anchor: Head | None
) -> Verification:
    """Reopen the ledger and verify it."""
    with make_ledger(backend.target) as ledger:
        return ledger.verify(anchor=anchor)


def positional(result: Verification) -> set[tuple[int, str]]:
    """The (position, kind) of every problem tied to a chain position."""
    return {(p.position, p.kind) for p in result.problems if p.position}


def move_seq(b: Backend, old: int, new: int) -> None:
    """Give the row at seq *old* the seq *new*."""
    b.raw(f"UPDATE events SET seq = {b.ph} WHERE seq = {b.ph}", (new, old))


def swap_seq(b: Backend, x: int, y: int) -> None:
    """Swap the seq of two rows (through a free value: seq is unique)."""
    move_seq(b, x, 100_000)
    move_seq(b, y, x)
    move_seq(b, 100_000, y)


def rewrite(b: Backend, seq: int, rehash: bool, **changes: Any) -> None:
    """Change the event at *seq* (and recompute its hash when *rehash*)."""
    [(data, prev)] = b.raw(f"SELECT data, prev_hash FROM events WHERE seq = {b.ph}", (seq,))
    event = attrs.evolve(event_from(json.loads(data)), **changes)
    b.raw(f"UPDATE events SET data = {b.ph} WHERE seq = {b.ph}", (dumps(unstructure(event)), seq))
    if rehash:
        b.raw(
            f"UPDATE events SET hash = {b.ph} WHERE seq = {b.ph}",
            (entry_hash(prev, seq, event), seq),
        )


# -- the untouched control


def test_untouched_ledger_verifies(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Without tampering (triggers dropped or not) verify passes against the anchor."""
    result = verify(backend, make_ledger, anchor)
    assert result.ok, result.problems
    assert result.head == anchor


# -- edited


def test_edited_event_is_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Changing who signed off (seq 8) is reported as edited at 8, and A's row no longer replays."""
    rewrite(backend, 8, rehash=False, actor="张校长")
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(8, "edited")}
    assert not result.ok
    assert [p.finding_id for p in result.problems if p.position == 8] == ["A"]
    assert (0, "state_mismatch") in {(p.position, p.kind) for p in result.problems}


def test_edited_column_is_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Editing an event's name or time column (not its JSON) is reported as edited."""
    backend.raw(f"UPDATE events SET name = 'reject' WHERE seq = {backend.ph}", (16,))
    backend.raw(backend.shift_time, (5,))
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(5, "edited"), (16, "edited")}


def test_edited_and_rehashed_event_is_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """An edit whose own hash was recomputed still shows: the next entry no longer links to it."""
    rewrite(backend, 20, rehash=True, actor="张校长")
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(20, "edited")}


def test_rewritten_last_event_is_caught_by_the_anchor(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Re-hashing the last entry leaves no link to break: the anchor catches it."""
    rewrite(backend, 29, rehash=True, note="改过的说明")
    assert positional(verify(backend, make_ledger, anchor)) == {(29, "anchor_mismatch")}


# -- deleted


@pytest.mark.parametrize("seqs", [(14,), (3,), (7, 22), (22, 23)])
def test_deleted_events_are_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger], seqs: tuple[int, ...]
) -> None:
    """Each deleted row is reported as deleted at its position, and the later ones are not blamed."""
    for seq in seqs:
        backend.raw(f"DELETE FROM events WHERE seq = {backend.ph}", (seq,))
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(s, "deleted") for s in seqs}
    assert result.count == 29 - len(seqs)
    assert any(p.kind in {"history_gap", "state_mismatch"} for p in result.problems)


def test_deleted_and_renumbered_events_are_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Deleting a row and renumbering the rest to close the gap shows the deletion and every renumbered entry."""
    backend.raw(f"DELETE FROM events WHERE seq = {backend.ph}", (12,))
    for seq in range(13, 30):
        move_seq(backend, seq, seq - 1)
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(12, "deleted")} | {(s, "edited") for s in range(12, 29)}


# -- reordered


@pytest.mark.parametrize(("x", "y"), [(11, 22), (14, 15), (3, 29)])
def test_swapped_events_are_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger], x: int, y: int
) -> None:
    """Two rows whose seq were swapped are both reported as reordered, nothing else positional."""
    swap_seq(backend, x, y)
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(x, "reordered"), (y, "reordered")}
    assert {p.detail for p in result.problems if p.position == x} == {
        f"第 {x} 条存放的是原第 {y} 位写入的事件"
    }


def test_rotated_events_are_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Three rows rotated (5→6→7→5) are all reported as reordered."""
    move_seq(backend, 7, 100_000)
    move_seq(backend, 6, 7)
    move_seq(backend, 5, 6)
    move_seq(backend, 100_000, 5)
    assert positional(verify(backend, make_ledger, anchor)) == {
        (5, "reordered"),
        (6, "reordered"),
        (7, "reordered"),
    }


def test_swapped_contents_are_named(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Swapping two rows' events while leaving seq and hashes in place is reported as reordered at both."""
    ph = backend.ph
    cols = ["finding_id", "version", "name", *backend.time_columns, "data"]
    select = f"SELECT {', '.join(cols)} FROM events WHERE seq = {ph}"
    update = f"UPDATE events SET {', '.join(f'{c} = {ph}' for c in cols)} WHERE seq = {ph}"
    [a] = backend.raw(select, (18,))
    [b] = backend.raw(select, (21,))
    backend.raw(
        f"UPDATE events SET finding_id = 'tmp' WHERE seq = {ph}", (18,)
    )  # the key is unique
    backend.raw(update, (*a, 21))
    backend.raw(update, (*b, 18))
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(18, "reordered"), (21, "reordered")}


# -- truncated


def test_truncation_is_named_against_the_anchor(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Deleting the last three rows is reported as truncated at 27, 28, 29 given the anchor."""
    backend.raw(f"DELETE FROM events WHERE seq > {backend.ph}", (26,))
    result = verify(backend, make_ledger, anchor)
    assert positional(result) == {(27, "truncated"), (28, "truncated"), (29, "truncated")}
    assert result.head.count == 26


def test_truncation_without_anchor_still_fails(
    backend: Backend, anchor: Head, make_ledger: Callable[[Any], Ledger]
) -> None:
    """Without an anchor a truncation still fails verification: current rows outlive their history."""
    backend.raw(f"DELETE FROM events WHERE seq > {backend.ph}", (26,))
    result = verify(backend, make_ledger, None)
    assert not result.ok
    assert positional(result) == set()
    assert {(p.kind, p.finding_id) for p in result.problems} == {("state_mismatch", "H")}


# -- verify_chain on hand-made chains (no SQL)


@pytest.fixture
def chain(
    make_ledger: Callable[[Any], Ledger], populate: Callable[[Ledger], None]
) -> tuple[list[ChainEntry], Ledger]:
    """The sample's chain from the memory backend."""
    ledger = make_ledger(MemoryStore())
    populate(ledger)
    return list(ledger.store.chain()), ledger


def test_verify_chain_names_a_duplicated_entry(chain: tuple[list[ChainEntry], Ledger]) -> None:
    """A copy of an existing entry appended at the end is reported as inserted."""
    entries, ledger = chain
    copy = attrs.evolve(entries[4], seq=30)
    result = verify_chain([*entries, copy], ledger.store.findings(), ledger.workflow)
    assert positional(result) == {(30, "inserted")}


def test_verify_chain_names_a_forged_first_link(chain: tuple[list[ChainEntry], Ledger]) -> None:
    """A first entry re-hashed over a non-genesis previous hash is reported as edited."""
    entries, ledger = chain
    first = entries[0]
    forged = attrs.evolve(first, prev_hash="f" * 64, hash=entry_hash("f" * 64, 1, first.event))
    result = verify_chain([forged, *entries[1:]], ledger.store.findings(), ledger.workflow)
    assert (1, "edited") in positional(result)


def test_verify_chain_reports_an_anchor_of_another_ledger(
    chain: tuple[list[ChainEntry], Ledger],
) -> None:
    """An anchor whose hash is not the chain's at its count is an anchor mismatch."""
    entries, ledger = chain
    result = verify_chain(entries, ledger.store.findings(), ledger.workflow, Head(10, "0" * 64))
    assert positional(result) == {(10, "anchor_mismatch")}
    assert verify_chain(
        entries, ledger.store.findings(), ledger.workflow, Head(29, entries[-1].hash)
    ).ok


def test_verify_chain_reports_a_row_without_history(chain: tuple[list[ChainEntry], Ledger]) -> None:
    """A current row whose events are all missing is a state mismatch at position 0."""
    entries, ledger = chain
    kept = [e for e in entries if e.event.finding_id != "1.9"]
    result = verify_chain(kept, ledger.store.findings(), ledger.workflow)
    assert (17, "deleted") in positional(result)
    assert ("state_mismatch", "1.9") in {(p.kind, p.finding_id) for p in result.problems}
