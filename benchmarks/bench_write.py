"""The write path against its peers (issue 10): fire, lifecycle, SQLite/PostgreSQL, memory.

Every figure is a list of timings (seconds per unit) over at least five repeats; a
large workload is timed in five consecutive slices, each slice a repeat (the same
work is not run five times over at 10^6). ``record(...)`` keeps them as
``{"median", "min", "max", "runs"}`` in the results.

The workload of one finding is its lifecycle: ``add``, ``start``, ``submit``
(evidence), ``sign_off`` (by another actor), then ``spot_check`` (seed) as a fifth
event for the report and verify figures.

The headline memory figures (``add_memory``, ``fire_memory``, ``lifecycle_memory``)
follow the README's path: a ledger opened with no ``clock=`` (the wall clock in the
policy's zone), ISO-8601 strings for ``at`` and for the deadline, and an ``Owner``
of its own for each finding (a responsible person per finding, as the README and
an import produce). The ``*_fixed`` rows are the same work on a fixed clock with
pendulum times and one shared owner (the path of issue 10's figures).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import _peers
import pendulum

from rectflow import Ledger, MemoryStore, Owner
from rectflow._codec import time_text
from rectflow._store.migrations import utc_micros

TZ = "Asia/Shanghai"
NOW = pendulum.datetime(2025, 6, 1, 8, tz=TZ)
T_ADD = pendulum.datetime(2025, 1, 3, 9, tz=TZ)
STEPS: tuple[tuple[str, str, dict[str, Any], pendulum.DateTime], ...] = (
    ("start", "王老师", {}, pendulum.datetime(2025, 1, 6, 9, tz=TZ)),
    ("submit", "王老师", {"evidence": ["整改照片.pdf"]}, pendulum.datetime(2025, 1, 7, 9, tz=TZ)),
    ("sign_off", "陈主任", {}, pendulum.datetime(2025, 1, 8, 9, tz=TZ)),
)
SPOT = ("spot_check", "李主任", {"seed": 7}, pendulum.datetime(2025, 1, 10, 9, tz=TZ))
REPORT_AS_OF = "2025-01-09"  # after sign-off, before the spot check: every finding replays
OWNER = Owner("张校长", "德育处", "王老师")
SLICES = 5


def fid(i: int) -> str:
    """The id of finding *i*."""
    return f"F{i:07d}"


def summary(runs: Sequence[float]) -> dict[str, Any]:
    """Median, min, max of *runs* (and the runs)."""
    return {
        "median": statistics.median(runs),
        "min": min(runs),
        "max": max(runs),
        "runs": list(runs),
    }


def sliced(n: int, work: Callable[[range], None], per: float = 1.0) -> list[float]:
    """Run *work* over 0..n in five consecutive slices; seconds per unit of each slice."""
    bounds = [n * k // SLICES for k in range(SLICES + 1)]
    runs = []
    gc.collect()
    for lo, hi in itertools.pairwise(bounds):
        t0 = time.perf_counter()
        work(range(lo, hi))
        runs.append((time.perf_counter() - t0) / max(1, (hi - lo) * per))
    return runs


def repeated(fn: Callable[[], float], repeats: int = SLICES) -> list[float]:
    """*repeats* runs of *fn*, which returns its own per-unit time."""
    runs = []
    for _ in range(repeats):
        gc.collect()
        runs.append(fn())
    return runs


# ---------------------------------------------------------------- rectflow's workload


def new_ledger(target: str | MemoryStore = ":memory:") -> Ledger:
    """A ledger on *target* with inspection R1 and the benchmark clock."""
    ledger = (
        Ledger(target, clock=lambda: NOW)
        if isinstance(target, MemoryStore)
        else Ledger.open(target, clock=lambda: NOW)
    )
    if not ledger.inspections():
        ledger.add_inspection("R1", title="巡察", feedback_at="2025-01-02", at=T_ADD)
    return ledger


def add(ledger: Ledger, ids: range) -> None:
    """Add findings *ids* through ``Ledger.add_finding``."""
    for i in ids:
        ledger.add_finding(
            fid(i),
            inspection="R1",
            title=f"问题 {i}",
            kind="deadline",
            owner=OWNER,
            deadline="2025-05-01",
            actor="巡察办",
            at=T_ADD,
        )


def fire_steps(ledger: Ledger, ids: range, steps: Sequence[Any] = STEPS) -> None:
    """Fire *steps* on each finding of *ids*, finding by finding."""
    for i in ids:
        f = fid(i)
        for name, actor, extra, at in steps:
            ledger.fire(f, name, actor=actor, at=at, **extra)


PER_BATCH = 2_500
"""Findings per batch: 10^4 events of their lifecycles."""


def batched(ledger: Ledger, ids: range) -> None:
    """The lifecycles of *ids* inside ``ledger.batch()``, PER_BATCH findings a batch."""
    for lo in range(ids.start, ids.stop, PER_BATCH):
        with ledger.batch():
            lifecycle(ledger, range(lo, min(ids.stop, lo + PER_BATCH)))


def lifecycle(ledger: Ledger, ids: range) -> None:
    """Add each finding and fire its three lifecycle events."""
    for i in ids:
        add(ledger, range(i, i + 1))
        fire_steps(ledger, range(i, i + 1))


# ---------------------------------------------------------------- the README's path

T_ADD_TEXT = time_text(T_ADD)
STEPS_TEXT: tuple[tuple[str, str | None, dict[str, Any], str], ...] = tuple(
    (name, None if actor == "王老师" else actor, extra, time_text(at))
    for name, actor, extra, at in STEPS
)
"""STEPS with ISO text for ``at``; actor None: the finding's own responsible person."""


