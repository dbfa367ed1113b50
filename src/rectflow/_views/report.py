"""The progress report (整改进展情况报告) as a typed record, computed from the ledger's history.

Its words are the renderers' (``rectflow._render.markdown``, ``.html``); its JSON is
:meth:`ReportData.to_dict`, whose keys ``docs/reference/report-schema.md`` describes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs

from rectflow._model import (
    DONE_STATES,
    OPEN_STATES,
    STATES,
    Event,
    Finding,
    Inspection,
    id_key,
    missed_periods,
)
from rectflow._policy import Policy
from rectflow._time import local_date

#: The ``schema_version`` of report data; raised on every incompatible change
#: (``rectflow/_render/schema/report.schema.json`` carries the same number).
SCHEMA_VERSION: Final = 2

#: Events that open (+1) or close (-1) a finding, for the burndown.
_OPENS: Final = {"add": 1, "rebound": 1, "sign_off": -1, "cancel": -1}


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def plain(value: Any) -> Any:
    """*value* as JSON-native data: the report's JSON is this of its record.

    Records become objects (their fields in order), tuples lists, days and times ISO 8601 text.
    """
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


@attrs.frozen
class CategoryFigures:
    """One category of an aspect and its counts."""

    category: str
    total: int
    completed: int
    staged: int
    open: int
    overdue: int


@attrs.frozen
class AspectFigures:
    """One aspect (方面) of the feedback, its counts and its categories, as listed."""

    aspect: str
    total: int
    completed: int
    staged: int
    open: int
    overdue: int
    categories: tuple[CategoryFigures, ...]


@attrs.frozen
class Document:
    """A rule, scheme or plan an institutional measure adopted (by the report's day)."""

    finding: str
    document: str
    type: str


@attrs.frozen
class MissedMeasure:
    """A recurring measure with periods that passed without an occurrence."""

    finding: str
    measure: str
    missed: tuple[dt.date, ...]


@attrs.frozen
class RecurringFigures:
    """Recurring measures kept up and missed, with the missed ones' periods."""

    kept: int
    missed: int
    missed_detail: tuple[MissedMeasure, ...]


@attrs.frozen
class FindingRow:
    """One finding on the ledger (整改台账) as the report lists it, with its latest note."""

    id: str
    title: str
    aspect: str
    category: str
    itemized: bool
    state: str
    deadline: dt.date
    original_deadline: dt.date
    department: str
    person: str
    overdue: bool
    late: bool
    note: str | None


#: A step line's change point: the day and the count from that day on.
Point = tuple[dt.date, int]


@attrs.frozen
class Burndown:
    """Open findings per day (``open``), the planned line, and the days imports took findings in."""

    open: tuple[Point, ...]
    planned: tuple[Point, ...]
    imported: tuple[dt.date, ...]


@attrs.frozen
class ReportData:
    """The figures of a progress report as of a day, computed by replaying history.

    Its fields are the report's JSON keys, in order (:meth:`to_dict`); the meaning of each is
    in ``docs/reference/report-schema.md``. ``by_state`` counts every state of the workflow,
    in the workflow's order.
    """

    schema_version: int
    inspection: str
    title: str
    unit: str | None
    as_of: dt.date
    cutoff: dt.datetime
    feedback_at: dt.date
    report_due: dt.date
    report_overdue: bool
    report_submitted: dt.datetime | None
    declared: int
    total: int
    itemized: int
    not_itemized: int
    undeclared_gap: int
    by_state: Mapping[str, int]
    completed: int
    completed_by_import: int
    staged: int
    open: int
    overdue: int
    overdue_findings: tuple[str, ...]
    cancelled: int
    completion_rate: float | None
    on_time: int
    on_time_unknown: int
    late_completions: tuple[str, ...]
    on_time_rate: float | None
    rebounds: int
    rework_total: int
    rechecked: int
    by_aspect: tuple[AspectFigures, ...]
    rules_adopted: int
    plans_adopted: int
    documents: tuple[Document, ...]
    recurring_measures: RecurringFigures
    findings: tuple[FindingRow, ...]
    burndown: Burndown

    @property
    def timed_completions(self) -> int:
        """The completed whose completion day is known: the on-time rate's denominator.

        A completion an import attested (``on_time_unknown``) has no known day.
        """
        return self.completed - self.on_time_unknown

    def titled(self, ids: Iterable[str]) -> list[tuple[str, str]]:
        """``(id, title)`` of each of *ids*, the titles taken from the report's rows."""
        titles = {row.id: row.title for row in self.findings}
        return [(i, titles.get(i, "")) for i in ids]

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-native data (a fresh copy)."""
        data: dict[str, Any] = plain(self)
        return data


def _counts(findings: list[Finding], overdue: set[str]) -> dict[str, int]:
    live = [f for f in findings if f.state != "cancelled"]
    return {
        "total": len(live),
        "completed": sum(f.state in DONE_STATES for f in live),
        "staged": sum(f.state == "staged_result" for f in live),
        "open": sum(f.state in OPEN_STATES for f in live),
        "overdue": sum(f.id in overdue for f in live),
    }


def _steps(deltas: dict[dt.date, int], start: dt.date, end: dt.date) -> tuple[Point, ...]:
    """Running totals of *deltas* as ``(day, count)`` change points from *start* to *end*."""
    count = sum(n for d, n in deltas.items() if d < start)
    points: list[Point] = [(start, count)]
    for day in sorted(d for d in deltas if start <= d <= end):
        count += deltas[day]
        if day == start:
            points[0] = (start, count)
        elif count != points[-1][1]:
            points.append((day, count))
    if points[-1][0] != end and end > start:
        points.append((end, count))
    return tuple(points)


def _rows(
    live: list[Finding],
    events: list[Event],
    cutoff: dt.datetime,
    overdue: set[str],
    late: set[str],
) -> tuple[FindingRow, ...]:
    """One row per finding on the ledger (整改台账), with its latest note up to *cutoff*."""
    notes: dict[str, str] = {}
    for e in sorted(events, key=lambda e: (e.finding_id, e.version)):
        if e.note and e.at <= cutoff:
            notes[e.finding_id] = e.note
    return tuple(
        FindingRow(
            id=f.id,
            title=f.title,
            aspect=f.aspect,
            category=f.category,
            itemized=f.itemized,
            state=f.state,
            deadline=f.deadline,
            original_deadline=f.original_deadline,
            department=f.owner.department,
            person=f.owner.person,
            overdue=f.id in overdue,
            late=f.id in late,
            note=notes.get(f.id),
        )
        for f in live
    )


def _import_days(events: list[Event], tz: str) -> dict[str, dt.date]:
    """The day each imported finding was taken in, by finding id.

    An import's findings (their ``add`` names ``imported`` as its provenance)
    form one snapshot per file (their ``source``, ``file:row``): taken on the latest day its
    findings were added. A row stamped earlier (a completion's 销号时间) is
    history the sheet reports, already part of that snapshot.
    """
    source: dict[str, str] = {}
    taken: dict[str, dt.date] = {}
    for e in events:
        if e.name == "add" and e.payload.get("provenance") == "imported":
            file, colon, row = str(e.payload.get("source", "")).rpartition(":")
            if not (colon and row.isdigit()):  # "台账.xlsx:12": the file, row 12
                file = file + colon + row
            source[e.finding_id] = file
            d = local_date(e.at, tz)
            taken[file] = max(taken.get(file, d), d)
    return {fid: taken[file] for fid, file in source.items()}


def _burndown(
    events: Iterable[Event],
    live: list[Finding],
    start: dt.date,
    day: dt.date,
    due: dt.date,
    tz: str,
    calendar: Any,
) -> Burndown:
    """Open findings per day, replayed from the event log, and the planned line.

    Both lines begin on the day of the first finding's first event (the feedback
    day when there is none): before it the ledger knew nothing, so the line does
    not climb from zero. Its first point is the count at that day's end.
    ``open``: findings added and not (yet) signed off or cancelled, per day, up
    to *day*. ``planned``: findings on the ledger whose original deadline (moved
    past rest days) has not passed, up to the later of *day* and the report's due
    day. ``imported``: the days imports took findings in (see :func:`_import_days`).
    An import is a snapshot: its findings' events up to that day count on that
    day, one point the chart marks 导入, not a climb from zero nor problems found
    and fixed on the days the sheet dates them.
    """
    events = list(events)
    taken = _import_days(events, tz)
    opened: dict[dt.date, int] = {}
    first: dt.date | None = None
    for e in events:
        d = local_date(e.at, tz)
        if (snapshot := taken.get(e.finding_id)) is not None:
            d = max(d, snapshot)
        first = d if first is None or d < first else first
        step = _OPENS.get(e.name)
        if step:
            opened[d] = opened.get(d, 0) + step
    start = max(start, first) if first is not None else start
    planned: dict[dt.date, int] = {}
    for f in live:
        added = local_date(f.created_at, tz) if f.created_at is not None else start
        added = max(added, taken.get(f.id, added))
        ends = calendar.next_workday(f.original_deadline) + dt.timedelta(days=1)
        if ends > added:
            planned[added] = planned.get(added, 0) + 1
            planned[ends] = planned.get(ends, 0) - 1
    return Burndown(
        open=_steps(opened, start, max(day, start)),
        planned=_steps(planned, start, max(day, due, start)),
        imported=tuple(sorted(set(taken.values()))),
    )


def build_report(
    inspection: Inspection,
    findings: Iterable[Finding],
    cutoff: dt.datetime,
    policy: Policy,
    calendar: Any,
    events: Iterable[Event] = (),
    states: Iterable[str] = STATES,
) -> ReportData:
    """Compute the report's record from the findings as they stood at *cutoff*.

    *events* are the findings' events up to *cutoff* (their log), for the burndown
    and each finding's latest note. *states* are the workflow's states, in the order
    ``by_state`` lists them.
    """
    events = list(events)
    findings = sorted(findings, key=lambda f: id_key(f.id))
    tz = policy.timezone
    day = local_date(cutoff, tz)
    live = [f for f in findings if f.state != "cancelled"]
    by_state = dict.fromkeys(states, 0)
    for f in findings:  # an app's own states (issue 15) are counted after the built-in ones
        by_state[f.state] = by_state.get(f.state, 0) + 1
    completed = [f for f in live if f.state in DONE_STATES]
    # A deadline on a rest day runs to the next working day (民法典 art. 203).
    overdue = [
        f.id for f in live if f.state in OPEN_STATES and day > calendar.next_workday(f.deadline)
    ]
    overdue_set = set(overdue)
    # A completion first attested by an import has no known day (the sheet's date
    # stands in for it): it is neither on time nor late, and the report says so.
    undated = _first_attested(events, cutoff)
    timed = [f for f in completed if f.id not in undated]
    late = [
        f
        for f in timed
        if f.first_completed_at is not None
        and local_date(f.first_completed_at, tz) > calendar.next_workday(f.original_deadline)
    ]
    aspects: dict[str, tuple[list[Finding], dict[str, list[Finding]]]] = {}
    for f in live:
        if not f.itemized:
            continue
        members, categories = aspects.setdefault(f.aspect, ([], {}))
        members.append(f)
        categories.setdefault(f.category, []).append(f)
    by_aspect = tuple(
        AspectFigures(
            aspect=name,
            **_counts(members, overdue_set),
            categories=tuple(
                CategoryFigures(category=c, **_counts(fs, overdue_set))
                for c, fs in categories.items()
            ),
        )
        for name, (members, categories) in aspects.items()
    )
    documents: list[Document] = []
    kept = 0
    missed_items: list[MissedMeasure] = []
    for f in live:
        for m in f.measures:
            if m.kind == "institutional" and m.document_type and m.done_at and m.done_at <= day:
                documents.append(Document(f.id, m.document or m.text, m.document_type))
            if m.kind == "recurring" and m.established is not None:
                gaps = missed_periods(m, day)
                if gaps:
                    missed_items.append(MissedMeasure(f.id, m.id, tuple(gaps)))
                else:
                    kept += 1
    due = policy.report_period.after(inspection.feedback_at, calendar)
    submitted = inspection.report_submitted_at
    if submitted is not None and submitted > cutoff:
        submitted = None  # submitted after the report's cutoff: not yet, as of then
    declared = inspection.declared_findings
    return ReportData(
        schema_version=SCHEMA_VERSION,
        inspection=inspection.id,
        title=inspection.title,
        unit=inspection.unit,
        as_of=day,
        cutoff=cutoff,
        feedback_at=inspection.feedback_at,
        report_due=due,
        report_overdue=submitted is None and day > due,
        report_submitted=None
        if submitted is None
        else dt.datetime.fromtimestamp(submitted.timestamp(), ZoneInfo(tz)),
        declared=declared if declared is not None else len(live),
        total=len(live),
        itemized=sum(f.itemized for f in live),
        not_itemized=sum(not f.itemized for f in live),
        undeclared_gap=(declared - len(live)) if declared is not None else 0,
        by_state=by_state,
        completed=len(completed),
        completed_by_import=_attested(completed, events, cutoff),
        staged=by_state.get("staged_result", 0),
        open=sum(f.state in OPEN_STATES for f in live),
        overdue=len(overdue),
        overdue_findings=tuple(overdue),
        cancelled=by_state.get("cancelled", 0),
        completion_rate=_rate(len(completed), len(live)),
        on_time=len(timed) - len(late),
        on_time_unknown=len(completed) - len(timed),
        late_completions=tuple(f.id for f in late),
        on_time_rate=_rate(len(timed) - len(late), len(timed)),
        rebounds=sum(f.rework > 0 for f in live),
        rework_total=sum(f.rework for f in live),
        rechecked=by_state.get("rechecked", 0),
        by_aspect=by_aspect,
        rules_adopted=sum(d.type == "rule" for d in documents),
        plans_adopted=sum(d.type == "plan" for d in documents),
        documents=tuple(documents),
        recurring_measures=RecurringFigures(
            kept=kept, missed=len(missed_items), missed_detail=tuple(missed_items)
        ),
        findings=_rows(live, events, cutoff, overdue_set, {f.id for f in late}),
        burndown=_burndown(
            (e for e in events if e.at <= cutoff),
            live,
            inspection.feedback_at,
            day,
            due,
            tz,
            calendar,
        ),
    )


def _attested(completed: list[Finding], events: list[Event], cutoff: dt.datetime) -> int:
    """How many completed findings were last completed by an import's ``attest`` (issue 14)."""
    last: dict[str, str] = {}
    for e in events:
        if e.at <= cutoff and e.name in ("attest", "sign_off"):
            last[e.finding_id] = e.name
    return sum(1 for f in completed if last.get(f.id) == "attest")


def _first_attested(events: list[Event], cutoff: dt.datetime) -> set[str]:
    """The findings whose first completion by the cutoff was an import's ``attest``."""
    first: dict[str, str] = {}
    for e in events:
        if e.at <= cutoff and e.name in ("attest", "sign_off"):
            first.setdefault(e.finding_id, e.name)
    return {fid for fid, name in first.items() if name == "attest"}
