"""After-commit hooks (``Ledger.subscribe``), the event cursor (``events_since``), agenda item ids."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from rectflow import ChainEntry, Event, EventPage, InvalidInput, Ledger, MemoryStore, Owner
from rectflow.exceptions import ConcurrencyConflict, RuleViolation

OWNER = Owner(leader="张校长", department="德育处", person="王老师")


def fill(ledger: Ledger, n: int = 3) -> None:
    """An inspection and *n* findings."""
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2024-01-05", at="2024-01-05T10:00:00+08:00"
    )
    for i in range(n):
        ledger.add_finding(
            f"F{i}",
            inspection="R1",
            title=f"问题{i}",
            kind="deadline",
            owner=OWNER,
            deadline="2024-02-29",
            actor="巡察办",
            at="2024-01-08T09:00:00+08:00",
        )


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A ledger target on each backend."""
    if request.param == "memory":
        return ":memory:"
    if request.param == "sqlite":
        return str(tmp_path / "hooks.db")
    return str(request.getfixturevalue("pg_target"))


# ---------------------------------------------------------------- subscribe


def test_subscriber_gets_each_committed_event_once(target, make_ledger):
    """A single write calls the subscriber once per event, in chain order, after it is stored."""
    ledger = make_ledger(target)
    seen: list[Event] = []
    ledger.subscribe(seen.append)
    fill(ledger, 2)
    ledger.fire("F0", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    assert [(e.name, e.finding_id) for e in seen] == [
        ("add_inspection", ""),
        ("add", "F0"),
        ("add", "F1"),
        ("start", "F0"),
    ]
    assert seen == [entry.event for entry in ledger.store.chain()]
    ledger.close()


def test_subscriber_runs_after_commit_not_inside(tmp_path, make_ledger):
    """Inside the callback another connection already sees the event: it ran after COMMIT."""
    path = str(tmp_path / "after.db")
    ledger = make_ledger(path)
    fill(ledger, 1)
    other = make_ledger(path)
    seen: list[tuple[str, int]] = []

    def check(event: Event) -> None:
        seen.append((event.name, other.get("F0").version))

    ledger.subscribe(check)
    ledger.fire("F0", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    with ledger.batch():
        ledger.fire(
            "F0", "submit", actor="王老师", at="2024-01-10T09:00:00+08:00", evidence=["a.pdf"]
        )
        ledger.fire("F0", "sign_off", actor="李主任", at="2024-01-11T09:00:00+08:00")
        assert seen == [("start", 2)]  # nothing of the block yet
    assert seen == [("start", 2), ("submit", 4), ("sign_off", 4)]
    other.close()
    ledger.close()


def test_batch_rolled_back_calls_nothing(target, make_ledger):
    """A batch that fails stores nothing and calls no subscriber; a refused fire neither."""
    ledger = make_ledger(target)
    fill(ledger, 1)
    seen: list[Event] = []
    ledger.subscribe(seen.append)
    with pytest.raises(RuleViolation), ledger.batch():  # noqa: PT012 - the block fails
        ledger.fire("F0", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
        ledger.fire("F0", "stage", actor="王老师", at="2024-01-10T09:00:00+08:00")  # no note
    with pytest.raises(ConcurrencyConflict):
        ledger.fire(
            "F0", "start", actor="王老师", at="2024-01-09T09:00:00+08:00", expected_version=7
        )
    assert seen == []
    ledger.close()


def test_import_calls_subscribers_once_per_event_after_commit(tmp_path, make_ledger):
    """An import's events reach the subscriber once each, and a dry run's none."""
    source = make_ledger(":memory:")
    fill(source, 3)
    source.fire("F1", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    exported = tmp_path / "ledger.yaml"
    source.export_file(str(exported))
    ledger = make_ledger(str(tmp_path / "import.db"))
    seen: list[Event] = []
    ledger.subscribe(seen.append)
    ledger.import_file(str(exported), actor="巡察办", dry_run=True)
    assert seen == []
    ledger.import_file(str(exported), actor="巡察办")
    assert [e.name for e in seen] == ["add_inspection", "add", "add", "add", "start"]
    assert seen == [entry.event for entry in ledger.store.chain()]
    ledger.close()


def test_failing_subscriber_is_logged_and_others_still_run(caplog, make_ledger):
    """A subscriber that raises neither undoes the commit nor stops the next one; it is logged."""
    ledger = make_ledger(":memory:")
    fill(ledger, 1)
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("mail server down")

    ledger.subscribe(broken)
    ledger.subscribe(lambda e: seen.append(e.name))
    with caplog.at_level(logging.ERROR, logger="rectflow"):
        after = ledger.fire("F0", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    assert after.state == "in_progress"
    assert ledger.get("F0").version == 2
    assert seen == ["start"]
    assert "mail server down" in caplog.text
    assert "start" in caplog.text


def test_event_filter_and_unsubscribe(make_ledger):
    """``events=`` selects by name; the returned function unsubscribes (twice is harmless)."""
    ledger = make_ledger(":memory:")
    seen: list[str] = []
    stop = ledger.subscribe(lambda e: seen.append(e.finding_id), events=["start"])
    fill(ledger, 2)
    ledger.fire("F0", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    stop()
    stop()
    ledger.fire("F1", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    assert seen == ["F0"]


@pytest.mark.parametrize(
    ("callback", "events"), [(None, None), ("x", None), (print, 3), (print, [""]), (print, [1])]
)
def test_bad_subscribe_arguments_are_refused(callback, events):
    """A callback that is not callable, or event names that are not names: InvalidInput."""
    ledger = Ledger(MemoryStore())
    with pytest.raises(InvalidInput):
        ledger.subscribe(callback, events=events)
    assert ledger._writer.subscribers == ()


# ---------------------------------------------------------------- events_since


def test_events_since_pages_through_the_chain(target, make_ledger):
    """Pages of ``limit`` entries with their seq and hashes, then an empty page at the end."""
    ledger = make_ledger(target)
    fill(ledger, 4)
    chain = list(ledger.store.chain())
    page = ledger.events_since(0, limit=2)
    assert isinstance(page, EventPage)
    assert list(page.entries) == chain[:2]
    assert page.cursor == 2
    assert page.events == tuple(e.event for e in chain[:2])
    entries, cursor = ledger.events_since(page.cursor, limit=100)
    assert list(entries) == chain[2:]
    assert cursor == len(chain)
    assert ledger.events_since(cursor) == EventPage((), cursor)
    ledger.fire("F3", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    (new,), cursor2 = ledger.events_since(cursor)
    assert isinstance(new, ChainEntry)
    assert (new.seq, new.event.name, cursor2) == (cursor + 1, "start", cursor + 1)
    assert new.prev_hash == chain[-1].hash
    ledger.close()


@pytest.mark.parametrize(
    ("cursor", "limit"), [(-1, 10), ("3", 10), (True, 10), (1.5, 10), (0, 0), (0, 10_001)]
)
def test_bad_cursor_or_limit_is_refused(cursor, limit):
    """A cursor that is not a non-negative int, or a limit outside 1..10 000: InvalidInput."""
    ledger = Ledger(MemoryStore())
    with pytest.raises(InvalidInput):
        ledger.events_since(cursor, limit=limit)


_WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from store_support import open_test_ledger
    ledger = open_test_ledger({target!r})
    for fid in ("F0", "F1"):
        ledger.fire(fid, "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.close()
    """
)

_READER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    from store_support import open_test_ledger
    ledger = open_test_ledger({target!r})
    entries, cursor = ledger.events_since({cursor!r})
    print(json.dumps([[e.seq, e.event.name, e.event.finding_id] for e in entries] + [cursor]))
    ledger.close()
    """
)


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_cursor_works_across_processes(backend, request, tmp_path, make_ledger):
    """Another process's commits appear after a kept cursor; a third process resumes from it."""
    from pathlib import Path  # noqa: PLC0415

    tests = str(Path(__file__).parent)
    target = (
        str(tmp_path / "x.db") if backend == "sqlite" else str(request.getfixturevalue("pg_target"))
    )
    ledger = make_ledger(target)
    fill(ledger, 2)
    _, cursor = ledger.events_since(0)
    assert cursor == 3
    _run(_WRITER.format(tests=tests, target=target))
    entries, after = ledger.events_since(cursor)
    assert [(e.seq, e.event.name, e.event.finding_id) for e in entries] == [
        (4, "start", "F0"),
        (5, "start", "F1"),
    ]
    out = json.loads(_run(_READER.format(tests=tests, target=target, cursor=4)))
    assert out == [[5, "start", "F1"], 5]
    assert after == 5
    ledger.close()


_BUSY_WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from store_support import open_test_ledger
    ledger = open_test_ledger({target!r})
    for i in range(30):
        fid = "F%d" % (i % 2 + {offset})
        ledger.fire(fid, "record_measure", actor="王老师", at="2024-01-09T09:00:00+08:00",
                    measure="M1")
    ledger.close()
    """
)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_polling_while_other_processes_write_misses_nothing(
    backend, request, tmp_path, make_ledger
):
    """Two writer processes append while a reader polls: it sees every entry once, in order."""
    from pathlib import Path  # noqa: PLC0415

    from rectflow import Measure  # noqa: PLC0415

    target = (
        str(tmp_path / "busy.db")
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_target"))
    )
    ledger = make_ledger(target)
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2024-01-05", at="2024-01-05T10:00:00+08:00"
    )
    for i in range(4):
        ledger.add_finding(
            f"F{i}",
            inspection="R1",
            title=f"问题{i}",
            kind="long_term",
            owner=OWNER,
            deadline="2024-12-31",
            actor="巡察办",
            at="2024-01-08T09:00:00+08:00",
            measures=[Measure("M1", "每月排查", "recurring", "安全处", cadence="monthly")],
        )
    for i in range(4):
        ledger.fire(f"F{i}", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    tests = str(Path(__file__).parent)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _BUSY_WRITER.format(tests=tests, target=target, offset=off)],
            stderr=subprocess.PIPE,
        )
        for off in (0, 2)
    ]
    seen: list[int] = []
    cursor = 0
    while True:
        running = any(w.poll() is None for w in writers)
        entries, cursor = ledger.events_since(cursor, limit=7)
        seen += [e.seq for e in entries]
        if not running and not entries:
            break
    for writer in writers:
        assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
    head = ledger.head()
    assert head.count == 1 + 4 + 4 + 60
    assert seen == list(range(1, head.count + 1))
    assert cursor == head.count
    ledger.close()


# ---------------------------------------------------------------- agenda ids


_AGENDA = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {tests!r})
    from store_support import open_test_ledger
    ledger = open_test_ledger({target!r})
    print(json.dumps([i.id for i in ledger.agenda(as_of="2024-03-20").items]))
    ledger.close()
    """
)


def test_agenda_item_ids_are_stable_across_processes(tmp_path, make_ledger, populate):
    """The same agenda item has the same id in another process; ids are unique per agenda."""
    from pathlib import Path  # noqa: PLC0415

    target = str(tmp_path / "agenda.db")
    ledger = make_ledger(target)
    populate(ledger)
    items = ledger.agenda(as_of="2024-03-20").items
    ids = [i.id for i in items]
    assert len(items) >= 3
    assert len(set(ids)) == len(ids)
    assert "overdue:1.9:2024-01-20" in ids
    assert [i.to_dict()["id"] for i in items] == ids
    tests = str(Path(__file__).parent)
    assert json.loads(_run(_AGENDA.format(tests=tests, target=target))) == ids
    ledger.close()


@pytest.mark.parametrize("block", ["batch", "ledger_event"])
def test_subscribers_run_after_the_ledger_lock_is_left(block, make_ledger, tmp_path):
    """A subscriber of a batch or a ledger-level write is called with no lock held, so other
    threads can use the ledger meanwhile."""
    import threading  # noqa: PLC0415

    ledger = make_ledger(str(tmp_path / "lock.db"))
    free: list[bool] = []

    def probe(event: Event) -> None:
        got: list[bool] = []

        def other() -> None:
            acquired = ledger._writer.lock.acquire(timeout=2)
            got.append(acquired)
            if acquired:
                ledger._writer.lock.release()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        free.append(got == [True])

    ledger.subscribe(probe, events=["add_inspection", "add"])
    if block == "batch":
        with ledger.batch():
            fill(ledger, 2)
    else:
        fill(ledger, 0)
    assert free
    assert all(free)
