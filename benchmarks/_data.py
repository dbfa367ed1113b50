"""Synthetic ledgers with a realistic mix of states and dates, and a brute-force agenda count.

Findings are built directly: an ``add`` event through ``Workflow.create`` (so the
stored event and record look like the real thing), then the record is moved to its
target state with ``attrs.evolve`` (state, completion time, checkpoint, measures) and
the pair is written with ``store.append(event, finding, 0)``. Going through
``Ledger.add_finding`` + ``Ledger.fire`` would need 2-4 events per finding (start,
stage/submit, sign_off, recheck) checked by the workflow and hashed one by one,
several times the load time at 10^6, while the agenda only reads current rows.
The price: a record's state is not the replay of its (single) stored event, so
``verify()`` would not pass on these ledgers; the agenda does not care.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import attrs
import pendulum

from rectflow import Event, Finding, Measure, Owner, Policy, Workflow
from rectflow._model import OPEN_STATES, missed_periods
from rectflow._time import local_date

TZ = "Asia/Shanghai"
AS_OF = dt.date(2025, 6, 16)  # a Monday
NOW = pendulum.datetime(2025, 6, 16, 8, tz=TZ)
"""The ledger clock: inside AS_OF, so agenda(as_of=AS_OF) takes the indexed path."""
N_INSPECTIONS = 100
FEEDBACK = dt.date(2024, 9, 2)

# category: (share, label)
MIX: tuple[tuple[str, float], ...] = (
    ("overdue", 0.03),  # open, deadline 2..90 days before AS_OF
    ("due_soon", 0.05),  # open, deadline within the next 0..13 days
    ("open", 0.56),  # open, deadline 20..500 days ahead
    ("staged_missed", 0.02),  # staged, checkpoint 1..60 days before AS_OF
    ("staged_ok", 0.02),  # staged, checkpoint 1..80 days ahead
    ("completed_old", 0.05),  # signed off 95..200 days ago: look-back due
    ("completed_recent", 0.15),  # signed off 1..85 days ago
    ("rechecked", 0.11),
    ("cancelled", 0.01),
)
LIGHT_MIX: tuple[tuple[str, float], ...] = (
    ("overdue", 0.005),
    ("due_soon", 0.01),
    ("open", 0.655),
    ("staged_missed", 0.003),
    ("staged_ok", 0.027),
    ("completed_old", 0.005),
    ("completed_recent", 0.145),
    ("rechecked", 0.14),
    ("cancelled", 0.01),
)
"""A day in the life of a large ledger: about 2-3 % of findings need action today."""
MIXES = {"heavy": MIX, "light": LIGHT_MIX}
CATS = [c for c, _ in MIX]
RECURRING_SHARE = 0.05
"""Share of findings (past 'assigned') with a monthly recurring measure."""
RECURRING_GAP_SHARE = 0.4
"""Of those, the share that skipped one month."""

OWNERS = [Owner(f"副校长{k}", f"部门{k}", f"责任人{k}") for k in range(50)]
ONE_OFF_TEXT = "完成整改并补齐佐证材料"
RECURRING_TEXT = "每月开展一次安全排查并留存记录"


@attrs.frozen
class Specs:
    """The plan of a synthetic ledger, in compact arrays (one slot per finding)."""

    n: int
    cat: array  # index into CATS
    deadline: array  # date ordinal
    aux: array  # checkpoint or completion ordinal, 0 if none
    flags: array  # 0: no recurring measure, 1: recurring kept, 2: recurring with a gap


def make_specs(n: int, seed: int = 1, mix: str = "heavy") -> Specs:
    """Draw the plan of *n* findings (``mix``: ``heavy``, ~17 % on the agenda, or ``light``)."""
    rng = random.Random(seed)
    table = dict(MIXES[mix])
    shares = [table[c] for c in CATS]
    gap_share = RECURRING_GAP_SHARE if mix == "heavy" else 0.1
    day = AS_OF.toordinal()
    cat, deadline, aux, flags = array("b"), array("l"), array("l"), array("b")
    cats = rng.choices(range(len(CATS)), weights=shares, k=n)
    for c in cats:
        name = CATS[c]
        a = 0
        if name == "overdue":
            d = day - rng.randint(2, 90)
        elif name == "due_soon":
            d = day + rng.randint(0, 13)
        elif name in ("open", "staged_ok", "staged_missed"):
            d = day + rng.randint(20, 500)
            if name == "staged_missed":
                a = day - rng.randint(1, 60)
            elif name == "staged_ok":
                a = day + rng.randint(1, 80)
        else:
            d = day - rng.randint(0, 200)
            if name == "completed_old":
                a = day - rng.randint(95, 200)
            elif name == "completed_recent":
                a = day - rng.randint(1, 85)
            elif name == "rechecked":
                a = day - rng.randint(100, 250)
        f = 0
        if name != "cancelled" and rng.random() < RECURRING_SHARE:
            f = 2 if rng.random() < gap_share else 1
        cat.append(c)
        deadline.append(d)
        aux.append(a)
        flags.append(f)
    return Specs(n, cat, deadline, aux, flags)


def _at(ordinal: int, hour: int) -> pendulum.DateTime:
    d = dt.date.fromordinal(ordinal)
    return pendulum.datetime(d.year, d.month, d.day, hour, tz=TZ)


def _monthly_days(last_gap: bool) -> tuple[dt.date, tuple[dt.date, ...]]:
    """Established five months before AS_OF, then monthly; one month skipped when *last_gap*."""
    months = [dt.date(2025, m, 10) for m in (1, 2, 3, 4, 5)]
    if last_gap:
        del months[3]  # no record in April 2025: missed as of June
    return months[0], tuple(months[1:])


def build(i: int, specs: Specs, wf: Workflow) -> tuple[Event, Finding]:
    """The ``add`` event and the current record of finding *i*."""
    name = CATS[specs.cat[i]]
    flag = specs.flags[i]
    fid = f"F{i:07d}"
    owner = OWNERS[i % len(OWNERS)]
    deadline = dt.date.fromordinal(specs.deadline[i])
    measures = [Measure(id=f"{fid}-1", text=ONE_OFF_TEXT, kind="one_off", owner=owner.department)]
    if flag:
        measures.append(
            Measure(
                id=f"{fid}-2",
                text=RECURRING_TEXT,
                kind="recurring",
                owner=owner.department,
                cadence="monthly",
            )
        )
    payload: dict[str, Any] = {
        "inspection": f"R{i % N_INSPECTIONS:02d}",
        "aspect": "",
        "category": "",
        "title": f"第{i}号问题:安全隐患未及时整改",
        "kind": "deadline",
        "owner": attrs.asdict(owner),
        "deadline": deadline.isoformat(),
        "measures": [attrs.asdict(m) for m in measures],
        "itemized": True,
    }
    added = _at(FEEDBACK.toordinal() + 7, 9)
    event = Event(fid, "add", added, "巡察办", payload=payload, version=1)
    finding = wf.create(event)
    if name in ("overdue", "due_soon", "open"):
        state = ("assigned", "in_progress", "in_progress", "pending_signoff")[i % 4]
    elif name.startswith("staged"):
        state = "staged_result"
    else:
        state = {"completed_old": "completed", "completed_recent": "completed"}.get(name, name)
    changes: dict[str, Any] = {"state": state}
    done = dt.date(2025, 1, 10)
    new_measures = [
        attrs.evolve(finding.measures[0], done_at=done if state != "assigned" else None)
    ]
    if flag:
        established, occurrences = _monthly_days(flag == 2)
        new_measures.append(
            attrs.evolve(finding.measures[1], established=established, occurrences=occurrences)
        )
    if state != "assigned":
        changes["measures"] = tuple(new_measures)
    if state == "staged_result":
        changes["next_checkpoint"] = dt.date.fromordinal(specs.aux[i])
    if state in ("completed", "rechecked"):
        signed = _at(specs.aux[i], 15)
        changes.update(
            completed_at=signed,
            first_completed_at=signed,
            signed_off_by="整改办",
            submitter=owner.person,
            submitted_at=signed,
            updated_at=signed,
        )
        if state == "rechecked":
            changes["rechecked_at"] = _at(specs.aux[i] + 95, 10)
            changes["updated_at"] = changes["rechecked_at"]
    return event, attrs.evolve(finding, **changes)


def load_order(specs: Specs, *, by_deadline: bool) -> Iterable[int]:
    """Insertion order: by deadline (cheap appends to the memory store's sorted lists) or by id."""
    if by_deadline:
        return sorted(range(specs.n), key=specs.deadline.__getitem__)
    return range(specs.n)


def records(specs: Specs, order: Iterable[int], wf: Workflow) -> Iterator[tuple[Event, Finding]]:
    """``(add event, record)`` pairs in *order*."""
    for i in order:
        yield build(i, specs, wf)


def inspections() -> list[Any]:
    """The inspections the findings belong to."""
    from rectflow import Inspection  # noqa: PLC0415

    return [
        Inspection(f"R{k:02d}", f"巡察{k}", FEEDBACK, None, _at(FEEDBACK.toordinal(), 9))
        for k in range(N_INSPECTIONS)
    ]


def brute_force(findings: Iterable[Finding], policy: Policy, day: dt.date) -> dict[str, set[str]]:
    """The agenda's finding ids per kind by a plain scan of every row (independent of _agenda)."""
    cal = policy.work_calendar()
    horizon = cal.add_workdays(day, policy.reminder_window.amount)
    out: dict[str, set[str]] = {
        k: set()
        for k in ("overdue", "due_soon", "checkpoint_missed", "look_back_due", "recurring_missed")
    }
    for f in findings:
        if f.state in OPEN_STATES:
            due = cal.next_workday(f.deadline)
            if due < day:
                out["overdue"].add(f.id)
            elif due <= horizon:
                out["due_soon"].add(f.id)
        if (
            f.state == "staged_result"
            and f.next_checkpoint
            and cal.next_workday(f.next_checkpoint) < day
        ):
            out["checkpoint_missed"].add(f.id)
        if f.state == "completed" and f.completed_at is not None:
            earliest = cal.add_months(local_date(f.completed_at, TZ), policy.look_back_wait.amount)
            if earliest <= day:
                out["look_back_due"].add(f.id)
        if f.state != "cancelled" and any(missed_periods(m, day) for m in f.measures):
            out["recurring_missed"].add(f.id)
    return out


def agenda_ids(agenda: Any) -> dict[str, set[str]]:
    """The agenda's finding ids per kind."""
    out: dict[str, set[str]] = {}
    for kind in ("overdue", "due_soon", "checkpoint_missed", "look_back_due", "recurring_missed"):
        out[kind] = {i.finding_id for i in agenda.of_kind(kind)}
    return out
