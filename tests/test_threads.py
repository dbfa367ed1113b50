"""Threads: one Ledger shared by the threads of a server loses no update, on memory, SQLite, PostgreSQL.

Eight threads fire ``record_measure`` 500 times each on a handful of findings of one
shared ``Ledger``, as request handlers would: read the finding, then fire with the
version they read (``expected_version``). Every refusal must be a
:class:`~rectflow.ConcurrencyConflict`; afterwards each finding's version accounts for
every fire a thread was told succeeded, the chain holds exactly those events, and
``verify()`` passes. The negative control switches the store's version check off and
shows the same accounting catching lost updates.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pendulum
import pytest

from rectflow import ConcurrencyConflict, Ledger, Measure, Owner, Policy

NOW = pendulum.datetime(2030, 1, 1, tz="Asia/Shanghai")
AT = "2029-06-01T09:00:00+08:00"
FINDINGS = 4
THREADS = 8
FIRES = 500


def open_ledger(target: str) -> Ledger:
    """The shared ledger, with a fixed clock."""
    return Ledger.open(target, policy=Policy(calendar="weekdays"), clock=lambda: NOW)


def setup(ledger: Ledger) -> None:
    """FINDINGS findings in progress, each with a recurring measure."""
    ledger.add_inspection(
        "R1", title="并发测试", feedback_at="2029-04-30", at="2029-04-30T09:00:00+08:00"
    )
    owner = Owner(leader="张校长", department="德育处", person="王老师")
    for i in range(FINDINGS):
        fid = f"F{i}"
        ledger.add_finding(
            fid,
            inspection="R1",
            title=f"问题 {fid}",
            kind="long_term",
            owner=owner,
            deadline="2029-12-31",
            actor="巡察办",
            at="2029-05-01T09:00:00+08:00",
            measures=[Measure(f"{fid}-m", "每月排查", "recurring", cadence="monthly")],
        )
        ledger.fire(fid, "start", actor="王老师", at="2029-05-02T09:00:00+08:00")


def hammer(ledger: Ledger, *, expected: bool) -> tuple[Counter[str], int, list[BaseException]]:
    """THREADS threads x FIRES fires on *ledger*: successes per finding, conflicts, other errors."""
    ok: Counter[str] = Counter()
    conflicts = 0
    errors: list[BaseException] = []
    count = threading.Lock()
    start = threading.Barrier(THREADS)

    def work(seed: int) -> None:
        nonlocal conflicts
        rng = random.Random(seed)
        start.wait()
        for _ in range(FIRES):
            fid = f"F{rng.randrange(FINDINGS)}"
            try:
                seen = ledger.get(fid).version if expected else None
                ledger.fire(
                    fid,
                    "record_measure",
                    actor=rng.choice(["王老师", "李主任"]),
                    at=AT,
                    measure=f"{fid}-m",
                    expected_version=seen,
                )
            except ConcurrencyConflict as exc:
                with count:
                    conflicts += 1
                if exc.finding_id != fid or exc.actual <= exc.expected:
                    errors.append(exc)
            except BaseException as exc:  # every other error fails the test
                errors.append(exc)
            else:
                with count:
                    ok[fid] += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a thread hangs"
    return ok, conflicts, errors


def lost_updates(ledger: Ledger, ok: Counter[str], events_before: int) -> int:
    """Acknowledged fires the ledger does not account for (0: none lost)."""
    lost = 0
    for i in range(FINDINGS):
        fid = f"F{i}"
        finding = ledger.get(fid)
        lost += 2 + ok[fid] - finding.version  # add and start, then the fires
        assert len(ledger.history(fid)) == finding.version
    lost += events_before + sum(ok.values()) - ledger.head().count
    return lost


def run(target: str) -> tuple[int, int]:
    """Set up, hammer, check: (successes, conflicts)."""
    ledger = open_ledger(target)
    try:
        setup(ledger)
        before = ledger.head().count
        ok, conflicts, errors = hammer(ledger, expected=True)
        assert not errors, errors[:3]
        assert sum(ok.values()) + conflicts == THREADS * FIRES
        assert lost_updates(ledger, ok, before) == 0
        assert ledger.verify().ok
    finally:
        ledger.close()
    return sum(ok.values()), conflicts


def test_threads_share_a_memory_ledger() -> None:
    """8 threads x 500 fires on one memory Ledger: no lost update, only typed conflicts, chain verified."""
    done, _ = run(":memory:")
    assert done > 0


def test_threads_share_a_sqlite_ledger(sqlite_target: str) -> None:
    """8 threads x 500 fires on one SQLite Ledger: no lost update, only typed conflicts, chain verified."""
    done, _ = run(sqlite_target)
    assert done > 0


@pytest.mark.postgres
@pytest.mark.slow
def test_threads_share_a_postgres_ledger(pg_target: str) -> None:
    """8 threads x 500 fires on one PostgreSQL Ledger: no lost update, only typed conflicts, chain verified."""
    done, _ = run(pg_target)
    assert done > 0


def test_negative_control_catches_lost_updates(sqlite_target: str) -> None:
    """With the store's version check off (last writer wins), the same accounting finds lost updates."""
    ledger = open_ledger(sqlite_target)
    try:
        setup(ledger)
        before = ledger.head().count
        store: Any = ledger.store
        store._unsafe_no_version_check = True
        ledger._writer.before_write = lambda: time.sleep(0.0005)  # the read-write gap a request has
        ok, _, errors = hammer(ledger, expected=False)
        assert not errors, errors[:3]
        assert lost_updates(ledger, ok, before) > 0
    finally:
        ledger.close()
