"""The fire path: ``Workflow.apply`` vs the bare shared ``transitions`` machine vs a dict.

* ``Workflow.apply(finding, event)`` — what ``Ledger.fire`` runs before writing: shape
  checks, the allowed-events table, time-order check, the shared machine with the
  event's guards, and the new frozen record (``attrs.evolve``).
* ``Ledger.fire`` on the memory backend — the above plus reading the record and
  appending the hashed event.
* bare shared machine — ``machine.events[name].trigger(obj)`` on a plain object with a
  ``state`` attribute, one ``Machine(model=None, auto_transitions=False)`` for all.
* dict dispatch — ``obj.state = EDGES[(obj.state, name)]``.
* a Machine per object — construct cost and memory, which the shared design avoids.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
import tracemalloc
from typing import Any

import _data
import attrs
import pendulum
from _common import fmt_s, median_per_call, say, table
from transitions import Machine

from rectflow import Event, Ledger, Workflow
from rectflow._model import STATES
from rectflow._workflow import TRANSITIONS

EDGES: dict[tuple[str, str], str] = {}
for _t in TRANSITIONS:
    for _src in _t["source"] if isinstance(_t["source"], list) else [_t["source"]]:
        EDGES[(_src, _t["trigger"])] = _src if _t["dest"] == "=" else _t["dest"]


class Plain:
    """A model with only a state."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


class Model:
    """A model a per-object Machine decorates with trigger methods."""

    def __init__(self) -> None:
        self.state = "assigned"


def _machine_kwargs() -> dict[str, Any]:
    return {
        "states": list(STATES),
        "transitions": [dict(t) for t in TRANSITIONS],
        "initial": "assigned",
        "auto_transitions": False,
    }


def _findings(wf: Workflow) -> tuple[Any, Any, Any]:
    specs = _data.make_specs(1)
    event, _ = _data.build(0, specs, wf)
    assigned = wf.create(event)
    t = pendulum.datetime(2025, 3, 3, 15, tz=_data.TZ)
    in_progress = attrs.evolve(
        assigned, state="in_progress", updated_at=t, deadline=dt.date(2025, 6, 30)
    )
    completed = attrs.evolve(
        assigned, state="completed", completed_at=t, updated_at=t, signed_off_by="整改办"
    )
    return assigned, in_progress, completed


