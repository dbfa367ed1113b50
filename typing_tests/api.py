"""Type-checked (mypy --strict), never run: the public API as a user writes it."""

from __future__ import annotations

import argparse
import datetime as dt

import pendulum

from rectflow import (
    Agenda,
    Event,
    FileIssue,
    FileLimits,
    Finding,
    Head,
    ImportSummary,
    Ledger,
    LedgerFileError,
    Measure,
    Owner,
    Policy,
    RectflowError,
    Report,
    RuleViolation,
    SpotCheckDraw,
    Verification,
    Workflow,
)
from rectflow.calendar import WorkCalendar, china
from rectflow.cli import build_parser


def use_ledger() -> None:
    ledger: Ledger = Ledger.open(
        ":memory:", policy=Policy(), clock=lambda: pendulum.now("Asia/Shanghai")
    )
    ledger.add_inspection("R1", title="t", feedback_at="2023-11-23", declared_findings=28)
    finding: Finding = ledger.add_finding(
        "1",
        inspection="R1",
        title="t",
        kind="deadline",
        owner=Owner(leader="a", department="b", person="c"),
        deadline=dt.date(2024, 1, 31),
        measures=[Measure("1-1", "m", kind="one_off")],
        actor="x",
    )
    state: str = finding.state
    try:
        ledger.fire("1", "start", actor="c", at="2023-12-01T09:00:00+08:00")
    except RuleViolation as exc:
        rule: str = exc.rule
        del rule
    history: tuple[Event, ...] = ledger.history("1")
    report: Report = ledger.report("R1", as_of="2024-01-22")
    data: dict[str, object] = report.to_dict()
    text: str = report.to_markdown(lang="en")
    agenda: Agenda = ledger.agenda(as_of=dt.date(2024, 3, 1))
    draw: SpotCheckDraw = ledger.draw_spot_checks("R1", k=2, seed=7)
    head: Head = ledger.head()
    count, digest = head
    result: Verification = ledger.verify(anchor=head)
    ok: bool = result.ok
    with ledger.batch():
        pass
    page: str = report.to_html(lang="en", charts=False)
    headline: str = report.headline()
    schema: dict[str, object] = Report.json_schema()
    calendar_text: str = agenda.to_ics("en", domain="school.example")
    message: str = RectflowError("x").in_lang("en")
    parser: argparse.ArgumentParser = build_parser()
    del state, history, data, text, agenda, draw, count, digest, ok
    del page, headline, schema, calendar_text, message, parser


def use_workflow(add: Event, start: Event) -> Finding:
    wf = Workflow(Policy(calendar="weekdays"))
    finding = wf.create(add)
    allowed: tuple[str, ...] = wf.allowed(finding.state)
    del allowed
    return wf.apply(finding, start, now=pendulum.now("UTC"))


def use_calendar() -> dt.date:
    cal: WorkCalendar = china()
    return cal.add_workdays(dt.date(2024, 9, 27), 3)


def use_files(ledger: Ledger) -> int:
    summary: ImportSummary = ledger.import_file(
        "台账.xlsx", actor="整改办", inspection="R1", limits=FileLimits(max_rows=10)
    )
    by_state: dict[str, int] = dict(summary.by_state)
    try:
        ledger.import_file("bad.csv", actor="整改办", dry_run=True)
    except LedgerFileError as err:
        issues: tuple[FileIssue, ...] = err.errors
        del issues
    del by_state
    return ledger.export_file("out.yaml", as_of="2024-01-22")
