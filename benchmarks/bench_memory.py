"""Memory per finding in the memory backend, broken down with tracemalloc.

The headline number (RSS growth per finding at the full N) comes from
``bench_agenda.run_memory``; this module says where the bytes go, at a smaller N
(tracemalloc slows allocation down): the current record (``Finding`` with its
``Owner``, ``Measure`` tuple and times), the ``add`` event (with its JSON payload),
and the store's own overhead (chain entry, SHA-256 hex, event list, sorted indexes,
dict slots).
"""

from __future__ import annotations

import gc
import sys
import tracemalloc

import _data
from _common import say, table

from rectflow import MemoryStore, Workflow


def run(n: int) -> dict[str, float]:
    """Bytes per finding for the record, the event, both, and the whole store, at *n*."""
    wf = Workflow()
    specs = _data.make_specs(n)
    order = list(_data.load_order(specs, by_deadline=True))
    say(f"[memory breakdown] tracemalloc at N = {n:,} ...")
    gc.collect()
    tracemalloc.start()
    try:
        events, findings = [], []
        for event, finding in _data.records(specs, order, wf):
            events.append(event)
            findings.append(finding)
        gc.collect()
        lists = sys.getsizeof(events) + sys.getsizeof(findings)
        both = tracemalloc.get_traced_memory()[0] - lists
        del events
        gc.collect()
        rec = tracemalloc.get_traced_memory()[0] - sys.getsizeof(findings)
        del findings
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        store = MemoryStore()
        for event, finding in _data.records(specs, order, wf):
            store.append(event, finding, 0)
        gc.collect()
        total = tracemalloc.get_traced_memory()[0] - base
        del store
    finally:
        tracemalloc.stop()
    ev = both - rec
    out = {
        "record": rec / n,
        "event": ev / n,
        "record+event": both / n,
        "store total": total / n,
        "store overhead": (total - both) / n,
    }
    rows = [
        ("Finding record alone (Owner, Measures, times)", f"{out['record']:,.0f} B"),
        ("add event, beyond what it shares with the record", f"{out['event']:,.0f} B"),
        ("record + event", f"{out['record+event']:,.0f} B"),
        ("store overhead (chain entry, hash, lists, indexes)", f"{out['store overhead']:,.0f} B"),
        ("total per finding in a MemoryStore", f"{out['store total']:,.0f} B"),
        ("target", f"< 1024 B: {'MET' if out['store total'] < 1024 else 'NOT MET'}"),
    ]
    table(f"Memory per finding (tracemalloc), N = {n:,}", ("part", "bytes per finding"), rows)
    return out


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 10**5)