def person(i: int) -> str:
    """The responsible person of finding *i* on the README's path (one per finding)."""
    return f"王老师{i}"


def readme_ledger() -> Ledger:
    """A memory ledger as the README opens one: no ``clock=``, ISO text for ``at``."""
    ledger = Ledger.open(":memory:")
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2025-01-02", at="2025-01-03T09:00:00+08:00"
    )
    return ledger


def readme_add(ledger: Ledger, ids: range) -> None:
    """Add findings *ids* as the README does: an owner each, ISO text for ``at``."""
    for i in ids:
        ledger.add_finding(
            fid(i),
            inspection="R1",
            title=f"问题 {i}",
            kind="deadline",
            owner=Owner("张校长", "德育处", person(i)),
            deadline="2025-05-01",
            actor="巡察办",
            at=T_ADD_TEXT,
        )


def readme_fire(ledger: Ledger, ids: range) -> None:
    """Fire the lifecycle's steps on *ids* with ISO text for ``at``."""
    for i in ids:
        f = fid(i)
        for name, actor, extra, at in STEPS_TEXT:
            ledger.fire(f, name, actor=actor or person(i), at=at, **extra)


def readme_lifecycle(ledger: Ledger, ids: range) -> None:
    """Add each finding and fire its three lifecycle events, the README's way."""
    for i in ids:
        readme_add(ledger, range(i, i + 1))
        readme_fire(ledger, range(i, i + 1))


# ---------------------------------------------------------------- memory figures


def readme_figures(n: int) -> dict[str, list[float]]:
    """add, fire and a lifecycle on the README's path (each ledger dropped after its figure)."""
    out: dict[str, list[float]] = {}
    readme = readme_ledger()
    out["add_memory"] = sliced(n, lambda ids: readme_add(readme, ids))
    out["fire_memory"] = sliced(n, lambda ids: readme_fire(readme, ids), per=len(STEPS))
    readme = readme_ledger()  # a fresh one: the first is dropped
    gc.collect()
    out["lifecycle_memory"] = sliced(n, lambda ids: readme_lifecycle(readme, ids))
    return out


def memory_fire(n: int) -> dict[str, list[float]]:
    """Ledger.fire and Workflow.apply per event, add per finding, lifecycle per finding.

    The README's path first (the headline rows), then the fixed clock's (``*_fixed``).
    """
    out = readme_figures(n)
    gc.collect()
    ledger = new_ledger()
    out["add_memory_fixed"] = sliced(n, lambda ids: add(ledger, ids))
    out["fire_memory_fixed"] = sliced(n, lambda ids: fire_steps(ledger, ids), per=len(STEPS))
    # Workflow.apply alone, on records and events prepared beforehand.
    wf = ledger.workflow
    prepared = []
    for i in range(min(n, 20_000)):
        history = ledger.history(fid(i))
        prepared.append((wf.create(history[0]), history[1:]))

    def apply_all(ids: range) -> None:
        apply = wf.apply
        for i in ids:
            finding, events = prepared[i]
            for event in events:
                finding = apply(finding, event, now=NOW)

    out["apply"] = sliced(len(prepared), apply_all, per=len(STEPS))
    fresh_fixed = new_ledger()
    out["lifecycle_memory_fixed"] = sliced(n, lambda ids: lifecycle(fresh_fixed, ids))
    return out


PEERS: dict[str, Callable[[], Any]] = {
    "peer_a": _peers.DictPeer,
    "peer_b": _peers.SharedMachinePeer,
    "peer_c": _peers.MachinePerObjectPeer,
    "peer_d": _peers.StatemachinePeer,
}