def run(number: int, repeats: int, per_object_n: int) -> dict[str, float]:
    """Median time per call of each way to fire, and the per-object Machine's cost."""
    say(f"[fire] {number:,} calls x {repeats} repeats per measurement ...")
    wf = Workflow()
    assigned, in_progress, completed = _findings(wf)
    at = pendulum.datetime(2025, 6, 16, 7, tz=_data.TZ)
    now = _data.NOW
    start = Event(assigned.id, "start", at, "责任人0")
    spot = Event(completed.id, "spot_check", at, "巡察办", payload={"seed": 7})
    extend = Event(
        in_progress.id,
        "extend",
        pendulum.datetime(2025, 3, 4, 9, tz=_data.TZ),
        "整改办",
        payload={"requested_by": "责任人0", "until": "2026-12-31", "reason": "经费"},
    )
    assert wf.apply(assigned, start, now=now).state == "in_progress"
    assert wf.apply(completed, spot, now=now).spot_checks == 1
    extended = wf.apply(in_progress, extend, now=now)
    assert extended.extensions == 1, extended

    shared = Machine(model=None, **_machine_kwargs())
    trig_start = shared.events["start"].trigger
    trig_spot = shared.events["spot_check"].trigger
    obj = Plain("assigned")
    trig_start(obj)
    assert obj.state == "in_progress"
    obj = Plain("completed")
    trig_spot(obj)
    assert obj.state == "completed"

    def bare_start() -> None:
        obj.state = "assigned"
        trig_start(obj)

    def bare_spot() -> None:
        trig_spot(obj)

    def dict_start() -> None:
        obj.state = "assigned"
        obj.state = EDGES[(obj.state, "start")]

    def dict_spot() -> None:
        obj.state = EDGES[(obj.state, "spot_check")]

    ledger = Ledger.open(clock=lambda: now)
    ledger.add_inspection(
        "R1", title="巡察", feedback_at="2025-01-02", at="2025-01-02T09:00:00+08:00"
    )
    ledger.add_finding(
        "F1",
        inspection="R1",
        title="问题",
        kind="deadline",
        owner=assigned.owner,
        deadline="2025-03-31",
        actor="巡察办",
        at="2025-01-03T09:00:00+08:00",
    )
    ledger.fire("F1", "start", actor="责任人0", at="2025-01-06T09:00:00+08:00")
    ledger.fire("F1", "submit", actor="责任人0", at="2025-01-07T09:00:00+08:00", evidence=["x"])
    ledger.fire("F1", "sign_off", actor="整改办", at="2025-01-08T09:00:00+08:00")
    fire_number = max(1, number // 10)

    def ledger_fire() -> None:
        ledger.fire("F1", "spot_check", actor="巡察办", seed=7)

    t: dict[str, float] = {}
    t["apply start"] = median_per_call(lambda: wf.apply(assigned, start, now=now), number, repeats)
    t["apply spot_check"] = median_per_call(
        lambda: wf.apply(completed, spot, now=now), number, repeats
    )
    t["apply extend"] = median_per_call(
        lambda: wf.apply(in_progress, extend, now=now), number, repeats
    )
    t["Ledger.fire spot_check"] = median_per_call(ledger_fire, fire_number, repeats)
    obj = Plain("assigned")
    t["bare start"] = median_per_call(bare_start, number, repeats)
    obj = Plain("completed")
    t["bare spot_check"] = median_per_call(bare_spot, number, repeats)
    obj = Plain("assigned")
    t["dict start"] = median_per_call(dict_start, number, repeats)
    obj = Plain("completed")
    t["dict spot_check"] = median_per_call(dict_spot, number, repeats)

    # A Machine per object.
    say(f"[fire] a Machine per object, N = {per_object_n:,} ...")
    kwargs = _machine_kwargs()
    models = [Model() for _ in range(per_object_n)]
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    machines = [Machine(model=m, **kwargs) for m in models]
    construct = (time.perf_counter() - t0) / per_object_n
    gc.collect()
    mem = (tracemalloc.get_traced_memory()[0] - base) / per_object_n
    tracemalloc.stop()
    one = models[0]

    def per_object_start() -> None:
        one.state = "assigned"
        one.start()

    t["per-object machine start"] = median_per_call(per_object_start, number, repeats)
    del machines

    rows = [
        (
            "Workflow.apply: start",
            fmt_s(t["apply start"]),
            f"{t['apply start'] / t['bare start']:.1f}x bare",
        ),
        (
            "Workflow.apply: spot_check (self-transition)",
            fmt_s(t["apply spot_check"]),
            f"{t['apply spot_check'] / t['bare spot_check']:.1f}x bare",
        ),
        (
            "Workflow.apply: extend (self-transition)",
            fmt_s(t["apply extend"]),
            f"{t['apply extend'] / t['bare spot_check']:.1f}x bare spot_check",
        ),
        (
            "Ledger.fire: spot_check (memory store)",
            fmt_s(t["Ledger.fire spot_check"]),
            f"{t['Ledger.fire spot_check'] / t['apply spot_check']:.1f}x apply",
        ),
        (
            "bare shared machine: start",
            fmt_s(t["bare start"]),
            f"{t['bare start'] / t['dict start']:.0f}x dict",
        ),
        (
            "bare shared machine: spot_check",
            fmt_s(t["bare spot_check"]),
            f"{t['bare spot_check'] / t['dict spot_check']:.0f}x dict",
        ),
        ("dict dispatch: start", fmt_s(t["dict start"]), "1x"),
        ("dict dispatch: spot_check", fmt_s(t["dict spot_check"]), "1x"),
        (
            "Machine per object: start via model.start()",
            fmt_s(t["per-object machine start"]),
            f"{t['per-object machine start'] / t['bare start']:.1f}x bare",
        ),
        (f"Machine per object: construct (N = {per_object_n:,})", fmt_s(construct), "per object"),
        ("Machine per object: memory", f"{mem:,.0f} B", "per object"),
    ]
    table(
        f"Fire path, median of {repeats} x {number:,} calls (Ledger.fire: x {fire_number:,})",
        ("operation", "per call", "ratio"),
        rows,
    )
    t["machine construct"] = construct
    t["machine memory"] = mem
    return t
