"""The storage tests' ledger settings and sample data, importable by any test module.

(A module of its own rather than ``conftest``: the docs' pages have a ``conftest`` too,
and a combined run imports only one module of that name.)
"""

from __future__ import annotations

from typing import Any

STORAGE_CLOCK_NOW = "2030-01-01T00:00:00+08:00"
"""The fixed clock of the storage tests' ledgers: later than every event they write."""


def open_test_ledger(target: Any) -> Any:
    """A ledger on *target* (a store, ``:memory:``, a path or a URL) with the storage tests' settings.

    Monday-Friday calendar, a 10-day look-back wait, a fixed clock in 2030.
    """
    import pendulum  # noqa: PLC0415

    from rectflow import Ledger, Policy  # noqa: PLC0415

    policy = Policy(calendar="weekdays", look_back_wait="10 days")
    now = pendulum.parse(STORAGE_CLOCK_NOW)
    if isinstance(target, str):
        return Ledger.open(target, policy=policy, clock=lambda: now)
    return Ledger(target, policy=policy, clock=lambda: now)


def populate_sample(ledger: Any) -> None:
    """Fill *ledger* with two inspections and eight findings in every state.

    Deadlines, checkpoints, completion times and recurring measures vary, ids
    sort differently as text and as numbers, titles are Chinese, and times come
    in several UTC offsets with microseconds.
    """
    from rectflow import Measure, Owner  # noqa: PLC0415

    owner = Owner(leader="张校长", department="德育处", person="王老师")
    ledger.add_inspection(
        "R1",
        title="县委第一巡察组反馈意见",
        feedback_at="2024-01-05",
        declared_findings=28,
        at="2024-01-05T10:00:00+08:00",
    )
    ledger.add_inspection(
        "R0", title="专项审计", feedback_at="2024-01-06", at="2024-01-06T02:00:00Z"
    )

    def add(fid: str, deadline: str, inspection: str = "R1", measures: Any = ()) -> None:
        ledger.add_finding(
            fid,
            inspection=inspection,
            title=f"问题 {fid}",
            kind="deadline",
            owner=owner,
            deadline=deadline,
            actor="巡察办",
            at="2024-01-08T09:00:00.123456+08:00",
            measures=measures,
            aspect="第一方面",
            category="(一)",
        )

    monthly = Measure("A-2", "每月开展一次安全排查", "recurring", "安全处", cadence="monthly")
    add("A", "2024-02-29", measures=(Measure("A-1", "补登记入账", "one_off", "总务处"), monthly))
    ledger.fire("A", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire("A", "record_measure", actor="王老师", at="2024-01-10T01:00:00Z", measure="A-1")
    ledger.fire(
        "A", "record_measure", actor="王老师", at="2024-01-10T09:30:00+08:00", measure="A-2"
    )
    ledger.fire(
        "A", "submit", actor="王老师", at="2024-01-11T09:00:00+08:00", evidence=["台账.pdf"]
    )
    ledger.fire("A", "sign_off", actor="李主任", at="2024-01-12T16:00:00+08:00")
    ledger.fire(
        "A", "recheck", actor="陈主任", at="2024-02-01T09:00:00+08:00", evidence=["回头看.pdf"]
    )

    add("B", "2024-03-31")
    ledger.fire("B", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire(
        "B",
        "stage",
        actor="王老师",
        at="2024-01-15T09:00:00-05:00",
        note="跑道改造等待资金",
        evidence=["进展.docx"],
        next_checkpoint="2024-03-01",
    )

    add("1.10", "2024-01-31")
    ledger.fire("1.10", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire(
        "1.10", "submit", actor="王老师", at="2024-01-20T09:00:00+08:00", evidence=["x.pdf"]
    )
    ledger.fire("1.10", "sign_off", actor="李主任", at="2024-01-22T09:00:00.000001+08:00")

    add("1.9", "2024-01-20")

    add("整改-3", "2024-02-15")
    ledger.fire("整改-3", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire("整改-3", "cancel", actor="李主任", at="2024-01-10T09:00:00+08:00", reason="重复")

    add("F", "2024-02-20", inspection="R0")
    ledger.fire("F", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire("F", "submit", actor="王老师", at="2024-01-19T09:00:00+08:00", evidence=["f.pdf"])

    add("G", "2024-01-25", inspection="R0")
    ledger.fire("G", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire(
        "G",
        "extend",
        actor="李主任",
        at="2024-01-24T09:00:00+08:00",
        requested_by="王老师",
        until="2024-02-10",
        reason="等待设备",
    )

    add("H", "2024-03-31")
    ledger.fire("H", "start", actor="王老师", at="2024-01-09T09:00:00+08:00")
    ledger.fire(
        "H",
        "stage",
        actor="王老师",
        at="2024-01-16T09:00:00+08:00",
        note="阶段性成效",
        evidence=["h.pdf"],
        next_checkpoint="2024-02-01",
    )