def peer_figures(key: str, n: int) -> dict[str, list[float]]:
    """Peer *key*: per event on n records, and a record's lifecycle (new + 3 events)."""
    peer = PEERS[key]()
    events = [(name, actor, at) for name, actor, _, at in STEPS]
    records = [peer.new(fid(i)) for i in range(n)]

    def fire_all(ids: range) -> None:
        fire = peer.fire
        for i in ids:
            r = records[i]
            for name, actor, at in events:
                fire(r, name, actor, at)

    out = {f"{key}_event": sliced(n, fire_all, per=len(events))}
    records.clear()

    def whole(ids: range) -> None:
        fire = peer.fire
        for i in ids:
            r = peer.new(fid(i))
            for name, actor, at in events:
                fire(r, name, actor, at)

    out[f"{key}_lifecycle"] = sliced(n, whole)
    return out


def memory_footprint(n: int) -> dict[str, float]:
    """Traced bytes per finding held by a memory ledger after add, and after 3 more events."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    ledger = new_ledger()
    after_setup = tracemalloc.get_traced_memory()[0]
    add(ledger, range(n))
    gc.collect()
    after_add = tracemalloc.get_traced_memory()[0]
    fire_steps(ledger, range(n))
    gc.collect()
    after_four = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del base
    return {
        "bytes_after_add": (after_add - after_setup) / n,
        "bytes_after_4_events": (after_four - after_setup) / n,
    }


def report_verify(ledger: Ledger, n: int, repeats: int) -> dict[str, list[float]]:
    """report(as_of) per finding and verify per event on a ledger of n findings x 5 events."""
    count = ledger.head().count

    def report() -> float:
        t0 = time.perf_counter()
        ledger.report("R1", as_of=REPORT_AS_OF)
        return (time.perf_counter() - t0) / n

    def verify() -> float:
        t0 = time.perf_counter()
        result = ledger.verify()
        elapsed = time.perf_counter() - t0
        if not result:
            raise SystemExit(f"verify failed on the benchmark ledger: {result.problems[:3]}")
        return elapsed / count

    return {"report": repeated(report, repeats), "verify": repeated(verify, repeats)}


def five_events(ledger: Ledger, n: int) -> None:
    """Give each of n findings (already through the lifecycle) its fifth event."""
    with ledger.batch():
        fire_steps(ledger, range(n), (SPOT,))


# ---------------------------------------------------------------- durable figures


@contextlib.contextmanager
def tempdir() -> Iterator[Path]:
    """A temporary directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="rectflow-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _times(at: pendulum.DateTime) -> tuple[str, int, Any]:
    return (time_text(at), utc_micros(at), at)


def raw_events() -> list[tuple[str, str, Any]]:
    """The lifecycle's events as the raw peer writes them."""
    return [(name, actor, _times(at)) for name, actor, _, at in STEPS]


def preload(ledger: Ledger, n: int, chunk: int = 10_000) -> None:
    """Add n findings through the public path, in batches of *chunk*."""
    for lo in range(0, n, chunk):
        with ledger.batch():
            add(ledger, range(lo, min(n, lo + chunk)))


