"""PostgreSQL faults: the ledger's connection dropped between calls, inside a fire, inside a batch.

Only the ledger's own backend is terminated (its pid read on its connection), with
``pg_terminate_backend(pid, timeout)``, which waits until the backend is gone. The
shared server is never restarted here unless ``RECTFLOW_PG_RESTART`` names a command
that does it (a server of your own).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rectflow import Ledger, StorageError
from roles_support import CLOCK, add_finding, t

pytestmark = pytest.mark.postgres


def opened(url: str) -> Ledger:
    """The ledger at *url* with a fixed clock."""
    return Ledger.open(url, clock=lambda: CLOCK)


def setup(url: str) -> None:
    """An inspection, actors, and three findings started."""
    with opened(url) as ledger:
        ledger.add_inspection("R1", title="巡察", feedback_at="2024-01-05", at=t(0))
        ledger.add_actor("办", roles=["inspector", "leader"], at=t(0))
        ledger.add_actor("乙", roles=["owner"], inspection="R1", actor="办", at=t(0))
        for n in range(3):
            add_finding(ledger, f"F{n}")


def backend_pid(ledger: Ledger) -> int:
    """The server process serving *ledger*'s connection."""
    with ledger.store._using() as conn:  # type: ignore[attr-defined]
        [(pid,)] = conn.execute("SELECT pg_backend_pid()").fetchall()
    return int(pid)


def terminate(pg_sql: Callable[..., list[Any]], pid: int) -> None:
    """End the backend *pid* (the ledger's own) and wait until it is gone."""
    [(done,)] = pg_sql("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    assert done, f"backend {pid} did not end"


def test_connection_dropped_between_calls_reconnects(
    pg_target: str, pg_sql: Callable[..., list[Any]]
) -> None:
    """After the server drops the connection between calls, reads and the next fire reconnect and succeed."""
    setup(pg_target)
    ledger = opened(pg_target)
    ledger.fire("F0", "start", actor="乙", at=t(2))
    head = ledger.head()
    old = backend_pid(ledger)
    terminate(pg_sql, old)
    assert ledger.get("F0").state == "in_progress"  # a read: reconnected
    assert backend_pid(ledger) != old
    terminate(pg_sql, backend_pid(ledger))
    assert ledger.fire("F1", "start", actor="乙", at=t(2)).version == 2  # a write: reconnected
    assert ledger.head().count == head.count + 1
    assert ledger.verify(anchor=head).ok
    ledger.close()
    with pytest.raises(StorageError):  # a closed ledger stays closed
        ledger.get("F0")


def test_idle_timeout_reconnects(pg_target: str) -> None:
    """The server ends the idle connection (its own idle_session_timeout): the next fire reconnects and succeeds."""
    setup(pg_target)
    ledger = opened(pg_target)
    head = ledger.head()
    old = backend_pid(ledger)
    with ledger.store._using() as conn:  # type: ignore[attr-defined]
        conn.execute("SET idle_session_timeout = '100ms'")  # this session only
    time.sleep(0.6)
    assert ledger.fire("F0", "start", actor="乙", at=t(2)).state == "in_progress"
    assert backend_pid(ledger) != old
    assert ledger.verify(anchor=head).ok
    ledger.close()


def test_fire_dropped_between_its_read_and_its_write(
    pg_target: str, pg_sql: Callable[..., list[Any]]
) -> None:
    """A connection dropped after a fire read the finding: the write reconnects, stores once, verifies."""
    setup(pg_target)
    ledger = opened(pg_target)
    head = ledger.head()
    ledger._writer.before_write = lambda: terminate(pg_sql, backend_pid_raw(ledger))
    ledger.fire("F0", "start", actor="乙", at=t(2))
    ledger._writer.before_write = None
    assert ledger.head().count == head.count + 1
    assert [e.name for e in ledger.history("F0")] == ["add", "start"]
    assert ledger.verify(anchor=head).ok
    ledger.close()


def backend_pid_raw(ledger: Ledger) -> int:
    """The pid of the ledger's current connection, read without the reconnect check."""
    conn = ledger.store._conn  # type: ignore[attr-defined]
    return int(conn.info.backend_pid)


def test_fire_cut_inside_its_transaction_stores_nothing(
    pg_url: str, pg_target: str, pg_schema: str, pg_sql: Callable[..., list[Any]]
) -> None:
    """A fire whose transaction is cut (waiting for the head's lock): StorageError naming the cause, nothing stored, next fire works."""
    setup(pg_target)
    ledger = opened(pg_target)
    head = ledger.head()
    pid = backend_pid(ledger)
    holder = psycopg.connect(pg_url)  # holds the head's lock, so the fire waits inside its write
    holder.execute(f'SET search_path TO "{pg_schema}"')
    holder.execute("SELECT seq FROM ledger_head WHERE id = 1 FOR UPDATE")
    outcome: list[BaseException | None] = []

    def fire() -> None:
        try:
            ledger.fire("F0", "start", actor="乙", at=t(2))
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=fire)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not pg_sql(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", (pid,)
        ):
            assert time.monotonic() < deadline, "the fire never waited for the lock"
            time.sleep(0.01)
        terminate(pg_sql, pid)
    finally:
        worker.join(10)
        holder.rollback()
        holder.close()
    [error] = outcome
    assert isinstance(error, StorageError), error
    # the cause, in the ledger's language (Chinese by default; English with lang="en")
    assert "与 PostgreSQL 台账的连接中断" in str(error), str(error)
    assert "connection to the PostgreSQL ledger was lost" in error.in_lang("en"), error.in_lang(
        "en"
    )
    assert "server closed the connection" in str(error), str(error)  # as libpq saw it
    assert ledger.head() == head  # nothing of it stored
    assert ledger.get("F0").state == "assigned"
    assert ledger.fire("F0", "start", actor="乙", at=t(2)).state == "in_progress"
    assert ledger.verify(anchor=head).ok
    ledger.close()


