"""PostgreSQL faults: a writer whose connection dies mid-batch, a connection lost between fires."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def test_writer_killed_inside_batch_stores_nothing(
    pg_target: str, pg_sql: Callable[..., list[Any]]
) -> None:
    """Terminating the writer's backend inside batch(): StorageError naming it, nothing stored, reopen fine."""
    setup(pg_target)
    with opened(pg_target) as before:
        head = before.head()
    ledger = opened(pg_target)
    pid = backend_pid(ledger)

    def block() -> None:
        with ledger.batch():
            ledger.fire("F0", "start", actor="乙", at=t(2))
            ledger.add_actor("丙", roles=["leader"], inspection="R1", actor="办", at=t(2))
            pg_sql("SELECT pg_terminate_backend(%s)", (pid,))
            ledger.fire("F1", "start", actor="乙", at=t(2))

    with pytest.raises(StorageError) as info:
        block()
    text = str(info.value)
    assert "terminating connection" in text, text  # the cause, as the server gave it
    ledger.close()
    with opened(pg_target) as again:
        assert again.head() == head
        assert again.verify(anchor=head).ok
        assert again.get("F0").state == "assigned"
        assert again.grants("丙") == []
        again.fire("F0", "start", actor="乙", at=t(3))
        assert again.verify(anchor=head).ok


def test_connection_lost_between_fires(pg_target: str, pg_sql: Callable[..., list[Any]]) -> None:
    """A connection cut between two fires (as a server restart would): the next fire fails typed, reopen works."""
    setup(pg_target)
    ledger = opened(pg_target)
    ledger.fire("F0", "start", actor="乙", at=t(2))
    head = ledger.head()
    pg_sql("SELECT pg_terminate_backend(%s)", (backend_pid(ledger),))
    with pytest.raises(StorageError):
        ledger.fire("F1", "start", actor="乙", at=t(2))
    ledger.close()
    with opened(pg_target) as again:
        assert again.head() == head
        assert again.verify(anchor=head).ok
        again.fire("F1", "start", actor="乙", at=t(2))
