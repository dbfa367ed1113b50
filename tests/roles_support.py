"""What the tests of issue 8 (roles, integrity, PostgreSQL faults) share."""

from __future__ import annotations

from typing import Any

import pendulum

from rectflow import Finding, Ledger, Measure, Owner

SH = "Asia/Shanghai"
CLOCK = pendulum.datetime(2024, 12, 31, 12, tz=SH)
"""The ledgers' fixed clock."""
BASE = pendulum.datetime(2024, 1, 10, 10, tz=SH)


def t(day: int) -> str:
    """The ISO time *day* days after 2024-01-10 10:00 (+08:00)."""
    return BASE.add(days=day).isoformat()


def add_finding(
    ledger: Ledger,
    fid: str = "F1",
    *,
    person: str = "责任人",
    inspection: str = "R1",
    actor: str = "办",
    at: str | None = None,
    measures: tuple[Measure, ...] = (),
    **extra: Any,
) -> Finding:
    """A deadline finding of *inspection*, due 2024-03-29, whose responsible person is *person*."""
    return ledger.add_finding(
        fid,
        inspection=inspection,
        title="问题",
        kind="deadline",
        owner=Owner("领导", "办公室", person),
        deadline="2024-03-29",
        actor=actor,
        measures=measures,
        at=at or t(1),
        **extra,
    )