def test_writer_killed_inside_batch_stores_nothing(
    pg_target: str, pg_sql: Callable[..., list[Any]]
) -> None:
    """Terminating the writer's backend inside batch(): StorageError naming it, nothing stored, the next call works."""
    setup(pg_target)
    with opened(pg_target) as before:
        head = before.head()
    ledger = opened(pg_target)
    pid = backend_pid(ledger)

    def block() -> None:
        with ledger.batch():
            ledger.fire("F0", "start", actor="乙", at=t(2))
            ledger.add_actor("丙", roles=["leader"], inspection="R1", actor="办", at=t(2))
            terminate(pg_sql, pid)
            ledger.fire("F1", "start", actor="乙", at=t(2))

    with pytest.raises(StorageError) as info:
        block()
    text = str(info.value)
    assert "terminating connection" in text, text  # the cause, as the server gave it
    # The same ledger goes on, on a new connection.
    assert ledger.head() == head
    assert ledger.verify(anchor=head).ok
    assert ledger.get("F0").state == "assigned"
    assert ledger.grants("丙") == []
    ledger.fire("F0", "start", actor="乙", at=t(3))
    assert ledger.verify(anchor=head).ok
    ledger.close()
    with opened(pg_target) as again:
        assert again.get("F0").version == 2
        assert again.grants("丙") == []


def round_trips(trace: str) -> int:
    """Times the client waited for the server in a libpq trace: each turn from sending to receiving."""
    turns, last = 0, ""
    for line in trace.splitlines():
        direction = line.split("\t", 1)[0]
        if direction == "B" and last == "F":
            turns += 1
        if direction in ("F", "B"):
            last = direction
    return turns


def traced(ledger: Ledger, work: Callable[[], object]) -> tuple[int, str]:
    """Run *work* with libpq's protocol trace on the ledger's connection; its round trips and the trace."""
    conn = ledger.store._conn  # type: ignore[attr-defined]
    fd, path = tempfile.mkstemp(prefix="rectflow-trace-")
    try:
        conn.pgconn.trace(fd)
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            work()
        finally:
            conn.pgconn.untrace()
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    finally:
        os.close(fd)
        Path(path).unlink()
    return round_trips(text), text


def test_round_trip_counter_counts_each_wait() -> None:
    """The trace counter: one turn per client send followed by a server reply."""
    trace = (
        "F\t1\tParse\nF\t1\tSync\nB\t1\tParseComplete\nB\t1\tReadyForQuery\nF\t1\tSync\nB\t1\tR\n"
    )
    assert round_trips(trace) == 2
    assert round_trips("") == 0


def test_fire_takes_at_most_three_round_trips(pg_target: str) -> None:
    """A whole fire (read, role gate, write, commit) on PostgreSQL: at most 3 server round trips."""
    setup(pg_target)
    ledger = opened(pg_target)
    ledger.fire("F2", "start", actor="乙", at=t(2))  # the ledger's state is read once first
    counts = []
    for fid in ("F0", "F1"):
        n, text = traced(ledger, lambda fid=fid: ledger.fire(fid, "start", actor="乙", at=t(2)))
        assert "ledger_head" in text  # the write went through the traced connection
        counts.append(n)
    assert max(counts) <= 3, counts
    assert ledger.verify().ok
    ledger.close()


def test_fire_after_another_writer_moved_the_head(pg_target: str) -> None:
    """Another writer appends between a fire's read and its write: it is chained after that one, verified."""
    setup(pg_target)
    ledger, other = opened(pg_target), opened(pg_target)
    assert ledger.roles_mode  # the ledger-level state read before the traced fire
    ledger._writer.before_write = lambda: other.fire("F1", "start", actor="乙", at=t(2))
    n, _ = traced(ledger, lambda: ledger.fire("F0", "start", actor="乙", at=t(2)))
    ledger._writer.before_write = None
    assert n <= 3, n  # read, a write refused for its stale head, the write again
    chain = list(ledger.store.chain())
    assert [(e.event.finding_id, e.event.name) for e in chain[-2:]] == [
        ("F1", "start"),
        ("F0", "start"),
    ]
    assert ledger.verify().ok
    ledger.close()
    other.close()


@pytest.mark.skipif(
    not os.environ.get("RECTFLOW_PG_RESTART"),
    reason="restarts the server: set RECTFLOW_PG_RESTART to a command restarting a server "
    "of your own (never a shared one)",
)
def test_server_restart_between_calls(pg_target: str) -> None:
    """After the server restarts, the next call reconnects and succeeds."""
    setup(pg_target)
    ledger = opened(pg_target)
    head = ledger.head()
    subprocess.run(os.environ["RECTFLOW_PG_RESTART"], shell=True, check=True)  # noqa: S602
    deadline = time.monotonic() + 60
    while True:  # the server may still be starting
        try:
            ledger.fire("F0", "start", actor="乙", at=t(2))
            break
        except StorageError:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    assert ledger.head().count == head.count + 1
    assert ledger.verify(anchor=head).ok
    ledger.close()
