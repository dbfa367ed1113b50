"""Loading the agenda's synthetic ledgers through the public write path (issue 10).

Each finding of a plan (:func:`_data.make_specs`) is put on the ledger with
``Ledger.add_finding`` and taken to its planned state with ``Ledger.fire``, every
rule checked and every event hashed, inside ``ledger.batch()`` (10^4 findings a
batch): ``start``, ``record_measure`` (the one-off measure done, a recurring one
established and kept monthly), ``stage``, ``submit``, ``sign_off``, ``recheck`` or
``cancel``, at times that keep each history in order and before the ledger clock.

The plan is followed where the rules allow it; where they do not, the rules win:
a recurring measure skips April 2025 (the planned gap) only when the finding is not
submitted after it, since a submission needs every measure kept. Such a ledger
verifies (``verify()`` passes), unlike the store-loaded one.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import _data
import pendulum

from rectflow import Ledger, Measure

ADD = _data._at(_data.FEEDBACK.toordinal() + 7, 9)  # noqa: SLF001 - the plan's own times
START = ADD.add(days=1)
MEASURED = ADD.add(days=2)
APRIL = dt.date(2025, 4, 1)
GAP = dt.date(2025, 4, 12)  # the month a recurring measure with a gap skips
MONTHS = [dt.date(2024, m, 12) for m in (10, 11, 12)] + [
    dt.date(2025, m, 12) for m in (1, 2, 3, 4, 5)
]


def _at(day: dt.date, hour: int) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz=_data.TZ)


def _state(i: int, name: str) -> str:
    if name in ("overdue", "due_soon", "open"):
        return ("assigned", "in_progress", "in_progress", "pending_signoff")[i % 4]
    if name.startswith("staged"):
        return "staged_result"
    return {"completed_old": "completed", "completed_recent": "completed"}.get(name, name)


def load_finding(ledger: Ledger, i: int, specs: _data.Specs) -> None:
    """Put finding *i* of *specs* on *ledger* and fire it to its planned state."""
    name = _data.CATS[specs.cat[i]]
    flag = specs.flags[i]
    fid = f"F{i:07d}"
    owner = _data.OWNERS[i % len(_data.OWNERS)]
    person = owner.person
    state = _state(i, name)
    measures = [
        Measure(id=f"{fid}-1", text=_data.ONE_OFF_TEXT, kind="one_off", owner=owner.department)
    ]
    recurring = bool(flag) and state not in ("assigned", "cancelled")
    if recurring:
        measures.append(
            Measure(
                id=f"{fid}-2",
                text=_data.RECURRING_TEXT,
                kind="recurring",
                owner=owner.department,
                cadence="monthly",
            )
        )
    ledger.add_finding(
        fid,
        inspection=f"R{i % _data.N_INSPECTIONS:02d}",
        title=f"第{i}号问题:安全隐患未及时整改",
        kind="deadline",
        owner=owner,
        deadline=dt.date.fromordinal(specs.deadline[i]),
        actor="巡察办",
        measures=measures,
        at=ADD,
    )
    if state == "assigned":
        return
    steps: list[tuple[pendulum.DateTime, str, dict[str, Any]]] = []
    if state == "cancelled":
        steps.append((START, "cancel", {"actor": "巡察办", "reason": "重复登记"}))
    else:
        steps.append((START, "start", {"actor": person}))
        steps.append((MEASURED, "record_measure", {"actor": person, "measure": f"{fid}-1"}))
    submitted: dt.date | None = None
    if state == "pending_signoff":
        submitted = MEASURED.date()
        steps.append((MEASURED.add(hours=2), "submit", {"actor": person, "evidence": ["a.pdf"]}))
    elif state == "staged_result":
        checkpoint = dt.date.fromordinal(specs.aux[i])
        day = min(checkpoint - dt.timedelta(days=20), _data.AS_OF - dt.timedelta(days=5))
        steps.append(
            (
                _at(day, 9),
                "stage",
                {
                    "actor": person,
                    "note": "阶段性成效",
                    "evidence": ["s.pdf"],
                    "next_checkpoint": checkpoint,
                },
            )
        )
    elif state in ("completed", "rechecked"):
        signed = dt.date.fromordinal(specs.aux[i])
        submitted = signed - dt.timedelta(days=1)
        steps.append((_at(submitted, 15), "submit", {"actor": person, "evidence": ["a.pdf"]}))
        steps.append((_at(signed, 15), "sign_off", {"actor": "整改办"}))
        if state == "rechecked":
            steps.append(
                (
                    _at(signed + dt.timedelta(days=100), 7),
                    "recheck",
                    {"actor": "李主任", "evidence": ["r.pdf"]},
                )
            )
    if recurring:
        steps.append(
            (MEASURED.add(hours=1), "record_measure", {"actor": person, "measure": f"{fid}-2"})
        )
        gap = flag == 2 and (submitted is None or submitted < APRIL)
        for month in MONTHS:
            if gap and month == GAP:
                continue
            steps.append(
                (_at(month, 11), "record_measure", {"actor": person, "measure": f"{fid}-2"})
            )
    steps.sort(key=lambda s: s[0])
    for at, event, arguments in steps:
        ledger.fire(fid, event, at=at, **arguments)


def load(
    ledger: Ledger, specs: _data.Specs, budget: float | None = None, per_batch: int = 10_000
) -> int:
    """Load the plan through the public path; stop at a batch boundary past *budget* seconds.

    Returns:
        How many findings were loaded.
    """
    for insp in _data.inspections():
        ledger.add_inspection(
            insp.id, title=insp.title, feedback_at=insp.feedback_at, at=insp.created_at
        )
    t0 = time.perf_counter()
    loaded = 0
    for lo in range(0, specs.n, per_batch):
        with ledger.batch():
            for i in range(lo, min(specs.n, lo + per_batch)):
                load_finding(ledger, i, specs)
        loaded = min(specs.n, lo + per_batch)
        if budget is not None and time.perf_counter() - t0 > budget:
            break
    return loaded