def sqlite_figures(n: int, commits: int, tmp: Path) -> dict[str, list[float]]:
    """SQLite: one commit per fire (on a ledger of n findings) and lifecycles inside batch()."""
    out: dict[str, list[float]] = {}
    path = str(tmp / "ledger.db")
    ledger = new_ledger(path)
    preload(ledger, n)
    ledger.close()
    raw_path = str(tmp / "raw.db")
    shutil.copy(path, raw_path)
    k = min(n, commits)
    ledger = new_ledger(path)
    start = STEPS[0]
    out["sqlite_commit"] = sliced(
        k, lambda ids: fire_steps(ledger, ids, (start,))
    )  # each fire its own transaction
    ledger.close()
    conn = sqlite3.connect(raw_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    peer = _peers.RawSqlPeer(conn, "?", sqlite=True, deadline="2025-05-01")
    peer.seq, peer.prev = conn.execute(
        "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    first = raw_events()[0]

    def raw_commit(ids: range) -> None:
        for i in ids:
            conn.execute("BEGIN IMMEDIATE")
            peer.fire(fid(i), *first)
            conn.execute("COMMIT")

    out["raw_sqlite_commit"] = sliced(k, raw_commit)
    conn.close()
    out.update(sqlite_batch(n, tmp))
    return out


def sqlite_batch(n: int, tmp: Path) -> dict[str, list[float]]:
    """Lifecycles (add + 3 events) inside batch(), 2,500 findings (10^4 events) per batch."""
    out: dict[str, list[float]] = {}
    path = str(tmp / "batch.db")
    ledger = new_ledger(path)
    out["sqlite_batch"] = sliced(n, lambda ids: batched(ledger, ids), per=1 + len(STEPS))
    ledger.close()
    raw_path = str(tmp / "raw-batch.db")
    new_ledger(raw_path).close()  # rectflow's schema, empty
    conn = sqlite3.connect(raw_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    peer = _peers.RawSqlPeer(conn, "?", sqlite=True, deadline="2025-05-01")
    events = raw_events()
    add_at = _times(T_ADD)

    def raw_batched(ids: range) -> None:
        conn.execute("BEGIN IMMEDIATE")
        done = 0
        for i in ids:
            f = fid(i)
            peer.add(f, "巡察办", add_at)
            for name, actor, at in events:
                peer.fire(f, name, actor, at)
            done += 1 + len(events)
            if done >= 10_000:
                conn.execute("COMMIT")
                conn.execute("BEGIN IMMEDIATE")
                done = 0
        conn.execute("COMMIT")

    out["raw_sqlite_batch"] = sliced(n, raw_batched, per=1 + len(events))
    conn.close()
    return out


def postgres_figures(url: str, n: int, commits: int) -> dict[str, list[float]]:
    """PostgreSQL: the same two figures and raw peers, each in a schema of its own."""
    import psycopg  # noqa: PLC0415 - the postgres extra

    out: dict[str, list[float]] = {}
    schemas = [f"rf_bench_{os.getpid()}_{s}" for s in ("a", "b", "c", "d")]
    admin = psycopg.connect(url, autocommit=True)
    try:
        target = f"{url}?schema={schemas[0]}"
        ledger = new_ledger(target)
        preload(ledger, n)
        k = min(n, commits)
        start = STEPS[0]
        out["pg_commit"] = sliced(k, lambda ids: fire_steps(ledger, ids, (start,)))
        ledger.close()
        # The raw peer on rectflow's schema, preloaded the same way.
        raw_target = f"{url}?schema={schemas[1]}"
        raw_ledger = new_ledger(raw_target)
        preload(raw_ledger, k)
        raw_ledger.close()
        conn = psycopg.connect(url, autocommit=True)
        conn.execute(f"SET search_path TO {schemas[1]}")
        fire_peer = _peers.RawPgFirePeer(conn, deadline=pendulum.date(2025, 5, 1))
        first = raw_events()[0]

        def raw_commit(ids: range) -> None:
            for i in ids:  # each fire its own (implicit) transaction, as rectflow's
                fire_peer.fire(fid(i), *first)

        out["raw_pg_commit"] = sliced(k, raw_commit)
        # Inside batch(), and the raw batch loop.
        ledger = new_ledger(f"{url}?schema={schemas[2]}")
        out["pg_batch"] = sliced(n, lambda ids: batched(ledger, ids), per=1 + len(STEPS))
        per_batch = PER_BATCH
        ledger.close()
        new_ledger(f"{url}?schema={schemas[3]}").close()
        conn.execute(f"SET search_path TO {schemas[3]}")
        peer = _peers.RawSqlPeer(conn, "%s", sqlite=False, deadline=pendulum.date(2025, 5, 1))
        events = raw_events()
        add_at = _times(T_ADD)

        def raw_batched(ids: range) -> None:
            items = list(ids)
            for lo in range(0, len(items), per_batch):
                with conn.transaction():
                    for i in items[lo : lo + per_batch]:
                        f = fid(i)
                        peer.add(f, "巡察办", add_at)
                        for name, actor, at in events:
                            peer.fire(f, name, actor, at)

        out["raw_pg_batch"] = sliced(n, raw_batched, per=1 + len(events))
        conn.close()
    finally:
        for schema in schemas:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.close()
    return out


def postgres_url() -> str | None:
    """The PostgreSQL server to measure, when one answers (``RECTFLOW_BENCH_PG``)."""
    url = os.environ.get("RECTFLOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg  # noqa: PLC0415

        psycopg.connect(url, connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure: no PostgreSQL figures
        return None
    return url


def sqlite_report_verify(n: int) -> dict[str, list[float]]:
    """report(as_of) and verify on a SQLite ledger of n findings x 5 events."""
    with tempdir() as tmp:
        ledger = new_ledger(str(tmp / "report.db"))
        batched(ledger, range(n))
        five_events(ledger, n)
        out = {f"sqlite_{k}": v for k, v in report_verify(ledger, n, SLICES).items()}
        ledger.close()
    return out


def memory_report_verify(n: int) -> dict[str, list[float]]:
    """report(as_of) and verify on a memory ledger of n findings x 5 events."""
    ledger = new_ledger()
    with ledger.batch():
        lifecycle(ledger, range(n))
    five_events(ledger, n)
    return {f"memory_{k}": v for k, v in report_verify(ledger, n, SLICES).items()}
