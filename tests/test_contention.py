"""Contention: many processes firing at the same findings lose no update, on SQLite and PostgreSQL.

Each worker is a real process (this file run as a script) that fires
``record_measure`` on random findings of one shared ledger, with
``Writer.before_write`` sleeping between reading the finding and appending,
to widen the read-write gap. Afterwards the ledger must account for every
acknowledged fire: the sum of the findings' versions equals the events stored
equals the setup events plus the fires the workers were told succeeded, and
every refused fire was a ``ConcurrencyConflict``.

The negative control switches the store's version check off
(``store._unsafe_no_version_check``: the UPDATE becomes last-writer-wins and a
duplicate event is dropped silently) and shows the same check catching the
lost updates.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from typing import Any

import pendulum
import pytest

from rectflow import Ledger, Measure, Owner, Policy
from rectflow.exceptions import ConcurrencyConflict

NOW = pendulum.datetime(2030, 1, 1, tz="Asia/Shanghai")
AT = "2029-06-01T09:00:00+08:00"
"""Every contended fire happens at this instant (same instant: allowed, never backwards)."""
FINDINGS = 20


def open_ledger(target: str) -> Ledger:
    """The shared ledger, with a fixed clock far in the future."""
    return Ledger.open(target, policy=Policy(calendar="weekdays"), clock=lambda: NOW)


def setup_ledger(target: str) -> int:
    """Create the findings, each in progress with a recurring measure; return the events written."""
    with open_ledger(target) as ledger:
        ledger.add_inspection(
            "R1", title="并发测试", feedback_at="2029-04-30", at="2029-04-30T09:00:00+08:00"
        )
        owner = Owner(leader="张校长", department="德育处", person="王老师")
        for i in range(FINDINGS):
            fid = f"F{i:02d}"
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
        return ledger.head().count - len(ledger.ledger_history())  # the findings' events


def work(
    target: str, fires: int, findings: int, seed: int, gap: float, unsafe: bool
) -> dict[str, Any]:
    """One worker: *fires* record_measure events on random findings; count outcomes."""
    ledger = open_ledger(target)
    ledger.store._unsafe_no_version_check = unsafe  # type: ignore[attr-defined]
    ledger._writer.before_write = lambda: time.sleep(gap)
    rng = random.Random(seed)
    print("ready", flush=True)
    sys.stdin.readline()  # wait for the others
    ok = conflicts = malformed = 0
    for _ in range(fires):
        fid = f"F{rng.randrange(findings):02d}"
        try:
            ledger.fire(
                fid,
                "record_measure",
                actor=rng.choice(["王老师", "李主任"]),
                at=AT,
                measure=f"{fid}-m",
            )
            ok += 1
        except ConcurrencyConflict as exc:
            conflicts += 1
            malformed += exc.finding_id != fid or exc.actual <= exc.expected
    ledger.close()
    return {"ok": ok, "conflicts": conflicts, "malformed": malformed}


def run_workers(
    target: str,
    workers: int,
    fires: int,
    *,
    findings: int = FINDINGS,
    gap: float = 0.002,
    unsafe: bool = False,
) -> list[dict[str, Any]]:
    """Start *workers* processes together and collect their counts (any other error fails the test)."""
    procs = []
    for n in range(workers):
        args = json.dumps([target, fires, findings, n, gap, unsafe])
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line.strip() == "ready", (line, p.stderr.read() if p.stderr else "")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return results


def lost_updates(target: str, setup_events: int, results: list[dict[str, Any]]) -> dict[str, int]:
    """Reconcile the ledger with what the workers were told; a correct store loses nothing."""
    with open_ledger(target) as ledger:
        findings = list(ledger.findings())
        versions = sum(f.version for f in findings)
        stored = ledger.head().count - len(ledger.ledger_history())  # findings' events
        gaps = sum(
            1
            for f in findings
            if [e.version for e in ledger.history(f.id)] != list(range(1, f.version + 1))
        )
        verified = ledger.verify().ok
    acknowledged = sum(r["ok"] for r in results)
    return {
        "lost": setup_events + acknowledged - versions,
        "unaccounted_events": stored - versions,
        "history_gaps": gaps,
        "verify_failed": int(not verified),
        "conflicts": sum(r["conflicts"] for r in results),
        "malformed_conflicts": sum(r["malformed"] for r in results),
        "acknowledged": acknowledged,
    }


def assert_no_lost_update(report: dict[str, int], attempts: int) -> None:
    """Nothing lost, nothing extra, every attempt accounted for, and the race was really run."""
    assert report["lost"] == 0, report
    assert report["unaccounted_events"] == 0, report
    assert report["history_gaps"] == 0, report
    assert report["verify_failed"] == 0, report
    assert report["malformed_conflicts"] == 0, report
    assert report["acknowledged"] + report["conflicts"] == attempts, report
    assert report["conflicts"] > 0, f"no conflict happened: the test did not race ({report})"


@pytest.mark.slow
def test_sqlite_four_processes_lose_no_update(sqlite_target: str) -> None:
    """4 processes x 500 fires on 20 findings of one SQLite file: 0 lost updates, conflicts raised as such."""
    setup = setup_ledger(sqlite_target)
    results = run_workers(sqlite_target, 4, 500)
    report = lost_updates(sqlite_target, setup, results)
    print(report)
    assert_no_lost_update(report, 4 * 500)


@pytest.mark.slow
def test_sqlite_negative_control_catches_lost_updates(sqlite_target: str) -> None:
    """With the version check switched off, the same reconciliation finds lost updates."""
    setup = setup_ledger(sqlite_target)
    results = run_workers(sqlite_target, 4, 100, findings=5, unsafe=True)
    report = lost_updates(sqlite_target, setup, results)
    print(report)
    assert report["lost"] > 0, report
    assert report["conflicts"] == 0, report
    with pytest.raises(AssertionError):
        assert_no_lost_update(report, 4 * 100)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_eight_processes_lose_no_update(pg_target: str) -> None:
    """8 processes x 250 fires on 20 findings of one PostgreSQL ledger: 0 lost updates."""
    setup = setup_ledger(pg_target)
    results = run_workers(pg_target, 8, 250)
    report = lost_updates(pg_target, setup, results)
    print(report)
    assert_no_lost_update(report, 8 * 250)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_negative_control_catches_lost_updates(pg_target: str) -> None:
    """With the version check switched off on PostgreSQL, the reconciliation finds lost updates."""
    setup = setup_ledger(pg_target)
    results = run_workers(pg_target, 4, 100, findings=5, unsafe=True)
    report = lost_updates(pg_target, setup, results)
    print(report)
    assert report["lost"] > 0, report
    with pytest.raises(AssertionError):
        assert_no_lost_update(report, 4 * 100)


if __name__ == "__main__":
    target, fires, findings, seed, gap, unsafe = json.loads(sys.argv[1])
    print(json.dumps(work(target, fires, findings, seed, gap, unsafe)), flush=True)
