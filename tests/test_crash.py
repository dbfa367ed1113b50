"""Crash: kill -9 a writer in the middle of a batch; every trial is all or nothing.

The writer is a real process (this file run as a script) that opens the
ledger and runs one batch: an inspection and ``BATCH`` fires, announcing each
step on stdout. The test kills it with SIGKILL at a random step (sometimes
right after the last fire, while it commits, sometimes after the commit), then
reopens the ledger: the batch is entirely there or entirely absent,
``PRAGMA integrity_check`` is ok, and ``verify`` passes against the head
taken before the trial.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pendulum
import pytest

from rectflow import Ledger, Measure, Owner, Policy

NOW = pendulum.datetime(2030, 1, 1, tz="Asia/Shanghai")
AT = "2029-06-01T09:00:00+08:00"
BATCH = 20
FINDINGS = 5


def open_ledger(target: str) -> Ledger:
    """The ledger, with a fixed clock far in the future."""
    return Ledger.open(target, policy=Policy(calendar="weekdays"), clock=lambda: NOW)


def setup_ledger(target: str) -> None:
    """Findings in progress, each with a recurring measure (record_measure can repeat forever)."""
    with open_ledger(target) as ledger:
        ledger.add_inspection(
            "R1", title="崩溃测试", feedback_at="2029-04-30", at="2029-04-30T09:00:00+08:00"
        )
        for i in range(FINDINGS):
            fid = f"F{i}"
            ledger.add_finding(
                fid,
                inspection="R1",
                title=f"问题 {fid}",
                kind="long_term",
                owner=Owner(leader="张校长", department="德育处", person="王老师"),
                deadline="2029-12-31",
                actor="巡察办",
                at="2029-05-01T09:00:00+08:00",
                measures=[Measure(f"{fid}-m", "每月排查", "recurring", cadence="monthly")],
            )
            ledger.fire(fid, "start", actor="王老师", at="2029-05-02T09:00:00+08:00")


def write_batch(target: str, trial: int) -> None:
    """The writer: one batch of an inspection and BATCH fires, each step announced; then wait to die."""
    ledger = open_ledger(target)
    ledger._writer.before_write = lambda: time.sleep(0.002)
    print("open", flush=True)
    with ledger.batch():
        ledger.add_inspection(f"B{trial}", title="批次", feedback_at="2029-05-01", at=AT)
        for k in range(BATCH):
            fid = f"F{k % FINDINGS}"
            ledger.fire(fid, "record_measure", actor="王老师", at=AT, measure=f"{fid}-m")
            print(f"fire {k}", flush=True)
    print("commit", flush=True)
    time.sleep(60)


def kill_during_batch(target: str, trial: int, stop: str, rng: random.Random) -> None:
    """Start a writer and SIGKILL it once it printed *stop* (plus a random few milliseconds)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, json.dumps([target, trial])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        line = ""
        while line != stop:
            line = proc.stdout.readline().strip()
            if not line:
                pytest.fail(f"writer ended early: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(rng.choice([0, 0, 0.001, 0.003]))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def stop_line(trial: int, rng: random.Random) -> str:
    """Where trial *trial* kills its writer: mostly mid-batch, every sixth around or after the commit."""
    if trial % 6 == 4:
        return f"fire {BATCH - 1}"  # the last fire is done: the kill lands in or around COMMIT
    if trial % 6 == 5:
        return "commit"
    return f"fire {rng.randrange(BATCH - 1)}"


def run_trials(target: str, trials: int, seed: int) -> dict[str, int]:
    """Kill *trials* writers; after each, the ledger holds all of its batch or none of it."""
    rng = random.Random(seed)
    outcomes = {"all": 0, "nothing": 0}
    with open_ledger(target) as ledger:
        head = ledger.head()
        inspections = len(ledger.inspections())
    for trial in range(trials):
        stop = stop_line(trial, rng)
        kill_during_batch(target, trial, stop, rng)
        with open_ledger(target) as ledger:
            result = ledger.verify(anchor=head)
            assert result.ok, result.problems
            added = ledger.head().count - head.count
            added_inspections = len(ledger.inspections()) - inspections
            assert (added, added_inspections) in ((0, 0), (BATCH + 1, 1)), (trial, stop, added)
            if stop == "commit":
                assert added == BATCH + 1  # the batch's fires and its inspection's event
            elif stop != f"fire {BATCH - 1}":
                assert added == 0
            outcomes["all" if added else "nothing"] += 1
            head, inspections = ledger.head(), len(ledger.inspections())
        if not target.startswith("postgresql://"):
            conn = sqlite3.connect(target)
            try:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            finally:
                conn.close()
    return outcomes


@pytest.mark.slow
def test_sqlite_writer_killed_mid_batch(sqlite_target: str) -> None:
    """24 SIGKILLed SQLite writers: each batch is all or nothing, the file is intact and verifies."""
    setup_ledger(sqlite_target)
    outcomes = run_trials(sqlite_target, 24, seed=20240101)
    assert outcomes["nothing"] > 0
    assert outcomes["all"] > 0


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_writer_killed_mid_batch(pg_target: str) -> None:
    """10 SIGKILLed PostgreSQL writers: each batch is all or nothing and the ledger verifies."""
    setup_ledger(pg_target)
    outcomes = run_trials(pg_target, 10, seed=7)
    assert outcomes["nothing"] > 0
    assert outcomes["all"] > 0


if __name__ == "__main__":
    write_batch(*json.loads(sys.argv[1]))
