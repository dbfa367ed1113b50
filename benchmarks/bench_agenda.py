"""The agenda over a large synthetic ledger: memory backend and SQLite.

Loads N findings (see ``_data`` for the mix and why they are inserted directly),
times ``ledger.agenda(as_of=AS_OF)`` on the indexed path (the clock is inside
AS_OF), checks the agenda against a brute-force scan of every row, and for
contrast times the parts: the four index queries alone, one inspection's
agenda, the brute-force scan, and the replay path (as of the day before).
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.util
import tempfile
import time
from pathlib import Path
from typing import Any

import _data
import _public
from _common import fmt_s, median_seconds, rss_bytes, say, table

from rectflow import Ledger, MemoryStore, Workflow
from rectflow._model import OPEN_STATES
from rectflow._store.base import AgendaQuery
from rectflow._time import end_of_day
from rectflow._views.agenda import _Builder, _completion_bound

TARGET_MEMORY_S = 0.5
TARGET_SQLITE_S = 2.0


def _queries(ledger: Ledger) -> list[AgendaQuery]:
    """The index queries the indexed path runs (same arguments as ``_agenda._indexed``)."""
    b = _Builder(ledger.policy, ledger.workflow.calendar, _data.AS_OF)
    return [
        AgendaQuery(states=OPEN_STATES, deadline_until=b.horizon),
        AgendaQuery(checkpoint_before=b.day),
        AgendaQuery(completed_until=end_of_day(_completion_bound(b), _data.TZ)),
        AgendaQuery(recurring_due_until=b.day),
    ]


def _check(ledger: Ledger, agenda: Any, findings: Any) -> tuple[str, float, dict[str, int]]:
    """Compare the agenda with a brute-force scan; returns (verdict, scan time, counts)."""
    t0 = time.perf_counter()
    brute = _data.brute_force(findings, ledger.policy, _data.AS_OF)
    scan = time.perf_counter() - t0
    got = _data.agenda_ids(agenda)
    counts = {k: len(v) for k, v in got.items()}
    if got == brute:
        return "match", scan, counts
    diff = {k: (len(got[k]), len(brute[k])) for k in got if got[k] != brute[k]}
    return f"MISMATCH (agenda, scan) {diff}", scan, counts


def _measure(
    label: str, ledger: Ledger, n: int, repeats: int, target: float, findings: Any
) -> dict[str, Any]:
    say(f"[{label}] timing agenda(as_of={_data.AS_OF}) x{repeats} ...")
    assert end_of_day(_data.AS_OF, _data.TZ) >= ledger.now()  # the indexed path
    med, runs = median_seconds(lambda: ledger.agenda(as_of=_data.AS_OF), repeats)
    agenda = ledger.agenda(as_of=_data.AS_OF)
    items = len(agenda.items)
    queries = _queries(ledger)
    q_med, _ = median_seconds(
        lambda: [list(ledger.store.select(q)) for q in queries], max(1, repeats // 2)
    )
    one_med, _ = median_seconds(
        lambda: ledger.agenda(as_of=_data.AS_OF, inspection="R07"), max(1, repeats // 2)
    )
    say(f"[{label}] brute-force check ...")
    verdict, scan, counts = _check(ledger, agenda, findings())
    rows = [
        ("findings (N)", f"{n:,}"),
        ("agenda items", f"{items:,}"),
        ("  by kind", ", ".join(f"{k} {v:,}" for k, v in counts.items())),
        (
            f"agenda, median of {repeats}",
            f"{fmt_s(med)}  (runs: {', '.join(fmt_s(r) for r in runs)})",
        ),
        ("target", f"< {fmt_s(target)}: {'MET' if med < target else 'NOT MET'}"),
        ("per item", fmt_s(med / max(items, 1))),
        ("the 4 index queries alone", fmt_s(q_med)),
        ("one inspection's agenda (1/100)", fmt_s(one_med)),
        ("brute-force scan of every row", fmt_s(scan)),
        ("agenda == brute-force scan", verdict),
    ]
    return {
        "label": label,
        "n": n,
        "median": med,
        "runs": runs,
        "items": items,
        "rows": rows,
        "ok": verdict == "match",
    }


def run_memory(n: int, repeats: int, mix: str = "heavy", *, public: bool = False) -> dict[str, Any]:
    """Load *n* findings into a MemoryStore, time the agenda, check it; also RSS per finding.

    With *public*, the findings are loaded through ``add_finding`` and ``fire``
    (:mod:`_public`) rather than appended to the store as built records.
    """
    wf = Workflow()
    say(f"[memory] planning {n:,} findings ...")
    specs = _data.make_specs(n, mix=mix)
    store = MemoryStore()
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    if public:
        say(f"[memory] loading {n:,} findings through add_finding and fire ...")
        ledger = Ledger(store, policy=wf.policy, workflow=wf, clock=lambda: _data.NOW)
        _public.load(ledger, specs)
    else:
        order = list(_data.load_order(specs, by_deadline=True))
        for insp in _data.inspections():
            store.add_inspection(insp)
        say(f"[memory] loading {n:,} findings (store.append, in deadline order) ...")
        for event, finding in _data.records(specs, order, wf):
            store.append(event, finding, 0)
        del order
    load = time.perf_counter() - t0
    gc.collect()
    rss1 = rss_bytes()
    ledger = Ledger(store, policy=wf.policy, workflow=wf, clock=lambda: _data.NOW)
    result = _measure("memory", ledger, n, repeats, TARGET_MEMORY_S, store.findings)
    per = (rss1 - rss0) / n
    result["rss_per_finding"] = per
    result["rows"][1:1] = [
        (
            "load time (add_finding + fire)" if public else "load time (build + append)",
            f"{fmt_s(load)}  ({fmt_s(load / n)} per finding)",
        ),
        (
            "RSS growth per finding",
            f"{per:,.0f} B  (target < 1024 B: {'MET' if per < 1024 else 'NOT MET'})",
        ),
    ]
    say("[memory] replay path (as of the day before: every finding is visited) ...")
    day_before = _data.AS_OF - dt.timedelta(days=1)
    t0 = time.perf_counter()
    ledger.agenda(as_of=day_before)
    result["rows"].append(("replay path, as of AS_OF - 1 (1 run)", fmt_s(time.perf_counter() - t0)))
    table(f"Agenda on the memory backend, N = {n:,}", ("measure", "value"), result["rows"])
    result["ledger"] = ledger
    return result


def run_sqlite(
    n: int, repeats: int, budget: float, mix: str = "heavy", *, public: bool = False
) -> dict[str, Any] | None:
    """Load up to *n* findings into SQLite within *budget* seconds of loading, time the agenda.

    With *public*, through ``add_finding`` and ``fire`` in batches (:mod:`_public`).
    """
    if importlib.util.find_spec("rectflow._store.sqlite") is None:
        say("[sqlite] rectflow._store.sqlite is missing: SQLite benchmark skipped")
        return None
    try:
        from rectflow._store.sqlite import SqliteStore  # noqa: PLC0415
    except ImportError as exc:
        say(f"[sqlite] rectflow._store.sqlite cannot be imported ({exc}): skipped")
        return None
    wf = Workflow()
    specs = _data.make_specs(n, mix=mix)
    with tempfile.TemporaryDirectory(prefix="rectflow-bench-") as tmp:
        path = Path(tmp) / "ledger.db"
        store = SqliteStore(path)
        say(f"[sqlite] loading up to {n:,} findings in one transaction (budget {budget:.0f} s) ...")
        loaded = 0
        t0 = time.perf_counter()
        if public:
            loader = Ledger(store, policy=wf.policy, workflow=wf, clock=lambda: _data.NOW)
            loaded = _public.load(loader, specs, budget)
        else:
            with store.transaction():
                for insp in _data.inspections():
                    store.add_inspection(insp)
                for event, finding in _data.records(specs, range(n), wf):
                    store.append(event, finding, 0)
                    loaded += 1
                    if loaded % 5000 == 0 and time.perf_counter() - t0 > budget:
                        break
        load = time.perf_counter() - t0
        if loaded < n:
            say(f"[sqlite] loading budget reached at N = {loaded:,} (of {n:,} asked)")
        ledger = Ledger(store, policy=wf.policy, workflow=wf, clock=lambda: _data.NOW)
        result = _measure("sqlite", ledger, loaded, repeats, TARGET_SQLITE_S, store.findings)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        result["rows"][1:1] = [
            (
                "load time (add_finding + fire, batches)" if public else "load time (1 tx)",
                f"{fmt_s(load)}  ({fmt_s(load / loaded)} per finding)",
            ),
            (
                "file size (db + wal)",
                f"{size / 2**20:,.0f} MiB  ({size / loaded:,.0f} B per finding)",
            ),
        ]
        result["n_asked"] = n
        title = f"Agenda on SQLite, N = {loaded:,}"
        if loaded < n:
            title += f" (load budget {budget:.0f} s reached; {n:,} asked)"
        table(title, ("measure", "value"), result["rows"])
        store.close()
    return result


def profiled_ledger(n: int) -> Ledger:
    """A memory ledger of *n* findings loaded through the public path (what the agenda's
    profile in ``run.py`` queries; the load itself is not profiled)."""
    wf = Workflow()
    ledger = Ledger(MemoryStore(), policy=wf.policy, workflow=wf, clock=lambda: _data.NOW)
    _public.load(ledger, _data.make_specs(n, mix="heavy"))
    return ledger


def profile_agenda(ledger: Ledger) -> None:
    """The agenda as of the benchmark's day, a few times (what the profile records)."""
    for _ in range(3):
        ledger.agenda(as_of=_data.AS_OF)
